package decode

import (
	"bytes"
	"image"
	"image/png"

	"github.com/photoguard/photoguard/redact/internal/pix"
)

// decodePNG decodes with the standard library (data ends after IEND) and
// converts to 8-bit NRGBA on white.
func decodePNG(data []byte) (*image.NRGBA, error) {
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, inputErrorf(err, "damaged PNG: it cannot be decoded")
	}
	// 8-bit RGB(A) is composited in place: no second copy of a large image.
	switch m := img.(type) {
	case *image.NRGBA:
		if m.Rect.Min == (image.Point{}) {
			for i := 0; i < len(m.Pix); i += 4 {
				if a := uint32(m.Pix[i+3]); a != 0xFF {
					m.Pix[i], m.Pix[i+1], m.Pix[i+2] = pix.Over8(uint32(m.Pix[i]), a), pix.Over8(uint32(m.Pix[i+1]), a), pix.Over8(uint32(m.Pix[i+2]), a)
					m.Pix[i+3] = 0xFF
				}
			}
			return m, nil
		}
	case *image.RGBA:
		if m.Rect.Min == (image.Point{}) {
			for i := 0; i < len(m.Pix); i += 4 {
				if ia := 255 - uint32(m.Pix[i+3]); ia != 0 {
					m.Pix[i] = uint8(min(255, uint32(m.Pix[i])+ia))
					m.Pix[i+1] = uint8(min(255, uint32(m.Pix[i+1])+ia))
					m.Pix[i+2] = uint8(min(255, uint32(m.Pix[i+2])+ia))
					m.Pix[i+3] = 0xFF
				}
			}
			return &image.NRGBA{Pix: m.Pix, Stride: m.Stride, Rect: m.Rect}, nil
		}
	}
	return pix.Flatten(img), nil
}
