package inbox

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/photoguard/photoguard/pipeline/inbox/inboxtest"
)

// tree writes files below dir (names with a trailing / are folders), each an
// hour old, and returns dir.
func tree(t *testing.T, dir string, names ...string) string {
	t.Helper()
	old := time.Now().Add(-time.Hour)
	for _, n := range names {
		p := filepath.Join(dir, filepath.FromSlash(n))
		if strings.HasSuffix(n, "/") {
			must(t, os.MkdirAll(p, 0o755))
			continue
		}
		must(t, os.MkdirAll(filepath.Dir(p), 0o755))
		must(t, os.WriteFile(p, []byte("content of "+n), 0o644))
		must(t, os.Chtimes(p, old, old))
	}
	return dir
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func rels(entries []Entry) map[string]Entry {
	m := map[string]Entry{}
	for _, e := range entries {
		m[e.Rel] = e
	}
	return m
}

// A walk lets through exactly what the skip rules allow, never follows a
// link, and says what each entry is.
func TestWalk(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "inbox")
	tree(t, in, "groep-5/IMG_0001.HEIC", "groep-5/IMG_0001.AAE", "groep-5/IMG_0001.MOV", "groep-5/.DS_Store",
		"groep-5/IMG_0002.JPG"+NoteSuffix, "groep-6/clip.mp4", ".stversions/old.jpg", "@eaDir/thumb.jpg",
		"state/journal/x.jpg", "map.jpg/inside.jpg", "IMG_0003.JPG.partial", "deep/er/IMG_0004.png")
	secret := filepath.Join(dir, "secret.jpg")
	must(t, os.WriteFile(secret, []byte("outside the inbox"), 0o600))
	must(t, os.Symlink(secret, filepath.Join(in, "link.jpg")))
	must(t, os.Symlink(filepath.Join(dir), filepath.Join(in, "linked-folder")))
	must(t, syscall.Mkfifo(filepath.Join(in, "pipe.jpg"), 0o644))

	entries, err := Walk(Root{Dir: in}, WalkOptions{Own: []string{filepath.Join(in, "state")}})
	if err != nil {
		t.Fatal(err)
	}
	got := rels(entries)
	want := map[string]Kind{
		"groep-5/IMG_0001.HEIC": Photo, "groep-5/IMG_0001.MOV": Video, "groep-6/clip.mp4": Video,
		"deep/er/IMG_0004.png": Photo, "map.jpg": Special, "link.jpg": Special, "linked-folder": Special, "pipe.jpg": Special,
	}
	for rel, k := range want {
		e, ok := got[rel]
		switch {
		case !ok:
			t.Errorf("%s: not found", rel)
		case e.Kind != k:
			t.Errorf("%s: %s, want %s", rel, e.Kind, k)
		case k == Special && e.Why == "":
			t.Errorf("%s: special without a reason", rel)
		case e.Root != in || e.Path != filepath.Join(in, filepath.FromSlash(rel)):
			t.Errorf("%s: root %s, path %s", rel, e.Root, e.Path)
		}
	}
	for rel := range got {
		if _, ok := want[rel]; !ok {
			t.Errorf("%s: found, but the skip rules leave it out", rel)
		}
	}
	if e := got["link.jpg"]; !strings.Contains(e.Why, "link") {
		t.Errorf("link: %q", e.Why)
	}

	// The root itself must not be a link either.
	ln := filepath.Join(dir, "inbox-link")
	must(t, os.Symlink(in, ln))
	if _, err := Walk(Root{Dir: ln}, WalkOptions{}); err == nil || !strings.Contains(err.Error(), "link") {
		t.Errorf("a linked root: %v", err)
	}
	if _, err := Walk(Root{Dir: filepath.Join(dir, "none")}, WalkOptions{}); err == nil {
		t.Error("a missing root: no error")
	}
}

