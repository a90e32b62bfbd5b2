package pipeline

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"

	"github.com/photoguard/photoguard/pipeline/inbox"
	"github.com/photoguard/photoguard/pipeline/internal/fsync"
	"github.com/photoguard/photoguard/pipeline/journal"
)

// Process takes one regular file through the three phases: intake (read,
// claim), transform (the step list) and commit (publish, settle). It returns
// one item per destination, or no items and an error of kind KindNotReady or
// KindRetry when the file was left where it is to be tried again later
// (still being written, busy in another process, target down).
func (p *Pipeline) Process(ctx context.Context, root, path string) ([]Item, error) {
	if inbox.IsVideo(path) {
		// One entry for every caller (the inbox, retry): a video takes
		// the video path.
		return p.ProcessVideo(ctx, root, path)
	}
	j, err := p.newJob(root, path)
	if err != nil {
		return nil, err
	}
	return p.process(ctx, j, p.committer)
}

// Explain is Process without the commit: it claims, publishes, moves and
// records nothing, and returns the job with its faces, matches and, per
// destination, the decisions and any failure, with the error that ended the
// job (if one did). It is how `photoguard explain` shows exactly what a run
// would do.
func (p *Pipeline) Explain(ctx context.Context, root, path string) (*Job, error) {
	j, err := p.newJob(root, path)
	if err != nil {
		return nil, err
	}
	if inbox.IsVideo(path) && p.opt.Video != nil && publishable(path) {
		j.video = &videoJob{} // its faces are tracks (one Face per track)
		defer j.video.close()
	}
	_, err = p.process(ctx, j, noCommit{})
	return j, err
}

// process is the phase list; c commits (or not).
func (p *Pipeline) process(ctx context.Context, j *Job, c committer) ([]Item, error) {
	if items, done, err := p.intake(ctx, j, c); done {
		return items, err
	}
	return p.commit(ctx, j, c, p.transform(ctx, j))
}

// commit is the third phase: after a passing problem (err of KindNotReady or
// KindRetry) the claim is rolled back and the input stays; otherwise what
// the transform left live is published and the outcome settled.
func (p *Pipeline) commit(ctx context.Context, j *Job, c committer, err error) ([]Item, error) {
	if k := KindOf(err); err != nil && (k == KindNotReady || k == KindRetry) {
		c.release(j)
		return nil, err
	}
	if err == nil {
		c.publish(ctx, j)
	}
	return c.settle(ctx, j, err)
}

// newJob starts a job for the file at path below root, with a delivery per
// destination.
func (p *Pipeline) newJob(root, path string) (*Job, error) {
	rel, err := filepath.Rel(root, path)
	if err != nil {
		return nil, err
	}
	j := &Job{Root: root, Path: path, Rel: filepath.ToSlash(rel)}
	for _, dst := range p.opt.Destinations {
		j.Deliveries = append(j.Deliveries, &Delivery{Dest: dst})
	}
	return j, nil
}

// intake is the first phase: read the input whole, decide its category from
// its path, claim it. done is true when the job ended here (not ready,
// unreadable, a duplicate, busy elsewhere).
func (p *Pipeline) intake(ctx context.Context, j *Job, c committer) (items []Item, done bool, err error) {
	read := p.read
	if j.video != nil {
		read = p.readVideo
	}
	if err := read(j); err != nil {
		switch KindOf(err) {
		case KindNotReady, KindRetry:
			return nil, true, err
		}
		// Not even hashed (too large): no journal record, moved aside as is.
		items, err := c.settle(ctx, j, err)
		return items, true, err
	}
	p.hook("read", j)
	p.category(j)
	return c.claim(ctx, j)
}

// openInput opens the input without following a link, checks it is a
// regular file, and sets the job's size and modification time.
func openInput(j *Job) (*os.File, os.FileInfo, error) {
	f, err := os.OpenFile(j.Path, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if err != nil {
		if errors.Is(err, syscall.ELOOP) || errors.Is(err, os.ErrNotExist) {
			// Replaced by a link, or gone: the next scan sees what is there.
			return nil, nil, &Error{Kind: KindNotReady, Reason: "changed while being opened", Err: err}
		}
		return nil, nil, Retry(err, "cannot read the file")
	}
	before, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, Retry(err, "cannot read the file")
	}
	if !before.Mode().IsRegular() {
		f.Close()
		return nil, nil, &Error{Kind: KindNotReady, Reason: "not a regular file any more"}
	}
	j.Size, j.MTime = before.Size(), before.ModTime()
	return f, before, nil
}

