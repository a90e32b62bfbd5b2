package dir

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/photoguard/photoguard/pipeline/internal/fsync"
	"github.com/photoguard/photoguard/pipeline/target/internal/targettest"
)

func TestConformance(t *testing.T) {
	d := t.TempDir()
	tg, err := New(d)
	if err != nil {
		t.Fatal(err)
	}
	targettest.Conformance(t, tg, func(name string) ([]byte, error) {
		return os.ReadFile(filepath.Join(d, name))
	})
	// Nothing but the published names is left: no temporary files.
	entries, _ := os.ReadDir(d)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			t.Errorf("left behind: %s", e.Name())
		}
	}
}

func TestStaleTempRemoved(t *testing.T) {
	d := t.TempDir()
	stale := filepath.Join(d, fsync.TempPrefix+"dead.tmp")
	fresh := filepath.Join(d, fsync.TempPrefix+"busy.tmp")
	for _, p := range []string{stale, fresh} {
		if err := os.WriteFile(p, []byte("half"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	old := time.Now().Add(-2 * time.Hour)
	_ = os.Chtimes(stale, old, old)
	if _, err := New(d); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Error("stale temporary file not removed")
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Error("a fresh temporary file (another writer's) was removed")
	}
}

func TestPermissionDeniedIsPermanent(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root ignores folder permissions")
	}
	d := t.TempDir()
	tg, err := New(d)
	if err != nil {
		t.Fatal(err)
	}
	_ = os.Chmod(d, 0o555)
	defer os.Chmod(d, 0o755)
	_, err = tg.Publish(context.Background(), "a.jpg", []byte("x"))
	var p interface{ Permanent() bool }
	if err == nil || !asPermanent(err, &p) {
		t.Fatalf("err = %v, want a permanent error", err)
	}
}

func asPermanent(err error, p *interface{ Permanent() bool }) bool {
	for e := err; e != nil; {
		if q, ok := e.(interface{ Permanent() bool }); ok && q.Permanent() {
			*p = q
			return true
		}
		u, ok := e.(interface{ Unwrap() error })
		if !ok {
			return false
		}
		e = u.Unwrap()
	}
	return false
}

func TestPublishedFilesAreReadableWhateverTheUmask(t *testing.T) {
	old := syscall.Umask(0o077)
	defer syscall.Umask(old)
	d := filepath.Join(t.TempDir(), "new")
	tg, err := New(d)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tg.Publish(context.Background(), "a.jpg", []byte("x")); err != nil {
		t.Fatal(err)
	}
	for p, want := range map[string]os.FileMode{d: 0o755, filepath.Join(d, "a.jpg"): 0o644} {
		st, err := os.Stat(p)
		if err != nil || st.Mode().Perm() != want {
			t.Errorf("%s: %v %v, want %v", p, st.Mode().Perm(), err, want)
		}
	}
}
