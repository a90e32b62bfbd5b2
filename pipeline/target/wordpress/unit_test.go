package wordpress

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/photoguard/photoguard/pipeline"
	"github.com/photoguard/photoguard/pipeline/target"
	"github.com/photoguard/photoguard/pipeline/target/internal/targettest"
)

var _ target.Target = (*Target)(nil)

func TestConformanceFake(t *testing.T) {
	f := newFakeWP(t)
	targettest.Conformance(t, f.target(t), f.read)
}

func TestConformanceFakePlainPermalinks(t *testing.T) {
	f := newFakeWP(t)
	f.plain = true
	targettest.Conformance(t, f.target(t), f.read)
}

// Publishing a name that WordPress already holds, under the file name a
// person uploaded or as renamed duplicates (a-1.jpg titled a.jpg), leaves
// exactly the new upload.
func TestPublishReplacesEveryOlderItem(t *testing.T) {
	ctx := context.Background()
	f := newFakeWP(t)
	byHand := f.add("", "a.jpg", []byte("uploaded by hand"))     // title "a", file a.jpg
	dup := f.add("a.jpg", "a.jpg", []byte("an earlier publish")) // stored as a-1.jpg
	other := f.add("", "a-2.jpg", []byte("someone else's a-2.jpg"))
	unrelated := f.add("ba.jpg", "ba.jpg", []byte("contains the name"))
	tg := f.target(t)
	ref, err := tg.Publish(ctx, "a.jpg", []byte("new"))
	if err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	_, byHandLeft := f.items[byHand]
	_, dupLeft := f.items[dup]
	_, otherLeft := f.items[other]
	_, unrelatedLeft := f.items[unrelated]
	f.mu.Unlock()
	if byHandLeft || dupLeft {
		t.Errorf("older items of a.jpg left: by hand %v, earlier publish %v", byHandLeft, dupLeft)
	}
	if !otherLeft || !unrelatedLeft {
		t.Errorf("items of other names removed: a-2.jpg left %v, ba.jpg left %v", otherLeft, unrelatedLeft)
	}
	got, ok, err := tg.Exists(ctx, "a.jpg")
	if err != nil || !ok || got != ref {
		t.Fatalf("Exists = %q, %v, %v; want %q", got, ok, err, ref)
	}
	if data, err := f.read("a.jpg"); err != nil || string(data) != "new" {
		t.Fatalf("read = %q, %v", data, err)
	}
}

// A clean-up that fails makes Publish fail; the next Publish removes both
// older uploads.
func TestPublishCleanupFailureThenRetry(t *testing.T) {
	ctx := context.Background()
	f := newFakeWP(t)
	tg := f.target(t)
	if _, err := tg.Publish(ctx, "a.jpg", []byte("v1")); err != nil {
		t.Fatal(err)
	}
	f.fail = func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method == http.MethodDelete {
			f.wpError(w, http.StatusServiceUnavailable, "", "")
			return true
		}
		return false
	}
	_, err := tg.Publish(ctx, "a.jpg", []byte("v2"))
	if err == nil || pipeline.IsPermanent(err) {
		t.Fatalf("Publish with a failing delete = %v, want a transient error", err)
	}
	f.fail = nil
	if _, err := tg.Publish(ctx, "a.jpg", []byte("v3")); err != nil {
		t.Fatal(err)
	}
	if data, err := f.read("a.jpg"); err != nil || string(data) != "v3" {
		t.Fatalf("read = %q, %v", data, err)
	}
	if n := f.count(); n != 1 {
		t.Fatalf("%d media items, want 1", n)
	}
}

