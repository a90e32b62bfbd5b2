package main

// Tests of issue 8 (hardening) at the level of the commands.

import (
	"image"
	"os"
	"path/filepath"
	"testing"

	"github.com/photoguard/photoguard/pipeline"
)

// explain --out never truncates what a planted link points to.
func TestExplainOutNeverFollowsALink(t *testing.T) {
	dir := t.TempDir()
	key := filepath.Join(dir, "registry.key")
	if err := os.WriteFile(key, []byte("the key\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "check.png")
	if err := os.Symlink(key, out); err != nil {
		t.Fatal(err)
	}
	j := &pipeline.Job{Image: image.NewNRGBA(image.Rect(0, 0, 64, 48))}
	if err := writeAnnotated(out, j); err == nil {
		t.Error("explain --out wrote over a link")
	}
	if got, _ := os.ReadFile(key); string(got) != "the key\n" {
		t.Fatalf("explain --out wrote through the link: the key is now %q", got)
	}
	// A plain path works.
	if err := writeAnnotated(filepath.Join(dir, "ok.png"), j); err != nil {
		t.Fatal(err)
	}
}
