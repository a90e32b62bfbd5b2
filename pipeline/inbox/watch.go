package inbox

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/fsnotify/fsnotify"
)

// Watch watches root and every folder below it that a walk enters
// (fsnotify is not recursive; the folders SkipDir names and own are left
// out) and pokes on every event until ctx ends. A folder that appears is
// watched as it appears. When events are lost (queue overflow) or the
// watcher fails, it says so once per ten minutes and pokes, so that a full
// scan covers what was missed; without a watcher at all it says so and
// returns (the periodic rescan still finds everything).
func Watch(ctx context.Context, root string, own []string, log *slog.Logger, poke func()) {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		log.Warn("no file events; relying on the periodic rescan", "err", err)
		return
	}
	defer w.Close()
	skip := map[string]bool{}
	for _, o := range own {
		skip[filepath.Clean(o)] = true
	}
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
			if p != root && (SkipDir(e.Name()) || skip[filepath.Clean(p)]) {
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
				if st, err := os.Lstat(ev.Name); err == nil && st.IsDir() {
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
