package pipeline

import (
	"context"
	"fmt"
	"image"
	"sort"
	"strings"
	"time"

	"github.com/photoguard/photoguard/detect"
)

// Two rules of the schools' protocols for external channels (issue 20):
//
//   - Approval: a photo for a target with Destination.Approval is taken
//     through every step (decided, redacted, verified) and then waits: the
//     approval step marks its delivery Waiting instead of publishing it,
//     and the commit keeps the original, sealed, with Options.Approvals
//     before the input is settled. `photoguard approve` later puts the
//     original through Process again, for that target alone, with a
//     destination whose Approved says who approved it and when.
//   - Individual: a target with Destination.ClosedOnly does not publish a
//     photo in which one pupil is recognisable on their own (detect.Individual
//     over the faces its channel shows); the photo is rejected for that
//     target with ReasonIndividual and still goes to the others.

// ReasonIndividual is the reason a photo with one pupil recognisable on their
// own is not published to a target with Destination.ClosedOnly.
const ReasonIndividual = "one pupil is recognisable on their own: only for the parent portal"

// ReasonWaiting is the reason of a delivery that waits for approval.
const ReasonWaiting = "waiting for approval by the direction (photoguard pending; photoguard approve or reject)"

// Approvals keeps the photos that wait for approval. pipeline/approval
// implements it (in the state folder, the originals sealed with the consent
// store's key).
type Approvals interface {
	// Park keeps what waits: the original and, per target, what the output
	// shows. It is durable when it returns nil, and safe to repeat (the
	// same photo parked again replaces its waiting targets' entries).
	Park(w Parked) error
}

// Parked is one photo that waits for approval for one or more targets.
type Parked struct {
	SHA256 string
	// Rel is the input's path below the inbox (category rules read it
	// again on approval; it may hold a child's name, so it is kept sealed
	// with the original). Data is the original's bytes.
	Rel  string
	Data []byte
	// At is when it started to wait.
	At      time.Time
	Targets []ParkedTarget
}

// ParkedTarget is what the output for one waiting target shows.
type ParkedTarget struct {
	Name, Channel string
	// Output is the name it will be published under.
	Output string
	// Faces found, shown and redacted; Pupils the ids shown.
	Faces, Shown, Redacted int
	Pupils                 []string
}

// individual rejects, for each destination with ClosedOnly, a photo in
// which one pupil is recognisable on their own.
func (p *Pipeline) individual(ctx context.Context, j *Job) error {
	for _, d := range j.live() {
		if !d.Dest.ClosedOnly {
			continue
		}
		var shown []image.Rectangle
		for i, dec := range d.Decisions {
			if dec.Show {
				shown = append(shown, j.Faces[i].Rect)
			}
		}
		if detect.Individual(shown, j.Image.Rect, p.opt.IndividualShare) {
			d.Err = Reject("%s", ReasonIndividual)
		}
	}
	return nil
}

// awaitApproval is the last step: a delivery to a destination that needs
// approval, checked and ready, waits instead of being published.
func (p *Pipeline) awaitApproval(ctx context.Context, j *Job) error {
	for _, d := range j.live() {
		if d.Dest.Approval {
			d.Waiting = true
		}
	}
	return nil
}

// waiting lists the deliveries that wait for approval.
func (j *Job) waiting() []*Delivery {
	var ds []*Delivery
	for _, d := range j.Deliveries {
		if d.Waiting && d.Err == nil && !d.Published {
			ds = append(ds, d)
		}
	}
	return ds
}

// park keeps the original of a job with deliveries that wait for approval
// (nothing to do without). It runs before the input is settled, so that
// once the input is wiped the original is kept.
func (p *Pipeline) park(j *Job) error {
	ws := j.waiting()
	if len(ws) == 0 {
		return nil
	}
	if p.opt.Approvals == nil {
		return fmt.Errorf("no approval store") // New refuses this; never expected
	}
	w := Parked{SHA256: j.SHA256, Rel: j.Rel, Data: j.Data, At: p.opt.Now().UTC()}
	for _, d := range ws {
		t := ParkedTarget{Name: d.Dest.Name, Channel: d.Dest.Channel, Output: d.Name, Faces: len(j.Faces), Pupils: shownIDs(d)}
		for _, dec := range d.Decisions {
			if dec.Show {
				t.Shown++
			} else {
				t.Redacted++
			}
		}
		w.Targets = append(w.Targets, t)
	}
	if err := p.opt.Approvals.Park(w); err != nil {
		return err
	}
	var names []string
	for _, t := range w.Targets {
		names = append(names, t.Name)
	}
	sort.Strings(names)
	p.opt.Log.Info("waiting for approval", "photo", short(j.SHA256), "targets", strings.Join(names, ","))
	p.hook("parked", j)
	return nil
}

// validateApproval refuses destinations that need approval without a place
// to keep what waits (a dry run keeps nothing, and needs none).
func (o *Options) validateApproval() error {
	if o.IndividualShare <= 0 {
		o.IndividualShare = detect.DefaultIndividualShare
	}
	if o.DryRun || o.Approvals != nil {
		return nil
	}
	for _, d := range o.Destinations {
		if d.Approval {
			return fmt.Errorf("pipeline: target %s needs approval, but no approval store is given", d.Name)
		}
	}
	return nil
}
