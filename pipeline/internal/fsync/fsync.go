// Package fsync holds the durable-write primitives the pipeline's stores
// share: fsync of a folder after a rename or removal in it, and writing a
// whole file through a temporary one (WriteFile).
//
// Invariant: when Dir returns nil, the folder's entries (names created,
// renamed or removed in it) survive a power cut; WriteFile never writes
// through a name that already exists (a link is replaced or left, never
// followed).
package fsync

import (
	"errors"
	"os"
	"syscall"
)

// Dir fsyncs the folder dir. File systems that cannot sync a folder (EINVAL)
// are accepted: there is nothing more to do on them.
func Dir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, syscall.EINVAL) {
		return err
	}
	return nil
}
