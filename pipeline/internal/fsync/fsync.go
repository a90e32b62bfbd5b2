// Package fsync holds the one durable-write primitive the pipeline's stores
// share: fsync of a folder after a rename or removal in it.
//
// Invariant: when Dir returns nil, the folder's entries (names created,
// renamed or removed in it) survive a power cut.
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
