package inspect

import (
	"bytes"
	"encoding/binary"
	"fmt"
)

// Bounds for ParseHEIF.
const (
	MaxHEIFItems   = 4096
	MaxHEIFProps   = 4096
	MaxHEIFExtents = 32
)

// Box is one ISOBMFF box.
type Box struct {
	Type   string
	Offset int // offset of the box header
	Header int // header size: 8, 16 (largesize) or more (uuid)
	Size   int // whole box, header included
}

// Body returns the box's content after its header.
func (b Box) body(data []byte) []byte { return data[b.Offset+b.Header : b.Offset+b.Size] }

// HEIF is what ParseHEIF found in an ISOBMFF file: the file-type box, the
// top-level boxes and, when there is a 'meta' box, its items and item
// properties.
type HEIF struct {
	MajorBrand   string
	MinorVersion uint32
	Compatible   []string
	Boxes        []Box // top-level boxes
	HasMeta      bool
	Primary      uint32 // primary item ID (pitm), 0 if none
	Items        []Item
	Props        []Property // ipco children; ipma indices are 1-based into this
	Refs         []Reference
	idat         []byte
	data         []byte
}

// Item is one entry of the item information box, with its location and
// associated properties.
type Item struct {
	ID          uint32
	Type        string // "hvc1", "grid", "Exif", "mime", "jpeg", "av01", ...
	Name        string
	ContentType string // for "mime" items, e.g. "application/rdf+xml" (XMP)
	Hidden      bool
	// Props are 1-based indices into HEIF.Props, in association order.
	Props []int
	// Location (iloc).
	Method  int // construction method: 0 file offset, 1 idat, 2 item
	Extents []Extent
}

// Reference is one entry of the item reference box (iref): item From
// refers to the items To, with the reference's type: "cdsc" (From describes
// To: an Exif or XMP item the image), "thmb", "auxl", "dimg", ...
type Reference struct {
	Type string
	From uint32
	To   []uint32
}

// Extent is one piece of an item's data.
type Extent struct{ Offset, Length uint64 }

// Property is one child box of 'ipco', with the fields of the few types this
// package understands.
type Property struct {
	Box
	// ispe
	Width, Height uint32
	// irot: anti-clockwise rotation in degrees (0, 90, 180, 270)
	Rotation int
	// imir: the raw axis bit
	Axis int
	// colr
	ColourType string // "nclx", "prof", "rICC"
	ICC        []byte
	Primaries  uint16 // nclx colour_primaries (1 BT.709/sRGB, 12 Display P3)
}

// IsHEICBrand reports whether a brand names HEIF/HEIC content that libheif
// decodes with HEVC (or a generic HEIF brand).
func IsHEICBrand(b string) bool {
	switch b {
	case "heic", "heix", "heim", "heis", "hevc", "hevx", "hevm", "hevs", "mif1", "msf1":
		return true
	}
	return false
}

// ParseHEIF walks an ISOBMFF file: 'ftyp', the top-level boxes and the
// 'meta' box (pitm, iinf, iloc, iprp/ipco/ipma, idat). It returns what it
// walked even when it also returns an error.
func ParseHEIF(data []byte) (*HEIF, error) {
	const f = "HEIF"
	h := &HEIF{data: data}
	boxes, err := readBoxes(data, 0, len(data), 1024)
	h.Boxes = boxes
	if len(boxes) == 0 || boxes[0].Type != "ftyp" {
		if err == nil {
			err = errorf(f, 0, "no ftyp box")
		}
		return h, err
	}
	ft := boxes[0].body(data)
	if len(ft) < 8 {
		return h, errorf(f, 0, "ftyp box too short")
	}
	h.MajorBrand = string(ft[:4])
	h.MinorVersion = binary.BigEndian.Uint32(ft[4:])
	for i := 8; i+4 <= len(ft) && len(h.Compatible) < 64; i += 4 {
		h.Compatible = append(h.Compatible, string(ft[i:i+4]))
	}
	for _, b := range boxes {
		if b.Type == "meta" && !h.HasMeta {
			h.HasMeta = true
			if merr := h.parseMeta(b); merr != nil && err == nil {
				err = merr
			}
		}
	}
	return h, err
}

