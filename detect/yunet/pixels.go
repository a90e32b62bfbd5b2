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
// multiples of 32) is zero. Bilinear sampling is separable: each source row
// is interpolated across once into a row of the three planes (enlarged,
// consecutive output rows share source rows), and each output row blends
// two of those.
func fill(dst []float32, pw, ph int, src *image.NRGBA, f float64, r image.Rectangle) {
	w, h := r.Dx(), r.Dy()
	sw, sh := src.Rect.Dx(), src.Rect.Dy()
	plane := pw * ph
	if f == 1 && r.In(image.Rect(0, 0, sw, sh)) {
		// Seen at its own size: the pixels themselves.
		for y := 0; y < h; y++ {
			row := src.Pix[(r.Min.Y+y)*src.Stride+4*r.Min.X : (r.Min.Y+y)*src.Stride+4*r.Max.X]
			o := y * pw
			ob, og, or := dst[o:o+w], dst[plane+o:plane+o+w], dst[2*plane+o:2*plane+o+w]
			for x := range ob {
				p := row[4*x : 4*x+3 : 4*x+3]
				or[x], og[x], ob[x] = float32(p[0]), float32(p[1]), float32(p[2])
			}
			for c := 0; c < 3; c++ {
				clear(dst[c*plane+o+w : c*plane+o+pw])
			}
		}
		for c := 0; c < 3; c++ {
			clear(dst[c*plane+h*pw : (c+1)*plane])
		}
		return
	}
	// Per output column: the two source columns and the weight of the
	// second.
	xi := make([]int32, 2*w)
	xw := make([]float32, w)
	for x := 0; x < w; x++ {
		u := (float64(r.Min.X+x)+0.5)/f - 0.5
		u0 := math.Floor(u)
		i0, i1 := clampInt(int(u0), sw), clampInt(int(u0)+1, sw)
		xi[2*x], xi[2*x+1] = int32(4*i0), int32(4*i1)
		xw[x] = float32(u - u0)
	}
	// Two source rows interpolated across, B, G, R one after the other.
	var rows [2]struct {
		y   int
		pix []float32
	}
	for k := range rows {
		rows[k].y, rows[k].pix = -1, make([]float32, 3*w)
	}
	// across returns source row sy interpolated across, made in the slot
	// that does not hold row other if it is not there yet.
	across := func(sy, other int) []float32 {
		for k := range rows {
			if rows[k].y == sy {
				return rows[k].pix
			}
		}
		k := 0
		if rows[0].y == other {
			k = 1
		}
		rows[k].y = sy
		o := rows[k].pix
		ob, og, or := o[:w], o[w:2*w], o[2*w:3*w]
		row := src.Pix[sy*src.Stride : sy*src.Stride+4*sw]
		for x := 0; x < w; x++ {
			a := xw[x]
			i0, i1 := int(xi[2*x]), int(xi[2*x+1])
			p0, p1 := row[i0:i0+3:i0+3], row[i1:i1+3:i1+3]
			r0, g0, b0 := float32(p0[0]), float32(p0[1]), float32(p0[2])
			or[x] = r0 + a*(float32(p1[0])-r0)
			og[x] = g0 + a*(float32(p1[1])-g0)
			ob[x] = b0 + a*(float32(p1[2])-b0)
		}
		return o
	}
	for y := 0; y < h; y++ {
		v := (float64(r.Min.Y+y)+0.5)/f - 0.5
		v0 := math.Floor(v)
		b := float32(v - v0)
		y0, y1 := clampInt(int(v0), sh), clampInt(int(v0)+1, sh)
		r0 := across(y0, y1)
		r1 := across(y1, y0)
		o := y * pw
		for c := 0; c < 3; c++ {
			a0, a1 := r0[c*w:(c+1)*w], r1[c*w:(c+1)*w]
			out := dst[c*plane+o : c*plane+o+pw]
			for x := range a0 {
				out[x] = a0[x] + b*(a1[x]-a0[x])
			}
			clear(out[w:])
		}
	}
	for c := 0; c < 3; c++ {
		clear(dst[c*plane+h*pw : (c+1)*plane])
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
