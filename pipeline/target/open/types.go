package open

import (
	"net"

	"github.com/photoguard/photoguard/pipeline/target"
	"github.com/photoguard/photoguard/pipeline/target/dir"
	"github.com/photoguard/photoguard/pipeline/target/sftp"
	"github.com/photoguard/photoguard/pipeline/target/webdav"
	"github.com/photoguard/photoguard/pipeline/target/wordpress"
)

// types is the table of target types, in the order the docs list them; the
// first is the default. A new type is one more entry (and its keys in
// Settings, when it has new ones).
var types = []targetType{
	{
		name:   "dir",
		keys:   []string{"path"},
		folder: "path",
		needs:  []need{{[]string{"path"}, "the folder photos are published to"}},
		build: func(o Options, _ string) (target.Target, error) {
			return built(dir.New(o.Path))
		},
	},
	{
		name:  "webdav",
		keys:  []string{"url", "path", "user", "password_file", "password_env", "ca_file"},
		needs: []need{{[]string{"url"}, "the share's WebDAV address, https://…"}},
		check: func(o Options, bad badFunc) {
			if o.URL != "" {
				if _, err := webdav.ParseURL(o.URL); err != nil {
					bad("url", "%s", trimPrefix(err, "webdav target: "))
				}
			}
			if o.User == "" && (o.PasswordFile != "" || o.PasswordEnv != "") {
				bad("user", "must be set when a password is given")
			}
		},
		load: func(o Options, bad badFunc) {
			if o.CAFile != "" {
				if err := webdav.CheckCAFile(o.CAFile); err != nil {
					bad("ca_file", "%s", trimPrefix(err, "webdav target: ca_file: "))
				}
			}
		},
		build: func(o Options, password string) (target.Target, error) {
			return built(webdav.New(webdav.Options{URL: o.URL, Path: o.Path, User: o.User, Password: password, CAFile: o.CAFile}))
		},
	},
	{
		name: "wordpress",
		keys: []string{"url", "user", "password_file", "password_env"},
		needs: []need{
			{[]string{"url"}, "the site's address, https://…"},
			{[]string{"user"}, "the WordPress user the application password belongs to"},
			{[]string{"password_file", "password_env"}, "the application password"},
		},
		check: func(o Options, bad badFunc) {
			if o.URL != "" {
				if err := wordpress.CheckURL(o.URL); err != nil {
					bad("url", "%v", err)
				}
			}
		},
		build: func(o Options, _ string) (target.Target, error) {
			// The wordpress package reads the application password itself.
			return built(wordpress.New(wordpress.Options{Name: o.Name, URL: o.URL, User: o.User, PasswordFile: o.PasswordFile, PasswordEnv: o.PasswordEnv}))
		},
	},
	{
		name: "sftp",
		keys: []string{"address", "path", "user", "password_file", "password_env", "key_file", "known_hosts"},
		needs: []need{
			{[]string{"address"}, "host:port of the SFTP server"},
			{[]string{"user"}, ""},
			{[]string{"key_file", "password_file", "password_env"}, ""},
			{[]string{"known_hosts"}, "the server's host key, which is always checked: save the line `ssh-keyscan -p PORT HOST` prints, after comparing its fingerprint with the one the host gives you"},
		},
		check: func(o Options, bad badFunc) {
			if o.Address == "" {
				return
			}
			if _, port, err := net.SplitHostPort(o.Address); err != nil || port == "" {
				bad("address", "%q is not host:port (for example web.school.nl:22)", o.Address)
			}
		},
		build: func(o Options, password string) (target.Target, error) {
			return built(sftp.New(sftp.Options{Address: o.Address, User: o.User, KeyFile: o.KeyFile, Password: password, KnownHosts: o.KnownHosts, Path: o.Path}))
		},
	},
}
