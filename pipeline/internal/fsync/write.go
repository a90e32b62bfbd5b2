package fsync

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// TempPrefix starts the names of the temporary files WriteFile makes: hidden,
// so that scanners and pickers skip them.
const TempPrefix = ".photoguard-"

// ErrInTheWay is returned by WriteFile when something it may not replace
// already has the name.
var ErrInTheWay = errors.New("something photoguard may not replace has that name")

// WriteFile writes dir/name whole or not at all, and never through a link:
// data goes to a new hidden temporary file in dir (O_EXCL|O_NOFOLLOW), gets
// mode perm (whatever the umask), is fsynced and then takes the name, and dir
// is fsynced. Nothing that already has the name is ever opened for writing,
// so a planted link (symbolic or hard) to another file cannot make WriteFile
// write that file.
//
// replace decides about an entry that already has the name (it sees its
// Lstat): nil replaces it, whatever it is (the rename swaps the name, it
// never follows it); otherwise it is replaced only when replace returns true,
// and ErrInTheWay is returned when not. Without an entry the name is taken by
// link(2), which never replaces one that appeared meanwhile. chown, if not
// nil, is called on the temporary file before it takes the name.
func WriteFile(dir, name string, data []byte, perm fs.FileMode, replace func(fs.FileInfo) bool, chown func(*os.File) error) (err error) {
	if name == "" || name != filepath.Base(name) || name == "." || name == ".." {
		return fmt.Errorf("%q is not a plain file name", name)
	}
	final := filepath.Join(dir, name)
	var rnd [8]byte
	_, _ = rand.Read(rnd[:])
	tmp := filepath.Join(dir, TempPrefix+hex.EncodeToString(rnd[:])+".tmp")
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL|syscall.O_NOFOLLOW|syscall.O_CLOEXEC, 0o600)
	if err != nil {
		return err
	}
	defer func() {
		if f != nil {
			_ = f.Close()
		}
		_ = os.Remove(tmp) // after a rename: already gone; after a link: the second name
	}()
	if err = f.Chmod(perm); err != nil {
		return err
	}
	if chown != nil {
		if err = chown(f); err != nil {
			return err
		}
	}
	if _, err = f.Write(data); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	err = f.Close()
	f = nil
	if err != nil {
		return err
	}
	st, lerr := os.Lstat(final)
	switch {
	case errors.Is(lerr, fs.ErrNotExist) && replace != nil:
		if err = os.Link(tmp, final); err != nil {
			if errors.Is(err, fs.ErrExist) {
				return ErrInTheWay // appeared meanwhile
			}
			return err
		}
	case lerr != nil && !errors.Is(lerr, fs.ErrNotExist):
		return lerr
	case lerr == nil && replace != nil && !replace(st):
		return ErrInTheWay
	default:
		if err = os.Rename(tmp, final); err != nil {
			return err
		}
	}
	return Dir(dir)
}

// RemoveTemps removes the temporary files WriteFile left in dir when a
// crash interrupted it, if they are older than age (0: all of them; only
// safe when no other WriteFile in dir can be under way).
func RemoveTemps(dir string, age time.Duration) {
	m, _ := filepath.Glob(filepath.Join(dir, TempPrefix+"*.tmp"))
	for _, p := range m {
		if st, err := os.Lstat(p); err == nil && st.Mode().IsRegular() && time.Since(st.ModTime()) >= age {
			_ = os.Remove(p)
		}
	}
}
