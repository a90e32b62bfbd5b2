package inspect_test

import (
	"encoding/binary"
	"errors"
	"testing"

	"github.com/photoguard/photoguard/redact/fixture"
	"github.com/photoguard/photoguard/redact/inspect"
	"github.com/photoguard/photoguard/redact/testenv"
)

func box(typ string, body ...[]byte) []byte {
	b := cat(body...)
	return cat(binary.BigEndian.AppendUint32(nil, uint32(8+len(b))), []byte(typ), b)
}

func fullBox(typ string, version byte, flags uint32, body ...[]byte) []byte {
	return box(typ, append([]byte{version, byte(flags >> 16), byte(flags >> 8), byte(flags)}, cat(body...)...))
}

func u16(v uint16) []byte { return binary.BigEndian.AppendUint16(nil, v) }
func u32(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }

// heifFile builds a minimal HEIF with one hvc1 item (ID 1) whose properties
// are ispe 40x30 and the given transforms, and an Exif item (ID 2, EXIF
// orientation 6) in idat.
func heifFile(transforms ...[]byte) []byte { return heifFileRefs(nil, transforms...) }

// heifFileRefs is heifFile with an iref box (nil: none).
func heifFileRefs(iref []byte, transforms ...[]byte) []byte {
	props := [][]byte{fullBox("ispe", 0, 0, u32(40), u32(30))}
	props = append(props, transforms...)
	var assoc []byte
	for i := range props {
		assoc = append(assoc, byte(0x80|(i+1)))
	}
	exifTIFF := fixture.Exif(fixture.ExifOptions{Orientation: 6, GPS: true})
	exifData := cat(u32(0), exifTIFF)
	return cat(
		box("ftyp", []byte("heic"), u32(0), []byte("mif1heic")),
		fullBox("meta", 0, 0,
			fullBox("hdlr", 0, 0, u32(0), []byte("pict"), make([]byte, 13)),
			fullBox("pitm", 0, 0, u16(1)),
			fullBox("iloc", 1, 0, []byte{0x44, 0x00}, u16(2),
				u16(1), u16(0), u16(0), u16(1), u32(0), u32(0), // item 1, method 0, one empty extent
				u16(2), u16(1), u16(0), u16(1), u32(0), u32(uint32(len(exifData)))), // item 2 in idat
			fullBox("iinf", 0, 0, u16(2),
				fullBox("infe", 2, 0, u16(1), u16(0), []byte("hvc1"), []byte("\x00")),
				fullBox("infe", 2, 1, u16(2), u16(0), []byte("Exif"), []byte("\x00"))),
			box("iprp", box("ipco", props...), fullBox("ipma", 0, 0, u32(1), u16(1), []byte{byte(len(assoc))}, assoc)),
			iref,
			box("idat", exifData),
		),
		box("mdat", []byte{0, 0, 0, 0}),
	)
}

func TestParseHEIF(t *testing.T) {
	h, err := inspect.ParseHEIF(heifFile(box("irot", []byte{1})))
	if err != nil {
		t.Fatal(err)
	}
	if h.MajorBrand != "heic" || len(h.Compatible) != 2 || h.Primary != 1 || !h.HasMeta {
		t.Errorf("brands %q %v primary %d", h.MajorBrand, h.Compatible, h.Primary)
	}
	if w, ht, ok := h.PrimarySize(); !ok || w != 40 || ht != 30 {
		t.Errorf("primary size %dx%d %v", w, ht, ok)
	}
	if o := h.Orientation(); o != 8 {
		t.Errorf("irot 90 anti-clockwise: orientation %d, want 8", o)
	}
	ex := h.ExifItems()
	if len(ex) != 1 || inspect.ExifOrientation(ex[0]) != 6 {
		t.Fatalf("Exif items %d", len(ex))
	}
	if len(h.Items) != 2 || !h.Items[1].Hidden || h.Items[1].Method != 1 {
		t.Errorf("items %+v", h.Items)
	}
	r, err := inspect.Scan(heifFile())
	if err != nil || !r.Has(inspect.EXIF) || !r.Has(inspect.GPS) {
		t.Errorf("Scan: %v %v", r.Kinds(), err)
	}
}

