// Package dir is the folder target: published photos are written to a local
// (or mounted) folder that a website or portal upload picks up from.
//
// Invariant: the folder never shows a partial file. Each photo is written to a
// hidden temporary file in the same folder, fsynced, renamed to its name and
// the folder is fsynced, so a crash leaves either the whole photo or none.
package dir

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/photoguard/photoguard/pipeline/internal/fsync"
)

// Target publishes into one folder.
type Target struct {
	dir string
}

// New returns the target for folder dir, creating the folder if needed and
// removing temporary files that a crash left behind more than an hour ago.
func New(dir string) (*Target, error) {
	if dir == "" {
		return nil, errors.New("dir target: no path")
	}
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, classify(fmt.Errorf("dir target: %w", err))
		}
		// Published photos are public: whatever the service's umask, the
		// folder it creates is readable by the site's uploader.
		_ = os.Chmod(dir, 0o755)
	}
	if _, err := os.ReadDir(dir); err != nil {
		return nil, classify(fmt.Errorf("dir target: %w", err))
	}
	// Another process may be publishing here right now: only what is
	// older than an hour is left over from a crash.
	fsync.RemoveTemps(dir, time.Hour)
	return &Target{dir: dir}, nil
}

// Dir is the folder published to.
func (t *Target) Dir() string { return t.dir }

func (t *Target) path(name string) (string, error) {
	if name == "" || name != filepath.Base(name) || strings.HasPrefix(name, ".") {
		return "", permanent(fmt.Errorf("dir target: %q is not a plain file name", name))
	}
	return filepath.Join(t.dir, name), nil
}

// Publish writes data under name atomically (fsync.WriteFile: a temporary
// file, fsync, rename, fsync of the folder). The photo is readable by
// everyone (the web server, the portal's uploader) whatever the umask: a
// published photo is public by nature.
// The reference is the name.
func (t *Target) Publish(ctx context.Context, name string, data []byte) (string, error) {
	if _, err := t.path(name); err != nil {
		return "", err
	}
	if err := ctx.Err(); err != nil {
		return "", err
	}
	if err := fsync.WriteFile(t.dir, name, data, 0o644, nil, nil); err != nil {
		return "", classify(fmt.Errorf("dir target: writing %s: %w", name, err))
	}
	return name, nil
}

// Exists reports whether name is at the target (its reference is the name).
func (t *Target) Exists(ctx context.Context, name string) (string, bool, error) {
	p, err := t.path(name)
	if err != nil {
		return "", false, err
	}
	_, err = os.Stat(p)
	if errors.Is(err, os.ErrNotExist) {
		return "", false, nil
	}
	if err != nil {
		return "", false, classify(err)
	}
	return name, true, nil
}

// Remove takes name (the reference) down.
func (t *Target) Remove(ctx context.Context, name string) error {
	p, err := t.path(name)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
		return classify(err)
	}
	return syncDir(t.dir)
}

func syncDir(dir string) error { return fsync.Dir(dir) }

type permanentError struct{ error }

func (permanentError) Permanent() bool { return true }
func (e permanentError) Unwrap() error { return e.error }
func permanent(err error) error        { return permanentError{err} }

// classify marks errors that retrying will not fix. A full disk, a quota, an
// I/O error or a folder that is not mounted yet may pass; permission and
// read-only file systems do not.
func classify(err error) error {
	switch {
	case errors.Is(err, syscall.EACCES), errors.Is(err, syscall.EPERM), errors.Is(err, syscall.EROFS),
		errors.Is(err, syscall.ENOTDIR), errors.Is(err, syscall.EISDIR), errors.Is(err, syscall.ENAMETOOLONG):
		return permanent(err)
	}
	return err
}
