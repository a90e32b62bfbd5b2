// Package open builds a publishing target from its settings (the
// targets.<name> keys of the configuration): the one place that knows the
// target types (dir, webdav, sftp, wordpress).
//
// Invariant: secrets are read only here and only from a file or an
// environment variable, never from the settings themselves; every problem
// names the key (targets.<name>.<key>) a person must change, and no message
// holds a secret.
package open

import (
	"fmt"
	"io"
	"maps"
	"net"
	"os"
	"regexp"
	"slices"
	"strings"

	"github.com/photoguard/photoguard/internal/keyerr"
	"github.com/photoguard/photoguard/pipeline/target"
	"github.com/photoguard/photoguard/pipeline/target/dir"
	"github.com/photoguard/photoguard/pipeline/target/sftp"
	"github.com/photoguard/photoguard/pipeline/target/webdav"
	"github.com/photoguard/photoguard/pipeline/target/wordpress"
)

// Types are the target types, in the order the docs list them.
var Types = []string{"dir", "webdav", "wordpress", "sftp"}

// Options are one target's settings; the field comments give their keys.
type Options struct {
	Name         string // the <name> in targets.<name>
	Type         string // type: dir (default), webdav, wordpress, sftp
	URL          string // url: webdav, wordpress
	Address      string // address: sftp, host:port
	Path         string // path: the folder (dir: local; webdav, sftp: on the server)
	User         string // user
	PasswordFile string // password_file
	PasswordEnv  string // password_env
	KeyFile      string // key_file: sftp
	KnownHosts   string // known_hosts: sftp
	CAFile       string // ca_file: webdav

	// LookupEnv reads the environment (os.LookupEnv when nil).
	LookupEnv func(string) (string, bool)
}

func (o Options) key(k string) string {
	if o.Name == "" {
		return k
	}
	return "targets." + o.Name + "." + k
}

func (o Options) typ() string {
	t := strings.ToLower(strings.TrimSpace(o.Type))
	if t == "" {
		return "dir"
	}
	return t
}

