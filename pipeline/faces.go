package pipeline

import (
	"context"
	"fmt"
	"image"
	"sort"
	"strings"
	"time"

	"github.com/photoguard/photoguard/detect"
	"github.com/photoguard/photoguard/redact"
)

// FaceDetector finds the faces in an upright image, with a descriptor for
// each, in the image's coordinates. One detector serves one photo at a time;
// the pipeline keeps one per worker. detect/dlib implements it.
type FaceDetector interface {
	Detect(ctx context.Context, img image.Image) ([]detect.Face, error)
}

// Register is one consistent view of the protected store, taken per photo.
// pipeline/registry's snapshot implements it (through a small adapter).
type Register interface {
	// People are the enrolled people with their descriptors.
	People() []detect.Person
	// Consent says whether id may be shown on channel at now, with the
	// reason when not.
	Consent(id, channel string, now time.Time) (ok bool, why string)
	// Objections are the ids that objected to the photo with this content.
	Objections(photoSHA256 string) []string
	// Err is set when the store could not be read.
	Err() error
}

// FaceOptions configure the face steps.
type FaceOptions struct {
	// Detectors, one per worker.
	Detectors []FaceDetector
	// Register returns the current view of the store.
	Register func() Register
	Match    detect.MatchConfig
	Policy   detect.Policy
	Redact   redact.RedactOptions
}

func (f *FaceOptions) validate(workers int) error {
	if f == nil {
		return fmt.Errorf("pipeline: no face detection configured (every photo must be checked for faces)")
	}
	if len(f.Detectors) < workers {
		return fmt.Errorf("pipeline: %d face detectors for %d workers", len(f.Detectors), workers)
	}
	if f.Register == nil {
		return fmt.Errorf("pipeline: no register")
	}
	switch f.Policy {
	case detect.PolicyConsent, detect.PolicyObjections:
	default:
		return fmt.Errorf("pipeline: unknown policy %q", f.Policy)
	}
	return f.Redact.Validate()
}

