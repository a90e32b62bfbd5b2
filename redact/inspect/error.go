package inspect

import (
	"errors"
	"fmt"
)

// ErrTruncated is matched (errors.Is) by every *Error whose input ended too
// early: a JPEG without end-of-image marker, a PNG without IEND, a segment,
// chunk or box that runs past the end of the data.
var ErrTruncated = errors.New("truncated")

// Error describes what is wrong with the input and where.
type Error struct {
	// Format is "JPEG", "PNG", "HEIF" or "TIFF".
	Format string
	// Offset is the byte offset of the offending structure in the input.
	Offset int
	// Reason is a short lower-case description without the format name,
	// for example "no end-of-image marker".
	Reason string
	// Truncated is set when the input ended too early.
	Truncated bool
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s: %s (at offset %d)", e.Format, e.Reason, e.Offset)
}

// Is makes errors.Is(err, ErrTruncated) true for truncation errors.
func (e *Error) Is(target error) bool {
	return target == ErrTruncated && e.Truncated
}

// IsTruncated reports whether err says that the input ended too early.
func IsTruncated(err error) bool { return errors.Is(err, ErrTruncated) }

func errorf(format string, offset int, reason string, args ...any) *Error {
	if len(args) > 0 {
		reason = fmt.Sprintf(reason, args...)
	}
	return &Error{Format: format, Offset: offset, Reason: reason}
}

func truncatedf(format string, offset int, reason string, args ...any) *Error {
	e := errorf(format, offset, reason, args...)
	e.Truncated = true
	return e
}
