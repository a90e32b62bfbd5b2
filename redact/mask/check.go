package mask

import (
	"fmt"
	"image"
	"math"
)

// The check of a redacted face looks at the central part of the face box
// (checkInner of its width and height: inside the ellipse of any mask scale
// of 1 or more). The output there must be the redaction of the photo, within
// what JPEG changes: the mean difference from the expected redaction is at
// most checkRatio of the difference the unredacted face has from it, or at
// most checkTolerance grey levels after the contrast stretch a viewer could
// apply (ImageMagick's -normalize: the 2nd to the 99th luminance percentile
// of the whole photo to black and white), so a dark photo's face is judged
// as it would look stretched, or at most checkNoise grey levels as it is
// (what JPEG rounding leaves in a flat region; a face differs from its
// redaction by several levels even at 6 % brightness).
const (
	checkInner     = 0.7
	checkTolerance = 4.0
	checkRatio     = 0.25
	checkNoise     = 0.5
)

// CheckRedacted verifies, from the pixels of after (the redacted picture, as
// decoded from the encoded output), that each face of before (boxes in its
// coordinates) was redacted as o says: after holds, in each face's central
// part, the redaction of before's pixels, which keeps only o.Cells averages
// across a face whatever contrast stretch is applied later. It returns an
// error naming the first face that kept its detail (not redacted, redacted
// in part or elsewhere).
//
// Faces narrower than minPx are not checked (a box far below the coverage
// floor: nothing there can be recognised).
func CheckRedacted(before, after *image.NRGBA, faces []image.Rectangle, o Options, minPx int) error {
	return CheckRedactedWithin(before, after, faces, o, minPx, PhotoTolerance)
}

// Tolerance is how far an output may be from the expected redaction and
// still count as redacted: what its encoder changes. Ratio is the share of
// the unredacted face's difference from its redaction, Grey the grey levels
// after a contrast stretch.
type Tolerance struct {
	Ratio, Grey float64
	// Closer, when set, also accepts a face whose output is at most
	// Closer times as far from the expected redaction as from the
	// unredacted face: a video encoder's noise (3-4 grey levels) is as
	// large as the whole difference a low-contrast face has from its
	// redaction, but a face that was redacted is still nearer its
	// redaction than the face, and one that was not is nearer the face.
	Closer float64
}

// PhotoTolerance is JPEG's (CheckRedacted). VideoTolerance is H.264's at
// the CRF photoguard publishes at: a small redacted face decoded from a
// video is measured 3.6 grey levels (0.26 of the unredacted face's
// difference) from its redaction (TestVideoEndToEnd); a face left
// unredacted, or redacted half off its place, is 0.5 and more.
var (
	PhotoTolerance = Tolerance{Ratio: checkRatio, Grey: checkTolerance}
	VideoTolerance = Tolerance{Ratio: 0.4, Grey: 6, Closer: 0.6}
)

// CheckRedactedWithin is CheckRedacted with the encoder's tolerance.
func CheckRedactedWithin(before, after *image.NRGBA, faces []image.Rectangle, o Options, minPx int, tol Tolerance) error {
	if before.Rect != after.Rect {
		return fmt.Errorf("redact: check: output is %v, the photo %v", after.Rect, before.Rect)
	}
	if len(faces) == 0 {
		return nil
	}
	want := Redact(before, faces, o)
	gain := StretchGain(after)
	for i, f := range faces {
		if f.Dx() < minPx {
			continue
		}
		s, ok := NewSample(before, want, f)
		if !ok {
			continue // a sliver at the edge: nothing recognisable fits
		}
		if err := s.Judge(after, gain, tol); err != nil {
			return fmt.Errorf("redact: face %d of %d at %v %w", i+1, len(faces), f, err)
		}
	}
	return nil
}

// Sample is what the check of one face needs before the output exists:
// the central part of the face (Rect, checkInner of the box), unredacted
// (Before) and as redacted (Want). A video keeps one per face it checks
// instead of whole frames.
type Sample struct {
	Rect         image.Rectangle
	Before, Want *image.NRGBA
}

// NewSample takes the sample of face from before and its redaction want
// (the same picture, redacted); ok is false for a sliver at the edge.
func NewSample(before, want *image.NRGBA, face image.Rectangle) (s Sample, ok bool) {
	cx, cy := float64(face.Min.X+face.Max.X)/2, float64(face.Min.Y+face.Max.Y)/2
	hw, hh := float64(face.Dx())*checkInner/2, float64(face.Dy())*checkInner/2
	in := image.Rect(int(math.Ceil(cx-hw)), int(math.Ceil(cy-hh)), int(math.Floor(cx+hw)), int(math.Floor(cy+hh)))
	in = in.Intersect(before.Rect)
	if in.Dx() < 2 || in.Dy() < 2 {
		return Sample{}, false
	}
	return Sample{Rect: in, Before: cropOf(before, in), Want: cropOf(want, in)}, true
}

// Judge says whether after (the decoded output, whose contrast stretch
// gain is gain: StretchGain) holds the redaction of the sample's face.
func (s Sample) Judge(after *image.NRGBA, gain float64, tol Tolerance) error {
	a := cropOf(after, s.Rect)
	all := a.Rect
	got := meanDiff(a, s.Want, all)
	had := meanDiff(s.Before, s.Want, all)
	if got <= tol.Ratio*had || got*gain <= tol.Grey || got <= checkNoise {
		return nil
	}
	if tol.Closer > 0 && got <= tol.Closer*meanDiff(a, s.Before, all) {
		return nil
	}
	return fmt.Errorf("is not redacted in the output (%.1f grey levels from its redaction, %.1f after a contrast stretch; unredacted %.1f)", got, got*gain, had)
}

// cropOf copies r of img into a new image at (0,0).
func cropOf(img *image.NRGBA, r image.Rectangle) *image.NRGBA {
	c := image.NewNRGBA(image.Rect(0, 0, r.Dx(), r.Dy()))
	for y := r.Min.Y; y < r.Max.Y; y++ {
		copy(c.Pix[(y-r.Min.Y)*c.Stride:], img.Pix[img.PixOffset(r.Min.X, y):img.PixOffset(r.Max.X, y)])
	}
	return c
}

// meanDiff is the mean absolute difference of the luminance of a and b in r.
func meanDiff(a, b *image.NRGBA, r image.Rectangle) float64 {
	var sum float64
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			sum += math.Abs(float64(luma(a.Pix[a.PixOffset(x, y):]) - luma(b.Pix[b.PixOffset(x, y):])))
		}
	}
	return sum / float64(r.Dx()*r.Dy())
}

func luma(p []uint8) int { return (299*int(p[0]) + 587*int(p[1]) + 114*int(p[2]) + 500) / 1000 }

// StretchGain is the factor by which -normalize would stretch img's
// luminance (the 2nd to the 99th percentile to 0..255), at most 32.
func StretchGain(img *image.NRGBA) float64 {
	var hist [256]int
	b := img.Rect
	step := max(1, int(math.Sqrt(float64(b.Dx())*float64(b.Dy())/250000)))
	n := 0
	for y := b.Min.Y; y < b.Max.Y; y += step {
		for x := b.Min.X; x < b.Max.X; x += step {
			hist[luma(img.Pix[img.PixOffset(x, y):])]++
			n++
		}
	}
	acc := 0
	pct := func(p float64) int {
		acc = 0
		for v, c := range hist {
			if acc += c; acc > int(p*float64(n)) {
				return v
			}
		}
		return 255
	}
	span := max(pct(0.99)-pct(0.02), 8)
	return min(255/float64(span), 32)
}