// read reads the whole input once, hashes it, and checks that it did not
// change while it was read.
func (p *Pipeline) read(j *Job) error {
	f, before, err := openInput(j)
	if err != nil {
		return err
	}
	defer f.Close()
	if max := p.opt.Limits.MaxFileBytes; max > 0 && before.Size() > max {
		return Quarantine(nil, "file is %.1f MB, more than limits.max_file_mb (%d MB)",
			float64(before.Size())/(1<<20), max>>20)
	}
	data, err := io.ReadAll(io.LimitReader(f, before.Size()+1))
	if err != nil {
		return Retry(err, "cannot read the file")
	}
	after, err := os.Lstat(j.Path)
	if err != nil || int64(len(data)) != before.Size() || after.Size() != before.Size() || !after.ModTime().Equal(before.ModTime()) {
		return &Error{Kind: KindNotReady, Reason: "still being written"}
	}
	sum := sha256.Sum256(data)
	j.Data, j.SHA256 = data, hex.EncodeToString(sum[:])
	return nil
}

// committer is what the phases leave to the commit: the claim at intake,
// and after the transform the publication and the outcome. A real run's
// (durable) writes the journal, the targets and the inbox; a dry run's
// (dryRun) and explain's (noCommit) write nothing.
type committer interface {
	// claim records the job; done is true when the job ended there.
	claim(ctx context.Context, j *Job) (items []Item, done bool, err error)
	// release rolls the claim back: the input stays and is tried again.
	release(j *Job)
	// publish hands each live delivery to its target.
	publish(ctx context.Context, j *Job)
	// settle makes the outcome final; jobErr ended the whole job.
	settle(ctx context.Context, j *Job, jobErr error) ([]Item, error)
	// recover finishes what dead processes left half done (Recover).
	recover(ctx context.Context) (int, error)
}

// durable is the commit of a real run.
type durable struct{ p *Pipeline }

func (c durable) claim(ctx context.Context, j *Job) ([]Item, bool, error) { return c.p.claim(ctx, j) }
func (c durable) release(j *Job)                                          { c.p.releaseClaim(j) }
func (c durable) publish(ctx context.Context, j *Job)                     { c.p.publish(ctx, j) }
func (c durable) settle(ctx context.Context, j *Job, jobErr error) ([]Item, error) {
	return c.p.settleDurably(ctx, j, jobErr)
}
func (c durable) recover(ctx context.Context) (int, error) { return c.p.recoverAll(ctx) }

// dryRun is the commit of a dry run (restic's dry-run backend): it tells
// what a real run would find in the journal and decide, and writes nothing.
type dryRun struct{ p *Pipeline }

func (c dryRun) claim(ctx context.Context, j *Job) ([]Item, bool, error) {
	items, done := c.p.dryRunKnown(j)
	return items, done, nil
}
func (dryRun) release(*Job)                         {}
func (dryRun) publish(context.Context, *Job)        {}
func (dryRun) recover(context.Context) (int, error) { return 0, nil }
func (c dryRun) settle(_ context.Context, j *Job, jobErr error) ([]Item, error) {
	failAll(j, jobErr)
	return c.p.items(j, func(it *Item) {
		switch it.Outcome {
		case Published:
			it.Reason = "dry run: would be published"
		case Waiting:
			it.Reason = "dry run: would wait for approval by the direction"
		}
	}), nil
}

// noCommit is Explain's: no claim, no journal, no items; the error that
// ended the job is returned as it is.
type noCommit struct{}

func (noCommit) claim(context.Context, *Job) ([]Item, bool, error) { return nil, false, nil }
func (noCommit) release(*Job)                                      {}
func (noCommit) publish(context.Context, *Job)                     {}
func (noCommit) recover(context.Context) (int, error)              { return 0, nil }
func (noCommit) settle(_ context.Context, _ *Job, jobErr error) ([]Item, error) {
	return nil, jobErr
}

