package pipeline

import "errors"

// IsPermanent reports whether a target error will not go away by retrying
// (permission denied, a request the target will always refuse). Targets mark
// such errors with a method Permanent() bool; everything else is retried.
func IsPermanent(err error) bool {
	var p interface{ Permanent() bool }
	return errors.As(err, &p) && p.Permanent()
}
