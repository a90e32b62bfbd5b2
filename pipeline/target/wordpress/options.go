package wordpress

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/photoguard/photoguard/pipeline/target/internal/remote"
)

// DefaultTimeout bounds one request (an upload of a large photo over a
// school's uplink included) when Options.Timeout is zero.
const DefaultTimeout = 2 * time.Minute

// Options configure a WordPress target. Every field but Transport is a
// configuration key under targets.<Name>.
type Options struct {
	// Name is the target's name in the configuration; messages name the
	// keys as targets.<Name>.url and so on.
	Name string
	// URL is the site's address, for example https://www.school.nl (or
	// https://www.school.nl/blog for a site in a folder). The REST API is
	// found under it (/wp-json/, or ?rest_route= on sites without pretty
	// permalinks). https is required unless the host is this machine.
	URL string
	// User is the WordPress user name the application password belongs to.
	User string
	// PasswordFile is a file holding the application password (spaces as
	// WordPress shows them are fine). It must not be readable by everyone.
	PasswordFile string
	// PasswordEnv names an environment variable holding the application
	// password. Exactly one of PasswordFile and PasswordEnv is set.
	PasswordEnv string
	// Timeout bounds each request; 0 means DefaultTimeout.
	Timeout time.Duration
	// Transport, when set, replaces the HTTP transport (tests, a private
	// CA). The default verifies TLS certificates against the system's roots.
	Transport http.RoundTripper
}

func (o Options) key(k string) string {
	name := o.Name
	if name == "" {
		name = "<name>"
	}
	return "targets." + name + "." + k
}

// Validate checks the options without reading the password.
func (o Options) Validate() error {
	var errs []error
	bad := func(k, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", o.key(k), fmt.Sprintf(format, args...)))
	}
	if o.URL == "" {
		bad("url", "missing: the WordPress site's address, for example https://www.school.nl")
	} else if _, err := siteURL(o.URL); err != nil {
		bad("url", "%v", err)
	}
	if strings.TrimSpace(o.User) == "" {
		bad("user", "missing: the WordPress user name the application password belongs to")
	}
	switch {
	case o.PasswordFile == "" && o.PasswordEnv == "":
		errs = append(errs, fmt.Errorf("%s or %s: missing: where the application password is (a file, or an environment variable); never put the password itself in the configuration",
			o.key("password_file"), o.key("password_env")))
	case o.PasswordFile != "" && o.PasswordEnv != "":
		errs = append(errs, fmt.Errorf("%s and %s are both set: use one", o.key("password_file"), o.key("password_env")))
	}
	if o.Timeout < 0 {
		bad("timeout", "must not be negative")
	}
	return errors.Join(errs...)
}

// CheckURL checks a site's address as New does: https (or http to this
// machine only), a host, no user or password, no query or fragment.
func CheckURL(raw string) error {
	_, err := siteURL(raw)
	return err
}

// siteURL parses and checks the site's address; the result has no trailing
// slash.
func siteURL(raw string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return nil, fmt.Errorf("%q is not an address: %v", raw, err)
	}
	if u.Scheme != "https" && u.Scheme != "http" {
		return nil, fmt.Errorf("%q: give the site's address with https://", raw)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("%q has no host name", raw)
	}
	if u.User != nil {
		return nil, errors.New("holds a user name or password: put the user in user and the application password in a password_file")
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("%q: give the site's address without ?query or #fragment", raw)
	}
	if u.Scheme == "http" && !remote.Loopback(u.Hostname()) {
		return nil, fmt.Errorf("%q: use https:// (over http the application password would travel readable by anyone on the way; WordPress refuses it too)", raw)
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = ""
	return u, nil
}

// password reads the application password from where the options say.
func (o Options) password() (string, error) {
	if o.PasswordEnv != "" {
		pw := strings.TrimSpace(os.Getenv(o.PasswordEnv))
		if pw == "" {
			return "", fmt.Errorf("%s: the environment variable %s is not set or empty", o.key("password_env"), o.PasswordEnv)
		}
		return pw, nil
	}
	f, err := os.Open(o.PasswordFile)
	if err != nil {
		return "", fmt.Errorf("%s: %v", o.key("password_file"), err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return "", fmt.Errorf("%s: %v", o.key("password_file"), err)
	}
	if !info.Mode().IsRegular() {
		return "", fmt.Errorf("%s: %s is not a regular file", o.key("password_file"), o.PasswordFile)
	}
	if info.Mode().Perm()&0o004 != 0 {
		return "", fmt.Errorf("%s: %s is readable by every user of this machine: chmod 600 (or 640 with the service's group)", o.key("password_file"), o.PasswordFile)
	}
	buf := make([]byte, 4096)
	n, err := f.Read(buf)
	if err != nil && n == 0 {
		return "", fmt.Errorf("%s: %s is empty", o.key("password_file"), o.PasswordFile)
	}
	pw := strings.TrimSpace(string(buf[:n]))
	if pw == "" || strings.ContainsAny(pw, "\r\n") {
		return "", fmt.Errorf("%s: %s must hold the application password alone, on one line", o.key("password_file"), o.PasswordFile)
	}
	return pw, nil
}