// The orientation equivalent to HEIF transforms, composed in association
// order, as libheif 1.15 applies them (imir axis 1 = left-right).
func TestHEIFOrientation(t *testing.T) {
	irot := func(a byte) []byte { return box("irot", []byte{a}) }
	imir := func(a byte) []byte { return box("imir", []byte{a}) }
	tests := []struct {
		name  string
		props [][]byte
		want  int
	}{
		{"none", nil, 1},
		{"irot 0", [][]byte{irot(0)}, 1},
		{"irot 90 ccw", [][]byte{irot(1)}, 8},
		{"irot 180", [][]byte{irot(2)}, 3},
		{"irot 270 ccw (iPhone portrait)", [][]byte{irot(3)}, 6},
		{"imir left-right", [][]byte{imir(1)}, 2},
		{"imir top-bottom", [][]byte{imir(0)}, 4},
		{"irot 90 then mirror left-right", [][]byte{irot(1), imir(1)}, 7},
		{"mirror left-right then irot 90", [][]byte{imir(1), irot(1)}, 5},
		{"irot 270 then mirror left-right", [][]byte{irot(3), imir(1)}, 5},
	}
	for _, tt := range tests {
		h, err := inspect.ParseHEIF(heifFile(tt.props...))
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if got := h.Orientation(); got != tt.want {
			t.Errorf("%s: orientation %d, want %d", tt.name, got, tt.want)
		}
	}
}

// cdsc is an iref box (version 0) in which item from describes the items to.
func cdsc(from uint16, to ...uint16) []byte {
	body := cat(u16(from), u16(uint16(len(to))))
	for _, t := range to {
		body = cat(body, u16(t))
	}
	return fullBox("iref", 0, 0, box("cdsc", body))
}

// The orientation that displays the primary image upright: the HEIF
// transforms when there are any (the EXIF orientation 6 of the Exif item is
// then ignored), else the EXIF orientation of the Exif item that describes
// the primary image.
func TestHEIFDisplayOrientation(t *testing.T) {
	tests := []struct {
		name string
		data []byte
		want int
		exif bool
	}{
		{"no transform, Exif item without references", heifFile(), 6, true},
		{"no transform, Exif item describes the primary", heifFileRefs(cdsc(2, 1)), 6, true},
		{"no transform, Exif item describes another item", heifFileRefs(cdsc(2, 7)), 1, false},
		{"irot 270 and EXIF 6 (iPhone): the transform", heifFile(box("irot", []byte{3})), 6, false},
		{"irot 180 and EXIF 6: the transform, not both", heifFile(box("irot", []byte{2})), 3, false},
		{"irot 0 and EXIF 6: displayed as stored", heifFile(box("irot", []byte{0})), 1, false},
		{"imir and EXIF 6: the transform", heifFileRefs(cdsc(2, 1), box("imir", []byte{1})), 2, false},
	}
	for _, tt := range tests {
		h, err := inspect.ParseHEIF(tt.data)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if o, exif := h.DisplayOrientation(); o != tt.want || exif != tt.exif {
			t.Errorf("%s: orientation %d (from EXIF %v), want %d (%v)", tt.name, o, exif, tt.want, tt.exif)
		}
	}
	h, _ := inspect.ParseHEIF(heifFileRefs(cdsc(2, 7, 1)))
	if len(h.Refs) != 1 || h.Refs[0].Type != "cdsc" || h.Refs[0].From != 2 || len(h.Refs[0].To) != 2 {
		t.Errorf("refs %+v", h.Refs)
	}
	if _, err := inspect.ParseHEIF(heifFileRefs(fullBox("iref", 0, 0, box("cdsc", cat(u16(2), u16(5), u16(1)))))); err == nil {
		t.Error("a reference to five items with one given was accepted")
	}
}

func TestParseHEIFDamaged(t *testing.T) {
	good := heifFile()
	for _, tt := range []struct {
		name      string
		data      []byte
		truncated bool
	}{
		{"cut in half", good[:len(good)/2], true},
		{"cut in a box header", good[:4], true},
		{"no ftyp", box("moov"), false},
		{"box size too small", cat(box("ftyp", []byte("heic"), u32(0)), []byte{0, 0, 0, 3, 'm', 'e', 't', 'a'}), false},
	} {
		_, err := inspect.ParseHEIF(tt.data)
		if err == nil || inspect.IsTruncated(err) != tt.truncated {
			t.Errorf("%s: err %v, truncated want %v", tt.name, err, tt.truncated)
		}
		var pe *inspect.Error
		if !errors.As(err, &pe) {
			t.Errorf("%s: %T is not *inspect.Error", tt.name, err)
		}
	}
}

// heif-enc's output is walked and its metadata seen.
func TestParseHEIFHeifEnc(t *testing.T) {
	testenv.RequireTool(t, "heif-enc")
	cs, err := fixture.HEIC(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cs {
		h, err := inspect.ParseHEIF(c.Data)
		if c.Expect == fixture.Refused {
			if err == nil {
				t.Errorf("%s: no error", c.Name)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		if w, ht, ok := h.PrimarySize(); !ok || w*ht != fixture.Width*fixture.Height {
			t.Errorf("%s: primary size %dx%d", c.Name, w, ht)
		}
		if o, _ := h.DisplayOrientation(); o != c.Orientation {
			t.Errorf("%s: orientation %d, want %d", c.Name, o, c.Orientation)
		}
	}
}
