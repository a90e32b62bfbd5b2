// Package webdav is the WebDAV target (Nextcloud, SURFdrive, ownCloud,
// SharePoint-style shares, Apache or nginx WebDAV, rclone serve webdav).
//
// Invariant: the share never shows a partial photo under its name. Each photo
// is uploaded (PUT, its status checked) under a hidden temporary name in the
// target folder and only then renamed to its name with MOVE (Overwrite: T);
// a temporary upload that failed is deleted, and ones a crash or a slow
// server left behind are deleted when they are more than an hour old (looked
// for every SweepEvery, not only at start). The temporary name of a photo is
// TempName(name), the same for every attempt, so that the publication
// ledger can record it before the upload and a takedown or sweep can remove
// an upload that landed after photoguard gave up on it (RemoveTemp). The
// password never appears in an error or a log line.
package webdav

import (
	"bytes"
	"cmp"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/photoguard/photoguard/pipeline/internal/fsync"
	"github.com/photoguard/photoguard/pipeline/target/internal/remote"
)

// tempPrefix starts the names of uploads in progress: hidden, like the dir
// target's, so that a site's picker skips them.
const tempPrefix = fsync.TempPrefix

// staleAfter is how old a temporary upload must be before it is taken for
// one a crash left behind (and not another writer's upload in progress).
const staleAfter = time.Hour

// DefaultTimeout bounds one call (Publish, Exists, Remove) when the
// caller's context has no earlier deadline.
const DefaultTimeout = 2 * time.Minute

// DefaultAnswerTimeout is how long the server may take to start answering
// a request once it has been sent.
const DefaultAnswerTimeout = 90 * time.Second

// DefaultSweepEvery is how often the folder is looked through for stale
// temporary uploads while the target is in use.
const DefaultSweepEvery = 10 * time.Minute

// Options configure a WebDAV target.
type Options struct {
	// URL is the WebDAV root, https://host/remote.php/dav/files/USER/ for
	// Nextcloud. It must not hold a user or a password. Plain http is
	// refused except to this machine (127.0.0.1, ::1, localhost): it would
	// send the password unencrypted.
	URL string
	// Path is the folder below URL that photos go to ("" or "/": URL
	// itself). Missing folders are created on the first upload.
	Path string
	// User and Password are sent with HTTP basic authentication (over
	// TLS). Password is the secret itself, read by the caller from a file
	// or the environment; it is never printed.
	User     string
	Password string
	// CAFile, if set, is a PEM file of certificate authorities trusted in
	// addition to the system's (a school's own CA). Certificates are always
	// verified.
	CAFile string
	// Timeout bounds one call (DefaultTimeout when 0).
	Timeout time.Duration
	// AnswerTimeout bounds the wait for the server's answer to one request
	// (DefaultAnswerTimeout when 0).
	AnswerTimeout time.Duration
	// SweepEvery is how often Publish looks for stale temporary uploads
	// (DefaultSweepEvery when 0).
	SweepEvery time.Duration
	// Transport replaces the HTTP transport (tests); nil builds one.
	Transport http.RoundTripper
}

// Target publishes into one WebDAV folder.
type Target struct {
	base    *url.URL // the folder, path ending in "/"
	root    *url.URL // URL as given, path ending in "/"
	dirs    []string // Path's segments, to create
	user    string
	pass    string
	client  *http.Client
	timeout time.Duration
	answer  time.Duration // the transport's wait for an answer
	every   time.Duration // how often stale uploads are swept

	mu      sync.Mutex
	ready   bool      // the folder is known to exist
	sweptAt time.Time // when stale uploads were last swept
}

