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
// target; the ledger names, per output, exactly the ids the pipeline
// showed. Then one pupil's consent is revoked and `takedown --pupil`
// removes exactly the outputs in which they are visible and leaves the
// rest; delivered again, those photos are published with the pupil
// redacted, the others are duplicates.
func TestTakedownPupilEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the face analysis on five group photos twice")
	}
	s := newFaceSchool(t)
	cfg := s.config(t, "website", "consent")
	items := s.batchGroups(t, cfg)
	out := cfg.Targets["website"].Path

	recs, _, err := ledger.Records(cfg.StateDir, nil, journal.ReadOnly(cfg.StateDir))
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]*ledger.Record{}
	for _, r := range recs {
		byName[r.Name] = r
	}
	count := map[string]int{}
	for name, it := range items {
		if it.Outcome != pipeline.Published || it.Faces == nil {
			t.Fatalf("%s: %+v", name, it)
		}
		r := byName[it.Output]
		if r == nil || !r.Confirmed || r.Legacy || r.Channel != "website" {
			t.Fatalf("%s: ledger record %+v", name, r)
		}
		shown := append([]string{}, it.Faces.ShownIDs...)
		sort.Strings(shown)
		if got := append([]string{}, r.Pupils...); !reflect.DeepEqual(got, shown) && !(len(got) == 0 && len(shown) == 0) {
			t.Errorf("%s: ledger says %v visible, the pipeline showed %v", name, got, shown)
		}
		for _, id := range r.Pupils {
			count[id]++
		}
	}
	// The pupil visible in the fewest photos (but in one at least).
	pupil := ""
	for id, n := range count {
		if n < len(items) && (pupil == "" || n < count[pupil] || n == count[pupil] && id < pupil) {
			pupil = id
		}
	}
	if pupil == "" {
		t.Fatalf("no pupil is visible in some photos and not in others: %v", count)
	}
	var keep, gone []string
	for _, it := range items {
		if byName[it.Output].Shows(pupil) {
			gone = append(gone, it.Output)
		} else {
			keep = append(keep, it.Output)
		}
	}
	sort.Strings(keep)
	t.Logf("%s is visible in %d of %d photos", pupil, len(gone), len(items))

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
	if n := len(outputsIn(t, out)); n != len(items) {
		t.Fatalf("dry run removed something: %d outputs left\n%s", n, buf.String())
	}
	buf.Reset()
	if err := runTakedown(context.Background(), &buf, cfg, ledger.Request{Pupil: pupil}); err != nil {
		t.Fatalf("%v\n%s", err, buf.String())
	}
	t.Logf("takedown --pupil %s:\n%s", pupil, buf.String())
	if got := outputsIn(t, out); !reflect.DeepEqual(got, keep) {
		t.Fatalf("left at the target %v, want %v", got, keep)
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
	if deletes != len(gone) {
		t.Errorf("%d delete events, want %d", deletes, len(gone))
	}

	// Delivered again: the photos taken down are published anew, the
	// pupil redacted; the others are duplicates.
	again := s.batchGroups(t, cfg)
	for name, it := range again {
		if it.Outcome != pipeline.Published {
			t.Errorf("again: %s: %+v", name, it)
			continue
		}
		wasGone := byName[items[name].Output].Shows(pupil)
		if it.Duplicate == wasGone {
			t.Errorf("again: %s: duplicate=%v, taken down before=%v", name, it.Duplicate, wasGone)
		}
		if it.Faces != nil {
			for _, id := range it.Faces.ShownIDs {
				if id == pupil {
					t.Errorf("again: %s shows %s after the takedown", name, pupil)
				}
			}
		}
	}
	if n := len(outputsIn(t, out)); n != len(items) {
		t.Errorf("%d outputs after the photos came again, want %d", n, len(items))
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
