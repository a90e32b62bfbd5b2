package pix

import (
	"image"
	"testing"
)

func TestFlatten(t *testing.T) {
	// NRGBA with a non-zero origin and half alpha.
	src := image.NewNRGBA(image.Rect(10, 10, 12, 11))
	copy(src.Pix, []uint8{0, 0, 0, 128, 255, 0, 0, 255})
	out := Flatten(src)
	if out.Rect != image.Rect(0, 0, 2, 1) {
		t.Fatalf("bounds %v", out.Rect)
	}
	if want := []uint8{127, 127, 127, 255, 255, 0, 0, 255}; string(out.Pix) != string(want) {
		t.Errorf("pixels %v, want %v", out.Pix, want)
	}
	// Premultiplied RGBA: half-transparent black on white is mid grey.
	rgba := image.NewRGBA(image.Rect(0, 0, 1, 1))
	copy(rgba.Pix, []uint8{0, 0, 0, 128})
	if p := Flatten(rgba).Pix; p[0] != 127 || p[3] != 255 {
		t.Errorf("RGBA: %v", p)
	}
	// Anything else, via the generic path.
	ycc := image.NewYCbCr(image.Rect(0, 0, 2, 2), image.YCbCrSubsampleRatio420)
	for i := range ycc.Y {
		ycc.Y[i] = 200
	}
	for i := range ycc.Cb {
		ycc.Cb[i], ycc.Cr[i] = 128, 128
	}
	if p := Flatten(ycc).Pix; p[0] != 200 || p[1] != 200 || p[3] != 255 {
		t.Errorf("YCbCr: %v", p[:4])
	}
}
