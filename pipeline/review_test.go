package pipeline

import (
	"sync"
	"testing"
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
