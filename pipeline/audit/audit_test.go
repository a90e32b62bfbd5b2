package audit

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestRecordAndRead(t *testing.T) {
	dir := t.TempDir()
	l, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Record(Event{Kind: Takedown, Photo: "c1656a168077", Pupils: []string{"100204"}, Target: "website"}); err != nil {
		t.Fatal(err)
	}
	if err := l.Record(Event{}); err == nil {
		t.Fatal("an event without a kind was recorded")
	}
	evs, err := Read(dir)
	if err != nil || len(evs) != 1 {
		t.Fatalf("Read = %v, %v", evs, err)
	}
	if evs[0].Kind != Takedown || evs[0].Pupils[0] != "100204" || evs[0].Time.IsZero() {
		t.Errorf("event = %+v", evs[0])
	}
	fi, err := os.Stat(filepath.Join(dir, FileName))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("log mode = %v, %v", fi.Mode(), err)
	}
}

func TestNilLogRecordsNothing(t *testing.T) {
	var l *Log
	if err := l.Record(Event{Kind: Outcome}); err != nil {
		t.Fatal(err)
	}
}

func TestRotationKeepsOrderAndCount(t *testing.T) {
	dir := t.TempDir()
	i := 0
	l, _ := Open(dir, Options{MaxBytes: 300, Keep: 3, Now: func() time.Time { i++; return time.Unix(int64(i), 0) }})
	for n := 0; n < 40; n++ {
		if err := l.Record(Event{Kind: Outcome, Count: n}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, FileName+".4")); err == nil {
		t.Error("more rotated files than Keep")
	}
	evs, err := Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) == 0 || len(evs) == 40 {
		t.Fatalf("%d events after rotation with Keep 3", len(evs))
	}
	for k := 1; k < len(evs); k++ {
		if evs[k].Count != evs[k-1].Count+1 {
			t.Fatalf("events out of order at %d: %d after %d", k, evs[k].Count, evs[k-1].Count)
		}
	}
	if evs[len(evs)-1].Count != 39 {
		t.Errorf("last event %d, want 39", evs[len(evs)-1].Count)
	}
}

func TestConcurrentWritersLoseNothing(t *testing.T) {
	dir := t.TempDir()
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		l, _ := Open(dir, Options{}) // separate Logs: as separate processes
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; n < 50; n++ {
				if err := l.Record(Event{Kind: Publish, Target: "website"}); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	evs, err := Read(dir)
	if err != nil || len(evs) != 200 {
		t.Fatalf("%d events, %v", len(evs), err)
	}
}

func TestCutShortLastLineIgnored(t *testing.T) {
	dir := t.TempDir()
	l, _ := Open(dir, Options{})
	_ = l.Record(Event{Kind: Wipe})
	f, _ := os.OpenFile(filepath.Join(dir, FileName), os.O_WRONLY|os.O_APPEND, 0)
	_, _ = f.WriteString(`{"time":"2026-`)
	f.Close()
	evs, err := Read(dir)
	if err != nil || len(evs) != 1 {
		t.Fatalf("Read = %d events, %v", len(evs), err)
	}
}

func TestNeverThroughALink(t *testing.T) {
	dir := t.TempDir()
	victim := filepath.Join(t.TempDir(), "victim")
	_ = os.WriteFile(victim, []byte("keep"), 0o600)
	if err := os.Symlink(victim, filepath.Join(dir, FileName)); err != nil {
		t.Fatal(err)
	}
	l, _ := Open(dir, Options{})
	if err := l.Record(Event{Kind: Wipe}); err == nil {
		t.Error("recorded through a link")
	}
	b, _ := os.ReadFile(victim)
	if !strings.EqualFold(string(b), "keep") {
		t.Errorf("victim = %q", b)
	}
}
