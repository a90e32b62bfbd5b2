package config

import (
	"bytes"
	"context"
	"crypto/sha256"
	"os"
	"path/filepath"
	"reflect"
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

// restartOnly are the settings a running daemon keeps until it restarts:
// what it opened at start (the inbox it watches, the state folder with the
// journal and the store, the face models with the detector's recognisers
// per worker and its memory, the finder, the targets) and the store's
// school year. The one list: a reload keeps them (KeepRestartOnly) and says
// which it kept, and the README lists them (RestartOnly).
var restartOnly = []struct {
	key   string
	field func(*Config) any // a pointer to the setting
}{
	{"inbox", func(c *Config) any { return &c.Inbox }},
	{"state_dir", func(c *Config) any { return &c.StateDir }},
	{"models_dir", func(c *Config) any { return &c.ModelsDir }},
	{"targets", func(c *Config) any { return &c.Targets }},
	{"workers", func(c *Config) any { return &c.Workers }},
	{"faces.detector", func(c *Config) any { return &c.Faces.Detector }},
	{"faces.detect_max_side", func(c *Config) any { return &c.Faces.DetectMaxSide }},
	{"faces.upsample", func(c *Config) any { return &c.Faces.Upsample }},
	{"faces.cnn_max_side", func(c *Config) any { return &c.Faces.CNNMaxSide }},
	{"faces.memory_mb", func(c *Config) any { return &c.Faces.MemoryMB }},
	{"faces.finder", func(c *Config) any { return &c.Faces.Finder }},
	{"consent.school_year_start", func(c *Config) any { return &c.Consent.SchoolYearStart }},
}

// RestartOnly lists the keys (or sections) of the settings that apply only
// when the daemon restarts.
func RestartOnly() []string {
	keys := make([]string, len(restartOnly))
	for i, s := range restartOnly {
		keys[i] = s.key
	}
	return keys
}

// KeepRestartOnly gives c (a configuration just reloaded) the restart-only
// settings of running (the one in force), and returns the keys of those that
// differed: they apply at the next restart, the rest of c applies now.
func (c *Config) KeepRestartOnly(running *Config) (changed []string) {
	for _, s := range restartOnly {
		now, next := reflect.ValueOf(s.field(running)).Elem(), reflect.ValueOf(s.field(c)).Elem()
		if !reflect.DeepEqual(now.Interface(), next.Interface()) {
			changed = append(changed, s.key)
			next.Set(now)
		}
	}
	return changed
}
