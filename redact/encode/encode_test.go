package encode_test

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"testing"

	"github.com/photoguard/photoguard/redact/encode"
	"github.com/photoguard/photoguard/redact/fixture"
	"github.com/photoguard/photoguard/redact/inspect"
)

func TestEncodeJPEG(t *testing.T) {
	pat := fixture.Pattern(161, 121) // odd sizes: partial MCUs
	out, err := encode.JPEG(pat, 85)
	if err != nil {
		t.Fatal(err)
	}
	j, err := inspect.ParseJPEG(out)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range j.Segments {
		if s.Marker != inspect.DQT && s.Marker != inspect.DHT {
			names = append(names, s.Name())
		}
	}
	if got := string(bytes.Join(toBytes(names), []byte(" "))); got != "SOI APP0 SOF0 SOS EOI" {
		t.Errorf("segments (without tables) %q", got)
	}
	if f := j.Frame; f.Width != 161 || f.Height != 121 || f.Subsampling() != "4:2:0" || f.Precision != 8 {
		t.Errorf("frame %dx%d %s %d-bit", f.Width, f.Height, f.Subsampling(), f.Precision)
	}
	// The standard library decodes it to the same picture.
	img, err := jpeg.Decode(bytes.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	if err := fixture.CheckUpright(img, false, 12); err != nil {
		t.Error(err)
	}
}

func toBytes(ss []string) [][]byte {
	var out [][]byte
	for _, s := range ss {
		out = append(out, []byte(s))
	}
	return out
}

func TestEncodeJPEGInputs(t *testing.T) {
	pat := fixture.Pattern(64, 48)
	// A sub-image (non-zero origin, stride wider than the image).
	sub := fixture.Pattern(200, 150).SubImage(image.Rect(10, 10, 74, 58))
	// Premultiplied RGBA and a transparent NRGBA (composited on white).
	rgba := image.NewRGBA(pat.Rect)
	for y := 0; y < 48; y++ {
		for x := 0; x < 64; x++ {
			rgba.Set(x, y, pat.At(x, y))
		}
	}
	clear := image.NewNRGBA(image.Rect(0, 0, 16, 16))
	gray := image.NewGray(image.Rect(0, 0, 16, 16))
	for i := range gray.Pix {
		gray.Pix[i] = 77
	}
	for name, tt := range map[string]struct {
		img  image.Image
		want color.NRGBA // mean colour of the middle, or zero to skip
	}{
		"nrgba":       {pat, color.NRGBA{}},
		"sub-image":   {sub, color.NRGBA{}},
		"rgba":        {rgba, color.NRGBA{}},
		"transparent": {clear, color.NRGBA{255, 255, 255, 255}},
		"gray":        {gray, color.NRGBA{77, 77, 77, 255}},
	} {
		out, err := encode.JPEG(tt.img, 90)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if err := encode.VerifyClean(out); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		dec, err := jpeg.Decode(bytes.NewReader(out))
		if err != nil {
			t.Fatal(err)
		}
		if dec.Bounds().Size() != tt.img.Bounds().Size() {
			t.Errorf("%s: size %v", name, dec.Bounds().Size())
		}
		if tt.want.A != 0 {
			if got := fixture.Mean(dec, image.Rect(4, 4, 12, 12)); !fixture.Near(got, tt.want, 2) {
				t.Errorf("%s: colour %v, want %v", name, got, tt.want)
			}
		}
	}
	for _, q := range []int{0, 101, -5} {
		if _, err := encode.JPEG(pat, q); err == nil {
			t.Errorf("quality %d accepted", q)
		}
	}
	if _, err := encode.JPEG(image.NewNRGBA(image.Rect(0, 0, 0, 5)), 80); err == nil {
		t.Error("empty image accepted")
	}
	if _, err := encode.JPEG(nil, 80); err == nil {
		t.Error("nil image accepted")
	}
}
