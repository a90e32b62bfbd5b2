package open

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/photoguard/photoguard/pipeline/target/webdav/webdavtest"
)

func write(t *testing.T, path, data string, mode os.FileMode) string {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestValidateNamesTheKey(t *testing.T) {
	d := t.TempDir()
	pwFile := write(t, filepath.Join(d, "pw"), "geheim\n", 0o600)
	open := write(t, filepath.Join(d, "open-pw"), "geheim\n", 0o644)
	kh := write(t, filepath.Join(d, "known_hosts"), "", 0o644)
	key := write(t, filepath.Join(d, "key"), "", 0o600)
	for _, c := range []struct {
		name string
		s    Settings
		want []string // "key: part of the message"; none: valid
	}{
		{"dir ok", Settings{Type: "dir", Path: "/srv/out"}, nil},
		{"default type is dir", Settings{Path: "/srv/out"}, nil},
		{"dir without path", Settings{Type: "dir"}, []string{"targets.t.path: must be set"}},
		{"dir with url", Settings{Type: "dir", Path: "/x", URL: "https://a.nl/"}, []string{"targets.t.url: is not used by type dir"}},
		{"unknown type", Settings{Type: "ftp"}, []string{`targets.t.type: "ftp" is not a target type`}},
		{"webdav ok", Settings{Type: "webdav", URL: "https://cloud.school.nl/remote.php/dav/files/foto/", Path: "Fotos", User: "foto", PasswordFile: pwFile}, nil},
		{"webdav env ok", Settings{Type: "webdav", URL: "https://cloud.school.nl/dav/", User: "foto", PasswordEnv: "PHOTOGUARD_WEBDAV_PASSWORD"}, nil},
		{"webdav no url", Settings{Type: "webdav"}, []string{"targets.t.url: must be set"}},
		{"webdav http", Settings{Type: "webdav", URL: "http://cloud.school.nl/dav"}, []string{"targets.t.url:", "unencrypted"}},
		{"webdav password in url", Settings{Type: "webdav", URL: "https://foto:geheim@cloud.school.nl/dav"}, []string{"targets.t.url: url holds a user or password"}},
		{"webdav both secrets", Settings{Type: "webdav", URL: "https://a.nl/", User: "u", PasswordFile: pwFile, PasswordEnv: "X"}, []string{"targets.t.password_env: give password_file or password_env, not both"}},
		{"webdav password without user", Settings{Type: "webdav", URL: "https://a.nl/", PasswordFile: pwFile}, []string{"targets.t.user: must be set"}},
		{"webdav key_file", Settings{Type: "webdav", URL: "https://a.nl/", KeyFile: key}, []string{"targets.t.key_file: is not used by type webdav"}},
		{"password in password_env", Settings{Type: "webdav", URL: "https://a.nl/", User: "u", PasswordEnv: "Welkom 2026!"}, []string{"targets.t.password_env: is the name of an environment variable"}},
		{"password file readable by all", Settings{Type: "webdav", URL: "https://a.nl/", User: "u", PasswordFile: open}, []string{"targets.t.password_file:", "readable by everyone"}},
		{"password file missing", Settings{Type: "webdav", URL: "https://a.nl/", User: "u", PasswordFile: filepath.Join(d, "nope")}, []string{"targets.t.password_file:", "no such file"}},
		{"sftp ok", Settings{Type: "sftp", Address: "web.school.nl:22", User: "foto", KeyFile: key, KnownHosts: kh, Path: "public_html/fotos"}, nil},
		{"sftp no known_hosts", Settings{Type: "sftp", Address: "web.school.nl:22", User: "foto", KeyFile: key}, []string{"targets.t.known_hosts: must be set"}},
		{"sftp known_hosts missing", Settings{Type: "sftp", Address: "web.school.nl:22", User: "foto", KeyFile: key, KnownHosts: filepath.Join(d, "nope")}, []string{"targets.t.known_hosts:", "no such file"}},
		{"sftp no port", Settings{Type: "sftp", Address: "web.school.nl", User: "foto", KeyFile: key, KnownHosts: kh}, []string{"targets.t.address:", "not host:port"}},
		{"sftp nothing", Settings{Type: "sftp"}, []string{"targets.t.address: must be set", "targets.t.user: must be set", "targets.t.key_file:", "targets.t.known_hosts: must be set"}},
		{"sftp url", Settings{Type: "sftp", Address: "h:22", User: "u", KeyFile: key, KnownHosts: kh, URL: "https://a.nl"}, []string{"targets.t.url: is not used by type sftp"}},
		{"wordpress needs", Settings{Type: "wordpress"}, []string{"targets.t.url: must be set", "targets.t.user: must be set", "targets.t.password_file:"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			ps := Options{Name: "t", Settings: c.s}.Validate()
			if len(c.want) == 0 {
				if len(ps) > 0 {
					t.Fatalf("valid settings refused: %v", ps)
				}
				return
			}
			msg := ps.Error()
			for _, w := range c.want {
				if !strings.Contains(msg, w) {
					t.Errorf("problems %q lack %q", msg, w)
				}
			}
			if strings.Contains(msg, "geheim") {
				t.Errorf("a secret is in the message: %q", msg)
			}
		})
	}
}

func TestWarnings(t *testing.T) {
	d := t.TempDir()
	group := write(t, filepath.Join(d, "pw"), "x", 0o640)
	private := write(t, filepath.Join(d, "pw2"), "x", 0o600)
	if w := (Options{Name: "t", Settings: Settings{PasswordFile: group}}).Warnings(); len(w) != 1 || !strings.Contains(w.Error(), "targets.t.password_file") {
		t.Errorf("group-readable: %v", w)
	}
	if w := (Options{Name: "t", Settings: Settings{PasswordFile: private}}).Warnings(); len(w) != 0 {
		t.Errorf("private: %v", w)
	}
}

// The factory builds working targets; the password comes from the file
// (its first line) or the environment, never from the settings.
func TestNewBuildsTargets(t *testing.T) {
	ctx := context.Background()
	out := filepath.Join(t.TempDir(), "out")
	tg, err := New(Options{Name: "site", Settings: Settings{Path: out}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tg.Publish(ctx, "a.jpg", []byte("a")); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(out, "a.jpg")); err != nil {
		t.Fatal(err)
	}

	share := t.TempDir()
	srv := webdavtest.New(t, share)
	pw := write(t, filepath.Join(t.TempDir(), "pw"), webdavtest.Password+"\r\n", 0o600)
	for name, o := range map[string]Options{
		"file": {Name: "cloud", Settings: Settings{Type: "webdav", URL: srv.URL, Path: "fotos", User: webdavtest.User, PasswordFile: pw}},
		"env": {Name: "cloud", Settings: Settings{Type: "webdav", URL: srv.URL, Path: "fotos", User: webdavtest.User, PasswordEnv: "PG_TEST_PW"},
			LookupEnv: func(k string) (string, bool) { return webdavtest.Password, k == "PG_TEST_PW" }},
	} {
		tg, err := New(o)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if _, err := tg.Publish(ctx, name+".jpg", []byte(name)); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got, _ := os.ReadFile(filepath.Join(share, "fotos", name+".jpg")); string(got) != name {
			t.Fatalf("%s: content %q", name, got)
		}
	}
	_, err = New(Options{Name: "cloud", Settings: Settings{Type: "webdav", URL: srv.URL, User: "u", PasswordEnv: "PG_UNSET"},
		LookupEnv: func(string) (string, bool) { return "", false }})
	if err == nil || !strings.Contains(err.Error(), "targets.cloud.password_env") || !strings.Contains(err.Error(), "PG_UNSET is not set") {
		t.Fatalf("unset variable: %v", err)
	}
	empty := write(t, filepath.Join(t.TempDir(), "empty"), "\n", 0o600)
	if _, err := New(Options{Name: "cloud", Settings: Settings{Type: "webdav", URL: srv.URL, User: "u", PasswordFile: empty}}); err == nil || !strings.Contains(err.Error(), "is empty") {
		t.Fatalf("empty password file: %v", err)
	}

	// sftp: built without connecting (its tests run against OpenSSH).
	d := t.TempDir()
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	block, _ := ssh.MarshalPrivateKey(priv, "")
	key := write(t, filepath.Join(d, "key"), string(pem.EncodeToMemory(block)), 0o600)
	sp, _ := ssh.NewPublicKey(pub)
	kh := write(t, filepath.Join(d, "known_hosts"), knownhosts.Line([]string{"web.school.nl"}, sp)+"\n", 0o644)
	if _, err := New(Options{Name: "web", Settings: Settings{Type: "sftp", Address: "web.school.nl:22", User: "foto", KeyFile: key, KnownHosts: kh, Path: "fotos"}}); err != nil {
		t.Fatalf("sftp: %v", err)
	}
	if _, err := New(Options{Name: "web", Settings: Settings{Type: "sftp", Address: "other.school.nl:22", User: "foto", KeyFile: key, KnownHosts: kh}}); err == nil || !strings.Contains(err.Error(), "target web:") {
		t.Fatalf("sftp host not in known_hosts: %v", err)
	}
	// wordpress: built without connecting (its tests run against WordPress).
	t.Setenv("PG_TEST_WP_UNSET", "")
	if _, err := New(Options{Name: "wp", Settings: Settings{Type: "wordpress", URL: "https://www.school.nl", User: "u", PasswordEnv: "PG_TEST_WP_UNSET"}}); err == nil || !strings.Contains(err.Error(), "targets.wp.password_env") {
		t.Fatalf("wordpress without its password: %v", err)
	}
	wpPass := write(t, filepath.Join(d, "wp-pass"), "abcd efgh ijkl mnop qrst uvwx\n", 0o600)
	if _, err := New(Options{Name: "wp", Settings: Settings{Type: "wordpress", URL: "https://www.school.nl", User: "u", PasswordFile: wpPass}}); err != nil {
		t.Fatalf("wordpress: %v", err)
	}
	if ps := (Options{Name: "wp", Settings: Settings{Type: "wordpress", URL: "http://www.school.nl", User: "u", PasswordFile: wpPass}}).Validate(); len(ps) == 0 || !strings.Contains(ps[0].Error(), "targets.wp.url") {
		t.Fatalf("wordpress over plain http to another host: %v", ps)
	}
}

func TestIsSecretKey(t *testing.T) {
	for k, want := range map[string]bool{
		"targets.cloud.password": true, "targets.cloud.pass": true, "targets.wp.application_password": true,
		"targets.cloud.password_file": false, "targets.cloud.password_env": false, "targets.cloud.user": false,
	} {
		if IsSecretKey(k) != want {
			t.Errorf("IsSecretKey(%q) = %v", k, !want)
		}
	}
}
