package wordpress

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"
)

// Error is a failed request to the site. It says what was being done, what
// WordPress answered and what to check; Permanent reports whether retrying
// can help. It never holds the password.
type Error struct {
	Target  string // the target's name in the configuration
	Op      string // "uploading 20261201-69a2f5949b21.jpg"
	Status  int    // the HTTP status, 0 when there was no answer
	Code    string // WordPress's error code (rest_cannot_create, ...)
	Message string // WordPress's message, shortened
	Hint    string // what to check
	Err     error  // the network or TLS error, if any
	perm    bool
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("wordpress target")
	if e.Target != "" {
		b.WriteString(" " + e.Target)
	}
	b.WriteString(": " + e.Op)
	if e.Status != 0 {
		fmt.Fprintf(&b, ": HTTP %d", e.Status)
		if e.Code != "" || e.Message != "" {
			b.WriteString(" (" + strings.TrimPrefix(e.Code+": "+e.Message, ": ") + ")")
		}
	}
	if e.Err != nil {
		b.WriteString(": " + e.Err.Error())
	}
	if e.Hint != "" {
		b.WriteString(": " + e.Hint)
	}
	return b.String()
}

// Permanent reports whether the error will not go away by retrying.
func (e *Error) Permanent() bool { return e.perm }

func (e *Error) Unwrap() error { return e.Err }

// statusError classifies a non-2xx answer. size is the length of the body
// that was sent.
func (t *Target) statusError(op string, resp *http.Response, body []byte, size int) error {
	e := &Error{Target: t.opts.Name, Op: op, Status: resp.StatusCode, perm: true}
	var wp struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	}
	if isJSON(resp) && json.Unmarshal(body, &wp) == nil {
		e.Code = t.scrub(wp.Code, 80)
		e.Message = t.scrub(wp.Message, 300)
	}
	pwKey := t.opts.key("password_file") + " (" + t.opts.PasswordFile + ")"
	if t.opts.PasswordEnv != "" {
		pwKey = t.opts.key("password_env") + " (" + t.opts.PasswordEnv + ")"
	}
	switch s := resp.StatusCode; {
	case s/100 == 3:
		e.Hint = fmt.Sprintf("the site redirects to %s: set %s to the address it redirects to", t.scrub(resp.Header.Get("Location"), 300), t.opts.key("url"))
	case s == http.StatusUnauthorized:
		e.Hint = fmt.Sprintf("WordPress did not accept the user and application password: check %s (%q) and the application password in %s; "+
			"a web server that drops the Authorization header, or a security plugin that switches application passwords off, has the same effect",
			t.opts.key("user"), t.opts.User, pwKey)
	case s == http.StatusForbidden:
		e.Hint = fmt.Sprintf("the user %q (%s) may not do this: it needs the Author role or higher to upload and delete its own media (Editor to delete media others uploaded)",
			t.opts.User, t.opts.key("user"))
	case s == http.StatusNotFound:
		e.Hint = fmt.Sprintf("the site has no such REST route: check %s; a plugin may switch the REST API off", t.opts.key("url"))
	case s == http.StatusRequestEntityTooLarge:
		e.Hint = fmt.Sprintf("the photo (%d bytes) is larger than the site accepts: raise the web server's and PHP's upload limits (post_max_size, upload_max_filesize, client_max_body_size) or publish smaller photos (max_side, quality)", size)
	case s == http.StatusUnsupportedMediaType:
		e.Hint = "the site does not accept this file type"
	case e.Code == "rest_upload_no_data":
		e.Hint = fmt.Sprintf("WordPress received no data: the photo (%d bytes) is probably larger than PHP's post_max_size on the site", size)
	case e.Code == "rest_upload_sideload_error":
		// WordPress answers 500, but the causes do not pass by themselves:
		// a file type the user may not upload, an uploads folder it cannot
		// write.
		e.Hint = "WordPress could not store the file (a file type this user may not upload, or an uploads folder the site cannot write)"
	case s == http.StatusRequestTimeout || s == http.StatusTooManyRequests || s >= 500:
		e.perm = false
		e.Hint = "the site is busy or failing; photoguard will try again"
	case s == http.StatusBadRequest:
		e.Hint = "WordPress refused the request"
	}
	return e
}

// networkError classifies a request that got no answer: retried, except a
// TLS certificate the system does not trust (that needs a person).
func (t *Target) networkError(op string, err error) error {
	e := &Error{Target: t.opts.Name, Op: op, Err: err, Hint: "photoguard will try again"}
	var unknown x509.UnknownAuthorityError
	var host x509.HostnameError
	var invalid x509.CertificateInvalidError
	var verify *tls.CertificateVerificationError
	if errors.As(err, &unknown) || errors.As(err, &host) || errors.As(err, &invalid) || errors.As(err, &verify) {
		e.perm = true
		e.Hint = fmt.Sprintf("the site's TLS certificate is not valid for %s or not signed by an authority this machine trusts: fix the certificate or %s",
			t.site.Hostname(), t.opts.key("url"))
	}
	return e
}

// scrub shortens text from the site for an error message and makes sure
// it cannot carry the password.
func (t *Target) scrub(s string, max int) string {
	if t.password != "" {
		// The password as given, as WordPress stores it (no spaces) and as
		// it travels (the base64 of user:password in the Authorization
		// header), in case a plugin or proxy echoes the request.
		for _, secret := range []string{t.password, strings.ReplaceAll(t.password, " ", ""),
			base64.StdEncoding.EncodeToString([]byte(t.opts.User + ":" + t.password))} {
			s = strings.ReplaceAll(s, secret, "***")
		}
	}
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > max {
		cut := max
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}
