package decode

import (
	"context"
	"fmt"
	"image"
	"sync/atomic"
	"time"

	"github.com/photoguard/photoguard/redact/inspect"
)

// Decode turns untrusted bytes into upright 8-bit sRGB pixels whose long side
// is at most maxSide (0 means no bound; smaller images are not enlarged).
//
// Before any pixel is decoded it sniffs the format, checks lim against the
// file size and the header (width, height, pixels; JPEG scans and colour
// space; the PNG IEND and the JPEG end-of-image marker, so a truncated file
// is refused). Then it decodes under recover() with a deadline, the earlier
// of ctx's and lim.Timeout. JPEGs are decoded by libjpeg-turbo with DCT
// scaling to the smallest scale whose long side is still at least maxSide,
// then resized; the EXIF orientation (JPEG APP1 Exif, PNG eXIf, the Exif item
// of a HEIC without HEIF transforms) is applied after resizing (libheif
// applies a HEIC's transforms itself, and its EXIF orientation is then
// ignored); Display P3 pixels are converted to sRGB; alpha is
// composited on white; 16-bit samples are rounded to 8 bits. Every other
// colour profile is ignored (pixels are taken as sRGB).
//
// Errors about the input are *InputError (the file should be quarantined).
// When ctx ends first, Decode returns an error wrapping ctx.Err() that is not
// an *InputError: a shutdown must not quarantine a good photo. A decoder
// that passes its deadline cannot be interrupted (libjpeg and libheif are C
// code): Decode returns and the decoder finishes in the background; see
// Abandoned.
func Decode(ctx context.Context, data []byte, lim Limits, maxSide int) (*image.NRGBA, Source, error) {
	lim = lim.withDefaults()
	if err := ctx.Err(); err != nil {
		return nil, Source{}, fmt.Errorf("redact: decode not started: %w", err)
	}
	if err := lim.CheckFileSize(int64(len(data))); err != nil {
		return nil, Source{}, err
	}
	h, err := probe(data)
	if err != nil {
		return nil, Source{}, err
	}
	if err := h.check(lim); err != nil {
		return nil, h.Source, err
	}
	if maxSide < 0 {
		maxSide = 0
	}
	img, err := runDecoder(ctx, lim.Timeout, h.Format, func() (*image.NRGBA, error) {
		return h.decode(data, lim, maxSide)
	})
	if err != nil {
		return nil, h.Source, err
	}
	return img, h.Source, nil
}

// check applies the limits and the format's own pre-decode checks.
func (h *header) check(lim Limits) error {
	if h.Format == JPEG {
		if err := checkJPEG(h.jpeg); err != nil {
			return err
		}
	}
	if err := lim.checkSize(h.Width, h.Height); err != nil {
		return err
	}
	switch h.Format {
	case JPEG:
		if h.jpeg.EOI < 0 {
			if h.truncated != nil {
				return jpegInputError(h.truncated)
			}
			return inputErrorf(nil, "truncated JPEG: no end-of-image marker")
		}
		if h.jpeg.Scans > MaxJPEGScans {
			return inputErrorf(nil, "JPEG has %d scans, more than the limit of %d", h.jpeg.Scans, MaxJPEGScans)
		}
	case PNG:
		if h.png.IEND < 0 {
			if h.truncated != nil {
				return pngInputError(h.truncated)
			}
			return inputErrorf(nil, "truncated PNG: no IEND chunk")
		}
		if h.png.IDATs == 0 {
			return inputErrorf(nil, "damaged PNG: no image data (IDAT)")
		}
	}
	return nil
}

func checkJPEG(j *inspect.JPEG) error {
	f := j.Frame
	switch f.Marker {
	case inspect.SOF3, 0xC7, 0xCB, 0xCF:
		return inputErrorf(nil, "lossless JPEG is not supported: export it as a normal JPEG")
	case 0xC5, 0xC6, 0xCD, 0xCE:
		return inputErrorf(nil, "hierarchical JPEG is not supported: export it as a normal JPEG")
	}
	if f.Precision != 8 {
		return inputErrorf(nil, "%d-bit JPEG is not supported: export it as an 8-bit JPEG", f.Precision)
	}
	switch len(f.Components) {
	case 1, 3:
	case 4:
		return inputErrorf(nil, "CMYK JPEG is not supported: export it as an RGB JPEG")
	default:
		return inputErrorf(nil, "damaged JPEG: %d colour components", len(f.Components))
	}
	if j.SOFs > 1 {
		return inputErrorf(nil, "damaged JPEG: more than one frame header")
	}
	if f.Height == 0 {
		return inputErrorf(nil, "unsupported JPEG: the height is given by a DNL marker")
	}
	if j.Scans == 0 && j.EOI >= 0 {
		return inputErrorf(nil, "damaged JPEG: no image data")
	}
	return nil
}

// decode runs in the decoder goroutine.
func (h *header) decode(data []byte, lim Limits, maxSide int) (*image.NRGBA, error) {
	var img *image.NRGBA
	var err error
	switch h.Format {
	case JPEG:
		img, err = decodeJPEG(data[:h.jpeg.EOI+2], h, maxSide)
	case PNG:
		img, err = decodePNG(data[:h.png.IEND+12])
	case HEIC:
		img, err = decodeHEIC(data, lim)
	}
	if err != nil {
		return nil, err
	}
	img = Fit(img, maxSide)
	img = orient(img, h.exifOrientation)
	if h.DisplayP3 {
		p3ToSRGB(img)
	}
	return img, nil
}

// Fit resizes img so that its long side is at most maxSide (0: as it is);
// an image that fits is returned as it is.
func Fit(img *image.NRGBA, maxSide int) *image.NRGBA {
	w, h := img.Rect.Dx(), img.Rect.Dy()
	if maxSide <= 0 || max(w, h) <= maxSide {
		return img
	}
	tw, th := fitSize(w, h, maxSide)
	return resize(img, tw, th)
}

// fitSize scales w x h so that the long side is maxSide, rounding the short
// side (at least 1).
func fitSize(w, h, maxSide int) (int, int) {
	if w >= h {
		return maxSide, max(1, int((int64(h)*int64(maxSide)+int64(w)/2)/int64(w)))
	}
	return max(1, int((int64(w)*int64(maxSide)+int64(h)/2)/int64(h))), maxSide
}

var abandoned atomic.Int64

// Abandoned returns the number of decoders that passed their deadline and
// are still running in the background. C decoders cannot be interrupted; a
// daemon that sees this number grow should log it, and restart when it stays
// high.
func Abandoned() int64 { return abandoned.Load() }

type decodeResult struct {
	img *image.NRGBA
	err error
}

func runDecoder(ctx context.Context, timeout time.Duration, f Format, decode func() (*image.NRGBA, error)) (*image.NRGBA, error) {
	ch := make(chan decodeResult, 1) // buffered: an abandoned decoder never blocks
	go func() {
		defer func() {
			if r := recover(); r != nil {
				ch <- decodeResult{err: inputErrorf(fmt.Errorf("panic: %v", r), "the %s decoder failed on this file", f)}
			}
		}()
		img, err := decode()
		ch <- decodeResult{img, err}
	}()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case r := <-ch:
		return r.img, r.err
	case <-timer.C:
		abandon(ch)
		return nil, inputErrorf(nil, "decoding took longer than %v; the file may be crafted to be slow", timeout)
	case <-ctx.Done():
		abandon(ch)
		return nil, fmt.Errorf("redact: decode interrupted: %w", ctx.Err())
	}
}

func abandon(ch chan decodeResult) {
	abandoned.Add(1)
	go func() {
		<-ch
		abandoned.Add(-1)
	}()
}
