package enroll

import (
	"context"
	"fmt"
	"image"
	"sort"
	"time"

	"github.com/photoguard/photoguard/detect"
	"github.com/photoguard/photoguard/pipeline"
	"github.com/photoguard/photoguard/pipeline/audit"
	"github.com/photoguard/photoguard/pipeline/consent"
	"github.com/photoguard/photoguard/pipeline/journal"
	"github.com/photoguard/photoguard/pipeline/review"
	"github.com/photoguard/photoguard/redact/decode"
)

// Reviewed is one face of a photo the coordinator reviewed, described
// again, for enroll --from and correct --not.
type Reviewed struct {
	Descriptor detect.Descriptor
	// Model is the id of the face model files that computed Descriptor.
	Model  string
	SHA256 string
	// N is the face's number (1..N, in detect.SortFaces order).
	N int
	// ShownOn are the targets the journal says the photo is published on
	// with this face shown (as the explained photo or the review record
	// tells), sorted.
	ShownOn []string
}

// FaceOfJob is face n of an explained photo: j and jobErr are what
// pipeline.Explain returned for it, so the numbering is review's and
// explain's; model is the recogniser's model id, name how errors name the
// photo. The journal of stateDir says where it is published.
func FaceOfJob(stateDir string, j *pipeline.Job, jobErr error, model string, n int, name string) (*Reviewed, error) {
	if j.SHA256 == "" {
		return nil, fmt.Errorf("%s: %v", name, jobErr)
	}
	if j.Faces == nil && jobErr != nil {
		return nil, fmt.Errorf("%s: no faces: %v", name, jobErr)
	}
	if n < 1 || n > len(j.Faces) {
		return nil, fmt.Errorf("%s has %s; there is no face %d", name, faces(len(j.Faces)), n)
	}
	f := j.Faces[n-1]
	if f.NoDescriptor {
		return nil, fmt.Errorf("%s: face %d was found but is not clear enough to recognise: it cannot be used", name, n)
	}
	rf := &Reviewed{Descriptor: f.Descriptor, Model: model, SHA256: j.SHA256, N: n}
	rf.ShownOn = shownOn(stateDir, j.SHA256, func(target string) bool {
		for _, d := range j.Deliveries {
			if d.Dest.Name == target && n <= len(d.Decisions) {
				return d.Decisions[n-1].Show
			}
		}
		return false
	})
	return rf, nil
}

// FaceOfRecord describes face n of a review record again, from the
// record's crop of that face (for inputs the daemon has wiped), with the
// recogniser open gives (loaded only once the crop is read: the models take
// a while), which computes descriptors with the model files model and is
// closed by close. The crop is centred on the face, so the face
// nearest the centre is taken, and only if it lies within its own width of
// the centre (a neighbour may show at the crop's edge). The journal of
// stateDir says where it is published.
func FaceOfRecord(ctx context.Context, stateDir string, open func() (det Recognizer, model string, close func(), err error), rec *review.Record, n int) (*Reviewed, error) {
	if n < 1 || n > len(rec.Faces) {
		return nil, fmt.Errorf("photo %s has %s; there is no face %d", rec.Short, faces(len(rec.Faces)), n)
	}
	fr := rec.Faces[n-1]
	if fr.Crop == "" {
		return nil, fmt.Errorf("photo %s: face %d was not clear enough to recognise: it cannot be used", rec.Short, n)
	}
	data, err := rec.Image(fr.Crop)
	if err != nil {
		return nil, err
	}
	img, _, err := decode.Decode(ctx, data, decode.DefaultLimits(), 0)
	if err != nil {
		return nil, fmt.Errorf("photo %s, face %d: %w", rec.Short, n, err)
	}
	det, model, closeDet, err := open()
	if err != nil {
		return nil, err
	}
	defer closeDet()
	found, err := det.Detect(ctx, img)
	if err != nil {
		return nil, err
	}
	if len(found) == 0 {
		img = Pad(img)
		if found, err = det.Detect(ctx, img); err != nil {
			return nil, err
		}
	}
	c := image.Pt(img.Rect.Dx()/2, img.Rect.Dy()/2)
	sort.SliceStable(found, func(a, b int) bool { return centreDist(found[a].Rect, c) < centreDist(found[b].Rect, c) })
	if len(found) == 0 || found[0].NoDescriptor || centreDist(found[0].Rect, c) > found[0].Rect.Dx() {
		return nil, fmt.Errorf("photo %s: face %d could not be described again from the review's copy; use the original file", rec.Short, n)
	}
	rf := &Reviewed{Descriptor: found[0].Descriptor, Model: model, SHA256: rec.SHA256, N: n}
	rf.ShownOn = shownOn(stateDir, rec.SHA256, func(target string) bool {
		for _, t := range rec.Targets {
			if t.Name == target && n <= len(t.Decisions) {
				return t.Decisions[n-1].Show
			}
		}
		return false
	})
	return rf, nil
}

