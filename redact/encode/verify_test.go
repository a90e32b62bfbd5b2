package encode_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/photoguard/photoguard/redact/encode"
	"github.com/photoguard/photoguard/redact/fixture"
	"github.com/photoguard/photoguard/redact/inspect"
)

// cleanParts returns the segments of a clean encoder output, split so that
// a test can insert, replace or drop one.
func cleanParts(t *testing.T) (head, body []byte) {
	t.Helper()
	out, err := encode.JPEG(fixture.Pattern(32, 24), 80)
	if err != nil {
		t.Fatal(err)
	}
	j, err := inspect.ParseJPEG(out)
	if err != nil {
		t.Fatal(err)
	}
	// head: SOI + APP0; body: everything from the first segment after APP0.
	app0 := j.Segments[1]
	if app0.Marker != inspect.APP0 {
		t.Fatalf("second segment is %s, not APP0", app0.Name())
	}
	return out[:app0.End()], out[app0.End():]
}

func TestVerifyClean(t *testing.T) {
	head, body := cleanParts(t)
	soiOnly := head[:2]
	withBefore := func(seg []byte) []byte { return cat(head, seg, body) }
	eoiAt := len(body) - 2
	// The SOF0 segment of the clean file, for variants.
	j, _ := inspect.ParseJPEG(cat(head, body))
	var sof inspect.Segment
	for _, s := range j.Segments {
		if s.Marker == inspect.SOF0 {
			sof = s
		}
	}
	all := cat(head, body)
	sofBytes := all[sof.Offset:sof.End()]
	sofAt := func(marker byte, payload []byte) []byte {
		return cat(all[:sof.Offset], fixture.Segment(marker, payload), all[sof.End():])
	}

	tests := []struct {
		name string
		data []byte
		want string // substring of the error; "" = clean
	}{
		{"encoder output", cat(head, body), ""},
		{"no APP0 at all", cat(soiOnly, body), ""},
		{"DRI", withBefore(fixture.Segment(inspect.DRI, []byte{0, 0})), ""},
		{"APP1 Exif", withBefore(fixture.ExifSegment(fixture.Exif(fixture.ExifOptions{GPS: true}))), `APP1 "Exif" segment at offset 20: not allowed`},
		{"APP1 XMP", withBefore(fixture.XMPSegment(fixture.XMP(32, 24))), `APP1 "http://ns.adobe.com/xap/1.0/"`},
		{"APP2 ICC", withBefore(fixture.ICCSegment(fixture.SRGBProfile())), `APP2 "ICC_PROFILE"`},
		{"APP2 MPF", withBefore(fixture.Segment(0xE2, []byte("MPF\x00"))), `APP2 "MPF"`},
		{"APP13 IPTC", withBefore(fixture.IPTCSegment("k", "b")), `APP13 "Photoshop 3.0"`},
		{"APP14 Adobe", withBefore(fixture.AdobeSegment(1)), `APP14 "Adobe"`},
		{"APP15", withBefore(fixture.Segment(0xEF, []byte("x"))), "APP15"},
		{"COM", withBefore(fixture.CommentSegment("hello")), "COM segment at offset 20"},
		{"second APP0", withBefore(fixture.JFIF(0, 0)), "more than one APP0"},
		{"JFIF thumbnail", cat(soiOnly, fixture.JFIF(2, 1), body), "JFIF thumbnail 2x1"},
		{"JFXX APP0", cat(soiOnly, fixture.Segment(0xE0, []byte("JFXX\x00\x10")), body), "only a plain JFIF APP0"},
		{"JFIF with extra bytes", cat(soiOnly, fixture.Segment(0xE0, append(fixture.JFIF(0, 0)[4:], 'x')), body), "only a plain JFIF APP0"},
		{"trailer after EOI", cat(head, body, []byte("PK\x03\x04")), "4 bytes after EOI"},
		{"one zero byte after EOI", cat(head, body, []byte{0}), "1 bytes after EOI"},
		{"no EOI", cat(head, body[:eoiAt]), "no end-of-image marker"},
		{"bytes between segments", cat(head, []byte{0x00}, body), "1 bytes between segments"},
		{"DNL", withBefore(fixture.Segment(inspect.DNL, []byte{0, 8})), "DNL"},
		{"DAC (arithmetic coding)", withBefore(fixture.Segment(inspect.DAC, []byte{0, 0})), "DAC"},
		{"SOF3 lossless", sofAt(inspect.SOF3, sofBytes[4:]), "SOF3"},
		{"SOF9 arithmetic", sofAt(0xC9, sofBytes[4:]), "SOF9"},
		{"grayscale frame", sofAt(inspect.SOF0, []byte{8, 0, 24, 0, 32, 1, 1, 0x11, 0}), "want 8-bit with 3"},
		{"12-bit frame", sofAt(inspect.SOF1, append([]byte{12}, sofBytes[5:]...)), "12-bit"},
		{"second SOF", withBefore(sofBytes), "more than one frame header"},
		{"DQT with a hidden tail", withBefore(fixture.Segment(inspect.DQT, append(append([]byte{0}, make([]byte, 64)...), "Jan"...))), "malformed quantisation table"},
		{"DHT with a hidden tail", withBefore(fixture.Segment(inspect.DHT, append(make([]byte, 17), "Jan"...))), "malformed Huffman table"},
		{"DRI with a hidden tail", withBefore(fixture.Segment(inspect.DRI, []byte{0, 0, 'J'})), "length 5"},
		{"not a JPEG", []byte("GIF89a"), "no start-of-image"},
		{"empty", nil, "no start-of-image"},
		{"standalone TEM", withBefore([]byte{0xFF, 0x01}), "TEM"},
		{"RST outside entropy data", withBefore([]byte{0xFF, 0xD0}), "RST0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := encode.VerifyClean(tt.data)
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("rejected: %v", err)
			case tt.want != "" && err == nil:
				t.Fatal("accepted")
			case tt.want != "" && !strings.Contains(err.Error(), tt.want):
				t.Fatalf("error %q, want it to contain %q", err, tt.want)
			}
		})
	}
}

// Every dirty fixture and every real-encoder JPEG with metadata is
// rejected; so is the clean output with any byte appended.
func TestVerifyCleanRejectsFixtures(t *testing.T) {
	for _, c := range append(fixture.Dirty(), fixture.Orientations()...) {
		if bytes.HasPrefix(c.Data, []byte{0xFF, 0xD8}) && len(c.Carries) > 0 {
			if err := encode.VerifyClean(c.Data); err == nil {
				t.Errorf("%s accepted", c.Name)
			}
		}
	}
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
