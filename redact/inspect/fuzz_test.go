package inspect_test

import (
	"testing"

	"github.com/photoguard/photoguard/redact/fixture"
	"github.com/photoguard/photoguard/redact/inspect"
)

// seeds are every fixture (dirty, orientations, bad) plus a few hand-made
// structures; the HEIC fixtures need heif-enc and are replaced by a
// hand-made HEIF here.
func seeds(f *testing.F) {
	for _, c := range append(append(fixture.Dirty(), fixture.Orientations()...), fixture.Bad()...) {
		f.Add(c.Data)
	}
	f.Add(heifFile(box("irot", []byte{3}), box("imir", []byte{1})))
	f.Add(heifFileRefs(cdsc(2, 1)))
	f.Add(fixture.Exif(fixture.ExifOptions{Orientation: 6, GPS: true, Thumbnail: fixture.ThumbnailJPEG(), MakerNote: true}))
	f.Add(fixture.CorruptExif())
}

// The walkers never panic, stay inside the data and are consistent with
// themselves.
func FuzzParseJPEG(f *testing.F) {
	seeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		j, err := inspect.ParseJPEG(data)
		end := 0
		for _, s := range j.Segments {
			if s.Offset < end || s.End() > len(data) || s.Offset+2 > len(data) {
				t.Fatalf("segment %s at %d..%d out of order or range (len %d)", s.Name(), s.Offset, s.End(), len(data))
			}
			end = s.End()
		}
		if j.EOI >= 0 && (err != nil || j.EOI+2+j.Trailer != len(data)) {
			t.Fatalf("EOI %d trailer %d len %d err %v", j.EOI, j.Trailer, len(data), err)
		}
		if err == nil && j.EOI < 0 {
			t.Fatal("no error but no EOI")
		}
		if len(j.Segments) > inspect.MaxJPEGSegments {
			t.Fatalf("%d segments", len(j.Segments))
		}
	})
}

func FuzzParsePNG(f *testing.F) {
	seeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := inspect.ParsePNG(data)
		if err == nil && (p.IEND < 0 || p.Width <= 0 || p.Height <= 0) {
			t.Fatalf("no error but IEND %d size %dx%d", p.IEND, p.Width, p.Height)
		}
		for _, c := range p.Chunks {
			if c.Offset+12+len(c.Data) > len(data) {
				t.Fatalf("chunk %s out of range", c.Type)
			}
		}
	})
}

func FuzzParseHEIF(f *testing.F) {
	seeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		h, _ := inspect.ParseHEIF(data)
		h.PrimarySize()
		h.Orientation()
		for i := range h.Items {
			if d, err := h.ItemData(&h.Items[i]); err == nil && len(d) > len(data) {
				t.Fatalf("item data of %d bytes from %d", len(d), len(data))
			}
		}
		h.ExifItems()
		if o, _ := h.DisplayOrientation(); o < 1 || o > 8 {
			t.Fatalf("display orientation %d", o)
		}
	})
}

func FuzzParseTIFF(f *testing.F) {
	seeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		tf, err := inspect.ParseTIFF(data)
		if err != nil {
			return
		}
		if o := tf.Orientation(); o < 0 || o > 8 {
			t.Fatalf("orientation %d", o)
		}
		tf.Thumbnail()
		tf.HasGPS()
		tf.HasMakerNote()
		if o := inspect.ExifOrientation(data); o < 0 || o > 8 {
			t.Fatalf("ExifOrientation %d", o)
		}
	})
}

func FuzzScan(f *testing.F) {
	seeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		r, _ := inspect.Scan(data)
		for _, fd := range r.Findings {
			if fd.Offset < 0 || fd.Offset > len(data) {
				t.Fatalf("finding %v outside the data", fd)
			}
		}
	})
}
