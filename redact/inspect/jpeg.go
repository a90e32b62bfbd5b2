package inspect

import (
	"bytes"
	"encoding/binary"
	"fmt"
)

// JPEG marker codes (the byte after 0xFF).
const (
	SOF0  = 0xC0 // baseline DCT
	SOF1  = 0xC1 // extended sequential DCT
	SOF2  = 0xC2 // progressive DCT
	SOF3  = 0xC3 // lossless
	DHT   = 0xC4
	JPG   = 0xC8
	DAC   = 0xCC
	RST0  = 0xD0
	RST7  = 0xD7
	SOI   = 0xD8
	EOI   = 0xD9
	SOS   = 0xDA
	DQT   = 0xDB
	DNL   = 0xDC
	DRI   = 0xDD
	APP0  = 0xE0
	APP1  = 0xE1
	APP2  = 0xE2
	APP13 = 0xED
	APP14 = 0xEE
	APP15 = 0xEF
	COM   = 0xFE
	TEM   = 0x01
)

// MaxJPEGSegments bounds the number of segments ParseJPEG records, so that a
// file made of nothing but markers cannot make it allocate much.
const MaxJPEGSegments = 4096

// Segment is one marker segment of a JPEG file.
type Segment struct {
	// Marker is the marker code, the byte after 0xFF (0xE1 for APP1).
	Marker byte
	// Offset is the offset of the marker's 0xFF in the file.
	Offset int
	// Length is the segment's length field (it counts itself, not the
	// marker); 0 for markers without a length (SOI, EOI, RSTn, TEM).
	Length int
	// Payload is the segment's data after the length field, a sub-slice of
	// the parsed input.
	Payload []byte
	// For SOS only: the number of entropy-coded bytes that follow the
	// segment (up to the next marker that is not RSTn), and the number of
	// RSTn markers among them.
	EntropyLen, Restarts int
}

// End is the offset just after the segment (and, for SOS, after its
// entropy-coded data).
func (s Segment) End() int {
	end := s.Offset + 2 + s.Length
	return end + s.EntropyLen
}

// Name is the marker's name: "SOI", "APP1", "SOF2", "DQT", "RST3", "COM",
// or "0xF5" for codes without a name.
func (s Segment) Name() string { return MarkerName(s.Marker) }

// AppID is the identifier at the start of an APPn payload ("JFIF", "Exif",
// "http://ns.adobe.com/xap/1.0/", "ICC_PROFILE", "Photoshop 3.0", "Adobe",
// "MPF", ...): the bytes up to the first NUL or non-printable byte, at most 64.
// It is "" for other segments.
func (s Segment) AppID() string {
	if s.Marker < APP0 || s.Marker > APP15 {
		return ""
	}
	return AppID(s.Payload)
}

// AppID returns the printable identifier at the start of an APPn payload.
func AppID(p []byte) string {
	n := 0
	for n < len(p) && n < 64 && p[n] >= 0x20 && p[n] < 0x7F {
		n++
	}
	return string(p[:n])
}

// MarkerName names a JPEG marker code.
func MarkerName(m byte) string {
	switch {
	case m == SOI:
		return "SOI"
	case m == EOI:
		return "EOI"
	case m == SOS:
		return "SOS"
	case m == DQT:
		return "DQT"
	case m == DHT:
		return "DHT"
	case m == DRI:
		return "DRI"
	case m == DNL:
		return "DNL"
	case m == DAC:
		return "DAC"
	case m == COM:
		return "COM"
	case m == TEM:
		return "TEM"
	case m == JPG:
		return "JPG"
	case m >= RST0 && m <= RST7:
		return fmt.Sprintf("RST%d", m-RST0)
	case m >= APP0 && m <= APP15:
		return fmt.Sprintf("APP%d", m-APP0)
	case IsSOF(m):
		return fmt.Sprintf("SOF%d", m-SOF0)
	case m == 0xDE:
		return "DHP"
	case m == 0xDF:
		return "EXP"
	}
	return fmt.Sprintf("0x%02X", m)
}

