// Package pix holds the pixel conversions that both directions need: any
// image to opaque 8-bit NRGBA on white, and the compositing of one channel.
//
// Invariant: pure Go, no cgo in it or its dependencies; every function
// returns opaque pixels (alpha 0xFF) whose bounds start at the origin.
package pix

import (
	"image"
	"image/color"
)

// Flatten converts any image to 8-bit NRGBA, opaque, with transparent pixels
// composited on white, and its bounds at the origin.
func Flatten(img image.Image) *image.NRGBA {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	out := image.NewNRGBA(image.Rect(0, 0, w, h))
	switch src := img.(type) {
	case *image.NRGBA:
		for y := 0; y < h; y++ {
			s := src.Pix[src.PixOffset(b.Min.X, b.Min.Y+y):][:4*w]
			d := out.Pix[y*out.Stride:][:4*w]
			for i := 0; i < len(s); i += 4 {
				a := uint32(s[i+3])
				d[i+0] = Over8(uint32(s[i+0]), a)
				d[i+1] = Over8(uint32(s[i+1]), a)
				d[i+2] = Over8(uint32(s[i+2]), a)
				d[i+3] = 0xFF
			}
		}
	case *image.RGBA: // premultiplied: c + (255-a)
		for y := 0; y < h; y++ {
			s := src.Pix[src.PixOffset(b.Min.X, b.Min.Y+y):][:4*w]
			d := out.Pix[y*out.Stride:][:4*w]
			for i := 0; i < len(s); i += 4 {
				ia := 255 - uint32(s[i+3])
				d[i+0] = uint8(min(255, uint32(s[i+0])+ia))
				d[i+1] = uint8(min(255, uint32(s[i+1])+ia))
				d[i+2] = uint8(min(255, uint32(s[i+2])+ia))
				d[i+3] = 0xFF
			}
		}
	case *image.Gray:
		for y := 0; y < h; y++ {
			s := src.Pix[src.PixOffset(b.Min.X, b.Min.Y+y):][:w]
			d := out.Pix[y*out.Stride:][:4*w]
			for x, v := range s {
				d[4*x], d[4*x+1], d[4*x+2], d[4*x+3] = v, v, v, 0xFF
			}
		}
	case *image.Paletted:
		var lut [256][4]uint8
		for i, c := range src.Palette {
			n := color.NRGBAModel.Convert(c).(color.NRGBA)
			a := uint32(n.A)
			lut[i] = [4]uint8{Over8(uint32(n.R), a), Over8(uint32(n.G), a), Over8(uint32(n.B), a), 0xFF}
		}
		for i := len(src.Palette); i < 256; i++ {
			lut[i] = [4]uint8{0, 0, 0, 0xFF} // out-of-range index: black, as browsers do
		}
		for y := 0; y < h; y++ {
			s := src.Pix[src.PixOffset(b.Min.X, b.Min.Y+y):][:w]
			d := out.Pix[y*out.Stride:][:4*w]
			for x, v := range s {
				copy(d[4*x:4*x+4], lut[v][:])
			}
		}
	case *image.NRGBA64:
		for y := 0; y < h; y++ {
			s := src.Pix[src.PixOffset(b.Min.X, b.Min.Y+y):][:8*w]
			d := out.Pix[y*out.Stride:][:4*w]
			for x := 0; x < w; x++ {
				p := s[8*x:]
				a := uint32(p[6])<<8 | uint32(p[7])
				d[4*x+0] = Over16(uint32(p[0])<<8|uint32(p[1]), a)
				d[4*x+1] = Over16(uint32(p[2])<<8|uint32(p[3]), a)
				d[4*x+2] = Over16(uint32(p[4])<<8|uint32(p[5]), a)
				d[4*x+3] = 0xFF
			}
		}
	case *image.RGBA64: // premultiplied
		for y := 0; y < h; y++ {
			s := src.Pix[src.PixOffset(b.Min.X, b.Min.Y+y):][:8*w]
			d := out.Pix[y*out.Stride:][:4*w]
			for x := 0; x < w; x++ {
				p := s[8*x:]
				ia := 65535 - (uint32(p[6])<<8 | uint32(p[7]))
				d[4*x+0] = To8(min(65535, (uint32(p[0])<<8|uint32(p[1]))+ia))
				d[4*x+1] = To8(min(65535, (uint32(p[2])<<8|uint32(p[3]))+ia))
				d[4*x+2] = To8(min(65535, (uint32(p[4])<<8|uint32(p[5]))+ia))
				d[4*x+3] = 0xFF
			}
		}
	case *image.Gray16:
		for y := 0; y < h; y++ {
			s := src.Pix[src.PixOffset(b.Min.X, b.Min.Y+y):][:2*w]
			d := out.Pix[y*out.Stride:][:4*w]
			for x := 0; x < w; x++ {
				v := To8(uint32(s[2*x])<<8 | uint32(s[2*x+1]))
				d[4*x], d[4*x+1], d[4*x+2], d[4*x+3] = v, v, v, 0xFF
			}
		}
	default: // anything else: exact, through NRGBA64
		for y := 0; y < h; y++ {
			d := out.Pix[y*out.Stride:][:4*w]
			for x := 0; x < w; x++ {
				c := color.NRGBA64Model.Convert(img.At(b.Min.X+x, b.Min.Y+y)).(color.NRGBA64)
				a := uint32(c.A)
				d[4*x+0] = Over16(uint32(c.R), a)
				d[4*x+1] = Over16(uint32(c.G), a)
				d[4*x+2] = Over16(uint32(c.B), a)
				d[4*x+3] = 0xFF
			}
		}
	}
	return out
}

// Over8 composites an 8-bit non-premultiplied channel with alpha a on white.
func Over8(c, a uint32) uint8 {
	return uint8((c*a + 255*(255-a) + 127) / 255)
}

// Over16 composites a 16-bit channel with 16-bit alpha on white and rounds
// to 8 bits.
func Over16(c, a uint32) uint8 {
	v := (uint64(c)*uint64(a) + 65535*uint64(65535-a) + 32767) / 65535 // 16-bit result
	return To8(uint32(v))
}

// To8 rounds a 16-bit value to 8 bits.
func To8(v uint32) uint8 { return uint8((v*255 + 32767) / 65535) }
