package inspect_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/photoguard/photoguard/redact/fixture"
	"github.com/photoguard/photoguard/redact/inspect"
)

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

var (
	soi = []byte{0xFF, 0xD8}
	eoi = []byte{0xFF, 0xD9}
	// A scan header for one component, and a little entropy-coded data
	// containing a stuffed 0xFF00 and an RST marker.
	sosSeg  = fixture.Segment(inspect.SOS, []byte{1, 1, 0, 0, 63, 0})
	entropy = []byte{0x12, 0xFF, 0x00, 0x34, 0xFF, 0xD0, 0x56}
	sof0    = fixture.Segment(inspect.SOF0, []byte{8, 0, 16, 0, 32, 1, 1, 0x11, 0})
)

func TestParseJPEG(t *testing.T) {
	tests := []struct {
		name      string
		data      []byte
		truncated bool
		errSub    string // substring of the error, "" for none
		markers   string // segment names, space separated
		eoi       bool
		trailer   int
		extra     int
		restarts  int
	}{
		{name: "minimal", data: cat(soi, sof0, sosSeg, entropy, eoi),
			markers: "SOI SOF0 SOS EOI", eoi: true, restarts: 1},
		{name: "app segments", data: cat(soi, fixture.JFIF(0, 0), fixture.ExifSegment([]byte("MM\x00*\x00\x00\x00\x08")), fixture.CommentSegment("hi"), sof0, sosSeg, entropy, eoi),
			markers: "SOI APP0 APP1 COM SOF0 SOS EOI", eoi: true, restarts: 1},
		{name: "trailer", data: cat(soi, sof0, sosSeg, entropy, eoi, []byte("PK\x03\x04zip")),
			markers: "SOI SOF0 SOS EOI", eoi: true, trailer: 7, restarts: 1},
		{name: "fill bytes before markers", data: cat(soi, []byte{0xFF, 0xFF}, sof0, sosSeg, entropy, []byte{0xFF, 0xFF}, eoi),
			markers: "SOI SOF0 SOS EOI", eoi: true, restarts: 1},
		{name: "extraneous bytes", data: cat(soi, []byte{0, 1, 2}, sof0, sosSeg, entropy, eoi),
			markers: "SOI SOF0 SOS EOI", eoi: true, extra: 3, restarts: 1},
		{name: "two scans", data: cat(soi, sof0, sosSeg, entropy, sosSeg, entropy, eoi),
			markers: "SOI SOF0 SOS SOS EOI", eoi: true, restarts: 2},
		{name: "cut in entropy data", data: cat(soi, sof0, sosSeg, entropy),
			markers: "SOI SOF0 SOS", truncated: true, errSub: "no end-of-image marker", restarts: 1},
		{name: "cut after 0xFF in entropy data", data: cat(soi, sof0, sosSeg, entropy, []byte{0xFF}),
			markers: "SOI SOF0 SOS", truncated: true, errSub: "no end-of-image marker", restarts: 1},
		{name: "cut in segment", data: cat(soi, sof0[:6]),
			markers: "SOI", truncated: true, errSub: "runs past the end"},
		{name: "cut in segment header", data: cat(soi, sof0[:3]),
			markers: "SOI", truncated: true, errSub: "header cut off"},
		{name: "headers only", data: cat(soi, sof0),
			markers: "SOI SOF0", truncated: true, errSub: "no end-of-image marker"},
		{name: "no SOI", data: cat(sof0, eoi), errSub: "no start-of-image"},
		{name: "empty", data: nil, errSub: "no start-of-image"},
		{name: "second SOI", data: cat(soi, soi, eoi), markers: "SOI SOI", errSub: "second start-of-image"},
		{name: "bad length", data: cat(soi, []byte{0xFF, 0xFE, 0, 1}, eoi), markers: "SOI", errSub: "invalid length"},
		{name: "short frame header", data: cat(soi, fixture.Segment(inspect.SOF0, []byte{8, 0}), eoi), markers: "SOI SOF0", errSub: "frame header too short"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j, err := inspect.ParseJPEG(tt.data)
			switch {
			case tt.errSub == "" && err != nil:
				t.Fatalf("unexpected error %v", err)
			case tt.errSub != "" && (err == nil || !strings.Contains(err.Error(), tt.errSub)):
				t.Fatalf("error %v, want one containing %q", err, tt.errSub)
			}
			if got := inspect.IsTruncated(err); got != tt.truncated {
				t.Errorf("IsTruncated = %v, want %v (err %v)", got, tt.truncated, err)
			}
			var names []string
			restarts := 0
			for _, s := range j.Segments {
				names = append(names, s.Name())
				restarts += s.Restarts
			}
			if got := strings.Join(names, " "); got != tt.markers {
				t.Errorf("segments %q, want %q", got, tt.markers)
			}
			if (j.EOI >= 0) != tt.eoi || j.Trailer != tt.trailer || j.Extraneous != tt.extra || restarts != tt.restarts {
				t.Errorf("EOI %d trailer %d extraneous %d restarts %d, want eoi=%v %d %d %d",
					j.EOI, j.Trailer, j.Extraneous, restarts, tt.eoi, tt.trailer, tt.extra, tt.restarts)
			}
		})
	}
}

