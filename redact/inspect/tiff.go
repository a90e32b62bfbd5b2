package inspect

import (
	"bytes"
	"encoding/binary"
)

// TIFF/EXIF tags that this package looks at.
const (
	TagOrientation     = 0x0112
	TagMake            = 0x010F
	TagModel           = 0x0110
	TagSoftware        = 0x0131
	TagDateTime        = 0x0132
	TagArtist          = 0x013B
	TagExifIFD         = 0x8769
	TagGPSIFD          = 0x8825
	TagInteropIFD      = 0xA005
	TagJPEGOffset      = 0x0201 // JPEGInterchangeFormat (IFD1 thumbnail)
	TagJPEGLength      = 0x0202 // JPEGInterchangeFormatLength
	TagDateTimeOrig    = 0x9003
	TagMakerNote       = 0x927C
	TagUserComment     = 0x9286
	TagGPSLatitude     = 0x0002
	TagGPSLongitude    = 0x0004
	TagGPSTimeStamp    = 0x0007
	TagGPSDateStamp    = 0x001D
	TagImageUniqueID   = 0xA420
	TagCameraOwnerName = 0xA430
	TagBodySerial      = 0xA431
)

// MaxTIFFEntries bounds the entries read per IFD.
const MaxTIFFEntries = 1024

// TIFF is the structure of a TIFF header as used by EXIF: IFD0 with its
// Exif, GPS and Interoperability sub-IFDs, and IFD1 (the thumbnail's IFD).
// Any of the IFDs may be nil.
type TIFF struct {
	Order                          binary.ByteOrder
	IFD0, Exif, GPS, Interop, IFD1 *IFD
	// Problems lists what was wrong but skipped (an IFD offset out of
	// range, a value past the end of the data, a loop); a TIFF with
	// problems still yields what could be read.
	Problems []string
	data     []byte
}

// IFD is one image file directory.
type IFD struct {
	Offset  int
	Entries []Entry
}

// Entry is one IFD entry. Value is the raw value bytes (a sub-slice of the
// data) or nil when the type is unknown or the value lies outside the data.
type Entry struct {
	Tag, Type uint16
	Count     uint32
	Value     []byte
}

// Get returns the entry with the tag, if the IFD is non-nil and has it.
func (d *IFD) Get(tag uint16) (Entry, bool) {
	if d == nil {
		return Entry{}, false
	}
	for _, e := range d.Entries {
		if e.Tag == tag {
			return e, true
		}
	}
	return Entry{}, false
}

var tiffTypeSize = [...]int{0, 1, 1, 2, 4, 8, 1, 1, 2, 4, 8, 4, 8, 4}

// ParseTIFF reads a TIFF structure ("II*\0" or "MM\0*" header). It fails only
// when the header is unusable; everything else is recorded in Problems.
func ParseTIFF(b []byte) (*TIFF, error) {
	const f = "TIFF"
	if len(b) < 8 {
		return nil, truncatedf(f, 0, "header cut off")
	}
	t := &TIFF{data: b}
	switch {
	case b[0] == 'I' && b[1] == 'I' && b[2] == 42 && b[3] == 0:
		t.Order = binary.LittleEndian
	case b[0] == 'M' && b[1] == 'M' && b[2] == 0 && b[3] == 42:
		t.Order = binary.BigEndian
	default:
		return nil, errorf(f, 0, "no TIFF byte-order header")
	}
	seen := map[int]bool{}
	off := int(t.Order.Uint32(b[4:]))
	var next int
	t.IFD0, next = t.readIFD(off, seen, "IFD0")
	if next != 0 {
		t.IFD1, _ = t.readIFD(next, seen, "IFD1")
	}
	if e, ok := t.IFD0.Get(TagExifIFD); ok {
		if o, ok := t.uintValue(e); ok {
			t.Exif, _ = t.readIFD(o, seen, "Exif IFD")
		}
	}
	if e, ok := t.IFD0.Get(TagGPSIFD); ok {
		if o, ok := t.uintValue(e); ok {
			t.GPS, _ = t.readIFD(o, seen, "GPS IFD")
		}
	}
	if e, ok := t.Exif.Get(TagInteropIFD); ok {
		if o, ok := t.uintValue(e); ok {
			t.Interop, _ = t.readIFD(o, seen, "Interop IFD")
		}
	}
	return t, nil
}

func (t *TIFF) problem(s string) { t.Problems = append(t.Problems, s) }

