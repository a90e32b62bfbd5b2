package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/photoguard/photoguard/pipeline/internal/fsync"
)

// Scanner finds the photos under one folder and runs each through the
// pipeline. The daemon keeps one Scanner and calls Scan whenever the watcher
// hints at a change and on a timer; a batch run calls Scan once with Wait.
// Both take this one code path.
type Scanner struct {
	pipe atomic.Pointer[Pipeline]
	root string

	mu      sync.Mutex
	seen    map[string]sighting // first sighting of a file as it is now
	kept    map[string]sighting // handled and deliberately left in place
	retry   map[string]*backoff // passing failures, per path
	skipped map[string]bool     // ignored paths already logged
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

// batchPatience is the least time a batch waits for a file that is still
// being written (tests shorten it).
var batchPatience = time.Minute

// ScanOptions say how a scan behaves.
type ScanOptions struct {
	// Wait is batch mode: files still being written are waited for, and
	// every file found gets an outcome before Scan returns. Without Wait
	// (the daemon) such files are left for a later scan.
	Wait bool
	// Retries is how often a batch run retries a passing failure (target
	// down) before it reports the photo held and leaves it in place.
	Retries int
	// OnFound is called with the number of files found (for progress).
	OnFound func(n int)
	// OnItem is called for each finished item, one call at a time.
	OnItem func(Item)
}

// ScanResult counts what a scan did.
type ScanResult struct {
	Found   int
	Items   int
	Pending int // files left for a later scan (still being written, retrying)
	// Next is when a pending file is due; zero when nothing is pending.
	Next time.Duration
}

// NewScanner returns a scanner of root.
func NewScanner(p *Pipeline, root string) *Scanner {
	s := &Scanner{root: root, seen: map[string]sighting{}, kept: map[string]sighting{},
		retry: map[string]*backoff{}, skipped: map[string]bool{}}
	s.pipe.Store(p)
	return s
}

// SetPipeline replaces the pipeline (a reloaded configuration); the next
// photo taken is processed with it.
func (s *Scanner) SetPipeline(p *Pipeline) { s.pipe.Store(p) }

// p is the current pipeline.
func (s *Scanner) p() *Pipeline { return s.pipe.Load() }

// candidate is a path found by the walk.
type candidate struct {
	path string
	info fs.FileInfo
	// special is why a non-photo entry is quarantined without being read
	// (a link, a folder named like a photo); "" for regular files.
	special string
}

// Scan walks the folder once and processes every file that is ready.
func (s *Scanner) Scan(ctx context.Context, opt ScanOptions) (ScanResult, error) {
	var res ScanResult
	var emitMu sync.Mutex
	emit := func(items []Item) {
		emitMu.Lock()
		defer emitMu.Unlock()
		for _, it := range items {
			res.Items++
			if opt.OnItem != nil {
				opt.OnItem(it)
			}
		}
	}
	// A batch waits for a file that is still being written (or that
	// another worker or process is busy with) for at most this long,
	// counted from when that file started waiting.
	patience := s.p().opt.GiveUp + 10*s.p().opt.Settle + batchPatience
	waiting := map[string]time.Time{}
	busy := map[string]bool{}
	attempts := map[string]int{}
	first := true
	for {
		cands, err := s.walk()
		if err != nil {
			return res, err
		}
		if first {
			res.Found = len(cands)
			if opt.OnFound != nil {
				opt.OnFound(len(cands))
			}
			first = false
		}
		ready, pending, wait := s.ready(cands, opt.Wait)
		if len(ready) == 0 && len(pending) == 0 {
			res.Pending, res.Next = 0, 0
			return res, nil
		}
		var pendMu sync.Mutex
		var again []candidate
		s.run(ctx, ready, func(c candidate, items []Item, err error) {
			if err == nil {
				s.forget(c.path, items, c.info)
				emit(items)
				return
			}
			if opt.Wait && KindOf(err) == KindRetry {
				pendMu.Lock()
				attempts[c.path]++
				n := attempts[c.path]
				pendMu.Unlock()
				if n > opt.Retries {
					emit(s.giveUp(c, err))
					return
				}
			}
			if ctx.Err() == nil {
				// (A stop rolls back the photos in hand; that is no
				// passing failure to warn about and back off from.)
				s.noteRetry(c.path, err)
			}
			pendMu.Lock()
			again = append(again, c)
			busy[c.path] = errors.Is(err, errBusy)
			pendMu.Unlock()
		})
		if err := ctx.Err(); err != nil {
			return res, err
		}
		pending = append(pending, again...)
		if !opt.Wait {
			res.Pending = len(pending)
			res.Next = s.nextDue(pending, wait)
			return res, nil
		}
		if len(pending) == 0 {
			return res, nil
		}
		now := s.p().opt.Now()
		var still []candidate
		for _, c := range pending {
			if busy[c.path] {
				delete(waiting, c.path) // someone is working on it: no limit
				still = append(still, c)
				continue
			}
			since, ok := waiting[c.path]
			if !ok {
				waiting[c.path] = now
				since = now
			}
			if now.Sub(since) > patience {
				emit(s.giveUp(c, fmt.Errorf("still being written after %s", patience.Round(time.Second))))
				continue
			}
			still = append(still, c)
		}
		if len(still) == 0 {
			return res, nil
		}
		sleep := s.nextDue(still, wait)
		select {
		case <-ctx.Done():
			return res, ctx.Err()
		case <-time.After(sleep):
		}
	}
}

// giveUp ends a batch's photo that could not be finished: it is reported
// held and left where it is.
func (s *Scanner) giveUp(c candidate, err error) []Item {
	rel, _ := filepath.Rel(s.root, c.path)
	var items []Item
	for _, d := range s.p().opt.Destinations {
		items = append(items, Item{Input: filepath.ToSlash(rel), Outcome: Held, Target: d.Name, Kept: true,
			Reason: ReasonOf(err) + "; left in the folder, run again later"})
	}
	return items
}

// run processes candidates with the configured number of workers.
func (s *Scanner) run(ctx context.Context, cands []candidate, done func(candidate, []Item, error)) {
	work := make(chan candidate)
	var wg sync.WaitGroup
	for i := 0; i < s.p().opt.Workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c := range work {
				var items []Item
				var err error
				if c.special != "" {
					items, err = s.p().ProcessSpecial(ctx, s.root, c.path, c.special)
				} else {
					items, err = s.p().Process(ctx, s.root, c.path)
				}
				done(c, items, err)
			}
		}()
	}
	for _, c := range cands {
		if ctx.Err() != nil {
			break
		}
		work <- c
	}
	close(work)
	wg.Wait()
}