// More matches than one page: every page is looked at.
func TestFindReadsAllPages(t *testing.T) {
	f := newFakeWP(t)
	for i := 0; i < 2*perPage+5; i++ {
		f.add(fmt.Sprintf("x%03d-p.jpg", i), fmt.Sprintf("x%03d-p.jpg", i), nil)
	}
	oldest := f.add("p.jpg", "p.jpg", []byte("old"))
	// The newest items come first, so the exact match is on page 1 now; add
	// noise after it so that it moves to the last page.
	for i := 0; i < 2*perPage; i++ {
		f.add(fmt.Sprintf("y%03d-p.jpg", i), fmt.Sprintf("y%03d-p.jpg", i), nil)
	}
	ref, ok, err := f.target(t).Exists(context.Background(), "p.jpg")
	if err != nil || !ok || ref != fmt.Sprint(oldest) {
		t.Fatalf("Exists = %q, %v, %v; want %d", ref, ok, err, oldest)
	}
}

func TestRemove(t *testing.T) {
	ctx := context.Background()
	f := newFakeWP(t)
	tg := f.target(t)
	ref, err := tg.Publish(ctx, "a.jpg", []byte("x"))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		if err := tg.Remove(ctx, ref); err != nil {
			t.Fatalf("Remove #%d: %v", i+1, err)
		}
	}
	for _, bad := range []string{"", "a.jpg", "-3", "0", "12/../1"} {
		if err := tg.Remove(ctx, bad); err == nil || !pipeline.IsPermanent(err) {
			t.Errorf("Remove(%q) = %v, want a permanent error", bad, err)
		}
	}
	// A 404 that is not WordPress saying "no such id" is not proof that the
	// photo is gone.
	f.fail = func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method == http.MethodDelete {
			f.wpError(w, http.StatusNotFound, "rest_no_route", "No route was found matching the URL and request method.")
			return true
		}
		return false
	}
	if err := tg.Remove(ctx, ref); err == nil {
		t.Error("Remove with no such route: no error")
	}
}

// errorCase is one answer of the site and what the target must make of it.
type errorCase struct {
	name      string
	status    int
	code      string
	header    map[string]string
	permanent bool
	says      []string // the message contains each
}

func TestErrorClassification(t *testing.T) {
	cases := []errorCase{
		{"bad password", 401, "rest_cannot_create", nil, true, []string{"targets.site.user", "targets.site.password_env (PG_TEST_WP_PASSWORD)", "did not accept"}},
		{"no upload rights", 403, "rest_cannot_create", nil, true, []string{"Author role", "targets.site.user"}},
		{"too large", 413, "", nil, true, []string{"larger than the site accepts", "post_max_size"}},
		{"type", 415, "", nil, true, []string{"file type"}},
		{"no data", 400, "rest_upload_no_data", nil, true, []string{"post_max_size"}},
		{"sideload", 500, "rest_upload_sideload_error", nil, true, []string{"could not store the file"}},
		{"no route", 404, "rest_no_route", nil, true, []string{"targets.site.url"}},
		{"redirect", 301, "", map[string]string{"Location": "https://www.example.nl/"}, true, []string{"redirects to https://www.example.nl/", "targets.site.url"}},
		{"busy", 503, "", nil, false, []string{"HTTP 503"}},
		{"internal", 500, "db_error", nil, false, []string{"HTTP 500"}},
		{"rate", 429, "", nil, false, []string{"HTTP 429"}},
		{"timeout", 408, "", nil, false, []string{"HTTP 408"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFakeWP(t)
			tg := f.target(t)
			// The fake echoes the password in its message: it must not
			// reach the error.
			f.fail = func(w http.ResponseWriter, r *http.Request) bool {
				if r.URL.Query().Get("per_page") == "1" {
					return false // the probe for the API's form
				}
				for k, v := range c.header {
					w.Header().Set(k, v)
				}
				if c.status/100 == 3 {
					w.WriteHeader(c.status)
					return true
				}
				f.wpError(w, c.status, c.code, "echo: "+r.Header.Get("Authorization")+" "+f.pw)
				return true
			}
			_, err := tg.Publish(context.Background(), "a.jpg", []byte("x"))
			if err == nil {
				t.Fatal("no error")
			}
			if got := pipeline.IsPermanent(err); got != c.permanent {
				t.Errorf("permanent = %v, want %v: %v", got, c.permanent, err)
			}
			msg := err.Error()
			for _, s := range c.says {
				if !strings.Contains(msg, s) {
					t.Errorf("error %q does not say %q", msg, s)
				}
			}
			for _, secret := range []string{f.pw, strings.ReplaceAll(f.pw, " ", ""), base64.StdEncoding.EncodeToString([]byte(f.user + ":" + f.pw))} {
				if strings.Contains(msg, secret) {
					t.Errorf("error carries the password: %q", msg)
				}
			}
		})
	}
}