// claim records the job in the journal. done is true when the job ended
// there (a duplicate) or must wait (busy elsewhere).
func (p *Pipeline) claim(ctx context.Context, j *Job) (items []Item, done bool, err error) {
	for attempt := 0; attempt < 3; attempt++ {
		rec := &journal.Record{SHA256: j.SHA256, Input: j.Path, Rel: j.Rel, Size: j.Size, MTime: j.MTime, KeepInput: !p.opt.Wipe}
		got, res, err := p.opt.Journal.Claim(rec, p.destNames())
		if err != nil {
			return nil, true, Retry(err, "journal")
		}
		switch res {
		case journal.Fresh:
			j.Record = got
			for _, d := range j.Deliveries {
				if prev := got.Deliveries[d.Dest.Name]; prev != nil && prev.Published {
					d.Published, d.Name = true, prev.Name
				}
			}
			p.hook("claim", j)
			return nil, false, nil
		case journal.Busy:
			return nil, true, &Error{Kind: KindNotReady, Reason: "being processed by another worker or photoguard process", Err: errBusy}
		case journal.Duplicate:
			if j.Category != "" {
				// Rejected by policy without a claim: the content's record
				// stays as it is, and moving aside is safe to repeat.
				items, err := p.settle(ctx, j, categoryErr(j))
				return items, true, err
			}
			return p.final(j, Published, "duplicate: already published, not published again", p.duplicate(j, got)), true, nil
		case journal.Orphan:
			if err := p.recoverRecord(ctx, got.SHA256); err != nil {
				return nil, true, Retry(err, "recovering an interrupted run")
			}
		}
	}
	return nil, true, Retry(nil, "could not claim the photo in the journal")
}

// dryRunKnown is what a dry run says of content the journal knows, as the
// claim of a real run would find it: published already (a duplicate), or
// not to be told (a damaged record, another run working on it or
// interrupted: a real run would not publish it now either). done is false
// for content the journal does not know, or when the journal is not given,
// and for a flagged photo (the steps reject it).
func (p *Pipeline) dryRunKnown(j *Job) (items []Item, done bool) {
	if p.opt.Journal == nil || j.Category != "" {
		return nil, false
	}
	rec, err := p.opt.Journal.Get(j.SHA256)
	var why string
	switch {
	case errors.Is(err, journal.ErrNotFound):
		return nil, false
	case err != nil:
		why = "dry run: the journal record of this photo cannot be read, so whether it was published cannot be told: " + err.Error()
	case rec.State == journal.Done && rec.Outcome == string(Published) && rec.PublishedTo(p.destNames()):
		return p.duplicate(j, rec), true
	case rec.State != journal.Done:
		why = "dry run: another run is working on this photo, or one was interrupted (" + string(rec.State) + "); run again later"
	default:
		return nil, false
	}
	items = make([]Item, 0, len(j.Deliveries))
	for _, d := range j.Deliveries {
		items = append(items, Item{Input: j.Rel, SHA256: j.SHA256, Outcome: Held, Target: d.Dest.Name, Kept: true, Reason: why})
	}
	return items, true
}

// errBusy marks a photo whose content another worker or process is working
// on: it is waited for without limit (that work ends, or its process dies and
// the claim is recovered).
var errBusy = errors.New("content claimed by another worker")

// duplicate ends a re-delivered input whose content was already published:
// nothing is published again; the copy is wiped like any published input.
func (p *Pipeline) duplicate(j *Job, prev *journal.Record) []Item {
	items := make([]Item, 0, len(j.Deliveries))
	var wipeErr error
	if p.opt.Wipe {
		wipeErr = p.wipe(j)
	}
	for _, d := range j.Deliveries {
		it := Item{Input: j.Rel, SHA256: j.SHA256, Outcome: Published, Target: d.Dest.Name, Duplicate: true, Kept: !p.opt.Wipe}
		if pd := prev.Deliveries[d.Dest.Name]; pd != nil {
			it.Output = pd.Name
			it.Reason = fmt.Sprintf("duplicate: this photo was already published on %s; not published again",
				pd.At.Local().Format("2006-01-02 15:04"))
		}
		if wipeErr != nil {
			it.Kept = true
			it.Reason += "; the input could not be removed: " + wipeErr.Error()
		}
		items = append(items, it)
	}
	p.opt.Log.Info("duplicate not published again", "photo", short(j.SHA256))
	return items
}

// releaseClaim rolls a claim back: the input stays and is tried again.
func (p *Pipeline) releaseClaim(j *Job) {
	if j.Record == nil {
		return
	}
	for _, d := range j.Deliveries {
		if dd := j.Record.Deliveries[d.Dest.Name]; dd != nil && !dd.Published {
			delete(j.Record.Deliveries, d.Dest.Name)
		}
	}
	if err := p.opt.Journal.Release(j.Record); err != nil {
		p.opt.Log.Error("journal: releasing a claim failed", "photo", short(j.SHA256), "err", err)
	}
}

