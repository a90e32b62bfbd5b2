package analyze

import (
	"image"
	"math"
)

// Tone thresholds: a photo is analysed a second time, on a contrast-stretched
// copy, when its luminance between the 1st and 99th percentile spans less
// than minSpan grey levels (washed out, or dark: a 6 % brightness photo spans
// about 15), or when its median is below darkMedian or above brightMedian
// (a dark crowd with a few bright spots, an overexposed photo: the gamma of
// the copy brings the faces to mid-grey; on the crowds this found 2 more of
// the 203 faces). A viewer who stretches the published photo (ImageMagick's
// -normalize stretches from the 2nd to the 99th percentile, a levels or
// gamma tool does more) sees the faces of such photos: so must the finder.
const (
	minSpan      = 160
	darkMedian   = 40
	brightMedian = 215
	// loPct and hiPct are the percentiles mapped to black and white.
	loPct, hiPct = 0.005, 0.995
)

// Normalize returns a contrast-stretched copy of img and true when img is
// dark, backlit or washed out (see the thresholds above); otherwise img and
// false. The copy maps the 0.5th luminance percentile to black and the
// 99.5th to white, with a gamma that brings the median to mid-grey, the same
// curve for R, G and B (so colours stay plausible for the detectors).
func Normalize(img *image.NRGBA) (*image.NRGBA, bool) {
	var hist [256]int
	n := luminanceHistogram(img, &hist)
	if n == 0 {
		return img, false
	}
	pct := func(p float64) int {
		target := int(p * float64(n))
		acc := 0
		for v, c := range hist {
			acc += c
			if acc > target {
				return v
			}
		}
		return 255
	}
	p1, p99, med := pct(0.01), pct(0.99), pct(0.5)
	if p99-p1 >= minSpan && med >= darkMedian && med <= brightMedian {
		return img, false
	}
	lo, hi := pct(loPct), pct(hiPct)
	if hi <= lo {
		hi = lo + 1
	}
	// Gamma that maps the stretched median to 0.5.
	m := (float64(med) - float64(lo)) / float64(hi-lo)
	gamma := 1.0
	if m > 0.02 && m < 0.98 {
		gamma = math.Log(0.5) / math.Log(m)
		gamma = min(max(gamma, 0.3), 3)
	}
	var lut [256]uint8
	for v := range lut {
		x := (float64(v) - float64(lo)) / float64(hi-lo)
		x = min(max(x, 0), 1)
		lut[v] = uint8(math.Round(255 * math.Pow(x, gamma)))
	}
	out := image.NewNRGBA(img.Rect)
	for y := img.Rect.Min.Y; y < img.Rect.Max.Y; y++ {
		si := img.PixOffset(img.Rect.Min.X, y)
		di := out.PixOffset(img.Rect.Min.X, y)
		src := img.Pix[si : si+4*img.Rect.Dx()]
		dst := out.Pix[di : di+4*img.Rect.Dx()]
		for x := 0; x < len(src); x += 4 {
			dst[x] = lut[src[x]]
			dst[x+1] = lut[src[x+1]]
			dst[x+2] = lut[src[x+2]]
			dst[x+3] = 0xff
		}
	}
	return out, true
}

// luminanceHistogram counts the Rec. 601 luma of a grid of about a million
// pixels of img.
func luminanceHistogram(img *image.NRGBA, hist *[256]int) int {
	b := img.Rect
	step := max(1, int(math.Sqrt(float64(b.Dx())*float64(b.Dy())/1e6)))
	n := 0
	for y := b.Min.Y; y < b.Max.Y; y += step {
		row := img.Pix[img.PixOffset(b.Min.X, y):]
		for x := 0; x < b.Dx(); x += step {
			p := row[4*x : 4*x+3]
			l := (299*int(p[0]) + 587*int(p[1]) + 114*int(p[2]) + 500) / 1000
			hist[l]++
			n++
		}
	}
	return n
}
