// Package keyerr is the one error type for settings that a person wrote:
// the configuration's keys, a target's keys, the inbox's options.
//
// Invariant: every problem names the key a person must change, in the
// configuration's own spelling (targets.website.path, watch.settle), and a
// list holds every problem found, so that one `config check` shows them all.
package keyerr

import (
	"errors"
	"fmt"
	"strings"
)

// Error is one problem with one key.
type Error struct {
	Key string // "targets.website.path"; relative ("settle") below its owner
	Msg string
}

func (e *Error) Error() string { return e.Key + ": " + e.Msg }

// Errors are every problem found, one line each.
type Errors []*Error

func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Add appends a problem with key.
func (es *Errors) Add(key, format string, args ...any) {
	*es = append(*es, &Error{Key: key, Msg: fmt.Sprintf(format, args...)})
}

// Err is es as an error: nil when there is no problem.
func (es Errors) Err() error {
	if len(es) == 0 {
		return nil
	}
	return es
}

// Under is es with each key put below prefix: the inbox's "settle" is the
// configuration's "watch.settle".
func (es Errors) Under(prefix string) Errors {
	out := make(Errors, len(es))
	for i, e := range es {
		out[i] = &Error{Key: prefix + "." + e.Key, Msg: e.Msg}
	}
	return out
}

// From is the problems err holds (an Errors or an *Error, also wrapped);
// nil when it holds none.
func From(err error) Errors {
	var es Errors
	if errors.As(err, &es) {
		return es
	}
	var e *Error
	if errors.As(err, &e) {
		return Errors{e}
	}
	return nil
}
