package config

import (
	"bytes"
	"context"
	"crypto/sha256"
	"os"
	"path/filepath"
	"time"

	"github.com/fsnotify/fsnotify"
)

// WatchFile calls onChange whenever the content of the configuration file at
// path changes, with the newly loaded and validated Config, or with the
// error that made it invalid (the caller keeps its old Config then). It
// returns when ctx is done.
//
// It does not use viper's WatchConfig: that exits the process when no file
// watcher can be made, stops for good once the file is removed (editors that
// save by deleting and recreating), and cannot be stopped. Here the folder is
// watched with fsnotify, and the content is also compared every poll
// interval, which covers network file systems that send no events.
func WatchFile(ctx context.Context, path string, poll time.Duration, onChange func(*Config, error)) {
	abs, err := filepath.Abs(path)
	if err != nil {
		onChange(nil, err)
		return
	}
	last := fileHash(abs)
	events := make(chan struct{}, 1)
	if w, err := fsnotify.NewWatcher(); err == nil {
		defer w.Close()
		if err := w.Add(filepath.Dir(abs)); err == nil {
			go func() {
				for {
					select {
					case ev, ok := <-w.Events:
						if !ok {
							return
						}
						if filepath.Clean(ev.Name) == abs {
							select {
							case events <- struct{}{}:
							default:
							}
						}
					case _, ok := <-w.Errors:
						if !ok {
							return
						}
					}
				}
			}()
		}
	}
	tick := time.NewTicker(poll)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-events:
			// Editors write in several steps; let them finish.
			select {
			case <-ctx.Done():
				return
			case <-time.After(300 * time.Millisecond):
			}
		case <-tick.C:
		}
		h := fileHash(abs)
		if h == nil || bytes.Equal(h, last) {
			continue // unchanged, or gone for a moment during a save
		}
		last = h
		cfg, err := Load(path)
		onChange(cfg, err)
	}
}

func fileHash(path string) []byte {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	sum := sha256.Sum256(data)
	return sum[:]
}
