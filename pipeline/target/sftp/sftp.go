// Package sftp is the SFTP target: the school's web host, reached over SSH
// (github.com/pkg/sftp over golang.org/x/crypto/ssh).
//
// Invariant: the server is only spoken to after its host key matched the
// known_hosts file (there is no "accept any key"), and its folder never shows
// a partial photo under its name: each photo is written to a hidden
// temporary file, fsynced where the server can, and renamed to its name
// (posix-rename where the server has it, which replaces atomically). A
// failed upload's temporary file is removed; ones a crash left behind are
// removed when they are more than an hour old. No secret is ever printed.
package sftp

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/photoguard/photoguard/pipeline/internal/fsync"
	"github.com/photoguard/photoguard/pipeline/target/internal/remote"
)

const (
	tempPrefix = fsync.TempPrefix
	staleAfter = time.Hour
	// DefaultTimeout bounds one call when the caller's context has no
	// earlier deadline.
	DefaultTimeout = 2 * time.Minute
)

// Options configure an SFTP target.
type Options struct {
	// Address is host:port (":22" is added when there is no port).
	Address string
	User    string
	// KeyFile is an unencrypted private key (OpenSSH or PEM format),
	// readable only by the service user. Password is the secret itself, read
	// by the caller from a file or the environment. One of them is needed;
	// with both, the key is tried first.
	KeyFile  string
	Password string
	// KnownHosts is an OpenSSH known_hosts file that must hold the
	// server's host key. Required.
	KnownHosts string
	// Path is the remote folder (relative to the login folder unless it
	// starts with "/"). Created on the first upload when missing.
	Path string
	// Timeout bounds one call (DefaultTimeout when 0).
	Timeout time.Duration
}

// Target publishes into one remote folder over one SSH connection, shared
// by concurrent calls and dialled again after it broke.
type Target struct {
	addr    string
	dir     string // "." for the login folder
	config  *ssh.ClientConfig
	timeout time.Duration

	mu     sync.Mutex
	conn   *ssh.Client
	client *sftp.Client
	ready  bool // the folder exists and stale uploads were swept

	// noPosixRename makes uploads take the plain-rename path, as on a
	// server without posix-rename@openssh.com (tests).
	noPosixRename bool
}

// New checks the options, reads the key and the known_hosts file, and
// returns the target. It does not connect: a host that is down at start is
// a passing problem for Publish to report.
func New(o Options) (*Target, error) {
	if o.Address == "" {
		return nil, permanent(errors.New("sftp target: no address (host:port)"))
	}
	addr := o.Address
	if _, _, err := net.SplitHostPort(addr); err != nil {
		addr = net.JoinHostPort(addr, "22")
	}
	if o.User == "" {
		return nil, permanent(errors.New("sftp target: no user"))
	}
	if o.KnownHosts == "" {
		return nil, permanent(errors.New("sftp target: no known_hosts file: the server's host key must be checked (get it with ssh-keyscan, compare its fingerprint with the host's, and save it in a file)"))
	}
	if _, err := os.Stat(o.KnownHosts); err != nil {
		return nil, permanent(fmt.Errorf("sftp target: known_hosts: %w", err))
	}
	hostKey, err := knownhosts.New(o.KnownHosts)
	if err != nil {
		return nil, permanent(fmt.Errorf("sftp target: known_hosts %s: %w", o.KnownHosts, err))
	}
	algos := hostKeyAlgorithms(hostKey, addr)
	if len(algos) == 0 {
		return nil, permanent(fmt.Errorf("sftp target: known_hosts %s has no key for %s (add the line ssh-keyscan -p PORT HOST prints, after checking its fingerprint)", o.KnownHosts, knownhosts.Normalize(addr)))
	}
	var auth []ssh.AuthMethod
	if o.KeyFile != "" {
		pem, err := os.ReadFile(o.KeyFile)
		if err != nil {
			return nil, permanent(fmt.Errorf("sftp target: key_file: %w", err))
		}
		signer, err := ssh.ParsePrivateKey(pem)
		var missing *ssh.PassphraseMissingError
		switch {
		case errors.As(err, &missing):
			return nil, permanent(fmt.Errorf("sftp target: key_file %s is protected by a passphrase; use a key without one, readable only by the service user", o.KeyFile))
		case err != nil:
			return nil, permanent(fmt.Errorf("sftp target: key_file %s is not a private key: %v", o.KeyFile, err))
		}
		auth = append(auth, ssh.PublicKeys(signer))
	}
	if o.Password != "" {
		pw := o.Password
		auth = append(auth, ssh.Password(pw), ssh.KeyboardInteractive(func(_, _ string, qs []string, _ []bool) ([]string, error) {
			answers := make([]string, len(qs))
			for i := range answers {
				answers[i] = pw
			}
			return answers, nil
		}))
	}
	if len(auth) == 0 {
		return nil, permanent(errors.New("sftp target: no key_file and no password (password_file or password_env)"))
	}
	dir := path.Clean(o.Path)
	if o.Path == "" {
		dir = "."
	}
	if dir == ".." || strings.HasPrefix(dir, "../") {
		return nil, permanent(fmt.Errorf("sftp target: path %q goes up (..)", o.Path))
	}
	timeout := o.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	return &Target{
		addr: addr, dir: dir, timeout: timeout,
		config: &ssh.ClientConfig{
			User:              o.User,
			Auth:              auth,
			HostKeyCallback:   hostKey,
			HostKeyAlgorithms: algos,
			Timeout:           30 * time.Second,
		},
	}, nil
}

