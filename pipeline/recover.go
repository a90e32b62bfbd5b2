package pipeline

import (
	"context"
	"errors"
	"fmt"

	"github.com/photoguard/photoguard/pipeline/journal"
)

// Recovery: a process that dies (SIGKILL, power cut) leaves journal records
// half done, owned by no live process. Recover, at every start, and claim,
// for an orphan it meets, take each to a consistent state, so that every
// input ends in exactly one outcome (DESIGN.md guarantee 6).

// Recover finishes or rolls back every record that a dead process left half
// done. Run it at start; Process also runs it for an orphan it meets.
func (p *Pipeline) Recover(ctx context.Context) (int, error) {
	return p.committer.recover(ctx)
}

// recoverAll is a real run's Recover.
func (p *Pipeline) recoverAll(ctx context.Context) (int, error) {
	recs, err := p.opt.Journal.List()
	n := 0
	for _, r := range recs {
		if r.State == journal.Done || p.opt.Journal.Alive(r.Owner) {
			continue
		}
		if rerr := p.recoverRecord(ctx, r.SHA256); rerr != nil {
			// The caller logs it: the input's path stays at debug level.
			p.opt.Log.Debug("recovering an interrupted photo failed", "photo", short(r.SHA256), "input", r.Rel, "err", rerr)
			err = errors.Join(err, fmt.Errorf("photo %s: %s", short(r.SHA256), scrub(rerr)))
			continue
		}
		n++
	}
	return n, err
}

// recoverRecord adopts one orphan and takes it to a consistent state:
//   - claimed: nothing left; roll back (the input is still in the inbox);
//   - publishing: ask each target whether the name arrived; if all did, go
//     on as published, else roll back keeping what did arrive;
//   - published: wipe the input (if it is still the same file);
//   - moving aside: finish the move.
func (p *Pipeline) recoverRecord(ctx context.Context, sha string) error {
	rec, err := p.opt.Journal.Adopt(sha)
	if err != nil {
		return err
	}
	p.opt.Log.Info("recovering an interrupted photo", "photo", short(sha), "state", string(rec.State))
	j := &Job{Path: rec.Input, Rel: rec.Rel, Size: rec.Size, MTime: rec.MTime, SHA256: sha, Record: rec}
	switch rec.State {
	case journal.Claimed:
		return p.opt.Journal.Release(rec)
	case journal.Publishing:
		all := true
		// Every target the input was meant for must have it. A target
		// whose delivery failed before publishing has no entry: not done.
		for _, name := range rec.Targets {
			if rec.Deliveries[name] == nil {
				all = false
			}
		}
		for name, d := range rec.Deliveries {
			if d.Published {
				continue
			}
			dst := p.dest(name)
			if dst == nil {
				all = false
				continue
			}
			ref, ok, err := dst.Target.Exists(ctx, d.Name)
			if err != nil {
				return fmt.Errorf("asking target %s: %w", name, err)
			}
			if ok {
				// Published before the crash: confirmed now.
				d.Published = true
				d.Ref = ref
				d.At = p.opt.Now().UTC()
				p.confirmRecovered(sha, name, d.Name, ref) // the ledger learns it too
			} else {
				all = false
			}
		}
		if !all {
			for name, d := range rec.Deliveries {
				if !d.Published {
					delete(rec.Deliveries, name)
				}
			}
			return p.opt.Journal.Release(rec)
		}
		rec.State, rec.Outcome = journal.Published, string(Published)
		if err := p.opt.Journal.Put(rec); err != nil {
			return err
		}
		fallthrough
	case journal.Published:
		var wipeErr error
		if !rec.KeepInput {
			wipeErr = p.wipe(j)
		}
		rec.State = journal.Done
		rec.Kept = rec.KeepInput || wipeErr != nil
		if wipeErr != nil {
			rec.Reason = "published; the input could not be removed: " + wipeErr.Error()
		}
		return p.opt.Journal.Put(rec)
	case journal.MovingAside:
		text := reasonText(rec.Rel, sha, Outcome(rec.Outcome), rec.Reason, p.opt.Now().Format("2006-01-02 15:04:05"))
		if err := moveWithReason(rec.Input, rec.Aside, text); err != nil {
			if !errors.Is(err, errInputGone) {
				return err
			}
			rec.Reason += " (the input was removed before it could be moved aside)"
		}
		rec.State = journal.Done
		return p.opt.Journal.Put(rec)
	}
	return nil
}