func readBoxes(data []byte, start, end, max int) ([]Box, error) {
	const f = "HEIF"
	var out []Box
	pos := start
	for pos < end {
		if len(out) >= max {
			return out, errorf(f, pos, "more than %d boxes", max)
		}
		if pos+8 > end {
			return out, truncatedf(f, pos, "box header cut off")
		}
		size := uint64(binary.BigEndian.Uint32(data[pos:]))
		typ := data[pos+4 : pos+8]
		hdr := 8
		switch size {
		case 0:
			size = uint64(end - pos)
		case 1:
			if pos+16 > end {
				return out, truncatedf(f, pos, "box header cut off")
			}
			size = binary.BigEndian.Uint64(data[pos+8:])
			hdr = 16
		}
		if string(typ) == "uuid" {
			hdr += 16
		}
		if size < uint64(hdr) {
			return out, errorf(f, pos, "box %q has invalid size %d", typ, size)
		}
		if size > uint64(end-pos) {
			return out, truncatedf(f, pos, "box %q of %d bytes runs past the end", printable(typ), size)
		}
		out = append(out, Box{Type: string(typ), Offset: pos, Header: hdr, Size: int(size)})
		pos += int(size)
	}
	return out, nil
}

func printable(b []byte) string {
	var s []byte
	for _, c := range b {
		if c >= 0x20 && c < 0x7F {
			s = append(s, c)
		} else {
			s = append(s, '?')
		}
	}
	return string(s)
}

// reader reads big-endian fields from a box body and remembers the first
// error.
type reader struct {
	b   []byte
	p   int
	bad bool
}

func (r *reader) n(k int) []byte {
	if r.bad || k < 0 || r.p+k > len(r.b) {
		r.bad = true
		return make([]byte, max(k, 0))
	}
	s := r.b[r.p : r.p+k]
	r.p += k
	return s
}
func (r *reader) u8() uint8   { return r.n(1)[0] }
func (r *reader) u16() uint16 { return binary.BigEndian.Uint16(r.n(2)) }
func (r *reader) u32() uint32 { return binary.BigEndian.Uint32(r.n(4)) }
func (r *reader) uN(size int) uint64 {
	switch size {
	case 0:
		return 0
	case 4:
		return uint64(r.u32())
	case 8:
		return binary.BigEndian.Uint64(r.n(8))
	}
	r.bad = true
	return 0
}
func (r *reader) cstring() string {
	if r.bad {
		return ""
	}
	i := bytes.IndexByte(r.b[r.p:], 0)
	if i < 0 {
		s := string(r.b[r.p:])
		r.p = len(r.b)
		return s
	}
	s := string(r.b[r.p : r.p+i])
	r.p += i + 1
	return s
}

func (h *HEIF) parseMeta(meta Box) error {
	const f = "HEIF"
	body := meta.body(h.data)
	if len(body) < 4 {
		return errorf(f, meta.Offset, "meta box too short")
	}
	base := meta.Offset + meta.Header + 4 // full box: version and flags
	children, err := readBoxes(h.data, base, meta.Offset+meta.Size, 256)
	if err != nil {
		return err
	}
	var iloc, ipma *Box
	for i := range children {
		c := children[i]
		switch c.Type {
		case "pitm":
			r := &reader{b: c.body(h.data)}
			v := r.u8()
			r.n(3) // flags
			if v == 0 {
				h.Primary = uint32(r.u16())
			} else {
				h.Primary = r.u32()
			}
		case "iinf":
			if err := h.parseIinf(c); err != nil {
				return err
			}
		case "iloc":
			iloc = &children[i]
		case "idat":
			h.idat = c.body(h.data)
		case "iref":
			if err := h.parseIref(c); err != nil {
				return err
			}
		case "iprp":
			sub, err := readBoxes(h.data, c.Offset+c.Header, c.Offset+c.Size, 16)
			if err != nil {
				return err
			}
			for j := range sub {
				switch sub[j].Type {
				case "ipco":
					if err := h.parseIpco(sub[j]); err != nil {
						return err
					}
				case "ipma":
					if ipma == nil {
						ipma = &sub[j]
					}
				}
			}
		}
	}
	// iloc and ipma refer to items, which iinf may declare after them.
	if iloc != nil {
		if err := h.parseIloc(*iloc); err != nil {
			return err
		}
	}
	if ipma != nil {
		if err := h.parseIpma(*ipma); err != nil {
			return err
		}
	}
	return nil
}

