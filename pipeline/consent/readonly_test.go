package consent

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// A store opened ReadOnly reads and computes, and refuses every change
// before it writes: the files stay as they were, and a missing folder is an
// empty store that is not made.
func TestReadOnlyStore(t *testing.T) {
	dir := t.TempDir()
	k := testKey(t)
	w := openStore(t, dir, k)
	mustImport(t, w, person("1", "Anna", "Jansen", true, "2025-09-01"))
	if err := w.Enroll("1", []Reference{ref(1)}); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(filepath.Join(dir, dataDirName, dataFileName))

	s := openStore(t, dir, k, ReadOnly())
	if n := s.Snapshot().Len(); n != 1 {
		t.Fatalf("read-only store holds %d people", n)
	}
	if rep, err := s.DiffImport([]Person{person("1", "Anna", "Jansen", true, "2025-09-01"), person("2", "Bram", "Smit", false, "")},
		ImportOptions{AllowRemove: true}); err != nil || rep.Added != 1 {
		t.Errorf("DiffImport = %+v, %v", rep, err)
	}
	changes := map[string]func() error{
		"import": func() error {
			_, err := s.ImportConsent([]Person{person("2", "Bram", "Smit", false, "")}, ImportOptions{AllowRemove: true})
			return err
		},
		"enroll": func() error { return s.Enroll("1", []Reference{ref(2)}) },
		"revoke": func() error { _, err := s.Revoke("1", Channels()...); return err },
		"forget": func() error { return s.Forget("1") },
		"object": func() error { return s.Object(sha("photo"), "1", "") },
		"negative": func() error {
			return s.AddNegative("1", Negative{Descriptor: desc(3), PhotoSHA256: sha("photo"), Model: "m"})
		},
		"prune": func() error { _, err := s.PruneBackups(); return err },
	}
	for name, change := range changes {
		if err := change(); !errors.Is(err, ErrReadOnly) {
			t.Errorf("%s on a read-only store = %v, want ErrReadOnly", name, err)
		}
	}
	if after, _ := os.ReadFile(filepath.Join(dir, dataDirName, dataFileName)); string(after) != string(data) {
		t.Error("the store file changed")
	}
	if n := s.Snapshot().Len(); n != 1 {
		t.Errorf("after the refused changes the snapshot holds %d people", n)
	}

	missing := filepath.Join(t.TempDir(), "state")
	e := openStore(t, missing, k, ReadOnly())
	if n := e.Snapshot().Len(); n != 0 {
		t.Errorf("a missing folder holds %d people", n)
	}
	if _, err := os.Lstat(missing); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the read-only store made its folder: %v", err)
	}
}
