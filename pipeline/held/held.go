package held

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/photoguard/photoguard/pipeline/core"
	"github.com/photoguard/photoguard/pipeline/internal/fsync"
)

// Folder is the held folder under state_dir; StagingFolder where a photo
// being retried is; LockFile what a retry (and a purge) holds.
const (
	Folder        = core.HeldFolder
	StagingFolder = "retry"
	LockFile      = "retry.lock"
	reasonFile    = "reason.txt"
)

// Photo is one held photo.
type Photo struct {
	// Name is its folder's name below held/ (DATE-HASH); Short the hash.
	Name, Short string
	// SHA256 is the content hash from the reason file ("" if none).
	SHA256 string
	// File is the original's path, "" when it is no longer there.
	File string
	// Rel is the original's path below the inbox, from the reason file.
	Rel string
	// Reason is why it was held; At when.
	Reason string
	At     time.Time
}

// List returns the held photos of stateDir, oldest first.
func List(stateDir string) ([]Photo, error) {
	dir := filepath.Join(stateDir, Folder)
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []Photo
	for _, e := range entries {
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		ph, err := read(filepath.Join(dir, e.Name()))
		if err != nil {
			continue // not a held photo's folder
		}
		out = append(out, ph)
	}
	sort.Slice(out, func(a, b int) bool { return out[a].At.Before(out[b].At) })
	return out, nil
}

