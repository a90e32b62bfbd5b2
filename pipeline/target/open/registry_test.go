package open

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The table is consistent: every key a type registers is a key of
// Settings, every key of Settings is used by some type, every need and the
// local folder name keys of their type, every kind names a key.
func TestRegistryConsistent(t *testing.T) {
	used := map[string]bool{}
	for _, ty := range types {
		for _, k := range ty.keys {
			if _, ok := fields[k]; !ok || k == "type" {
				t.Errorf("type %s: key %q is not a key of Settings", ty.name, k)
			}
			used[k] = true
		}
		for _, n := range ty.needs {
			for _, k := range n.keys {
				if !ty.uses(k) {
					t.Errorf("type %s needs %q, which it does not use", ty.name, k)
				}
			}
		}
		if ty.folder != "" && !ty.uses(ty.folder) {
			t.Errorf("type %s: folder key %q is not one of its keys", ty.name, ty.folder)
		}
		if ty.build == nil {
			t.Errorf("type %s has no constructor", ty.name)
		}
	}
	for _, k := range settingKeys {
		if !used[k] {
			t.Errorf("key %q of Settings is used by no type", k)
		}
	}
	for k := range kinds {
		if _, ok := fields[k]; !ok {
			t.Errorf("kinds names %q, not a key of Settings", k)
		}
	}
	if got := strings.Join(typeNames(), ", "); got != "dir, webdav, wordpress, sftp" {
		t.Errorf("types in the docs' order: %s", got)
	}
}

