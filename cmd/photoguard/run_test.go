package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/photoguard/photoguard/config"
)

// syncBuffer is a log sink the daemon writes to while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func plainJPEG(t *testing.T, w, h, seed int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Set(x, y, color.RGBA{uint8(x*3 + seed), uint8(y * 2), uint8(seed * 40), 255})
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, nil); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// A configuration change with an invalid value is refused and the old
// configuration stays in force; a valid change applies to the next photo.
func TestDaemonConfigReload(t *testing.T) {
	models := modelsForTest(t)
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "photoguard.yaml")
	write := func(maxSide int, threshold string) {
		yaml := fmt.Sprintf("inbox: %[1]s/inbox\nstate_dir: %[1]s/state\nmodels_dir: %[2]s\nworkers: 1\n"+
			"watch:\n  settle: 200ms\n  rescan: 1s\noutput:\n  max_side: %[3]d\nfaces:\n  threshold: %[4]s\n"+
			"targets:\n  website:\n    type: dir\n    path: %[1]s/out\n    channel: website\n    approval: none\n    individual: allowed\n", dir, models, maxSide, threshold)
		tmp := cfgPath + ".new"
		if err := os.WriteFile(tmp, []byte(yaml), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, cfgPath); err != nil {
			t.Fatal(err)
		}
	}
	write(512, "0.5")
	logs := &syncBuffer{}
	log := slog.New(slog.NewJSONHandler(logs, nil))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- runDaemon(ctx, cfgPath, log) }()
	defer func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Error(err)
			}
		case <-time.After(45 * time.Second):
			t.Error("daemon did not stop")
		}
	}()

	out := filepath.Join(dir, "out")
	drop := func(name string, seed int) image.Rectangle {
		t.Helper()
		p := filepath.Join(dir, "inbox", "groep-1", name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		before, _ := filepath.Glob(filepath.Join(out, "*.jpg"))
		if err := os.WriteFile(p, plainJPEG(t, 1600, 1200, seed), 0o644); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(40 * time.Second)
		for time.Now().Before(deadline) {
			after, _ := filepath.Glob(filepath.Join(out, "*.jpg"))
			if len(after) > len(before) {
				for _, f := range after {
					if !contains(before, f) {
						data, _ := os.ReadFile(f)
						cfg, err := jpeg.DecodeConfig(bytes.NewReader(data))
						if err != nil {
							t.Fatal(err)
						}
						return image.Rect(0, 0, cfg.Width, cfg.Height)
					}
				}
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Fatalf("%s not published; log:\n%s", name, logs.String())
		return image.Rectangle{}
	}
	if got := drop("a.jpg", 1); got.Dx() != 512 {
		t.Fatalf("first photo %v, want long side 512", got)
	}
	// An invalid threshold: refused, named in the log, old config kept.
	write(1024, "0.9")
	waitLog(t, logs, "faces.threshold", 20*time.Second)
	if !strings.Contains(logs.String(), "configuration change refused") {
		t.Errorf("refusal not logged:\n%s", logs.String())
	}
	if got := drop("b.jpg", 2); got.Dx() != 512 {
		t.Errorf("after an invalid change the photo is %v: the old configuration should stay", got)
	}
	// A valid change applies to the next photo.
	write(800, "0.45")
	waitLog(t, logs, "configuration reloaded", 20*time.Second)
	if got := drop("c.jpg", 3); got.Dx() != 800 {
		t.Errorf("after a valid change the photo is %v, want long side 800", got)
	}
}

func waitLog(t *testing.T, logs *syncBuffer, want string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if strings.Contains(logs.String(), want) {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%q not in the log:\n%s", want, logs.String())
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// A published photo is removed from the target on request, and a copy put
// in the inbox again is published anew (not taken for a duplicate).
func TestTakedown(t *testing.T) {
	dir := t.TempDir()
	cfg := websiteConfig(t, dir, modelsForTest(t))
	photo := plainJPEG(t, 640, 480, 9)
	in := filepath.Join(dir, "in")
	drop := func() []string {
		if err := os.MkdirAll(in, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(in, "a.jpg"), photo, 0o644); err != nil {
			t.Fatal(err)
		}
		old := time.Now().Add(-time.Hour)
		_ = os.Chtimes(filepath.Join(in, "a.jpg"), old, old)
		var out bytes.Buffer
		if err := runBatch(context.Background(), cfg, in, batchFlags{}, &out, &out); err != nil {
			t.Fatalf("%v\n%s", err, out.String())
		}
		outs, _ := filepath.Glob(filepath.Join(dir, "out", "*.jpg"))
		return outs
	}
	if outs := drop(); len(outs) != 1 {
		t.Fatalf("published %v", outs)
	}
	sum := sha256.Sum256(photo)
	var out bytes.Buffer
	if err := takedown(context.Background(), &out, cfg, hex.EncodeToString(sum[:]), ""); err != nil {
		t.Fatal(err)
	}
	if outs, _ := filepath.Glob(filepath.Join(dir, "out", "*.jpg")); len(outs) != 0 {
		t.Fatalf("still published: %v\n%s", outs, out.String())
	}
	if outs := drop(); len(outs) != 1 {
		t.Fatalf("after takedown, the photo put back was not published again: %v", outs)
	}
}

func loadConfigFile(p string) (*config.Config, error) { return config.Load(p) }

// websiteConfig is a configuration in dir: one worker, the HOG detector
// (fast), a "website" dir target at dir/out, files taken at once.
func websiteConfig(t *testing.T, dir, models string) *config.Config {
	t.Helper()
	cfgPath := filepath.Join(dir, "pg.yaml")
	yaml := fmt.Sprintf("inbox: %[1]s/inbox\nstate_dir: %[1]s/state\nmodels_dir: %[2]s\nworkers: 1\nwatch:\n  settle: 0s\n"+
		"faces:\n  detector: hog\ntargets:\n  website:\n    type: dir\n    path: %[1]s/out\n    channel: website\n    approval: none\n    individual: allowed\n", dir, models)
	if err := os.WriteFile(cfgPath, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := loadConfigFile(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}