// publish hands each delivery to its target, recording the name before and
// the confirmation after, so that a crash in between is recovered by asking
// the target.
func (p *Pipeline) publish(ctx context.Context, j *Job) {
	live := j.live()
	if len(live) == 0 {
		return
	}
	rec := j.Record
	rec.State = journal.Publishing
	for _, d := range live {
		rec.Deliveries[d.Dest.Name] = &journal.Delivery{Name: d.Name}
	}
	if err := p.opt.Journal.Put(rec); err != nil {
		for _, d := range live {
			d.Err = Retry(err, "journal")
		}
		return
	}
	p.hook("journal-publishing", j)
	for _, d := range live {
		ref, err := p.publishTo(ctx, j, d) // the ledger and the audit log around Target.Publish
		if err != nil {
			var own *Error
			if errors.As(err, &own) {
				// Classified already (the ledger cannot be written): not
				// the target's fault, and its reason says so.
				d.Err = err
			} else if IsPermanent(err) {
				d.Err = Hold(err, "target %s refused the photo", d.Dest.Name)
			} else {
				d.Err = Retry(err, "target %s is not available", d.Dest.Name)
			}
			continue
		}
		d.Published = true
		rec.Deliveries[d.Dest.Name].Published = true
		rec.Deliveries[d.Dest.Name].Ref = ref
		rec.Deliveries[d.Dest.Name].At = p.opt.Now().UTC()
		if err := p.opt.Journal.Put(rec); err != nil {
			// The photo is out; the journal will learn it from the target
			// when the claim is recovered.
			p.opt.Log.Error("journal: recording a publication failed", "photo", short(j.SHA256), "err", err)
		}
		p.opt.Log.Info("published", "photo", short(j.SHA256), "target", d.Dest.Name, "output", d.Name)
		p.hook("publish", j)
	}
}

// failAll gives every delivery not published yet the error that ended the
// whole job.
func failAll(j *Job, jobErr error) {
	if jobErr == nil {
		return
	}
	for _, d := range j.Deliveries {
		if !d.Published {
			d.Err = jobErr
		}
	}
}

// settle ends a job with jobErr (an error that ended the whole job, or nil)
// through the pipeline's commit: code that ends a job outside Process calls
// it, and in a dry run it writes nothing either.
func (p *Pipeline) settle(ctx context.Context, j *Job, jobErr error) ([]Item, error) {
	return p.committer.settle(ctx, j, jobErr)
}

// settleDurably makes the job's outcome durable: wipe when everything was
// published, move aside with a reason when something was refused, leave in
// place when something must be retried.
func (p *Pipeline) settleDurably(ctx context.Context, j *Job, jobErr error) ([]Item, error) {
	failAll(j, jobErr)
	// A passing problem anywhere: keep the input, retry later.
	for _, d := range j.Deliveries {
		if d.Err != nil && KindOf(d.Err) == KindRetry {
			p.releaseClaim(j)
			return nil, d.Err
		}
	}
	// What waits for approval is kept before the input is settled.
	if err := p.park(j); err != nil {
		p.releaseClaim(j)
		return nil, Retry(err, "the photo could not be kept to wait for approval")
	}
	worst := p.worst(j)
	if worst == nil {
		items := p.finishPublished(j)
		if len(j.waiting()) > 0 {
			return p.final(j, Waiting, "waiting for approval by the direction", items), nil
		}
		return p.final(j, Published, "", items), nil
	}
	out := outcomeOf(KindOf(worst))
	aside, err := p.moveAside(j, out, worst)
	if err != nil {
		p.releaseClaim(j)
		return nil, Retry(err, "could not move the photo aside")
	}
	return p.final(j, out, scrub(worst), p.items(j, func(it *Item) { it.Aside = aside; it.Kept = aside == "" })), nil
}

// final is called once the job's outcome is durable (published and the
// input wiped or kept, a duplicate of published content, or moved aside with
// its reason), with the outcome and its detail for the audit log and the
// job's items: what must know of every final outcome goes here, the audit
// log's outcome event (issue 12) and the coordinator's review record
// (review.go). A dry run and explain never reach it.
func (p *Pipeline) final(j *Job, out Outcome, detail string, items []Item) []Item {
	p.auditOutcome(j, out, detail)
	p.recordReview(j, items)
	return items
}

