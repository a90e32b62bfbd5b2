package pipeline

import (
	"context"
	"errors"
)

// TempNamer is a target.Target that uploads under a temporary name before it
// renames the upload to its name (WebDAV). TempName is that name for name,
// the same for every attempt: the publication ledger records it before the
// upload, because an upload the target gave up on may still land under it
// later, and a takedown or a sweep must be able to reach it.
type TempNamer interface {
	TempName(name string) string
}

// TempRemover removes a temporary upload (a name TempName made); what is
// gone is no error.
type TempRemover interface {
	RemoveTemp(ctx context.Context, temp string) error
}

// IsPermanent reports whether a target error will not go away by retrying
// (permission denied, a request the target will always refuse). Targets mark
// such errors with a method Permanent() bool; everything else is retried.
func IsPermanent(err error) bool {
	var p interface{ Permanent() bool }
	return errors.As(err, &p) && p.Permanent()
}
