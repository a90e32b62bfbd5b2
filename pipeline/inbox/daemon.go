package inbox

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// DaemonOptions say how a Daemon runs.
type DaemonOptions struct {
	// Options: Settle (a file must be seen unchanged by scans this far
	// apart) and Rescan (the period of the full scan). SetOptions changes
	// them while the daemon runs.
	Options
	// Workers is how many entries are processed at once.
	Workers int
	// Own are folders never entered (WalkOptions.Own) nor watched.
	Own []string
	// Log receives the daemon's own problems (no file events, a scan that
	// failed); nil: none.
	Log *slog.Logger
	// OnScan is told of every scan (tests, status).
	OnScan func(Result, error)
	// Clock is the time the daemon goes by: settle, backoff, rescan and
	// the gathering of file events (nil: RealClock).
	Clock Clock
}

// Daemon keeps one inbox folder processed: it scans when the file watcher
// hints at a change, when an entry it saw is due (settled, or its retry is
// due), and every Rescan, because network and FUSE folders send no events.
// The watcher is only ever a hint; the scan decides.
type Daemon struct {
	root   string
	loop   *loop
	log    *slog.Logger
	onScan func(Result, error)
	opt    atomic.Pointer[Options]
}

// NewDaemon returns a daemon over the folder root.
func NewDaemon(root string, proc Processor, opt DaemonOptions) *Daemon {
	d := &Daemon{root: root, loop: newLoop(proc, opt.Workers, opt.Own, opt.Clock), log: opt.Log, onScan: opt.OnScan}
	if d.log == nil {
		d.log = slog.New(slog.DiscardHandler)
	}
	d.SetOptions(opt.Options)
	return d
}

// SetOptions changes settle and rescan (a reloaded configuration); they
// apply from the next scan.
func (d *Daemon) SetOptions(o Options) { d.opt.Store(&o) }

// Scan walks the folder once and processes every entry that is ready.
func (d *Daemon) Scan(ctx context.Context) (Result, error) {
	opt := d.opt.Load()
	l := d.loop
	var res Result
	entries, err := l.walk([]Root{{Dir: d.root}})
	if err != nil {
		return res, err
	}
	res.Found = len(entries)
	ready, pending, wait := l.book.split(entries, l.now(), opt.Settle, true)
	res.Finished = l.run(ctx, ready, func(e Entry, st Status, err error) {
		l.left(ctx, e, st, err)
		pending = append(pending, e)
	})
	res.Pending = len(pending)
	res.Next = nextDue(pending, wait, opt.Settle)
	return res, ctx.Err()
}

// gather is how long the daemon waits after a file event for the rest of
// its burst.
const gather = 250 * time.Millisecond

// Run scans until ctx is done. Work in hand when ctx ends is rolled back by
// the Processor (its entry stays in the inbox) or finished.
func (d *Daemon) Run(ctx context.Context) error {
	kick := make(chan struct{}, 1)
	poke := func() {
		select {
		case kick <- struct{}{}:
		default:
		}
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		Watch(ctx, d.root, d.loop.own, d.log, poke)
	}()
	defer wg.Wait()

	for {
		res, err := d.Scan(ctx)
		if d.onScan != nil {
			d.onScan(res, err)
		}
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			d.log.Error("scan failed; trying again at the next rescan", "err", err)
		}
		wait := d.opt.Load().Rescan
		if res.Pending > 0 && res.Next > 0 && res.Next < wait {
			wait = res.Next
		}
		fire, stop := d.loop.clock.NewTimer(wait)
		select {
		case <-ctx.Done():
			stop()
			return nil
		case <-fire:
		case <-kick:
			stop()
			// Events come in bursts (a sync client writing a folder):
			// gather them into one scan.
			if !sleep(d.loop.clock, ctx.Done(), gather) {
				return nil
			}
			select {
			case <-kick:
			default:
			}
		}
	}
}