// worst returns the error that decides where the input goes: held beats
// quarantined beats rejected.
func (p *Pipeline) worst(j *Job) error {
	var worst error
	rank := map[Kind]int{KindReject: 1, KindQuarantine: 2, KindHold: 3}
	for _, d := range j.Deliveries {
		if d.Err != nil && (worst == nil || rank[KindOf(d.Err)] > rank[KindOf(worst)]) {
			worst = d.Err
		}
	}
	return worst
}

func (p *Pipeline) finishPublished(j *Job) []Item {
	rec := j.Record
	rec.State = journal.Published
	rec.Outcome = string(Published)
	if len(j.waiting()) > 0 {
		// The outcome is durable: the original waits, kept (park).
		rec.Outcome = string(Waiting)
	}
	if err := p.opt.Journal.Put(rec); err != nil {
		p.opt.Log.Error("journal: recording the outcome failed", "photo", short(j.SHA256), "err", err)
	}
	p.hook("journal-published", j)
	var wipeErr error
	if p.opt.Wipe {
		wipeErr = p.wipe(j)
		p.hook("wipe", j)
	}
	rec.State = journal.Done
	rec.Kept = !p.opt.Wipe || wipeErr != nil
	if wipeErr != nil {
		rec.Reason = "published; the input could not be removed: " + wipeErr.Error()
		p.opt.Log.Warn("published but the input could not be removed", "photo", short(j.SHA256), "err", scrub(wipeErr))
	}
	if err := p.opt.Journal.Put(rec); err != nil {
		p.opt.Log.Error("journal: recording the outcome failed", "photo", short(j.SHA256), "err", err)
	}
	p.hook("done", j)
	return p.items(j, func(it *Item) {
		it.Kept = rec.Kept
		if wipeErr != nil {
			it.Reason = rec.Reason
		}
	})
}

// wipe removes the input, unless it changed since it was read: then it is a
// new photo that the next scan takes.
func (p *Pipeline) wipe(j *Job) error {
	st, err := os.Lstat(j.Path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if !st.Mode().IsRegular() || st.Size() != j.Size || !st.ModTime().Equal(j.MTime) {
		p.opt.Log.Info("input changed after it was read; left for the next scan", "photo", short(j.SHA256))
		return nil
	}
	if err := removeFile(j.Path); err != nil {
		return err
	}
	p.auditWipe(j.SHA256) // issue 12: audit log
	return syncDir(filepath.Dir(j.Path))
}

// removeFile wipes an input. Tests replace it to make wiping fail: as root,
// a read-only folder does not stop a removal.
var removeFile = os.Remove

func (p *Pipeline) items(j *Job, edit func(*Item)) []Item {
	items := make([]Item, 0, len(j.Deliveries))
	for _, d := range j.Deliveries {
		it := Item{Input: j.Rel, SHA256: j.SHA256, Target: d.Dest.Name, Faces: faceSummary(j, d)}
		switch {
		case d.Err != nil:
			it.Outcome = outcomeOf(KindOf(d.Err))
			it.Reason = ReasonOf(d.Err)
		case d.Waiting:
			it.Outcome = Waiting
			it.Reason = ReasonWaiting
		default:
			it.Outcome = Published
			it.Output = d.Name
		}
		if edit != nil {
			edit(&it)
		}
		items = append(items, it)
	}
	return items
}

func (p *Pipeline) destNames() []string {
	names := make([]string, len(p.opt.Destinations))
	for i, d := range p.opt.Destinations {
		names[i] = d.Name
	}
	return names
}

func (p *Pipeline) dest(name string) *Destination {
	for _, d := range p.opt.Destinations {
		if d.Name == name {
			return d
		}
	}
	return nil
}

// tag names the job's photo in logs: its short content hash, or for an
// input that was never hashed (a link, a file over the size limit) a short
// hash of its path below the inbox; never the path itself.
func (j *Job) tag() string {
	if j.SHA256 != "" {
		return short(j.SHA256)
	}
	return pathTag(j.Rel)
}

// pathTag is "path-" and 8 hex digits of the SHA-256 of a path: a file's
// name in a log line, for a file whose content is not hashed (yet).
func pathTag(rel string) string {
	sum := sha256.Sum256([]byte(rel))
	return "path-" + hex.EncodeToString(sum[:4])
}

// short is the form of a content hash that logs show: enough to find the
// journal record, nothing of the photo's name.
func short(sha string) string {
	if len(sha) < 12 {
		return "unhashed"
	}
	return sha[:12]
}

// syncDir makes a folder's entries durable.
func syncDir(dir string) error { return fsync.Dir(dir) }