// New checks the options and returns the target. It does not contact the
// server: a share that is down at start is a passing problem for Publish to
// report, not a reason to refuse to start.
func New(o Options) (*Target, error) {
	u, err := ParseURL(o.URL)
	if err != nil {
		return nil, err
	}
	if o.User == "" && o.Password != "" {
		return nil, permanent(errors.New("webdav target: a password without a user"))
	}
	var dirs []string
	for _, s := range strings.Split(o.Path, "/") {
		switch s {
		case "", ".":
		case "..":
			return nil, permanent(fmt.Errorf("webdav target: path %q goes up (..)", o.Path))
		default:
			dirs = append(dirs, s)
		}
	}
	root := *u
	if !strings.HasSuffix(root.Path, "/") {
		root.Path += "/"
	}
	root.RawPath = ""
	base := root
	if len(dirs) > 0 {
		base.Path = root.Path + strings.Join(dirs, "/") + "/"
	}
	answer := cmp.Or(o.AnswerTimeout, DefaultAnswerTimeout)
	tr := o.Transport
	if tr == nil {
		tr, err = transport(o.CAFile, answer)
		if err != nil {
			return nil, err
		}
	}
	timeout := o.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	return &Target{
		base: &base, root: &root, dirs: dirs, user: o.User, pass: o.Password, timeout: timeout,
		answer: answer, every: cmp.Or(o.SweepEvery, DefaultSweepEvery),
		client: &http.Client{
			Transport: tr,
			// A redirect is not followed: MOVE and PUT must reach the
			// share itself, and the password is not sent elsewhere.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}, nil
}

// ParseURL checks a WebDAV URL as New does: https (or http to this machine
// only), a host, no user or password in it, no query or fragment.
func ParseURL(raw string) (*url.URL, error) {
	if raw == "" {
		return nil, permanent(errors.New("webdav target: no url"))
	}
	u, err := url.Parse(raw)
	if err != nil {
		// url's error repeats the whole URL; say only what is wrong.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, permanent(fmt.Errorf("webdav target: url is not a URL: %v", err))
	}
	if u.User != nil {
		return nil, permanent(errors.New("webdav target: url holds a user or password; give them with user and password_file or password_env"))
	}
	if u.Host == "" {
		return nil, permanent(fmt.Errorf("webdav target: url %q has no host", raw))
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, permanent(fmt.Errorf("webdav target: url %q has a query or fragment", raw))
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !remote.Loopback(u.Hostname()) {
			return nil, permanent(fmt.Errorf("webdav target: url %q is plain http, which sends the password and the photos unencrypted; use https", raw))
		}
	default:
		return nil, permanent(fmt.Errorf("webdav target: url %q is not https", raw))
	}
	return u, nil
}

func transport(caFile string, answer time.Duration) (http.RoundTripper, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.ResponseHeaderTimeout = answer
	tr.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	if caFile != "" {
		pool, err := loadCA(caFile)
		if err != nil {
			return nil, err
		}
		tr.TLSClientConfig.RootCAs = pool
	}
	return tr, nil
}

// CheckCAFile checks a ca_file as New does: readable, and holding at least
// one PEM certificate.
func CheckCAFile(caFile string) error {
	_, err := loadCA(caFile)
	return err
}

// loadCA is the system's certificate pool with caFile's certificates added.
func loadCA(caFile string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, permanent(fmt.Errorf("webdav target: ca_file: %w", err))
	}
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, permanent(fmt.Errorf("webdav target: ca_file: %s holds no PEM certificate", caFile))
	}
	return pool, nil
}

// Folder is the folder's URL (no credentials in it), for messages.
func (t *Target) Folder() string { return t.base.String() }

func checkName(name string) error { return remote.CheckName("webdav target", name) }

// ref is the reference of name: its path below the URL, "/photos/x.jpg".
func (t *Target) ref(name string) string {
	return "/" + path.Join(append(append([]string{}, t.dirs...), name)...)
}

// fileURL is the URL of name in the folder.
func (t *Target) fileURL(name string) string {
	u := *t.base
	u.Path += name
	return u.String()
}