// hostKeyAlgorithms are the key types known_hosts holds for addr, so that
// the server is asked for a key that can be checked (not another type it
// also has, which would look like a changed key).
func hostKeyAlgorithms(cb ssh.HostKeyCallback, addr string) []string {
	// A key no file holds makes the callback list the keys it knows.
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil
	}
	probe, err := ssh.NewPublicKey(pub)
	if err != nil {
		return nil
	}
	// Only the address is looked up (the remote address is not used when
	// it is given).
	var ke *knownhosts.KeyError
	if err := cb(addr, &net.TCPAddr{}, probe); !errors.As(err, &ke) {
		return nil
	}
	var algos []string
	seen := map[string]bool{}
	add := func(a string) {
		if !seen[a] {
			seen[a] = true
			algos = append(algos, a)
		}
	}
	for _, k := range ke.Want {
		switch t := k.Key.Type(); t {
		case ssh.KeyAlgoRSA:
			add(ssh.KeyAlgoRSASHA512)
			add(ssh.KeyAlgoRSASHA256)
			add(t)
		default:
			add(t)
		}
	}
	return algos
}

// Dir is the remote folder.
func (t *Target) Dir() string { return t.dir }

func checkName(name string) error { return remote.CheckName("sftp target", name) }

func (t *Target) remotePath(name string) string { return path.Join(t.dir, name) }

// session returns the connection, dialling it when there is none.
func (t *Target) session(ctx context.Context) (*sftp.Client, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.client != nil {
		return t.client, nil
	}
	d := net.Dialer{Timeout: t.config.Timeout}
	nc, err := d.DialContext(ctx, "tcp", t.addr)
	if err != nil {
		return nil, classify("connecting to", t.addr, err)
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = nc.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { nc.Close() })
	c, chans, reqs, err := ssh.NewClientConn(nc, t.addr, t.config)
	stop()
	if err != nil {
		nc.Close()
		return nil, handshakeError(t.addr, err)
	}
	_ = nc.SetDeadline(time.Time{})
	conn := ssh.NewClient(c, chans, reqs)
	client, err := sftp.NewClient(conn, sftp.UseFstat(false))
	if err != nil {
		conn.Close()
		return nil, classify("starting sftp on", t.addr, err)
	}
	t.conn, t.client = conn, client
	return client, nil
}

// drop forgets the connection client belongs to when err says it broke, so
// the next call dials again.
func (t *Target) drop(client *sftp.Client, err error) {
	if err == nil || serverAnswer(err) {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.client == client && client != nil {
		t.client.Close()
		t.conn.Close()
		t.client, t.conn, t.ready = nil, nil, false
	}
}

// Close ends the connection.
func (t *Target) Close() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.client != nil {
		t.client.Close()
		t.conn.Close()
		t.client, t.conn = nil, nil
	}
	return nil
}

// run does op over the connection, bounded by ctx and the timeout: when the
// deadline passes first, the connection is closed (op fails, and the next
// call dials again).
func (t *Target) run(ctx context.Context, op func(*sftp.Client) error) error {
	ctx, cancel := context.WithTimeout(ctx, t.timeout)
	defer cancel()
	if err := ctx.Err(); err != nil {
		return err
	}
	client, err := t.session(ctx)
	if err != nil {
		return err
	}
	stop := context.AfterFunc(ctx, func() { t.drop(client, ctx.Err()) })
	err = op(client)
	if !stop() && err != nil {
		// The deadline cut the call: say so rather than "connection lost".
		err = fmt.Errorf("%w (%v)", err, ctx.Err())
	}
	t.drop(client, err)
	return err
}