// A single file: itself, named below its base; nothing once it is gone or
// when the rules skip it.
func TestWalkFile(t *testing.T) {
	dir := tree(t, t.TempDir(), "zwemles/IMG_0001.JPG", "IMG_0001.AAE")
	f := filepath.Join(dir, "zwemles", "IMG_0001.JPG")
	entries, err := Walk(Root{File: f, Base: dir}, WalkOptions{})
	if err != nil || len(entries) != 1 || entries[0].Rel != "zwemles/IMG_0001.JPG" || entries[0].Kind != Photo {
		t.Fatalf("%+v, %v", entries, err)
	}
	if entries, err := Walk(Root{File: f}, WalkOptions{}); err != nil || entries[0].Rel != "IMG_0001.JPG" {
		t.Fatalf("without a base: %+v, %v", entries, err)
	}
	if entries, err := Walk(Root{File: filepath.Join(dir, "IMG_0001.AAE")}, WalkOptions{}); err != nil || len(entries) != 0 {
		t.Errorf("an .AAE given by name: %+v, %v", entries, err)
	}
	must(t, os.Remove(f))
	if entries, err := Walk(Root{File: f}, WalkOptions{}); err != nil || len(entries) != 0 {
		t.Errorf("gone: %+v, %v", entries, err)
	}
}

