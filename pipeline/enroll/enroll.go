package enroll

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"time"

	"github.com/photoguard/photoguard/detect"
	"github.com/photoguard/photoguard/pipeline/consent"
	"github.com/photoguard/photoguard/redact/decode"
)

// Recognizer finds faces with their descriptors (detect/dlib's Recognizer).
type Recognizer interface {
	Detect(ctx context.Context, img image.Image) ([]detect.Face, error)
}

// Config is what an Enroller works with.
type Config struct {
	Recognizer Recognizer
	// Model is the id of the face model files Recognizer computes
	// descriptors with (detect/dlib's ModelID), recorded with each
	// reference.
	Model string
	Store *consent.Store
	// Limits and MaxSide are the pipeline's decode settings.
	Limits  decode.Limits
	MaxSide int
	// Threshold is the match threshold (faces.threshold): a new reference
	// this close to someone else enrolled is refused unless forced.
	Threshold float64
	// Now dates the references (default time.Now).
	Now func() time.Time
}

// Enroller enrolls people from reference photos.
type Enroller struct{ c Config }

// New checks c and returns an Enroller.
func New(c Config) (*Enroller, error) {
	switch {
	case c.Recognizer == nil:
		return nil, errors.New("enroll: no face detector")
	case c.Store == nil:
		return nil, errors.New("enroll: no consent store")
	case !(c.Threshold > 0):
		return nil, fmt.Errorf("enroll: threshold %v", c.Threshold)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return &Enroller{c: c}, nil
}

// Model is the id of the face model files references are made with.
func (e *Enroller) Model() string { return e.c.Model }

// Faces reads a photo as the pipeline does and returns its faces and the
// hex SHA-256 of its bytes. A photo without a face is tried again in the
// middle of a grey canvas twice its size: the detector needs room around a
// face that fills the picture (a tight crop).
func (e *Enroller) Faces(ctx context.Context, data []byte) ([]detect.Face, string, error) {
	sum := sha256.Sum256(data)
	img, _, err := decode.Decode(ctx, data, e.c.Limits, e.c.MaxSide)
	if err != nil {
		return nil, "", err
	}
	faces, err := e.c.Recognizer.Detect(ctx, img)
	if err != nil {
		return nil, "", err
	}
	if len(faces) == 0 {
		faces, err = e.c.Recognizer.Detect(ctx, Pad(img))
		if err != nil {
			return nil, "", err
		}
	}
	return faces, hex.EncodeToString(sum[:]), nil
}

// Pad puts the image in the middle of a grey canvas twice its size.
func Pad(img *image.NRGBA) *image.NRGBA {
	b := img.Bounds()
	out := image.NewNRGBA(image.Rect(0, 0, b.Dx()*2, b.Dy()*2))
	draw.Draw(out, out.Bounds(), image.NewUniform(color.Gray{Y: 128}), image.Point{}, draw.Src)
	draw.Draw(out, b.Sub(b.Min).Add(image.Pt(b.Dx()/2, b.Dy()/2)), img, b.Min, draw.Src)
	return out
}

// Errors of one reference photo.
var (
	ErrNoFace    = errors.New("no face found: use a photo where the face is clearly visible")
	ErrManyFaces = errors.New("more than one face found: use a photo with only this person")
	// ErrLookalike: the face matches someone else who is enrolled.
	ErrLookalike = errors.New("the face matches someone else who is enrolled")
)

// Photo is one reference photo: a name to report it by and its bytes.
type Photo struct {
	Name string
	Data []byte
}

// PhotoResult is what became of one photo.
type PhotoResult struct {
	Name string
	// Err says why the photo was not used (nil: used).
	Err error
	// Faces is the number of faces found.
	Faces int
	// Lookalike and Distance name the enrolled person the face matched
	// (with ErrLookalike, or when forced).
	Lookalike string
	Distance  float64
}

// Result is what Enroll did for one person.
type Result struct {
	ID     string
	Photos []PhotoResult
	// Added counts the references added (a photo enrolled before is not
	// added again); Replaced the references of other face model files
	// that the new ones replaced.
	Added, Replaced int
}

// Used counts the photos used; Failed those not used.
func (r Result) Used() int { return len(r.Photos) - r.Failed() }

// Failed counts the photos that were not used.
func (r Result) Failed() int {
	n := 0
	for _, p := range r.Photos {
		if p.Err != nil {
			n++
		}
	}
	return n
}

// reference reads one reference photo and returns its single face.
func (e *Enroller) reference(ctx context.Context, p Photo) (consent.Reference, PhotoResult) {
	res := PhotoResult{Name: p.Name}
	faces, sha, err := e.Faces(ctx, p.Data)
	res.Faces = len(faces)
	switch {
	case err != nil:
		res.Err = err
	case len(faces) == 0:
		res.Err = ErrNoFace
	case len(faces) > 1:
		res.Err = fmt.Errorf("%d faces found: %w", len(faces), ErrManyFaces)
	}
	if res.Err != nil {
		return consent.Reference{}, res
	}
	return consent.Reference{Descriptor: faces[0].Descriptor, SourceSHA256: sha, AddedAt: e.c.Now().UTC(), Model: e.c.Model, Source: consent.SourcePortrait}, res
}

// Lookalike returns the enrolled person other than id whom d matches
// (within the threshold), comparing only references of the Enroller's
// model files: a sign that the photo is of someone else, or that two
// pupils are hard to tell apart.
func (e *Enroller) Lookalike(snap *consent.Snapshot, id string, d detect.Descriptor) (string, float64) {
	return lookalike(snap, id, d, e.c.Model, e.c.Threshold)
}

// lookalike is Lookalike for references of model, within threshold.
func lookalike(snap *consent.Snapshot, id string, d detect.Descriptor, model string, threshold float64) (string, float64) {
	var people []detect.Person
	for _, p := range snap.People() {
		if p.ID == id {
			continue
		}
		var ds []detect.Descriptor
		for _, r := range snap.References(p.ID) {
			if r.Model == model { // other models' descriptors are not comparable
				ds = append(ds, r.Descriptor)
			}
		}
		if len(ds) > 0 {
			people = append(people, detect.Person{ID: p.ID, Descriptors: ds})
		}
	}
	m := detect.MatchFaces([]detect.Face{{Rect: image.Rect(0, 0, 1000, 1000), Descriptor: d}}, people,
		detect.MatchConfig{Threshold: threshold})
	if len(m[0].Nearest) > 0 && m[0].Nearest[0].Distance <= threshold {
		return m[0].Nearest[0].ID, m[0].Nearest[0].Distance
	}
	return "", 0
}

// Enroll adds the usable photos of id as references. A photo is not used
// when it has no face or more than one, or (unless force) when its face
// matches someone else who is enrolled; the Result says which and why.
// References of id made with other face model files are replaced. It is an
// error when id is not in the consent store or no photo is usable, and
// then nothing is written.
func (e *Enroller) Enroll(ctx context.Context, id string, photos []Photo, force bool) (Result, error) {
	res := Result{ID: id}
	snap := e.c.Store.Current()
	if err := snap.Err(); err != nil {
		return res, err
	}
	if _, ok := snap.Person(id); !ok {
		return res, fmt.Errorf("%w: %s; import the consent export first (photoguard consent import)", consent.ErrNotInStore, id)
	}
	var refs []consent.Reference
	for _, p := range photos {
		ref, pr := e.reference(ctx, p)
		if pr.Err == nil {
			if other, dist := e.Lookalike(snap, id, ref.Descriptor); other != "" {
				pr.Lookalike, pr.Distance = other, dist
				if !force {
					pr.Err = fmt.Errorf("%w: %s (distance %.2f)", ErrLookalike, other, dist)
				}
			}
		}
		res.Photos = append(res.Photos, pr)
		if pr.Err == nil {
			refs = append(refs, ref)
		}
	}
	if len(refs) == 0 {
		return res, fmt.Errorf("%s: no usable reference photo", id)
	}
	before := snap.References(id)
	if err := e.c.Store.Enroll(id, refs); err != nil {
		return res, err
	}
	after := e.c.Store.Snapshot().References(id)
	res.Replaced = OtherModel(before, e.c.Model)
	res.Added = len(after) - (len(before) - res.Replaced)
	return res, nil
}

// OtherModel counts the references made with other model files than model.
func OtherModel(refs []consent.Reference, model string) int {
	n := 0
	for _, r := range refs {
		if r.Model != model {
			n++
		}
	}
	return n
}
