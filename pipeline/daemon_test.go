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
	"github.com/photoguard/photoguard/pipeline/inbox/inboxtest"
)

// daemonRun runs a Daemon on e until stop is called; items are collected.
// The daemon goes by e's clock (daemonEnv), which the test moves (step):
// no test waits out a settle, backoff or rescan time.
type daemonRun struct {
	once   sync.Once
	err    error
	mu     sync.Mutex
	items  []Item
	more   chan struct{} // closed (and replaced) when an item arrives
	cancel context.CancelFunc
	done   chan error
	scans  int
	clock  *inboxtest.Clock
}

func (e *env) startDaemon(t *testing.T, rescan time.Duration) *daemonRun {
	t.Helper()
	if e.clock == nil {
		t.Fatal("startDaemon needs the clock of daemonEnv")
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &daemonRun{cancel: cancel, done: make(chan error, 1), more: make(chan struct{}), clock: e.clock}
	in := NewIntake(e.p, func(it Item) {
		r.mu.Lock()
		r.items = append(r.items, it)
		close(r.more)
		r.more = make(chan struct{})
		r.mu.Unlock()
	})
	d := inbox.NewDaemon(e.inbox, in, inbox.DaemonOptions{
		Options: e.p.InboxOptions(rescan),
		Workers: e.p.opt.Workers,
		Own:     []string{e.p.opt.StateDir},
		Clock:   e.clock,
		OnScan:  func(inbox.Result, error) { r.mu.Lock(); r.scans++; r.mu.Unlock() },
	})
	made, _ := e.clock.Advance(0)
	go func() { r.done <- d.Run(ctx) }()
	t.Cleanup(func() { r.stop(t) })
	// The first scan runs at once; then the daemon waits on the clock.
	if !e.clock.WaitTimer(made, time.Minute) {
		t.Fatal("the daemon's first scan did not end within a minute")
	}
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

// step waits until the daemon waits on its clock, moves the clock d on and,
// when that fires the daemon's timer, waits until the daemon has scanned and
// waits on the clock again.
func (r *daemonRun) step(t *testing.T, d time.Duration) {
	t.Helper()
	if !r.clock.WaitWaiting(time.Minute) {
		t.Fatal("the daemon did not wait on its clock within a minute")
	}
	made, fired := r.clock.Advance(d)
	if fired > 0 && !r.clock.WaitTimer(made, time.Minute) {
		t.Fatal("the daemon's scan did not end within a minute")
	}
}

// run moves the clock d on in steps of at most every, each waited for.
func (r *daemonRun) run(t *testing.T, d, every time.Duration) {
	t.Helper()
	for d > 0 {
		s := min(d, every)
		r.step(t, s)
		d -= s
	}
}

// waitItems moves the clock on in steps of every until n items arrived,
// for at most limit of the clock's time.
func (r *daemonRun) waitItems(t *testing.T, n int, every, limit time.Duration) []Item {
	t.Helper()
	for moved := time.Duration(0); ; moved += every {
		if items := r.snapshot(); len(items) >= n {
			return items
		}
		if moved > limit {
			break
		}
		r.step(t, every)
	}
	items := r.snapshot()
	t.Fatalf("%d items after %s, want %d", len(items), limit, n)
	return nil
}

// waitWorking waits, in real time, until the daemon has delivered an item.
func (r *daemonRun) waitWorking(t *testing.T) {
	t.Helper()
	r.mu.Lock()
	n, more := len(r.items), r.more
	r.mu.Unlock()
	if n > 0 {
		return
	}
	select {
	case <-more:
	case <-time.After(time.Minute):
		t.Fatal("the daemon delivered nothing within a minute")
	}
}

// daemonEnv is an env whose pipeline and daemon go by a clock of the test's
// own (e.clock).
func daemonEnv(t *testing.T, opts ...envOption) *env {
	clock := inboxtest.NewClock(time.Now())
	base := []envOption{func(o *Options) {
		o.Settle = 300 * time.Millisecond
		o.GiveUp = 2 * time.Second
		o.Now = clock.Now
	}}
	e := newEnv(t, append(base, opts...)...)
	e.clock = clock
	return e
}

// writeNow writes a file dated now on e's clock (as a sync client does).
func (e *env) writeNow(t testing.TB, p string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	e.touch(t, p)
}

// touch dates the file p now on e's clock.
func (e *env) touch(t testing.TB, p string) {
	t.Helper()
	now := e.clock.Now()
	if err := os.Chtimes(p, now, now); err != nil {
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
		e.writeNow(t, filepath.Join(e.inbox, filepath.FromSlash(rel)), data)
		if i%50 == 49 {
			// The clock moves while files are still being copied: the
			// daemon scans and works while the burst comes in.
			r.clock.Advance(100 * time.Millisecond)
		}
	}
	copied := time.Since(start)
	r.waitItems(t, n, 100*time.Millisecond, 10*time.Minute)
	elapsed := time.Since(start)
	r.run(t, 10*time.Second, time.Second) // nothing more may come
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
		e.touch(t, slow)
		r.step(t, 450*time.Millisecond) // 3.6 s in all, longer than settle between no two writes
	}
	f.Close()

	// Written under a temporary name, then renamed (Syncthing's way).
	tmp := filepath.Join(e.inbox, "groep-1", ".syncthing.renamed.jpg.tmp")
	e.writeNow(t, tmp, tinyPhoto(t, 2))
	r.run(t, 1500*time.Millisecond, 100*time.Millisecond) // the temporary file must not be taken
	if got := len(r.snapshot()); got > 1 {
		t.Fatalf("%d items while the temporary file waits", got)
	}
	if err := os.Rename(tmp, filepath.Join(e.inbox, "groep-1", "renamed.jpg")); err != nil {
		t.Fatal(err)
	}
	r.waitItems(t, 2, 100*time.Millisecond, 20*time.Second)
	r.run(t, 5*time.Second, 100*time.Millisecond) // nothing more may come
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
		e.writeNow(t, p, tinyPhoto(t, 100+i))
		inputs = append(inputs, p)
	}
	r.run(t, 4*time.Second, 100*time.Millisecond)
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
	r.waitItems(t, 5, 100*time.Millisecond, 10*time.Minute)
	r.run(t, 5*time.Second, 100*time.Millisecond) // nothing more may come
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
	e.writeNow(t, in, tinyPhoto(t, 7))
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
	r.run(t, 2*time.Second, 100*time.Millisecond)
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
		e.writeNow(t, filepath.Join(e.inbox, fmt.Sprintf("s%02d.jpg", i)), tinyPhoto(t, 300+i))
	}
	r := e.startDaemon(t, time.Second)
	// Seen again, unchanged; then due: the daemon takes all 40 and is
	// stopped once the first is done, while it works on the others.
	r.step(t, time.Second)
	if n := len(r.snapshot()); n != 0 {
		t.Fatalf("%d photos taken before they settled", n)
	}
	r.clock.Advance(time.Second)
	r.waitWorking(t)
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
