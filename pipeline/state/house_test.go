package state

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/photoguard/photoguard/pipeline/audit"
	"github.com/photoguard/photoguard/pipeline/consent"
	"github.com/photoguard/photoguard/pipeline/core"
	"github.com/photoguard/photoguard/pipeline/held"
	"github.com/photoguard/photoguard/pipeline/journal"
	"github.com/photoguard/photoguard/redact/testenv"
)

var sha = strings.Repeat("ab", 32)

func pupil(id string, given bool) consent.Person {
	p := consent.Person{ID: id, FirstName: "Anna", LastName: "Jansen", Group: "groep 5", Role: consent.RolePupil,
		Consent: map[string]consent.ChannelConsent{}}
	for _, ch := range consent.Channels() {
		p.Consent[ch] = consent.ChannelConsent{Given: given, ConfirmedOn: time.Now().AddDate(0, 0, -1)}
	}
	return p
}

// furnish opens dir to write and uses everything a house holds: the key,
// the consent store (one pupil), the journal (one record), the ledger (one
// publication), the audit log, the run lock and a retry's lock.
func furnish(t *testing.T, dir string) {
	t.Helper()
	h, err := Open(dir, Service, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	st, err := h.Store()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.ImportConsent([]consent.Person{pupil("p1", true)}, consent.ImportOptions{AllowRemove: true}); err != nil {
		t.Fatal(err)
	}
	j, err := h.Journal()
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	if err := j.Put(&journal.Record{SHA256: sha, State: journal.Done, Outcome: "published", ClaimedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	led, err := h.Ledger()
	if err != nil {
		t.Fatal(err)
	}
	if err := led.Published(core.Publication{SHA256: sha, Target: "website", Channel: "website", Name: "20261201-abababababab.jpg", Ref: "x"}); err != nil {
		t.Fatal(err)
	}
	aud, err := h.Audit()
	if err != nil {
		t.Fatal(err)
	}
	if err := aud.Record(audit.Event{Kind: audit.Purge, Count: 1}); err != nil {
		t.Fatal(err)
	}
	unlock, err := (&held.Retrier{StateDir: dir}).Lock()
	if err != nil {
		t.Fatal(err)
	}
	unlock()
}

// Everything a house writes at the top of the state folder is in Layout,
// and Layout names each entry once.
func TestLayoutNamesWhatAHouseWrites(t *testing.T) {
	t.Setenv(consent.KeyEnv, "")
	dir := filepath.Join(t.TempDir(), "state")
	furnish(t, dir)
	known := map[string]bool{}
	for _, e := range Layout() {
		if known[e.Name] {
			t.Errorf("Layout names %s twice", e.Name)
		}
		known[e.Name] = true
	}
	for _, folder := range core.AsideFolders() {
		if !known[folder] {
			t.Errorf("Layout misses the aside folder %s", folder)
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) < 6 {
		t.Fatalf("the furnished house holds only %d entries", len(entries))
	}
	for _, e := range entries {
		if !known[e.Name()] {
			t.Errorf("%s is in the state folder but not in Layout", e.Name())
		}
	}
	for _, e := range Layout() {
		if fi, err := os.Lstat(filepath.Join(dir, e.Name)); err == nil && fi.IsDir() != e.Dir {
			t.Errorf("%s: a folder is %v, Layout says %v", e.Name, fi.IsDir(), e.Dir)
		}
	}
}

// useReading does with h what the commands that read do, and tries what a
// write would do: every change is refused.
func useReading(t *testing.T, h *House, wantPeople, wantRecords, wantEntries int) {
	t.Helper()
	if _, err := h.LedgerKey(); err != nil {
		t.Errorf("%s: LedgerKey: %v", h.Mode, err)
	}
	j, err := h.Journal()
	if err != nil {
		t.Fatal(err)
	}
	// A journal not made yet lists nothing (as an error that says so).
	if recs, err := j.List(); err != nil && (wantRecords > 0 || !errors.Is(err, fs.ErrNotExist)) || len(recs) != wantRecords {
		t.Errorf("%s: journal: %d records, %v; want %d", h.Mode, len(recs), err, wantRecords)
	}
	st, err := h.Store()
	if err != nil {
		t.Fatalf("%s: Store: %v", h.Mode, err)
	}
	if n := st.Snapshot().Len(); n != wantPeople {
		t.Errorf("%s: the store holds %d people, want %d", h.Mode, n, wantPeople)
	}
	// A dry run of an import works, and says what it would do.
	rep, err := st.DiffImport([]consent.Person{pupil("p1", true), pupil("p2", false)}, consent.ImportOptions{AllowRemove: true})
	if err != nil || rep.Added != 2-wantPeople {
		t.Errorf("%s: DiffImport = %+v, %v", h.Mode, rep, err)
	}
	if _, err := st.ImportConsent([]consent.Person{pupil("p1", true), pupil("p2", false)}, consent.ImportOptions{AllowRemove: true}); !errors.Is(err, consent.ErrReadOnly) {
		t.Errorf("%s: ImportConsent = %v, want ErrReadOnly", h.Mode, err)
	}
	if wantPeople > 0 {
		if _, err := st.Revoke("p1", consent.Channels()[0]); !errors.Is(err, consent.ErrReadOnly) {
			t.Errorf("%s: Revoke = %v, want ErrReadOnly", h.Mode, err)
		}
	}
	if _, err := st.PruneBackups(); !errors.Is(err, consent.ErrReadOnly) {
		t.Errorf("%s: PruneBackups = %v, want ErrReadOnly", h.Mode, err)
	}
	if led, err := h.Ledger(); led != nil || err != nil {
		t.Errorf("%s: Ledger = %v, %v; want none", h.Mode, led, err)
	}
	if aud, err := h.Audit(); aud != nil || err != nil {
		t.Errorf("%s: Audit = %v, %v; want none", h.Mode, aud, err)
	}
	rd, _, err := h.ReadLedger()
	if err != nil || len(rd.Entries) != wantEntries || rd.Problem() != "" {
		t.Errorf("%s: ReadLedger: %v, %v", h.Mode, rd, err)
	}
	if err := h.Close(); err != nil {
		t.Error(err)
	}
}

// A house opened read-only or for a dry run reads everything and changes
// nothing: not a byte, not a time, not a lock file.
func TestReadingChangesNothing(t *testing.T) {
	t.Setenv(consent.KeyEnv, "")
	dir := filepath.Join(t.TempDir(), "state")
	furnish(t, dir)
	// Where the folder can be written (root can, whatever the mode) the
	// comparison below catches a write; elsewhere the write fails too.
	if err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			err = os.Chmod(p, 0o500)
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				_ = os.Chmod(p, 0o700)
			}
			return nil
		})
	})
	before := testenv.Tree(t, dir)
	time.Sleep(10 * time.Millisecond) // a write now would show in a time
	for _, mode := range []Mode{ReadOnly, DryRun} {
		h, err := Open(dir, mode, Options{})
		if err != nil {
			t.Fatal(err)
		}
		useReading(t, h, 1, 1, 1)
	}
	after := testenv.Tree(t, dir)
	for p, v := range after {
		if before[p] != v {
			t.Errorf("%s changed: %q, was %q", p, v, before[p])
		}
	}
	for p := range before {
		if _, ok := after[p]; !ok {
			t.Errorf("%s is gone", p)
		}
	}
}

