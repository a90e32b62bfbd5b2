package detect

import (
	"image"
	"image/color"
	"math"
	"testing"
)

func TestGate(t *testing.T) {
	ms := []Match{{ID: "anna"}, {ID: "bram"}, {Why: WhyNotDescribed}, {ID: "cas"}}
	Gate(ms, []float64{0.30, 0.05, 0, math.NaN()}, 0.1)
	if ms[0].ID != "anna" || ms[1].ID != "" || ms[1].Why != WhyBlurred || ms[2].Why != WhyNotDescribed || ms[3].Why != WhyBlurred {
		t.Errorf("%+v", ms)
	}
	ms = []Match{{ID: "anna"}}
	Gate(ms, []float64{0.01}, 0)
	if ms[0].ID != "anna" {
		t.Error("a gate of 0 gated a face")
	}
}

func TestSharpness(t *testing.T) {
	// A checkerboard face is sharp, a flat one has no detail, and a
	// smoothed checkerboard is in between.
	mk := func(f func(x, y int) uint8) *image.NRGBA {
		img := image.NewNRGBA(image.Rect(0, 0, 120, 120))
		for y := 0; y < 120; y++ {
			for x := 0; x < 120; x++ {
				v := f(x, y)
				img.SetNRGBA(x, y, color.NRGBA{v, v, v, 255})
			}
		}
		return img
	}
	box := image.Rect(10, 10, 110, 110)
	sharp := Sharpness(mk(func(x, y int) uint8 { return uint8(255 * ((x/3 + y/3) % 2)) }), box)
	soft := Sharpness(mk(func(x, y int) uint8 {
		return uint8(128 + 100*math.Sin(float64(x)/12)*math.Sin(float64(y)/12))
	}), box)
	flat := Sharpness(mk(func(x, y int) uint8 { return 90 }), box)
	if !(sharp > soft && soft > flat && flat == 0) {
		t.Errorf("sharp %.3f, soft %.3f, flat %.3f", sharp, soft, flat)
	}
	if v := Sharpness(mk(func(x, y int) uint8 { return 0 }), image.Rect(0, 0, 2, 2)); v != 0 {
		t.Errorf("a tiny box: %v", v)
	}
}
