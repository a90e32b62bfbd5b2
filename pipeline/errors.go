package pipeline

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sort"
	"strings"
)

// Kind says what becomes of an input when a step fails. Callers ask the kind,
// never the message.
type Kind int

const (
	// KindHold: something went wrong that a person must look at (a detector
	// error, a verification that failed, a permanent target error). The input
	// is moved to held/ with a reason file; nothing is published. This is the
	// kind of every error nobody classified: privacy fails closed.
	KindHold Kind = iota
	// KindReject: policy says this photo is never published (a flagged
	// category). Moved to rejected/ with a reason file.
	KindReject
	// KindQuarantine: the input is not a usable photo (corrupt, truncated,
	// too large, not an image). Moved to quarantine/ with a reason file.
	KindQuarantine
	// KindRetry: a passing problem (the target is down, the local disk is
	// full, the file cannot be read right now). The input stays where it is
	// and is tried again later.
	KindRetry
	// KindNotReady: the file is still being written. Left alone, no outcome.
	KindNotReady
)

func (k Kind) String() string {
	switch k {
	case KindHold:
		return "hold"
	case KindReject:
		return "reject"
	case KindQuarantine:
		return "quarantine"
	case KindRetry:
		return "retry"
	case KindNotReady:
		return "not ready"
	}
	return fmt.Sprintf("kind(%d)", int(k))
}

// Error is a step's failure with its kind and a reason meant for the ICT
// coordinator (short, no file name: the report adds the input's path).
type Error struct {
	Kind   Kind
	Reason string
	Err    error
}

func (e *Error) Error() string {
	if e.Err != nil && e.Reason == "" {
		return e.Err.Error()
	}
	if e.Err != nil {
		return e.Reason + ": " + e.Err.Error()
	}
	return e.Reason
}

func (e *Error) Unwrap() error { return e.Err }

func newErr(kind Kind, err error, format string, args ...any) *Error {
	return &Error{Kind: kind, Reason: fmt.Sprintf(format, args...), Err: err}
}

// Reject, Quarantine, Hold and Retry make errors of their kind.
func Reject(format string, args ...any) error { return newErr(KindReject, nil, format, args...) }
func Quarantine(err error, format string, args ...any) error {
	return newErr(KindQuarantine, err, format, args...)
}
func Hold(err error, format string, args ...any) error { return newErr(KindHold, err, format, args...) }
func Retry(err error, format string, args ...any) error {
	return newErr(KindRetry, err, format, args...)
}

// KindOf returns the kind of err; an unclassified error is KindHold.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return KindHold
}

// ReasonOf returns the reason to show for err.
func ReasonOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Error()
	}
	return err.Error()
}

// scrub is err's message with every file path in it (of an *fs.PathError or
// *os.LinkError anywhere in its chain) replaced by "…": what a log line above
// debug level may say of an error, since an input's path may hold a child's
// name ("open …/Pietje Puk verjaardag.jpg: permission denied").
func scrub(err error) string {
	if err == nil {
		return ""
	}
	var paths []string
	var walk func(error)
	walk = func(e error) {
		switch v := e.(type) {
		case *fs.PathError:
			paths = append(paths, v.Path)
		case *os.LinkError:
			paths = append(paths, v.Old, v.New)
		}
		switch u := e.(type) {
		case interface{ Unwrap() error }:
			if next := u.Unwrap(); next != nil {
				walk(next)
			}
		case interface{ Unwrap() []error }:
			for _, next := range u.Unwrap() {
				walk(next)
			}
		}
	}
	walk(err)
	// Longest first, so that a folder does not cut a file's path in two.
	sort.Slice(paths, func(a, b int) bool { return len(paths[a]) > len(paths[b]) })
	msg := err.Error()
	for _, p := range paths {
		if p != "" {
			msg = strings.ReplaceAll(msg, p, "…")
		}
	}
	return msg
}
