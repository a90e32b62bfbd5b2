package encode

import (
	"bytes"
	"fmt"
	"image"

	"github.com/photoguard/photoguard/redact/internal/pix"
	"github.com/viam-labs/go-libjpeg/jpeg"
)

// JPEG encodes img as a fresh baseline JPEG with libjpeg-turbo: three
// components, YCbCr 4:2:0, a JFIF APP0 segment without thumbnail and nothing
// else (no EXIF, no ICC, no Adobe segment, no comment). Transparent pixels are
// composited on white. quality is 1..100. The result is checked with
// VerifyClean before it is returned.
func JPEG(img image.Image, quality int) ([]byte, error) {
	if quality < 1 || quality > 100 {
		return nil, fmt.Errorf("redact: JPEG quality %d is not in 1..100", quality)
	}
	if img == nil || img.Bounds().Empty() {
		return nil, fmt.Errorf("redact: cannot encode an empty image")
	}
	src := opaqueNRGBA(img)
	var buf bytes.Buffer
	buf.Grow(src.Rect.Dx() * src.Rect.Dy() / 4)
	// jpeg_set_defaults gives JFIF, YCbCr with 2x2 luma sampling (4:2:0)
	// and no Adobe marker; jpeg_set_quality forces baseline tables.
	err := jpeg.Encode(&buf, src, &jpeg.EncoderOptions{
		Quality:        quality,
		OptimizeCoding: true,
		DCTMethod:      jpeg.DCTISlow,
	})
	if err != nil {
		return nil, fmt.Errorf("redact: encode JPEG: %w", err)
	}
	out := buf.Bytes()
	if err := VerifyClean(out); err != nil {
		return nil, fmt.Errorf("redact: encoder output is not clean: %w", err)
	}
	return out, nil
}

// opaqueNRGBA returns img as an opaque NRGBA whose bounds start at the
// origin (go-libjpeg assumes that), copying only when needed.
func opaqueNRGBA(img image.Image) *image.NRGBA {
	if n, ok := img.(*image.NRGBA); ok && n.Rect.Min == (image.Point{}) && n.Stride == 4*n.Rect.Dx() && n.Opaque() {
		return n
	}
	return pix.Flatten(img)
}
