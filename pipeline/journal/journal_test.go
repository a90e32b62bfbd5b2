package journal

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func sha(c byte) string { return strings.Repeat(string(c), 64) }

func TestClaimDuplicateAndPrune(t *testing.T) {
	dir := t.TempDir()
	j, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	r := &Record{SHA256: sha('a'), Input: "/in/a.jpg"}
	if _, res, err := j.Claim(r, []string{"web"}); err != nil || res != Fresh {
		t.Fatalf("claim: %v %v", res, err)
	}
	// Claimed by this live process: busy for anyone else.
	if _, res, _ := j.Claim(&Record{SHA256: sha('a')}, []string{"web"}); res != Busy {
		t.Fatalf("second claim: %v", res)
	}
	r.State, r.Outcome = Done, "published"
	r.Deliveries["web"] = &Delivery{Name: "x.jpg", Published: true}
	if err := j.Put(r); err != nil {
		t.Fatal(err)
	}
	if _, res, _ := j.Claim(&Record{SHA256: sha('a')}, []string{"web"}); res != Duplicate {
		t.Fatalf("published content claimed again: %v", res)
	}
	// Another target: not a duplicate, and the published delivery is kept.
	got, res, _ := j.Claim(&Record{SHA256: sha('a')}, []string{"web", "portal"})
	if res != Fresh || !got.Deliveries["web"].Published || len(got.Targets) != 2 {
		t.Fatalf("claim for a new target: %v %+v", res, got)
	}
	got.State = Done
	if err := j.Put(got); err != nil {
		t.Fatal(err)
	}
	// Prune removes only old finished records.
	old := &Record{SHA256: sha('b'), State: Done}
	if err := j.Put(old); err != nil {
		t.Fatal(err)
	}
	busy := &Record{SHA256: sha('c'), State: Claimed, Owner: j.Owner()}
	if err := j.Put(busy); err != nil {
		t.Fatal(err)
	}
	past := time.Now().Add(-500 * 24 * time.Hour)
	for _, s := range []string{sha('b'), sha('c')} {
		if err := os.Chtimes(filepath.Join(dir, "journal", s+".json"), past, past); err != nil {
			t.Fatal(err)
		}
	}
	// Prune judges by the record's own UpdatedAt: age it.
	old.UpdatedAt = past
	rewrite(t, j, old)
	busy.UpdatedAt = past
	rewrite(t, j, busy)
	n, err := j.Prune(400 * 24 * time.Hour)
	if err != nil || n != 1 {
		t.Fatalf("pruned %d, %v; want 1", n, err)
	}
	if _, err := j.Get(sha('b')); err != ErrNotFound {
		t.Error("old finished record kept")
	}
	if _, err := j.Get(sha('c')); err != nil {
		t.Error("unfinished record pruned")
	}
	if _, err := j.Get(sha('a')); err != nil {
		t.Error("recent record pruned")
	}
}

// rewrite stores r with its UpdatedAt as set (Put stamps the time).
func rewrite(t *testing.T, j *Journal, r *Record) {
	t.Helper()
	data := []byte(`{"sha256":"` + r.SHA256 + `","state":"` + string(r.State) + `","owner":"` + r.Owner +
		`","updated_at":"` + r.UpdatedAt.UTC().Format(time.RFC3339) + `","claimed_at":"` + r.UpdatedAt.UTC().Format(time.RFC3339) +
		`","input":"","rel":"","size":0,"mtime":"0001-01-01T00:00:00Z"}`)
	if err := os.WriteFile(filepath.Join(j.dir, r.SHA256+".json"), data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// A record is written whole through fsync.WriteFile: a link planted with the
// record's name is replaced, never written through, no temporary file is
// left, and the record is readable only by the service user.
func TestPutNeverThroughALink(t *testing.T) {
	dir := t.TempDir()
	j, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	victim := filepath.Join(dir, "victim")
	if err := os.WriteFile(victim, []byte("keep"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(victim, j.path(sha('b'))); err != nil {
		t.Fatal(err)
	}
	if err := j.Put(&Record{SHA256: sha('b'), State: Done}); err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(victim); string(data) != "keep" {
		t.Errorf("written through the link: %q", data)
	}
	st, err := os.Lstat(j.path(sha('b')))
	if err != nil || !st.Mode().IsRegular() || st.Mode().Perm() != 0o600 {
		t.Fatalf("record: %v %v", st.Mode(), err)
	}
	if r, err := j.Get(sha('b')); err != nil || r.State != Done {
		t.Errorf("read back: %+v %v", r, err)
	}
	entries, _ := os.ReadDir(filepath.Join(dir, "journal"))
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".tmp") {
			t.Errorf("temporary file left: %s", e.Name())
		}
	}
}

// TestDoneRecordsKeepNoPath: once a photo is done its record no longer
// holds the input's path (which may hold a child's name); while it is in
// progress it does (recovery needs it).
func TestDoneRecordsKeepNoPath(t *testing.T) {
	j, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	r := &Record{SHA256: sha('d'), Input: "/srv/inbox/groep-5/Pietje Puk.jpg", Rel: "groep-5/Pietje Puk.jpg", State: Claimed}
	if err := j.Put(r); err != nil {
		t.Fatal(err)
	}
	if got, _ := j.Get(r.SHA256); got.Input == "" || got.Rel == "" {
		t.Fatalf("claimed record lost its path: %+v", got)
	}
	r.State, r.Outcome = Done, "published"
	if err := j.Put(r); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(j.dir, r.SHA256+".json"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(data), "Pietje") || strings.Contains(string(data), "groep-5") {
		t.Errorf("done record keeps the path:\n%s", data)
	}
	if r.Input == "" {
		t.Error("Put changed the caller's record")
	}
	// Pruning by a cutoff: a dry run removes nothing.
	recs, err := j.PruneBefore(time.Now().Add(time.Hour), true)
	if err != nil || len(recs) != 1 {
		t.Fatalf("dry run: %d, %v", len(recs), err)
	}
	if _, err := j.Get(r.SHA256); err != nil {
		t.Fatal("a dry run pruned")
	}
	if recs, err := j.PruneBefore(time.Now().Add(-time.Hour), false); err != nil || len(recs) != 0 {
		t.Fatalf("pruned a recent record: %d, %v", len(recs), err)
	}
	if recs, err := j.PruneBefore(time.Now().Add(time.Hour), false); err != nil || len(recs) != 1 {
		t.Fatalf("prune: %d, %v", len(recs), err)
	}
	if _, err := j.Get(r.SHA256); err != ErrNotFound {
		t.Fatalf("still there: %v", err)
	}
}