// Publish writes data to a hidden temporary file in the folder, fsyncs it
// where the server supports it, and renames it to name. The reference is
// the remote path (the folder joined with name).
func (t *Target) Publish(ctx context.Context, name string, data []byte) (string, error) {
	if err := checkName(name); err != nil {
		return "", err
	}
	err := t.run(ctx, func(c *sftp.Client) error {
		if err := t.prepare(c); err != nil {
			return err
		}
		err := t.upload(c, name, data)
		if errors.Is(err, os.ErrNotExist) {
			// The folder went away (someone tidied the host): once more.
			t.mu.Lock()
			t.ready = false
			t.mu.Unlock()
			if err := t.prepare(c); err != nil {
				return err
			}
			err = t.upload(c, name, data)
		}
		return err
	})
	if err != nil {
		return "", err
	}
	return t.remotePath(name), nil
}

func (t *Target) upload(c *sftp.Client, name string, data []byte) (err error) {
	var rnd [8]byte
	_, _ = rand.Read(rnd[:])
	tmp := t.remotePath(tempPrefix + hex.EncodeToString(rnd[:]) + ".tmp")
	final := t.remotePath(name)
	f, err := c.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL)
	if err != nil {
		return classify("creating the upload for", name, err)
	}
	defer func() {
		if err != nil {
			_ = c.Remove(tmp)
		}
	}()
	if _, err := f.Write(data); err != nil {
		f.Close()
		return classify("uploading", name, err)
	}
	if _, ok := c.HasExtension("fsync@openssh.com"); ok {
		if err := f.Sync(); err != nil {
			f.Close()
			return classify("syncing", name, err)
		}
	}
	if err := f.Close(); err != nil {
		return classify("closing the upload of", name, err)
	}
	// Published photos are public: whatever the server's umask, the web
	// server must be able to read them.
	if err := c.Chmod(tmp, 0o644); err != nil {
		return classify("setting the mode of", name, err)
	}
	if _, ok := c.HasExtension("posix-rename@openssh.com"); ok && !t.noPosixRename {
		if err := c.PosixRename(tmp, final); err != nil {
			return classify("renaming the upload to", name, err)
		}
		return nil
	}
	// Plain SFTP rename refuses an existing name: remove the old photo
	// first. Readers then see the old photo, nothing, or the new one;
	// never part of one.
	if err := c.Rename(tmp, final); err != nil {
		if _, serr := c.Lstat(final); serr != nil {
			return classify("renaming the upload to", name, err)
		}
		if rerr := c.Remove(final); rerr != nil && !errors.Is(rerr, os.ErrNotExist) {
			return classify("replacing", name, rerr)
		}
		if err := c.Rename(tmp, final); err != nil {
			return classify("renaming the upload to", name, err)
		}
	}
	return nil
}

// prepare creates the folder and sweeps stale uploads, once per target
// (again after the folder went away).
func (t *Target) prepare(c *sftp.Client) error {
	t.mu.Lock()
	ready := t.ready
	t.mu.Unlock()
	if ready {
		return nil
	}
	if t.dir != "." {
		if err := c.MkdirAll(t.dir); err != nil {
			return classify("creating the folder", t.dir, err)
		}
	}
	entries, err := c.ReadDir(t.dir)
	if err != nil {
		return classify("listing the folder", t.dir, err)
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), tempPrefix) && e.Mode().IsRegular() && time.Since(e.ModTime()) > staleAfter {
			_ = c.Remove(t.remotePath(e.Name()))
		}
	}
	t.mu.Lock()
	t.ready = true
	t.mu.Unlock()
	return nil
}

// Exists stats name: a regular file is there.
func (t *Target) Exists(ctx context.Context, name string) (string, bool, error) {
	if err := checkName(name); err != nil {
		return "", false, err
	}
	var ok bool
	err := t.run(ctx, func(c *sftp.Client) error {
		fi, err := c.Stat(t.remotePath(name))
		switch {
		case errors.Is(err, os.ErrNotExist):
			return nil
		case err != nil:
			return classify("looking for", name, err)
		}
		ok = fi.Mode().IsRegular()
		return nil
	})
	if err != nil || !ok {
		return "", false, err
	}
	return t.remotePath(name), true, nil
}

// Remove deletes what ref names: a reference Publish returned (the remote
// path, also one from before the path setting changed) or a plain name in
// the folder. What is gone already is no error.
func (t *Target) Remove(ctx context.Context, ref string) error {
	p := ref
	if !strings.Contains(ref, "/") {
		if err := checkName(ref); err != nil {
			return err
		}
		p = t.remotePath(ref)
	} else if path.Clean(ref) != ref || checkName(path.Base(ref)) != nil || strings.HasPrefix(ref, "../") {
		return permanent(fmt.Errorf("sftp target: %q is not a reference this target made", ref))
	}
	return t.run(ctx, func(c *sftp.Client) error {
		if err := c.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			return classify("deleting", path.Base(p), err)
		}
		return nil
	})
}
