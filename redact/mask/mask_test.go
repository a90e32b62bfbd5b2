package mask

import (
	"image"
	"image/color"
	"math"
	"math/rand"
	"testing"
)

func noisy(w, h int, seed int64) *image.NRGBA {
	rng := rand.New(rand.NewSource(seed))
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = uint8(rng.Intn(256))
	}
	for i := 3; i < len(img.Pix); i += 4 {
		img.Pix[i] = 255
	}
	return img
}

func TestRegion(t *testing.T) {
	b := image.Rect(0, 0, 100, 100)
	if got := Region(image.Rect(40, 40, 60, 60), 1.3, b); got != image.Rect(37, 37, 63, 63) {
		t.Errorf("scaled region %v", got)
	}
	if got := Region(image.Rect(-10, 90, 20, 120), 1.3, b); !got.In(b) || got.Empty() {
		t.Errorf("clipped region %v", got)
	}
	if got := Region(image.Rect(200, 200, 220, 220), 1.3, b); !got.Empty() {
		t.Errorf("region outside the image: %v", got)
	}
}

func TestRedactModes(t *testing.T) {
	img := noisy(200, 160, 1)
	face := image.Rect(60, 40, 120, 110)
	for _, mode := range []Mode{Blur, Pixelate, Fill} {
		for _, shape := range []Shape{Ellipse, Box} {
			o := Options{Mode: mode, Shape: shape, MaskScale: 1.3}
			if err := o.Validate(); err != nil {
				t.Fatal(err)
			}
			out := Redact(img, []image.Rectangle{face}, o)
			region := Region(face, 1.3, img.Bounds())
			// Outside the region: identical pixels.
			for y := 0; y < 160; y++ {
				for x := 0; x < 200; x++ {
					if image.Pt(x, y).In(region) {
						continue
					}
					if img.NRGBAAt(x, y) != out.NRGBAAt(x, y) {
						t.Fatalf("%s/%s: pixel (%d,%d) outside the region changed", mode, shape, x, y)
					}
				}
			}
			// Inside the face box: the detail is gone. Noise has a
			// per-pixel standard deviation of ~74; what is left of it must
			// be a small fraction.
			if sd := localDetail(out, face); sd > 20 {
				t.Errorf("%s/%s: detail left inside the face: %.1f", mode, shape, sd)
			}
			if sd := localDetail(img, face); sd < 50 {
				t.Fatalf("test image has too little detail: %.1f", sd)
			}
			// The input is not modified.
			if img.NRGBAAt(90, 75) == out.NRGBAAt(90, 75) && mode != Fill {
				// (a coincidence is possible but not at every pixel)
			}
		}
	}
	if err := (Options{Mode: "smudge", Shape: Box, MaskScale: 1.3}).Validate(); err == nil {
		t.Error("unknown mode accepted")
	}
	if err := (Options{Mode: Blur, Shape: Box, MaskScale: 0.5}).Validate(); err == nil {
		t.Error("mask scale below 1 accepted")
	}
}

// localDetail is the mean absolute difference between horizontally adjacent
// pixels (green channel) inside r: high for a sharp face, near 0 once
// redacted.
func localDetail(img *image.NRGBA, r image.Rectangle) float64 {
	var sum float64
	n := 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X-1; x++ {
			a, b := img.NRGBAAt(x, y).G, img.NRGBAAt(x+1, y).G
			sum += math.Abs(float64(a) - float64(b))
			n++
		}
	}
	return sum / float64(n)
}

func TestRedactKeepsInputAndOffsetImages(t *testing.T) {
	img := noisy(100, 100, 2)
	before := append([]uint8(nil), img.Pix...)
	_ = Redact(img, []image.Rectangle{image.Rect(10, 10, 50, 50)}, DefaultOptions())
	for i := range before {
		if before[i] != img.Pix[i] {
			t.Fatal("Redact modified its input")
		}
	}
	// A sub-image whose bounds do not start at 0,0.
	sub := img.SubImage(image.Rect(20, 20, 80, 80)).(*image.NRGBA)
	out := Redact(sub, []image.Rectangle{image.Rect(30, 30, 50, 50)}, Options{Mode: Fill, Shape: Box, MaskScale: 1})
	c := out.NRGBAAt(15, 15) // (35,35) in sub's coordinates
	if c != out.NRGBAAt(25, 25) || c == (color.NRGBA{}) {
		t.Errorf("fill not where the face was: %v %v", c, out.NRGBAAt(25, 25))
	}
}

func BenchmarkRedactThreeLargeFaces(b *testing.B) {
	img := noisy(2048, 1536, 3)
	faces := []image.Rectangle{image.Rect(100, 100, 800, 800), image.Rect(900, 200, 1600, 900), image.Rect(1300, 700, 2000, 1400)}
	for _, m := range []Mode{Blur, Pixelate, Fill} {
		b.Run(string(m), func(b *testing.B) {
			o := Options{Mode: m, Shape: Ellipse, MaskScale: 1.3}
			for i := 0; i < b.N; i++ {
				Redact(img, faces, o)
			}
		})
	}
}

