package inbox

import (
	"sync"
	"time"
)

// book is the inbox's memory between scans, per path: when a file was first
// seen as it is now (settle), which files were handled and deliberately left
// in place, and the backoff of passing failures. Safe for concurrent use.
type book struct {
	mu    sync.Mutex
	seen  map[string]sighting // first sighting of a file as it is now
	kept  map[string]sighting // handled and deliberately left in place
	retry map[string]*backoff // passing failures, per path
}

type sighting struct {
	size  int64
	mtime time.Time
	at    time.Time
}

type backoff struct {
	next     time.Time
	attempts int
}

func newBook() *book {
	return &book{seen: map[string]sighting{}, kept: map[string]sighting{}, retry: map[string]*backoff{}}
}

// split divides entries into those to take now and those to look at again
// later, with the time until the earliest of those is due (0: none known).
// A file is taken when it has not changed for settle (its modification time
// is that old) and is not waiting out a backoff; with sightings (the
// daemon), it must also have been seen unchanged by scans settle apart,
// because a sync client may keep a file's old modification time while it
// writes. A batch takes a file as soon as it is old enough: it runs over a
// folder someone filled before. Special entries are taken at once. An entry
// handled and kept in place is left out while it is unchanged.
func (b *book) split(entries []Entry, now time.Time, settle time.Duration, sightings bool) (ready, pending []Entry, wait time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	wait = -1
	due := func(d time.Duration) {
		if wait < 0 || d < wait {
			wait = d
		}
	}
	present := map[string]bool{}
	for _, e := range entries {
		present[e.Path] = true
		if e.Info != nil {
			if k, ok := b.kept[e.Path]; ok && k.size == e.Info.Size() && k.mtime.Equal(e.Info.ModTime()) {
				continue // handled already and left in place on purpose
			}
		}
		if e.Kind == Special {
			ready = append(ready, e)
			continue
		}
		size, mtime := e.Info.Size(), e.Info.ModTime()
		if r := b.retry[e.Path]; r != nil && now.Before(r.next) {
			pending = append(pending, e)
			due(r.next.Sub(now))
			continue
		}
		if age := now.Sub(mtime); age < settle {
			pending = append(pending, e)
			due(settle - age)
			continue
		}
		if sightings {
			seen, ok := b.seen[e.Path]
			if !ok || seen.size != size || !seen.mtime.Equal(mtime) {
				b.seen[e.Path] = sighting{size: size, mtime: mtime, at: now}
				pending = append(pending, e)
				due(settle)
				continue
			}
			if since := now.Sub(seen.at); since < settle {
				pending = append(pending, e)
				due(settle - since)
				continue
			}
		}
		ready = append(ready, e)
	}
	// Forget files that are gone.
	for p := range b.seen {
		if !present[p] {
			delete(b.seen, p)
		}
	}
	for p := range b.kept {
		if !present[p] {
			delete(b.kept, p)
		}
	}
	if wait < 0 {
		wait = 0
	}
	return ready, pending, wait
}

// done clears a finished entry's bookkeeping; an entry left in place on
// purpose is remembered, so that it is not taken again while it is
// unchanged.
func (b *book) done(e Entry, kept bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.seen, e.Path)
	delete(b.retry, e.Path)
	if kept && e.Info != nil {
		b.kept[e.Path] = sighting{size: e.Info.Size(), mtime: e.Info.ModTime()}
	}
}

// notReady forgets the sighting of a file found still being written (or
// busy elsewhere): it must settle again.
func (b *book) notReady(e Entry) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.seen, e.Path)
}

// failed schedules an entry that failed for a passing reason again, with an
// exponential backoff (2 s, 4 s, … 8.5 min), and reports whether this failure
// starts a streak (the one to warn about).
func (b *book) failed(e Entry, now time.Time) (first bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	r := b.retry[e.Path]
	if r == nil {
		r = &backoff{}
		b.retry[e.Path] = r
		first = true
	}
	r.attempts++
	r.next = now.Add(time.Second << min(r.attempts, 9))
	return first
}

// nextDue is how long to sleep before looking at pending entries again:
// wait, or settle when nothing said, and never less than 100 ms.
func nextDue(pending []Entry, wait, settle time.Duration) time.Duration {
	if len(pending) == 0 {
		return 0
	}
	if wait <= 0 {
		wait = settle
	}
	return max(wait, 100*time.Millisecond)
}
