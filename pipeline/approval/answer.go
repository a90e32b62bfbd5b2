package approval

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/photoguard/photoguard/pipeline"
	"github.com/photoguard/photoguard/pipeline/audit"
	"github.com/photoguard/photoguard/pipeline/internal/fsync"
	"github.com/photoguard/photoguard/pipeline/journal"
)

// Select picks the photos names refer to: the short hash or any
// unambiguous prefix of the content hash of at least 6 characters.
func Select(photos []*Photo, names []string) ([]*Photo, error) {
	var out []*Photo
	seen := map[string]bool{}
	for _, n := range names {
		n = strings.ToLower(strings.TrimSpace(n))
		if len(n) < 6 {
			return nil, fmt.Errorf("%s: give at least 6 characters of the hash (photoguard pending lists them)", n)
		}
		var hits []*Photo
		for _, ph := range photos {
			if strings.HasPrefix(ph.SHA256, n) {
				hits = append(hits, ph)
			}
		}
		switch len(hits) {
		case 0:
			return nil, fmt.Errorf("%s: no photo waiting for approval has this hash (photoguard pending lists them)", n)
		case 1:
		default:
			return nil, fmt.Errorf("%s names %d photos; give more of the hash", n, len(hits))
		}
		if !seen[hits[0].SHA256] {
			seen[hits[0].SHA256] = true
			out = append(out, hits[0])
		}
	}
	return out, nil
}

// Answer is what became of one photo for one target.
type Answer struct {
	SHA256, Target string
	// State is the target's state after the answer; Note what to tell the
	// person who gave it (already answered, not published and why).
	State, Note string
	// Output is the published name (State Published).
	Output string
}

// Reject answers sha for target with no: nothing is sent. A photo
// approved but not published yet may still be rejected; one published
// already, or answered otherwise, is left as it is (Note says so).
func (s *Store) Reject(sha, target, by, reason string) (Answer, error) {
	a := Answer{SHA256: sha, Target: target}
	_, err := s.update(sha, func(ph *Photo) error {
		t := ph.Targets[target]
		if t == nil {
			return fmt.Errorf("photo %s does not wait for target %s", ph.Short(), target)
		}
		a.State = t.State
		if !t.Open() {
			a.Note = answeredNote(t)
			return errUnchanged
		}
		t.State, t.By, t.AnsweredAt, t.Reason = Rejected, by, s.Now().UTC(), reason
		a.State = Rejected
		return nil
	})
	if errors.Is(err, errUnchanged) {
		return a, nil
	}
	if err != nil {
		return a, err
	}
	s.record(audit.Event{Kind: audit.Approval, SHA256: sha, Photo: sha[:12], Target: target, Outcome: Rejected, By: by, Note: reason,
		Detail: "rejected: nothing is sent"})
	s.hook("rejected", sha)
	return a, nil
}

// errUnchanged ends an update that changes nothing.
var errUnchanged = errors.New("unchanged")

func answeredNote(t *Target) string {
	when := t.AnsweredAt.Local().Format("2006-01-02 15:04")
	switch t.State {
	case Published:
		return fmt.Sprintf("already approved by %s on %s and published as %s", t.By, when, t.Output)
	case Rejected:
		return fmt.Sprintf("rejected by %s on %s; nothing was sent", t.By, when)
	case Expired:
		return fmt.Sprintf("expired on %s (%s); nothing was sent", when, t.Reason)
	case NotPublished:
		return fmt.Sprintf("approved by %s on %s, but not published: %s", t.By, when, t.Reason)
	}
	return t.State
}

// Processor is the pipeline's one code path for one file, built for the
// approved target alone (Pipeline.Process).
type Processor interface {
	Process(ctx context.Context, root, path string) ([]pipeline.Item, error)
}

