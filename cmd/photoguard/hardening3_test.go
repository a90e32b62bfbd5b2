package main

// Tests of issue 19 (hardening, third round) at the level of the commands.

import (
	"context"
	"image"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/photoguard/photoguard/pipeline"
)

// explain --out, review --out and tune --out share one rule: not into the
// inbox, not into a folder target (also through a linked folder), not
// through a link, not over a file photoguard did not write; a file it wrote
// may be replaced.
func TestPrivateOutputRule(t *testing.T) {
	dir := t.TempDir()
	for _, d := range []string{"inbox/groep-7", "out", "state", "mine"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	cfg := writeConfig(t, dir, "inbox: "+dir+"/inbox\nstate_dir: "+dir+"/state\ntargets:\n"+
		"  website:\n    type: dir\n    path: "+dir+"/out\n    channel: website\n"+
		"  news:\n    type: dir\n    path: "+dir+"/out2\n    channel: newsletter\n")
	if err := os.Symlink(filepath.Join(dir, "inbox", "groep-7"), filepath.Join(dir, "to-inbox")); err != nil {
		t.Fatal(err)
	}
	notes := filepath.Join(dir, "mine", "notes.txt")
	if err := os.WriteFile(notes, []byte("my notes"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(notes, filepath.Join(dir, "mine", "link.png")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "mine", "other.txt"), []byte("other"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Link(filepath.Join(dir, "mine", "other.txt"), filepath.Join(dir, "mine", "hard.png")); err != nil {
		t.Fatal(err)
	}
	j := &pipeline.Job{Image: image.NewNRGBA(image.Rect(0, 0, 64, 48))}
	for _, c := range []struct {
		out, want string
	}{
		{"inbox/groep-7/x.png", "inside the inbox"},
		{"to-inbox/x.png", "inside the inbox"},
		{"out/x.png", "inside target website"},
		{"mine/link.png", "a link"},
		{"mine/hard.png", "hard link"},
		{"mine/notes.txt", "not written by photoguard"},
		{"nowhere/x.png", "does not exist"},
	} {
		out := filepath.Join(dir, c.out)
		for _, kind := range []privateKind{privatePNG, privateHTML} {
			if err := checkPrivateOut(cfg, out, kind); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("%s (%d): %v, want %q", c.out, kind, err, c.want)
			}
		}
		if err := writeAnnotated(cfg, out, j); err == nil {
			t.Errorf("explain --out %s: written", c.out)
		}
	}
	if got, _ := os.ReadFile(notes); string(got) != "my notes" {
		t.Fatalf("a refused --out changed another file: %q", got)
	}
	if ents, _ := os.ReadDir(filepath.Join(dir, "inbox", "groep-7")); len(ents) != 0 {
		t.Fatalf("something was written into the inbox: %v", ents)
	}
	// A file photoguard wrote may be written again (explain's PNG, a page).
	own := filepath.Join(dir, "mine", "check.png")
	for i := 0; i < 2; i++ {
		if err := writeAnnotated(cfg, own, j); err != nil {
			t.Fatalf("writing %s (time %d): %v", own, i+1, err)
		}
	}
	page := filepath.Join(dir, "mine", "review.html")
	html := []byte("<!DOCTYPE html>\n<html><head>" + string(pageMark) + "</head></html>")
	for i := 0; i < 2; i++ {
		if err := writePrivate(cfg, page, html, privateHTML); err != nil {
			t.Fatalf("writing %s (time %d): %v", page, i+1, err)
		}
	}
	// But a page is not a PNG and the other way round.
	if err := checkPrivateOut(cfg, page, privatePNG); err == nil {
		t.Error("a page may be replaced by an annotated PNG")
	}
}

// explain refuses --out into the inbox before it looks at the photo (the
// issue: the daemon published the annotated copy).
func TestExplainOutIntoTheInbox(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "inbox", "groep-7"), 0o700); err != nil {
		t.Fatal(err)
	}
	cfg := writeConfig(t, dir, "inbox: "+dir+"/inbox\nstate_dir: "+dir+"/state\ntargets:\n"+
		"  website:\n    type: dir\n    path: "+dir+"/out\n    channel: website\n")
	err := explain(context.Background(), io.Discard, cfg, filepath.Join(dir, "IMG.jpg"), "", filepath.Join(dir, "inbox", "groep-7", "x.png"))
	if err == nil || !strings.Contains(err.Error(), "inside the inbox") {
		t.Fatalf("explain --out into the inbox: %v", err)
	}
	for _, f := range []func() error{
		func() error {
			return reviewPage(io.Discard, cfg, reviewFlags{out: filepath.Join(dir, "inbox", "r.html")}, time.Now())
		},
		func() error {
			return tuneRun(context.Background(), io.Discard, io.Discard, cfg, tuneFlags{out: filepath.Join(dir, "inbox", "t.html")}, time.Now())
		},
	} {
		if err := f(); err == nil || !strings.Contains(err.Error(), "inside the inbox") {
			t.Errorf("a page into the inbox: %v", err)
		}
	}
}
