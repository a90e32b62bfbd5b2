package analyze

import (
	"context"
	"errors"
	"fmt"
	"image"
	"math"
	"sort"
	"time"

	"github.com/photoguard/photoguard/detect"
)

// Box is a face box a Finder found, in the coordinates of the image it was
// given.
type Box struct {
	Rect  image.Rectangle
	Score float32
}

// Reach is what a detection pass can see, from measurements: a face is
// found reliably when it is at least Floor pixels wide in the image the
// detector sees, and the pass may enlarge the original by at most MaxScale
// (beyond that time or memory is out of proportion, or enlarging adds no
// detail). CostPerMP is the CPU time per megapixel the pass sees, for the
// time budget.
type Reach struct {
	Floor     float64
	MaxScale  float64
	CostPerMP time.Duration
}

// Finder finds face boxes, nothing more: it is the pass that must not miss
// a face.
type Finder interface {
	// Name names the finder in reports ("yunet").
	Name() string
	// Reach is the finder's measured floor and limits.
	Reach() Reach
	// Find returns every face in img at least minFace pixels wide (in
	// img's pixels), whatever its position, up to the whole image. The
	// finder enlarges or shrinks and tiles img as its model needs; minFace
	// is never below Reach().Floor / Reach().MaxScale.
	Find(ctx context.Context, img *image.NRGBA, minFace float64) ([]Box, error)
}

// Focus says where a FocusFinder looks the second, closer time (the look
// that finds the smallest faces): everywhere, or, when Partial, only in
// Regions (in the image's coordinates; none: no second look).
type Focus struct {
	Partial bool
	Regions []image.Rectangle
}

// FocusFinder is a Finder whose second, closer look can be limited to
// regions: a video looks everywhere on some frames and, on the frames
// between, only around the small faces it follows. A photo always has
// both looks everywhere (Find).
type FocusFinder interface {
	Finder
	// FindFocus is Find with the second look where focus says.
	FindFocus(ctx context.Context, img *image.NRGBA, minFace float64, focus Focus) ([]Box, error)
	// SecondLookWidth is, in multiples of minFace, the widest face the
	// second look alone can find: a wider one is found by the first.
	SecondLookWidth() float64
}

// Recognizer finds faces with its own detector and describes faces for the
// matcher (dlib).
type Recognizer interface {
	// Reach is the recogniser's detector's floor and limits.
	Reach() Reach
	// Faces runs the recogniser's detector over img and returns the faces
	// at least minFace pixels wide in img, each with a descriptor, in img's
	// coordinates.
	Faces(ctx context.Context, img *image.NRGBA, minFace float64) ([]detect.Face, error)
	// Describe returns, for each box (in img's coordinates), the face the
	// recogniser aligns there, with its descriptor; a face it cannot
	// align has NoDescriptor set and keeps the box.
	Describe(ctx context.Context, img *image.NRGBA, boxes []image.Rectangle) ([]detect.Face, error)
}

// Config says what the analysis promises.
type Config struct {
	// CoveragePx is the coverage floor: the smallest face width, in pixels
	// of the published photo, that every finder looks for.
	CoveragePx float64
	// MinFacePx is the smallest face width, in pixels of the published
	// photo, that is described for matching (smaller faces are never
	// matched, so never shown: they need no descriptor).
	MinFacePx float64
	// TimeBudget bounds the estimated CPU time of the passes; a plan over
	// it looks for larger faces in a photo published smaller. 0: no bound.
	TimeBudget time.Duration
	// Normalize analyses a contrast-normalised copy of dark, backlit and
	// washed-out photos too.
	Normalize bool
}

// Validate checks the configuration.
func (c Config) Validate() error {
	if !(c.CoveragePx >= 8 && c.CoveragePx <= 200) {
		return fmt.Errorf("coverage floor %v px is out of range (8 to 200)", c.CoveragePx)
	}
	if !(c.MinFacePx >= c.CoveragePx) {
		return fmt.Errorf("the smallest face matched (%v px) is below the coverage floor (%v px)", c.MinFacePx, c.CoveragePx)
	}
	if c.TimeBudget < 0 {
		return errors.New("negative time budget")
	}
	return nil
}

// Engine runs analyses. It is safe for concurrent use when its Finder and
// Recognizer are.
type Engine struct {
	cfg Config
	fnd Finder // nil: the recogniser's detector is the finder
	rec Recognizer
}

// New returns an engine. finder may be nil: then the recogniser's own
// detector must reach the floor.
func New(cfg Config, finder Finder, rec Recognizer) (*Engine, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if rec == nil {
		return nil, errors.New("analyze: no recogniser")
	}
	return &Engine{cfg: cfg, fnd: finder, rec: rec}, nil
}