// TestRedactKeepingLeavesShownFaces: a redacted face's margin does not
// reach over a shown neighbour (bbt4: a blob over the eye of a pupil who is
// shown), but where the two boxes overlap the redacted face is covered.
func TestRedactKeepingLeavesShownFaces(t *testing.T) {
	img := noisy(300, 200, 7)
	redacted := image.Rect(100, 50, 160, 130) // margin 1.3: 91-169, 38-142
	shown := image.Rect(165, 60, 225, 140)    // inside the margin at 165-169
	overlapping := image.Rect(150, 60, 210, 140)
	for _, shape := range []Shape{Ellipse, Box} {
		o := Options{Mode: Blur, Shape: shape, MaskScale: 1.3}
		out := RedactKeeping(img, []image.Rectangle{redacted}, []image.Rectangle{shown}, o)
		for y := shown.Min.Y; y < shown.Max.Y; y++ {
			for x := shown.Min.X; x < shown.Max.X; x++ {
				if out.NRGBAAt(x, y) != img.NRGBAAt(x, y) {
					t.Fatalf("%s: shown face changed at (%d,%d)", shape, x, y)
				}
			}
		}
		plain := Redact(img, []image.Rectangle{redacted}, o)
		changed := 0
		for y := shown.Min.Y; y < shown.Max.Y; y++ {
			for x := shown.Min.X; x < shown.Max.X; x++ {
				if plain.NRGBAAt(x, y) != img.NRGBAAt(x, y) {
					changed++
				}
			}
		}
		if changed == 0 {
			t.Fatalf("%s: the plain blur must reach over the neighbour for this to be a test", shape)
		}
		// Overlapping boxes: the redacted face's own box is redacted whole.
		out = RedactKeeping(img, []image.Rectangle{redacted}, []image.Rectangle{overlapping}, o)
		for y := redacted.Min.Y + 10; y < redacted.Max.Y-10; y++ {
			for x := redacted.Min.X + 10; x < redacted.Max.X-5; x++ {
				if out.NRGBAAt(x, y) != plain.NRGBAAt(x, y) {
					t.Fatalf("%s: redacted face left unredacted at (%d,%d) under an overlapping shown face", shape, x, y)
				}
			}
		}
	}
}

// The mask's vocabulary and ranges are its own: config asks them (Mode,
// Shape, ValidMaskScale) and Options.Validate uses the same, and each
// message states the range its check applies.
func TestOptionsValidate(t *testing.T) {
	ok := DefaultOptions()
	for _, tc := range []struct {
		name string
		edit func(*Options)
		want string // "" when valid
	}{
		{"default", func(*Options) {}, ""},
		{"pixelate box", func(o *Options) { o.Mode, o.Shape = Pixelate, Box }, ""},
		{"fill", func(o *Options) { o.Mode = Fill }, ""},
		{"unknown mode", func(o *Options) { o.Mode = "smudge" }, `redact mode: "smudge" is not one of blur, pixelate, fill`},
		{"unknown shape", func(o *Options) { o.Shape = "circle" }, `redact shape: "circle" is not one of ellipse, box`},
		{"scale 1", func(o *Options) { o.MaskScale = 1 }, ""},
		{"scale 3", func(o *Options) { o.MaskScale = 3 }, ""},
		{"scale below 1", func(o *Options) { o.MaskScale = 0.99 }, "mask scale: 0.99 is out of range (1 to 3)"},
		{"scale above 3", func(o *Options) { o.MaskScale = 3.01 }, "mask scale: 3.01 is out of range (1 to 3)"},
		{"scale NaN", func(o *Options) { o.MaskScale = math.NaN() }, "mask scale: NaN is out of range (1 to 3)"},
		{"cells 0 (the default)", func(o *Options) { o.Cells = 0 }, ""},
		{"cells 1", func(o *Options) { o.Cells = 1 }, ""},
		{"cells 32", func(o *Options) { o.Cells = 32 }, ""},
		{"cells -1", func(o *Options) { o.Cells = -1 }, "cells: -1 is out of range (0 to 32; 0 is the default, 6)"},
		{"cells 33", func(o *Options) { o.Cells = 33 }, "cells: 33 is out of range (0 to 32; 0 is the default, 6)"},
	} {
		o := ok
		tc.edit(&o)
		err := o.Validate()
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.want != "" && (err == nil || err.Error() != tc.want):
			t.Errorf("%s: got %v, want %q", tc.name, err, tc.want)
		}
	}
	for _, m := range Modes() {
		if err := m.Validate(); err != nil {
			t.Errorf("mode %s: %v", m, err)
		}
	}
	for _, s := range Shapes() {
		if err := s.Validate(); err != nil {
			t.Errorf("shape %s: %v", s, err)
		}
	}
}
