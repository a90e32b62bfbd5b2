package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/photoguard/photoguard/detect"
	"github.com/photoguard/photoguard/pipeline/journal"
	"github.com/photoguard/photoguard/pipeline/target"
	"github.com/photoguard/photoguard/redact/decode"
)

// Destination is a configured target with its name, channel and output
// settings.
type Destination struct {
	Name    string
	Channel string
	Target  target.Target
	// MaxSide and Quality shape this target's output; 0 takes
	// Options.MaxSide and Options.Quality.
	MaxSide, Quality int
	// Approval: the direction approves every photo before it goes here
	// (approval.go); Approved, set by `photoguard approve`, is that
	// approval, and the photo is published.
	Approval bool
	Approved *Approval
	// ClosedOnly: a photo with one pupil recognisable on their own is not
	// published here (approval.go: individual).
	ClosedOnly bool
}

// Options configure a Pipeline. The zero value of a field is not a default:
// cmd/photoguard fills every field from the configuration.
type Options struct {
	StateDir     string
	Destinations []*Destination
	Categories   *detect.Categories
	Limits       decode.Limits
	// MaxSide is the longest side a photo is published at (unless its
	// destination says otherwise); AnalysisMaxSide the longest side faces
	// are analysed at (the original's pixels up to it; 0: as large as the
	// limits allow).
	MaxSide         int
	AnalysisMaxSide int
	Quality         int
	// Wipe removes inputs once their outcome is durable; without it inputs
	// stay where they are (batch --keep-inputs).
	Wipe bool
	// TeacherNotes leaves a short note where a photo that was not
	// published was, for the teacher who put it there.
	TeacherNotes bool
	// DryRun decides everything and publishes, moves and records nothing:
	// the commit phase is replaced by one that commits nothing (dryRun).
	DryRun bool
	// Workers is how many photos are processed at once.
	Workers int
	// Settle is how long a file must be unchanged before it is taken;
	// GiveUp how long a file that does not decode completely is given to
	// finish before it is quarantined as broken.
	Settle, GiveUp time.Duration
	// PhotoTimeout bounds the work on one photo; past it the photo is held.
	PhotoTimeout time.Duration
	// Video, if set, publishes videos (pipeline/video.go); without it
	// every video is rejected with ReasonVideo.
	Video *VideoOptions
	// Faces configures detection, matching, policy and redaction. It is
	// required: no photo is published without its faces checked.
	Faces *FaceOptions
	// Journal records progress; nil only with DryRun. A dry run only reads
	// it (journal.ReadOnly), to tell what was published already.
	Journal *journal.Journal
	// Ledger and Audit, if set, record every publication (the publication
	// ledger) and every outcome, publication and wipe (the audit log).
	Ledger Ledger
	Audit  Auditor
	Log    *slog.Logger
	// Review, if set, keeps a record of every settled photo for the
	// coordinator's review page (review.go).
	Review ReviewSink
	// Approvals keeps the photos that wait for approval (required when a
	// destination has Approval); IndividualShare is the share of the
	// photo's shorter side from which one shown face makes it a portrait
	// (0: detect.DefaultIndividualShare).
	Approvals       Approvals
	IndividualShare float64
	// Hook, if set, is called at every step boundary (after the named step).
	// Tests use it to stop the process at a chosen point.
	Hook func(step string, j *Job)
	// Now is the clock (tests replace it).
	Now func() time.Time
}

// Pipeline runs jobs through the phases and steps. It is safe for
// concurrent use by the workers of a Scan.
type Pipeline struct {
	opt   Options
	steps []Step
	// videoSteps are the transform phase of a video.
	videoSteps []Step
	// committer makes outcomes durable: the journal, the targets and the
	// inbox (durable), or nothing at all (dryRun).
	committer committer
}

// The phases of Process, in order (pipeline/doc.go): intake reads and
// claims the input, transform runs the step list (Steps) on its pixels,
// commit publishes and settles it.
const (
	PhaseIntake    = "intake"
	PhaseTransform = "transform"
	PhaseCommit    = "commit"
)

// Phases returns the names of the phases of Process in order.
func Phases() []string { return []string{PhaseIntake, PhaseTransform, PhaseCommit} }

