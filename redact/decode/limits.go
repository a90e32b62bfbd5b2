package decode

import (
	"errors"
	"fmt"
	"time"
)

// Limits bound what Decode accepts. They are checked against the file size
// and the image header before a single pixel is decoded, so a decompression
// bomb (a small file that claims 64250x64250 pixels) is refused in
// microseconds without allocating. A zero field means its default; there is
// no "unlimited".
type Limits struct {
	MaxFileBytes int64         // default 50 MiB
	MaxSide      int           // default 16384 (either side, as stored)
	MaxPixels    int64         // default 50_000_000
	Timeout      time.Duration // default 30s, per decode
}

// Default limits.
const (
	DefaultMaxFileBytes = 50 << 20
	DefaultMaxSide      = 16384
	DefaultMaxPixels    = 50_000_000
	DefaultTimeout      = 30 * time.Second
)

// DefaultLimits returns the default limits.
func DefaultLimits() Limits {
	return Limits{
		MaxFileBytes: DefaultMaxFileBytes,
		MaxSide:      DefaultMaxSide,
		MaxPixels:    DefaultMaxPixels,
		Timeout:      DefaultTimeout,
	}
}

// Validate reports a negative field. (Zero fields are valid: they mean the
// default.)
func (l Limits) Validate() error {
	var errs []error
	if l.MaxFileBytes < 0 {
		errs = append(errs, fmt.Errorf("redact: MaxFileBytes %d is negative", l.MaxFileBytes))
	}
	if l.MaxSide < 0 {
		errs = append(errs, fmt.Errorf("redact: MaxSide %d is negative", l.MaxSide))
	}
	if l.MaxPixels < 0 {
		errs = append(errs, fmt.Errorf("redact: MaxPixels %d is negative", l.MaxPixels))
	}
	if l.Timeout < 0 {
		errs = append(errs, fmt.Errorf("redact: Timeout %v is negative", l.Timeout))
	}
	return errors.Join(errs...)
}

// withDefaults replaces zero and negative fields by their defaults.
func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.MaxFileBytes <= 0 {
		l.MaxFileBytes = d.MaxFileBytes
	}
	if l.MaxSide <= 0 {
		l.MaxSide = d.MaxSide
	}
	if l.MaxPixels <= 0 {
		l.MaxPixels = d.MaxPixels
	}
	if l.Timeout <= 0 {
		l.Timeout = d.Timeout
	}
	return l
}

// CheckFileSize returns an *InputError when a file of size bytes exceeds
// MaxFileBytes. Decode checks it too, but a caller can refuse a huge file
// from its size (os.Stat) before reading it into memory.
func (l Limits) CheckFileSize(size int64) error {
	l = l.withDefaults()
	if size > l.MaxFileBytes {
		return inputErrorf(nil, "file is %s, more than the limit of %s", byteSize(size), byteSize(l.MaxFileBytes))
	}
	return nil
}

// checkSize checks stored dimensions against the limits.
func (l Limits) checkSize(w, h int) error {
	if w <= 0 || h <= 0 {
		return inputErrorf(nil, "image has no size (%dx%d pixels)", w, h)
	}
	if int64(w)*int64(h) > l.MaxPixels {
		return inputErrorf(nil, "image is %dx%d pixels, more than the limit of %s", w, h, megapixels(l.MaxPixels))
	}
	if w > l.MaxSide || h > l.MaxSide {
		return inputErrorf(nil, "image is %dx%d pixels, more than the limit of %d pixels per side", w, h, l.MaxSide)
	}
	return nil
}

func byteSize(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}

func megapixels(n int64) string {
	if n%1_000_000 == 0 {
		return fmt.Sprintf("%d MP", n/1_000_000)
	}
	return fmt.Sprintf("%.1f MP", float64(n)/1e6)
}
