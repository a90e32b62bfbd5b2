package yunet

import (
	"image"
	"math"
	"math/rand"
	"testing"
)

// BenchmarkFill fills the views of a 1280x720 frame a video's analysis
// fills: a second-look tile (640 x 640 model pixels at 1.5x) and the first
// look at the frame's own size, in one run.
func BenchmarkFill(b *testing.B) {
	src := image.NewNRGBA(image.Rect(0, 0, 1280, 720))
	rand.New(rand.NewSource(1)).Read(src.Pix)
	for _, c := range []struct {
		name   string
		f      float64
		r      image.Rectangle
		pw, ph int
	}{
		{"tile", 1.5, image.Rect(320, 200, 960, 840), 640, 640},
		{"whole", 1, image.Rect(0, 0, 1280, 720), 1280, 736},
	} {
		b.Run(c.name, func(b *testing.B) {
			dst := make([]float32, 3*c.pw*c.ph)
			b.SetBytes(int64(c.r.Dx() * c.r.Dy()))
			for i := 0; i < b.N; i++ {
				fill(dst, c.pw, c.ph, src, c.f, c.r)
			}
		})
	}
}

// fillReference is fill as first written, one pixel at a time: fill must
// give its values up to float rounding.
func fillReference(dst []float32, pw, ph int, src *image.NRGBA, f float64, r image.Rectangle) {
	clear(dst)
	w, h := r.Dx(), r.Dy()
	sw, sh := src.Rect.Dx(), src.Rect.Dy()
	plane := pw * ph
	for y := 0; y < h; y++ {
		v := (float64(r.Min.Y+y)+0.5)/f - 0.5
		v0 := math.Floor(v)
		b := v - v0
		row0 := src.Pix[clampInt(int(v0), sh)*src.Stride:]
		row1 := src.Pix[clampInt(int(v0)+1, sh)*src.Stride:]
		for x := 0; x < w; x++ {
			u := (float64(r.Min.X+x)+0.5)/f - 0.5
			u0 := math.Floor(u)
			a := u - u0
			i0, i1 := 4*clampInt(int(u0), sw), 4*clampInt(int(u0)+1, sw)
			for c := 0; c < 3; c++ {
				p := (1-a)*(1-b)*float64(row0[i0+c]) + a*(1-b)*float64(row0[i1+c]) +
					(1-a)*b*float64(row1[i0+c]) + a*b*float64(row1[i1+c])
				dst[(2-c)*plane+y*pw+x] = float32(p)
			}
		}
	}
}

func TestFillMatchesReference(t *testing.T) {
	src := image.NewNRGBA(image.Rect(0, 0, 97, 61))
	rand.New(rand.NewSource(2)).Read(src.Pix)
	p := newPyramid(src)
	for _, c := range []struct {
		s float64
		r image.Rectangle
	}{
		{1, image.Rect(0, 0, 97, 61)},
		{1, image.Rect(10, 7, 60, 50)},
		{1.5, image.Rect(0, 0, 146, 92)},
		{1.5, image.Rect(40, 30, 120, 92)},
		{2, image.Rect(150, 100, 194, 122)},
		{0.7, image.Rect(3, 5, 68, 43)},
		{0.2, image.Rect(0, 0, 19, 12)},
	} {
		img, f := p.at(c.s)
		pw, ph := pad32(c.r.Dx()), pad32(c.r.Dy())
		got, want := make([]float32, 3*pw*ph), make([]float32, 3*pw*ph)
		for i := range got {
			got[i] = 7 // fill must clear the padding
		}
		fill(got, pw, ph, img, f, c.r)
		fillReference(want, pw, ph, img, f, c.r)
		for i := range got {
			if math.Abs(float64(got[i]-want[i])) > 1e-3 {
				t.Fatalf("scale %v region %v: value %d is %v, want %v", c.s, c.r, i, got[i], want[i])
			}
		}
	}
}
