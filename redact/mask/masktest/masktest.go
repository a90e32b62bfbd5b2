// Package masktest makes the test images that the tests of package mask and
// of the whole redact path share.
//
// Invariant: pure Go and deterministic (a fixed seed); no cgo.
package masktest

import (
	"image"
	"math/rand/v2"
)

// Textured is a photo-like image: smooth gradients with fine noise, and a
// "face" of strong fine structure at r.
func Textured(w, h int, r image.Rectangle, scale float64) *image.NRGBA {
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