func TestWrongPasswordFake(t *testing.T) {
	f := newFakeWP(t)
	tg := f.targetWith(t, "wrong wrong wrong wrong")
	for op, err := range map[string]error{
		"Publish": func() error { _, err := tg.Publish(context.Background(), "a.jpg", []byte("x")); return err }(),
		"Exists":  func() error { _, _, err := tg.Exists(context.Background(), "a.jpg"); return err }(),
	} {
		if err == nil || !pipeline.IsPermanent(err) || !strings.Contains(err.Error(), "targets.site.password_env") {
			t.Errorf("%s with a wrong password = %v; want a permanent error naming targets.site.password_env", op, err)
		}
		if err != nil && strings.Contains(err.Error(), "wrong wrong") {
			t.Errorf("%s: error carries the password: %v", op, err)
		}
	}
}

func TestNoRESTAPI(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		_, _ = w.Write([]byte("<html>a static site</html>"))
	}))
	defer srv.Close()
	_, err := envTarget(t, srv.URL, "u", "x", nil).Publish(context.Background(), "a.jpg", []byte("x"))
	if err == nil || !pipeline.IsPermanent(err) || !strings.Contains(err.Error(), "targets.site.url") {
		t.Fatalf("Publish to a site without the REST API = %v", err)
	}
}

func TestNetworkErrorIsTransient(t *testing.T) {
	f := newFakeWP(t)
	tg := f.target(t)
	f.srv.Close()
	_, err := tg.Publish(context.Background(), "a.jpg", []byte("x"))
	if err == nil || pipeline.IsPermanent(err) {
		t.Fatalf("Publish to a server that is down = %v, want a transient error", err)
	}
}

// TLS is verified by default: a certificate this machine does not trust is a
// permanent error that says so.
func TestTLSVerified(t *testing.T) {
	var reached atomic.Int32
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached.Add(1)
	}))
	defer srv.Close()
	_, err := envTarget(t, srv.URL, "u", "x", nil).Publish(context.Background(), "a.jpg", []byte("x"))
	if err == nil || !pipeline.IsPermanent(err) || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("Publish over untrusted TLS = %v", err)
	}
	if n := reached.Load(); n != 0 {
		t.Fatalf("%d requests reached a server with an untrusted certificate", n)
	}
	// With the server's CA the same site works (the probe answers 200 with
	// an HTML page here, so only the TLS step is checked).
	if _, err := envTarget(t, srv.URL, "u", "x", srv.Client().Transport).apiForm(context.Background()); err != nil && strings.Contains(err.Error(), "certificate") {
		t.Fatalf("trusted CA: %v", err)
	}
	if reached.Load() == 0 {
		t.Fatal("with the server's CA no request reached it")
	}
}