// Plan is the analysis of one photo before it runs.
type Plan struct {
	// PublishSide is the long side the photo may be published at.
	PublishSide int
	// FloorPx is the coverage floor the plan keeps, in published pixels.
	FloorPx float64
	// FindMin is the smallest face width the finder looks for, and RecMin
	// the smallest face the recogniser describes (with a finder) or looks
	// for with its own detector (without one), in pixels of the original.
	FindMin, RecMin float64
	// Estimate is the estimated CPU time.
	Estimate time.Duration
}

// Plan decides the passes for an original of the given size published with
// long side publishSide (at most the original's).
func (e *Engine) Plan(size image.Point, publishSide int) Plan {
	long := float64(max(size.X, size.Y))
	if long <= 0 {
		return Plan{PublishSide: publishSide, FloorPx: e.cfg.CoveragePx}
	}
	publishSide = min(publishSide, int(long))
	mp := float64(size.X) * float64(size.Y) / 1e6
	primary := e.rec.Reach()
	if e.fnd != nil {
		primary = e.fnd.Reach()
	}
	// The smallest face the primary pass can look for in the original.
	reachable := primary.Floor / primary.MaxScale
	cost := func(r Reach, minFace float64) time.Duration {
		s := r.Floor / minFace
		return time.Duration(float64(r.CostPerMP) * mp * s * s)
	}
	for side := publishSide; ; {
		pub := float64(side) / long
		p := Plan{PublishSide: side, FloorPx: e.cfg.CoveragePx}
		p.FindMin = max(e.cfg.CoveragePx/pub, reachable)
		p.Estimate = cost(primary, p.FindMin)
		p.RecMin = p.FindMin
		if e.fnd != nil {
			// The recogniser only describes the finder's faces of at
			// least MinFacePx (about 40 ms each: not planned per pixel).
			p.RecMin = e.cfg.MinFacePx / pub
		}
		// The floor in published pixels that the finder keeps.
		p.FloorPx = p.FindMin * pub
		over := e.cfg.TimeBudget > 0 && p.Estimate > e.cfg.TimeBudget
		if (p.FloorPx <= e.cfg.CoveragePx+1e-9 && !over) || side <= 64 {
			return p
		}
		// Publish smaller: at the side where the floor holds, or a tenth
		// smaller when time is what is short.
		next := int(math.Floor(e.cfg.CoveragePx / p.FindMin * long))
		if over || next >= side {
			next = side * 9 / 10
		}
		side = max(next, 64)
	}
}

// Analyze finds the faces of the upright original img for a publication
// with long side publishSide. Faces are in img's coordinates.
func (e *Engine) Analyze(ctx context.Context, img *image.NRGBA, publishSide int) (*detect.Analysis, error) {
	return e.analyze(ctx, img, publishSide, true, Focus{})
}

// Find is Analyze without describing the finder's faces: they all come
// back with NoDescriptor, and the caller describes those it needs with
// Describe (a video describes a track from a few of its sightings). Without
// a finder the recogniser's detector finds the faces, described.
func (e *Engine) Find(ctx context.Context, img *image.NRGBA, publishSide int) (*detect.Analysis, error) {
	return e.analyze(ctx, img, publishSide, false, Focus{})
}

// FindAround is Find with the finder's second look only in regions (img's
// coordinates; none: no second look), when the finder is a FocusFinder
// (otherwise it looks everywhere, as Find).
func (e *Engine) FindAround(ctx context.Context, img *image.NRGBA, publishSide int, regions []image.Rectangle) (*detect.Analysis, error) {
	return e.analyze(ctx, img, publishSide, false, Focus{Partial: true, Regions: regions})
}

// FocusWidth is the widest face, in pixels of an image of the given size
// published with long side publishSide, that only the finder's second look
// may find, and whether the finder's second look can be focused at all.
func (e *Engine) FocusWidth(size image.Point, publishSide int) (float64, bool) {
	ff, ok := e.fnd.(FocusFinder)
	if !ok {
		return 0, false
	}
	return ff.SecondLookWidth() * e.Plan(size, publishSide).FindMin, true
}

// DescribeMin is the narrowest finder box, in pixels of the published
// image, that Analyze describes: narrower faces are never matched.
func (e *Engine) DescribeMin() float64 { return finderWidth * e.cfg.MinFacePx }

