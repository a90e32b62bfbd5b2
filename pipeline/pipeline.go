package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/photoguard/photoguard/detect"
	"github.com/photoguard/photoguard/pipeline/journal"
	"github.com/photoguard/photoguard/redact"
)

// Destination is a configured target with its name and channel.
type Destination struct {
	Name    string
	Channel string
	Target  Target
}

// Options configure a Pipeline. The zero value of a field is not a default:
// cmd/photoguard fills every field from the configuration.
type Options struct {
	StateDir     string
	Destinations []*Destination
	Categories   *detect.Categories
	Limits       redact.Limits
	// MaxSide is the longest side a photo is published at; AnalysisMaxSide
	// the longest side faces are analysed at (the original's pixels up to
	// it; 0: as large as the limits allow).
	MaxSide         int
	AnalysisMaxSide int
	Quality         int
	// Wipe removes inputs once their outcome is durable; without it inputs
	// stay where they are (batch --keep-inputs).
	Wipe bool
	// TeacherNotes leaves a short note where a photo that was not
	// published was, for the teacher who put it there.
	TeacherNotes bool
	// DryRun decides everything and publishes, moves and records nothing.
	DryRun bool
	// Workers is how many photos are processed at once.
	Workers int
	// Settle is how long a file must be unchanged before it is taken;
	// GiveUp how long a file that does not decode completely is given to
	// finish before it is quarantined as broken.
	Settle, GiveUp time.Duration
	// PhotoTimeout bounds the work on one photo; past it the photo is held.
	PhotoTimeout time.Duration
	// Faces configures detection, matching, policy and redaction. It is
	// required: no photo is published without its faces checked.
	Faces *FaceOptions
	// Journal records progress; nil only with DryRun. A dry run only reads
	// it (journal.ReadOnly), to tell what was published already.
	Journal *journal.Journal
	Log     *slog.Logger
	// Review, if set, keeps a record of every settled photo for the
	// coordinator's review page (review.go).
	Review ReviewSink
	// Hook, if set, is called at every step boundary (after the named step).
	// Tests use it to stop the process at a chosen point.
	Hook func(step string, j *Job)
	// Now is the clock (tests replace it).
	Now func() time.Time
}

// Pipeline runs jobs through the steps. It is safe for concurrent use by
// the workers of a Scan.
type Pipeline struct {
	opt       Options
	steps     []Step
	detectors chan FaceDetector
}

// New checks the options and builds the step list.
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
	if err := opt.Faces.validate(opt.Workers); err != nil {
		return nil, err
	}
	p := &Pipeline{opt: opt, detectors: make(chan FaceDetector, len(opt.Faces.Detectors))}
	for _, d := range opt.Faces.Detectors {
		p.detectors <- d
	}
	p.steps = []Step{
		{"categorise", p.categorise},
		{"decode", p.decode},
		{"detect", p.detectFaces},
		{"decide", p.decide},
		{"prepare", p.prepare},
		{"redact", p.redactFaces},
		{"encode", p.encode},
		{"verify", p.verify},
		{"verify-faces", p.verifyFaces},
	}
	return p, nil
}

// Steps returns the names of the steps in order (for docs and tests).
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

// runSteps runs the step list, checking the deadline between steps.
func (p *Pipeline) runSteps(ctx context.Context, j *Job) error {
	ctx, cancel := context.WithTimeoutCause(ctx, p.opt.PhotoTimeout, errOverrun)
	defer cancel()
	for _, s := range p.steps {
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
	return Hold(nil, "processing took longer than %s (%s)", p.opt.PhotoTimeout, what)
}

func (p *Pipeline) categorise(ctx context.Context, j *Job) error {
	if cat, ok := p.opt.Categories.Match(j.Rel); ok {
		j.Category = cat
	}
	if j.Category != "" {
		return p.categoryErr(j)
	}
	return nil
}

func (p *Pipeline) categoryErr(j *Job) error {
	return Reject("category %q is never published (folder or file name)", j.Category)
}

func (p *Pipeline) decode(ctx context.Context, j *Job) error {
	img, src, err := redact.Decode(ctx, j.Data, p.opt.Limits, p.opt.AnalysisMaxSide)
	if err != nil {
		if serr := p.stopped(ctx, "while decoding"); serr != nil {
			return serr
		}
		if redact.IsInputError(err) {
			if p.young(j) {
				return &Error{Kind: KindNotReady, Reason: "does not decode completely yet", Err: err}
			}
			return Quarantine(err, "")
		}
		return Hold(err, "decoding failed")
	}
	j.Original, j.Source = img, src
	j.Image = redact.Fit(img, p.opt.MaxSide)
	return nil
}

// young reports whether the input changed so recently that a failure to
// decode may only mean it is still being written.
func (p *Pipeline) young(j *Job) bool {
	return p.opt.Now().Sub(j.MTime) < p.opt.GiveUp
}

// prepare gives each delivery its neutral output name.
func (p *Pipeline) prepare(ctx context.Context, j *Job) error {
	date := p.opt.Now()
	if j.Record != nil && !j.Record.ClaimedAt.IsZero() {
		date = j.Record.ClaimedAt.Local()
	}
	for _, d := range j.live() {
		d.Name = OutputName(date, j.SHA256)
	}
	return nil
}

// OutputName is the neutral name a photo is published under: the date and a
// short content hash, never anything of the input's name (which may hold a
// child's name).
func OutputName(date time.Time, sha string) string {
	return date.Format("20060102") + "-" + sha[:12] + ".jpg"
}

func (p *Pipeline) encode(ctx context.Context, j *Job) error {
	for _, d := range j.live() {
		out, err := redact.EncodeJPEG(d.Image, p.opt.Quality)
		if err != nil {
			d.Err = Hold(err, "encoding the output failed")
			continue
		}
		d.Output = out
	}
	return nil
}

// verify checks what will be published, not what we meant to write: the
// encoded bytes are parsed against the allow-list and decoded back.
func (p *Pipeline) verify(ctx context.Context, j *Job) error {
	for _, d := range j.live() {
		if err := redact.VerifyClean(d.Output); err != nil {
			d.Err = Hold(err, "the output failed the metadata check")
			continue
		}
		src, err := redact.Probe(d.Output)
		b := d.Image.Bounds()
		if err != nil || src.Width != b.Dx() || src.Height != b.Dy() {
			d.Err = Hold(err, "the output does not read back as the image that was encoded")
		}
	}
	return nil
}
