package retention

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/photoguard/photoguard/pipeline/audit"
	"github.com/photoguard/photoguard/pipeline/journal"
)

const day = 24 * time.Hour

type fakeAudit struct{ events []audit.Event }

func (a *fakeAudit) Record(e audit.Event) error { a.events = append(a.events, e); return nil }

// aside puts a photo moved aside age ago into state/folder/name.
func aside(t *testing.T, state, folder, name string, age time.Duration) string {
	t.Helper()
	dir := filepath.Join(state, folder, name)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"IMG_0001 Pietje.jpg", "reason.txt"} {
		if err := os.WriteFile(filepath.Join(dir, f), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	at := time.Now().Add(-age)
	if err := os.Chtimes(filepath.Join(dir, "reason.txt"), at, at); err != nil {
		t.Fatal(err)
	}
	return dir
}

// record writes a journal record last updated age ago.
func record(t *testing.T, state string, c byte, st journal.State, outcome string, age time.Duration) string {
	t.Helper()
	sha := strings.Repeat(string(c), 64)
	at := time.Now().Add(-age).UTC().Format(time.RFC3339)
	data := `{"sha256":"` + sha + `","state":"` + string(st) + `","outcome":"` + outcome + `","owner":"x","updated_at":"` + at + `","claimed_at":"` + at + `"}`
	if err := os.WriteFile(filepath.Join(state, "journal", sha+".json"), []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	return sha
}

// TestPurgeOnlyPastRetention: purge removes exactly what is past its
// retention (originals 30 days, review 30 days, journal 400 days), and a
// held photo whose content was published since; a dry run lists the same
// and removes nothing; a link is removed as a link; nothing else in
// state_dir is touched.
func TestPurgeOnlyPastRetention(t *testing.T) {
	state := t.TempDir()
	j, err := journal.Open(state)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()

	oldHeld := aside(t, state, "held", "20261001-aaaaaaaaaaaa", 40*day)
	newHeld := aside(t, state, "held", "20261125-bbbbbbbbbbbb", 5*day)
	republished := aside(t, state, "held", "20261120-cccccccccccc", 10*day)
	oldQuar := aside(t, state, "quarantine", "20261001-unhashed-0a1b2c3d", 31*day)
	newRej := aside(t, state, "rejected", "20261130-dddddddddddd", 1*day)
	oldRej := aside(t, state, "rejected", "20261030-eeeeeeeeeeee", 30*day+time.Hour)
	record(t, state, 'c', journal.Done, "published", 2*day)
	oldRec := record(t, state, '1', journal.Done, "published", 401*day)
	newRec := record(t, state, '2', journal.Done, "held", 399*day)
	busyRec := record(t, state, '3', journal.Publishing, "", 500*day)

	review := filepath.Join(state, ReviewDir)
	os.MkdirAll(review, 0o700)
	for name, age := range map[string]time.Duration{"old.json": 45 * day, "new.json": 2 * day} {
		p := filepath.Join(review, name)
		os.WriteFile(p, []byte("{}"), 0o600)
		at := time.Now().Add(-age)
		os.Chtimes(p, at, at)
	}
	// A link in held/, old, to a file outside state_dir: the link goes, the
	// file stays.
	outside := filepath.Join(t.TempDir(), "precious.jpg")
	os.WriteFile(outside, []byte("x"), 0o600)
	link := filepath.Join(state, "held", "20261002-ffffffffffff")
	if err := os.Symlink(outside, link); err != nil {
		t.Fatal(err)
	}
	at := time.Now().Add(-40 * day)
	lutimes(t, link, at)
	// Other files of state_dir.
	keep := filepath.Join(state, "ledger", "ledger.jsonl")
	os.MkdirAll(filepath.Dir(keep), 0o700)
	os.WriteFile(keep, []byte("{}\n"), 0o600)
	os.Chtimes(keep, at, at)

	aud := &fakeAudit{}
	pg := &Purger{StateDir: state, Journal: j, Audit: aud,
		Policy: Policy{Originals: 30 * day, Review: 30 * day, Journal: 400 * day}}
	want := []string{
		"held/20261001-aaaaaaaaaaaa", "held/20261002-ffffffffffff", "held/20261120-cccccccccccc",
		"journal/111111111111", "quarantine/20261001-unhashed-0a1b2c3d", "rejected/20261030-eeeeeeeeeeee", "review/old.json",
	}
	names := func(rs []Removal) []string {
		var out []string
		for _, r := range rs {
			out = append(out, r.Folder+"/"+r.Name)
		}
		sort.Strings(out)
		return out
	}
	dry, err := pg.Run(true)
	if err != nil {
		t.Fatal(err)
	}
	if got := names(dry); !reflect.DeepEqual(got, want) {
		t.Errorf("dry run lists\n%v\nwant\n%v", got, want)
	}
	for _, p := range []string{oldHeld, republished, oldQuar, oldRej, link} {
		if _, err := os.Lstat(p); err != nil {
			t.Fatalf("dry run removed %s", p)
		}
	}
	if len(aud.events) != 0 {
		t.Errorf("dry run audited %v", aud.events)
	}

	got, err := pg.Run(false)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(names(got), want) {
		t.Errorf("purged\n%v\nwant\n%v", names(got), want)
	}
	for _, p := range []string{oldHeld, republished, oldQuar, oldRej, link, filepath.Join(review, "old.json")} {
		if _, err := os.Lstat(p); err == nil {
			t.Errorf("%s kept past its retention", p)
		}
	}
	for _, p := range []string{newHeld, newRej, filepath.Join(review, "new.json"), outside, keep} {
		if _, err := os.Lstat(p); err != nil {
			t.Errorf("%s removed before its time", p)
		}
	}
	if _, err := j.Get(oldRec); err != journal.ErrNotFound {
		t.Errorf("old journal record kept: %v", err)
	}
	for _, sha := range []string{newRec, busyRec} {
		if _, err := j.Get(sha); err != nil {
			t.Errorf("journal record %s removed: %v", sha[:4], err)
		}
	}
	if len(aud.events) != len(want) { // one per entry, one for all journal records
		t.Errorf("%d audit events: %+v", len(aud.events), aud.events)
	}
	for _, e := range aud.events {
		if e.Kind != audit.Purge || strings.Contains(e.Detail, "Pietje") {
			t.Errorf("audit event %+v", e)
		}
	}
	if again, err := pg.Run(false); err != nil || len(again) != 0 {
		t.Errorf("second run: %v, %v", names(again), err)
	}
}

// lutimes sets the modification time of a link itself.
func lutimes(t *testing.T, p string, at time.Time) {
	t.Helper()
	tv := unix.NsecToTimeval(at.UnixNano())
	if err := unix.Lutimes(p, []unix.Timeval{tv, tv}); err != nil {
		t.Fatal(err)
	}
}

// The aside folders are purged under the lock (the retry lock in the
// service), and a dry run takes none; a lock that cannot be taken purges
// nothing.
func TestPurgeTakesTheLock(t *testing.T) {
	state := t.TempDir()
	locked := 0
	pg := &Purger{StateDir: state, Lock: func() (func(), error) { locked++; return func() {}, nil }}
	if _, err := pg.Run(true); err != nil || locked != 0 {
		t.Fatalf("dry run: %v, lock taken %d times", err, locked)
	}
	if _, err := pg.Run(false); err != nil || locked != 1 {
		t.Fatalf("run: %v, lock taken %d times", err, locked)
	}
	pg.Lock = func() (func(), error) { return nil, errors.New("interrupted") }
	if _, err := pg.Run(false); err == nil {
		t.Fatal("a purge ran without its lock")
	}
}