// Approve answers sha for target with yes and publishes it: the answer is
// recorded first; then the original is decrypted into the staging folder
// and put through proc (a pipeline for target alone, built for approval a,
// which decides again with the consent store as it is now), and what
// became of it is recorded. Running it again finishes what a crash or a
// target that was down left: a photo published already is found in the
// journal and not published twice.
func (s *Store) Approve(ctx context.Context, sha, target string, a pipeline.Approval, proc func(pipeline.Approval) (Processor, error)) (Answer, error) {
	ans := Answer{SHA256: sha, Target: target}
	ph, err := s.update(sha, func(ph *Photo) error {
		t := ph.Targets[target]
		if t == nil {
			return fmt.Errorf("photo %s does not wait for target %s", ph.Short(), target)
		}
		ans.State = t.State
		switch t.State {
		case Waiting:
			t.State, t.By, t.AnsweredAt = Approved, a.By, a.At.UTC()
			return nil
		case Approved:
			return errUnchanged // an earlier approve did not finish: finish it
		}
		ans.Note = answeredNote(t)
		return errUnchanged
	})
	switch {
	case errors.Is(err, errUnchanged) && ans.State != Approved:
		return ans, nil
	case errors.Is(err, errUnchanged):
		t := ph.Targets[target]
		a = pipeline.Approval{By: t.By, At: t.AnsweredAt} // the approval given first
	case err != nil:
		return ans, err
	default:
		s.record(audit.Event{Kind: audit.Approval, SHA256: sha, Photo: sha[:12], Target: target, Outcome: Approved, By: a.By,
			Detail: "approved: decided again and published"})
	}
	ans.State = Approved
	s.hook("approved", sha)
	p, err := proc(a)
	if err != nil {
		return ans, err
	}
	items, perr := s.publish(ctx, sha, p)
	var it *pipeline.Item
	for i := range items {
		if items[i].Target == target {
			it = &items[i]
		}
	}
	if it == nil {
		// Left to be tried again (a target down, the photo busy in
		// another run): still approved.
		why := "not published yet"
		if perr != nil {
			why += ": " + pipeline.ReasonOf(perr)
		}
		ans.Note = why + "; run photoguard approve " + sha[:12] + " again"
		return ans, nil
	}
	_, err = s.update(sha, func(ph *Photo) error {
		t := ph.Targets[target]
		if t == nil || t.State != Approved {
			return errUnchanged
		}
		switch it.Outcome {
		case pipeline.Published:
			t.State, t.Output = Published, it.Output
		default:
			t.State, t.Reason = NotPublished, string(it.Outcome)+": "+it.Reason
		}
		ans.State, ans.Output, ans.Note = t.State, t.Output, t.Reason
		return nil
	})
	if errors.Is(err, errUnchanged) {
		err = nil
	}
	s.hook("answered", sha)
	return ans, err
}

// publish decrypts the original of sha into the staging folder and puts it
// through p; whatever the outcome, nothing of it is left in staging.
func (s *Store) publish(ctx context.Context, sha string, p Processor) ([]pipeline.Item, error) {
	rel, data, err := s.Original(sha)
	if err != nil {
		return nil, err
	}
	defer clear(data)
	root := filepath.Join(s.dir, stagingDir, sha[:12])
	rel = stagedRel(rel)
	staged := filepath.Join(root, rel)
	if err := os.MkdirAll(filepath.Dir(staged), 0o700); err != nil {
		return nil, fmt.Errorf("approval: %w", err)
	}
	if err := write(filepath.Dir(staged), filepath.Base(staged), data); err != nil {
		return nil, err
	}
	s.hook("staged", sha)
	items, perr := p.Process(ctx, root, staged)
	// Published and wiped, moved to held/, or left (a target down): the
	// sealed original stays until the answer is final.
	if err := os.Remove(staged); err != nil && !errors.Is(err, fs.ErrNotExist) {
		perr = errors.Join(perr, err)
	}
	return items, errors.Join(perr, fsync.RemoveEmptyDirs(root))
}

// stagedRel is where below the staging root the original goes: its path
// below the inbox when that is a plain relative path (category rules see
// what they saw the first time), else a neutral name.
func stagedRel(rel string) string {
	r := filepath.FromSlash(rel)
	if rel == "" || !filepath.IsLocal(r) || strings.HasPrefix(filepath.Base(r), ".") {
		return "original"
	}
	return r
}