// envName is what an environment variable's name looks like; anything
// else in password_env is likely the password itself.
var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// Validate checks the settings without contacting any server: the keys
// each type needs, the keys it does not use, the URL, and that the files
// named exist (and a password file is not readable by everyone).
func (o Options) Validate() keyerr.Errors {
	var ps keyerr.Errors
	bad := func(key, format string, args ...any) { ps.Add(o.key(key), format, args...) }
	typ := o.typ()
	set := map[string]string{
		"url": o.URL, "address": o.Address, "user": o.User, "password_file": o.PasswordFile,
		"password_env": o.PasswordEnv, "key_file": o.KeyFile, "known_hosts": o.KnownHosts, "ca_file": o.CAFile,
	}
	var uses []string
	switch typ {
	case "dir":
		if o.Path == "" {
			bad("path", "must be set (the folder photos are published to)")
		}
	case "webdav":
		uses = []string{"url", "user", "password_file", "password_env", "ca_file"}
		if o.URL == "" {
			bad("url", "must be set (the share's WebDAV address, https://…)")
		} else if _, err := webdav.ParseURL(o.URL); err != nil {
			bad("url", "%s", strings.TrimPrefix(err.Error(), "webdav target: "))
		}
		if o.User == "" && (o.PasswordFile != "" || o.PasswordEnv != "") {
			bad("user", "must be set when a password is given")
		}
	case "wordpress":
		uses = []string{"url", "user", "password_file", "password_env"}
		if o.URL == "" {
			bad("url", "must be set (the site's address, https://…)")
		}
		if o.User == "" {
			bad("user", "must be set (the WordPress user the application password belongs to)")
		}
		if o.PasswordFile == "" && o.PasswordEnv == "" {
			bad("password_file", "password_file or password_env must be set (the application password)")
		}
		if len(ps) == 0 {
			if err := o.wordpress().Validate(); err != nil {
				ps = append(ps, &keyerr.Error{Key: o.key("url"), Msg: strings.TrimPrefix(err.Error(), o.key("url")+": ")})
			}
		}
	case "sftp":
		uses = []string{"address", "user", "password_file", "password_env", "key_file", "known_hosts"}
		if o.Address == "" {
			bad("address", "must be set (host:port of the SFTP server)")
		} else if _, port, err := net.SplitHostPort(o.Address); err != nil || port == "" {
			bad("address", "%q is not host:port (for example web.school.nl:22)", o.Address)
		}
		if o.User == "" {
			bad("user", "must be set")
		}
		if o.KeyFile == "" && o.PasswordFile == "" && o.PasswordEnv == "" {
			bad("key_file", "key_file, password_file or password_env must be set")
		}
		if o.KnownHosts == "" {
			bad("known_hosts", "must be set: the server's host key is always checked (save the line `ssh-keyscan -p PORT HOST` prints, after comparing its fingerprint with the one the host gives you)")
		}
	default:
		bad("type", "%q is not a target type (%s)", o.Type, strings.Join(Types, ", "))
		return ps
	}
	keys := slices.Sorted(maps.Keys(set))
	for _, k := range keys {
		if set[k] != "" && !slices.Contains(uses, k) {
			bad(k, "is not used by type %s", typ)
		}
	}
	if o.PasswordFile != "" && o.PasswordEnv != "" {
		bad("password_env", "give password_file or password_env, not both")
	}
	if o.PasswordEnv != "" && !envName.MatchString(o.PasswordEnv) {
		bad("password_env", "is the name of an environment variable (like PHOTOGUARD_WEBDAV_PASSWORD), not the password itself; if this is the password, change it, since the configuration file may have been read by others")
	}
	for _, k := range []string{"password_file", "key_file", "known_hosts", "ca_file"} {
		if p := set[k]; p != "" && slices.Contains(uses, k) {
			st, err := os.Stat(p)
			switch {
			case err != nil:
				bad(k, "%v", err)
			case !st.Mode().IsRegular():
				bad(k, "%s is not a file", p)
			case (k == "password_file" || k == "key_file") && st.Mode().Perm()&0o004 != 0:
				bad(k, "%s is readable by everyone; make it readable only by the service user (chmod 600)", p)
			}
		}
	}
	return ps
}

// Check is everything New checks before it builds the target, without
// building it or contacting anything: Validate, then the secret (a
// password_file that is empty, a password_env that is not set) and the
// ca_file's certificates. config check and every start go through it, so
// that config check passes exactly what a start accepts.
func (o Options) Check() keyerr.Errors {
	if ps := o.Validate(); len(ps) > 0 {
		return ps
	}
	var ps keyerr.Errors
	typ := o.typ()
	if typ != "dir" && (o.PasswordFile != "" || o.PasswordEnv != "") {
		if _, err := o.password(); err != nil {
			ps = append(ps, err)
		}
	}
	if typ == "webdav" && o.CAFile != "" {
		if err := webdav.CheckCAFile(o.CAFile); err != nil {
			ps = append(ps, &keyerr.Error{Key: o.key("ca_file"), Msg: strings.TrimPrefix(err.Error(), "webdav target: ca_file: ")})
		}
	}
	return ps
}

// Warnings are what is allowed but unwise: a password or key file that its
// group may read.
func (o Options) Warnings() keyerr.Errors {
	var ps keyerr.Errors
	for k, p := range map[string]string{"password_file": o.PasswordFile, "key_file": o.KeyFile} {
		if p == "" {
			continue
		}
		if st, err := os.Stat(p); err == nil && st.Mode().Perm()&0o040 != 0 && st.Mode().Perm()&0o004 == 0 {
			ps = append(ps, &keyerr.Error{Key: o.key(k), Msg: fmt.Sprintf("%s is readable by its group; make it readable only by the service user (chmod 600)", p)})
		}
	}
	return ps
}

