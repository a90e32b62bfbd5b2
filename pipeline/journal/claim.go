package journal

import (
	"errors"
	"time"
)

// ClaimResult says what Claim found.
type ClaimResult int

const (
	// Fresh: the content is now claimed by this process.
	Fresh ClaimResult = iota
	// Duplicate: this content was already published to every target asked
	// for; the earlier record is returned.
	Duplicate
	// Busy: a live process is working on this content right now.
	Busy
	// Orphan: a dead process left this content half done; recover it first.
	Orphan
)

// Claim takes the content of r for this process, for the given targets.
// Deliveries that an earlier run already published (to other targets) are
// kept, so that nothing is published twice.
func (j *Journal) Claim(r *Record, targets []string) (*Record, ClaimResult, error) {
	unlock, err := j.Lock()
	if err != nil {
		return nil, 0, err
	}
	defer unlock()
	prev, err := j.Get(r.SHA256)
	switch {
	case errors.Is(err, ErrNotFound):
		prev = nil
	case err != nil:
		return nil, 0, err
	}
	if prev != nil && prev.State != Done {
		if j.Alive(prev.Owner) {
			return prev, Busy, nil
		}
		return prev, Orphan, nil
	}
	if prev != nil && prev.Outcome == "published" && prev.PublishedTo(targets) {
		return prev, Duplicate, nil
	}
	now := time.Now().UTC()
	r.State = Claimed
	r.Owner = j.owner
	r.ClaimedAt = now
	r.Outcome, r.Reason, r.Aside, r.Kept = "", "", "", false
	r.Deliveries = map[string]*Delivery{}
	r.Targets = append([]string(nil), targets...)
	if prev != nil {
		for name, d := range prev.Deliveries {
			if d.Published {
				r.Deliveries[name] = d
			}
		}
	}
	if err := j.Put(r); err != nil {
		return nil, 0, err
	}
	return r, Fresh, nil
}

// PublishedTo reports whether every one of targets confirmed the content.
func (r *Record) PublishedTo(targets []string) bool {
	for _, t := range targets {
		d := r.Deliveries[t]
		if d == nil || !d.Published {
			return false
		}
	}
	return true
}

// Adopt makes this process the owner of an orphan, so that it can finish or
// roll it back. It fails if someone else adopted it first.
func (j *Journal) Adopt(sha string) (*Record, error) {
	unlock, err := j.Lock()
	if err != nil {
		return nil, err
	}
	defer unlock()
	r, err := j.Get(sha)
	if err != nil {
		return nil, err
	}
	if r.State == Done || j.Alive(r.Owner) {
		return nil, errors.New("journal: record is not an orphan")
	}
	r.Owner = j.owner
	if err := j.Put(r); err != nil {
		return nil, err
	}
	return r, nil
}

// Release rolls back a claim that published nothing: the input stays where it
// is and will be claimed again. Published deliveries are kept as a done
// record so that they are not published twice.
func (j *Journal) Release(r *Record) error {
	for _, d := range r.Deliveries {
		if d.Published {
			r.State = Done
			r.Outcome = "partial"
			return j.Put(r)
		}
	}
	return j.Delete(r.SHA256)
}
