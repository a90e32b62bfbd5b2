package pipeline

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/photoguard/photoguard/pipeline/inbox"
)

// Intake is the pipeline as the inbox's Processor: it takes each entry the
// inbox hands it through the current pipeline and gives every finished item
// to the onItem it was made with, one call at a time. The daemon and batch
// runs both go through it (inbox.Daemon, inbox.Batch).
type Intake struct {
	pipe   atomic.Pointer[Pipeline]
	mu     sync.Mutex
	onItem func(Item)
}

// NewIntake returns the intake of p; onItem may be nil.
func NewIntake(p *Pipeline, onItem func(Item)) *Intake {
	in := &Intake{onItem: onItem}
	in.pipe.Store(p)
	return in
}

// SetPipeline replaces the pipeline (a reloaded configuration); the next
// entry taken is processed with it.
func (in *Intake) SetPipeline(p *Pipeline) { in.pipe.Store(p) }

func (in *Intake) p() *Pipeline { return in.pipe.Load() }

// Process implements inbox.Processor: a photo goes through Process, a video
// through ProcessVideo, anything else (a link, a folder named like a photo)
// through ProcessSpecial.
func (in *Intake) Process(ctx context.Context, e inbox.Entry) (inbox.Status, error) {
	p := in.p()
	var items []Item
	var err error
	switch e.Kind {
	case inbox.Special:
		items, err = p.ProcessSpecial(ctx, e.Root, e.Path, e.Why)
	case inbox.Video:
		items, err = p.processVideo(ctx, e.Root, e.Path, e.LivePhoto)
	default:
		items, err = p.Process(ctx, e.Root, e.Path)
	}
	if err != nil {
		switch {
		case errors.Is(err, errBusy):
			return inbox.Busy, err
		case KindOf(err) == KindNotReady:
			return inbox.NotReady, err
		}
		return inbox.Retry, err
	}
	in.emit(items)
	for _, it := range items {
		if it.Kept {
			return inbox.Kept, nil
		}
	}
	return inbox.Done, nil
}

// GiveUp implements inbox.Processor: a batch's photo that could not be
// finished is reported held, for every target, and left where it is.
func (in *Intake) GiveUp(e inbox.Entry, why error) {
	var items []Item
	for _, d := range in.p().opt.Destinations {
		items = append(items, Item{Input: e.Rel, Outcome: Held, Target: d.Name, Kept: true,
			Reason: ReasonOf(why) + "; left in the folder, run again later"})
	}
	in.emit(items)
}

// Warn implements inbox.Processor. Above debug level the entry is named by
// a hash of its path below the inbox (pathTag) and the error without paths
// (scrub): a path may hold a child's name.
func (in *Intake) Warn(e inbox.Entry, msg string, err error) {
	log := in.p().opt.Log
	tag := pathTag(e.Rel)
	log.Warn(msg, "file", tag, "err", scrub(err))
	log.Debug(msg, "file", tag, "input", e.Path, "err", err)
}

func (in *Intake) emit(items []Item) {
	if in.onItem == nil {
		return
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	for _, it := range items {
		in.onItem(it)
	}
}

// ProcessSpecial quarantines an entry that is not a regular file without
// reading it.
func (p *Pipeline) ProcessSpecial(ctx context.Context, root, path, why string) ([]Item, error) {
	j, err := p.newJob(root, path)
	if err != nil {
		return nil, err
	}
	return p.settle(ctx, j, Quarantine(nil, "not a photo: %s", why))
}

// ReasonVideo is the reason a video ends with when it is not published
// (video.enabled: false, a Live Photo's moving part, another kind of video).
const ReasonVideo = "videos are not published"

// VideoCategory is the category such a video is rejected in (what the teacher's
// note names).
const VideoCategory = "video"

// BatchBase is the folder a batch over dir (or over files in dir) names its
// photos from: dir itself, or the folder above the outermost folder on dir's
// path that is in a flagged category, so that a batch run over
// "…/zwemles/" or on one file in it still sees the category in every
// photo's path and rejects it.
func (p *Pipeline) BatchBase(dir string) string {
	dir = filepath.Clean(dir)
	var parts []string
	for d := dir; ; d = filepath.Dir(d) {
		if filepath.Dir(d) == d {
			parts = append(parts, d) // the file system root
			break
		}
		parts = append(parts, filepath.Base(d))
	}
	base := parts[len(parts)-1]
	for i := len(parts) - 2; i >= 0; i-- {
		// "-" is a file name without words: only the folder is matched.
		if _, ok := p.opt.Categories.Match(parts[i] + "/-"); ok {
			return base
		}
		base = filepath.Join(base, parts[i])
	}
	return dir
}

// InboxOptions are the inbox's timing this pipeline was built with: its
// settle and give-up (Options.Settle, GiveUp), and rescan, for the loops
// that feed it (inbox.Batch, inbox.Daemon).
func (p *Pipeline) InboxOptions(rescan time.Duration) inbox.Options {
	return inbox.Options{Settle: p.opt.Settle, GiveUp: p.opt.GiveUp, Rescan: rescan}
}

// Ignored reports whether a file name is one photoguard never touches
// (inbox.Ignored, the one set of skip rules).
func Ignored(name string) bool { return inbox.Ignored(name) }
