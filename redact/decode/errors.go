package decode

import (
	"errors"
	"fmt"
	"strings"

	"github.com/photoguard/photoguard/redact/inspect"
)

// InputError means the input itself is unusable: it is not a supported photo,
// it is damaged, or it exceeds the limits. The pipeline quarantines the file
// and shows Reason to the ICT coordinator. Reason never contains the file
// name (the caller adds it).
type InputError struct {
	// Reason is a short sentence for a person, e.g. "truncated JPEG: no
	// end-of-image marker" or "not a photo: a ZIP archive".
	Reason string
	// Err is the underlying error, if any (for logs, not for people).
	Err error
}

func (e *InputError) Error() string {
	var pe *inspect.Error
	switch {
	case e.Err == nil:
		return e.Reason
	case errors.As(e.Err, &pe) && strings.Contains(e.Reason, pe.Reason):
		return fmt.Sprintf("%s (at offset %d)", e.Reason, pe.Offset) // the parser's reason is already there
	}
	return e.Reason + ": " + e.Err.Error()
}

func (e *InputError) Unwrap() error { return e.Err }

// IsInputError reports whether err (or an error it wraps) is an *InputError.
func IsInputError(err error) bool {
	var ie *InputError
	return errors.As(err, &ie)
}

func inputErrorf(err error, format string, args ...any) *InputError {
	return &InputError{Reason: fmt.Sprintf(format, args...), Err: err}
}
