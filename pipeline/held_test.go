package pipeline_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/photoguard/photoguard/pipeline"
	"github.com/photoguard/photoguard/pipeline/held"
)

// TestRetryPublishesOnceTheCauseIsGone: a photo the target refused is
// held; retried while the target is down it goes back to its held folder
// and is still listed; retried once the target takes it, it is published
// (through the pipeline's one code path), its original is gone, and it is
// no longer listed as held.
func TestRetryPublishesOnceTheCauseIsGone(t *testing.T) {
	e := pipeline.NewHeldEnv(t)
	e.Write("groep-5/IMG_0001.jpg", 41)
	it := e.Batch()["groep-5/IMG_0001.jpg"][0]
	if it.Outcome != pipeline.Held || it.Aside == "" {
		t.Fatalf("refused: %+v", it)
	}
	photos := list(t, e.State())
	if len(photos) != 1 || photos[0].Rel != "groep-5/IMG_0001.jpg" || !strings.HasPrefix(it.SHA256, photos[0].Short) || photos[0].File == "" {
		t.Fatalf("held: %+v", photos)
	}
	r := &held.Retrier{StateDir: e.State()}

	e.Down()
	items, err := r.Retry(context.Background(), e.Pipeline(), photos[0])
	if err == nil || len(items) != 0 {
		t.Fatalf("target down: %+v, %v", items, err)
	}
	if again := list(t, e.State()); len(again) != 1 || again[0].File != photos[0].File {
		t.Fatalf("after a retry with the target down: %+v", again)
	}
	if _, err := os.Stat(filepath.Join(e.State(), held.StagingFolder, photos[0].Name)); err == nil {
		t.Error("staging folder left behind")
	}

	e.Accept()
	items, err = r.Retry(context.Background(), e.Pipeline(), photos[0])
	if err != nil || len(items) != 1 || items[0].Outcome != pipeline.Published || items[0].Input != "groep-5/IMG_0001.jpg" {
		t.Fatalf("retry: %+v, %v", items, err)
	}
	if out := e.Outputs(); len(out) != 1 || out[0] != items[0].Output {
		t.Errorf("at the target: %v", out)
	}
	if again := list(t, e.State()); len(again) != 0 {
		t.Errorf("still held after it was published: %+v", again)
	}
	if _, err := os.Stat(filepath.Join(e.State(), "held", photos[0].Name)); err == nil {
		t.Error("held folder left behind")
	}
}

// TestRetryUsesTheCurrentRules: a held photo is retried with the current
// configuration and its path below the inbox, so a category flagged since
// rejects it (moved to rejected/, no longer held); a retry that died
// halfway is put right by Recover.
func TestRetryUsesTheCurrentRules(t *testing.T) {
	e := pipeline.NewHeldEnv(t)
	e.Write("schoolreis/IMG_0002.jpg", 42)
	e.Batch()
	photos := list(t, e.State())
	if len(photos) != 1 {
		t.Fatalf("held: %+v", photos)
	}
	e.Accept()
	e.Flag("schoolreis")
	r := &held.Retrier{StateDir: e.State()}
	items, err := r.Retry(context.Background(), e.Pipeline(), photos[0])
	if err != nil || len(items) != 1 || items[0].Outcome != pipeline.Rejected || len(e.Outputs()) != 0 {
		t.Fatalf("retry: %+v, %v, outputs %v", items, err, e.Outputs())
	}
	if len(list(t, e.State())) != 0 {
		t.Error("still held")
	}
	if _, err := os.Stat(filepath.Join(items[0].Aside, "IMG_0002.jpg")); err != nil {
		t.Errorf("not in rejected/: %v", err)
	}

	// A retry that died with the original in the staging folder: Recover
	// puts it back in its held folder.
	e.Refuse()
	e.Write("groep-6/IMG_0003.jpg", 43)
	e.Batch()
	photos = list(t, e.State())
	if len(photos) != 1 {
		t.Fatalf("held: %+v", photos)
	}
	staged := filepath.Join(e.State(), held.StagingFolder, photos[0].Name, "groep-6", "IMG_0003.jpg")
	if err := os.MkdirAll(filepath.Dir(staged), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(photos[0].File, staged); err != nil {
		t.Fatal(err)
	}
	if got := list(t, e.State()); len(got) != 1 || got[0].File != "" {
		t.Fatalf("mid-retry: %+v", got)
	}
	if err := r.Recover(); err != nil {
		t.Fatal(err)
	}
	if got := list(t, e.State()); len(got) != 1 || got[0].File != photos[0].File {
		t.Fatalf("after Recover: %+v", got)
	}
	if _, err := os.Stat(filepath.Join(e.State(), held.StagingFolder, photos[0].Name)); err == nil {
		t.Error("staging folder left behind")
	}
}

func list(t *testing.T, state string) []held.Photo {
	t.Helper()
	photos, err := held.List(state)
	if err != nil {
		t.Fatal(err)
	}
	return photos
}