// CleanStaging removes from the staging folder what a run that died left
// there, except the originals a live run works on (their journal record is
// not done: the run, or the recovery of its record, wipes it).
func (s *Store) CleanStaging(j *journal.Journal) error {
	unlock, err := s.lock()
	if err != nil {
		return err
	}
	defer unlock()
	entries, err := os.ReadDir(filepath.Join(s.dir, stagingDir))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	recs, _ := j.List()
	busy := map[string]bool{}
	for _, r := range recs {
		if r.State != journal.Done {
			busy[r.SHA256[:12]] = true
		}
	}
	var errs []error
	for _, e := range entries {
		if busy[e.Name()] {
			continue
		}
		errs = append(errs, os.RemoveAll(filepath.Join(s.dir, stagingDir, e.Name())))
	}
	return errors.Join(append(errs, fsync.Dir(filepath.Join(s.dir, stagingDir)))...)
}

// Expire rejects every target that has waited longer than after, with a
// reason, and returns them; the originals of photos no target is open for
// any more go (their removal is in the audit log).
func (s *Store) Expire(after time.Duration, dryRun bool) ([]Answer, error) {
	photos, err := s.List()
	now := s.Now()
	var out []Answer
	var errs []error
	if err != nil {
		errs = append(errs, err)
	}
	reason := fmt.Sprintf("not answered within %s (approval.expire)", days(after))
	for _, ph := range photos {
		if now.Sub(ph.At) < after {
			continue
		}
		for _, name := range ph.Names() {
			if ph.Targets[name].State != Waiting {
				continue
			}
			out = append(out, Answer{SHA256: ph.SHA256, Target: name, State: Expired, Note: reason})
			if dryRun {
				continue
			}
			_, err := s.update(ph.SHA256, func(p *Photo) error {
				t := p.Targets[name]
				if t == nil || t.State != Waiting {
					return errUnchanged
				}
				t.State, t.By, t.AnsweredAt, t.Reason = Expired, "photoguard", now.UTC(), reason
				return nil
			})
			if errors.Is(err, errUnchanged) {
				continue
			}
			errs = append(errs, err)
			if err == nil {
				s.record(audit.Event{Kind: audit.Approval, SHA256: ph.SHA256, Photo: ph.Short(), Target: name, Outcome: Expired,
					By: "photoguard", Detail: "expired: " + reason})
			}
		}
	}
	return out, errors.Join(errs...)
}

// Purge removes the records of photos every target answered longer than
// keep ago, and folders without a record (a park cut short) older than an
// hour; it returns their short hashes.
func (s *Store) Purge(keep time.Duration, dryRun bool) ([]string, error) {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, fmt.Errorf("approval: %w", err)
	}
	if !dryRun { // a dry run writes nothing, not even the lock
		unlock, err := s.lock()
		if err != nil {
			return nil, err
		}
		defer unlock()
	}
	now := s.Now()
	var out []string
	var errs []error
	for _, e := range entries {
		if !e.IsDir() || !validSHA(e.Name()) {
			continue
		}
		ph, err := s.read(e.Name())
		switch {
		case errors.Is(err, fs.ErrNotExist):
			st, serr := os.Lstat(filepath.Join(s.dir, e.Name()))
			if serr != nil || now.Sub(st.ModTime()) < time.Hour {
				continue
			}
		case err != nil:
			errs = append(errs, err)
			continue
		case ph.Open() || now.Sub(lastAnswer(ph)) < keep:
			continue
		}
		out = append(out, e.Name()[:12])
		if dryRun {
			continue
		}
		if err := os.RemoveAll(filepath.Join(s.dir, e.Name())); err != nil {
			errs = append(errs, err)
			continue
		}
		s.record(audit.Event{Kind: audit.Purge, SHA256: e.Name(), Photo: e.Name()[:12], Detail: "approval: the record of a photo answered " + days(keep) + " ago or more"})
	}
	return out, errors.Join(append(errs, fsync.Dir(s.dir))...)
}

func lastAnswer(ph *Photo) time.Time {
	last := ph.At
	for _, t := range ph.Targets {
		if t.AnsweredAt.After(last) {
			last = t.AnsweredAt
		}
	}
	return last
}

// days says a duration in days ("30 days"), or as it is when shorter than two.
func days(d time.Duration) string {
	if d >= 48*time.Hour {
		return fmt.Sprintf("%d days", int(d.Hours()/24))
	}
	return d.String()
}