func (h *HEIF) item(id uint32) *Item {
	for i := range h.Items {
		if h.Items[i].ID == id {
			return &h.Items[i]
		}
	}
	return nil
}

func (h *HEIF) parseIinf(b Box) error {
	const f = "HEIF"
	r := &reader{b: b.body(h.data)}
	v := r.u8()
	r.n(3)
	if v == 0 {
		r.u16()
	} else {
		r.u32()
	}
	if r.bad {
		return errorf(f, b.Offset, "iinf box too short")
	}
	start := b.Offset + b.Header + r.p
	infes, err := readBoxes(h.data, start, b.Offset+b.Size, MaxHEIFItems)
	if err != nil {
		return err
	}
	for _, e := range infes {
		if e.Type != "infe" {
			continue
		}
		r := &reader{b: e.body(h.data)}
		v := r.u8()
		fl := r.n(3)
		it := Item{Hidden: fl[2]&1 != 0}
		switch {
		case v >= 2:
			if v == 2 {
				it.ID = uint32(r.u16())
			} else {
				it.ID = r.u32()
			}
			r.u16() // protection index
			it.Type = string(r.n(4))
			it.Name = r.cstring()
			if it.Type == "mime" {
				it.ContentType = r.cstring()
			}
		default:
			it.ID = uint32(r.u16())
			r.u16()
			it.Name = r.cstring()
			it.ContentType = r.cstring()
			it.Type = "mime"
		}
		if r.bad {
			return errorf(f, e.Offset, "infe box too short")
		}
		h.Items = append(h.Items, it)
	}
	return nil
}

func (h *HEIF) parseIloc(b Box) error {
	const f = "HEIF"
	r := &reader{b: b.body(h.data)}
	v := r.u8()
	r.n(3)
	if v > 2 {
		return errorf(f, b.Offset, "iloc version %d", v)
	}
	x := r.u8()
	offSize, lenSize := int(x>>4), int(x&15)
	x = r.u8()
	baseSize, idxSize := int(x>>4), int(x&15)
	if v == 0 {
		idxSize = 0
	}
	var count uint32
	if v < 2 {
		count = uint32(r.u16())
	} else {
		count = r.u32()
	}
	for i := uint32(0); i < count && !r.bad; i++ {
		var id uint32
		if v < 2 {
			id = uint32(r.u16())
		} else {
			id = r.u32()
		}
		method := 0
		if v >= 1 {
			method = int(r.u16() & 15)
		}
		r.u16() // data reference index
		baseOff := r.uN(baseSize)
		n := int(r.u16())
		if n > MaxHEIFExtents {
			return errorf(f, b.Offset, "item %d has %d extents", id, n)
		}
		var ext []Extent
		for k := 0; k < n && !r.bad; k++ {
			if idxSize > 0 {
				r.uN(idxSize)
			}
			o := r.uN(offSize)
			l := r.uN(lenSize)
			ext = append(ext, Extent{Offset: baseOff + o, Length: l})
		}
		if it := h.item(id); it != nil && !r.bad {
			it.Method, it.Extents = method, ext
		}
	}
	if r.bad {
		return errorf(f, b.Offset, "iloc box malformed")
	}
	return nil
}

func (h *HEIF) parseIref(b Box) error {
	const f = "HEIF"
	body := b.body(h.data)
	if len(body) < 4 {
		return errorf(f, b.Offset, "iref box too short")
	}
	wide := body[0] != 0 // version 1: 32-bit item IDs
	refs, err := readBoxes(h.data, b.Offset+b.Header+4, b.Offset+b.Size, MaxHEIFItems)
	if err != nil {
		return err
	}
	for _, rb := range refs {
		r := &reader{b: rb.body(h.data)}
		id := func() uint32 {
			if wide {
				return r.u32()
			}
			return uint32(r.u16())
		}
		ref := Reference{Type: rb.Type, From: id()}
		n := int(r.u16())
		for i := 0; i < n && !r.bad; i++ {
			ref.To = append(ref.To, id())
		}
		if r.bad {
			return errorf(f, rb.Offset, "%s reference malformed", printable([]byte(rb.Type)))
		}
		h.Refs = append(h.Refs, ref)
	}
	return nil
}