func (t *TIFF) readIFD(off int, seen map[int]bool, name string) (*IFD, int) {
	b := t.data
	if off < 8 || off+2 > len(b) {
		t.problem(name + " offset out of range")
		return nil, 0
	}
	if seen[off] {
		t.problem(name + " offset loops")
		return nil, 0
	}
	seen[off] = true
	n := int(t.Order.Uint16(b[off:]))
	if n > MaxTIFFEntries {
		t.problem(name + " has too many entries")
		n = MaxTIFFEntries
	}
	d := &IFD{Offset: off}
	p := off + 2
	for i := 0; i < n; i++ {
		if p+12 > len(b) {
			t.problem(name + " entries run past the end")
			return d, 0
		}
		e := Entry{Tag: t.Order.Uint16(b[p:]), Type: t.Order.Uint16(b[p+2:]), Count: t.Order.Uint32(b[p+4:])}
		if int(e.Type) < len(tiffTypeSize) && e.Type != 0 {
			size := uint64(tiffTypeSize[e.Type]) * uint64(e.Count)
			if size <= 4 {
				e.Value = b[p+8 : p+8+int(size)]
			} else if vo := uint64(t.Order.Uint32(b[p+8:])); vo+size <= uint64(len(b)) {
				e.Value = b[vo : vo+size]
			} else {
				t.problem(name + " value out of range")
			}
		}
		d.Entries = append(d.Entries, e)
		p += 12
	}
	next := 0
	if p+4 <= len(b) {
		next = int(t.Order.Uint32(b[p:]))
	}
	return d, next
}

// uint returns the first value of a SHORT or LONG entry.
func (t *TIFF) uintValue(e Entry) (int, bool) {
	switch {
	case e.Type == 3 && len(e.Value) >= 2:
		return int(t.Order.Uint16(e.Value)), true
	case (e.Type == 4 || e.Type == 13) && len(e.Value) >= 4:
		v := t.Order.Uint32(e.Value)
		if v > 1<<31-1 {
			return 0, false
		}
		return int(v), true
	}
	return 0, false
}

// Orientation returns IFD0's EXIF orientation, 1..8, or 0 when it is absent
// or invalid.
func (t *TIFF) Orientation() int {
	e, ok := t.IFD0.Get(TagOrientation)
	if !ok {
		return 0
	}
	v, ok := t.uintValue(e)
	if !ok || v < 1 || v > 8 {
		return 0
	}
	return v
}

// String returns an ASCII entry's value without trailing NULs.
func (t *TIFF) String(d *IFD, tag uint16) (string, bool) {
	e, ok := d.Get(tag)
	if !ok || e.Type != 2 || e.Value == nil {
		return "", false
	}
	return string(bytes.TrimRight(e.Value, "\x00")), true
}

// Thumbnail returns the IFD1 JPEG thumbnail, nil if there is none or it lies
// outside the data.
func (t *TIFF) Thumbnail() []byte {
	oe, ok1 := t.IFD1.Get(TagJPEGOffset)
	le, ok2 := t.IFD1.Get(TagJPEGLength)
	if !ok1 || !ok2 {
		return nil
	}
	o, ok1 := t.uintValue(oe)
	n, ok2 := t.uintValue(le)
	if !ok1 || !ok2 || n <= 0 || o < 0 || uint64(o)+uint64(n) > uint64(len(t.data)) {
		return nil
	}
	return t.data[o : o+n]
}

// HasGPS reports whether a GPS IFD with at least one entry is present.
func (t *TIFF) HasGPS() bool { return t.GPS != nil && len(t.GPS.Entries) > 0 }

// HasMakerNote reports whether the Exif IFD has a MakerNote.
func (t *TIFF) HasMakerNote() bool {
	_, ok := t.Exif.Get(TagMakerNote)
	return ok
}

// ExifOrientation reads the orientation from an EXIF block as found in a JPEG
// APP1 payload ("Exif\0\0" + TIFF), a PNG eXIf chunk (TIFF, sometimes with
// the prefix) or a HEIF Exif item after its offset field. It returns 0 when
// there is no valid orientation; it never fails and never panics on corrupt
// data.
func ExifOrientation(b []byte) (o int) {
	defer func() {
		if recover() != nil {
			o = 0
		}
	}()
	b = bytes.TrimPrefix(b, []byte("Exif\x00\x00"))
	t, err := ParseTIFF(b)
	if err != nil {
		return 0
	}
	return t.Orientation()
}
