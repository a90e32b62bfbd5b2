package inspect

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
)

// PNGSignature is the 8-byte signature every PNG file starts with.
const PNGSignature = "\x89PNG\r\n\x1a\n"

// MaxPNGChunks bounds the number of chunks other than IDAT that ParsePNG
// records.
const MaxPNGChunks = 4096

// Chunk is one PNG chunk other than IDAT.
type Chunk struct {
	Type   string
	Offset int    // offset of the chunk's length field
	Data   []byte // sub-slice of the input
}

// PNG is the structure of a PNG file as far as it could be walked.
type PNG struct {
	Width, Height       int
	BitDepth, ColorType byte
	Interlace           byte
	Chunks              []Chunk // every chunk except IDAT, in file order
	IDATs               int     // number of IDAT chunks
	IDATBytes           int64   // their total data length
	IEND                int     // offset of IEND, -1 if missing
	Trailer             int     // bytes after IEND
}

// Chunk returns the first chunk of the type.
func (p *PNG) Chunk(typ string) (Chunk, bool) {
	for _, c := range p.Chunks {
		if c.Type == typ {
			return c, true
		}
	}
	return Chunk{}, false
}

// ParsePNG walks a PNG file chunk by chunk up to IEND, checking every CRC and
// the IHDR fields. It returns what it walked even when it also returns an
// error (an *Error; errors.Is(err, ErrTruncated) when the data ends before
// IEND).
func ParsePNG(data []byte) (*PNG, error) {
	const f = "PNG"
	p := &PNG{IEND: -1}
	if len(data) < 8 || string(data[:8]) != PNGSignature {
		return p, errorf(f, 0, "no PNG signature")
	}
	pos := 8
	for {
		if pos == len(data) {
			return p, truncatedf(f, pos, "no IEND chunk")
		}
		if pos+8 > len(data) {
			return p, truncatedf(f, pos, "chunk header cut off")
		}
		n := binary.BigEndian.Uint32(data[pos:])
		typ := data[pos+4 : pos+8]
		if n > 1<<31-1 {
			return p, errorf(f, pos, "chunk length %d too large", n)
		}
		if !validChunkType(typ) {
			return p, errorf(f, pos, "invalid chunk type %q", typ)
		}
		end := pos + 8 + int(n) + 4
		if end > len(data) || end < pos {
			return p, truncatedf(f, pos, "%s chunk runs past the end of the file", typ)
		}
		body := data[pos+8 : pos+8+int(n)]
		if crc32.Update(crc32.ChecksumIEEE(typ), crc32.IEEETable, body) != binary.BigEndian.Uint32(data[end-4:]) {
			return p, errorf(f, pos, "%s chunk has a bad CRC", typ)
		}
		t := string(typ)
		if pos == 8 {
			if t != "IHDR" {
				return p, errorf(f, pos, "first chunk is %s, not IHDR", t)
			}
			if err := p.parseIHDR(body); err != nil {
				err.Offset = pos
				return p, err
			}
		} else if t == "IHDR" {
			return p, errorf(f, pos, "second IHDR chunk")
		}
		switch t {
		case "IDAT":
			p.IDATs++
			p.IDATBytes += int64(n)
		default:
			if len(p.Chunks) >= MaxPNGChunks {
				return p, errorf(f, pos, "more than %d chunks", MaxPNGChunks)
			}
			p.Chunks = append(p.Chunks, Chunk{Type: t, Offset: pos, Data: body})
		}
		if t == "IEND" {
			p.IEND = pos
			p.Trailer = len(data) - end
			return p, nil
		}
		pos = end
	}
}

func validChunkType(t []byte) bool {
	for _, c := range t {
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z') {
			return false
		}
	}
	return true
}

func (p *PNG) parseIHDR(b []byte) *Error {
	const f = "PNG"
	if len(b) != 13 {
		return errorf(f, 0, "IHDR chunk has %d bytes, not 13", len(b))
	}
	w, h := binary.BigEndian.Uint32(b), binary.BigEndian.Uint32(b[4:])
	if w == 0 || h == 0 || w > 1<<31-1 || h > 1<<31-1 {
		return errorf(f, 0, "invalid image size %dx%d", w, h)
	}
	p.Width, p.Height = int(w), int(h)
	p.BitDepth, p.ColorType, p.Interlace = b[8], b[9], b[12]
	ok := false
	switch p.ColorType {
	case 0:
		ok = bytes.IndexByte([]byte{1, 2, 4, 8, 16}, p.BitDepth) >= 0
	case 3:
		ok = bytes.IndexByte([]byte{1, 2, 4, 8}, p.BitDepth) >= 0
	case 2, 4, 6:
		ok = p.BitDepth == 8 || p.BitDepth == 16
	}
	if !ok {
		return errorf(f, 0, "invalid colour type %d with bit depth %d", p.ColorType, p.BitDepth)
	}
	if b[10] != 0 || b[11] != 0 || p.Interlace > 1 {
		return errorf(f, 0, "unknown compression, filter or interlace method")
	}
	return nil
}
