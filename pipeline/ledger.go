package pipeline

import (
	"context"
	"sort"

	"github.com/photoguard/photoguard/pipeline/audit"
	"github.com/photoguard/photoguard/pipeline/target"
)

// Ledger is the publication ledger as the pipeline uses it: every output is
// announced before it goes to its target and confirmed (or withdrawn) after,
// so that a crash in between leaves an entry a takedown can act on.
// pipeline/ledger implements it. Each call is durable when it returns nil.
type Ledger interface {
	// Publishing records that p is about to be sent to its target.
	Publishing(p Publication) error
	// Published records that the target confirmed p (with its Ref).
	Published(p Publication) error
	// Withdrawn records that the target did not take p: nothing of it is
	// there.
	Withdrawn(p Publication) error
}

// publication is what the ledger keeps of delivery d of job j.
func publication(j *Job, d *Delivery) Publication {
	pub := Publication{SHA256: j.SHA256, Target: d.Dest.Name, Channel: d.Dest.Channel, Name: d.Name, Pupils: shownIDs(d), Approved: d.Dest.Approved}
	if tn, ok := d.Dest.Target.(target.TempNamer); ok {
		pub.Temp = tn.TempName(d.Name)
	}
	return pub
}

// shownIDs are the ids of the people delivery d shows (sorted, once each).
func shownIDs(d *Delivery) []string {
	seen := map[string]bool{}
	var ids []string
	for _, dec := range d.Decisions {
		if dec.Show && dec.ID != "" && !seen[dec.ID] {
			seen[dec.ID] = true
			ids = append(ids, dec.ID)
		}
	}
	sort.Strings(ids)
	return ids
}

// publishTo sends delivery d to its target, with the ledger told before and
// after, and the publication in the audit log. Without a ledger entry
// nothing is sent: a photo the ledger does not know could not be taken down
// by pupil.
func (p *Pipeline) publishTo(ctx context.Context, j *Job, d *Delivery) (string, error) {
	pub := publication(j, d)
	if l := p.opt.Ledger; l != nil {
		if err := l.Publishing(pub); err != nil {
			return "", Retry(err, "the publication ledger cannot be written")
		}
	}
	ref, err := d.Dest.Target.Publish(ctx, d.Name, d.Output)
	if err != nil {
		if l := p.opt.Ledger; l != nil {
			if lerr := l.Withdrawn(pub); lerr != nil {
				p.opt.Log.Error("ledger: recording a failed publication", "photo", short(j.SHA256), "err", lerr)
			}
		}
		return "", err
	}
	pub.Ref = ref
	if l := p.opt.Ledger; l != nil {
		if err := l.Published(pub); err != nil {
			// The announcement is there: a takedown finds the output by
			// its name and asks the target for its reference.
			p.opt.Log.Error("ledger: recording a publication failed", "photo", short(j.SHA256), "err", err)
		}
	}
	p.audit(audit.Event{Kind: audit.Publish, SHA256: j.SHA256, Photo: short(j.SHA256), Target: pub.Target,
		Ref: ref, Channel: pub.Channel, Pupils: pub.Pupils})
	return ref, nil
}

// confirmRecovered tells the ledger that an output a dead process sent was
// found at its target by recovery (the pupils are in its announcement).
func (p *Pipeline) confirmRecovered(sha, target, name, ref string) {
	pub := Publication{SHA256: sha, Target: target, Name: name, Ref: ref}
	if dst := p.dest(target); dst != nil {
		pub.Channel = dst.Channel
	}
	if l := p.opt.Ledger; l != nil {
		if err := l.Published(pub); err != nil {
			p.opt.Log.Error("ledger: recording a recovered publication failed", "photo", short(sha), "err", err)
		}
	}
	p.audit(audit.Event{Kind: audit.Publish, SHA256: sha, Photo: short(sha), Target: target, Ref: ref,
		Channel: pub.Channel, Detail: "found at the target when an interrupted run was recovered"})
}

// audit records e in the audit log, if there is one; a failure is logged
// (the event holds no name, no path).
func (p *Pipeline) audit(e audit.Event) {
	if p.opt.Audit == nil || p.opt.DryRun {
		return
	}
	if e.Time.IsZero() {
		e.Time = p.opt.Now()
	}
	if err := p.opt.Audit.Record(e); err != nil {
		p.opt.Log.Error("audit log: recording an event failed", "event", e.Kind, "photo", e.Photo, "err", err)
	}
}

// auditOutcome records the outcome of job j (the ids shown over all its
// deliveries).
func (p *Pipeline) auditOutcome(j *Job, out Outcome, detail string) {
	seen := map[string]bool{}
	var ids []string
	for _, d := range j.Deliveries {
		if d.Err != nil {
			continue
		}
		for _, id := range shownIDs(d) {
			if !seen[id] {
				seen[id] = true
				ids = append(ids, id)
			}
		}
	}
	sort.Strings(ids)
	p.audit(audit.Event{Kind: audit.Outcome, SHA256: j.SHA256, Photo: short(j.SHA256), Outcome: string(out), Pupils: ids, Detail: detail})
}

// auditWipe records that the input of sha was deleted.
func (p *Pipeline) auditWipe(sha string) {
	p.audit(audit.Event{Kind: audit.Wipe, SHA256: sha, Photo: short(sha), Detail: "input deleted once its outcome was durable"})
}
