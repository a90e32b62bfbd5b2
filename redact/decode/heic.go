package decode

import (
	"fmt"
	"image"

	"github.com/photoguard/photoguard/redact/internal/pix"
	"github.com/strukturag/libheif/go/heif"
)

// decodeHEIC decodes the primary image with libheif, which applies the
// HEIF transforms (irot, imir, clap) itself. It does not apply an EXIF
// orientation: Decode does that afterwards for a HEIC without transforms
// (see inspect.HEIF.DisplayOrientation), never on top of them. The size is
// checked again on libheif's image handle before any pixel is decoded, in
// case libheif reads the header differently from package inspect.
//
// The Go binding frees libheif's memory in finalizers, so C memory of up to
// about three times the image size stays allocated until the next garbage
// collection.
func decodeHEIC(data []byte, lim Limits) (*image.NRGBA, error) {
	if len(data) == 0 {
		return nil, inputErrorf(nil, "empty file")
	}
	ctx, err := heif.NewContext()
	if err != nil {
		return nil, fmt.Errorf("redact: libheif: %w", err)
	}
	if err := ctx.ReadFromMemory(data); err != nil {
		return nil, inputErrorf(err, "damaged HEIC: libheif cannot read it")
	}
	handle, err := ctx.GetPrimaryImageHandle()
	if err != nil {
		return nil, inputErrorf(err, "damaged HEIC: no primary image")
	}
	if err := lim.checkSize(handle.GetWidth(), handle.GetHeight()); err != nil {
		return nil, err
	}
	alpha := handle.HasAlphaChannel()
	chroma := heif.Chroma(heif.ChromaInterleavedRGB)
	bpp := 3
	if alpha {
		chroma, bpp = heif.ChromaInterleavedRGBA, 4
	}
	img, err := handle.DecodeImage(heif.ColorspaceRGB, chroma, nil)
	if err != nil {
		return nil, inputErrorf(err, "damaged HEIC: libheif cannot decode it")
	}
	w, ht := img.GetWidth(heif.ChannelInterleaved), img.GetHeight(heif.ChannelInterleaved)
	if bits := img.GetBitsPerPixelRange(heif.ChannelInterleaved); bits != 8 {
		return nil, inputErrorf(nil, "unsupported HEIC: %d bits per sample after conversion", bits)
	}
	plane, err := img.GetPlane(heif.ChannelInterleaved)
	if err != nil {
		return nil, inputErrorf(err, "damaged HEIC: no pixels")
	}
	if w <= 0 || ht <= 0 || plane.Stride < w*bpp || len(plane.Plane) < (ht-1)*plane.Stride+w*bpp {
		return nil, inputErrorf(nil, "damaged HEIC: libheif returned an inconsistent image (%dx%d)", w, ht)
	}
	out := image.NewNRGBA(image.Rect(0, 0, w, ht))
	for y := 0; y < ht; y++ {
		s := plane.Plane[y*plane.Stride:][:w*bpp]
		d := out.Pix[y*out.Stride:][:4*w]
		if bpp == 3 {
			for x := 0; x < w; x++ {
				d[4*x], d[4*x+1], d[4*x+2], d[4*x+3] = s[3*x], s[3*x+1], s[3*x+2], 0xFF
			}
			continue
		}
		for x := 0; x < w; x++ {
			a := uint32(s[4*x+3])
			d[4*x] = pix.Over8(uint32(s[4*x]), a)
			d[4*x+1] = pix.Over8(uint32(s[4*x+1]), a)
			d[4*x+2] = pix.Over8(uint32(s[4*x+2]), a)
			d[4*x+3] = 0xFF
		}
	}
	return out, nil
}
