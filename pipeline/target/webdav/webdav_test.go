package webdav

import (
	"bufio"
	"context"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	xwebdav "golang.org/x/net/webdav"

	"github.com/photoguard/photoguard/pipeline/target/internal/targettest"
	"github.com/photoguard/photoguard/pipeline/target/webdav/webdavtest"
)

const (
	testUser = webdavtest.User
	testPass = webdavtest.Password
)

type davServer struct{ *webdavtest.Server }

func newDAV(t *testing.T, dir string) davServer { return davServer{webdavtest.New(t, dir)} }

func (d davServer) target(t *testing.T, path string) *Target {
	t.Helper()
	tg, err := New(Options{URL: d.URL, Path: path, User: testUser, Password: testPass, Timeout: 20 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return tg
}

func TestConformanceInProcess(t *testing.T) {
	root := t.TempDir()
	d := newDAV(t, root)
	tg := d.target(t, "photos/website")
	targettest.Conformance(t, tg, targettest.Reader(filepath.Join(root, "photos", "website")))
	targettest.NoTemps(t, filepath.Join(root, "photos", "website"))
}

// rclone serve webdav is a WebDAV server the project does not write.
func TestConformanceRclone(t *testing.T) {
	bin, err := exec.LookPath("rclone")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("rclone is not installed (scripts/setup.sh installs it); CI needs it")
		}
		t.Skip("rclone is not installed (apt-get install rclone); skipping the test against rclone serve webdav")
	}
	root := t.TempDir()
	port := freePort(t)
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "serve", "webdav", root,
		"--addr", fmt.Sprintf("127.0.0.1:%d", port), "--user", testUser, "--pass", testPass,
		"--config", filepath.Join(t.TempDir(), "rclone.conf"), "--log-level", "ERROR")
	var logs strings.Builder
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("rclone said:\n%s", logs.String())
		}
	})
	waitListening(t, port)
	tg, err := New(Options{URL: fmt.Sprintf("http://127.0.0.1:%d/", port), Path: "photos/website", User: testUser, Password: testPass, Timeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(root, "photos", "website")
	targettest.Conformance(t, tg, targettest.Reader(dir))
	targettest.NoTemps(t, dir)

	// A wrong password is refused, permanently, and not repeated.
	bad, _ := New(Options{URL: fmt.Sprintf("http://127.0.0.1:%d/", port), Path: "photos", User: testUser, Password: "wrong-Pa55"})
	_, err = bad.Publish(context.Background(), "b.jpg", []byte("x"))
	if err == nil || !isPermanent(err) || strings.Contains(err.Error(), "wrong-Pa55") {
		t.Fatalf("wrong password: %v (permanent %v)", err, isPermanent(err))
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func waitListening(t *testing.T, port int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second)
		if err == nil {
			c.Close()
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("nothing listens on 127.0.0.1:%d after 20 s", port)
}

func isPermanent(err error) bool {
	var p interface{ Permanent() bool }
	return errors.As(err, &p) && p.Permanent()
}

// The connection is cut while the photo is being uploaded: nothing is
// visible under its name, the error is one to retry, and the next try
// publishes it whole.
func TestCutMidUpload(t *testing.T) {
	root := t.TempDir()
	d := newDAV(t, root)
	tg := d.target(t, "")
	data := make([]byte, 200_000)
	for i := range data {
		data[i] = byte(i * 7)
	}
	d.CutUploads(true)
	_, err := tg.Publish(context.Background(), "p.jpg", data)
	if err == nil || isPermanent(err) {
		t.Fatalf("Publish over a cut connection = %v (permanent %v), want a transient error", err, isPermanent(err))
	}
	if strings.Contains(err.Error(), testPass) {
		t.Fatalf("the password is in the error: %v", err)
	}
	if _, err := os.Stat(filepath.Join(root, "p.jpg")); !os.IsNotExist(err) {
		t.Fatal("something is visible under the final name")
	}
	if _, ok, _ := tg.Exists(context.Background(), "p.jpg"); ok {
		t.Fatal("Exists says the cut photo is there")
	}
	// The partial upload was deleted (the server is still up).
	targettest.NoTemps(t, root)

	d.CutUploads(false)
	if _, err := tg.Publish(context.Background(), "p.jpg", data); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(filepath.Join(root, "p.jpg"))
	if len(got) != len(data) {
		t.Fatalf("published %d bytes of %d", len(got), len(data))
	}
}

// The server dies mid-upload: the partial upload cannot be deleted then,
// but it is hidden, never under the final name, and a later start sweeps it
// once it is stale.
func TestServerDiesMidUpload(t *testing.T) {
	root := t.TempDir()
	d := newDAV(t, root)
	tg := d.target(t, "")
	d.DieOnUpload()
	_, err := tg.Publish(context.Background(), "p.jpg", make([]byte, 300_000))
	if err == nil || isPermanent(err) {
		t.Fatalf("Publish while the server died = %v, want a transient error", err)
	}
	d.Close()
	temps, _ := filepath.Glob(filepath.Join(root, tempPrefix+"*"))
	if _, err := os.Stat(filepath.Join(root, "p.jpg")); !os.IsNotExist(err) {
		t.Fatal("something is visible under the final name")
	}
	if len(temps) == 0 {
		t.Fatal("the fault did not happen: no partial upload was seen")
	}
	// The server comes back (on another port) with the partial upload
	// still there; once it is stale the next Publish sweeps it.
	old := time.Now().Add(-2 * time.Hour)
	for _, p := range temps {
		_ = os.Chtimes(p, old, old)
	}
	fresh := filepath.Join(root, tempPrefix+"another-writer.tmp")
	_ = os.WriteFile(fresh, []byte("busy"), 0o644)
	d2 := newDAV(t, root)
	if _, err := d2.target(t, "").Publish(context.Background(), "q.jpg", []byte("whole")); err != nil {
		t.Fatal(err)
	}
	for _, p := range temps {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("stale partial upload %s not swept", filepath.Base(p))
		}
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Error("a fresh temporary upload (another writer's) was removed")
	}
}

// Answers are classified: the ones a person must fix are permanent, passing
// ones are retried. A failed MOVE leaves neither the photo nor the upload.
func TestStatusClassified(t *testing.T) {
	for _, c := range []struct {
		method string
		status int
		perm   bool
	}{
		{"PUT", 401, true}, {"PUT", 403, true}, {"PUT", 405, true}, {"PUT", 413, true},
		{"PUT", 415, true}, {"PUT", 507, true}, {"PUT", 400, true},
		{"PUT", 500, false}, {"PUT", 502, false}, {"PUT", 503, false}, {"PUT", 429, false}, {"PUT", 423, false},
		{"MOVE", 403, true}, {"MOVE", 507, true}, {"MOVE", 503, false}, {"MOVE", 412, true},
		{"MOVE", 301, true},
	} {
		t.Run(fmt.Sprintf("%s %d", c.method, c.status), func(t *testing.T) {
			root := t.TempDir()
			d := newDAV(t, root)
			tg := d.target(t, "")
			d.Fail(c.method, c.status)
			_, err := tg.Publish(context.Background(), "p.jpg", []byte("photo"))
			if err == nil || isPermanent(err) != c.perm {
				t.Fatalf("err = %v, permanent %v, want permanent %v", err, isPermanent(err), c.perm)
			}
			if !strings.Contains(err.Error(), fmt.Sprint(c.status)) || strings.Contains(err.Error(), testPass) {
				t.Errorf("message: %v", err)
			}
			if _, err := os.Stat(filepath.Join(root, "p.jpg")); !os.IsNotExist(err) {
				t.Error("the photo is there after a failure")
			}
			targettest.NoTemps(t, root)
		})
	}
	// 409 on PUT: the folder went away; it is made again and the photo goes.
	root := t.TempDir()
	d := newDAV(t, root)
	tg := d.target(t, "sub")
	if _, err := tg.Publish(context.Background(), "a.jpg", []byte("a")); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(root, "sub")); err != nil {
		t.Fatal(err)
	}
	if _, err := tg.Publish(context.Background(), "b.jpg", []byte("b")); err != nil {
		t.Fatalf("after the folder was removed: %v", err)
	}
}

func TestWrongPasswordIsPermanentAndNotShown(t *testing.T) {
	d := newDAV(t, t.TempDir())
	tg, err := New(Options{URL: d.URL, User: testUser, Password: "not-the-Pa55word"})
	if err != nil {
		t.Fatal(err)
	}
	for name, err := range map[string]error{
		"publish": func() error { _, err := tg.Publish(context.Background(), "a.jpg", []byte("x")); return err }(),
		"exists":  func() error { _, _, err := tg.Exists(context.Background(), "a.jpg"); return err }(),
		"remove":  tg.Remove(context.Background(), "a.jpg"),
	} {
		if err == nil || !isPermanent(err) || !strings.Contains(err.Error(), "401") || strings.Contains(err.Error(), "not-the-Pa55word") {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestServerDownIsTransient(t *testing.T) {
	tg, err := New(Options{URL: fmt.Sprintf("http://127.0.0.1:%d/dav", freePort(t)), User: testUser, Password: testPass})
	if err != nil {
		t.Fatal(err)
	}
	_, err = tg.Publish(context.Background(), "a.jpg", []byte("x"))
	if err == nil || isPermanent(err) || strings.Contains(err.Error(), testPass) {
		t.Fatalf("server down: %v", err)
	}
	// A stalled server: the context's deadline ends the call.
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() { _, _ = bufio.NewReader(c).ReadString(0); c.Close() }()
		}
	}()
	tg, _ = New(Options{URL: "http://" + l.Addr().String() + "/", User: testUser, Password: testPass})
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = tg.Publish(ctx, "a.jpg", []byte("x"))
	if err == nil || isPermanent(err) || time.Since(start) > 5*time.Second {
		t.Fatalf("stalled server: %v after %s", err, time.Since(start))
	}
}

// TLS is verified: a certificate nobody vouches for is refused (a setting
// must change, so permanent); ca_file makes it trusted.
func TestTLSVerified(t *testing.T) {
	root := t.TempDir()
	h := &xwebdav.Handler{FileSystem: xwebdav.Dir(root), LockSystem: xwebdav.NewMemLS()}
	srv := httptest.NewTLSServer(h)
	defer srv.Close()
	tg, err := New(Options{URL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	_, err = tg.Publish(context.Background(), "a.jpg", []byte("x"))
	if err == nil || !isPermanent(err) || !strings.Contains(err.Error(), "ca_file") {
		t.Fatalf("untrusted certificate: %v", err)
	}
	ca := filepath.Join(t.TempDir(), "ca.pem")
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(ca, pemBytes, 0o644); err != nil {
		t.Fatal(err)
	}
	tg, err = New(Options{URL: srv.URL, CAFile: ca})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tg.Publish(context.Background(), "a.jpg", []byte("x")); err != nil {
		t.Fatalf("with ca_file: %v", err)
	}
	if _, err := New(Options{URL: srv.URL, CAFile: filepath.Join(root, "a.jpg")}); err == nil {
		t.Fatal("a ca_file without a certificate accepted")
	}
}

func TestParseURL(t *testing.T) {
	for raw, ok := range map[string]bool{
		"https://cloud.school.nl/remote.php/dav/files/foto/": true,
		"http://127.0.0.1:8080/":                             true,
		"http://localhost/dav":                               true,
		"http://cloud.school.nl/dav":                         false,
		"https://foto:geheim@cloud.school.nl/dav":            false,
		"https://cloud.school.nl/dav?x=1":                    false,
		"ftp://cloud.school.nl/":                             false,
		"cloud.school.nl/dav":                                false,
		"":                                                   false,
	} {
		_, err := ParseURL(raw)
		if (err == nil) != ok {
			t.Errorf("ParseURL(%q) = %v", raw, err)
		}
		if err != nil && strings.Contains(err.Error(), "geheim") {
			t.Errorf("the password is in the error: %v", err)
		}
	}
	if _, err := New(Options{URL: "https://x.nl/", Path: "a/../../b"}); err == nil {
		t.Error("a path going up accepted")
	}
}

// A reference stays valid when the path setting changes: the ledger's
// takedown deletes the file where it was published.
func TestRemoveByReferenceAfterPathChange(t *testing.T) {
	root := t.TempDir()
	d := newDAV(t, root)
	ref, err := d.target(t, "old").Publish(context.Background(), "a.jpg", []byte("a"))
	if err != nil {
		t.Fatal(err)
	}
	if ref != "/old/a.jpg" {
		t.Fatalf("ref = %q", ref)
	}
	if err := d.target(t, "new").Remove(context.Background(), ref); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "old", "a.jpg")); !os.IsNotExist(err) {
		t.Fatal("not removed")
	}
	for _, bad := range []string{"/old/../x.jpg", "/old/.hidden", "/", "a/b.jpg"} {
		if err := d.target(t, "new").Remove(context.Background(), bad); err == nil {
			t.Errorf("Remove(%q) accepted", bad)
		}
	}
}

// Issue 19: a share that takes longer than the answer timeout. The error
// says so in words (and is retried); the upload that lands after photoguard
// gave up is under TempName(name), where RemoveTemp (a takedown, a sweep)
// reaches it; and stale temporary uploads are swept while the target is in
// use, not only at its first upload.
func TestSlowShare(t *testing.T) {
	share := t.TempDir()
	d := newDAV(t, share)
	tg, err := New(Options{URL: d.URL, Path: "photos", User: testUser, Password: testPass, Timeout: 5 * time.Second,
		AnswerTimeout: 200 * time.Millisecond, SweepEvery: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := tg.Publish(ctx, "20261201-aaaaaaaaaaaa.jpg", []byte("first")); err != nil {
		t.Fatal(err)
	}
	d.DelayUploads(600 * time.Millisecond)
	name := "20261201-abcdef123456.jpg"
	_, err = tg.Publish(ctx, name, []byte("the redacted photo"))
	if err == nil || !strings.Contains(err.Error(), "the server did not answer within 0.2 s") || isPermanent(err) {
		t.Fatalf("slow share: %v (permanent %v)", err, isPermanent(err))
	}
	d.WaitLate()
	late := filepath.Join(share, "photos", TempName(name))
	if got, err := os.ReadFile(late); err != nil || string(got) != "the redacted photo" {
		t.Fatalf("the late upload is not at %s: %q, %v", TempName(name), got, err)
	}
	if err := tg.RemoveTemp(ctx, TempName(name)); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(late); !os.IsNotExist(err) {
		t.Errorf("RemoveTemp left it: %v", err)
	}
	if err := tg.RemoveTemp(ctx, TempName(name)); err != nil {
		t.Errorf("RemoveTemp of what is gone: %v", err)
	}
	if err := tg.RemoveTemp(ctx, name); err == nil || !isPermanent(err) {
		t.Errorf("RemoveTemp of a published name: %v", err)
	}
	// A stale temporary upload appears after the first sweep: the next
	// upload, a sweep period later, removes it.
	d.DelayUploads(0)
	stale := filepath.Join(share, "photos", ".photoguard-stale.tmp")
	if err := os.WriteFile(stale, []byte("left"), 0o644); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-2 * time.Hour)
	if err := os.Chtimes(stale, old, old); err != nil {
		t.Fatal(err)
	}
	if _, err := tg.Publish(ctx, "20261201-bbbbbbbbbbbb.jpg", []byte("second")); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("a stale temporary upload was not swept during use: %v", err)
	}
}