// Publish uploads data as a hidden temporary file, then renames it to
// name with MOVE. The reference is name's path below the URL.
func (t *Target) Publish(ctx context.Context, name string, data []byte) (string, error) {
	if err := checkName(name); err != nil {
		return "", err
	}
	ctx, cancel := t.bound(ctx)
	defer cancel()
	if err := ctx.Err(); err != nil {
		return "", err
	}
	if err := t.prepare(ctx); err != nil {
		return "", err
	}
	tmp := TempName(name)
	err := t.put(ctx, tmp, name, data)
	if err != nil && isMissingFolder(err) {
		// The folder went away since it was made (someone tidied the
		// share): make it again, once.
		t.mu.Lock()
		t.ready = false
		t.mu.Unlock()
		if perr := t.prepare(ctx); perr != nil {
			return "", perr
		}
		err = t.put(ctx, tmp, name, data)
	}
	if err != nil {
		t.discard(tmp)
		return "", err
	}
	resp, err := t.do(ctx, "MOVE", t.fileURL(tmp), nil, map[string]string{
		"Destination": t.fileURL(name),
		"Overwrite":   "T",
	})
	if err != nil {
		t.discard(tmp)
		return "", t.wrap("renaming the upload to", name, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusNoContent && resp.StatusCode != http.StatusOK {
		t.discard(tmp)
		return "", statusError("renaming the upload to", name, resp)
	}
	return t.ref(name), nil
}

func (t *Target) put(ctx context.Context, tmp, name string, data []byte) error {
	resp, err := t.do(ctx, http.MethodPut, t.fileURL(tmp), data, map[string]string{"Content-Type": "application/octet-stream"})
	if err != nil {
		return t.wrap("uploading", name, err)
	}
	resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusCreated, http.StatusNoContent, http.StatusOK:
		return nil
	}
	return statusError("uploading", name, resp)
}

// TempName is the hidden name name is uploaded under before it is renamed:
// the same for every attempt at name, so that the ledger can record it and
// an upload that lands late can be found.
func TempName(name string) string { return tempPrefix + name + ".tmp" }

// TempName implements pipeline.TempNamer.
func (t *Target) TempName(name string) string { return TempName(name) }

// RemoveTemp deletes the temporary upload tmp (a name TempName made), if it
// is there; what is gone already is no error. It implements
// pipeline.TempRemover.
func (t *Target) RemoveTemp(ctx context.Context, tmp string) error {
	if !strings.HasPrefix(tmp, tempPrefix) || !strings.HasSuffix(tmp, ".tmp") || tmp != path.Base(tmp) || strings.ContainsAny(tmp, "/\\") {
		return permanent(fmt.Errorf("webdav target: %q is not a temporary upload's name", tmp))
	}
	ctx, cancel := t.bound(ctx)
	defer cancel()
	resp, err := t.do(ctx, http.MethodDelete, t.fileURL(tmp), nil, nil)
	if err != nil {
		return t.wrap("deleting the temporary upload", tmp, err)
	}
	resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusGone || resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	return statusError("deleting the temporary upload", tmp, resp)
}

// discard deletes a temporary upload, with its own short deadline: the
// caller's context may be what ended the upload.
func (t *Target) discard(tmp string) {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if resp, err := t.do(ctx, http.MethodDelete, t.fileURL(tmp), nil, nil); err == nil {
		resp.Body.Close()
	}
}

// Exists asks for name with HEAD: 2xx is there, 404 or 410 is not.
func (t *Target) Exists(ctx context.Context, name string) (string, bool, error) {
	if err := checkName(name); err != nil {
		return "", false, err
	}
	ctx, cancel := t.bound(ctx)
	defer cancel()
	resp, err := t.do(ctx, http.MethodHead, t.fileURL(name), nil, nil)
	if err != nil {
		return "", false, t.wrap("looking for", name, err)
	}
	resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusGone:
		return "", false, nil
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return t.ref(name), true, nil
	}
	return "", false, statusError("looking for", name, resp)
}

// Remove deletes what ref names: a reference Publish returned ("/photos/x.jpg",
// also one from before the path was changed) or a plain name in the folder.
// What is gone already (404, 410) is no error.
func (t *Target) Remove(ctx context.Context, ref string) error {
	u, name, err := t.refURL(ref)
	if err != nil {
		return err
	}
	ctx, cancel := t.bound(ctx)
	defer cancel()
	resp, err := t.do(ctx, http.MethodDelete, u, nil, nil)
	if err != nil {
		return t.wrap("deleting", name, err)
	}
	resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusGone:
		return nil
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return nil
	}
	return statusError("deleting", name, resp)
}

func (t *Target) refURL(ref string) (string, string, error) {
	if !strings.HasPrefix(ref, "/") {
		if err := checkName(ref); err != nil {
			return "", "", err
		}
		return t.fileURL(ref), ref, nil
	}
	clean := path.Clean(ref)
	name := path.Base(clean)
	if clean != ref || checkName(name) != nil {
		return "", "", permanent(fmt.Errorf("webdav target: %q is not a reference this target made", ref))
	}
	u := *t.root
	u.Path += strings.TrimPrefix(clean, "/")
	return u.String(), name, nil
}