// New validates the settings, reads the password (from password_file or
// password_env) and builds the target. Nothing is contacted: a server that
// is down at start is a passing problem for the first upload to report.
func New(o Options) (target.Target, error) {
	if ps := o.Check(); len(ps) > 0 {
		return nil, ps
	}
	switch o.typ() {
	case "dir":
		tg, err := dir.New(o.Path)
		return wrap(o, tg, err)
	case "webdav":
		pw, perr := o.password()
		if perr != nil {
			return nil, perr
		}
		tg, err := webdav.New(webdav.Options{URL: o.URL, Path: o.Path, User: o.User, Password: pw, CAFile: o.CAFile})
		return wrap(o, tg, err)
	case "sftp":
		pw, perr := o.password()
		if perr != nil {
			return nil, perr
		}
		tg, err := sftp.New(sftp.Options{Address: o.Address, User: o.User, KeyFile: o.KeyFile, Password: pw, KnownHosts: o.KnownHosts, Path: o.Path})
		return wrap(o, tg, err)
	case "wordpress":
		// The wordpress package reads the application password itself.
		tg, err := wordpress.New(o.wordpress())
		return wrap(o, tg, err)
	}
	return nil, &keyerr.Error{Key: o.key("type"), Msg: fmt.Sprintf("%q is not a target type", o.Type)}
}

func (o Options) wordpress() wordpress.Options {
	return wordpress.Options{Name: o.Name, URL: o.URL, User: o.User, PasswordFile: o.PasswordFile, PasswordEnv: o.PasswordEnv}
}

// wrap returns tg as a target.Target (a nil *T as a nil interface) and
// names the target in err.
func wrap[T target.Target](o Options, tg T, err error) (target.Target, error) {
	if err != nil {
		return nil, fmt.Errorf("target %s: %w", o.Name, err)
	}
	return tg, nil
}

// maxSecret bounds a password file: a password is short; a big file is
// the wrong file.
const maxSecret = 4096

// password reads the secret from password_file (its first line, without
// the line end) or password_env; "" when neither is set.
func (o Options) password() (string, *keyerr.Error) {
	switch {
	case o.PasswordFile != "":
		f, err := os.Open(o.PasswordFile)
		if err != nil {
			return "", &keyerr.Error{Key: o.key("password_file"), Msg: err.Error()}
		}
		defer f.Close()
		b, err := io.ReadAll(io.LimitReader(f, maxSecret+1))
		if err != nil {
			return "", &keyerr.Error{Key: o.key("password_file"), Msg: err.Error()}
		}
		if len(b) > maxSecret {
			return "", &keyerr.Error{Key: o.key("password_file"), Msg: fmt.Sprintf("%s is larger than a password (%d bytes at most)", o.PasswordFile, maxSecret)}
		}
		pw, _, _ := strings.Cut(string(b), "\n")
		pw = strings.TrimSuffix(pw, "\r")
		if pw == "" {
			return "", &keyerr.Error{Key: o.key("password_file"), Msg: fmt.Sprintf("%s is empty", o.PasswordFile)}
		}
		return pw, nil
	case o.PasswordEnv != "":
		lookup := o.LookupEnv
		if lookup == nil {
			lookup = os.LookupEnv
		}
		pw, ok := lookup(o.PasswordEnv)
		if !ok || pw == "" {
			return "", &keyerr.Error{Key: o.key("password_env"), Msg: fmt.Sprintf("the environment variable %s is not set (set it in the service's environment, for example with systemd's Environment= or EnvironmentFile=)", o.PasswordEnv)}
		}
		return pw, nil
	}
	return "", nil
}

// IsSecretKey reports whether a configuration key (its last part) would
// hold a secret in plain text: password, pass, secret, token and the like.
// Such keys are refused with PlainSecretMsg.
func IsSecretKey(key string) bool {
	last := strings.ToLower(key[strings.LastIndexByte(key, '.')+1:])
	switch last {
	case "password", "pass", "passwd", "pwd", "secret", "token", "application_password", "app_password", "passphrase", "api_key", "key":
		return true
	}
	return false
}

// PlainSecretMsg is the message for a secret written in the configuration.
const PlainSecretMsg = "a password in plain text does not belong in the configuration file: put it in a file readable only by the service user and set password_file, or in the service's environment and set password_env; then change the password, since this file may have been read or copied by others"
