package ledger

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/photoguard/photoguard/pipeline"
	"github.com/photoguard/photoguard/pipeline/target"
	"github.com/photoguard/photoguard/pipeline/target/webdav"
	"github.com/photoguard/photoguard/pipeline/target/webdav/webdavtest"
)

// Issue 19: a slow WebDAV share lands an upload after photoguard withdrew
// it (a complete output, two pupils visible). The ledger keeps its
// temporary name as a leftover: a takedown by pupil removes it although no
// publication of it is live, and the sweep removes what lands later and,
// once no late upload can follow, records it gone.
func TestLeftoversOfASlowShare(t *testing.T) {
	share, state := t.TempDir(), t.TempDir()
	srv := webdavtest.New(t, share)
	tg, err := webdav.New(webdav.Options{URL: srv.URL, Path: "site", User: webdavtest.User, Password: webdavtest.Password,
		Timeout: 5 * time.Second, AnswerTimeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	led, err := Open(state, testSealKey)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	led.SetClock(func() time.Time { return now })
	ctx := context.Background()
	publish := func(sha string, pupils ...string) (pipeline.Publication, error) {
		name := pipeline.OutputName(now, sha)
		pub := pipeline.Publication{SHA256: sha, Target: "share", Channel: "website", Name: name, Pupils: pupils, Temp: tg.TempName(name)}
		if err := led.Publishing(pub); err != nil {
			t.Fatal(err)
		}
		ref, err := tg.Publish(ctx, name, []byte("output of "+sha))
		if err != nil {
			if err := led.Withdrawn(pub); err != nil {
				t.Fatal(err)
			}
			return pub, err
		}
		pub.Ref = ref
		if err := led.Published(pub); err != nil {
			t.Fatal(err)
		}
		return pub, nil
	}
	if _, err := publish(hash("f1", 1), "anna"); err != nil {
		t.Fatal(err)
	}
	srv.DelayUploads(400 * time.Millisecond)
	slow, err := publish(hash("f2", 2), "anna", "bram")
	if err == nil {
		t.Fatal("the slow upload succeeded")
	}
	srv.WaitLate()
	srv.DelayUploads(0)
	late := filepath.Join(share, "site", slow.Temp)
	if _, err := os.Stat(late); err != nil {
		t.Fatalf("the late upload did not land: %v", err)
	}
	rd, _ := Read(state, testSealKey)
	lefts := Leftovers(rd.Entries)
	if len(lefts) != 1 || lefts[0].Temp != slow.Temp || !lefts[0].Doubt || !lefts[0].Shows("bram") {
		t.Fatalf("leftovers %+v", lefts)
	}

	// A takedown of bram: no live publication shows him, the leftover does.
	td := &Takedowner{Ledger: led, StateDir: state, Key: testSealKey, Objections: &fakeObjector{known: map[string]bool{"bram": true}},
		Target: func(string) (target.Target, error) { return tg, nil }, Now: func() time.Time { return now }}
	res, err := td.Run(ctx, Request{Pupil: "bram"})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Leftovers) != 1 || res.Swept == nil || len(res.Swept.Removed) != 1 || len(res.Swept.Confirmed) != 0 {
		t.Fatalf("takedown of bram: %+v, swept %+v", res, res.Swept)
	}
	if _, err := os.Stat(late); !os.IsNotExist(err) {
		t.Fatalf("the late upload is still on the share: %v", err)
	}

	// It lands again (a second late attempt); the sweep a few minutes later
	// removes it, and keeps it recorded: a later one may still come.
	if err := os.WriteFile(late, []byte("late again"), 0o644); err != nil {
		t.Fatal(err)
	}
	sw := &Sweeper{Ledger: led, StateDir: state, Key: testSealKey, Target: td.Target, Now: func() time.Time { return now.Add(5 * time.Minute) }}
	got, err := sw.Sweep(ctx, nil)
	if err != nil || len(got.Removed) != 1 || len(got.Confirmed) != 0 {
		t.Fatalf("sweep: %+v, %v", got, err)
	}
	if _, err := os.Stat(late); !os.IsNotExist(err) {
		t.Fatal("the sweep left the late upload")
	}
	// An hour after the attempt, a sweep confirms it gone for good.
	sw.Now = func() time.Time { return now.Add(2 * time.Hour) }
	if got, err = sw.Sweep(ctx, nil); err != nil || len(got.Confirmed) != 1 {
		t.Fatalf("sweep after an hour: %+v, %v", got, err)
	}
	rd, _ = Read(state, testSealKey)
	if l := Leftovers(rd.Entries); len(l) != 0 || rd.Skipped() != 0 {
		t.Errorf("leftovers after the confirmation: %+v", l)
	}
}

// An upload in progress (announced, not ended, recent) is not swept; one a
// crash cut short (announced long ago) is; a publication that succeeded at
// its first attempt leaves nothing.
func TestLeftoverStates(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	e := func(kind, sha string, min int) Entry {
		return Entry{Kind: kind, SHA256: sha, Target: "share", Name: sha + ".jpg", Temp: ".photoguard-" + sha + ".jpg.tmp", Time: t0.Add(time.Duration(min) * time.Minute)}
	}
	entries := []Entry{
		e(Announced, "ok", 0), e(Confirmed, "ok", 1), // fine at once
		e(Announced, "crash", 0),                                                                                 // no end: a crash, or in progress
		e(Announced, "retry", 0), e(Withdrawn, "retry", 2), e(Announced, "retry", 10), e(Confirmed, "retry", 11), // a late upload of attempt 1 may land
		e(Announced, "gone", 0), e(Withdrawn, "gone", 1), e(TempGone, "gone", 70),
	}
	lefts := Leftovers(entries)
	got := map[string]*Leftover{}
	for _, l := range lefts {
		got[l.SHA256] = l
	}
	if len(lefts) != 2 || got["crash"] == nil || got["retry"] == nil || !got["retry"].Doubt {
		t.Fatalf("leftovers %+v", lefts)
	}
	if got["crash"].due(t0.Add(5*time.Minute), DefaultInflight) || !got["crash"].due(t0.Add(time.Hour), DefaultInflight) {
		t.Error("an upload in progress is swept, or a crash's is not")
	}
	if !got["retry"].due(t0.Add(12*time.Minute), DefaultInflight) || got["retry"].settled(t0.Add(12*time.Minute), DefaultSettle) {
		t.Error("the leftover of a withdrawn attempt")
	}
}
