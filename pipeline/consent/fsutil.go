package consent

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"golang.org/x/sys/unix"
)

// ensureDir creates dir (0700) if it is missing and checks its mode. A
// private directory must not be accessible to group or others at all; any
// other directory must at least not be writable by them, since whoever can
// write a directory can swap the files in it.
func ensureDir(dir string, private bool) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("consent store: creating %s: %w", dir, err)
	}
	st, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("consent store: %w", err)
	}
	if !st.IsDir() {
		return fmt.Errorf("consent store: %s is not a directory", dir)
	}
	perm := st.Mode().Perm()
	if private && perm&0o077 != 0 {
		return fmt.Errorf("%w: directory %s has mode %04o; run: chmod 700 %s", ErrInsecure, dir, perm, dir)
	}
	if !private && perm&0o022 != 0 {
		return fmt.Errorf("%w: directory %s has mode %04o, so group or others can replace files in it; run: chmod go-w %s",
			ErrInsecure, dir, perm, dir)
	}
	return nil
}

// checkDir is ensureDir for a read-only store: a missing dir is no error
// (there is nothing to read yet) and nothing is created.
func checkDir(dir string, private bool) error {
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return ensureDir(dir, private)
}

// checkFileMode refuses a file that group or others can access.
func checkFileMode(path string, st fs.FileInfo) error {
	if !st.Mode().IsRegular() {
		return fmt.Errorf("%w: %s is not a regular file", ErrInsecure, path)
	}
	if perm := st.Mode().Perm(); perm&0o077 != 0 {
		return fmt.Errorf("%w: %s has mode %04o; run: chmod 600 %s", ErrInsecure, path, perm, path)
	}
	return nil
}

// chownLikeDir gives f the owner of dir when running as root, so that an
// ICT coordinator who runs "sudo photoguard enroll" does not leave a
// store the service user can no longer read.
func chownLikeDir(f *os.File, dir string) error {
	if os.Geteuid() != 0 {
		return nil
	}
	var st unix.Stat_t
	if err := unix.Stat(dir, &st); err != nil {
		return fmt.Errorf("consent store: %w", err)
	}
	if st.Uid == 0 {
		return nil
	}
	if err := f.Chown(int(st.Uid), int(st.Gid)); err != nil {
		return fmt.Errorf("consent store: chown: %w", err)
	}
	return nil
}
