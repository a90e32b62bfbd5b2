// Package open builds a publishing target from its settings (the
// targets.<name> keys of the configuration). Each target type (dir, webdav,
// wordpress, sftp) is one entry of a table (types.go): the keys it uses,
// what must be set, its checks and its constructor; Validate, Check,
// Warnings and New read the table and name no type.
//
// Invariant: secrets are read only here and only from a file or an
// environment variable, never from the settings themselves; every problem
// names the key (targets.<name>.<key>) a person must change, and no message
// holds a secret.
package open

import (
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"

	"github.com/photoguard/photoguard/internal/keyerr"
	"github.com/photoguard/photoguard/pipeline/target"
)

// Settings are one target's keys: the union of every type's, each field's
// tag its key (targets.<name>.<tag>). Which keys a type uses, its entry in
// the table says. The configuration embeds Settings in its config.Target.
type Settings struct {
	Type         string `mapstructure:"type"`          // dir (the default), webdav, wordpress, sftp
	URL          string `mapstructure:"url"`           // the share's or site's address
	Address      string `mapstructure:"address"`       // host:port
	Path         string `mapstructure:"path"`          // the folder (dir: on this machine; others: on the server)
	User         string `mapstructure:"user"`          // the account photoguard logs in with
	PasswordFile string `mapstructure:"password_file"` // a file whose first line is the password
	PasswordEnv  string `mapstructure:"password_env"`  // an environment variable holding it
	KeyFile      string `mapstructure:"key_file"`      // a private key
	KnownHosts   string `mapstructure:"known_hosts"`   // the server's host key
	CAFile       string `mapstructure:"ca_file"`       // an extra certificate authority (PEM)
}

// Options are one target's settings and its name.
type Options struct {
	Name string // the <name> in targets.<name>
	Settings

	// LookupEnv reads the environment (os.LookupEnv when nil).
	LookupEnv func(string) (string, bool)
}

// TypeName is the type the settings name: type in lower case, the default
// (dir) when it is not set.
func (s Settings) TypeName() string {
	t := strings.ToLower(strings.TrimSpace(s.Type))
	if t == "" {
		return types[0].name
	}
	return t
}

// Resolve makes the paths on this machine absolute with abs: the files
// named (password_file, key_file, known_hosts, ca_file) and the folder a
// type publishes into (a dir target's path). A folder on a server stays as
// it is.
func (s *Settings) Resolve(abs func(string) string) {
	resolve := func(k string) {
		if p := s.field(k); *p != "" {
			*p = abs(*p)
		}
	}
	for k, kd := range kinds {
		if kd == file || kd == secretFile {
			resolve(k)
		}
	}
	if t, ok := lookup(s.TypeName()); ok && t.folder != "" {
		resolve(t.folder)
	}
}

// LocalFolder is the folder on this machine the target publishes into (a
// dir target's path), for the checks that keep the inbox, the state folder
// and the targets apart; ok is false for a target that publishes to a
// server, and when the folder is not set.
func (s Settings) LocalFolder() (folder string, ok bool) {
	t, known := lookup(s.TypeName())
	if !known || t.folder == "" || s.get(t.folder) == "" {
		return "", false
	}
	return s.get(t.folder), true
}

func (o Options) key(k string) string {
	if o.Name == "" {
		return k
	}
	return "targets." + o.Name + "." + k
}

// adder adds problems to es under the target's keys.
func (o Options) adder(es *keyerr.Errors) badFunc {
	return func(k, format string, args ...any) { es.Add(o.key(k), format, args...) }
}

// envNameForm is what an environment variable's name looks like; anything
// else in password_env is likely the password itself.
var envNameForm = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// Validate checks the settings without contacting any server: the type,
// the keys it needs, the keys it does not use, its own checks of the
// values, and that the files named exist (and a secret file is not
// readable by everyone).
func (o Options) Validate() keyerr.Errors {
	var es keyerr.Errors
	bad := o.adder(&es)
	t, ok := lookup(o.TypeName())
	if !ok {
		bad("type", "%q is not a target type (%s)", o.Type, strings.Join(typeNames(), ", "))
		return es
	}
	for _, n := range t.needs {
		set := false
		for _, k := range n.keys {
			set = set || o.get(k) != ""
		}
		if !set {
			bad(n.keys[0], "%s", n.msg())
		}
	}
	if t.check != nil {
		t.check(o, bad)
	}
	for _, k := range settingKeys {
		if o.get(k) != "" && !t.uses(k) {
			bad(k, "is not used by type %s", t.name)
		}
	}
	if o.PasswordFile != "" && o.PasswordEnv != "" {
		bad("password_env", "give password_file or password_env, not both")
	}
	for _, k := range t.keys {
		v := o.get(k)
		if v == "" {
			continue
		}
		switch kinds[k] {
		case envName:
			if !envNameForm.MatchString(v) {
				bad(k, "is the name of an environment variable (like PHOTOGUARD_WEBDAV_PASSWORD), not the password itself; if this is the password, change it, since the configuration file may have been read by others")
			}
		case file, secretFile:
			st, err := os.Stat(v)
			switch {
			case err != nil:
				bad(k, "%v", err)
			case !st.Mode().IsRegular():
				bad(k, "%s is not a file", v)
			case kinds[k] == secretFile && st.Mode().Perm()&0o004 != 0:
				bad(k, "%s is readable by everyone; make it readable only by the service user (chmod 600)", v)
			}
		}
	}
	return es
}

// Check is everything New checks before it builds the target, without
// building it or contacting anything: Validate, then the secret (a
// password_file that is empty, a password_env that is not set) and what
// else the type reads from its files (a ca_file's certificates). config
// check and every start go through it, so that config check passes exactly
// what a start accepts.
func (o Options) Check() keyerr.Errors {
	if es := o.Validate(); len(es) > 0 {
		return es
	}
	var es keyerr.Errors
	if _, err := o.password(); err != nil {
		es = append(es, err)
	}
	if t, _ := lookup(o.TypeName()); t.load != nil {
		t.load(o, o.adder(&es))
	}
	return es
}

// Warnings are what is allowed but unwise: a secret file that its group
// may read.
func (o Options) Warnings() keyerr.Errors {
	var es keyerr.Errors
	for _, k := range settingKeys {
		p := o.get(k)
		if kinds[k] != secretFile || p == "" {
			continue
		}
		if st, err := os.Stat(p); err == nil && st.Mode().Perm()&0o040 != 0 && st.Mode().Perm()&0o004 == 0 {
			es.Add(o.key(k), "%s is readable by its group; make it readable only by the service user (chmod 600)", p)
		}
	}
	return es
}

// New checks the settings (Check), reads the password (from password_file
// or password_env) and builds the target. Nothing is contacted: a server
// that is down at start is a passing problem for the first upload to
// report.
func New(o Options) (target.Target, error) {
	if es := o.Check(); len(es) > 0 {
		return nil, es
	}
	t, _ := lookup(o.TypeName())
	pw, perr := o.password()
	if perr != nil {
		return nil, perr
	}
	tg, err := t.build(o, pw)
	if err != nil {
		return nil, fmt.Errorf("target %s: %w", o.Name, err)
	}
	return tg, nil
}

// trimPrefix is err's message without prefix.
func trimPrefix(err error, prefix string) string { return strings.TrimPrefix(err.Error(), prefix) }

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
