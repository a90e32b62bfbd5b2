package wordpress

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/photoguard/photoguard/pipeline"
	"github.com/photoguard/photoguard/pipeline/journal"
	"github.com/photoguard/photoguard/pipeline/ledger"
	"github.com/photoguard/photoguard/pipeline/target"
	"github.com/photoguard/photoguard/pipeline/target/dir"
	"github.com/photoguard/photoguard/pipeline/target/webdav"
	"github.com/photoguard/photoguard/pipeline/target/webdav/webdavtest"
)

// objections records the objections a takedown makes (the consent store's
// part, which has its own tests).
type objections struct {
	mu  sync.Mutex
	got []string
}

func (o *objections) Object(sha, id, note string) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.got = append(o.got, sha[:12]+" "+id)
	return nil
}

// TestTakedownAcrossTargets is the case: anna's consent is revoked,
// and `takedown --pupil anna` removes exactly the photos in which anna is
// visible from a folder, a WebDAV share and the real WordPress site at once,
// and leaves the others on each. What is left is read from each server
// independently of the targets' code (the folder and the WebDAV server's
// folder directly; WordPress as its administrator).
func TestTakedownAcrossTargets(t *testing.T) {
	wpTarget := realTarget(t, "author")
	state := t.TempDir()
	folder := filepath.Join(t.TempDir(), "newsletter")
	dirTarget, err := dir.New(folder)
	if err != nil {
		t.Fatal(err)
	}
	davDir := t.TempDir()
	dav := webdavtest.New(t, davDir)
	davTarget, err := webdav.New(webdav.Options{URL: dav.URL, Path: "portal", User: webdavtest.User, Password: webdavtest.Password})
	if err != nil {
		t.Fatal(err)
	}
	targets := map[string]target.Target{"website": wpTarget, "newsletter": dirTarget, "portal": davTarget}
	channels := map[string]string{"website": "website", "newsletter": "newsletter", "portal": "parent_portal"}

	led, err := ledger.Open(state, nil)
	if err != nil {
		t.Fatal(err)
	}
	j, err := journal.Open(state)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	ctx := context.Background()
	stamp := time.Now().UnixNano()
	// publish sends one photo to every target, as the pipeline does
	// (announced in the ledger, sent, confirmed), and returns its name.
	publish := func(n int, pupils ...string) string {
		t.Helper()
		sha := fmt.Sprintf("%02d%010x", n, stamp&0xffffffffff) // the first 12 characters name the output
		sha += strings.Repeat("e", 64-len(sha))
		name := pipeline.OutputName(time.Now(), sha)
		rec := &journal.Record{SHA256: sha, State: journal.Done, Outcome: "published", Deliveries: map[string]*journal.Delivery{}}
		for tname, tg := range targets {
			p := pipeline.Publication{SHA256: sha, Target: tname, Channel: channels[tname], Name: name, Pupils: pupils}
			if err := led.Publishing(p); err != nil {
				t.Fatal(err)
			}
			ref, err := tg.Publish(ctx, name, realPhotos(t)[n%len(realPhotos(t))])
			if err != nil {
				t.Fatalf("%s: %v", tname, err)
			}
			p.Ref = ref
			if err := led.Published(p); err != nil {
				t.Fatal(err)
			}
			rec.Targets = append(rec.Targets, tname)
			rec.Deliveries[tname] = &journal.Delivery{Name: name, Ref: ref, Published: true, At: time.Now()}
		}
		if err := j.Put(rec); err != nil {
			t.Fatal(err)
		}
		return name
	}
	annaAndBram := publish(1, "anna", "bram")
	bram := publish(2, "bram")
	anna := publish(3, "anna")
	nobody := publish(4)

	obj := &objections{}
	td := &ledger.Takedowner{Ledger: led, StateDir: state, Journal: j, Objections: obj,
		Target: func(name string) (target.Target, error) {
			if tg, ok := targets[name]; ok {
				return tg, nil
			}
			return nil, fmt.Errorf("target %s is not configured", name)
		}}
	res, err := td.Run(ctx, ledger.Request{Pupil: "anna"})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Removed) != 6 || len(res.Manual) != 0 {
		t.Fatalf("removed %d outputs (want 2 photos x 3 targets), by hand %+v", len(res.Removed), res.Manual)
	}
	want := []string{bram, nobody}
	sort.Strings(want)
	gone := []string{annaAndBram, anna}

	// The folder, read directly.
	for _, name := range want {
		if _, err := os.Stat(filepath.Join(folder, name)); err != nil {
			t.Errorf("newsletter folder: %s was removed: %v", name, err)
		}
	}
	for _, name := range gone {
		if _, err := os.Stat(filepath.Join(folder, name)); err == nil {
			t.Errorf("newsletter folder: %s (showing anna) is still there", name)
		}
	}
	// The WebDAV server's own folder.
	for _, name := range want {
		if _, err := os.Stat(filepath.Join(davDir, "portal", name)); err != nil {
			t.Errorf("WebDAV share: %s was removed: %v", name, err)
		}
	}
	for _, name := range gone {
		if _, err := os.Stat(filepath.Join(davDir, "portal", name)); err == nil {
			t.Errorf("WebDAV share: %s (showing anna) is still there", name)
		}
	}
	// WordPress, listed as its administrator.
	for _, name := range want {
		if items, err := titled(name); err != nil || len(items) != 1 {
			t.Errorf("WordPress: %s: %d media items, %v; want 1", name, len(items), err)
		}
	}
	for _, name := range gone {
		if items, err := titled(name); err != nil || len(items) != 0 {
			t.Errorf("WordPress: %s (showing anna): %d media items left, %v", name, len(items), err)
		}
	}
	if len(obj.got) != 2 {
		t.Errorf("objections recorded: %v; want anna's for her 2 photos", obj.got)
	}
	// Nothing of anna's is live in the ledger any more; bram's are.
	recs, _, err := ledger.Records(state, nil, j)
	if err != nil {
		t.Fatal(err)
	}
	if live := ledger.Select(recs, ledger.Query{Pupil: "anna"}); len(live) != 0 {
		t.Errorf("the ledger still lists %d outputs showing anna", len(live))
	}
	if live := ledger.Select(recs, ledger.Query{Pupil: "bram"}); len(live) != 3 {
		t.Errorf("the ledger lists %d live outputs showing bram, want 3 (one photo, 3 targets)", len(live))
	}
	// Clean up the site for the other tests.
	for _, name := range want {
		if ref, ok, _ := wpTarget.Exists(ctx, name); ok {
			_ = wpTarget.Remove(ctx, ref)
		}
	}
}