// A folder that is not there yet reads as an empty house, and stays not
// there.
func TestReadingAMissingFolderCreatesNothing(t *testing.T) {
	t.Setenv(consent.KeyEnv, "")
	dir := filepath.Join(t.TempDir(), "state")
	for _, mode := range []Mode{ReadOnly, DryRun} {
		h, err := Open(dir, mode, Options{})
		if err != nil {
			t.Fatal(err)
		}
		useReading(t, h, 0, 0, 0)
		if _, err := h.Key(); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s: Key = %v, want none", mode, err)
		}
		if _, err := os.Lstat(dir); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("%s created the state folder: %v", mode, err)
		}
	}
}

// A store without its key is an error in every mode, never a new key.
func TestAStoreWithoutItsKey(t *testing.T) {
	t.Setenv(consent.KeyEnv, "")
	dir := filepath.Join(t.TempDir(), "state")
	furnish(t, dir)
	if err := os.Remove(filepath.Join(dir, KeyFile)); err != nil {
		t.Fatal(err)
	}
	for _, mode := range []Mode{ReadOnly, DryRun, Write} {
		h, err := Open(dir, mode, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := h.Store(); !errors.Is(err, consent.ErrNoKey) {
			t.Errorf("%s: Store without its key = %v, want ErrNoKey", mode, err)
		}
		h.Close()
		if _, err := os.Lstat(filepath.Join(dir, KeyFile)); err == nil {
			t.Fatalf("%s made a new key", mode)
		}
	}
}

// The service takes the run lock: a second service on the same folder is
// refused with an error naming the folder, until the first closes; the
// commands, which do not take it, open the house beside it.
func TestRunLockBlocksASecondService(t *testing.T) {
	t.Setenv(consent.KeyEnv, "")
	dir := filepath.Join(t.TempDir(), "state")
	first, err := Open(dir, Service, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Open(dir, Service, Options{}); err == nil || !strings.Contains(err.Error(), dir) ||
		!strings.Contains(err.Error(), "another photoguard run") {
		t.Errorf("a second service: %v", err)
	}
	if RunPID(dir) != os.Getpid() {
		t.Errorf("RunPID = %d while the house holds the lock", RunPID(dir))
	}
	beside, err := Open(dir, Write, Options{})
	if err != nil {
		t.Fatalf("a command beside the service: %v", err)
	}
	beside.Close()
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	again, err := Open(dir, Service, Options{})
	if err != nil {
		t.Fatalf("after the first closed: %v", err)
	}
	again.Close()
}

// Open refuses what is no state folder.
func TestOpenRefuses(t *testing.T) {
	if _, err := Open("", Write, Options{}); err == nil {
		t.Error("an empty state_dir was opened")
	}
	if _, err := Open(t.TempDir(), Mode(0), Options{}); err == nil {
		t.Error("mode 0 was opened")
	}
	if _, err := Open(t.TempDir(), Service+1, Options{}); err == nil {
		t.Error("a mode past Service was opened")
	}
}