// withDetector lends a detector for the duration of fn.
func (p *Pipeline) withDetector(ctx context.Context, fn func(FaceDetector) error) error {
	select {
	case det := <-p.detectors:
		defer func() { p.detectors <- det }()
		return fn(det)
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (p *Pipeline) detectFaces(ctx context.Context, j *Job) error {
	err := p.withDetector(ctx, func(det FaceDetector) error {
		faces, err := det.Detect(ctx, j.Image)
		j.Faces = faces
		return err
	})
	if err != nil {
		if serr := p.stopped(ctx, "while detecting faces"); serr != nil {
			return serr
		}
		return Hold(err, "face detection failed")
	}
	return nil
}

// decide matches the faces against the register and decides, per target
// channel, which faces may be shown.
func (p *Pipeline) decide(ctx context.Context, j *Job) error {
	f := p.opt.Faces
	reg := f.Register()
	if err := reg.Err(); err != nil {
		return Hold(err, "the consent register cannot be used")
	}
	j.Matches = detect.MatchFaces(j.Faces, reg.People(), f.Match)
	objected := map[string]bool{}
	for _, id := range reg.Objections(j.SHA256) {
		objected[id] = true
	}
	now := p.opt.Now()
	for _, d := range j.live() {
		channel := d.Dest.Channel
		d.Decisions = detect.Decide(j.Matches, f.Policy, f.Match.Threshold,
			func(id string) (bool, string) { return reg.Consent(id, channel, now) },
			func(id string) bool { return objected[id] })
	}
	j.register = reg
	return nil
}

// redactFaces makes each delivery's image: a copy with every face its
// channel may not show redacted.
func (p *Pipeline) redactFaces(ctx context.Context, j *Job) error {
	for _, d := range j.live() {
		var boxes []image.Rectangle
		for i, dec := range d.Decisions {
			if !dec.Show {
				boxes = append(boxes, j.Faces[i].Rect)
			}
		}
		d.Image = j.Image
		if len(boxes) > 0 {
			d.Image = redact.Redact(j.Image, boxes, p.opt.Faces.Redact)
		}
	}
	return nil
}

// verifyFaces decodes what will be published and looks for faces again. The
// photo is held when a face in a redacted region still matches anyone
// enrolled, or a face shows up that the first pass did not decide on and the
// policy would not show.
func (p *Pipeline) verifyFaces(ctx context.Context, j *Job) error {
	people := j.register.People()
	for _, d := range j.live() {
		img, _, err := redact.Decode(ctx, d.Output, p.opt.Limits, 0)
		if err != nil {
			if serr := p.stopped(ctx, "while checking the output"); serr != nil {
				return serr
			}
			d.Err = Hold(err, "the output could not be decoded for the face check")
			continue
		}
		var found []detect.Face
		err = p.withDetector(ctx, func(det FaceDetector) error {
			found, err = det.Detect(ctx, img)
			return err
		})
		if err != nil {
			if serr := p.stopped(ctx, "while checking the output"); serr != nil {
				return serr
			}
			d.Err = Hold(err, "face detection on the output failed")
			continue
		}
		if why := p.checkOutputFaces(j, d, found, people); why != "" {
			d.Err = Hold(nil, "the face check of the output failed: %s", why)
		}
	}
	return nil
}

func (p *Pipeline) checkOutputFaces(j *Job, d *Delivery, found []detect.Face, people []detect.Person) string {
	f := p.opt.Faces
	bounds := j.Image.Bounds()
	for _, of := range found {
		// Which face of the first pass is this?
		idx, best := -1, 0.0
		for i, inf := range j.Faces {
			if v := iou(of.Rect, inf.Rect); v > best {
				idx, best = i, v
			}
		}
		same := idx >= 0 && best >= 0.4
		if same && d.Decisions[idx].Show {
			continue // a face this channel may show
		}
		inRedacted := same
		centre := image.Pt((of.Rect.Min.X+of.Rect.Max.X)/2, (of.Rect.Min.Y+of.Rect.Max.Y)/2)
		for i, inf := range j.Faces {
			if !d.Decisions[i].Show && centre.In(redact.Region(inf.Rect, f.Redact.MaskScale, bounds)) {
				inRedacted = true
			}
		}
		if inRedacted {
			// A redacted face: nobody enrolled may be recognisable in it.
			for _, c := range nearestWithin(of, people, f.Match.Threshold) {
				return fmt.Sprintf("a redacted face still matches an enrolled person (%s, distance %.2f)", c.ID, c.Distance)
			}
			continue
		}
		// A face the first pass did not decide on.
		if f.Policy == detect.PolicyConsent {
			return "a face was found that the first pass missed"
		}
		for _, c := range nearestWithin(of, people, f.Match.Threshold) {
			if ok, _ := j.register.Consent(c.ID, d.Dest.Channel, p.opt.Now()); !ok {
				return fmt.Sprintf("a face the first pass missed may be %s, who may not be shown", c.ID)
			}
		}
	}
	return ""
}

// iou is the intersection over union of two boxes.
func iou(a, b image.Rectangle) float64 {
	in := a.Intersect(b)
	if in.Empty() {
		return 0
	}
	i := float64(in.Dx() * in.Dy())
	u := float64(a.Dx()*a.Dy()+b.Dx()*b.Dy()) - i
	return i / u
}

// nearestWithin lists the people within threshold of face, nearest first.
func nearestWithin(face detect.Face, people []detect.Person, threshold float64) []detect.Candidate {
	m := detect.MatchFaces([]detect.Face{face}, people, detect.MatchConfig{Threshold: threshold})
	var out []detect.Candidate
	for _, c := range m[0].Nearest {
		if c.Distance <= threshold {
			out = append(out, c)
		}
	}
	return out
}

// faceSummary counts what happened to the faces of one delivery, by reason
// and by pupil id (never names).
func faceSummary(j *Job, d *Delivery) *FaceSummary {
	if j.Faces == nil && d.Decisions == nil {
		return nil
	}
	s := &FaceSummary{Found: len(j.Faces), Reasons: map[string]int{}}
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

// describeFaces is a one-line summary for logs and plain progress lines.
func describeFaces(s *FaceSummary) string {
	if s == nil {
		return ""
	}
	parts := []string{fmt.Sprintf("%d faces", s.Found)}
	if s.Found > 0 {
		parts = append(parts, fmt.Sprintf("%d shown", s.Shown), fmt.Sprintf("%d redacted", s.Redacted))
	}
	return strings.Join(parts, ", ")
}
