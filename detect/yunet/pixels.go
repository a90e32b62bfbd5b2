package yunet

import (
	"image"
	"math"
)

// pyramid holds an image and its successive 2x2 halvings, made when needed,
// so that bilinear sampling at any scale never skips source pixels.
type pyramid []*image.NRGBA

// newPyramid starts a pyramid at img, copied to origin (0,0) if needed.
func newPyramid(img *image.NRGBA) pyramid {
	if img.Rect.Min != (image.Point{}) {
		b := img.Rect
		c := image.NewNRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
		for y := 0; y < b.Dy(); y++ {
			si := img.PixOffset(b.Min.X, b.Min.Y+y)
			copy(c.Pix[y*c.Stride:y*c.Stride+4*b.Dx()], img.Pix[si:si+4*b.Dx()])
		}
		img = c
	}
	return pyramid{img}
}

// at returns the image to sample the scale s of the original from, and the
// factor f that maps it to that scale (f > 0.5).
func (p *pyramid) at(s float64) (*image.NRGBA, float64) {
	k, f := 0, s
	for f <= 0.5 && (*p)[k].Rect.Dx() > 1 && (*p)[k].Rect.Dy() > 1 {
		if k+1 == len(*p) {
			*p = append(*p, halve((*p)[k]))
		}
		k++
		f *= 2
	}
	// The halvings' sizes are rounded down: f maps the level exactly.
	w0 := (*p)[0].Rect.Dx()
	f = s * float64(w0) / float64((*p)[k].Rect.Dx())
	return (*p)[k], f
}

// halve returns m shrunk by 2 with a 2x2 box filter (odd edges dropped).
func halve(m *image.NRGBA) *image.NRGBA {
	w, h := max(m.Rect.Dx()/2, 1), max(m.Rect.Dy()/2, 1)
	out := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		y0 := min(2*y, m.Rect.Dy()-1)
		y1 := min(2*y+1, m.Rect.Dy()-1)
		r0 := m.Pix[y0*m.Stride:]
		r1 := m.Pix[y1*m.Stride:]
		o := out.Pix[y*out.Stride:]
		for x := 0; x < w; x++ {
			x0 := 4 * min(2*x, m.Rect.Dx()-1)
			x1 := 4 * min(2*x+1, m.Rect.Dx()-1)
			for c := 0; c < 4; c++ {
				o[4*x+c] = uint8((int(r0[x0+c]) + int(r0[x1+c]) + int(r1[x0+c]) + int(r1[x1+c]) + 2) / 4)
			}
		}
	}
	return out
}

// scaledSize is the size of img seen at scale s.
func scaledSize(w, h int, s float64) (int, int) {
	return max(int(math.Round(float64(w)*s)), 1), max(int(math.Round(float64(h)*s)), 1)
}

// fill writes region r of the image src seen at factor f (r in the scaled
// image's pixels) into dst, a 1 x 3 x ph x pw tensor (NCHW, BGR, 0-255 as
// YuNet wants), sampled bilinearly; the rest of dst (the padding to
// multiples of 32) is zero.
func fill(dst []float32, pw, ph int, src *image.NRGBA, f float64, r image.Rectangle) {
	clear(dst)
	w, h := r.Dx(), r.Dy()
	sw, sh := src.Rect.Dx(), src.Rect.Dy()
	// Per output column: the two source columns and the weight of the
	// second.
	xi := make([]int, 2*w)
	xw := make([]float32, w)
	for x := 0; x < w; x++ {
		u := (float64(r.Min.X+x)+0.5)/f - 0.5
		u0 := math.Floor(u)
		a := u - u0
		i0, i1 := clampInt(int(u0), sw), clampInt(int(u0)+1, sw)
		xi[2*x], xi[2*x+1] = 4*i0, 4*i1
		xw[x] = float32(a)
	}
	plane := pw * ph
	bP, gP, rP := dst[0:plane], dst[plane:2*plane], dst[2*plane:3*plane]
	for y := 0; y < h; y++ {
		v := (float64(r.Min.Y+y)+0.5)/f - 0.5
		v0 := math.Floor(v)
		b := float32(v - v0)
		row0 := src.Pix[clampInt(int(v0), sh)*src.Stride:]
		row1 := src.Pix[clampInt(int(v0)+1, sh)*src.Stride:]
		o := y * pw
		for x := 0; x < w; x++ {
			a := xw[x]
			i0, i1 := xi[2*x], xi[2*x+1]
			w00, w01, w10, w11 := (1-a)*(1-b), a*(1-b), (1-a)*b, a*b
			px := func(c int) float32 {
				return w00*float32(row0[i0+c]) + w01*float32(row0[i1+c]) + w10*float32(row1[i0+c]) + w11*float32(row1[i1+c])
			}
			rP[o+x] = px(0)
			gP[o+x] = px(1)
			bP[o+x] = px(2)
		}
	}
}

func clampInt(i, n int) int {
	if i < 0 {
		return 0
	}
	if i >= n {
		return n - 1
	}
	return i
}