// IsSOF reports whether m is a start-of-frame marker (SOF0..SOF15 except
// DHT, JPG and DAC).
func IsSOF(m byte) bool {
	return m >= 0xC0 && m <= 0xCF && m != DHT && m != JPG && m != DAC
}

// Frame is the content of the first SOFn segment.
type Frame struct {
	Marker        byte // SOF0, SOF1, SOF2, ...
	Precision     int  // bits per sample, 8 for nearly every JPEG
	Width, Height int  // Height is 0 when a DNL marker defines it
	Components    []Component
}

// Component is one colour component of a frame.
type Component struct {
	ID, H, V, Tq byte
}

// Subsampling returns the frame's chroma subsampling as "4:4:4", "4:2:0",
// "4:2:2", "4:4:0", "4:1:1" or "HxV,HxV,HxV"; "" unless there are 3 components.
func (f *Frame) Subsampling() string {
	if f == nil || len(f.Components) != 3 {
		return ""
	}
	c := f.Components
	if c[1].H != 1 || c[1].V != 1 || c[2].H != 1 || c[2].V != 1 {
		return fmt.Sprintf("%dx%d,%dx%d,%dx%d", c[0].H, c[0].V, c[1].H, c[1].V, c[2].H, c[2].V)
	}
	switch [2]byte{c[0].H, c[0].V} {
	case [2]byte{1, 1}:
		return "4:4:4"
	case [2]byte{2, 2}:
		return "4:2:0"
	case [2]byte{2, 1}:
		return "4:2:2"
	case [2]byte{1, 2}:
		return "4:4:0"
	case [2]byte{4, 1}:
		return "4:1:1"
	}
	return fmt.Sprintf("%dx%d,1x1,1x1", c[0].H, c[0].V)
}

// JPEG is the structure of a JPEG file as far as it could be walked.
type JPEG struct {
	// Segments in file order, starting with SOI and ending with EOI when
	// present. RSTn markers inside entropy-coded data are not segments; they
	// are counted in the SOS segment they follow.
	Segments []Segment
	// Frame is the first SOFn segment, nil if there is none.
	Frame *Frame
	// SOFs and Scans count SOFn and SOS segments.
	SOFs, Scans int
	// EOI is the offset of the end-of-image marker, -1 if the data ends
	// before one.
	EOI int
	// Trailer is the number of bytes after EOI (for example an appended ZIP
	// archive, or the secondary images of a multi-picture file).
	Trailer int
	// Extraneous counts bytes between segments that are not part of a
	// marker: libjpeg skips them with a warning.
	Extraneous int
}

// App returns the payloads of the APPn segments with the given marker whose
// identifier is id, in file order.
func (j *JPEG) App(marker byte, id string) [][]byte {
	var out [][]byte
	for _, s := range j.Segments {
		if s.Marker == marker && s.AppID() == id {
			out = append(out, s.Payload)
		}
	}
	return out
}

