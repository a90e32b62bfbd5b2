package pipeline

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/photoguard/photoguard/pipeline/inbox"
)

// daemonRun runs a Daemon on e until stop is called; items are collected.
type daemonRun struct {
	once   sync.Once
	err    error
	mu     sync.Mutex
	items  []Item
	cancel context.CancelFunc
	done   chan error
	scans  int
}

func (e *env) startDaemon(t *testing.T, rescan time.Duration) *daemonRun {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &daemonRun{cancel: cancel, done: make(chan error, 1)}
	in := NewIntake(e.p, func(it Item) { r.mu.Lock(); r.items = append(r.items, it); r.mu.Unlock() })
	d := inbox.NewDaemon(e.inbox, in, inbox.DaemonOptions{
		Options: e.p.InboxOptions(rescan),
		Workers: e.p.opt.Workers,
		Own:     []string{e.p.opt.StateDir},
		Now:     e.p.opt.Now,
		OnScan:  func(inbox.Result, error) { r.mu.Lock(); r.scans++; r.mu.Unlock() },
	})
	go func() { r.done <- d.Run(ctx) }()
	t.Cleanup(func() { r.stop(t) })
	return r
}

func (r *daemonRun) stop(t *testing.T) {
	r.once.Do(func() {
		r.cancel()
		select {
		case r.err = <-r.done:
		case <-time.After(30 * time.Second):
			t.Error("daemon did not stop within 30 s")
		}
	})
}

func (r *daemonRun) snapshot() []Item {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Item(nil), r.items...)
}

// waitItems waits until n items arrived.
func (r *daemonRun) waitItems(t *testing.T, n int, timeout time.Duration) []Item {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if items := r.snapshot(); len(items) >= n {
			return items
		}
		time.Sleep(50 * time.Millisecond)
	}
	items := r.snapshot()
	t.Fatalf("%d items after %s, want %d", len(items), timeout, n)
	return nil
}

func daemonEnv(t *testing.T, opts ...envOption) *env {
	base := []envOption{func(o *Options) {
		o.Settle = 300 * time.Millisecond
		o.GiveUp = 2 * time.Second
	}}
	return newEnv(t, append(base, opts...)...)
}

// writeNow writes a file with the current time (as a sync client does).
func writeNow(t testing.TB, p string, data []byte) {
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func burstSize() int {
	if n, err := strconv.Atoi(os.Getenv("PHOTOGUARD_SOAK_FILES")); err == nil && n > 0 {
		return n
	}
	return 1000
}

// A burst of files copied into nested folders while the daemon runs: each is
// processed exactly once, none missed, none twice.
func TestDaemonBurst(t *testing.T) {
	n := burstSize()
	e := daemonEnv(t)
	r := e.startDaemon(t, 5*time.Second)
	start := time.Now()
	want := map[string]Outcome{}
	for i := 0; i < n; i++ {
		folder := fmt.Sprintf("groep-%d/dag-%d", i%8, i%5)
		name := fmt.Sprintf("IMG_%04d.jpg", i)
		data := tinyPhoto(t, i)
		outcome := Published
		switch {
		case i%50 == 7:
			folder += "/zwemles"
			outcome = Rejected
		case i%50 == 13:
			data = data[:len(data)/2]
			outcome = Quarantined
		}
		rel := folder + "/" + name
		want[rel] = outcome
		writeNow(t, filepath.Join(e.inbox, filepath.FromSlash(rel)), data)
	}
	copied := time.Since(start)
	r.waitItems(t, n, 5*time.Minute)
	elapsed := time.Since(start)
	time.Sleep(time.Second) // nothing more may come
	items := r.snapshot()

	seen := map[string]int{}
	count := map[Outcome]int{}
	for _, it := range items {
		seen[it.Input]++
		count[it.Outcome]++
		if w, ok := want[it.Input]; !ok {
			t.Errorf("unexpected item %+v", it)
		} else if it.Outcome != w {
			t.Errorf("%s: %s (%s), want %s", it.Input, it.Outcome, it.Reason, w)
		}
	}
	for rel := range want {
		if seen[rel] != 1 {
			t.Errorf("%s processed %d times", rel, seen[rel])
		}
	}
	// Conservation: inputs = published + rejected + quarantined + held.
	if got := count[Published] + count[Rejected] + count[Quarantined] + count[Held]; got != n || len(items) != n {
		t.Errorf("conservation: %d items, %v, want %d", len(items), count, n)
	}
	if outs := e.outputs(); len(outs) != count[Published] {
		t.Errorf("target holds %d files, %d published", len(outs), count[Published])
	}
	left := 0
	_ = filepath.Walk(e.inbox, func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			left++
		}
		return nil
	})
	if left != 0 {
		t.Errorf("%d files left in the inbox", left)
	}
	t.Logf("burst of %d files: copied in %s, all processed %s after the first copy (%.0f files/min); %v",
		n, copied.Round(time.Millisecond), elapsed.Round(time.Millisecond), float64(n)/elapsed.Minutes(), count)
}

