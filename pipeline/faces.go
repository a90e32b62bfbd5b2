package pipeline

import (
	"context"
	"fmt"
	"image"
	"math"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/photoguard/photoguard/detect"
	"github.com/photoguard/photoguard/redact/decode"
	"github.com/photoguard/photoguard/redact/mask"
)

// FaceAnalyzer analyses photos for faces. It is safe for concurrent use: the
// workers share one, and it bounds how many analyses run at once itself
// (detect/dlib lends one recogniser per call from its pool). detect/analyze
// implements it (with detect/dlib and detect/yunet).
type FaceAnalyzer interface {
	// Analyze finds every face in the upright original img for a
	// publication whose long side is publishSide, in img's coordinates,
	// and says which coverage floor it kept and at which side the photo
	// may be published for that floor to hold.
	Analyze(ctx context.Context, img *image.NRGBA, publishSide int) (*detect.Analysis, error)
	// Describe returns, for each box of img, the face aligned there with
	// its descriptor, or NoDescriptor when none can be.
	Describe(ctx context.Context, img *image.NRGBA, boxes []image.Rectangle) ([]detect.Face, error)
}

// Consent is one consistent view of the consent store, taken per photo:
// *consent.Snapshot (pipeline/consent) implements it.
type Consent interface {
	// People are the enrolled people with their descriptors.
	People() []detect.Person
	// Consent says whether id may be shown on channel at now, with the
	// reason when not.
	Consent(id, channel string, now time.Time) (ok bool, why string)
	// Objections are the ids that objected to the photo with this content.
	Objections(photoSHA256 string) []string
	// Models counts the enrolled references per face model id (the id of
	// the model files that computed them; "" when unknown).
	Models() map[string]int
	// Err is set when the store could not be read.
	Err() error
}

// FaceOptions configure the face steps.
type FaceOptions struct {
	// Analyzer serves every worker.
	Analyzer FaceAnalyzer
	// Model is the id of the face model files the recogniser computes
	// descriptors with (detect/dlib's ModelID). While the store holds
	// references made with other model files, every photo is held
	// (StaleModels).
	Model string
	// Consent returns the current view of the consent store.
	Consent func() Consent
	Match   detect.MatchConfig
	Policy  detect.Policy
	Redact  mask.Options
	// ReferenceAge is how old an enrolled reference may be and still show
	// someone (children's faces change); 0 is DefaultReferenceAge, < 0 no
	// limit. An older reference still counts for the margin (detect.Age).
	ReferenceAge time.Duration
	// GroupMargin is the margin for a photo in a group folder when at
	// least GroupMinOutside pupils are enrolled outside that group (0:
	// DefaultGroupMargin; < 0: the margin of Match everywhere). It never
	// loosens a stricter Match.Margin.
	GroupMargin float64
}

// DefaultReferenceAge is about two school years.
const DefaultReferenceAge = 2 * 365 * 24 * time.Hour

// The class as context (detect/MEASUREMENTS-children.md §7-§8): a photo in a
// group folder shows only that group's pupils, and the margin is measured
// against every enrolled pupil, so a child who is not enrolled must be
// clearly nearer one classmate than any of the school's other pupils. With
// at least 200 pupils enrolled outside the class, a class of 25 drawn from
// 966 children was shown in error 0.03% of the time at margin 0.16 (under
// 8s 0.00%, 8-12s 0.19%), against 0.34% with only the class enrolled; the
// adults' group photos, as groep 8 of a school of 200 children, keep 15 of
// 17 consented faces at 0.16 (mean of the references) and 5 at 0.30.
const (
	DefaultGroupMargin = 0.16
	GroupMinOutside    = 200
)

func (f *FaceOptions) groupMargin() float64 {
	if f.GroupMargin == 0 {
		return DefaultGroupMargin
	}
	return f.GroupMargin
}

// EnrolledOutside counts the pupils with references whose group is another
// than group (staff and pupils without a group do not count).
func EnrolledOutside(people []detect.Person, group string) int {
	n := 0
	for _, p := range people {
		if p.Group != "" && !detect.SameGroup(p.Group, group) && len(p.Descriptors)+len(p.Stale) > 0 {
			n++
		}
	}
	return n
}

func (f *FaceOptions) referenceAge() time.Duration {
	if f.ReferenceAge == 0 {
		return DefaultReferenceAge
	}
	return f.ReferenceAge
}

