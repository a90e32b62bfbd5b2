package dlib

import (
	"bytes"
	"fmt"
	"image"
	"math"

	"github.com/viam-labs/go-libjpeg/jpeg"
	xdraw "golang.org/x/image/draw"
)

// jpegQuality for the copy handed to dlib: high enough that compression
// artefacts do not move the descriptors, cheap at these sizes.
const jpegQuality = 95

// encoded is a resized, JPEG-encoded copy of a source image.
type encoded struct {
	jpeg  []byte
	scale float64         // requested scale factor
	src   image.Rectangle // bounds of the source image
	w, h  int             // size of the encoded copy
}

// scaleFor is the factor for an image of bounds b: enlarge by up to
// `enlarge`, but keep the long side within maxSide.
func scaleFor(b image.Rectangle, maxSide int, enlarge float64) float64 {
	l := float64(max(b.Dx(), b.Dy()))
	return min(enlarge, float64(maxSide)/l)
}

// encodeScaled resizes img by s into an RGB copy and encodes it as a
// 3-component baseline JPEG, the only input go-face decodes. Shrinking uses
// x/image/draw's bilinear kernel, which filters over the whole footprint;
// enlarging (for HOG) uses enlarge, which is 5-10 times faster.
func encodeScaled(img image.Image, s float64) (*encoded, error) {
	b := img.Bounds()
	w := max(1, int(math.Round(float64(b.Dx())*s)))
	h := max(1, int(math.Round(float64(b.Dy())*s)))
	var src image.Image
	switch {
	case w == b.Dx() && h == b.Dy():
		src = rgbaLike(img) // the encoder reads RGBA and NRGBA directly (alpha ignored)
	case w > b.Dx() || h > b.Dy():
		src = enlarge(rgbaLike(img), w, h)
	default:
		dst := image.NewRGBA(image.Rect(0, 0, w, h))
		xdraw.BiLinear.Scale(dst, dst.Bounds(), img, b, xdraw.Src, nil)
		src = dst
	}
	var buf bytes.Buffer
	buf.Grow(w * h / 4)
	if err := jpeg.Encode(&buf, src, &jpeg.EncoderOptions{Quality: jpegQuality}); err != nil {
		return nil, fmt.Errorf("dlib: encoding %dx%d copy: %w", w, h, err)
	}
	return &encoded{jpeg: buf.Bytes(), scale: s, src: b, w: w, h: h}, nil
}

// rgbaLike returns img if it is *image.RGBA or *image.NRGBA (4 bytes per
// pixel, R, G, B first), and otherwise an RGBA copy of it.
func rgbaLike(img image.Image) image.Image {
	switch img.(type) {
	case *image.RGBA, *image.NRGBA:
		return img
	}
	b := img.Bounds()
	dst := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	xdraw.Draw(dst, dst.Bounds(), img, b.Min, xdraw.Src)
	return dst
}

// enlarge scales an RGBA or NRGBA image up to w x h by bilinear
// interpolation of R, G and B (alpha is set opaque), in 8-bit fixed point.
// Each source row is interpolated horizontally once and reused for the
// output rows that need it.
func enlarge(img image.Image, w, h int) *image.RGBA {
	var pix []uint8
	var stride int
	switch m := img.(type) {
	case *image.RGBA:
		pix, stride = m.Pix, m.Stride
	case *image.NRGBA:
		pix, stride = m.Pix, m.Stride
	default:
		panic("enlarge: not RGBA or NRGBA")
	}
	sb := img.Bounds()
	sw, sh := sb.Dx(), sb.Dy()
	type tap struct {
		i0, i1 int    // byte offsets of the two source pixels in a row
		f      uint32 // weight of the second, 0..256
	}
	taps := func(n, sn int, mult int) []tap {
		t := make([]tap, n)
		for i := range t {
			f := (float64(i)+0.5)*float64(sn)/float64(n) - 0.5
			f = max(f, 0)
			i0 := min(int(f), sn-1)
			i1 := min(i0+1, sn-1)
			t[i] = tap{i0 * mult, i1 * mult, uint32((f-float64(i0))*256 + 0.5)}
		}
		return t
	}
	xt, yt := taps(w, sw, 4), taps(h, sh, 1)
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	// rows[k] holds source row rowY[k] interpolated horizontally, 3 uint32
	// per output pixel, scaled by 256.
	rows := [2][]uint32{make([]uint32, 3*w), make([]uint32, 3*w)}
	rowY := [2]int{-1, -1}
	hrow := func(sy int) []uint32 {
		for k := range rows {
			if rowY[k] == sy {
				return rows[k]
			}
		}
		k := 0
		if rowY[0] >= 0 && (rowY[1] < 0 || rowY[1] < rowY[0]) {
			k = 1 // replace the older row
		}
		r, src := rows[k], pix[sy*stride:]
		for x, t := range xt {
			g := 256 - t.f
			r[3*x] = uint32(src[t.i0])*g + uint32(src[t.i1])*t.f
			r[3*x+1] = uint32(src[t.i0+1])*g + uint32(src[t.i1+1])*t.f
			r[3*x+2] = uint32(src[t.i0+2])*g + uint32(src[t.i1+2])*t.f
		}
		rowY[k] = sy
		return r
	}
	for y, t := range yt {
		r0, r1 := hrow(t.i0), hrow(t.i1)
		g := 256 - t.f
		out := dst.Pix[y*dst.Stride : y*dst.Stride+4*w]
		for x := 0; x < w; x++ {
			out[4*x] = uint8((r0[3*x]*g + r1[3*x]*t.f + 1<<15) >> 16)
			out[4*x+1] = uint8((r0[3*x+1]*g + r1[3*x+1]*t.f + 1<<15) >> 16)
			out[4*x+2] = uint8((r0[3*x+2]*g + r1[3*x+2]*t.f + 1<<15) >> 16)
			out[4*x+3] = 0xff
		}
	}
	return dst
}

// toSource maps a go-face rectangle in the encoded copy back to the source
// image, rounding outwards, and clips it to the source bounds. go-face hands
// over dlib's inclusive right and bottom edges as Max; they are made
// exclusive here.
func (e *encoded) toSource(r image.Rectangle) image.Rectangle {
	sx := float64(e.src.Dx()) / float64(e.w)
	sy := float64(e.src.Dy()) / float64(e.h)
	x0 := e.src.Min.X + int(math.Floor(float64(r.Min.X)*sx))
	y0 := e.src.Min.Y + int(math.Floor(float64(r.Min.Y)*sy))
	x1 := e.src.Min.X + int(math.Ceil(float64(r.Max.X+1)*sx))
	y1 := e.src.Min.Y + int(math.Ceil(float64(r.Max.Y+1)*sy))
	return image.Rect(x0, y0, x1, y1).Intersect(e.src)
}