func (t *Target) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, t.timeout)
}

// prepare makes sure the folder exists (MKCOL of each missing segment) and
// deletes temporary uploads older than staleAfter: at the first upload and
// then every t.every (a slow server may land an upload photoguard gave up
// on long after).
func (t *Target) prepare(ctx context.Context) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.ready && time.Since(t.sweptAt) < t.every {
		return nil
	}
	entries, status, err := t.list(ctx)
	if err != nil {
		return err
	}
	if status == http.StatusNotFound {
		if err := t.mkdirs(ctx); err != nil {
			return err
		}
	}
	now := time.Now()
	for _, e := range entries {
		if strings.HasPrefix(e.name, tempPrefix) && !e.dir && !e.modified.IsZero() && now.Sub(e.modified) > staleAfter {
			t.discard(e.name)
		}
	}
	t.ready, t.sweptAt = true, now
	return nil
}

func (t *Target) mkdirs(ctx context.Context) error {
	u := *t.root
	for _, d := range t.dirs {
		u.Path += d + "/"
		resp, err := t.do(ctx, "MKCOL", u.String(), nil, nil)
		if err != nil {
			return t.wrap("creating the folder", d, err)
		}
		resp.Body.Close()
		// 405: it exists already.
		if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusMethodNotAllowed && resp.StatusCode != http.StatusOK {
			return statusError("creating the folder", d, resp)
		}
	}
	return nil
}

type entry struct {
	name     string
	dir      bool
	modified time.Time
}

// list is PROPFIND Depth 1 on the folder: its entries, or 404 when the
// folder is missing.
func (t *Target) list(ctx context.Context) ([]entry, int, error) {
	body := []byte(`<?xml version="1.0" encoding="utf-8"?><d:propfind xmlns:d="DAV:"><d:prop><d:resourcetype/><d:getlastmodified/></d:prop></d:propfind>`)
	resp, err := t.do(ctx, "PROPFIND", t.base.String(), body, map[string]string{"Depth": "1", "Content-Type": "application/xml; charset=utf-8"})
	if err != nil {
		return nil, 0, t.wrap("listing", "the folder", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound {
		return nil, resp.StatusCode, nil
	}
	if resp.StatusCode != http.StatusMultiStatus {
		return nil, resp.StatusCode, statusError("listing", "the folder", resp)
	}
	var ms struct {
		Responses []struct {
			Href     string `xml:"href"`
			Propstat []struct {
				Prop struct {
					ResourceType struct {
						Collection *struct{} `xml:"collection"`
					} `xml:"resourcetype"`
					LastModified string `xml:"getlastmodified"`
				} `xml:"prop"`
			} `xml:"propstat"`
		} `xml:"response"`
	}
	if err := xml.NewDecoder(io.LimitReader(resp.Body, 16<<20)).Decode(&ms); err != nil {
		return nil, resp.StatusCode, fmt.Errorf("webdav target: listing the folder: the server's answer is not WebDAV XML: %w", err)
	}
	var out []entry
	for _, r := range ms.Responses {
		p := r.Href
		if hu, err := url.Parse(r.Href); err == nil {
			p = hu.Path
		}
		e := entry{name: path.Base(strings.TrimSuffix(p, "/")), dir: strings.HasSuffix(p, "/")}
		for _, ps := range r.Propstat {
			if ps.Prop.ResourceType.Collection != nil {
				e.dir = true
			}
			if ps.Prop.LastModified != "" {
				if m, err := http.ParseTime(ps.Prop.LastModified); err == nil {
					e.modified = m
				}
			}
		}
		out = append(out, e)
	}
	return out, resp.StatusCode, nil
}

// do sends one request with the credentials.
func (t *Target) do(ctx context.Context, method, u string, body []byte, header map[string]string) (*http.Response, error) {
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, r)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.ContentLength = int64(len(body))
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	if t.user != "" {
		req.SetBasicAuth(t.user, t.pass)
	}
	req.Header.Set("User-Agent", "photoguard")
	return t.client.Do(req)
}