// matchContext is what the faces of j are matched against: the enrolled
// people with their old references faded out, and the rules with the
// photo's group (its inbox folder, when the consent store knows it as a group).
func (f *FaceOptions) matchContext(j *Job, reg Consent, now time.Time) ([]detect.Person, detect.MatchConfig) {
	people := detect.Age(reg.People(), now, f.referenceAge())
	mc := f.Match
	mc.Group = photoGroup(j, people)
	if g := f.groupMargin(); mc.Group != "" && g > 0 && g < mc.Margin && EnrolledOutside(people, mc.Group) >= GroupMinOutside {
		mc.Margin = g
	}
	return people, mc
}

// photoGroup is the consent store's group that j's folder names: the outermost
// folder on the way from the scanned folder's own name down to the photo
// that is a group of the consent store ("inbox/groep-5/feest/x.jpg" and a batch
// over "…/groep-5" both give "groep-5"); "" when none is (the whole school).
func photoGroup(j *Job, people []detect.Person) string {
	folders := []string{filepath.Base(j.Root)}
	if dir := path.Dir(j.Rel); dir != "." && dir != "/" {
		folders = append(folders, strings.Split(dir, "/")...)
	}
	for _, name := range folders {
		if g := detect.GroupOf(people, name); g != "" {
			return g
		}
	}
	return ""
}

// StaleModels reports the references in the store that were made with other
// face model files than model. Descriptors of two models cannot be
// compared: a pupil enrolled under the old model would not be recognised,
// and under the objections policy a pupil without consent would then be
// shown. So no photo is decided until everyone is enrolled again with the
// model files in use.
func StaleModels(c Consent, model string) error {
	stale := 0
	for m, n := range c.Models() {
		if m != model {
			stale += n
		}
	}
	switch stale {
	case 0:
		return nil
	case 1:
		return fmt.Errorf("1 enrolled reference in the consent store was made with other face model files than those in models_dir (model %s): "+
			"enroll everyone again (photoguard enroll --dir …; `photoguard enroll --list` shows who)", model)
	}
	return fmt.Errorf("%d enrolled references in the consent store were made with other face model files than those in models_dir (model %s): "+
		"enroll everyone again (photoguard enroll --dir …; `photoguard enroll --list` shows who)", stale, model)
}

func (f *FaceOptions) validate() error {
	if f == nil || f.Analyzer == nil {
		return fmt.Errorf("pipeline: no face detection configured (every photo must be checked for faces)")
	}
	if f.Consent == nil {
		return fmt.Errorf("pipeline: no consent store")
	}
	if err := f.Policy.Validate(); err != nil {
		return fmt.Errorf("pipeline: policy: %w", err)
	}
	if err := f.Match.Validate(); err != nil {
		return fmt.Errorf("pipeline: %w", err)
	}
	return f.Redact.Validate()
}

// detectFaces analyses the original's pixels, publishes smaller when the
// analysis says the coverage floor holds only there, and maps the faces to
// the published image.
func (p *Pipeline) detectFaces(ctx context.Context, j *Job) error {
	start := time.Now()
	side := max(j.Image.Rect.Dx(), j.Image.Rect.Dy())
	err := ctx.Err() // the step list checked it; it may have ended since
	if err == nil {
		j.Analysis, err = p.opt.Faces.Analyzer.Analyze(ctx, j.Original, side)
	}
	j.detectTook = time.Since(start)
	if err != nil {
		if serr := p.stopped(ctx, "while detecting faces"); serr != nil {
			return serr
		}
		return Hold(err, "face detection failed")
	}
	a := j.Analysis
	if a.PublishSide <= 0 || a.PublishSide > side {
		return Hold(nil, "the face analysis gave no publication size")
	}
	if a.PublishSide < side {
		j.Image = decode.Fit(j.Original, a.PublishSide)
		j.smaller = true
	}
	j.Faces = scaleFaces(a.Faces, j.Original.Rect, j.Image.Rect)
	return nil
}

// scaleFaces maps faces from the coordinates of from to those of to (the
// same picture at another size), rounding boxes outwards.
func scaleFaces(faces []detect.Face, from, to image.Rectangle) []detect.Face {
	sx := float64(to.Dx()) / float64(from.Dx())
	sy := float64(to.Dy()) / float64(from.Dy())
	out := make([]detect.Face, len(faces))
	for i, f := range faces {
		r := f.Rect.Sub(from.Min)
		f.Rect = image.Rect(
			int(math.Floor(float64(r.Min.X)*sx)), int(math.Floor(float64(r.Min.Y)*sy)),
			int(math.Ceil(float64(r.Max.X)*sx)), int(math.Ceil(float64(r.Max.Y)*sy)),
		).Add(to.Min).Intersect(to)
		out[i] = f
	}
	return out
}