func (e *Engine) analyze(ctx context.Context, img *image.NRGBA, publishSide int, describe bool, focus Focus) (*detect.Analysis, error) {
	b := img.Bounds()
	plan := e.Plan(b.Size(), publishSide)
	a := &detect.Analysis{FloorPx: plan.FloorPx, PublishSide: plan.PublishSide}
	if b.Empty() {
		return a, nil
	}
	copies := []*image.NRGBA{img}
	if e.cfg.Normalize {
		if n, ok := Normalize(img); ok {
			copies = append(copies, n)
			a.Normalized = true
		}
	}
	run := func(name string, minFace float64, fn func() (int, error)) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		t := time.Now()
		n, err := fn()
		if err != nil {
			return fmt.Errorf("%s pass: %w", name, err)
		}
		a.Passes = append(a.Passes, detect.PassStat{Name: name, MinFacePx: minFace, Found: n, Took: time.Since(t)})
		return nil
	}

	// On a normalised photo the recogniser looks at the normalised copy,
	// where the faces are.
	recImg := copies[len(copies)-1]
	var faces []detect.Face
	if e.fnd == nil {
		// The recogniser's detector alone: faces with descriptors.
		err := run("recognizer", plan.RecMin, func() (int, error) {
			var err error
			faces, err = e.rec.Faces(ctx, recImg, plan.RecMin)
			return len(faces), err
		})
		if err != nil {
			return nil, err
		}
	} else {
		// The finder finds every face; the recogniser only aligns and
		// describes the finder's boxes large enough to be matched (its
		// own detector over the whole photo found nothing the finder
		// missed on the shared sets, at a third of the analysis's time:
		// detect/yunet/MEASUREMENTS.md).
		var boxes []Box
		nOriginal := 0
		for i, c := range copies {
			name := e.fnd.Name()
			if i > 0 {
				name += " (normalised)"
			}
			err := run(name, plan.FindMin, func() (int, error) {
				var found []Box
				var err error
				if ff, ok := e.fnd.(FocusFinder); ok && focus.Partial {
					found, err = ff.FindFocus(ctx, c, plan.FindMin, focus)
				} else {
					found, err = e.fnd.Find(ctx, c, plan.FindMin)
				}
				if i > 0 {
					found = onlyConfident(found, boxes[:nOriginal])
				}
				boxes = append(boxes, found...)
				return len(found), err
			})
			if i == 0 {
				nOriginal = len(boxes)
			}
			if err != nil {
				return nil, err
			}
		}
		faces = e.addBoxes(faces, boxes, b, plan.FindMin/2)
		// Describe the faces only the finder found that are large enough
		// to be matched.
		pub := float64(plan.PublishSide) / float64(max(b.Dx(), b.Dy()))
		var idx []int
		var rects []image.Rectangle
		for i, f := range faces {
			if f.NoDescriptor && float64(f.Rect.Dx())*pub >= finderWidth*e.cfg.MinFacePx {
				idx = append(idx, i)
				rects = append(rects, f.Rect)
			}
		}
		if len(rects) > 0 && describe {
			err := run("describe", 0, func() (int, error) {
				// The original's pixels first, as enrollment describes a
				// face; a face the recogniser cannot align there is tried
				// again on the contrast-stretched copy of a dark or
				// washed-out photo.
				described, err := e.describe(ctx, copies, rects)
				if err != nil {
					return 0, err
				}
				n := 0
				for k, i := range idx {
					d := described[k]
					if d.NoDescriptor {
						continue
					}
					// Keep the union of the boxes: what is redacted must
					// cover the face whichever box is tighter.
					d.Rect = d.Rect.Union(faces[i].Rect).Intersect(b)
					d.Score = faces[i].Score
					faces[i] = d
					n++
				}
				return n, nil
			})
			if err != nil {
				return nil, err
			}
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	detect.SortFaces(faces)
	a.Faces = faces
	return a, nil
}

// describe describes each box on the first of imgs (the same picture, the
// original first) where the recogniser aligns a face in it.
func (e *Engine) describe(ctx context.Context, imgs []*image.NRGBA, rects []image.Rectangle) ([]detect.Face, error) {
	out := make([]detect.Face, len(rects))
	todo := make([]int, len(rects))
	for i := range todo {
		todo[i] = i
	}
	for _, img := range imgs {
		if len(todo) == 0 {
			break
		}
		rs := make([]image.Rectangle, len(todo))
		for m, k := range todo {
			rs[m] = rects[k]
		}
		got, err := e.rec.Describe(ctx, img, rs)
		if err != nil {
			return nil, err
		}
		if len(got) != len(rs) {
			return nil, fmt.Errorf("%d descriptions for %d faces", len(got), len(rs))
		}
		var next []int
		for m, k := range todo {
			out[k] = got[m]
			if got[m].NoDescriptor {
				next = append(next, k)
			}
		}
		todo = next
	}
	return out, nil
}

// finderWidth: a finder's box of a face may be this much narrower than the
// box the recogniser aligns there (YuNet's boxes on the shared group photos
// were 0.84-1.09 times dlib HOG's, median 0.9): a face is described when
// its finder box is at least finderWidth x MinFacePx wide, and the matcher
// applies MinFacePx to the box described (the union of both).
const finderWidth = 0.8

// NormalizedScore is the least score of a box the finder found only in the
// contrast-stretched copy of a photo: a face hidden by darkness or haze is
// a clear face once stretched (the shared group photos darkened to 6 % and
// washed out score as high as shot), while the stretch brings out texture in
// skies, water and leaves where the finder's unsure boxes are not faces
// (detect/yunet/MEASUREMENTS.md).
const NormalizedScore = 0.5

// onlyConfident returns the boxes of the stretched copy that the original
// also found, or that score at least NormalizedScore.
func onlyConfident(found, original []Box) []Box {
	var out []Box
	for _, f := range found {
		ok := f.Score >= NormalizedScore
		for _, o := range original {
			if ok {
				break
			}
			ok = SameFace(o.Rect, f.Rect)
		}
		if ok {
			out = append(out, f)
		}
	}
	return out
}

// Describe has the recogniser describe the faces at boxes of img (the check
// of the output).
func (e *Engine) Describe(ctx context.Context, img *image.NRGBA, boxes []image.Rectangle) ([]detect.Face, error) {
	return e.rec.Describe(ctx, img, boxes)
}

// addBoxes adds the finder's boxes that are not faces already found, as
// faces without a descriptor. Boxes of the same face from the finder's
// passes are merged first (the one with the higher score is kept). Left out
// are boxes narrower than minWidth (half the smallest face looked for: far
// below the floor, where the finder's false boxes are) and boxes lying
// mostly inside a face the recogniser aligned (a chin, an ear, a forehead of
// that face: two faces cannot share most of a box).
func (e *Engine) addBoxes(faces []detect.Face, boxes []Box, bounds image.Rectangle, minWidth float64) []detect.Face {
	sort.SliceStable(boxes, func(i, j int) bool { return boxes[i].Score > boxes[j].Score })
	var kept []Box
	for _, bx := range boxes {
		r := bx.Rect.Intersect(bounds)
		if r.Empty() || float64(r.Dx()) < minWidth {
			continue
		}
		inside := false
		for _, f := range faces {
			if !f.NoDescriptor && !SameFace(f.Rect, r) && float64(area(f.Rect.Intersect(r))) >= 0.5*float64(area(r)) {
				inside = true
				break
			}
		}
		if inside {
			continue
		}
		dup := false
		for j := range kept {
			if SameFace(kept[j].Rect, r) {
				dup = true
				break
			}
		}
		if !dup {
			kept = append(kept, Box{Rect: r, Score: bx.Score})
		}
	}
	out := faces[:len(faces):len(faces)]
	for _, bx := range kept {
		dup := false
		for i := range faces {
			if SameFace(faces[i].Rect, bx.Rect) {
				dup = true
				// Redact what either detector saw as the face.
				if big := faces[i].Rect.Union(bx.Rect); IoU(big, faces[i].Rect) >= 0.5 {
					out[i].Rect = big
				}
				out[i].Score = max(out[i].Score, bx.Score)
				break
			}
		}
		if !dup {
			out = append(out, detect.Face{Rect: bx.Rect, Detector: e.fnd.Name(), Score: bx.Score, NoDescriptor: true})
		}
	}
	return out
}

// Overlaps above which two boxes are one face. Detectors draw one face's box
// in different sizes and places (dlib HOG and CNN on the group photos: IoU
// 0.56-0.84, the smaller box 81-100 % inside the other), so both the IoU and
// the share of the smaller box inside the other count.
const (
	sameFaceIoU   = 0.3
	sameFaceCover = 0.6
)

// SameFace reports whether two boxes are taken to be the same face.
func SameFace(a, b image.Rectangle) bool {
	return IoU(a, b) >= sameFaceIoU || Cover(a, b) >= sameFaceCover
}

// IoU is the intersection over union of two rectangles.
func IoU(a, b image.Rectangle) float64 {
	in := area(a.Intersect(b))
	if in == 0 {
		return 0
	}
	return float64(in) / float64(area(a)+area(b)-in)
}

// Cover is the share of the smaller rectangle inside the other.
func Cover(a, b image.Rectangle) float64 {
	in := area(a.Intersect(b))
	m := min(area(a), area(b))
	if in == 0 || m == 0 {
		return 0
	}
	return float64(in) / float64(m)
}

func area(r image.Rectangle) int {
	if r.Empty() {
		return 0
	}
	return r.Dx() * r.Dy()
}