// ParseJPEG walks a JPEG file segment by segment, through the entropy-coded
// data after each SOS, up to the first EOI. It returns what it walked even
// when it also returns an error. The error is an *Error; errors.Is(err,
// ErrTruncated) when the data ends before EOI, which is how a truncated JPEG
// is recognised (libjpeg only warns and fills the rest with grey).
// ParseJPEG does not check that the segment order makes sense; see
// VerifyClean in package redact for a strict check.
func ParseJPEG(data []byte) (*JPEG, error) {
	const f = "JPEG"
	j := &JPEG{EOI: -1}
	if len(data) < 2 || data[0] != 0xFF || data[1] != SOI {
		return j, errorf(f, 0, "no start-of-image marker")
	}
	j.Segments = append(j.Segments, Segment{Marker: SOI, Offset: 0})
	pos := 2
	for {
		// Find the next marker, counting bytes that are not one.
		for pos < len(data) && data[pos] != 0xFF {
			pos++
			j.Extraneous++
		}
		// Fill bytes: any number of 0xFF may precede a marker code.
		for pos+1 < len(data) && data[pos+1] == 0xFF {
			pos++
		}
		if pos+1 >= len(data) {
			return j, truncatedf(f, len(data), "no end-of-image marker")
		}
		m := data[pos+1]
		if m == 0x00 {
			// 0xFF00 is byte stuffing inside entropy-coded data; here it is junk.
			j.Extraneous += 2
			pos += 2
			continue
		}
		if len(j.Segments) >= MaxJPEGSegments {
			return j, errorf(f, pos, "more than %d segments", MaxJPEGSegments)
		}
		seg := Segment{Marker: m, Offset: pos}
		switch {
		case m == EOI:
			j.Segments = append(j.Segments, seg)
			j.EOI = pos
			j.Trailer = len(data) - (pos + 2)
			return j, nil
		case m == SOI:
			j.Segments = append(j.Segments, seg)
			return j, errorf(f, pos, "second start-of-image marker")
		case m == TEM || (m >= RST0 && m <= RST7):
			j.Segments = append(j.Segments, seg)
			pos += 2
			continue
		}
		if pos+4 > len(data) {
			return j, truncatedf(f, pos, "%s segment header cut off", MarkerName(m))
		}
		n := int(binary.BigEndian.Uint16(data[pos+2:]))
		if n < 2 {
			return j, errorf(f, pos, "%s segment has invalid length %d", MarkerName(m), n)
		}
		if pos+2+n > len(data) {
			return j, truncatedf(f, pos, "%s segment of %d bytes runs past the end of the file", MarkerName(m), n)
		}
		seg.Length = n
		seg.Payload = data[pos+4 : pos+2+n]
		pos += 2 + n
		switch {
		case IsSOF(m):
			j.SOFs++
			if j.Frame == nil {
				fr, err := parseFrame(m, seg.Payload)
				if err != nil {
					j.Segments = append(j.Segments, seg)
					return j, errorf(f, seg.Offset, "%s: %s", MarkerName(m), err)
				}
				j.Frame = fr
			}
		case m == SOS:
			j.Scans++
			end, rst, ok := scanEntropy(data, pos)
			seg.EntropyLen = end - pos
			seg.Restarts = rst
			pos = end
			if !ok {
				j.Segments = append(j.Segments, seg)
				return j, truncatedf(f, len(data), "no end-of-image marker after the entropy-coded data")
			}
		}
		j.Segments = append(j.Segments, seg)
	}
}

// scanEntropy returns the offset of the first marker at or after pos that is
// not RSTn (the 0xFF of it, after any fill bytes), the number of RSTn markers
// skipped, and false if the data ends first.
func scanEntropy(data []byte, pos int) (end, restarts int, ok bool) {
	i := pos
	for {
		k := bytes.IndexByte(data[i:], 0xFF)
		if k < 0 {
			return len(data), restarts, false
		}
		i += k
		j := i + 1
		for j < len(data) && data[j] == 0xFF {
			j++
		}
		if j >= len(data) {
			return len(data), restarts, false
		}
		switch b := data[j]; {
		case b == 0x00:
			i = j + 1
		case b >= RST0 && b <= RST7:
			restarts++
			i = j + 1
		default:
			return j - 1, restarts, true
		}
	}
}

func parseFrame(m byte, p []byte) (*Frame, error) {
	if len(p) < 6 {
		return nil, fmt.Errorf("frame header too short (%d bytes)", len(p))
	}
	fr := &Frame{
		Marker:    m,
		Precision: int(p[0]),
		Height:    int(binary.BigEndian.Uint16(p[1:])),
		Width:     int(binary.BigEndian.Uint16(p[3:])),
	}
	nc := int(p[5])
	if len(p) < 6+3*nc {
		return nil, fmt.Errorf("frame header too short for %d components", nc)
	}
	for i := 0; i < nc; i++ {
		c := p[6+3*i:]
		fr.Components = append(fr.Components, Component{ID: c[0], H: c[1] >> 4, V: c[1] & 15, Tq: c[2]})
	}
	return fr, nil
}