// decide matches the faces against the consent store and decides, per target
// channel, which faces may be shown.
func (p *Pipeline) decide(ctx context.Context, j *Job) error {
	reg, err := p.consentView()
	if err != nil {
		return err
	}
	people, mc := p.opt.Faces.matchContext(j, reg, p.opt.Now())
	j.Matches = detect.MatchFaces(j.Faces, people, mc)
	// The quality gate: a face too blurred to be told apart is not matched.
	sharp := make([]float64, len(j.Faces))
	for i, fc := range j.Faces {
		if !fc.NoDescriptor {
			sharp[i] = detect.Sharpness(j.Image, fc.Rect)
		}
	}
	detect.Gate(j.Matches, sharp, detect.MinSharpness)
	j.Group, j.Margin = mc.Group, mc.Margin
	p.decideChannels(j, reg)
	return nil
}

// consentView is the view of the consent store a job is decided with, or
// the error that holds it.
func (p *Pipeline) consentView() (Consent, error) {
	f := p.opt.Faces
	reg := f.Consent()
	if err := reg.Err(); err != nil {
		return nil, Hold(err, "the consent store cannot be used")
	}
	if err := StaleModels(reg, f.Model); err != nil {
		return nil, Hold(err, "the consent store holds faces enrolled with other face model files")
	}
	return reg, nil
}

// decideChannels decides, from the job's matches, per target channel which
// faces may be shown.
func (p *Pipeline) decideChannels(j *Job, reg Consent) {
	f := p.opt.Faces
	now := p.opt.Now()
	objected := map[string]bool{}
	for _, id := range reg.Objections(j.SHA256) {
		objected[id] = true
	}
	for _, d := range j.live() {
		channel := d.Dest.Channel
		d.Decisions = detect.Decide(j.Matches, f.Policy, f.Match,
			func(id string) (bool, string) { return reg.Consent(id, channel, now) },
			func(id string) bool { return objected[id] })
	}
	j.consent = reg
}

// redactFaces makes each delivery's image: a copy of its Base with every
// face its channel may not show redacted.
func (p *Pipeline) redactFaces(ctx context.Context, j *Job) error {
	for _, d := range j.live() {
		var boxes, shown []image.Rectangle
		for i, dec := range d.Decisions {
			if !dec.Show {
				boxes = append(boxes, d.Faces[i].Rect)
			} else {
				shown = append(shown, d.Faces[i].Rect)
			}
		}
		d.Image = d.Base
		if len(boxes) > 0 {
			// A neighbour's blur never reaches over a shown face.
			d.Image = mask.RedactKeeping(d.Base, boxes, shown, p.opt.Faces.Redact)
		}
	}
	return nil
}

// verifyFaces checks what will be published, decoded from the encoded
// bytes, without running the detectors blind to the same faces again:
//   - every redacted region has lost its detail, also under a contrast
//     stretch of the whole photo (mask.CheckRedacted): a redaction that did
//     not happen holds the photo;
//   - every face the channel shows is described again from the output and
//     must still be the pupil it was shown as, confidently: a face that has
//     become someone else, or no one the recogniser can tell, holds it.
//
// Faces outside the redacted regions are the same pixels the analysis saw;
// looking for new faces there would only repeat it.
func (p *Pipeline) verifyFaces(ctx context.Context, j *Job) error {
	start := time.Now()
	defer func() { j.checkTook += time.Since(start) }()
	f := p.opt.Faces
	people, mc := f.matchContext(j, j.consent, p.opt.Now())
	for _, d := range j.live() {
		img, _, err := decode.Decode(ctx, d.Output, p.opt.Limits, 0)
		if err != nil {
			if serr := p.stopped(ctx, "while checking the output"); serr != nil {
				return serr
			}
			d.Err = Hold(err, "the output could not be decoded for the face check")
			continue
		}
		var regions, shown []image.Rectangle
		var shownIdx []int
		for i, dec := range d.Decisions {
			if !dec.Show {
				regions = append(regions, d.Faces[i].Rect)
			}
		}
		for i, dec := range d.Decisions {
			// A shown face partly under a neighbour's redaction is not
			// described again: the blur changes its descriptor, and it
			// can only hide, never show, someone.
			if dec.Show && !underRedaction(d.Faces[i].Rect, regions, f.Redact.MaskScale, img.Rect) {
				shown = append(shown, d.Faces[i].Rect)
				shownIdx = append(shownIdx, i)
			}
		}
		// Boxes under the coverage floor were never promised (and in a
		// dark photo JPEG's rounding is as large as what they hold).
		if err := mask.CheckRedacted(d.Base, img, regions, f.Redact, int(d.FloorPx)); err != nil {
			d.Err = Hold(err, "the face check of the output failed: a redacted face kept its detail")
			continue
		}
		if len(shown) == 0 {
			continue
		}
		if serr := p.stopped(ctx, "while checking the output"); serr != nil {
			return serr
		}
		again, err := p.opt.Faces.Analyzer.Describe(ctx, img, shown)
		if err != nil {
			if serr := p.stopped(ctx, "while checking the output"); serr != nil {
				return serr
			}
			d.Err = Hold(err, "face detection on the output failed")
			continue
		}
		for k, face := range again {
			i := shownIdx[k]
			if why := stillShown(face, j.Faces[i], d.Decisions[i].ID, people, mc); why != "" {
				d.Err = Hold(nil, "the face check of the output failed: %s", why)
				break
			}
		}
	}
	return nil
}