func TestValidate(t *testing.T) {
	dir := t.TempDir()
	file := func(name, content string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil { // whatever the umask
			t.Fatal(err)
		}
		return p
	}
	good := file("pw", "abcd efgh ijkl mnop qrst uvwx\n", 0o600)
	open := file("open", "abcd", 0o644)
	twoLines := file("two", "abcd\nefgh\n", 0o600)
	empty := file("empty", "", 0o600)
	t.Setenv("PG_TEST_EMPTY", "")
	base := Options{Name: "site", URL: "https://www.school.nl", User: "photoguard", PasswordFile: good}
	cases := []struct {
		name string
		edit func(*Options)
		want string // "" = valid
	}{
		{"ok", func(o *Options) {}, ""},
		{"ok in a folder", func(o *Options) { o.URL = "https://www.school.nl/blog/" }, ""},
		{"ok local http", func(o *Options) { o.URL = "http://127.0.0.1:8080" }, ""},
		{"no url", func(o *Options) { o.URL = "" }, "targets.site.url: missing"},
		{"http", func(o *Options) { o.URL = "http://www.school.nl" }, "targets.site.url"},
		{"ftp", func(o *Options) { o.URL = "ftp://www.school.nl" }, "targets.site.url"},
		{"credentials in url", func(o *Options) { o.URL = "https://u:secret@www.school.nl" }, "targets.site.url: holds a user name or password"},
		{"query", func(o *Options) { o.URL = "https://www.school.nl/?rest_route=/" }, "targets.site.url"},
		{"no user", func(o *Options) { o.User = " " }, "targets.site.user: missing"},
		{"no password", func(o *Options) { o.PasswordFile = "" }, "targets.site.password_file or targets.site.password_env: missing"},
		{"both passwords", func(o *Options) { o.PasswordEnv = "X" }, "both set"},
		{"negative timeout", func(o *Options) { o.Timeout = -1 }, "targets.site.timeout"},
	}
	for _, c := range cases {
		o := base
		c.edit(&o)
		err := o.Validate()
		if c.want == "" && err != nil {
			t.Errorf("%s: %v", c.name, err)
		}
		if c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)) {
			t.Errorf("%s: err = %v, want it to say %q", c.name, err, c.want)
		}
		if err != nil && strings.Contains(err.Error(), "secret") {
			t.Errorf("%s: error shows the password: %v", c.name, err)
		}
	}
	newCases := []struct {
		name string
		edit func(*Options)
		want string
	}{
		{"missing file", func(o *Options) { o.PasswordFile = filepath.Join(dir, "nope") }, "targets.site.password_file"},
		{"world-readable", func(o *Options) { o.PasswordFile = open }, "readable by every user"},
		{"two lines", func(o *Options) { o.PasswordFile = twoLines }, "one line"},
		{"empty file", func(o *Options) { o.PasswordFile = empty }, "empty"},
		{"unset env", func(o *Options) { o.PasswordFile, o.PasswordEnv = "", "PG_TEST_EMPTY" }, "targets.site.password_env: the environment variable PG_TEST_EMPTY is not set"},
	}
	for _, c := range newCases {
		o := base
		c.edit(&o)
		_, err := New(o)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: New = %v, want it to say %q", c.name, err, c.want)
		}
	}
	tg, err := New(base)
	if err != nil {
		t.Fatal(err)
	}
	if tg.password != "abcd efgh ijkl mnop qrst uvwx" {
		t.Errorf("password read as %q", tg.password)
	}
}

func TestShows(t *testing.T) {
	cases := []struct {
		title, details, source string
		want                   bool
	}{
		{"a.jpg", `[]`, "https://s/wp-content/uploads/a-1.jpg", true},                               // ours, renamed
		{"a", `{"file":"2026/12/a.jpg"}`, "https://s/wp-content/uploads/2026/12/a.jpg", true},       // uploaded by hand
		{"a", `{"file":"a-scaled.jpg","original_image":"a.jpg"}`, "https://s/u/a-scaled.jpg", true}, // scaled down
		{"a-1", `{"file":"a-1.jpg"}`, "https://s/u/a-1.jpg", false},                                 // someone's duplicate, not ours
		{"ba.jpg", `{"file":"ba.jpg"}`, "https://s/u/ba.jpg", false},                                // contains the name
		{"a.jpg.jpg", `{"file":"a.jpg.jpg"}`, "https://s/u/a.jpg.jpg", false},
	}
	for _, c := range cases {
		m := media{SourceURL: c.source, Details: []byte(c.details)}
		m.Title.Raw = c.title
		if got := m.shows("a.jpg"); got != c.want {
			t.Errorf("title %q, details %s: shows(a.jpg) = %v, want %v", c.title, c.details, got, c.want)
		}
	}
}
