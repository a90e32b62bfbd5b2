package decode_test

import (
	"encoding/binary"
	"strings"
	"testing"

	"github.com/photoguard/photoguard/redact/decode"
	"github.com/photoguard/photoguard/redact/fixture"
)

func ftyp(major string, compat ...string) []byte {
	body := append([]byte(major), 0, 0, 0, 0)
	for _, c := range compat {
		body = append(body, c...)
	}
	b := binary.BigEndian.AppendUint32(nil, uint32(8+len(body)))
	return append(append(b, "ftyp"...), body...)
}

func TestSniff(t *testing.T) {
	tests := []struct {
		name string
		head []byte
		want decode.Format
		why  string // substring of the InputError reason when want == ""
	}{
		{"jpeg", []byte("\xFF\xD8\xFF\xE0\x00\x10JFIF"), decode.JPEG, ""},
		{"jpeg without APP0", []byte("\xFF\xD8\xFF\xDB"), decode.JPEG, ""},
		{"png", fixture.EncodePNG(fixture.Pattern(4, 4))[:16], decode.PNG, ""},
		{"heic", ftyp("heic", "mif1", "heic"), decode.HEIC, ""},
		{"heix", ftyp("heix", "mif1"), decode.HEIC, ""},
		{"heim", ftyp("heim"), decode.HEIC, ""},
		{"heis", ftyp("heis"), decode.HEIC, ""},
		{"hevc", ftyp("hevc"), decode.HEIC, ""},
		{"hevx", ftyp("hevx"), decode.HEIC, ""},
		{"mif1 with heic", ftyp("mif1", "heic"), decode.HEIC, ""},
		{"msf1", ftyp("msf1", "hevc"), decode.HEIC, ""},
		{"mif1 alone", ftyp("mif1"), decode.HEIC, ""},
		{"avif", ftyp("avif", "mif1"), "", "unsupported image format: AVIF"},
		{"mif1 with avif", ftyp("mif1", "avif", "miaf"), "", "AVIF"},
		{"mp4", ftyp("isom", "iso2", "avc1", "mp41"), "", "not a photo: an MP4 video"},
		{"mp42", ftyp("mp42"), "", "not a photo: an MP4 video"},
		{"mov", ftyp("qt  "), "", "not a photo: a QuickTime (MOV) video"},
		{"mov without ftyp", []byte("\x00\x00\x00\x08wide\x00\x00\x00\x00mdat"), "", "QuickTime (MOV) video"},
		{"3gp", ftyp("3gp5"), "", "3GP video"},
		{"cr3", ftyp("crx "), "", "Canon CR3"},
		{"empty", nil, "", "empty file"},
		{"gif", []byte("GIF89a\x01\x00"), "", "unsupported image format: GIF"},
		{"webp", []byte("RIFF\x00\x00\x00\x00WEBPVP8 "), "", "unsupported image format: WebP"},
		{"avi", []byte("RIFF\x00\x00\x00\x00AVI LIST"), "", "AVI video"},
		{"tiff le", []byte("II*\x00\x08\x00\x00\x00"), "", "TIFF"},
		{"tiff be", []byte("MM\x00*\x00\x00\x00\x08"), "", "TIFF"},
		{"bmp", append([]byte("BM\x00\x00\x00\x00\x00\x00\x00\x00\x36\x00\x00\x00"), 40, 0, 0, 0), "", "unsupported image format: BMP"},
		{"zip", fixture.Zip()[:30], "", "not a photo: a ZIP archive"},
		{"pdf", []byte("%PDF-1.7\n"), "", "not a photo: a PDF document"},
		{"psd", []byte("8BPS\x00\x01"), "", "Photoshop"},
		{"jpeg xl", []byte("\xFF\x0A\xFA"), "", "JPEG XL"},
		{"jpeg 2000", []byte("\x00\x00\x00\x0CjP  \r\n\x87\n"), "", "JPEG 2000"},
		{"gzip", []byte("\x1F\x8B\x08\x00"), "", "compressed archive"},
		{"exe", []byte("MZ\x90\x00"), "", "a program"},
		{"text", []byte("Groep 5, schoolreis naar Artis\r\n"), "", "not a photo: a text file"},
		{"utf-8 text cut in a rune", []byte("caf\xC3"), "", "a text file"},
		{"html", []byte("<!DOCTYPE html><html>"), "", "a text file"},
		{"binary junk", []byte{0x00, 0x01, 0x02, 0x03, 0x04}, "", "unknown file type"},
		{"jpeg SOI only", []byte("\xFF\xD8"), "", "unknown file type"},
		{"ftyp too short", []byte("\x00\x00\x00\x0Cftyp"), "", "unknown file type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := decode.Sniff(tt.head)
			if got != tt.want {
				t.Errorf("format %q, want %q (err %v)", got, tt.want, err)
			}
			if tt.want != "" {
				if err != nil {
					t.Errorf("err %v", err)
				}
				return
			}
			if !decode.IsInputError(err) || !strings.Contains(err.Error(), tt.why) {
				t.Errorf("err %v, want an InputError containing %q", err, tt.why)
			}
		})
	}
}