// underRedaction reports whether face overlaps the redacted region of any of
// the redacted faces.
func underRedaction(face image.Rectangle, redacted []image.Rectangle, maskScale float64, bounds image.Rectangle) bool {
	for _, r := range redacted {
		if mask.Region(r, maskScale, bounds).Overlaps(face) {
			return true
		}
	}
	return false
}

// sameFaceDrift is how far the descriptor of one face may move between the
// analysis (the original's pixels) and the published output (smaller, JPEG)
// for it to count as the same face: at 56 px and more, a face's descriptor
// moved by 0.15 (median) and 0.24 (max) when the photo was shrunk
// (detect/dlib/MEASUREMENTS.md §3), different people are 0.6 and more apart.
const sameFaceDrift = 0.35

// stillShown says why a face the channel shows may not be published as it is
// in the output ("" when it may): it must be described there, and be the
// same face the analysis decided on (its descriptor within sameFaceDrift of
// the analysis's), or else still a confident match to the same pupil.
func stillShown(face, analysed detect.Face, id string, people []detect.Person, cfg detect.MatchConfig) string {
	if face.NoDescriptor {
		return "a face shown in the output can no longer be recognised"
	}
	if !analysed.NoDescriptor && detect.Distance(&face.Descriptor, &analysed.Descriptor) <= sameFaceDrift {
		return ""
	}
	// The face box in the output may differ a little from the first
	// pass's; the size rule was applied there.
	cfg.MinFacePx = 0
	m := detect.MatchFaces([]detect.Face{face}, people, cfg)[0]
	if m.ID != id {
		return fmt.Sprintf("a face shown in the output is no longer a confident match to %s, whom it was shown as", id)
	}
	return ""
}

// faceSummary counts what happened to the faces of one delivery, by reason
// and by pupil id (never names).
func faceSummary(j *Job, d *Delivery) *FaceSummary {
	if j.Faces == nil && d.Decisions == nil {
		return nil
	}
	s := &FaceSummary{Found: len(j.Faces), Reasons: map[string]int{},
		DetectMs: j.detectTook.Milliseconds(), CheckMs: j.checkTook.Milliseconds()}
	if a := j.Analysis; a != nil {
		s.FloorPx = math.Round(a.FloorPx*10) / 10
		s.Normalized = a.Normalized
		for _, ps := range a.Passes {
			s.Passes = append(s.Passes, PassSummary{Name: ps.Name, MinFacePx: math.Round(ps.MinFacePx*10) / 10, Found: ps.Found, Ms: ps.Took.Milliseconds()})
		}
	}
	s.PublishedSide, s.Smaller = publishedSide(j, d)
	for _, dec := range d.Decisions {
		if dec.Show {
			s.Shown++
			s.ShownIDs = append(s.ShownIDs, dec.ID)
		} else {
			s.Redacted++
			if dec.ID != "" {
				s.RedactedIDs = append(s.RedactedIDs, dec.ID)
			}
		}
		key := "redacted: " + dec.Reason
		if dec.Show {
			key = "shown: " + dec.Reason
		}
		s.Reasons[key]++
	}
	sort.Strings(s.ShownIDs)
	sort.Strings(s.RedactedIDs)
	return s
}