func (h *HEIF) parseIpco(b Box) error {
	props, err := readBoxes(h.data, b.Offset+b.Header, b.Offset+b.Size, MaxHEIFProps)
	if err != nil {
		return err
	}
	for _, pb := range props {
		p := Property{Box: pb}
		r := &reader{b: pb.body(h.data)}
		switch pb.Type {
		case "ispe":
			r.n(4)
			p.Width, p.Height = r.u32(), r.u32()
		case "irot":
			p.Rotation = int(r.u8()&3) * 90
		case "imir":
			p.Axis = int(r.u8() & 1)
		case "colr":
			p.ColourType = string(r.n(4))
			switch p.ColourType {
			case "nclx":
				p.Primaries = r.u16()
			case "prof", "rICC":
				p.ICC = r.b[r.p:]
			}
		}
		if r.bad {
			return errorf("HEIF", pb.Offset, "%s property too short", printable([]byte(pb.Type)))
		}
		h.Props = append(h.Props, p)
	}
	return nil
}

func (h *HEIF) parseIpma(b Box) error {
	r := &reader{b: b.body(h.data)}
	v := r.u8()
	fl := r.n(3)
	wide := fl[2]&1 != 0
	n := r.u32()
	for i := uint32(0); i < n && !r.bad; i++ {
		var id uint32
		if v < 1 {
			id = uint32(r.u16())
		} else {
			id = r.u32()
		}
		k := int(r.u8())
		var idx []int
		for j := 0; j < k && !r.bad; j++ {
			if wide {
				idx = append(idx, int(r.u16()&0x7FFF))
			} else {
				idx = append(idx, int(r.u8()&0x7F))
			}
		}
		if it := h.item(id); it != nil && !r.bad {
			it.Props = append(it.Props, idx...)
		}
	}
	if r.bad {
		return errorf("HEIF", b.Offset, "ipma box malformed")
	}
	return nil
}

// PrimaryItem returns the primary item, nil if there is none.
func (h *HEIF) PrimaryItem() *Item {
	if h.Primary == 0 && len(h.Items) > 0 {
		return nil
	}
	return h.item(h.Primary)
}

// ItemProps returns the properties associated with an item, in order.
func (h *HEIF) ItemProps(it *Item) []Property {
	if it == nil {
		return nil
	}
	var out []Property
	for _, i := range it.Props {
		if i >= 1 && i <= len(h.Props) {
			out = append(out, h.Props[i-1])
		}
	}
	return out
}

// PrimarySize returns the primary item's stored size from its 'ispe'
// property (before any rotation), ok=false if there is none.
func (h *HEIF) PrimarySize() (w, hgt int, ok bool) {
	for _, p := range h.ItemProps(h.PrimaryItem()) {
		if p.Type == "ispe" {
			return int(p.Width), int(p.Height), true
		}
	}
	return 0, 0, false
}

// ItemData returns an item's data, assembled from its extents. It refuses
// items larger than the file, so that extents that repeat the same bytes
// cannot make it allocate more than the input's size.
func (h *HEIF) ItemData(it *Item) ([]byte, error) {
	var out []byte
	for _, e := range it.Extents {
		var src []byte
		switch it.Method {
		case 0:
			src = h.data
		case 1:
			src = h.idat
		default:
			return nil, fmt.Errorf("item %d: construction method %d not supported", it.ID, it.Method)
		}
		l := e.Length
		if l == 0 && len(it.Extents) == 1 && e.Offset <= uint64(len(src)) {
			l = uint64(len(src)) - e.Offset
		}
		if e.Offset > uint64(len(src)) || l > uint64(len(src))-e.Offset {
			return nil, fmt.Errorf("item %d: extent out of range", it.ID)
		}
		if uint64(len(out))+l > uint64(len(h.data)) {
			return nil, fmt.Errorf("item %d: larger than the file", it.ID)
		}
		out = append(out, src[e.Offset:e.Offset+l]...)
	}
	return out, nil
}

// ExifItems returns the TIFF data of every Exif item (after the 4-byte
// header offset field), skipping items whose data cannot be read.
func (h *HEIF) ExifItems() [][]byte {
	var out [][]byte
	for i := range h.Items {
		if d := h.exifData(&h.Items[i]); d != nil {
			out = append(out, d)
		}
	}
	return out
}