func TestParseJPEGFrameAndOffsets(t *testing.T) {
	data := cat(soi, fixture.CommentSegment("abc"), sof0, sosSeg, entropy, eoi)
	j, err := inspect.ParseJPEG(data)
	if err != nil {
		t.Fatal(err)
	}
	f := j.Frame
	if f == nil || f.Width != 32 || f.Height != 16 || f.Precision != 8 || len(f.Components) != 1 || f.Marker != inspect.SOF0 {
		t.Fatalf("frame %+v", f)
	}
	com := j.Segments[1]
	if com.Offset != 2 || com.Length != 5 || string(com.Payload) != "abc" || com.End() != 9 {
		t.Errorf("COM segment %+v", com)
	}
	sos := j.Segments[3]
	if sos.EntropyLen != len(entropy) || sos.End() != j.EOI {
		t.Errorf("SOS entropy length %d end %d, EOI %d", sos.EntropyLen, sos.End(), j.EOI)
	}
}

func TestAppID(t *testing.T) {
	for _, tt := range []struct {
		seg  []byte
		want string
	}{
		{fixture.JFIF(0, 0), "JFIF"},
		{fixture.ExifSegment([]byte("MM")), "Exif"},
		{fixture.XMPSegment([]byte("<x/>")), "http://ns.adobe.com/xap/1.0/"},
		{fixture.ICCSegment([]byte("p")), "ICC_PROFILE"},
		{fixture.IPTCSegment("k", "b"), "Photoshop 3.0"},
		{fixture.AdobeSegment(1), "Adobe"},
		{fixture.CommentSegment("Adobe"), ""}, // not an APPn
	} {
		j, _ := inspect.ParseJPEG(cat(soi, tt.seg, eoi))
		if got := j.Segments[1].AppID(); got != tt.want {
			t.Errorf("%s: AppID %q, want %q", j.Segments[1].Name(), got, tt.want)
		}
	}
}

func TestMarkerName(t *testing.T) {
	for m, want := range map[byte]string{0xC0: "SOF0", 0xC2: "SOF2", 0xC4: "DHT", 0xCC: "DAC", 0xD3: "RST3",
		0xE1: "APP1", 0xED: "APP13", 0xFE: "COM", 0xDB: "DQT", 0xF5: "0xF5", 0xCF: "SOF15"} {
		if got := inspect.MarkerName(m); got != want {
			t.Errorf("MarkerName(%#x) = %q, want %q", m, got, want)
		}
	}
}

func TestErrorIs(t *testing.T) {
	_, err := inspect.ParseJPEG(cat(soi, sof0))
	if !errors.Is(err, inspect.ErrTruncated) {
		t.Fatalf("errors.Is(%v, ErrTruncated) = false", err)
	}
	var pe *inspect.Error
	if !errors.As(err, &pe) || pe.Format != "JPEG" {
		t.Fatalf("not an *inspect.Error: %#v", err)
	}
}

// Real encoders' output walks cleanly and the fixture's truncation is seen.
func TestParseJPEGFixtures(t *testing.T) {
	for _, c := range append(fixture.Dirty(), fixture.Orientations()...) {
		if !bytes.HasPrefix(c.Data, soi) {
			continue
		}
		j, err := inspect.ParseJPEG(c.Data)
		if err != nil || j.Frame == nil || j.Scans == 0 || j.EOI < 0 {
			t.Errorf("%s: err %v frame %v scans %d EOI %d", c.Name, err, j.Frame, j.Scans, j.EOI)
		}
	}
	for _, c := range fixture.Bad() {
		if c.Name == "truncated.jpg" {
			if _, err := inspect.ParseJPEG(c.Data); !inspect.IsTruncated(err) {
				t.Errorf("%s: err %v, want truncation", c.Name, err)
			}
		}
	}
}
