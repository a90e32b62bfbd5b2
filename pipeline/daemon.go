package pipeline

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"path/filepath"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"
)

// Daemon keeps an inbox processed: it scans when the file watcher hints at a
// change, when a file it saw is due (settled, or its retry is due), and on a
// timer, because network and FUSE folders send no events. The watcher is
// only ever a hint; the scan decides.
type Daemon struct {
	Scanner *Scanner
	// Rescan is the period of the full scan that runs even without events.
	Rescan time.Duration
	Log    *slog.Logger
	// OnItem is called for every finished item.
	OnItem func(Item)
	// OnScan is called after every scan (for tests and status).
	OnScan func(ScanResult, error)
}

// Run scans until ctx is done. Work in hand when ctx ends is rolled back by
// the pipeline (its input stays in the inbox) or finished.
func (d *Daemon) Run(ctx context.Context) error {
	log := d.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
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
		watchTree(ctx, d.Scanner.root, log, poke)
	}()
	defer wg.Wait()

	for {
		res, err := d.Scanner.Scan(ctx, ScanOptions{OnItem: d.OnItem})
		if d.OnScan != nil {
			d.OnScan(res, err)
		}
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			log.Error("scan failed; trying again at the next rescan", "err", err)
		}
		wait := d.Rescan
		if res.Pending > 0 && res.Next > 0 && res.Next < wait {
			wait = res.Next
		}
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil
		case <-timer.C:
		case <-kick:
			timer.Stop()
			// Events come in bursts (a sync client writing a folder):
			// gather them into one scan.
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(250 * time.Millisecond):
			}
			select {
			case <-kick:
			default:
			}
		}
	}
}

// watchTree watches root and every folder below it (fsnotify is not
// recursive) and pokes on every event. A folder that appears is watched as
// it appears. When events are lost (queue overflow) or the watcher fails,
// it says so once and pokes, so that a full scan covers what was missed.
func watchTree(ctx context.Context, root string, log *slog.Logger, poke func()) {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		log.Warn("no file events; relying on the periodic rescan", "err", err)
		return
	}
	defer w.Close()
	// Problems are logged once per ten minutes each, not per file.
	warned := map[string]time.Time{}
	warnOnce := func(key, msg string, err error) {
		if time.Since(warned[key]) > 10*time.Minute {
			warned[key] = time.Now()
			log.Warn(msg, "err", err)
		}
	}
	add := func(dir string) {
		_ = filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
			if err != nil || !e.IsDir() {
				return nil
			}
			if p != root && skipDir(e.Name()) {
				return filepath.SkipDir
			}
			if err := w.Add(p); err != nil {
				// Typically the inotify watch limit
				// (fs.inotify.max_user_watches): the rescan still finds
				// everything, only later.
				warnOnce("add", "cannot watch every folder; relying on the periodic rescan there", err)
			}
			return nil
		})
	}
	add(root)
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-w.Events:
			if !ok {
				return
			}
			if ev.Has(fsnotify.Create) {
				if st, err := statDir(ev.Name); err == nil && st {
					add(ev.Name)
				}
			}
			poke()
		case err, ok := <-w.Errors:
			if !ok {
				return
			}
			if errors.Is(err, fsnotify.ErrEventOverflow) {
				warnOnce("overflow", "file events were lost (queue overflow); scanning the whole inbox", err)
			} else {
				warnOnce("error", "file watcher error; scanning the whole inbox", err)
			}
			poke()
		}
	}
}
