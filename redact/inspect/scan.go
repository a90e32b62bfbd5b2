package inspect

import (
	"bytes"
	"compress/zlib"
	"fmt"
	"io"
	"sort"
	"strings"
)

// Kind is a kind of metadata (or other non-pixel content) a file can carry.
type Kind string

// The kinds Scan reports.
const (
	EXIF          Kind = "exif"           // an EXIF block (JPEG APP1, PNG eXIf, HEIF Exif item)
	GPS           Kind = "gps"            // a GPS IFD with entries
	Thumbnail     Kind = "exif-thumbnail" // an IFD1 JPEG thumbnail
	MakerNote     Kind = "makernote"      // an EXIF MakerNote
	CameraInfo    Kind = "camera"         // Make, Model, Software, Artist, serial numbers, owner
	XMP           Kind = "xmp"            // an XMP packet
	FaceRegions   Kind = "xmp-regions"    // XMP region lists (MWG or Microsoft), usually named faces
	IPTC          Kind = "iptc"           // Photoshop APP13 / IPTC-IIM
	ICC           Kind = "icc"            // an ICC profile (JPEG APP2, PNG iCCP, HEIF colr)
	Comment       Kind = "comment"        // a JPEG COM segment
	Trailer       Kind = "trailer"        // bytes after EOI / IEND
	Adobe         Kind = "adobe"          // the Adobe APP14 segment
	JFIFThumbnail Kind = "jfif-thumbnail" // a JFIF or JFXX thumbnail in APP0
	OtherApp      Kind = "app"            // any other APPn segment (MPF, Ducky, ...)
	Text          Kind = "png-text"       // PNG tEXt, iTXt, zTXt
	Time          Kind = "png-time"       // PNG tIME
	OtherChunk    Kind = "png-chunk"      // any other ancillary PNG chunk not known to be harmless
)

// Finding is one piece of metadata found by Scan.
type Finding struct {
	Kind   Kind
	Offset int    // where in the file (segment, chunk or box offset)
	Detail string // e.g. "APP1 Exif", "tEXt Author"
}

func (f Finding) String() string { return fmt.Sprintf("%s at %d (%s)", f.Kind, f.Offset, f.Detail) }

// Report lists what Scan found.
type Report struct {
	Format   string // "JPEG", "PNG", "HEIF"
	Findings []Finding
	// Orientation is the EXIF orientation found (0 if none).
	Orientation int
}

// Has reports whether a finding of the kind exists.
func (r *Report) Has(k Kind) bool {
	for _, f := range r.Findings {
		if f.Kind == k {
			return true
		}
	}
	return false
}

