package webdav

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/photoguard/photoguard/pipeline/target/internal/remote"
)

// Error is a failed WebDAV call. Its message names the operation, the photo
// (a neutral output name) and the server's answer; never the password.
type Error = remote.Error

func permanent(err error) error { return remote.Permanent(err) }

// permanentStatus says which answers retrying will not change. 5xx, 408,
// 423 (locked), 425 and 429 pass; the other refusals do not.
func permanentStatus(code int) bool {
	switch {
	case code == http.StatusRequestTimeout, code == http.StatusLocked, code == http.StatusTooEarly,
		code == http.StatusTooManyRequests:
		return false
	case code == http.StatusNotImplemented, code == http.StatusHTTPVersionNotSupported,
		code == http.StatusInsufficientStorage, code == http.StatusLoopDetected:
		return true
	case code >= 500:
		return false
	}
	return true // 3xx (not followed) and 4xx
}

// hints say what to do about an answer.
var hints = map[int]string{
	http.StatusUnauthorized:          "the server refused the user or password: check user and password_file/password_env",
	http.StatusForbidden:             "the user may not write in this folder",
	http.StatusNotFound:              "the folder does not exist and could not be made: check url and path",
	http.StatusConflict:              "the folder does not exist and could not be made: check url and path",
	http.StatusMethodNotAllowed:      "the server does not allow this here: is url the share's WebDAV address?",
	http.StatusRequestEntityTooLarge: "the photo is larger than the server accepts: lower output.max_side or raise the server's upload limit",
	http.StatusUnsupportedMediaType:  "the server refuses this kind of file",
	http.StatusLocked:                "the file is locked by someone else; tried again later",
	http.StatusInsufficientStorage:   "the share is full: free space or raise its quota",
	http.StatusTooManyRequests:       "the server is busy; tried again later",
	http.StatusServiceUnavailable:    "the server is busy; tried again later",
}

func hint(code int, resp *http.Response) string {
	if h, ok := hints[code]; ok {
		return h
	}
	if code >= 300 && code < 400 {
		loc := ""
		if resp != nil {
			loc = resp.Header.Get("Location")
		}
		if u, err := url.Parse(loc); err == nil && loc != "" {
			u.User = nil
			return "the server redirects to " + u.String() + ": set url to the address it redirects to"
		}
		return "the server redirects: set url to the share's own address"
	}
	if code >= 500 {
		return "a server error; tried again later"
	}
	return ""
}

func statusError(op, name string, resp *http.Response) error {
	return &Error{Target: "webdav target", Op: op, Name: name, Status: resp.StatusCode, Hint: hint(resp.StatusCode, resp),
		Err: errors.New(resp.Status), Perm: permanentStatus(resp.StatusCode)}
}

// wrap classifies an error of the transport: a certificate that is not
// trusted is permanent (a setting must change); the rest (refused, reset,
// timed out, DNS) passes. The URL net/http puts in front is dropped.
func (t *Target) wrap(op, name string, err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	e := &Error{Target: "webdav target", Op: op, Name: name, Err: err}
	// A server that does not answer in time is said so, with the time it
	// had, not as the transport's words.
	var ne net.Error
	switch {
	case strings.Contains(err.Error(), "timeout awaiting response headers"):
		// The transport's wait for an answer (it also matches
		// DeadlineExceeded).
		e.Err = &timeoutError{err: err, msg: "the server did not answer within " + seconds(t.answer)}
		return e
	case errors.Is(err, context.DeadlineExceeded):
		e.Err = &timeoutError{err: err, msg: "the server did not answer within " + seconds(t.timeout)}
		return e
	case errors.As(err, &ne) && ne.Timeout():
		e.Err = &timeoutError{err: err, msg: "the server did not answer within " + seconds(t.answer)}
		return e
	case errors.Is(err, syscall.ECONNREFUSED):
		e.Hint = "nothing answers at that address: is the server up, and is url right?"
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) && dnsErr.IsNotFound {
		e.Hint = "the server's name is not known: check url"
	}
	var unknownCA x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var invalid x509.CertificateInvalidError
	var verify *tls.CertificateVerificationError
	switch {
	case errors.As(err, &unknownCA), errors.As(err, &verify):
		e.Perm = true
		e.Hint = "the server's certificate is not trusted: if the school uses its own certificate authority, give it with ca_file"
	case errors.As(err, &hostErr):
		e.Perm = true
		e.Hint = "the server's certificate is for another name: check url"
	case errors.As(err, &invalid):
		e.Perm = true
		e.Hint = "the server's certificate is not valid (expired?)"
	case errors.Is(err, http.ErrSchemeMismatch):
		e.Perm = true
		e.Hint = "the server speaks plain http, not https"
	}
	return e
}

// timeoutError is a call the server did not answer in time; it unwraps to
// the transport's error (a timeout, which is retried).
type timeoutError struct {
	err error
	msg string
}

func (e *timeoutError) Error() string { return e.msg }
func (e *timeoutError) Unwrap() error { return e.err }

// seconds writes d as people read it: "90 s", "0.2 s", "2 min".
func seconds(d time.Duration) string {
	switch {
	case d >= time.Minute && d%time.Minute == 0:
		return fmt.Sprintf("%d min", d/time.Minute)
	case d%time.Second == 0:
		return fmt.Sprintf("%d s", d/time.Second)
	}
	return fmt.Sprintf("%.1f s", d.Seconds())
}

// isMissingFolder is true for an upload refused because its folder is not
// there (404, 409).
func isMissingFolder(err error) bool {
	var e *Error
	return errors.As(err, &e) && (e.Status == http.StatusNotFound || e.Status == http.StatusConflict)
}
