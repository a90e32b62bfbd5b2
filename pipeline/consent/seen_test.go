package consent

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const photoA = "3f2a9c1b0d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8"

// The school's normal restore path: a copy of registry.db from before a
// revocation is put back. It must not bring the revoked consent back
// silently: neither a new process nor the running daemon takes it, writes
// are refused, and only AcceptRestore takes it, saying what differs.
func TestRestoredOlderStoreRefused(t *testing.T) {
	state := t.TempDir()
	k := testKey(t)
	coord := openStore(t, state, k)
	mustImport(t, coord, person("100231", "Pietje", "Puk", true, "2025-09-01"), person("100232", "Anna", "Bos", true, "2025-09-01"))
	backup, err := os.ReadFile(dataPath(state))
	if err != nil {
		t.Fatal(err)
	}
	daemon := openStore(t, state, k)
	if _, err := coord.Revoke("100231", ChannelWebsite); err != nil {
		t.Fatal(err)
	}
	if err := coord.Object(photoA, "100232", ""); err != nil {
		t.Fatal(err)
	}
	if err := daemon.reload(); err != nil {
		t.Fatal(err)
	}
	// The restore.
	if err := os.WriteFile(dataPath(state), backup, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(state, k, fixedClock(testNow)); !errors.Is(err, ErrRolledBack) ||
		!strings.Contains(err.Error(), acceptRestoreCommand) {
		t.Fatalf("Open of a restored older register: %v", err)
	}
	if !daemon.Changed() {
		t.Fatal("the running daemon does not notice the restored file")
	}
	if err := daemon.reload(); !errors.Is(err, ErrRolledBack) {
		t.Fatalf("the running daemon took the older file: %v", err)
	}
	if ok, _ := daemon.Snapshot().Consent("100231", ChannelWebsite, testNow); ok {
		t.Fatal("the revoked pupil may be shown again")
	}
	if _, err := coord.Revoke("100232", ChannelNewsletter); !errors.Is(err, ErrRolledBack) {
		t.Fatalf("a write over the restored file: %v", err)
	}

	diff, err := AcceptRestore(state, k, true, fixedClock(testNow))
	if err != nil {
		t.Fatal(err)
	}
	if !diff.RolledBack || diff.Generation != 1 || diff.Seen != 3 || diff.Accepted != 0 {
		t.Errorf("dry run: %+v", diff)
	}
	if len(diff.Consent) != 1 || diff.Consent[0].ID != "100231" || diff.Consent[0].Channel != ChannelWebsite ||
		!diff.Consent[0].Seen.Revoked || !diff.Consent[0].Restored.Given {
		t.Errorf("consent diff: %+v", diff.Consent)
	}
	if len(diff.ObjectionsGone) != 1 || diff.ObjectionsGone[0].ID != "100232" || diff.ObjectionsGone[0].PhotoSHA256 != photoA {
		t.Errorf("objections diff: %+v", diff.ObjectionsGone)
	}
	if _, err := Open(state, k, fixedClock(testNow)); !errors.Is(err, ErrRolledBack) {
		t.Fatalf("a dry run accepted the restore: %v", err)
	}

	diff, err = AcceptRestore(state, k, false, fixedClock(testNow))
	if err != nil || diff.Accepted != 4 {
		t.Fatalf("accept: %+v, %v", diff, err)
	}
	s := openStore(t, state, k)
	if s.Snapshot().Generation() != 4 || s.Snapshot().Len() != 2 {
		t.Errorf("accepted register: generation %d, %d people", s.Snapshot().Generation(), s.Snapshot().Len())
	}
	if err := daemon.reload(); err != nil {
		t.Errorf("the daemon refuses the accepted register: %v", err)
	}
	// Accepting is once: the same old copy put back again is refused again.
	if err := os.WriteFile(dataPath(state), backup, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(state, k, fixedClock(testNow)); !errors.Is(err, ErrRolledBack) {
		t.Fatalf("the old copy again: %v", err)
	}
	// Nothing to accept on a register that is not older.
	if _, err := AcceptRestore(state, k, false, fixedClock(testNow)); err != nil {
		t.Fatal(err)
	}
	if diff, err := AcceptRestore(state, k, false, fixedClock(testNow)); err != nil || diff.RolledBack || diff.Accepted != 0 {
		t.Errorf("accept without a restore: %+v, %v", diff, err)
	}
}

// The generation record is beside the key, outside registry/: a restore of
// registry/ leaves it. A running Store refuses an older file even when the
// record is gone too; a register from before there were records gets one.
func TestGenerationRecord(t *testing.T) {
	state := t.TempDir()
	k := testKey(t)
	s := openStore(t, state, k)
	mustImport(t, s, person("1", "A", "A", true, "2025-09-01"))
	old, _ := os.ReadFile(dataPath(state))
	if _, err := s.Revoke("1", ChannelWebsite); err != nil {
		t.Fatal(err)
	}
	rec := filepath.Join(state, seenFileName)
	st, err := os.Stat(rec)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("generation record: %v %v", st, err)
	}
	if data, _ := os.ReadFile(rec); strings.Contains(string(data), "100") || strings.Contains(string(data), "website") {
		t.Error("the generation record is not encrypted")
	}
	// Without the record, the Store that saw generation 2 still refuses 1.
	must(t, os.Remove(rec))
	must(t, os.WriteFile(dataPath(state), old, 0o600))
	if err := s.reload(); !errors.Is(err, ErrRolledBack) {
		t.Fatalf("a running Store took an older file without the record: %v", err)
	}
	// A register without a record (written before records existed) gets
	// one when opened.
	fresh := openStore(t, state, k)
	if fresh.Snapshot().Generation() != 1 {
		t.Fatal(fresh.Snapshot().Generation())
	}
	if _, err := os.Stat(rec); err != nil {
		t.Fatalf("no record made on open: %v", err)
	}
	// A record of another key (or damaged) is refused, and AcceptRestore
	// replaces it.
	must(t, os.WriteFile(rec, []byte("PGSEEN\x00\x00garbage"), 0o600))
	if _, err := Open(state, k, fixedClock(testNow)); err == nil {
		t.Fatal("a damaged record was accepted")
	}
	if diff, err := AcceptRestore(state, k, false); err != nil || !diff.RolledBack {
		t.Fatalf("accepting over a damaged record: %+v %v", diff, err)
	}
	openStore(t, state, k)
	// The record cannot stand in for the store.
	recData, _ := os.ReadFile(rec)
	must(t, os.WriteFile(dataPath(state), recData, 0o600))
	if _, err := Open(state, k, fixedClock(testNow)); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("the record copied over the register: %v", err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// A removed register is not "no register yet": Exists says so while the
// record is there, and Open refuses it like an older one.
func TestRemovedRegister(t *testing.T) {
	state := t.TempDir()
	k := testKey(t)
	mustImport(t, openStore(t, state, k), person("1", "A", "A", true, "2025-09-01"))
	must(t, os.Remove(dataPath(state)))
	if !Exists(state) {
		t.Error("Exists: false for a removed register")
	}
	if _, err := Open(state, k); !errors.Is(err, ErrRolledBack) || !strings.Contains(err.Error(), "is missing") {
		t.Errorf("Open of a removed register: %v", err)
	}
	// No new key is made that could never open the record.
	if _, err := LoadKey(state); !errors.Is(err, ErrNoKey) {
		t.Errorf("LoadKey beside a generation record without a key: %v", err)
	}
	if Exists(t.TempDir()) {
		t.Error("Exists: true for an empty state folder")
	}
}