// Only the loops remove the temporary files of notes a crash left, and only
// old ones; `status` walks without writing.
func TestWalkCleansOnlyOldTemps(t *testing.T) {
	in := tree(t, t.TempDir(), ".photoguard-0011.tmp", "IMG_1.jpg")
	young := filepath.Join(in, ".photoguard-0022.tmp")
	must(t, os.WriteFile(young, nil, 0o600))
	if _, err := Walk(Root{Dir: in}, WalkOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(filepath.Join(in, ".photoguard-0011.tmp")); err != nil {
		t.Fatal("a walk without CleanTemps removed a file")
	}
	if _, err := Walk(Root{Dir: in}, WalkOptions{CleanTemps: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(filepath.Join(in, ".photoguard-0011.tmp")); err == nil {
		t.Error("an interrupted note's temporary file was left")
	}
	if _, err := os.Lstat(young); err != nil {
		t.Error("a note being written now was removed")
	}
}

// fakeProc scripts what becomes of each entry, by name: a list of statuses
// taken in turn (the last one repeats); Done when not scripted. Like the
// pipeline, it removes what is Done from the inbox.
type fakeProc struct {
	mu      sync.Mutex
	script  map[string][]Status
	calls   map[string]int
	given   map[string][]string
	warns   []string
	process func(Entry) // called before the script, if set
}

func newFake() *fakeProc {
	return &fakeProc{script: map[string][]Status{}, calls: map[string]int{}, given: map[string][]string{}}
}

func (f *fakeProc) Process(ctx context.Context, e Entry) (Status, error) {
	if f.process != nil {
		f.process(e)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	n := f.calls[e.Rel]
	f.calls[e.Rel]++
	s := f.script[e.Rel]
	st := Done
	if len(s) > 0 {
		st = s[min(n, len(s)-1)]
	}
	if st == Done {
		return st, os.Remove(e.Path)
	}
	if st == Kept {
		return st, nil
	}
	return st, errors.New("scripted " + st.String())
}

func (f *fakeProc) GiveUp(e Entry, why error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.given[e.Rel] = append(f.given[e.Rel], why.Error())
}

func (f *fakeProc) Warn(e Entry, msg string, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.warns = append(f.warns, e.Rel+": "+msg)
}

func (f *fakeProc) count(rel string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[rel]
}

// A batch gives every entry an outcome: a passing failure is retried
// Retries times and then given up exactly once (reported, left in place,
// not taken again while other files keep the batch going); a file busy
// elsewhere is waited for; a file that keeps not being ready is given up
// after the patience.
func TestBatch(t *testing.T) {
	in := tree(t, t.TempDir(), "ok.jpg", "down.jpg", "busy.jpg", "writing.jpg", "kept.jpg", "IMG_0001.AAE")
	f := newFake()
	f.script["down.jpg"] = []Status{Retry}
	f.script["busy.jpg"] = []Status{Busy, Busy, Busy, Busy, Busy, Done}
	f.script["writing.jpg"] = []Status{NotReady}
	f.script["kept.jpg"] = []Status{Kept}
	var found int
	res, err := Batch(context.Background(), f, []Root{{Dir: in}}, BatchOptions{
		Workers: 2, Retries: 1, Patience: 3 * time.Second, OnFound: func(n int) { found = n },
	})
	if err != nil {
		t.Fatal(err)
	}
	if found != 5 || res.Found != 5 || res.Finished != 5 {
		t.Errorf("found %d, %+v; want 5 found, 5 finished", found, res)
	}
	for rel, n := range map[string]int{"ok.jpg": 1, "down.jpg": 2, "busy.jpg": 6, "kept.jpg": 1} {
		if got := f.count(rel); got != n {
			t.Errorf("%s processed %d times, want %d", rel, got, n)
		}
	}
	if g := f.given["down.jpg"]; len(g) != 1 || !strings.Contains(g[0], "scripted retry") {
		t.Errorf("down.jpg given up %q, want once with its error", g)
	}
	if g := f.given["writing.jpg"]; len(g) != 1 || !strings.Contains(g[0], "still being written") {
		t.Errorf("writing.jpg given up %q", g)
	}
	if len(f.given) != 2 {
		t.Errorf("given up: %v", f.given)
	}
	if len(f.warns) != 1 || f.warns[0] != "down.jpg: photo kept in the inbox, will retry" {
		t.Errorf("warnings %q, want one for the streak of down.jpg", f.warns)
	}
}

// Several roots, files among them, are one batch.
func TestBatchRoots(t *testing.T) {
	dir := tree(t, t.TempDir(), "a/1.jpg", "a/2.jpg", "b/3.jpg", "c/4.jpg")
	f := newFake()
	res, err := Batch(context.Background(), f, []Root{{Dir: filepath.Join(dir, "a")}, {File: filepath.Join(dir, "c", "4.jpg"), Base: dir}}, BatchOptions{Workers: 1})
	if err != nil || res.Finished != 3 {
		t.Fatalf("%+v, %v", res, err)
	}
	var got []string
	for rel := range f.calls {
		got = append(got, rel)
	}
	sort.Strings(got)
	if strings.Join(got, " ") != "1.jpg 2.jpg c/4.jpg" {
		t.Errorf("processed %v", got)
	}
}

// A file younger than settle waits in a batch until it is old enough.
func TestBatchWaitsForSettle(t *testing.T) {
	in := t.TempDir()
	p := filepath.Join(in, "new.jpg")
	must(t, os.WriteFile(p, []byte("x"), 0o644))
	f := newFake()
	var at time.Duration
	start := time.Now()
	f.process = func(Entry) { at = time.Since(start) }
	if _, err := Batch(context.Background(), f, []Root{{Dir: in}}, BatchOptions{Options: Options{Settle: 400 * time.Millisecond}}); err != nil {
		t.Fatal(err)
	}
	if f.count("new.jpg") != 1 || at < 350*time.Millisecond {
		t.Errorf("taken %d times, after %s; want once, after settle", f.count("new.jpg"), at)
	}
}

// The daemon takes a file only once two scans settle apart saw it unchanged,
// does not take a file kept in place again until it changes (nor a link
// quarantined in place), and backs off a passing failure, warning once per
// streak.
func TestDaemonScans(t *testing.T) {
	in := tree(t, t.TempDir(), "a.jpg", "kept.jpg", "down.jpg")
	must(t, os.Symlink("/etc/passwd", filepath.Join(in, "link.jpg")))
	f := newFake()
	f.script["kept.jpg"] = []Status{Kept}
	f.script["link.jpg"] = []Status{Kept} // quarantined, inputs kept in place
	f.script["down.jpg"] = []Status{Retry, Retry, Done}
	clock := inboxtest.NewClock(time.Now())
	d := NewDaemon(in, f, DaemonOptions{Options: Options{Settle: time.Second, Rescan: time.Minute}, Workers: 2, Clock: clock})
	ctx := context.Background()
	res, err := d.Scan(ctx)
	if err != nil || res.Finished != 1 || res.Pending != 3 || res.Next != time.Second || f.count("link.jpg") != 1 {
		t.Fatalf("first sighting: %+v, %v, want the link taken at once and the rest pending", res, err)
	}
	clock.Advance(time.Second)
	if res, _ = d.Scan(ctx); res.Finished != 2 || f.count("a.jpg") != 1 || f.count("kept.jpg") != 1 || f.count("down.jpg") != 1 {
		t.Fatalf("settled: %+v, calls %v", res, f.calls)
	}
	if res.Pending != 1 || res.Next <= 0 {
		t.Errorf("after the first failure: %+v, want down.jpg pending", res)
	}
	clock.Advance(time.Second)
	d.Scan(ctx)
	if f.count("down.jpg") != 1 || f.count("kept.jpg") != 1 {
		t.Errorf("taken again too early: %v", f.calls)
	}
	clock.Advance(time.Second)
	d.Scan(ctx)
	if f.count("down.jpg") != 2 {
		t.Errorf("not retried when due: %v", f.calls)
	}
	clock.Advance(4 * time.Second)
	d.Scan(ctx)
	if f.count("down.jpg") != 3 || len(f.warns) != 1 || f.count("link.jpg") != 1 {
		t.Errorf("calls %v, warnings %q: want 3 tries and one warning", f.calls, f.warns)
	}
	// The kept file changes: it is taken again once it settled.
	later := clock.Now().Add(-time.Minute)
	must(t, os.Chtimes(filepath.Join(in, "kept.jpg"), later, later))
	d.Scan(ctx)
	clock.Advance(time.Second)
	d.Scan(ctx)
	if f.count("kept.jpg") != 2 {
		t.Errorf("a kept file that changed: %d calls, want 2", f.count("kept.jpg"))
	}
}

// The watcher pokes for a new file, also in a folder made after it
// started, and does not watch the state folder or hidden folders.
func TestWatch(t *testing.T) {
	in := tree(t, t.TempDir(), "state/", ".stversions/")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pokes := make(chan struct{}, 100)
	done := make(chan struct{})
	go func() {
		Watch(ctx, in, []string{filepath.Join(in, "state")}, slog.New(slog.DiscardHandler), func() { pokes <- struct{}{} })
		close(done)
	}()
	time.Sleep(200 * time.Millisecond) // the watches are added
	expect := func(what string, want bool) {
		t.Helper()
		select {
		case <-pokes:
			if !want {
				t.Errorf("%s: poked", what)
			}
		case <-time.After(500 * time.Millisecond):
			if want {
				t.Errorf("%s: not poked", what)
			}
		}
		for len(pokes) > 0 {
			<-pokes
		}
	}
	must(t, os.WriteFile(filepath.Join(in, "state", "x"), nil, 0o600))
	expect("a file in the state folder", false)
	must(t, os.WriteFile(filepath.Join(in, ".stversions", "x"), nil, 0o600))
	expect("a file in a hidden folder", false)
	must(t, os.WriteFile(filepath.Join(in, "a.jpg"), nil, 0o644))
	expect("a file in the inbox", true)
	must(t, os.Mkdir(filepath.Join(in, "groep-5"), 0o755))
	expect("a new folder", true)
	time.Sleep(100 * time.Millisecond)
	must(t, os.WriteFile(filepath.Join(in, "groep-5", "b.jpg"), nil, 0o644))
	expect("a file in the new folder", true)
	cancel()
	<-done
}

// Videos and .AAE files as an iPad delivers them with a Live Photo: the
// photo and the video are taken (the video as a Video), the edit file never.
func TestLivePhotoEntries(t *testing.T) {
	in := t.TempDir()
	if _, err := inboxtest.Write(filepath.Join(in, "groep-5"), inboxtest.LivePhoto("IMG_0001", ".HEIC", []byte("photo"))...); err != nil {
		t.Fatal(err)
	}
	entries, err := Walk(Root{Dir: in}, WalkOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got := rels(entries)
	if len(got) != 2 || got["groep-5/IMG_0001.HEIC"].Kind != Photo || got["groep-5/IMG_0001.MOV"].Kind != Video {
		t.Errorf("entries %+v", entries)
	}
}

// Issue 19: a file that keeps failing with a passing error (a share that
// does not answer) until the batch's patience runs out is given up with
// that error, not as "still being written".
func TestBatchGivesUpWithTheRealReason(t *testing.T) {
	in := tree(t, t.TempDir(), "slow.jpg")
	f := newFake()
	f.script["slow.jpg"] = []Status{Retry, Retry, Retry, Retry, Retry, Retry, Retry, Retry, Retry, Retry, Retry, Retry}
	if _, err := Batch(context.Background(), f, []Root{{Dir: in}}, BatchOptions{Workers: 1, Retries: 100, Patience: 500 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	if g := f.given["slow.jpg"]; len(g) != 1 || !strings.Contains(g[0], "scripted retry") || strings.Contains(g[0], "still being written") {
		t.Errorf("given up with %q, want the retry's own error", g)
	}
}
