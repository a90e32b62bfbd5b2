package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/photoguard/photoguard/pipeline"
	"github.com/photoguard/photoguard/pipeline/audit"
	"github.com/photoguard/photoguard/pipeline/journal"
	"github.com/photoguard/photoguard/pipeline/ledger"
)

// TestTakedownPupilEndToEnd, with the real models: eight people enrolled
// from the shared identities, the five group photos published to a dir
// target on the website and one on the parent portal (the group run of
// school_test.go); the ledger names, per output, exactly the ids the
// pipeline showed. Then one pupil's website consent is revoked and
// `takedown --pupil` removes exactly the outputs in which they are visible,
// on both targets, and leaves the rest; delivered again, those photos are
// published with the pupil redacted (the takedown recorded the objection),
// the others are duplicates.
func TestTakedownPupilEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the face analysis on five group photos twice")
	}
	s, cfg, items := groupSchool(t)

	recs, _, err := ledger.Records(cfg.StateDir, nil, journal.ReadOnly(cfg.StateDir))
	if err != nil {
		t.Fatal(err)
	}
	byOutput := map[string]*ledger.Record{} // target "/" output name
	for _, r := range recs {
		byOutput[r.Target+"/"+r.Name] = r
	}
	record := func(it pipeline.Item) *ledger.Record { return byOutput[it.Target+"/"+it.Output] }
	count := map[string]int{} // website outputs each pupil is visible in
	for _, it := range items {
		if it.Outcome != pipeline.Published || it.Faces == nil {
			t.Fatalf("%s on %s: %+v", it.Input, it.Target, it)
		}
		r := record(it)
		if r == nil || !r.Confirmed || r.Legacy || r.Channel != cfg.Targets[it.Target].Channel {
			t.Fatalf("%s on %s: ledger record %+v", it.Input, it.Target, r)
		}
		shown := append([]string{}, it.Faces.ShownIDs...)
		sort.Strings(shown)
		if got := append([]string{}, r.Pupils...); !reflect.DeepEqual(got, shown) && !(len(got) == 0 && len(shown) == 0) {
			t.Errorf("%s on %s: ledger says %v visible, the pipeline showed %v", it.Input, it.Target, got, shown)
		}
		if it.Target == "website" {
			for _, id := range r.Pupils {
				count[id]++
			}
		}
	}
	photos := len(itemsOn(items, "website"))
	// The pupil visible in the fewest website photos (but in one at least).
	pupil := ""
	for id, n := range count {
		if n < photos && (pupil == "" || n < count[pupil] || n == count[pupil] && id < pupil) {
			pupil = id
		}
	}
	if pupil == "" {
		t.Fatalf("no pupil is visible in some photos and not in others: %v", count)
	}
	keep, gone := map[string][]string{}, map[string][]string{} // by target
	for _, it := range items {
		if record(it).Shows(pupil) {
			gone[it.Target] = append(gone[it.Target], it.Output)
		} else {
			keep[it.Target] = append(keep[it.Target], it.Output)
		}
	}
	for _, tg := range groupTargets {
		sort.Strings(keep[tg])
		t.Logf("%s is visible in %d of %d photos on %s", pupil, len(gone[tg]), photos, tg)
	}
	if len(gone["website"]) == 0 {
		t.Fatalf("%s is visible on no website output", pupil)
	}

	store, err := openStore(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.Revoke(pupil, "website"); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := runTakedown(context.Background(), &buf, cfg, ledger.Request{Pupil: pupil, DryRun: true}); err != nil {
		t.Fatal(err)
	}
	for _, tg := range groupTargets {
		if n := len(outputsIn(t, cfg.Targets[tg].Path)); n != photos {
			t.Fatalf("dry run removed something: %d outputs left on %s\n%s", n, tg, buf.String())
		}
	}
	buf.Reset()
	if err := runTakedown(context.Background(), &buf, cfg, ledger.Request{Pupil: pupil}); err != nil {
		t.Fatalf("%v\n%s", err, buf.String())
	}
	t.Logf("takedown --pupil %s:\n%s", pupil, buf.String())
	for _, tg := range groupTargets {
		if got := outputsIn(t, cfg.Targets[tg].Path); !reflect.DeepEqual(got, keep[tg]) && !(len(got) == 0 && len(keep[tg]) == 0) {
			t.Fatalf("left on %s %v, want %v", tg, got, keep[tg])
		}
	}
	evs, err := audit.Read(cfg.StateDir)
	if err != nil {
		t.Fatal(err)
	}
	deletes := 0
	for _, e := range evs {
		if e.Kind == audit.Delete {
			deletes++
		}
		if strings.Contains(e.Detail, "bbt") || strings.Contains(e.Detail, "Demo") {
			t.Errorf("audit event names a file or a person: %+v", e)
		}
	}
	if want := len(gone["website"]) + len(gone["portal"]); deletes != want {
		t.Errorf("%d delete events, want %d", deletes, want)
	}

	// Delivered again: the photos taken down are published anew, the
	// pupil redacted; the others are duplicates.
	in := filepath.Join(s.dir, "again")
	for _, it := range itemsOn(items, "website") {
		if err := copyFile(filepath.Join(s.testdata, "faces", "groups", it.Input), filepath.Join(in, it.Input)); err != nil {
			t.Fatal(err)
		}
	}
	var again []pipeline.Item
	for _, its := range serviceRun(t, cfg, in) {
		again = append(again, its...)
	}
	before := map[string]pipeline.Item{}
	for _, it := range items {
		before[it.Target+"/"+it.Input] = it
	}
	if len(again) != len(items) {
		t.Errorf("again: %d items, want %d", len(again), len(items))
	}
	for _, it := range again {
		if it.Outcome != pipeline.Published {
			t.Errorf("again: %s on %s: %+v", it.Input, it.Target, it)
			continue
		}
		wasGone := record(before[it.Target+"/"+it.Input]).Shows(pupil)
		if it.Duplicate == wasGone {
			t.Errorf("again: %s on %s: duplicate=%v, taken down before=%v", it.Input, it.Target, it.Duplicate, wasGone)
		}
		if it.Faces != nil {
			for _, id := range it.Faces.ShownIDs {
				if id == pupil {
					t.Errorf("again: %s on %s shows %s after the takedown", it.Input, it.Target, pupil)
				}
			}
		}
	}
	for _, tg := range groupTargets {
		if n := len(outputsIn(t, cfg.Targets[tg].Path)); n != photos {
			t.Errorf("%d outputs on %s after the photos came again, want %d", n, tg, photos)
		}
	}
}

// outputsIn lists the published files in a dir target, sorted.
func outputsIn(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		if filepath.Ext(e.Name()) == ".jpg" && !strings.HasPrefix(e.Name(), ".") {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	return names
}