// walk lists the candidates below root, skipping what is not a teacher's
// photo: hidden and temporary files, sync clients' working files, and
// photoguard's own folders if they were put inside the inbox.
func (s *Scanner) walk() ([]candidate, error) {
	st, err := os.Stat(s.root)
	if err != nil {
		return nil, fmt.Errorf("folder %s: %w", s.root, err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("%s is not a folder", s.root)
	}
	own := map[string]bool{filepath.Clean(s.p().opt.StateDir): true}
	var cands []candidate
	err = filepath.WalkDir(s.root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if path == s.root {
				return err
			}
			s.logOnce(path, "cannot read folder entry", err)
			return nil
		}
		if path == s.root {
			return nil
		}
		name := d.Name()
		if d.IsDir() {
			if skipDir(name) || own[filepath.Clean(path)] {
				return filepath.SkipDir
			}
			if looksLikePhoto(name) {
				info, _ := d.Info()
				cands = append(cands, candidate{path: path, info: info, special: "a folder named like a photo"})
				return filepath.SkipDir
			}
			return nil
		}
		if Ignored(name) {
			if strings.HasPrefix(name, fsync.TempPrefix) {
				// A note that a crash interrupted; one being written now
				// is younger than a minute.
				fsync.RemoveTemps(filepath.Dir(path), time.Minute)
			}
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return nil // gone since the listing
		}
		c := candidate{path: path, info: info}
		switch {
		case info.Mode()&fs.ModeSymlink != 0:
			c.special = "a symbolic link (photoguard does not follow links)"
		case !info.Mode().IsRegular():
			c.special = "not a regular file (" + fileType(info.Mode()) + ")"
		}
		cands = append(cands, c)
		return nil
	})
	return cands, err
}

// ready splits candidates into those to process now and those to look at
// again later, with the time until the earliest one is due. In the daemon a
// file must also have been seen unchanged for the settle delay.
func (s *Scanner) ready(cands []candidate, batch bool) (ready, pending []candidate, wait time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.p().opt.Now()
	settle := s.p().opt.Settle
	wait = -1
	due := func(d time.Duration) {
		if wait < 0 || d < wait {
			wait = d
		}
	}
	present := map[string]bool{}
	for _, c := range cands {
		present[c.path] = true
		if c.special != "" {
			ready = append(ready, c)
			continue
		}
		size, mtime := c.info.Size(), c.info.ModTime()
		if k, ok := s.kept[c.path]; ok && k.size == size && k.mtime.Equal(mtime) {
			continue // handled already and left in place on purpose
		}
		if b := s.retry[c.path]; b != nil && now.Before(b.next) {
			pending = append(pending, c)
			due(b.next.Sub(now))
			continue
		}
		age := now.Sub(mtime)
		if age < settle {
			pending = append(pending, c)
			due(settle - age)
			continue
		}
		if !batch {
			seen, ok := s.seen[c.path]
			if !ok || seen.size != size || !seen.mtime.Equal(mtime) {
				s.seen[c.path] = sighting{size: size, mtime: mtime, at: now}
				pending = append(pending, c)
				due(settle)
				continue
			}
			if since := now.Sub(seen.at); since < settle {
				pending = append(pending, c)
				due(settle - since)
				continue
			}
		}
		ready = append(ready, c)
	}
	// Forget files that are gone.
	for p := range s.seen {
		if !present[p] {
			delete(s.seen, p)
		}
	}
	for p := range s.kept {
		if !present[p] {
			delete(s.kept, p)
		}
	}
	if wait < 0 {
		wait = 0
	}
	return ready, pending, wait
}