// Kinds returns the distinct kinds found, sorted.
func (r *Report) Kinds() []Kind {
	seen := map[Kind]bool{}
	var out []Kind
	for _, f := range r.Findings {
		if !seen[f.Kind] {
			seen[f.Kind] = true
			out = append(out, f.Kind)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

func (r *Report) add(k Kind, off int, format string, args ...any) {
	r.Findings = append(r.Findings, Finding{Kind: k, Offset: off, Detail: fmt.Sprintf(format, args...)})
}

// Scan reports the metadata a JPEG, PNG or HEIF file carries. The error is
// the parser's: Scan returns the findings up to the point where the file
// could not be walked further.
func Scan(data []byte) (*Report, error) {
	switch {
	case len(data) >= 2 && data[0] == 0xFF && data[1] == SOI:
		return scanJPEG(data)
	case bytes.HasPrefix(data, []byte(PNGSignature)):
		return scanPNG(data)
	case len(data) >= 8 && string(data[4:8]) == "ftyp":
		return scanHEIF(data)
	}
	return &Report{}, fmt.Errorf("not a JPEG, PNG or HEIF file")
}

func scanJPEG(data []byte) (*Report, error) {
	r := &Report{Format: "JPEG"}
	j, err := ParseJPEG(data)
	for _, s := range j.Segments {
		id := s.AppID()
		switch {
		case s.Marker == APP0 && id == "JFIF":
			if len(s.Payload) >= 14 && (s.Payload[12] != 0 || s.Payload[13] != 0) {
				r.add(JFIFThumbnail, s.Offset, "APP0 JFIF thumbnail %dx%d", s.Payload[12], s.Payload[13])
			}
			if len(s.Payload) > 14 {
				r.add(JFIFThumbnail, s.Offset, "APP0 JFIF with %d extra bytes", len(s.Payload)-14)
			}
		case s.Marker == APP0 && id == "JFXX":
			r.add(JFIFThumbnail, s.Offset, "APP0 JFXX")
		case s.Marker == APP1 && id == "Exif":
			r.add(EXIF, s.Offset, "APP1 Exif")
			r.scanTIFF(bytes.TrimPrefix(s.Payload, []byte("Exif\x00\x00")), s.Offset)
		case s.Marker == APP1 && strings.HasPrefix(id, "http://ns.adobe.com/x"):
			r.add(XMP, s.Offset, "APP1 %s", id)
			r.scanXMP(s.Payload, s.Offset)
		case s.Marker == APP2 && id == "ICC_PROFILE":
			r.add(ICC, s.Offset, "APP2 ICC_PROFILE")
		case s.Marker == APP13:
			r.add(IPTC, s.Offset, "APP13 %s", id)
		case s.Marker == APP14 && id == "Adobe":
			r.add(Adobe, s.Offset, "APP14 Adobe")
		case s.Marker >= APP0 && s.Marker <= APP15:
			r.add(OtherApp, s.Offset, "%s %q", s.Name(), id)
		case s.Marker == COM:
			r.add(Comment, s.Offset, "COM %d bytes", len(s.Payload))
		}
	}
	if j.EOI >= 0 && j.Trailer > 0 {
		r.add(Trailer, j.EOI+2, "%d bytes after EOI", j.Trailer)
	}
	return r, err
}

func (r *Report) scanTIFF(b []byte, off int) {
	t, err := ParseTIFF(b)
	if err != nil {
		return
	}
	if r.Orientation == 0 {
		r.Orientation = t.Orientation()
	}
	if t.HasGPS() {
		r.add(GPS, off, "GPS IFD with %d entries", len(t.GPS.Entries))
	}
	if _, ok := t.IFD1.Get(TagJPEGOffset); ok {
		r.add(Thumbnail, off, "IFD1 thumbnail of %d bytes", len(t.Thumbnail()))
	}
	if t.HasMakerNote() {
		r.add(MakerNote, off, "MakerNote")
	}
	for _, tag := range []uint16{TagMake, TagModel, TagSoftware, TagArtist, TagCameraOwnerName, TagBodySerial} {
		if _, ok := t.IFD0.Get(tag); ok {
			r.add(CameraInfo, off, "tag 0x%04X", tag)
		} else if _, ok := t.Exif.Get(tag); ok {
			r.add(CameraInfo, off, "tag 0x%04X", tag)
		}
	}
}

func (r *Report) scanXMP(b []byte, off int) {
	if bytes.Contains(b, []byte("mwg-rs:Regions")) || bytes.Contains(b, []byte("MP:RegionInfo")) ||
		bytes.Contains(b, []byte("MPRI:Regions")) {
		r.add(FaceRegions, off, "XMP region list")
	}
}

// harmlessPNG are the PNG chunks that carry no metadata about the photo or
// its maker (IHDR, PLTE, IDAT, IEND, and colour or layout facts).
var harmlessPNG = map[string]bool{
	"IHDR": true, "PLTE": true, "IDAT": true, "IEND": true, "tRNS": true,
	"gAMA": true, "cHRM": true, "sRGB": true, "sBIT": true, "bKGD": true, "pHYs": true,
}

func scanPNG(data []byte) (*Report, error) {
	r := &Report{Format: "PNG"}
	p, err := ParsePNG(data)
	for _, c := range p.Chunks {
		switch c.Type {
		case "tEXt", "zTXt", "iTXt":
			kw := c.Data
			if i := bytes.IndexByte(kw, 0); i >= 0 {
				kw = kw[:i]
			}
			r.add(Text, c.Offset, "%s %q", c.Type, printable(kw))
			if c.Type == "iTXt" && string(kw) == "XML:com.adobe.xmp" {
				r.add(XMP, c.Offset, "iTXt XMP")
				r.scanXMP(c.Data, c.Offset)
			}
			if c.Type == "zTXt" {
				if t := inflatePNGText(c.Data); bytes.Contains(t, []byte("<x:xmpmeta")) {
					r.add(XMP, c.Offset, "zTXt XMP")
					r.scanXMP(t, c.Offset)
				}
			}
		case "eXIf":
			r.add(EXIF, c.Offset, "eXIf")
			r.scanTIFF(bytes.TrimPrefix(c.Data, []byte("Exif\x00\x00")), c.Offset)
		case "tIME":
			r.add(Time, c.Offset, "tIME")
		case "iCCP":
			r.add(ICC, c.Offset, "iCCP")
		default:
			if !harmlessPNG[c.Type] {
				r.add(OtherChunk, c.Offset, "%s", c.Type)
			}
		}
	}
	if p.IEND >= 0 && p.Trailer > 0 {
		r.add(Trailer, p.IEND+12, "%d bytes after IEND", p.Trailer)
	}
	return r, err
}

// inflatePNGText returns at most 1 MiB of a zTXt chunk's decompressed text.
func inflatePNGText(b []byte) []byte {
	i := bytes.IndexByte(b, 0)
	if i < 0 || i+2 > len(b) {
		return nil
	}
	zr, err := zlib.NewReader(bytes.NewReader(b[i+2:]))
	if err != nil {
		return nil
	}
	out, _ := io.ReadAll(io.LimitReader(zr, 1<<20))
	return out
}

func scanHEIF(data []byte) (*Report, error) {
	r := &Report{Format: "HEIF"}
	h, err := ParseHEIF(data)
	for i := range h.Items {
		it := &h.Items[i]
		off := 0
		if len(it.Extents) > 0 && it.Extents[0].Offset < 1<<31 {
			off = int(it.Extents[0].Offset)
		}
		switch {
		case it.Type == "Exif":
			r.add(EXIF, off, "Exif item %d", it.ID)
		case it.Type == "mime" && strings.Contains(it.ContentType, "rdf+xml"):
			r.add(XMP, off, "XMP item %d", it.ID)
			if d, err := h.ItemData(it); err == nil {
				r.scanXMP(d, off)
			}
		}
	}
	for _, t := range h.ExifItems() {
		r.scanTIFF(t, 0)
	}
	for _, p := range h.Props {
		if p.Type == "colr" && p.ICC != nil {
			r.add(ICC, p.Offset, "colr %s", p.ColourType)
		}
	}
	return r, err
}
