// Package remote holds what the network targets (webdav, sftp, wordpress)
// share: their error type, which carries its kind (permanent or passing)
// and a hint for the ICT coordinator, the check that a published name is plain, and which
// hosts are this machine (the only ones plain http may go to).
//
// Invariant: an Error's message holds the operation, a neutral output name
// or folder, the server's or network's answer and a hint; never a secret.
package remote

import (
	"errors"
	"fmt"
	"net"
	"path"
	"strings"
)

// Error is a failed call to a target.
type Error struct {
	Target string // "webdav target", "sftp target"
	Op     string // "uploading", "deleting", ...
	Name   string
	Status int // the HTTP status, when there is one
	Hint   string
	Err    error
	Perm   bool
}

func (e *Error) Error() string {
	msg := e.Target + ": " + e.Op + " " + e.Name + ": "
	switch {
	case e.Err != nil:
		msg += e.Err.Error()
	case e.Status != 0:
		msg += fmt.Sprint(e.Status)
	}
	if e.Hint != "" {
		msg += " (" + e.Hint + ")"
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Err }

// Permanent reports whether retrying cannot help.
func (e *Error) Permanent() bool { return e.Perm }

type permanentError struct{ error }

func (permanentError) Permanent() bool { return true }
func (e permanentError) Unwrap() error { return e.error }

// Permanent marks err as one retrying cannot fix.
func Permanent(err error) error { return permanentError{err} }

// IsPermanent is pipeline.IsPermanent (not imported: the pipeline imports
// its targets' users, not the other way round).
func IsPermanent(err error) bool {
	var p interface{ Permanent() bool }
	return errors.As(err, &p) && p.Permanent()
}

// CheckName refuses a name that is not a plain, visible file name.
func CheckName(target, name string) error {
	if name == "" || name != path.Base(name) || strings.HasPrefix(name, ".") || strings.ContainsAny(name, "/\\") {
		return Permanent(fmt.Errorf("%s: %q is not a plain file name", target, name))
	}
	return nil
}

// Loopback reports whether host is this machine (localhost, 127.0.0.0/8,
// ::1): the only place a password may be sent over plain http.
func Loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
