package decode

import (
	"bytes"
	"errors"
	"image"

	"github.com/viam-labs/go-libjpeg/jpeg"
)

// decodeJPEG decodes with libjpeg-turbo straight into RGBA (grayscale and
// YCbCr alike), with DCT scaling when maxSide allows it. data ends at EOI.
func decodeJPEG(data []byte, h *header, maxSide int) (*image.NRGBA, error) {
	opts := &jpeg.DecoderOptions{DCTMethod: jpeg.DCTISlow}
	if tw, th, ok := dctTarget(h.Width, h.Height, maxSide); ok {
		// go-libjpeg picks the smallest scale_num/8 whose output is at
		// least this large in both directions.
		opts.ScaleTarget = image.Rect(0, 0, tw, th)
	}
	rgba, err := jpeg.DecodeIntoRGBA(bytes.NewReader(data), opts)
	if err == nil && rgba == nil {
		err = errors.New("libjpeg returned no image")
	}
	if err != nil {
		return nil, inputErrorf(err, "damaged JPEG: it cannot be decoded")
	}
	if rgba.Rect.Dx() <= 0 || rgba.Rect.Dy() <= 0 {
		return nil, inputErrorf(nil, "damaged JPEG: it decodes to an empty image")
	}
	// libjpeg writes alpha 0xFF everywhere, so the pixels are also valid
	// non-premultiplied RGBA.
	return &image.NRGBA{Pix: rgba.Pix, Stride: rgba.Stride, Rect: rgba.Rect}, nil
}

// dctTarget returns the size that libjpeg's output must at least have so
// that the long side is still >= maxSide; ok=false when no scaling is wanted.
func dctTarget(w, h, maxSide int) (tw, th int, ok bool) {
	if maxSide <= 0 || max(w, h) <= maxSide {
		return 0, 0, false
	}
	if w >= h {
		return maxSide, ceilDiv(h*maxSide, w), true
	}
	return ceilDiv(w*maxSide, h), maxSide, true
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }
