package inspect_test

import (
	"bytes"
	"slices"
	"testing"

	"github.com/photoguard/photoguard/redact/fixture"
	"github.com/photoguard/photoguard/redact/inspect"
)

// Every dirty fixture carries what its case says, as Scan sees it.
func TestScanFixtures(t *testing.T) {
	for _, c := range append(fixture.Dirty(), fixture.Orientations()...) {
		r, err := inspect.Scan(c.Data)
		if err != nil {
			t.Errorf("%s: %v", c.Name, err)
			continue
		}
		for _, k := range c.Carries {
			if !r.Has(k) {
				t.Errorf("%s: Scan found %v, not %s", c.Name, r.Kinds(), k)
			}
		}
		if c.Orientation > 1 && r.Orientation != c.Orientation {
			t.Errorf("%s: orientation %d, want %d", c.Name, r.Orientation, c.Orientation)
		}
	}
}

// A plain encoder output (standard library, no APP segments) has no findings.
func TestScanClean(t *testing.T) {
	img := fixture.Pattern(32, 24)
	for name, data := range map[string][]byte{
		"jpeg":      fixture.EncodeJPEG(img, 90),
		"jpeg+jfif": fixture.Splice(fixture.EncodeJPEG(img, 90), fixture.JFIF(0, 0)),
		"png":       fixture.EncodePNG(img),
	} {
		r, err := inspect.Scan(data)
		if err != nil || len(r.Findings) != 0 {
			t.Errorf("%s: findings %v, err %v", name, r.Findings, err)
		}
	}
}

func TestScanKinds(t *testing.T) {
	base := fixture.EncodeJPEG(fixture.Pattern(32, 24), 90)
	tests := []struct {
		name string
		data []byte
		want []inspect.Kind
	}{
		{"JFIF thumbnail", fixture.Splice(base, fixture.JFIF(2, 1)), []inspect.Kind{inspect.JFIFThumbnail}},
		{"JFXX", fixture.Splice(base, fixture.Segment(0xE0, []byte("JFXX\x00\x10"))), []inspect.Kind{inspect.JFIFThumbnail}},
		{"MPF", fixture.Splice(base, fixture.Segment(0xE2, []byte("MPF\x00II*\x00"))), []inspect.Kind{inspect.OtherApp}},
		{"Ducky", fixture.Splice(base, fixture.Segment(0xEC, []byte("Ducky\x00\x01"))), []inspect.Kind{inspect.OtherApp}},
		{"Adobe", fixture.Splice(base, fixture.AdobeSegment(1)), []inspect.Kind{inspect.Adobe}},
		{"EXIF without GPS", fixture.Splice(base, fixture.ExifSegment(fixture.Exif(fixture.ExifOptions{}))), []inspect.Kind{inspect.CameraInfo, inspect.EXIF}},
		{"trailer", append(bytes.Clone(base), 0), []inspect.Kind{inspect.Trailer}},
		{"PNG unknown chunk", fixture.InsertChunks(fixture.EncodePNG(fixture.Pattern(8, 8)), fixture.Chunk("prVt", []byte("x"))), []inspect.Kind{inspect.OtherChunk}},
		{"PNG zTXt XMP", fixture.InsertChunks(fixture.EncodePNG(fixture.Pattern(8, 8)), fixture.ZTextChunk("XML:com.adobe.xmp", string(fixture.XMP(8, 8)))),
			[]inspect.Kind{inspect.Text, inspect.XMP, inspect.FaceRegions}},
	}
	for _, tt := range tests {
		r, err := inspect.Scan(tt.data)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
		}
		if got := r.Kinds(); !slices.Equal(got, tt.want) {
			t.Errorf("%s: kinds %v, want %v", tt.name, got, tt.want)
		}
	}
	if _, err := inspect.Scan([]byte("GIF89a")); err == nil {
		t.Error("Scan of a GIF succeeded")
	}
}
