package mask

import (
	"image"
	"testing"

	"github.com/photoguard/photoguard/redact/mask/masktest"
)

func TestCheckRedacted(t *testing.T) {
	face := image.Rect(100, 80, 200, 200)
	for _, scale := range []float64{1, 0.06} { // as shot, and a 6 % dark photo
		before := masktest.Textured(400, 300, face, scale)
		for _, mode := range []Mode{Blur, Pixelate, Fill} {
			o := DefaultOptions()
			o.Mode = mode
			// As redacted; the same after the publishing encoder and
			// decoder is in package redact's TestCheckRedactedAfterEncode.
			after := Redact(before, []image.Rectangle{face}, o)
			if err := CheckRedacted(before, after, []image.Rectangle{face}, o, 0); err != nil {
				t.Errorf("brightness %v, %s: a redacted face failed the check: %v", scale, mode, err)
			}
		}
		if err := CheckRedacted(before, before, []image.Rectangle{face}, DefaultOptions(), 0); err == nil {
			t.Errorf("brightness %v: a face that was not redacted passed the check", scale)
		}
		// Only the left half redacted.
		half := image.Rect(face.Min.X-20, face.Min.Y-20, (face.Min.X+face.Max.X)/2, face.Max.Y+20)
		o := DefaultOptions()
		o.Shape = Box
		o.MaskScale = 1
		after := Redact(before, []image.Rectangle{half}, o)
		if err := CheckRedacted(before, after, []image.Rectangle{face}, DefaultOptions(), 0); err == nil {
			t.Errorf("brightness %v: a half-redacted face passed the check", scale)
		}
		// Redacted somewhere else.
		after = Redact(before, []image.Rectangle{face.Add(image.Pt(150, 0))}, DefaultOptions())
		if err := CheckRedacted(before, after, []image.Rectangle{face}, DefaultOptions(), 0); err == nil {
			t.Errorf("brightness %v: a face redacted in the wrong place passed the check", scale)
		}
	}
}

func TestCheckRedactedSkipsSlivers(t *testing.T) {
	face := image.Rect(100, 80, 110, 90)
	before := masktest.Textured(400, 300, face, 1)
	if err := CheckRedacted(before, before, []image.Rectangle{face}, DefaultOptions(), 11); err != nil {
		t.Errorf("a box under the minimum was checked: %v", err)
	}
	if err := CheckRedacted(before, before, []image.Rectangle{face}, DefaultOptions(), 10); err == nil {
		t.Error("a 10 px face at a 10 px minimum was not checked")
	}
}

// Under the video encoder's tolerance a redacted face with the encoder's
// noise on it passes, and a face not redacted, half redacted or redacted
// elsewhere still fails.
func TestCheckRedactedVideoTolerance(t *testing.T) {
	face := image.Rect(100, 80, 200, 200)
	for _, scale := range []float64{1, 0.3, 0.15, 0.06} {
		before := masktest.Textured(400, 300, face, scale)
		o := DefaultOptions()
		after := Redact(before, []image.Rectangle{face}, o)
		// A low-contrast face (0.15: as far from its redaction as the noise
		// is large) passes because it is nearer its redaction than itself.
		noise := 4
		if scale == 0.15 {
			noise = 6
		}
		noisy := &image.NRGBA{Pix: append([]uint8(nil), after.Pix...), Stride: after.Stride, Rect: after.Rect}
		for i := range noisy.Pix {
			if i%4 != 3 {
				noisy.Pix[i] = uint8(min(255, max(0, int(noisy.Pix[i])+(i*7919%(2*noise+1))-noise)))
			}
		}
		// (±4 grey levels is more than an encoder leaves in a dark video.)
		if err := CheckRedactedWithin(before, noisy, []image.Rectangle{face}, o, 0, VideoTolerance); err != nil && scale > 0.1 {
			t.Errorf("brightness %v: a redacted face with encoder noise failed: %v", scale, err)
		}
		if err := CheckRedactedWithin(before, before, []image.Rectangle{face}, o, 0, VideoTolerance); err == nil {
			t.Errorf("brightness %v: a face that was not redacted passed", scale)
		}
		half := image.Rect(face.Min.X-20, face.Min.Y-20, (face.Min.X+face.Max.X)/2, face.Max.Y+20)
		hb := DefaultOptions()
		hb.Shape, hb.MaskScale = Box, 1
		if err := CheckRedactedWithin(before, Redact(before, []image.Rectangle{half}, hb), []image.Rectangle{face}, o, 0, VideoTolerance); err == nil {
			t.Errorf("brightness %v: a half-redacted face passed", scale)
		}
		if err := CheckRedactedWithin(before, Redact(before, []image.Rectangle{face.Add(image.Pt(150, 0))}, o), []image.Rectangle{face}, o, 0, VideoTolerance); err == nil {
			t.Errorf("brightness %v: a face redacted elsewhere passed", scale)
		}
	}
}