// exifData returns the TIFF data of an Exif item, nil if it is not one or
// its data cannot be read.
func (h *HEIF) exifData(it *Item) []byte {
	if it.Type != "Exif" {
		return nil
	}
	d, err := h.ItemData(it)
	if err != nil || len(d) < 4 {
		return nil
	}
	off := uint64(binary.BigEndian.Uint32(d))
	if off > uint64(len(d)-4) {
		return nil
	}
	return d[4+off:]
}

// PrimaryExif returns the TIFF data of the Exif item that describes the
// primary item (a "cdsc" reference to it) or, if there is none, of the
// first Exif item that describes no item at all; nil if there is neither
// (an Exif item that describes another item, a thumbnail say, says nothing
// about the primary image).
func (h *HEIF) PrimaryExif() []byte {
	var loose []byte
	for i := range h.Items {
		it := &h.Items[i]
		d := h.exifData(it)
		if d == nil {
			continue
		}
		describes := false
		for _, r := range h.Refs {
			if r.Type != "cdsc" || r.From != it.ID {
				continue
			}
			describes = true
			for _, to := range r.To {
				if to == h.Primary {
					return d
				}
			}
		}
		if !describes && loose == nil {
			loose = d
		}
	}
	return loose
}

// HasTransform reports whether the primary item has a transformative
// property that changes its orientation (irot or imir; even irot 0 says
// how the image is displayed).
func (h *HEIF) HasTransform() bool {
	for _, p := range h.ItemProps(h.PrimaryItem()) {
		if p.Type == "irot" || p.Type == "imir" {
			return true
		}
	}
	return false
}

// DisplayOrientation returns the EXIF orientation (1..8) that displays the
// primary image upright. When the primary item has HEIF transforms (irot,
// imir), they decide (Orientation) and an EXIF orientation is ignored, as
// the HEIF and MIAF specifications require, so nothing is rotated twice.
// When it has none, the EXIF orientation of PrimaryExif decides (exif is
// true), for the HEICs some camera apps write (pixels stored sideways, an
// EXIF orientation and no irot); libheif's heif-convert 1.15 shows them
// upright the same way, by copying the EXIF orientation into its JPEG.
// Otherwise it is 1.
func (h *HEIF) DisplayOrientation() (o int, exif bool) {
	if h.HasTransform() {
		return h.Orientation(), false
	}
	if o := ExifOrientation(h.PrimaryExif()); o >= 1 && o <= 8 {
		return o, o != 1
	}
	return 1, false
}

// Orientation returns the EXIF orientation (1..8) equivalent to the
// transformative properties (irot, imir) of the primary item, composed in
// association order, as libheif applies them. libheif 1.15 treats imir axis
// 1 as a left-right flip and axis 0 as a top-bottom flip.
func (h *HEIF) Orientation() int {
	o := 1
	for _, p := range h.ItemProps(h.PrimaryItem()) {
		switch p.Type {
		case "irot":
			for i := 0; i < p.Rotation/90; i++ {
				o = composeOrientation(o, 8) // 8 = rotate 90° anti-clockwise to display
			}
		case "imir":
			if p.Axis == 1 {
				o = composeOrientation(o, 2)
			} else {
				o = composeOrientation(o, 4)
			}
		}
	}
	return o
}

// orientation transforms as (a,b,c,d) acting on centred coordinates:
// x' = a*x + b*y, y' = c*x + d*y, for the transform that displays a stored
// image with that EXIF orientation.
var orientMatrix = [9][4]int{
	1: {1, 0, 0, 1},
	2: {-1, 0, 0, 1},
	3: {-1, 0, 0, -1},
	4: {1, 0, 0, -1},
	5: {0, 1, 1, 0},
	6: {0, -1, 1, 0},
	7: {0, -1, -1, 0},
	8: {0, 1, -1, 0},
}

// composeOrientation returns the orientation of applying a first, then b.
func composeOrientation(a, b int) int {
	ma, mb := orientMatrix[a], orientMatrix[b]
	m := [4]int{
		mb[0]*ma[0] + mb[1]*ma[2], mb[0]*ma[1] + mb[1]*ma[3],
		mb[2]*ma[0] + mb[3]*ma[2], mb[2]*ma[1] + mb[3]*ma[3],
	}
	for o := 1; o <= 8; o++ {
		if orientMatrix[o] == m {
			return o
		}
	}
	return 1
}
