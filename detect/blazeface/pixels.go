package blazeface

import (
	"image"
	"image/draw"
	"math"
)

// toRGBA returns img as an *image.RGBA at origin (0,0), copying unless it is
// one already. Photos are opaque, so NRGBA and RGBA hold the same values.
func toRGBA(img image.Image) *image.RGBA {
	if m, ok := img.(*image.RGBA); ok && m.Rect.Min == (image.Point{}) {
		return m
	}
	b := img.Bounds()
	m := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(m, m.Rect, img, b.Min, draw.Src)
	return m
}

// level is one pyramid level: the level's pixel (x, y) is the pixel
// ((x+0.5)/f - 0.5, ...) of src, sampled bilinearly (f = 1 copies pixels).
// Nothing is stored per level: src is the image itself, or for a level
// below half its size the image halved (2x2 box filter) until f > 0.5, so
// bilinear sampling never skips source pixels.
type level struct {
	src  *image.RGBA
	f    float64 // level pixels per src pixel: > 0.5
	w, h int     // level size
	// scale is the level's pixels per pixel of the image passed to Detect.
	scale float64
}

// halvings holds an image and its successive halvings, made when needed.
type halvings []*image.RGBA

// level makes the level at scale s of halvings[0].
func (hv *halvings) level(s float64) level {
	src := (*hv)[0]
	w, h := levelSize(src.Rect.Dx(), src.Rect.Dy(), s)
	k, f := 0, s
	for f <= 0.5 && (*hv)[k].Rect.Dx() > 1 && (*hv)[k].Rect.Dy() > 1 {
		if k+1 == len(*hv) {
			*hv = append(*hv, halve((*hv)[k]))
		}
		k++
		f *= 2
	}
	// The halved image's size is rounded down; f maps level to it exactly.
	f = float64(w) / float64((*hv)[k].Rect.Dx())
	if math.Abs(f-1) < 1e-9 && w == (*hv)[k].Rect.Dx() && h == (*hv)[k].Rect.Dy() {
		f = 1
	}
	return level{src: (*hv)[k], f: f, w: w, h: h, scale: s}
}

// levelSize is the size of the level at scale s of a w x h image.
func levelSize(w, h int, s float64) (int, int) {
	return max(int(math.Round(float64(w)*s)), 1), max(int(math.Round(float64(h)*s)), 1)
}

// newLevel makes the level at scale s of src (for tests).
func newLevel(src *image.RGBA, s float64) level {
	hv := halvings{src}
	return hv.level(s)
}

// halve returns m at half its size (rounded down), each pixel the mean of
// a 2x2 block.
func halve(m *image.RGBA) *image.RGBA {
	w, h := max(m.Rect.Dx()/2, 1), max(m.Rect.Dy()/2, 1)
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		r0 := m.Pix[(2*y)*m.Stride:]
		r1 := m.Pix[min(2*y+1, m.Rect.Dy()-1)*m.Stride:]
		d := dst.Pix[y*dst.Stride:]
		for x := 0; x < w; x++ {
			a, b := 8*x, min(8*x+4, 4*(m.Rect.Dx()-1))
			for c := 0; c < 4; c++ {
				d[4*x+c] = uint8((int(r0[a+c]) + int(r0[b+c]) + int(r1[a+c]) + int(r1[b+c]) + 2) / 4)
			}
		}
	}
	return dst
}

// stretch maps one channel value through a contrast stretch.
type stretch struct {
	lo, gain float64 // v' = (v-lo)*gain, clamped to 0..255; gain 0 = identity
}

func (s stretch) apply(v float64) float64 {
	if s.gain == 0 {
		return v
	}
	v = (v - s.lo) * s.gain
	return math.Max(0, math.Min(255, v))
}

// percentileStretch finds the stretch that maps the lowFrac and highFrac
// quantiles of luma in hist (256 bins) to 0 and 255. A histogram whose
// quantiles are less than 2 levels apart (a flat image) is left alone, and
// so is one that is already full range.
func percentileStretch(hist *[256]int, lowFrac, highFrac float64) stretch {
	total := 0
	for _, c := range hist {
		total += c
	}
	if total == 0 {
		return stretch{}
	}
	quant := func(frac float64) int {
		target := frac * float64(total)
		acc := 0
		for v, c := range hist {
			acc += c
			if float64(acc) > target {
				return v
			}
		}
		return 255
	}
	lo, hi := quant(lowFrac), quant(highFrac)
	if hi-lo < 2 || (lo == 0 && hi == 255) {
		return stretch{}
	}
	return stretch{lo: float64(lo), gain: 255 / float64(hi-lo)}
}

func luma(r, g, b uint8) uint8 {
	return uint8((299*int(r) + 587*int(g) + 114*int(b) + 500) / 1000)
}

// Default quantiles of the contrast stretch.
const (
	StretchLow  = 0.005
	StretchHigh = 0.995
)