// centreDist is the city-block distance from r's centre to c.
func centreDist(r image.Rectangle, c image.Point) int {
	m := r.Min.Add(r.Max).Div(2)
	d := m.Sub(c)
	return absInt(d.X) + absInt(d.Y)
}

func absInt(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

// shownOn lists the targets the journal of stateDir says the photo is
// published on and where showed(target) says the face is shown.
func shownOn(stateDir, sha string, showed func(target string) bool) []string {
	rec, err := journal.ReadOnly(stateDir).Get(sha)
	if err != nil {
		return nil
	}
	var out []string
	for name, d := range rec.Deliveries {
		if d.Published && showed(name) {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

func faces(n int) string {
	if n == 1 {
		return "1 face"
	}
	return fmt.Sprintf("%d faces", n)
}

// AddReviewed adds the reviewed face rf as a reference of id (enroll
// --from), dated now, unless (without force) it matches someone else who
// is enrolled with rf's model files within threshold. The audit log of
// stateDir records it as a correction, by pupil id. It returns the number
// of references id has now.
func AddReviewed(stateDir string, store *consent.Store, id string, rf *Reviewed, threshold float64, force bool, now time.Time) (int, error) {
	if other, dist := lookalike(store.Snapshot(), id, rf.Descriptor, rf.Model, threshold); other != "" && !force {
		return 0, fmt.Errorf("face %d matches %s, who is enrolled already (distance %.2f): check the face number, or use --force", rf.N, other, dist)
	}
	ref := consent.Reference{Descriptor: rf.Descriptor, SourceSHA256: rf.SHA256, AddedAt: now.UTC(), Model: rf.Model, Source: consent.SourceReview}
	if err := store.Enroll(id, []consent.Reference{ref}); err != nil {
		return 0, err
	}
	if err := recordCorrection(stateDir, rf, id, "a reviewed face was added as a reference of this pupil (enroll --from)"); err != nil {
		return 0, fmt.Errorf("enrolled, but the audit log could not record it: %w", err)
	}
	return len(store.Snapshot().References(id)), nil
}

// MarkNot records that the reviewed face rf is not id (correct --not): it
// is kept in the store as a negative of id, so that a face that close to
// it is never matched to id again. The audit log of stateDir records it as
// a correction, by pupil id.
func MarkNot(stateDir string, store *consent.Store, id string, rf *Reviewed) error {
	if err := store.AddNegative(id, consent.Negative{Descriptor: rf.Descriptor, PhotoSHA256: rf.SHA256, Model: rf.Model}); err != nil {
		return err
	}
	if err := recordCorrection(stateDir, rf, id, "a reviewed face was marked as not this pupil (correct --not)"); err != nil {
		return fmt.Errorf("recorded, but the audit log could not record it: %w", err)
	}
	return nil
}

// recordCorrection writes a correction into the audit log, by pupil id.
func recordCorrection(stateDir string, rf *Reviewed, id, detail string) error {
	log, err := audit.Open(stateDir, audit.Options{})
	if err != nil {
		return err
	}
	return log.Record(audit.Event{Kind: audit.Correction, SHA256: rf.SHA256, Photo: rf.SHA256[:12],
		Pupils: []string{id}, Count: rf.N, Detail: detail})
}
