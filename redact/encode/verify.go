package encode

import (
	"fmt"

	"github.com/photoguard/photoguard/redact/inspect"
)

// VerifyClean parses a JPEG segment by segment against an allow-list and
// returns nil only when the file can carry nothing but pixels:
//
//   - SOI at offset 0, then only APP0, DQT, SOF0/SOF1/SOF2, DHT, DRI and SOS
//     segments (RST0-7 inside the entropy-coded data), and EOI as the last
//     two bytes: nothing after it, not even padding;
//   - APP0 at most once and exactly JFIF: the 14-byte JFIF header with a 0x0
//     thumbnail and no extra bytes;
//   - exactly one SOF, before the first SOS, with 8-bit samples and 3
//     components;
//   - every table segment exactly as long as its tables, so that no bytes
//     hide at the end of a segment; no bytes between segments.
//
// The error names the offending segment and its offset.
func VerifyClean(data []byte) error {
	j, err := inspect.ParseJPEG(data)
	if err != nil {
		return fmt.Errorf("not clean: %w", err)
	}
	if j.Extraneous > 0 {
		return fmt.Errorf("not clean: %d bytes between segments", j.Extraneous)
	}
	if j.Trailer > 0 {
		return fmt.Errorf("not clean: %d bytes after EOI at offset %d", j.Trailer, j.EOI)
	}
	app0, sof := 0, 0
	for i, s := range j.Segments {
		bad := func(format string, args ...any) error {
			what := s.Name()
			if id := s.AppID(); id != "" {
				what += fmt.Sprintf(" %q", id)
			}
			return fmt.Errorf("not clean: %s segment at offset %d: %s", what, s.Offset, fmt.Sprintf(format, args...))
		}
		p := s.Payload
		switch m := s.Marker; {
		case m == inspect.SOI:
			if i != 0 {
				return bad("second SOI")
			}
		case m == inspect.EOI:
		case m == inspect.APP0:
			app0++
			if app0 > 1 {
				return bad("more than one APP0")
			}
			if s.AppID() != "JFIF" || len(p) < 14 || p[4] != 0 {
				return bad("only a plain JFIF APP0 is allowed")
			}
			if p[12] != 0 || p[13] != 0 {
				return bad("JFIF thumbnail %dx%d", p[12], p[13])
			}
			if len(p) != 14 {
				return bad("only a plain JFIF APP0 is allowed (%d extra bytes)", len(p)-14)
			}
		case m == inspect.DQT:
			if err := checkDQT(p); err != nil {
				return bad("%v", err)
			}
		case m == inspect.DHT:
			if err := checkDHT(p); err != nil {
				return bad("%v", err)
			}
		case m == inspect.DRI:
			if len(p) != 2 {
				return bad("length %d, want 4", s.Length)
			}
		case m == inspect.SOF0 || m == inspect.SOF1 || m == inspect.SOF2:
			sof++
			if sof > 1 {
				return bad("more than one frame header")
			}
			if j.Frame.Precision != 8 || len(j.Frame.Components) != 3 {
				return bad("%d-bit with %d components, want 8-bit with 3", j.Frame.Precision, len(j.Frame.Components))
			}
			if len(p) != 6+3*3 {
				return bad("length %d does not match 3 components", s.Length)
			}
		case m == inspect.SOS:
			if sof == 0 {
				return bad("scan before the frame header")
			}
			if len(p) < 1 || len(p) != 4+2*int(p[0]) || p[0] < 1 || p[0] > 3 {
				return bad("malformed scan header")
			}
		default:
			return bad("not allowed")
		}
	}
	if sof == 0 || j.Scans == 0 {
		return fmt.Errorf("not clean: no frame or no scan")
	}
	return nil
}

// checkDQT checks that a DQT payload is exactly a sequence of tables.
func checkDQT(p []byte) error {
	for len(p) > 0 {
		pq, tq := p[0]>>4, p[0]&15
		n := 65
		if pq == 1 {
			n = 129
		}
		if pq > 1 || tq > 3 || len(p) < n {
			return fmt.Errorf("malformed quantisation table")
		}
		p = p[n:]
	}
	return nil
}

// checkDHT checks that a DHT payload is exactly a sequence of tables.
func checkDHT(p []byte) error {
	for len(p) > 0 {
		if len(p) < 17 || p[0]>>4 > 1 || p[0]&15 > 3 {
			return fmt.Errorf("malformed Huffman table")
		}
		n := 0
		for _, c := range p[1:17] {
			n += int(c)
		}
		if n > 256 || len(p) < 17+n {
			return fmt.Errorf("malformed Huffman table")
		}
		p = p[17+n:]
	}
	return nil
}