// read reads one held folder: its reason file and the original beside it.
func read(dir string) (Photo, error) {
	ph := Photo{Name: filepath.Base(dir)}
	if i := strings.LastIndexByte(ph.Name, '-'); i >= 0 {
		ph.Short = ph.Name[i+1:]
	}
	f, err := os.OpenFile(filepath.Join(dir, reasonFile), os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if err != nil {
		return ph, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() || st.Size() > 64<<10 {
		return ph, errors.New("not a reason file")
	}
	text := make([]byte, st.Size())
	if _, err := f.Read(text); err != nil && st.Size() > 0 {
		return ph, err
	}
	ph.At = st.ModTime()
	for _, line := range strings.Split(string(text), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		switch v = strings.TrimSpace(v); k {
		case "photo":
			ph.Rel = v
		case "reason":
			ph.Reason = v
		case "sha256":
			ph.SHA256 = v
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return ph, err
	}
	for _, e := range entries {
		if e.Name() != reasonFile && !strings.HasPrefix(e.Name(), fsync.TempPrefix) {
			ph.File = filepath.Join(dir, e.Name())
			break
		}
	}
	return ph, nil
}

// Processor is the pipeline's one code path for one file (Pipeline.Process).
type Processor interface {
	Process(ctx context.Context, root, path string) ([]core.Item, error)
}

// Retrier puts held photos back through the pipeline. Hold its Lock for as
// long as it works.
type Retrier struct {
	StateDir string
}

// Lock makes this process the only one retrying in stateDir; it waits for
// another to finish. Call the returned function to unlock.
func (r *Retrier) Lock() (func(), error) {
	f, err := os.OpenFile(filepath.Join(r.StateDir, LockFile), os.O_RDWR|os.O_CREATE|syscall.O_NOFOLLOW, 0o600)
	if err != nil {
		return nil, err
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX); err != nil {
		f.Close()
		return nil, err
	}
	return func() { _ = unix.Flock(int(f.Fd()), unix.LOCK_UN); f.Close() }, nil
}

// Recover puts back in its held folder every original a retry that died
// left in the staging folder (under the lock: no retry is working).
func (r *Retrier) Recover() error {
	staging := filepath.Join(r.StateDir, StagingFolder)
	entries, err := os.ReadDir(staging)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	var errs []error
	for _, e := range entries {
		root := filepath.Join(staging, e.Name())
		home := filepath.Join(r.StateDir, Folder, e.Name())
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			return moveInto(p, home)
		})
		errs = append(errs, err, removeDirs(root))
	}
	return errors.Join(errs...)
}

// Retry processes ph through p, from the staging folder, and leaves its
// original in exactly one place: wiped (published), in the folder the
// pipeline moved it to, or back in its held folder (the pipeline left it:
// a target down, busy elsewhere). The held folder is removed once its
// original has gone elsewhere.
func (r *Retrier) Retry(ctx context.Context, p Processor, ph Photo) ([]core.Item, error) {
	if ph.File == "" {
		return nil, fmt.Errorf("held photo %s: the original is no longer in its folder", ph.Name)
	}
	home := filepath.Dir(ph.File)
	root := filepath.Join(r.StateDir, StagingFolder, ph.Name)
	staged := filepath.Join(root, stagedRel(ph))
	if err := os.MkdirAll(filepath.Dir(staged), 0o700); err != nil {
		return nil, err
	}
	if err := os.Rename(ph.File, staged); err != nil {
		return nil, fmt.Errorf("held photo %s: %w", ph.Name, err)
	}
	if err := syncBoth(home, filepath.Dir(staged)); err != nil {
		return nil, errors.Join(err, moveInto(staged, home))
	}
	items, perr := p.Process(ctx, root, staged)
	if _, err := os.Lstat(staged); err == nil {
		// Left where it was: back to its held folder.
		if err := moveInto(staged, home); err != nil {
			return items, errors.Join(perr, err)
		}
		return items, errors.Join(perr, removeDirs(root))
	}
	err := removeDirs(root)
	movedTo := ""
	for _, it := range items {
		if it.Aside != "" {
			movedTo = it.Aside
		}
	}
	if filepath.Clean(movedTo) != filepath.Clean(home) {
		// Published (and wiped) or moved to another folder: the reason
		// file here is about a photo that is no longer here.
		err = errors.Join(err, os.Remove(filepath.Join(home, reasonFile)), os.Remove(home), fsync.Dir(filepath.Dir(home)))
	}
	return items, errors.Join(perr, err)
}

// stagedRel is where below the staging root the original goes: its path
// below the inbox when the reason file has a plain one, else its own name.
func stagedRel(ph Photo) string {
	base := filepath.Base(ph.File)
	rel := filepath.FromSlash(ph.Rel)
	if rel == "" || !filepath.IsLocal(rel) || filepath.Base(rel) != base {
		return base
	}
	return rel
}

// moveInto moves the file at p into folder dir (created 0700), keeping its
// name.
func moveInto(p, dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	if err := os.Rename(p, filepath.Join(dir, filepath.Base(p))); err != nil {
		return err
	}
	return syncBoth(dir, filepath.Dir(p))
}

func syncBoth(a, b string) error { return errors.Join(fsync.Dir(a), fsync.Dir(b)) }

// removeDirs removes root and the folders below it, bottom up, as long as
// they are empty: a file left there (never expected) stays for Recover.
func removeDirs(root string) error { return fsync.RemoveEmptyDirs(root) }

// Select picks the held photos names refer to: a folder name, the short hash
// or any unambiguous prefix of the content hash (at least 6 characters).
func Select(photos []Photo, names []string) ([]Photo, error) {
	var out []Photo
	seen := map[string]bool{}
	for _, n := range names {
		n = strings.ToLower(strings.TrimSpace(n))
		var hits []Photo
		for _, ph := range photos {
			if ph.Name == n || len(n) >= 6 && (strings.HasPrefix(ph.SHA256, n) || strings.HasPrefix(ph.Short, n)) {
				hits = append(hits, ph)
			}
		}
		switch {
		case len(hits) == 0 && len(n) < 6:
			return nil, fmt.Errorf("%s: give at least 6 characters of the hash (photoguard status lists the held photos)", n)
		case len(hits) == 0:
			return nil, fmt.Errorf("%s: no held photo has this hash (photoguard status lists them)", n)
		case len(hits) > 1:
			var c []string
			for _, h := range hits {
				c = append(c, h.Name+"  "+h.Reason)
			}
			return nil, fmt.Errorf("%s names %d held photos; give more of the hash:\n  %s", n, len(hits), strings.Join(c, "\n  "))
		}
		if !seen[hits[0].Name] {
			seen[hits[0].Name] = true
			out = append(out, hits[0])
		}
	}
	return out, nil
}
