package inbox

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// Result counts what one scan (or a whole batch) did.
type Result struct {
	// Found is the number of entries the (first) walk found; Finished how
	// many got their outcome.
	Found, Finished int
	// Pending is the number of entries left for a later scan (still being
	// written, waiting out a backoff); Next is when the first of them is
	// due (zero when nothing is pending).
	Pending int
	Next    time.Duration
}

// loop is what Batch and Daemon share: the processor, the bookkeeping, the
// workers and the clock.
type loop struct {
	proc    Processor
	book    *book
	workers int
	own     []string
	clock   Clock

	warnMu sync.Mutex
	warned map[string]bool // unreadable entries already warned about
}

func newLoop(proc Processor, workers int, own []string, clock Clock) *loop {
	if workers < 1 {
		workers = 1
	}
	if clock == nil {
		clock = RealClock{}
	}
	return &loop{proc: proc, book: newBook(), workers: workers, own: own, clock: clock, warned: map[string]bool{}}
}

func (l *loop) now() time.Time { return l.clock.Now() }

// walk lists the entries of every root.
func (l *loop) walk(roots []Root) ([]Entry, error) {
	var all []Entry
	for _, r := range roots {
		base := r.base()
		entries, err := Walk(r, WalkOptions{Own: l.own, CleanTemps: true, OnError: func(path string, err error) {
			l.warnOnce(entry(base, path, nil, Special, ""), "cannot read folder entry", err)
		}})
		if err != nil {
			return all, err
		}
		all = append(all, entries...)
	}
	return all, nil
}

func (l *loop) warnOnce(e Entry, msg string, err error) {
	l.warnMu.Lock()
	seen := l.warned[e.Path]
	l.warned[e.Path] = true
	l.warnMu.Unlock()
	if !seen {
		l.proc.Warn(e, msg, err)
	}
}

// run processes entries with the workers and returns how many got their
// outcome (booked as done); left is called, one call at a time, for each of
// the others that were taken (not for those never taken because ctx ended).
func (l *loop) run(ctx context.Context, entries []Entry, left func(Entry, Status, error)) (finished int) {
	work := make(chan Entry)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := 0; i < l.workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for e := range work {
				st, err := l.proc.Process(ctx, e)
				mu.Lock()
				if st.finished() {
					l.book.done(e, st == Kept)
					finished++
				} else {
					left(e, st, err)
				}
				mu.Unlock()
			}
		}()
	}
	for _, e := range entries {
		if ctx.Err() != nil {
			break
		}
		work <- e
	}
	close(work)
	wg.Wait()
	return finished
}

// left books an entry the processor left in place: one still being written
// must settle again, a passing failure backs off (and warns once per
// streak). A stop rolls the entries in hand back: that is no failure to
// warn about or back off from.
func (l *loop) left(ctx context.Context, e Entry, st Status, err error) {
	if ctx.Err() != nil {
		return
	}
	if st != Retry {
		l.book.notReady(e)
		return
	}
	if l.book.failed(e, l.now()) {
		l.proc.Warn(e, "photo kept in the inbox, will retry", err)
	}
}

// BatchOptions say how a batch runs.
type BatchOptions struct {
	// Options: Settle is how old a file's modification time must be
	// before it is taken; GiveUp and Settle lengthen the patience.
	Options
	// Workers is how many entries are processed at once.
	Workers int
	// Retries is how often an entry that fails for a passing reason is
	// tried again before the batch gives up on it.
	Retries int
	// Patience is the least time a batch waits for a file that is still
	// being written (0: a minute); GiveUp and ten times Settle are added.
	Patience time.Duration
	// Own are folders never entered (WalkOptions.Own).
	Own []string
	// OnFound is told how many entries the first walk found (progress).
	OnFound func(n int)
	// Clock is the time the batch goes by (nil: RealClock).
	Clock Clock
}

// Batch takes every entry of roots to an outcome: it walks them, processes
// what is ready, and walks again, waiting for what is still being written,
// until every entry it found was finished or given up (reported and left in
// place). It returns when that is so or ctx ends (with ctx's error); the
// entries in hand are then finished or rolled back by the Processor.
func Batch(ctx context.Context, proc Processor, roots []Root, opt BatchOptions) (Result, error) {
	l := newLoop(proc, opt.Workers, opt.Own, opt.Clock)
	if opt.Patience <= 0 {
		opt.Patience = time.Minute
	}
	// A file still being written (or that another worker or process is
	// busy with) is waited for at most this long, counted from when it
	// started waiting.
	patience := opt.GiveUp + 10*opt.Settle + opt.Patience
	var (
		res      Result
		waiting  = map[string]time.Time{}
		busy     = map[string]bool{}
		attempts = map[string]int{}
		// lastErr is why an entry was last left to retry (a target
		// that does not answer): the reason it is given up with, not
		// "still being written".
		lastErr = map[string]error{}
	)
	giveUp := func(e Entry, why error) {
		proc.GiveUp(e, why)
		l.book.done(e, true) // left in place: not taken again
		res.Finished++
	}
	for first := true; ; first = false {
		entries, err := l.walk(roots)
		if err != nil {
			return res, err
		}
		if first {
			res.Found = len(entries)
			if opt.OnFound != nil {
				opt.OnFound(len(entries))
			}
		}
		ready, pending, wait := l.book.split(entries, l.now(), opt.Settle, false)
		if len(ready) == 0 && len(pending) == 0 {
			return res, nil
		}
		// (giveUp counts what it ends; run returns the count of the rest.)
		n := l.run(ctx, ready, func(e Entry, st Status, err error) {
			if st == Retry {
				attempts[e.Path]++
				lastErr[e.Path] = err
			}
			busy[e.Path] = st == Busy
			if st == Retry && attempts[e.Path] > opt.Retries {
				giveUp(e, err)
				return
			}
			l.left(ctx, e, st, err)
			pending = append(pending, e)
		})
		res.Finished += n
		if err := ctx.Err(); err != nil {
			return res, err
		}
		now := l.now()
		var still []Entry
		for _, e := range pending {
			if busy[e.Path] {
				delete(waiting, e.Path) // someone is working on it: no limit
				still = append(still, e)
				continue
			}
			since, ok := waiting[e.Path]
			if !ok {
				waiting[e.Path], since = now, now
			}
			if now.Sub(since) > patience {
				if why := lastErr[e.Path]; why != nil {
					giveUp(e, why)
				} else {
					giveUp(e, fmt.Errorf("still being written after %s", patience.Round(time.Second)))
				}
				continue
			}
			still = append(still, e)
		}
		if len(still) == 0 {
			return res, nil
		}
		if !sleep(l.clock, ctx.Done(), nextDue(still, wait, opt.Settle)) {
			return res, ctx.Err()
		}
	}
}
