package pipeline

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/photoguard/photoguard/pipeline/inbox"
	"github.com/photoguard/photoguard/pipeline/inbox/inboxtest"
)

// What an iPad delivers for an edited Live Photo, and a film: the photo is
// published; each video is rejected with its own reason (the Live Photo's
// says so), moved to rejected/ with a reason file and a note for the
// teacher, never published and never wiped; the .AAE edit file is left
// alone, and none of it makes the batch need a look.
func TestVideosAndEditFiles(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.TeacherNotes = true })
	files := append(inboxtest.LivePhoto("IMG_0001", ".JPG", photo(t, 1)), inboxtest.File{Name: "film.mp4", Data: inboxtest.MP4()})
	for _, f := range files {
		e.write("groep-5/"+f.Name, f.Data)
	}
	items := e.batch()
	if len(items) != 3 {
		t.Fatalf("items %+v, want the photo and two videos", items)
	}
	if it := one(t, items, "groep-5/IMG_0001.JPG"); it.Outcome != Published {
		t.Errorf("the Live Photo's photo: %+v", it)
	}
	rep := NewReport(false)
	for _, name := range []string{"IMG_0001.MOV", "film.mp4"} {
		it := one(t, items, "groep-5/"+name)
		rep.Add(it)
		if it.Outcome != Rejected || !strings.HasPrefix(it.Reason, ReasonVideo) || it.Output != "" || it.Aside == "" {
			t.Errorf("%s: %+v", name, it)
		}
		if live := strings.Contains(it.Reason, "Live Photo"); live != (name == "IMG_0001.MOV") {
			t.Errorf("%s: %q", name, it.Reason)
		}
		moved, err := os.ReadFile(filepath.Join(it.Aside, name))
		if err != nil || len(moved) == 0 {
			t.Errorf("%s: not kept in %s: %v", name, it.Aside, err)
		}
		if !strings.HasPrefix(it.Aside, filepath.Join(e.state, "rejected")) {
			t.Errorf("%s: moved to %s, want rejected/", name, it.Aside)
		}
		reason, err := os.ReadFile(filepath.Join(it.Aside, "reason.txt"))
		if err != nil || !strings.Contains(string(reason), ReasonVideo) {
			t.Errorf("%s: reason file %q, %v", name, reason, err)
		}
		note, err := os.ReadFile(filepath.Join(e.inbox, "groep-5", name+NoteSuffix))
		if err != nil || !strings.Contains(string(note), "video") {
			t.Errorf("%s: teacher note %q, %v", name, note, err)
		}
		if exists(filepath.Join(e.inbox, "groep-5", name)) {
			t.Errorf("%s: still in the inbox", name)
		}
	}
	if !rep.Clean() {
		t.Error("videos make the batch need a look (exit status 2)")
	}
	if !exists(filepath.Join(e.inbox, "groep-5", "IMG_0001.AAE")) {
		t.Error("the .AAE edit file was taken")
	}
	if outs := e.outputs(); len(outs) != 1 {
		t.Errorf("published %v, want the photo only", outs)
	}
	// The edit file and the notes are never taken.
	if again := e.batch(); len(again) != 0 {
		t.Errorf("a second batch took %v", again)
	}
}

// With inputs kept, and in a dry run, a video stays where it is.
func TestVideoKeptAndDryRun(t *testing.T) {
	for _, mode := range []string{"keep inputs", "dry run"} {
		e := newEnv(t, func(o *Options) { o.Wipe = false; o.DryRun = mode == "dry run" })
		in := e.write("IMG_0002.MOV", inboxtest.MOV("x"))
		it := one(t, e.batch(), "IMG_0002.MOV")
		if it.Outcome != Rejected || !strings.HasPrefix(it.Reason, ReasonVideo) || it.Aside != "" || !exists(in) {
			t.Errorf("%s: %+v", mode, it)
		}
		if exists(filepath.Join(e.state, "rejected")) {
			t.Errorf("%s: something was moved aside", mode)
		}
	}
}

// The inbox's skip rules know photoguard's notes by the suffix the notes
// are written with.
func TestNoteSuffixAgrees(t *testing.T) {
	if inbox.NoteSuffix != NoteSuffix || !inbox.Ignored("IMG_0001.JPG"+NoteSuffix) {
		t.Fatalf("inbox.NoteSuffix %q, pipeline.NoteSuffix %q", inbox.NoteSuffix, NoteSuffix)
	}
}

// A batch over a flagged folder, or over a file in one, still rejects: its
// photos are named from above the flagged folder.
func TestBatchBaseKeepsTheCategory(t *testing.T) {
	e := newEnv(t)
	for dir, want := range map[string]string{
		"/srv/foto/zwemles/groep-5": "/srv/foto",
		"/srv/Gym les/2024":         "/srv",
		"/srv/zwemles/gym":          "/srv",
		"/srv/foto/groep-5":         "/srv/foto/groep-5",
		"/":                         "/",
		"/zwemles":                  "/",
	} {
		if got := e.p.BatchBase(dir); got != want {
			t.Errorf("BatchBase(%s) = %s, want %s", dir, got, want)
		}
	}
	e.write("zwemles/groep-5/IMG_1.jpg", photo(t, 2))
	dir := filepath.Join(e.inbox, "zwemles", "groep-5")
	got := map[string]Item{}
	var mu sync.Mutex
	in := NewIntake(e.p, func(it Item) { mu.Lock(); got[it.Input] = it; mu.Unlock() })
	base := e.p.BatchBase(dir)
	roots := []inbox.Root{{Dir: dir, Base: base}}
	if _, err := inbox.Batch(context.Background(), in, roots, batchOptions(e.p, 1, 0)); err != nil {
		t.Fatal(err)
	}
	e.write("zwemles/groep-5/IMG_2.jpg", photo(t, 3))
	file := inbox.Root{File: filepath.Join(dir, "IMG_2.jpg"), Base: e.p.BatchBase(dir)}
	if _, err := inbox.Batch(context.Background(), in, []inbox.Root{file}, batchOptions(e.p, 1, 0)); err != nil {
		t.Fatal(err)
	}
	for _, rel := range []string{"zwemles/groep-5/IMG_1.jpg", "zwemles/groep-5/IMG_2.jpg"} {
		if it, ok := got[rel]; !ok || it.Outcome != Rejected {
			t.Errorf("%s: %+v (all %v)", rel, it, got)
		}
	}
	if len(e.outputs()) != 0 {
		t.Error("a photo in a flagged folder was published")
	}
}
