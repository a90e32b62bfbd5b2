package pipeline

import (
	"reflect"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/photoguard/photoguard/pipeline/audit"
)

// recordingSink keeps what the pipeline hands the review sink.
type recordingSink struct {
	mu   sync.Mutex
	got  map[string][]Item // by input
	jobs map[string]*Job
}

func (s *recordingSink) Record(j *Job, items []Item) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.got[j.Rel] = items
	s.jobs[j.Rel] = j
	return nil
}

func TestReviewSinkGetsSettledPhotos(t *testing.T) {
	sink := &recordingSink{got: map[string][]Item{}, jobs: map[string]*Job{}}
	e := newEnv(t, func(o *Options) { o.Review = sink })
	e.write("groep-5/a.jpg", photo(t, 1))
	e.write("zwemles/b.jpg", photo(t, 2))
	e.batch()
	if it := sink.got["groep-5/a.jpg"]; len(it) != 1 || it[0].Outcome != Published {
		t.Errorf("published photo: %+v", it)
	}
	if j := sink.jobs["groep-5/a.jpg"]; j == nil || j.Image == nil || !j.Deliveries[0].Published {
		t.Errorf("the sink did not get the job with its image and delivery")
	}
	if it := sink.got["zwemles/b.jpg"]; len(it) != 1 || it[0].Outcome != Rejected {
		t.Errorf("rejected photo: %+v", it)
	}
	// A re-delivered copy is a duplicate: not recorded again.
	delete(sink.got, "groep-5/a.jpg")
	e.write("groep-5/copy.jpg", photo(t, 1))
	e.batch()
	if _, ok := sink.got["groep-5/copy.jpg"]; ok {
		t.Error("a duplicate was recorded for review")
	}

	// A dry run records nothing.
	dry := &recordingSink{got: map[string][]Item{}, jobs: map[string]*Job{}}
	d := newEnv(t, func(o *Options) { o.Review = dry; o.DryRun = true })
	d.write("c.jpg", photo(t, 3))
	d.batch()
	if len(dry.got) != 0 {
		t.Errorf("a dry run recorded %d photos for review", len(dry.got))
	}
}

// final is the one seam every durable outcome passes: each photo settled
// has exactly one outcome event in the audit log and, unless it is a
// duplicate or was never hashed, one review record; a photo left to be
// retried (its target down) has neither yet.
func TestFinalRecordsEachDurableOutcomeOnce(t *testing.T) {
	sink := &recordingSink{got: map[string][]Item{}, jobs: map[string]*Job{}}
	aud := &fakeAudit{}
	fl := &flaky{err: syscall.ECONNREFUSED}
	e := newEnv(t, func(o *Options) { o.Review, o.Audit = sink, aud })
	fl.Target = e.target
	o := e.p.opt
	o.Destinations = []*Destination{{Name: "website", Channel: "website", Target: fl}}
	o.Journal = e.j
	e.build(o)
	outcomes := func(sha string) []string {
		aud.mu.Lock()
		defer aud.mu.Unlock()
		var out []string
		for _, ev := range aud.events {
			if ev.Kind == audit.Outcome && ev.SHA256 == sha {
				out = append(out, ev.Outcome+": "+ev.Detail)
			}
		}
		return out
	}
	a := photo(t, 31)
	e.write("groep-5/a.jpg", a)
	if it := one(t, e.batch(), "groep-5/a.jpg"); it.Outcome != Held || !it.Kept {
		t.Fatalf("target down: %+v", it)
	}
	if got := outcomes(sha(a)); len(got) != 0 {
		t.Errorf("a photo left to be retried has outcome events %q", got)
	}
	if _, ok := sink.got["groep-5/a.jpg"]; ok {
		t.Error("a photo left to be retried was recorded for review")
	}

	fl.mu.Lock()
	fl.err = nil
	fl.mu.Unlock()
	b := photo(t, 32)
	e.write("zwemles/b.jpg", b)
	broken := append(photo(t, 33)[:200], make([]byte, 50)...)
	e.write("c.jpg", broken)
	items := e.batch()
	if it := one(t, items, "groep-5/a.jpg"); it.Outcome != Published {
		t.Fatalf("target back: %+v", it)
	}
	if it := one(t, items, "zwemles/b.jpg"); it.Outcome != Rejected {
		t.Fatalf("flagged: %+v", it)
	}
	if it := one(t, items, "c.jpg"); it.Outcome != Quarantined {
		t.Fatalf("broken: %+v", it)
	}
	e.write("groep-5/copy.jpg", a)
	if it := one(t, e.batch(), "groep-5/copy.jpg"); !it.Duplicate {
		t.Fatalf("copy: %+v", it)
	}
	for _, c := range []struct {
		data     []byte
		input    string
		outcomes []string
		review   bool
	}{
		{a, "groep-5/a.jpg", []string{"published: ", "published: duplicate: already published, not published again"}, true},
		{b, "zwemles/b.jpg", []string{"rejected: " + ReasonOf(categoryErr(&Job{Category: "zwemles"}))}, true},
		{broken, "c.jpg", nil, true},
		{a, "groep-5/copy.jpg", nil, false},
	} {
		if c.outcomes != nil {
			if got := outcomes(sha(c.data)); !reflect.DeepEqual(got, c.outcomes) {
				t.Errorf("%s: outcome events %q, want %q", c.input, got, c.outcomes)
			}
		}
		if _, ok := sink.got[c.input]; ok != c.review {
			t.Errorf("%s: recorded for review %v, want %v", c.input, ok, c.review)
		}
	}
	if got := outcomes(sha(broken)); len(got) != 1 || !strings.HasPrefix(got[0], "quarantined: ") {
		t.Errorf("broken photo: outcome events %q, want one quarantined", got)
	}
}
