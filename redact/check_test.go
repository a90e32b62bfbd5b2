package redact_test

import (
	"image"
	"testing"

	"github.com/photoguard/photoguard/redact/decode"
	"github.com/photoguard/photoguard/redact/encode"
	"github.com/photoguard/photoguard/redact/mask"
	"github.com/photoguard/photoguard/redact/mask/masktest"
)

// A redacted face passes mask.CheckRedacted after the publishing encoder
// (libjpeg-turbo at quality 85) and decoder, as the pipeline checks it, in
// every mode, as shot and in a 6 % dark photo whose JPEG noise a contrast
// stretch magnifies.
func TestCheckRedactedAfterEncode(t *testing.T) {
	face := image.Rect(100, 80, 200, 200)
	for _, scale := range []float64{1, 0.06} {
		before := masktest.Textured(400, 300, face, scale)
		for _, mode := range []mask.Mode{mask.Blur, mask.Pixelate, mask.Fill} {
			o := mask.DefaultOptions()
			o.Mode = mode
			enc, err := encode.JPEG(mask.Redact(before, []image.Rectangle{face}, o), 85)
			if err != nil {
				t.Fatal(err)
			}
			after, _, err := decode.Decode(t.Context(), enc, decode.DefaultLimits(), 0)
			if err != nil {
				t.Fatal(err)
			}
			if err := mask.CheckRedacted(before, after, []image.Rectangle{face}, o, 0); err != nil {
				t.Errorf("brightness %v, %s: a redacted face failed the check: %v", scale, mode, err)
			}
		}
	}
}