func (s *Scanner) nextDue(pending []candidate, wait time.Duration) time.Duration {
	if len(pending) == 0 {
		return 0
	}
	if wait <= 0 {
		wait = s.p().opt.Settle
	}
	if wait < 100*time.Millisecond {
		wait = 100 * time.Millisecond
	}
	return wait
}

// forget clears a finished file's bookkeeping; a file left in place is
// remembered so that it is not processed again while it is unchanged.
func (s *Scanner) forget(path string, items []Item, info fs.FileInfo) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.seen, path)
	delete(s.retry, path)
	kept := false
	for _, it := range items {
		kept = kept || it.Kept
	}
	if kept && info != nil {
		s.kept[path] = sighting{size: info.Size(), mtime: info.ModTime()}
	}
}

// noteRetry schedules a path that failed for a passing reason, with an
// exponential backoff, and logs the failure once per streak.
func (s *Scanner) noteRetry(path string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if KindOf(err) == KindNotReady {
		delete(s.seen, path)
		return
	}
	b := s.retry[path]
	if b == nil {
		b = &backoff{}
		s.retry[path] = b
		s.p().opt.Log.Warn("photo kept in the inbox, will retry", "file", s.tag(path), "reason", scrub(err))
		s.p().opt.Log.Debug("photo kept in the inbox, will retry", "file", s.tag(path), "input", path, "reason", ReasonOf(err))
	}
	b.attempts++
	d := time.Second << min(b.attempts, 9) // 2 s … 8.5 min
	b.next = s.p().opt.Now().Add(d)
}

func (s *Scanner) logOnce(path, msg string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.skipped[path] {
		return
	}
	s.skipped[path] = true
	s.p().opt.Log.Warn(msg, "file", s.tag(path), "err", scrub(err))
	s.p().opt.Log.Debug(msg, "file", s.tag(path), "input", path, "err", err)
}

// tag names a file below the inbox in log lines (pathTag of its path below
// the inbox), so that its name stays at debug level.
func (s *Scanner) tag(path string) string {
	rel, err := filepath.Rel(s.root, path)
	if err != nil {
		rel = path
	}
	return pathTag(filepath.ToSlash(rel))
}

// ProcessSpecial quarantines an entry that is not a regular file without
// reading it.
func (p *Pipeline) ProcessSpecial(ctx context.Context, root, path, why string) ([]Item, error) {
	j, err := p.newJob(root, path)
	if err != nil {
		return nil, err
	}
	return p.settle(ctx, j, Quarantine(nil, "not a photo: %s", why))
}

// Ignored reports whether a file name is one photoguard never touches:
// hidden files and the working files of sync clients, browsers and office
// programs.
func Ignored(name string) bool {
	lower := strings.ToLower(name)
	switch {
	case strings.HasPrefix(name, "."), // hidden, .syncthing.*.tmp, .~lock*, .DS_Store
		strings.HasPrefix(name, "~$"),
		strings.HasPrefix(name, "~syncthing~"),
		strings.HasPrefix(name, "._"):
		return true
	}
	if strings.HasSuffix(name, NoteSuffix) {
		return true
	}
	for _, suf := range []string{".partial", ".crdownload", ".tmp", ".temp", ".part", ".download", ".!sync", ".icloud"} {
		if strings.HasSuffix(lower, suf) {
			return true
		}
	}
	switch lower {
	case "thumbs.db", "desktop.ini", "icon\r":
		return true
	}
	return false
}

func skipDir(name string) bool {
	if strings.HasPrefix(name, ".") { // .dropbox.cache, .stversions, .Trash-1000
		return true
	}
	switch strings.ToLower(name) {
	case "@eadir", "#recycle", "$recycle.bin", "system volume information", "lost+found":
		return true
	}
	return false
}

func looksLikePhoto(name string) bool {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".jpg", ".jpeg", ".png", ".heic", ".heif":
		return true
	}
	return false
}

func fileType(m fs.FileMode) string {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeDevice != 0:
		return "a device"
	}
	return "type " + m.Type().String()
}

func statDir(p string) (bool, error) {
	st, err := os.Lstat(p)
	if err != nil {
		return false, err
	}
	return st.IsDir(), nil
}
