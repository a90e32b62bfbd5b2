package sftp

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/photoguard/photoguard/pipeline/target/internal/remote"
)

// Error is a failed SFTP call: the operation, the photo or folder, and what
// the server or the network said. It never holds a secret.
type Error = remote.Error

func permanent(err error) error { return remote.Permanent(err) }

// SFTP status codes (draft-ietf-secsh-filexfer-13) beyond those pkg/sftp
// names.
const (
	fxWriteProtect   = 12
	fxNoSpace        = 14
	fxQuotaExceeded  = 15
	fxNoSuchPath     = 10
	fxOpUnsupported  = 8
	fxPermissionDeny = 3
)

// serverAnswer is true for an error the server sent (the connection is
// fine); everything else (EOF, connection lost, a network error) means the
// connection must be dialled again.
func serverAnswer(err error) bool {
	var se *sftp.StatusError
	return errors.As(err, &se) || errors.Is(err, os.ErrNotExist) || errors.Is(err, os.ErrPermission) || isPermanent(err)
}

func isPermanent(err error) bool { return remote.IsPermanent(err) }

// classify marks what retrying cannot fix. A generic failure (which
// OpenSSH also sends for a full disk) and every network error pass.
func classify(op, name string, err error) error {
	e := &Error{Target: "sftp target", Op: op, Name: name, Err: err}
	var se *sftp.StatusError
	switch {
	case errors.Is(err, os.ErrPermission):
		e.Perm, e.Hint = true, "the user may not write there: check path and the folder's permissions"
	case errors.As(err, &se):
		switch se.Code {
		case fxPermissionDeny, fxWriteProtect:
			e.Perm, e.Hint = true, "the user may not write there: check path and the folder's permissions"
		case fxOpUnsupported:
			e.Perm, e.Hint = true, "the server does not support this"
		case fxQuotaExceeded, fxNoSpace:
			e.Perm, e.Hint = true, "the host is full: free space or raise the quota"
		case fxNoSuchPath:
			e.Hint = "the folder is missing"
		}
	case errors.Is(err, io.EOF), errors.Is(err, sftp.ErrSSHFxConnectionLost):
		e.Hint = "the connection was lost; tried again later"
	}
	return e
}

// handshakeError explains a failed SSH handshake: a host key that is not
// the one in known_hosts, a refused login (both permanent), or a network
// problem (passes).
func handshakeError(addr string, err error) error {
	e := &Error{Target: "sftp target", Op: "connecting to", Name: addr, Err: err}
	var ke *knownhosts.KeyError
	var re *knownhosts.RevokedError
	switch {
	case errors.As(err, &ke) && len(ke.Want) > 0:
		e.Perm = true
		e.Err = errors.New("the server's host key is not the one in known_hosts")
		e.Hint = "someone may be intercepting the connection, or the host was reinstalled: ask the host for its key fingerprint before you change known_hosts"
	case errors.As(err, &ke):
		e.Perm = true
		e.Err = errors.New("the server's host key is not in known_hosts")
		e.Hint = "add the line that ssh-keyscan prints for this host, after checking its fingerprint with the host"
	case errors.As(err, &re):
		e.Perm = true
		e.Err = errors.New("the server's host key is marked revoked in known_hosts")
	case strings.Contains(err.Error(), "unable to authenticate"):
		e.Perm = true
		e.Err = errors.New("the server refused the login")
		e.Hint = "check user, key_file or password_file/password_env"
	case strings.Contains(err.Error(), "no common algorithm"):
		e.Perm = true
		e.Err = fmt.Errorf("no common algorithm with the server: %v", err)
	}
	return e
}
