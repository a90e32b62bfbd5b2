package inspect_test

import (
	"strings"
	"testing"

	"github.com/photoguard/photoguard/redact/fixture"
	"github.com/photoguard/photoguard/redact/inspect"
)

func ihdr(w, h uint32, depth, ctype, interlace byte) []byte {
	b := []byte{byte(w >> 24), byte(w >> 16), byte(w >> 8), byte(w), byte(h >> 24), byte(h >> 16), byte(h >> 8), byte(h)}
	return fixture.Chunk("IHDR", append(b, depth, ctype, 0, 0, interlace))
}

func TestParsePNG(t *testing.T) {
	sig := []byte(inspect.PNGSignature)
	idat := fixture.Chunk("IDAT", []byte{1, 2, 3})
	iend := fixture.Chunk("IEND", nil)
	badCRC := append([]byte(nil), idat...)
	badCRC[len(badCRC)-1] ^= 1
	tests := []struct {
		name      string
		data      []byte
		errSub    string
		truncated bool
		chunks    string
		idats     int
		trailer   int
	}{
		{name: "minimal", data: cat(sig, ihdr(4, 3, 8, 2, 0), idat, iend), chunks: "IHDR IEND", idats: 1},
		{name: "text chunks", data: cat(sig, ihdr(4, 3, 8, 6, 1), fixture.TextChunk("Author", "x"), fixture.TimeChunk(), idat, idat, iend),
			chunks: "IHDR tEXt tIME IEND", idats: 2},
		{name: "trailer", data: cat(sig, ihdr(4, 3, 8, 2, 0), idat, iend, []byte("junk")), chunks: "IHDR IEND", idats: 1, trailer: 4},
		{name: "no IEND", data: cat(sig, ihdr(4, 3, 8, 2, 0), idat), chunks: "IHDR", idats: 1, truncated: true, errSub: "no IEND"},
		{name: "cut in chunk", data: cat(sig, ihdr(4, 3, 8, 2, 0), idat[:10]), chunks: "IHDR", truncated: true, errSub: "runs past the end"},
		{name: "cut in chunk header", data: cat(sig, ihdr(4, 3, 8, 2, 0), idat[:5]), chunks: "IHDR", truncated: true, errSub: "header cut off"},
		{name: "bad CRC", data: cat(sig, ihdr(4, 3, 8, 2, 0), badCRC, iend), chunks: "IHDR", errSub: "bad CRC"},
		{name: "no signature", data: []byte("GIF89a"), errSub: "no PNG signature"},
		{name: "IHDR not first", data: cat(sig, idat, iend), errSub: "not IHDR"},
		{name: "zero width", data: cat(sig, ihdr(0, 3, 8, 2, 0), iend), errSub: "invalid image size"},
		{name: "bad depth", data: cat(sig, ihdr(4, 3, 3, 2, 0), iend), errSub: "invalid colour type"},
		{name: "bad interlace", data: cat(sig, ihdr(4, 3, 8, 2, 2), iend), errSub: "interlace"},
		{name: "second IHDR", data: cat(sig, ihdr(4, 3, 8, 2, 0), ihdr(4, 3, 8, 2, 0), iend), chunks: "IHDR", errSub: "second IHDR"},
		{name: "bad chunk type", data: cat(sig, ihdr(4, 3, 8, 2, 0), fixture.Chunk("ID@T", nil), iend), chunks: "IHDR", errSub: "invalid chunk type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := inspect.ParsePNG(tt.data)
			switch {
			case tt.errSub == "" && err != nil:
				t.Fatalf("unexpected error %v", err)
			case tt.errSub != "" && (err == nil || !strings.Contains(err.Error(), tt.errSub)):
				t.Fatalf("error %v, want one containing %q", err, tt.errSub)
			}
			if inspect.IsTruncated(err) != tt.truncated {
				t.Errorf("IsTruncated(%v) != %v", err, tt.truncated)
			}
			var names []string
			for _, c := range p.Chunks {
				names = append(names, c.Type)
			}
			if got := strings.Join(names, " "); got != tt.chunks || p.IDATs != tt.idats || p.Trailer != tt.trailer {
				t.Errorf("chunks %q IDATs %d trailer %d, want %q %d %d", got, p.IDATs, p.Trailer, tt.chunks, tt.idats, tt.trailer)
			}
		})
	}
}

func TestParsePNGHeader(t *testing.T) {
	p, err := inspect.ParsePNG(fixture.HeaderBombPNG(64250, 64250))
	if err != nil {
		t.Fatal(err)
	}
	if p.Width != 64250 || p.Height != 64250 || p.BitDepth != 8 || p.ColorType != 2 {
		t.Errorf("header %+v", p)
	}
}
