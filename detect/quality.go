package detect

import (
	"fmt"
	"image"
	"math"
)

// The quality gate: a face too blurred to be told apart is not matched (it
// is redacted and says why), whatever its distances. Faces too small are
// MatchConfig.MinFacePx; faces turned too far are not described at all
// (WhyNotDescribed).

// WhyBlurred: the face is too blurred (out of focus, moving) to be matched.
const WhyBlurred = "too blurred to recognise"

// MinSharpness is the gate (MEASUREMENTS-children.md §9): the 21 described
// faces of the group photos measure 0.22-0.75; blurred with a box blur of
// radius 4 per 100 px of face (thrice) they measure 0.03-0.11, dlib still
// describes 17 of 21, their own distance has grown from 0.39 to 0.57
// (median) and 1 is still recognised. Blurred faces were never matched to
// someone else at any blur, so the gate changes no measured rate; it keeps
// a face whose detail is mostly gone from being matched at all, and says so.
const MinSharpness = 0.04

// sharpSide is the side, in pixels, a face is resampled to before its
// sharpness is measured, so that faces of every size compare.
const sharpSide = 64

// Sharpness measures how much fine detail the face in r of img holds: the
// mean absolute Laplacian of its grey values, with the middle of the box
// (the eyes, nose and mouth) resampled to 64x64 and divided by the grey
// values' spread (so a dark or low-contrast face is not called blurred for
// that). A sharp face measures about 0.2-0.75, a face blurred until dlib's
// descriptor drifts beyond the threshold about 0.05 (detect/MEASUREMENTS-children.md
// §9). 0 for an empty box.
func Sharpness(img *image.NRGBA, r image.Rectangle) float64 {
	// The middle 70 %: the box's edges hold hair and background.
	dx, dy := r.Dx()*15/100, r.Dy()*15/100
	r = image.Rect(r.Min.X+dx, r.Min.Y+dy, r.Max.X-dx, r.Max.Y-dy).Intersect(img.Rect)
	if r.Dx() < 4 || r.Dy() < 4 {
		return 0
	}
	var g [sharpSide][sharpSide]float64
	var sum, sum2 float64
	for y := 0; y < sharpSide; y++ {
		y0 := r.Min.Y + y*r.Dy()/sharpSide
		y1 := max(r.Min.Y+(y+1)*r.Dy()/sharpSide, y0+1)
		for x := 0; x < sharpSide; x++ {
			x0 := r.Min.X + x*r.Dx()/sharpSide
			x1 := max(r.Min.X+(x+1)*r.Dx()/sharpSide, x0+1)
			var v float64
			n := 0
			for yy := y0; yy < y1; yy++ {
				off := img.PixOffset(x0, yy)
				for xx := x0; xx < x1; xx++ {
					p := img.Pix[off : off+3 : off+3]
					v += 0.299*float64(p[0]) + 0.587*float64(p[1]) + 0.114*float64(p[2])
					off += 4
					n++
				}
			}
			v /= float64(n)
			g[y][x] = v
			sum += v
			sum2 += v * v
		}
	}
	n := float64(sharpSide * sharpSide)
	mean := sum / n
	sd := math.Sqrt(max(sum2/n-mean*mean, 0))
	var lap float64
	for y := 1; y < sharpSide-1; y++ {
		for x := 1; x < sharpSide-1; x++ {
			lap += math.Abs(4*g[y][x] - g[y-1][x] - g[y+1][x] - g[y][x-1] - g[y][x+1])
		}
	}
	lap /= float64((sharpSide - 2) * (sharpSide - 2))
	return lap / (sd + 4)
}

// Gate marks the faces of matches that are below minSharpness (sharpness
// gives each face's Sharpness) as not matched, WhyBlurred, keeping their
// nearest people (the objections policy still asks who they may be).
// minSharpness <= 0 gates nothing.
func Gate(matches []Match, sharpness []float64, minSharpness float64) {
	if minSharpness <= 0 {
		return
	}
	for i := range matches {
		if i >= len(sharpness) || matches[i].Why == WhyNotDescribed {
			continue
		}
		if s := sharpness[i]; !(s >= minSharpness) {
			matches[i].ID, matches[i].Why = "", WhyBlurred
			matches[i].Detail = fmt.Sprintf("sharpness %.2f, %.2f needed", s, minSharpness)
		}
	}
}