// Stretch returns a contrast-stretched copy of img: the lowFrac and
// highFrac quantiles of its luma are mapped to black and white, the same
// gain applied to R, G and B. A dark (or washed-out) photo then looks as a
// viewer sees it after auto-levels. Pure Go; a flat image is copied unchanged.
func Stretch(img image.Image, lowFrac, highFrac float64) *image.RGBA {
	src := toRGBA(img)
	var hist [256]int
	p := src.Pix
	for y := 0; y < src.Rect.Dy(); y++ {
		row := p[y*src.Stride : y*src.Stride+4*src.Rect.Dx()]
		for i := 0; i < len(row); i += 4 {
			hist[luma(row[i], row[i+1], row[i+2])]++
		}
	}
	st := percentileStretch(&hist, lowFrac, highFrac)
	var lut [256]uint8
	for v := range lut {
		lut[v] = uint8(math.Round(st.apply(float64(v))))
	}
	dst := image.NewRGBA(src.Rect)
	for y := 0; y < src.Rect.Dy(); y++ {
		s := p[y*src.Stride : y*src.Stride+4*src.Rect.Dx()]
		d := dst.Pix[y*dst.Stride : y*dst.Stride+4*dst.Rect.Dx()]
		for i := 0; i < len(s); i += 4 {
			d[i], d[i+1], d[i+2], d[i+3] = lut[s[i]], lut[s[i+1]], lut[s[i+2]], 255
		}
	}
	return dst
}

// fillTile writes the tile r of level lv into in (size x size x 3, NHWC,
// values in [-1, 1] as MediaPipe feeds BlazeFace). Pixels past the level's
// edge are mid-grey (0). With tileStretch the tile's own luma quantiles are
// stretched to full range first.
//
// buf is scratch space of size*size*4 bytes (nil: allocated).
func fillTile(in []float32, lv level, r image.Rectangle, size int, tileStretch bool, buf []uint8) {
	if len(buf) < size*size*4 {
		buf = make([]uint8, size*size*4)
	}
	buf = buf[:size*size*4] // RGBA of the tile, alpha 0 = padding
	clear(buf)
	src := lv.src
	sw, sh := src.Rect.Dx(), src.Rect.Dy()
	for ty := 0; ty < size; ty++ {
		y := r.Min.Y + ty
		if y < 0 || y >= lv.h {
			continue
		}
		for tx := 0; tx < size; tx++ {
			x := r.Min.X + tx
			if x < 0 || x >= lv.w {
				continue
			}
			o := (ty*size + tx) * 4
			if lv.f == 1 {
				if x < sw && y < sh {
					copy(buf[o:o+3], src.Pix[y*src.Stride+4*x:])
					buf[o+3] = 255
				}
				continue
			}
			fx := (float64(x)+0.5)/lv.f - 0.5
			fy := (float64(y)+0.5)/lv.f - 0.5
			x0, y0 := int(math.Floor(fx)), int(math.Floor(fy))
			ax, ay := fx-float64(x0), fy-float64(y0)
			x1, y1 := min(max(x0+1, 0), sw-1), min(max(y0+1, 0), sh-1)
			x0, y0 = min(max(x0, 0), sw-1), min(max(y0, 0), sh-1)
			p00 := src.Pix[y0*src.Stride+4*x0:]
			p01 := src.Pix[y0*src.Stride+4*x1:]
			p10 := src.Pix[y1*src.Stride+4*x0:]
			p11 := src.Pix[y1*src.Stride+4*x1:]
			for c := 0; c < 3; c++ {
				v := (1-ay)*((1-ax)*float64(p00[c])+ax*float64(p01[c])) + ay*((1-ax)*float64(p10[c])+ax*float64(p11[c]))
				buf[o+c] = uint8(v + 0.5)
			}
			buf[o+3] = 255
		}
	}
	var st stretch
	if tileStretch {
		var hist [256]int
		for o := 0; o < len(buf); o += 4 {
			if buf[o+3] != 0 {
				hist[luma(buf[o], buf[o+1], buf[o+2])]++
			}
		}
		st = percentileStretch(&hist, StretchLow, StretchHigh)
	}
	for i := 0; i < size*size; i++ {
		o := i * 4
		if buf[o+3] == 0 {
			in[3*i], in[3*i+1], in[3*i+2] = 0, 0, 0
			continue
		}
		for c := 0; c < 3; c++ {
			in[3*i+c] = float32(st.apply(float64(buf[o+c]))/127.5 - 1)
		}
	}
}

// mirrorTile flips a size x size x 3 NHWC tile left to right in place.
func mirrorTile(in []float32, size int) {
	for y := 0; y < size; y++ {
		row := in[y*size*3 : (y+1)*size*3]
		for a, b := 0, size-1; a < b; a, b = a+1, b-1 {
			for c := 0; c < 3; c++ {
				row[3*a+c], row[3*b+c] = row[3*b+c], row[3*a+c]
			}
		}
	}
}