// A file written in chunks over several seconds, and one written under a
// temporary name and renamed: each processed once, after it is complete,
// never quarantined.
func TestDaemonSlowWriter(t *testing.T) {
	e := daemonEnv(t, func(o *Options) { o.Settle = 700 * time.Millisecond; o.GiveUp = time.Minute })
	r := e.startDaemon(t, 2*time.Second)
	data := tinyPhoto(t, 1)
	slow := filepath.Join(e.inbox, "groep-1", "slow.jpg")
	if err := os.MkdirAll(filepath.Dir(slow), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(slow)
	if err != nil {
		t.Fatal(err)
	}
	chunks := 8
	for i := 0; i < chunks; i++ {
		lo, hi := i*len(data)/chunks, (i+1)*len(data)/chunks
		if _, err := f.Write(data[lo:hi]); err != nil {
			t.Fatal(err)
		}
		time.Sleep(450 * time.Millisecond) // 3.6 s in all, longer than settle between no two writes
	}
	f.Close()

	// Written under a temporary name, then renamed (Syncthing's way).
	tmp := filepath.Join(e.inbox, "groep-1", ".syncthing.renamed.jpg.tmp")
	writeNow(t, tmp, tinyPhoto(t, 2))
	time.Sleep(1500 * time.Millisecond) // the temporary file must not be taken
	if got := len(r.snapshot()); got > 1 {
		t.Fatalf("%d items while the temporary file waits", got)
	}
	if err := os.Rename(tmp, filepath.Join(e.inbox, "groep-1", "renamed.jpg")); err != nil {
		t.Fatal(err)
	}
	r.waitItems(t, 2, 20*time.Second)
	time.Sleep(time.Second)
	items := r.snapshot()
	if len(items) != 2 {
		t.Fatalf("items %+v, want 2", items)
	}
	for _, it := range items {
		if it.Outcome != Published {
			t.Errorf("%s: %s %s", it.Input, it.Outcome, it.Reason)
		}
	}
	if outs := e.outputs(); len(outs) != 2 {
		t.Errorf("outputs %v", outs)
	}
}

// A target that refuses connections, then comes back: nothing is wiped
// while it is down, everything is published once after.
func TestDaemonTargetDownThenBack(t *testing.T) {
	e := daemonEnv(t)
	fl := &flaky{Target: e.target, err: fmt.Errorf("dial tcp 10.0.0.5:443: %w", syscall.ECONNREFUSED)}
	o := e.p.opt
	o.Destinations = []*Destination{{Name: "website", Channel: "website", Target: fl}}
	e.build(o)
	r := e.startDaemon(t, 500*time.Millisecond)
	var inputs []string
	for i := 0; i < 5; i++ {
		p := filepath.Join(e.inbox, fmt.Sprintf("p%d.jpg", i))
		writeNow(t, p, tinyPhoto(t, 100+i))
		inputs = append(inputs, p)
	}
	time.Sleep(4 * time.Second)
	if items := r.snapshot(); len(items) != 0 {
		t.Fatalf("outcomes while the target is down: %+v", items)
	}
	for _, p := range inputs {
		if !exists(p) {
			t.Fatalf("%s wiped while the target was down", p)
		}
	}
	if recs, _ := e.j.List(); len(recs) != 0 {
		t.Errorf("journal holds %d records while nothing was published", len(recs))
	}
	fl.mu.Lock()
	fl.err = nil
	fl.mu.Unlock()
	r.waitItems(t, 5, 30*time.Second)
	time.Sleep(time.Second)
	if items := r.snapshot(); len(items) != 5 || fl.publishes != 5 {
		t.Errorf("%d items, %d publishes, want 5 each", len(items), fl.publishes)
	}
	for _, p := range inputs {
		if exists(p) {
			t.Errorf("%s not wiped after publishing", p)
		}
	}
}

// Publish succeeds but the wipe fails (a read-only inbox folder): the photo
// is not published again, neither by this run nor after a restart.
func TestWipeFailsNoSecondPublish(t *testing.T) {
	e := daemonEnv(t)
	in := filepath.Join(e.inbox, "ro", "a.jpg")
	writeNow(t, in, tinyPhoto(t, 7))
	old := time.Now().Add(-time.Hour)
	_ = os.Chtimes(in, old, old)
	if os.Geteuid() == 0 {
		removeFile = func(string) error { return &os.PathError{Op: "remove", Path: in, Err: syscall.EROFS} }
		defer func() { removeFile = os.Remove }()
	} else {
		_ = os.Chmod(filepath.Dir(in), 0o555)
		defer os.Chmod(filepath.Dir(in), 0o755)
	}
	fl := &flaky{Target: e.target}
	o := e.p.opt
	o.Destinations = []*Destination{{Name: "website", Channel: "website", Target: fl}}
	e.build(o)

	it := one(t, e.batch(), "ro/a.jpg")
	if it.Outcome != Published || !it.Kept || !strings.Contains(it.Reason, "could not be removed") {
		t.Fatalf("%+v", it)
	}
	// The daemon sees the file again and again: it is never published again.
	r := e.startDaemon(t, 300*time.Millisecond)
	time.Sleep(2 * time.Second)
	r.stop(t)
	// A restart (a new journal owner) after a "crash".
	e.j.Close()
	o = e.p.opt
	o.Journal = nil
	e.build(o)
	if _, err := e.p.Recover(context.Background()); err != nil {
		t.Fatal(err)
	}
	again := one(t, e.batch(), "ro/a.jpg")
	if !again.Duplicate {
		t.Errorf("after restart: %+v", again)
	}
	if fl.publishes != 1 {
		t.Errorf("published %d times, want once", fl.publishes)
	}
	if outs := e.outputs(); len(outs) != 1 {
		t.Errorf("outputs %v", outs)
	}
}

// Stopping the daemon while it works leaves every input either done or
// untouched in the inbox.
func TestDaemonStopsPromptly(t *testing.T) {
	e := daemonEnv(t)
	for i := 0; i < 40; i++ {
		writeNow(t, filepath.Join(e.inbox, fmt.Sprintf("s%02d.jpg", i)), tinyPhoto(t, 300+i))
	}
	r := e.startDaemon(t, time.Second)
	time.Sleep(700 * time.Millisecond)
	start := time.Now()
	r.stop(t)
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("stop took %s", d)
	}
	recs, err := e.j.List()
	if err != nil {
		t.Fatal(err)
	}
	for _, rec := range recs {
		if rec.State != "done" {
			t.Errorf("record left %s after a graceful stop", rec.State)
		}
	}
}