// Each type's validation from the table: what it accepts, each key it
// needs, a key of another type, and its own checks; and an unknown type.
func TestRegistryValidate(t *testing.T) {
	d := t.TempDir()
	pw := write(t, filepath.Join(d, "pw"), "geheim\n", 0o600)
	key := write(t, filepath.Join(d, "key"), "", 0o600)
	kh := write(t, filepath.Join(d, "known_hosts"), "", 0o644)
	ca := write(t, filepath.Join(d, "ca.pem"), "", 0o644)
	for _, c := range []struct {
		name string
		s    Settings
		want []string // each "key: message" exactly; none: valid
	}{
		{"unknown type", Settings{Type: "ftp", Path: "/srv/out"},
			[]string{`targets.t.type: "ftp" is not a target type (dir, webdav, wordpress, sftp)`}},
		{"type in capitals", Settings{Type: " WebDAV ", URL: "https://cloud.school.nl/dav/"}, nil},

		{"dir", Settings{Path: "/srv/out"}, nil},
		{"dir needs", Settings{Type: "dir"}, []string{"targets.t.path: must be set (the folder photos are published to)"}},
		{"dir with sftp keys", Settings{Path: "/srv/out", Address: "h:22", KnownHosts: kh},
			[]string{"targets.t.address: is not used by type dir", "targets.t.known_hosts: is not used by type dir"}},
		{"dir with a password", Settings{Path: "/srv/out", PasswordFile: pw},
			[]string{"targets.t.password_file: is not used by type dir"}},

		{"webdav", Settings{Type: "webdav", URL: "https://cloud.school.nl/dav/", Path: "Fotos", User: "foto", PasswordFile: pw, CAFile: ca}, nil},
		{"webdav needs", Settings{Type: "webdav"}, []string{"targets.t.url: must be set (the share's WebDAV address, https://…)"}},
		{"webdav with address", Settings{Type: "webdav", URL: "https://a.nl/", Address: "a.nl:443"},
			[]string{"targets.t.address: is not used by type webdav"}},
		{"webdav http", Settings{Type: "webdav", URL: "http://cloud.school.nl/dav"}, []string{"targets.t.url: "}},
		{"webdav password without user", Settings{Type: "webdav", URL: "https://a.nl/", PasswordEnv: "PG_PW"},
			[]string{"targets.t.user: must be set when a password is given"}},
		{"webdav ca_file missing", Settings{Type: "webdav", URL: "https://a.nl/", CAFile: filepath.Join(d, "nope.pem")},
			[]string{"targets.t.ca_file: stat " + filepath.Join(d, "nope.pem") + ": no such file or directory"}},

		{"wordpress", Settings{Type: "wordpress", URL: "https://www.school.nl", User: "photoguard", PasswordEnv: "PG_WP"}, nil},
		{"wordpress needs", Settings{Type: "wordpress"}, []string{
			"targets.t.url: must be set (the site's address, https://…)",
			"targets.t.user: must be set (the WordPress user the application password belongs to)",
			"targets.t.password_file: password_file or password_env must be set (the application password)"}},
		{"wordpress with a path", Settings{Type: "wordpress", URL: "https://www.school.nl", User: "u", PasswordFile: pw, Path: "fotos"},
			[]string{"targets.t.path: is not used by type wordpress"}},
		{"wordpress with ca_file", Settings{Type: "wordpress", URL: "https://www.school.nl", User: "u", PasswordFile: pw, CAFile: ca},
			[]string{"targets.t.ca_file: is not used by type wordpress"}},
		{"wordpress url with query", Settings{Type: "wordpress", URL: "https://www.school.nl/?p=1", User: "u", PasswordFile: pw},
			[]string{"targets.t.url: \"https://www.school.nl/?p=1\": give the site's address without ?query or #fragment"}},
		{"wordpress url checked while user is missing", Settings{Type: "wordpress", URL: "ftp://www.school.nl", PasswordFile: pw},
			[]string{"targets.t.user: must be set", "targets.t.url: \"ftp://www.school.nl\": give the site's address with https://"}},

		{"sftp", Settings{Type: "sftp", Address: "web.school.nl:22", User: "foto", KeyFile: key, KnownHosts: kh, Path: "public_html"}, nil},
		{"sftp with a password", Settings{Type: "sftp", Address: "web.school.nl:22", User: "foto", PasswordEnv: "PG_PW", KnownHosts: kh}, nil},
		{"sftp needs", Settings{Type: "sftp"}, []string{
			"targets.t.address: must be set (host:port of the SFTP server)",
			"targets.t.user: must be set",
			"targets.t.key_file: key_file, password_file or password_env must be set",
			"targets.t.known_hosts: must be set (the server's host key, which is always checked: save the line `ssh-keyscan -p PORT HOST` prints"}},
		{"sftp with url and ca_file", Settings{Type: "sftp", Address: "h:22", User: "u", KeyFile: key, KnownHosts: kh, URL: "https://a.nl", CAFile: ca},
			[]string{"targets.t.ca_file: is not used by type sftp", "targets.t.url: is not used by type sftp"}},
		{"sftp address without port", Settings{Type: "sftp", Address: "web.school.nl:", User: "u", KeyFile: key, KnownHosts: kh},
			[]string{`targets.t.address: "web.school.nl:" is not host:port (for example web.school.nl:22)`}},
		{"sftp key readable by all", Settings{Type: "sftp", Address: "h:22", User: "u", KeyFile: kh, KnownHosts: kh},
			[]string{"targets.t.key_file: " + kh + " is readable by everyone; make it readable only by the service user (chmod 600)"}},
		{"sftp known_hosts a folder", Settings{Type: "sftp", Address: "h:22", User: "u", KeyFile: key, KnownHosts: d},
			[]string{"targets.t.known_hosts: " + d + " is not a file"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			ps := Options{Name: "t", Settings: c.s}.Validate()
			if len(c.want) == 0 {
				if len(ps) > 0 {
					t.Fatalf("valid settings refused: %v", ps)
				}
				return
			}
			if len(ps) != len(c.want) {
				t.Errorf("%d problems, want %d:\n%v", len(ps), len(c.want), ps)
			}
			lines := strings.Split(ps.Error(), "\n")
			for _, w := range c.want {
				if !slices.ContainsFunc(lines, func(l string) bool { return strings.HasPrefix(l, w) }) {
					t.Errorf("problems lack %q:\n%v", w, ps)
				}
			}
			if strings.Contains(ps.Error(), "geheim") {
				t.Errorf("a secret is in the message: %v", ps)
			}
		})
	}
}

