package decode

import (
	"bytes"
	"encoding/binary"
	"unicode/utf8"

	"github.com/photoguard/photoguard/redact/inspect"
)

// Format is a supported input format.
type Format string

// Supported formats.
const (
	JPEG Format = "jpeg"
	PNG  Format = "png"
	HEIC Format = "heic"
)

// SniffLen is how many bytes of the head Sniff looks at; give it at least
// this many when the file is that long.
const SniffLen = 64

// Sniff identifies the format from the magic bytes at the start of the file,
// never from its name: a ".jpg" that is a ZIP archive is a ZIP archive. For
// anything other than JPEG, PNG or HEIC/HEIF it returns an *InputError naming
// what the file is ("not a photo: a ZIP archive", "unsupported image format:
// GIF").
func Sniff(head []byte) (Format, error) {
	h := head
	has := func(off int, s string) bool {
		return len(h) >= off+len(s) && string(h[off:off+len(s)]) == s
	}
	switch {
	case len(h) == 0:
		return "", inputErrorf(nil, "empty file")
	case has(0, "\xFF\xD8\xFF"):
		return JPEG, nil
	case has(0, inspect.PNGSignature):
		return PNG, nil
	case has(4, "ftyp"):
		return sniffISOBMFF(h)
	case has(0, "GIF87a"), has(0, "GIF89a"):
		return "", unsupported("GIF")
	case has(0, "RIFF") && has(8, "WEBP"):
		return "", unsupported("WebP")
	case has(0, "RIFF") && has(8, "AVI "):
		return "", notPhoto("an AVI video")
	case has(0, "RIFF") && has(8, "WAVE"):
		return "", notPhoto("a WAV audio file")
	case has(0, "II*\x00"), has(0, "MM\x00*"):
		return "", unsupported("TIFF or camera raw")
	case has(0, "BM") && len(h) >= 18 && isBMPHeader(binary.LittleEndian.Uint32(h[14:])):
		return "", unsupported("BMP")
	case has(0, "8BPS"):
		return "", unsupported("Photoshop document (PSD)")
	case has(0, "\xFF\x0A"), has(0, "\x00\x00\x00\x0CJXL \r\n\x87\n"):
		return "", unsupported("JPEG XL")
	case has(0, "\x00\x00\x00\x0CjP  \r\n\x87\n"), has(0, "\xFF\x4F\xFF\x51"):
		return "", unsupported("JPEG 2000")
	case has(0, "\x00\x00\x01\x00") && len(h) >= 6 && h[4] != 0:
		return "", unsupported("Windows icon (ICO)")
	case has(0, "PK\x03\x04"), has(0, "PK\x05\x06"), has(0, "PK\x07\x08"):
		return "", notPhoto("a ZIP archive")
	case has(0, "%PDF-"):
		return "", notPhoto("a PDF document")
	case has(0, "\x1F\x8B"), has(0, "7z\xBC\xAF\x27\x1C"), has(0, "Rar!\x1A\x07"), has(0, "BZh"), has(0, "\xFD7zXZ\x00"):
		return "", notPhoto("a compressed archive")
	case has(0, "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1"):
		return "", notPhoto("an old Microsoft Office document")
	case has(0, "\x7FELF"), has(0, "MZ"):
		return "", notPhoto("a program")
	case has(4, "moov"), has(4, "mdat"), has(4, "wide"), has(4, "free") && len(h) >= 8:
		return "", notPhoto("a QuickTime (MOV) video")
	case has(0, "\x1A\x45\xDF\xA3"):
		return "", notPhoto("a Matroska/WebM video")
	case isText(h):
		return "", notPhoto("a text file")
	}
	return "", notPhoto("unknown file type")
}

func unsupported(what string) error {
	return inputErrorf(nil, "unsupported image format: %s (only JPEG, PNG and HEIC photos are accepted)", what)
}

func notPhoto(what string) error { return inputErrorf(nil, "not a photo: %s", what) }

func isBMPHeader(n uint32) bool {
	switch n {
	case 12, 40, 52, 56, 64, 108, 124:
		return true
	}
	return false
}

// sniffISOBMFF classifies an ISO base media file by its ftyp brands.
func sniffISOBMFF(h []byte) (Format, error) {
	if len(h) < 12 {
		return "", notPhoto("unknown file type")
	}
	major := string(h[8:12])
	var compat []string
	if size := int(binary.BigEndian.Uint32(h)); size >= 16 {
		for i := 16; i+4 <= size && i+4 <= len(h); i += 4 {
			compat = append(compat, string(h[i:i+4]))
		}
	}
	has := func(b ...string) bool {
		for _, x := range append([]string{major}, compat...) {
			for _, y := range b {
				if x == y {
					return true
				}
			}
		}
		return false
	}
	switch {
	case major == "avif" || major == "avis":
		return "", unsupported("AVIF")
	case major == "heic" || major == "heix" || major == "heim" || major == "heis" ||
		major == "hevc" || major == "hevx" || major == "hevm" || major == "hevs":
		return HEIC, nil
	case major == "mif1" || major == "msf1":
		// Generic HEIF: what the compatible brands say decides.
		if has("avif", "avis") && !has("heic", "heix", "heim", "heis", "hevc", "hevx") {
			return "", unsupported("AVIF")
		}
		return HEIC, nil
	case major == "crx ":
		return "", unsupported("Canon CR3 raw")
	case major == "qt  ":
		return "", notPhoto("a QuickTime (MOV) video")
	case major == "M4A " || major == "M4B ":
		return "", notPhoto("an MP4 audio file")
	case major == "jp2 " || major == "jpx ":
		return "", unsupported("JPEG 2000")
	case major == "jxl ":
		return "", unsupported("JPEG XL")
	case bytes.HasPrefix(h[8:12], []byte("3g")):
		return "", notPhoto("a 3GP video")
	}
	return "", notPhoto("an MP4 video")
}

// isText reports whether the head looks like text: valid UTF-8 (allowing a
// rune cut off at the end) without control characters other than white
// space.
func isText(h []byte) bool {
	for len(h) > 0 {
		r, n := utf8.DecodeRune(h)
		if r == utf8.RuneError && n <= 1 {
			return !utf8.FullRune(h) // a rune cut off at the end of the head
		}
		if r < 0x20 && r != '\t' && r != '\n' && r != '\r' && r != '\f' || r == 0x7F {
			return false
		}
		h = h[n:]
	}
	return true
}