// New checks the options and builds the step list. It does no I/O.
func New(opt Options) (*Pipeline, error) {
	if len(opt.Destinations) == 0 {
		return nil, fmt.Errorf("pipeline: no target")
	}
	if opt.Journal == nil && !opt.DryRun {
		return nil, fmt.Errorf("pipeline: no journal")
	}
	if opt.Categories == nil {
		opt.Categories = detect.NewCategories(nil)
	}
	if opt.Workers < 1 {
		opt.Workers = 1
	}
	if opt.PhotoTimeout <= 0 {
		opt.PhotoTimeout = 5 * time.Minute
	}
	if opt.Log == nil {
		opt.Log = slog.New(slog.DiscardHandler)
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if err := opt.Faces.validate(); err != nil {
		return nil, err
	}
	if err := opt.validateApproval(); err != nil {
		return nil, err
	}
	if err := opt.Video.validate(); err != nil {
		return nil, err
	}
	p := &Pipeline{opt: opt}
	p.committer = durable{p}
	if opt.DryRun {
		// The one place a dry run differs: nothing is claimed, published,
		// moved, wiped or recorded.
		p.opt.Wipe, p.opt.TeacherNotes = false, false
		p.committer = dryRun{p}
	}
	p.steps = []Step{
		{"categorise", p.categorise},
		{"decode", p.decode},
		{"detect", p.detectFaces},
		{"decide", p.decide},
		{"individual", p.individual},
		{"prepare", p.prepare},
		{"redact", p.redactFaces},
		{"encode", p.encode},
		{"verify", p.verify},
		{"verify-faces", p.verifyFaces},
		{"approval", p.awaitApproval},
	}
	p.videoSteps = p.videoStepList()
	return p, nil
}

// With builds a pipeline from p's options as edit changes them (each
// destination is a copy: p's stay as they are). `photoguard approve` gives
// the approved destination its Approval this way.
func (p *Pipeline) With(edit func(*Options)) (*Pipeline, error) {
	o := p.opt
	o.Destinations = make([]*Destination, len(p.opt.Destinations))
	for i, d := range p.opt.Destinations {
		c := *d
		o.Destinations[i] = &c
	}
	edit(&o)
	return New(o)
}

// Options returns a copy of the options the pipeline was built with (a
// caller that builds a pipeline like another one, with one thing changed).
func (p *Pipeline) Options() Options { return p.opt }

// Steps returns the names of the steps of the transform phase in order (for
// docs and tests).
func (p *Pipeline) Steps() []string {
	names := make([]string, len(p.steps))
	for i, s := range p.steps {
		names[i] = s.Name
	}
	return names
}

func (p *Pipeline) hook(step string, j *Job) {
	if p.opt.Hook != nil {
		p.opt.Hook(step, j)
	}
}

// transform is the second phase: the step list, with the photo's deadline
// checked between steps. It stops early, without error, once every delivery
// has failed on its own.
func (p *Pipeline) transform(ctx context.Context, j *Job) error {
	limit, steps := p.opt.PhotoTimeout, p.steps
	if j.video != nil {
		limit, steps = p.opt.Video.Timeout, p.videoSteps
	}
	ctx, cancel := context.WithTimeoutCause(ctx, limit, overrun{limit})
	defer cancel()
	for _, s := range steps {
		if err := p.stopped(ctx, "before "+s.Name); err != nil {
			return err
		}
		if err := s.Run(ctx, j); err != nil {
			return err
		}
		if len(j.live()) == 0 {
			return nil // every delivery failed on its own
		}
		p.hook(s.Name, j)
	}
	return nil
}

// errOverrun is the cause of a photo's context when its PhotoTimeout passed.
var errOverrun = errors.New("the photo's time limit passed")

// overrun is the cause a job's context ends with at its time limit: it is
// errOverrun, and says which limit it was (a photo's or a video's).
type overrun struct{ limit time.Duration }

func (o overrun) Error() string        { return errOverrun.Error() }
func (o overrun) Is(target error) bool { return target == errOverrun }

// stopped returns the error for work on a photo whose context ended, nil
// while it has not. Only the photo's own time limit holds it, and the reason
// says when (what: "before decode", "while detecting faces"). Every other
// end (a graceful stop: SIGTERM, whose context's cause is the signal; a
// cancelled batch) is KindRetry: the claim is rolled back and the input
// stays where it is for the next start.
func (p *Pipeline) stopped(ctx context.Context, what string) error {
	if ctx.Err() == nil {
		return nil
	}
	if cause := context.Cause(ctx); !errors.Is(cause, errOverrun) {
		return Retry(cause, "stopped %s", what)
	}
	limit := p.opt.PhotoTimeout
	var o overrun
	if errors.As(context.Cause(ctx), &o) {
		limit = o.limit
	}
	return Hold(nil, "processing took longer than %s (%s)", limit, what)
}

// category sets the job's flagged category, from its path below the inbox
// alone: the one place it is decided. Intake calls it before the claim, so
// that a flagged copy of content published earlier is still rejected, not
// reported as a duplicate.
func (p *Pipeline) category(j *Job) {
	if cat, ok := p.opt.Categories.Match(j.Rel); ok {
		j.Category = cat
	}
}

// categorise rejects a photo in a flagged category.
func (p *Pipeline) categorise(ctx context.Context, j *Job) error {
	if j.Category != "" {
		return categoryErr(j)
	}
	return nil
}

func categoryErr(j *Job) error {
	return Reject("category %q is never published (folder or file name)", j.Category)
}

func (p *Pipeline) decode(ctx context.Context, j *Job) error {
	img, src, err := decode.Decode(ctx, j.Data, p.opt.Limits, p.opt.AnalysisMaxSide)
	if err != nil {
		if serr := p.stopped(ctx, "while decoding"); serr != nil {
			return serr
		}
		if decode.IsInputError(err) {
			if p.young(j) {
				return &Error{Kind: KindNotReady, Reason: "does not decode completely yet", Err: err}
			}
			return Quarantine(err, "")
		}
		return Hold(err, "decoding failed")
	}
	j.Original, j.Source = img, src
	j.Image = decode.Fit(img, p.largestSide())
	return nil
}

// young reports whether the input changed so recently that a failure to
// decode may only mean it is still being written.
func (p *Pipeline) young(j *Job) bool {
	return p.opt.Now().Sub(j.MTime) < p.opt.GiveUp
}