// Only the paths on this machine are resolved: the files named and a dir
// target's folder, not a folder on a server; LocalFolder is a dir target's
// folder only.
func TestResolveAndLocalFolder(t *testing.T) {
	abs := func(p string) string {
		if filepath.IsAbs(p) {
			return p
		}
		return filepath.Join("/etc/photoguard", p)
	}
	for _, c := range []struct {
		s          Settings
		wantPath   string
		wantFolder string // "" when the target publishes to a server
	}{
		{Settings{Path: "out", PasswordFile: "pw"}, "/etc/photoguard/out", "/etc/photoguard/out"},
		{Settings{Type: "dir", Path: "/srv/out"}, "/srv/out", "/srv/out"},
		{Settings{Type: "webdav", Path: "Fotos", PasswordFile: "pw", CAFile: "ca.pem"}, "Fotos", ""},
		{Settings{Type: "sftp", Path: "public_html", KeyFile: "pw", KnownHosts: "pw"}, "public_html", ""},
		{Settings{Type: "ftp", Path: "out", PasswordFile: "pw"}, "out", ""},
	} {
		s := c.s
		s.Resolve(abs)
		if s.Path != c.wantPath {
			t.Errorf("%s: path %q, want %q", c.s.TypeName(), s.Path, c.wantPath)
		}
		for _, f := range []string{s.PasswordFile, s.KeyFile, s.KnownHosts, s.CAFile} {
			if f != "" && f != "/etc/photoguard/pw" && f != "/etc/photoguard/ca.pem" {
				t.Errorf("%s: a file left relative: %q", c.s.TypeName(), f)
			}
		}
		if s.URL != "" || s.User != "" || s.PasswordEnv != "" {
			t.Errorf("%s: an unset key was set: %+v", c.s.TypeName(), s)
		}
		folder, ok := s.LocalFolder()
		if folder != c.wantFolder || ok != (c.wantFolder != "") {
			t.Errorf("%s: LocalFolder = %q, %v; want %q", c.s.TypeName(), folder, ok, c.wantFolder)
		}
	}
	if _, ok := (Settings{}).LocalFolder(); ok {
		t.Error("a dir target without a path has a local folder")
	}
}

// The README's table of target keys says, for each key, the types the
// table here lets use it.
func TestREADMEListsEachTypesKeys(t *testing.T) {
	readme, err := os.ReadFile("../../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]string{} // key -> its "types" cell
	for _, line := range strings.Split(string(readme), "\n") {
		cells := strings.Split(line, "|")
		if len(cells) < 4 {
			continue
		}
		cell := strings.TrimSpace(cells[1])
		k := strings.Trim(cell, "`")
		if _, ok := fields[k]; ok && k != "type" && cell == "`"+k+"`" {
			rows[k] = strings.TrimSpace(cells[2])
		}
	}
	for _, k := range settingKeys {
		var want []string
		for _, ty := range types {
			if ty.uses(k) {
				want = append(want, ty.name)
			}
		}
		got, ok := rows[k]
		if !ok {
			t.Errorf("README: no row for the key %s", k)
			continue
		}
		if len(want) == len(types) {
			if got != "all" {
				t.Errorf("README: %s is for %q, but every type uses it", k, got)
			}
			continue
		}
		listed := strings.Split(got, ", ")
		slices.Sort(listed)
		slices.Sort(want)
		if !slices.Equal(listed, want) {
			t.Errorf("README: %s is for %q; the types that use it: %s", k, got, strings.Join(want, ", "))
		}
	}
}
