package redact

import (
	"image"
	"math/rand/v2"
	"testing"
)

// textured is a photo-like image: smooth gradients with fine noise, and a
// "face" of strong fine structure at r.
func textured(w, h int, r image.Rectangle, scale float64) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	rng := rand.New(rand.NewPCG(1, 2))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			v := 90 + float64(x+y)/float64(w+h)*60 + rng.Float64()*6
			if image.Pt(x, y).In(r) {
				// eyes, mouth: structure at a few pixels' scale
				v = 100 + 80*float64(((x/3)+(y/4))%2) - 30*float64((x/5)%2)
			}
			v *= scale
			i := img.PixOffset(x, y)
			img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = uint8(v), uint8(v*0.9), uint8(v*0.8), 255
		}
	}
	return img
}

func TestCheckRedacted(t *testing.T) {
	face := image.Rect(100, 80, 200, 200)
	for _, scale := range []float64{1, 0.06} { // as shot, and a 6 % dark photo
		before := textured(400, 300, face, scale)
		for _, mode := range []Mode{Blur, Pixelate, Fill} {
			o := DefaultRedactOptions()
			o.Mode = mode
			after := Redact(before, []image.Rectangle{face}, o)
			enc, err := EncodeJPEG(after, 85)
			if err != nil {
				t.Fatal(err)
			}
			after, _, err = Decode(t.Context(), enc, DefaultLimits(), 0)
			if err != nil {
				t.Fatal(err)
			}
			if err := CheckRedacted(before, after, []image.Rectangle{face}, o, 0); err != nil {
				t.Errorf("brightness %v, %s: a redacted face failed the check: %v", scale, mode, err)
			}
		}
		if err := CheckRedacted(before, before, []image.Rectangle{face}, DefaultRedactOptions(), 0); err == nil {
			t.Errorf("brightness %v: a face that was not redacted passed the check", scale)
		}
		// Only the left half redacted.
		half := image.Rect(face.Min.X-20, face.Min.Y-20, (face.Min.X+face.Max.X)/2, face.Max.Y+20)
		o := DefaultRedactOptions()
		o.Shape = Box
		o.MaskScale = 1
		after := Redact(before, []image.Rectangle{half}, o)
		if err := CheckRedacted(before, after, []image.Rectangle{face}, DefaultRedactOptions(), 0); err == nil {
			t.Errorf("brightness %v: a half-redacted face passed the check", scale)
		}
		// Redacted somewhere else.
		after = Redact(before, []image.Rectangle{face.Add(image.Pt(150, 0))}, DefaultRedactOptions())
		if err := CheckRedacted(before, after, []image.Rectangle{face}, DefaultRedactOptions(), 0); err == nil {
			t.Errorf("brightness %v: a face redacted in the wrong place passed the check", scale)
		}
	}
}

func TestCheckRedactedSkipsSlivers(t *testing.T) {
	face := image.Rect(100, 80, 110, 90)
	before := textured(400, 300, face, 1)
	if err := CheckRedacted(before, before, []image.Rectangle{face}, DefaultRedactOptions(), 11); err != nil {
		t.Errorf("a box under the minimum was checked: %v", err)
	}
	if err := CheckRedacted(before, before, []image.Rectangle{face}, DefaultRedactOptions(), 10); err == nil {
		t.Error("a 10 px face at a 10 px minimum was not checked")
	}
}
