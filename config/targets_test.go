package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The target keys of issue 12: each type's keys, secrets only by file or
// environment variable, paths resolved only where they are on this machine.
func TestTargetKeys(t *testing.T) {
	base := t.TempDir()
	if err := os.WriteFile(filepath.Join(base, "webdav.pw"), []byte("x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(base, "known_hosts"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(base, "id_ed25519"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	yaml := `inbox: /srv/in
state_dir: /srv/state
targets:
  local:
    path: out
    channel: website
  cloud:
    type: webdav
    url: https://cloud.school.nl/remote.php/dav/files/foto/
    path: /
    user: foto
    password_file: webdav.pw
    channel: newsletter
  web:
    type: sftp
    address: web.school.nl:22
    user: foto
    key_file: id_ed25519
    known_hosts: known_hosts
    path: public_html/fotos
    channel: website
`
	cfg, err := Parse([]byte(yaml), base, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Targets["local"]; got.Type != "dir" || got.Path != filepath.Join(base, "out") {
		t.Errorf("dir target: %+v", got)
	}
	cloud := cfg.Targets["cloud"]
	if cloud.Path != "/" || cloud.PasswordFile != filepath.Join(base, "webdav.pw") {
		t.Errorf("webdav target: %+v", cloud)
	}
	web := cfg.Targets["web"]
	if web.Path != "public_html/fotos" || web.KnownHosts != filepath.Join(base, "known_hosts") || web.KeyFile != filepath.Join(base, "id_ed25519") {
		t.Errorf("sftp target: %+v", web)
	}
	// A remote path of "/" is not a folder here: it overlaps nothing.
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}

	for _, c := range []struct {
		yaml string
		want []string
	}{
		{"targets:\n  cloud:\n    type: webdav\n    url: https://a.nl/dav/\n    user: u\n    password: geheim\n    channel: website\n",
			[]string{"targets.cloud.password: a password in plain text does not belong in the configuration file"}},
		{"targets:\n  cloud:\n    type: webdav\n    url: https://u:geheim@a.nl/dav/\n    channel: website\n",
			[]string{"targets.cloud.url:", "holds a user or password"}},
		{"targets:\n  web:\n    type: sftp\n    address: h:22\n    user: u\n    password_env: PG_PW\n    channel: website\n",
			[]string{"targets.web.known_hosts: must be set"}},
		{"targets:\n  web:\n    type: sftp\n    address: h:22\n    user: u\n    password_env: PG_PW\n    known_hosts: nope\n    channel: website\n",
			[]string{"targets.web.known_hosts:", "no such file"}},
		{"targets:\n  x:\n    type: ftp\n    channel: website\n", []string{`targets.x.type: "ftp" is not a target type (dir, webdav, wordpress, sftp)`}},
		// Every type's keys come from pipeline/target/open's table: a key of
		// another type is refused, a misspelt one is suggested.
		{"targets:\n  x:\n    path: /srv/out\n    url: https://a.nl/\n    channel: website\n", []string{"targets.x.url: is not used by type dir"}},
		{"targets:\n  x:\n    type: wordpress\n    url: https://www.school.nl\n    user: u\n    password_env: PG_WP\n    path: fotos\n    channel: website\n",
			[]string{"targets.x.path: is not used by type wordpress"}},
		{"targets:\n  x:\n    type: webdav\n    url: https://a.nl/\n    kown_hosts: kh\n    channel: website\n",
			[]string{`targets.x.kown_hosts: unknown key (did you mean "targets.*.known_hosts"?)`}},
		// The dir target's overlap checks still hold.
		{"inbox: /srv/in\ntargets:\n  x:\n    path: /srv/in/out\n    channel: website\n", []string{"targets.x.path:", "overlap"}},
	} {
		_, err := Parse([]byte(c.yaml), base, nil)
		if err == nil {
			t.Errorf("accepted:\n%s", c.yaml)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("error %q lacks %q", err, w)
			}
		}
		if strings.Contains(err.Error(), "geheim") {
			t.Errorf("the password is in the error: %v", err)
		}
	}

	// A password file its group may read: a warning for config check.
	if err := os.Chmod(filepath.Join(base, "webdav.pw"), 0o640); err != nil {
		t.Fatal(err)
	}
	cfg, err = Parse([]byte(yaml), base, nil)
	if err != nil {
		t.Fatal(err)
	}
	if w := cfg.Warnings(); len(w) != 1 || !strings.Contains(w[0], "targets.cloud.password_file") {
		t.Errorf("warnings: %v", w)
	}
}

// Issue 19: config check refuses what a start refuses: a password_env that
// is not set, an empty password_file, a ca_file without a PEM certificate.
// (One path: Config.CheckTargets runs open.Options.Check, which open.New
// runs at start.) Loading the configuration alone does not read secrets.
func TestConfigCheckRefusesWhatStartRefuses(t *testing.T) {
	base := t.TempDir()
	for name, data := range map[string]string{"empty.pw": "", "ok.pw": "secret\n", "notpem.crt": "not a certificate\n"} {
		if err := os.WriteFile(filepath.Join(base, name), []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	os.Unsetenv("PG_UNSET_PASSWORD_19")
	dav := "inbox: /srv/in\nstate_dir: /srv/state\ntargets:\n  cloud:\n    type: webdav\n    url: https://cloud.school.nl/dav/\n    user: foto\n    channel: newsletter\n"
	for _, c := range []struct{ extra, want string }{
		{"    password_env: PG_UNSET_PASSWORD_19\n", "targets.cloud.password_env: the environment variable PG_UNSET_PASSWORD_19 is not set"},
		{"    password_file: empty.pw\n", "targets.cloud.password_file: " + filepath.Join(base, "empty.pw") + " is empty"},
		{"    password_file: ok.pw\n    ca_file: notpem.crt\n", "targets.cloud.ca_file: " + filepath.Join(base, "notpem.crt") + " holds no PEM certificate"},
		{"    password_file: ok.pw\n", ""},
	} {
		cfg, err := Parse([]byte(dav+c.extra), base, nil)
		if err == nil {
			err = cfg.CheckTargets()
		}
		if c.want == "" && err != nil || c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)) {
			t.Errorf("%s: %v, want %q", strings.TrimSpace(c.extra), err, c.want)
		}
	}
	if _, err := Parse([]byte(dav+"    password_env: PG_UNSET_PASSWORD_19\n"), base, nil); err != nil {
		t.Errorf("loading a configuration read the password: %v", err)
	}
}

// A target's keys are open.Settings' and config.Target's own, each once:
// config.Target does not repeat a key of the target types.
func TestTargetKeysOnce(t *testing.T) {
	seen := map[string]bool{}
	for _, k := range knownKeys() {
		if seen[k] {
			t.Errorf("key %s twice", k)
		}
		seen[k] = true
	}
	for _, k := range []string{"targets.*.url", "targets.*.address", "targets.*.known_hosts", "targets.*.ca_file", "targets.*.channel", "targets.*.max_side"} {
		if !seen[k] {
			t.Errorf("key %s missing", k)
		}
	}
}
