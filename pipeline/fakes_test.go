package pipeline

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"image"
	"image/color"
	"math"
	"sync"
	"time"

	"github.com/photoguard/photoguard/detect"
	"github.com/photoguard/photoguard/detect/analyze"
	"github.com/photoguard/photoguard/pipeline/target"
	"github.com/photoguard/photoguard/pipeline/target/dir"
)

// fakeFace is a face a fakeDetector can find.
type fakeFace struct {
	rect image.Rectangle
	desc detect.Descriptor
}

// fakeAnalyzer finds its scripted faces where the image still has the
// detail of a face (noise texture): a face that was blurred, pixelated or
// filled in the pixels it is given is not found any more, as with a real
// detector. It works on whatever image it gets, so in the output check it
// judges the real, decoded output bytes.
type fakeAnalyzer struct {
	mu    sync.Mutex
	faces []fakeFace
	// seeThrough finds every face even when redacted.
	seeThrough bool
	// becomes, when set, is the descriptor Describe gives every face of
	// the output (a face shown that has become someone else).
	becomes *detect.Descriptor
	// floor and publishSide, when set, are what Analyze reports.
	floor       float64
	publishSide int
	// size is the size of the photo the faces are scripted for (needed
	// only when the output is published smaller).
	size      image.Point
	err       error
	calls     int
	describes int
}

func (f *fakeAnalyzer) Analyze(ctx context.Context, img *image.NRGBA, publishSide int) (*detect.Analysis, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.err != nil {
		return nil, f.err
	}
	a := &detect.Analysis{FloorPx: 20, PublishSide: publishSide}
	if f.floor > 0 {
		a.FloorPx = f.floor
	}
	if f.publishSide != 0 {
		a.PublishSide = f.publishSide
	}
	for _, ff := range f.faces {
		if f.seeThrough || detail(img, ff.rect) > 25 {
			a.Faces = append(a.Faces, detect.Face{Rect: ff.rect, Descriptor: ff.desc, Detector: "fake"})
		}
	}
	return a, nil
}

func (f *fakeAnalyzer) Describe(ctx context.Context, img *image.NRGBA, boxes []image.Rectangle) ([]detect.Face, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.describes++
	out := make([]detect.Face, len(boxes))
	for i, b := range boxes {
		out[i] = detect.Face{Rect: b, NoDescriptor: true}
		for _, ff := range f.faces {
			r := ff.rect
			if f.size != (image.Point{}) && f.size != img.Bounds().Size() {
				// The output is published smaller: the face is there.
				sx := float64(img.Bounds().Dx()) / float64(f.size.X)
				sy := float64(img.Bounds().Dy()) / float64(f.size.Y)
				r = image.Rect(int(float64(r.Min.X)*sx), int(float64(r.Min.Y)*sy), int(float64(r.Max.X)*sx), int(float64(r.Max.Y)*sy))
			}
			if iou(r, b) >= 0.4 && (f.seeThrough || detail(img, r) > 25) {
				out[i] = detect.Face{Rect: r, Descriptor: ff.desc, Detector: "fake"}
				if f.becomes != nil {
					out[i].Descriptor = *f.becomes
				}
			}
		}
	}
	return out, nil
}

func iou(a, b image.Rectangle) float64 { return analyze.IoU(a, b) }

// detail is the mean absolute difference of horizontally adjacent pixels
// (green) inside r.
func detail(img image.Image, r image.Rectangle) float64 {
	r = r.Intersect(img.Bounds())
	var sum float64
	n := 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X-1; x++ {
			_, a, _, _ := img.At(x, y).RGBA()
			_, b, _, _ := img.At(x+1, y).RGBA()
			sum += math.Abs(float64(a>>8) - float64(b>>8))
			n++
		}
	}
	if n == 0 {
		return 0
	}
	return sum / float64(n)
}

// fakeConsent is an in-memory register.
type fakeConsent struct {
	people     []detect.Person
	consent    map[string]map[string]bool // id -> channel -> ok
	objections map[string][]string        // sha -> ids
	models     map[string]int             // model id -> references
	err        error
}

func (r *fakeConsent) People() []detect.Person { return r.people }
func (r *fakeConsent) Consent(id, channel string, now time.Time) (bool, string) {
	if c, ok := r.consent[id]; ok && c[channel] {
		return true, "consent"
	}
	if _, ok := r.consent[id]; !ok {
		return false, "not in the consent store"
	}
	return false, "no consent for " + channel
}
func (r *fakeConsent) Objections(sha string) []string { return r.objections[sha] }
func (r *fakeConsent) Models() map[string]int         { return r.models }
func (r *fakeConsent) Err() error                     { return r.err }

// noFaces is the face setup of tests about everything else: a detector that
// finds nothing and an empty register. The workers share the detector.
func noFaces(workers int) *FaceOptions {
	reg := &fakeConsent{}
	return &FaceOptions{
		Analyzer: &fakeAnalyzer{},
		Consent:  func() Consent { return reg },
		Match:    detect.MatchConfig{Threshold: 0.5, Margin: 0.06, MinFacePx: 20},
		Policy:   detect.PolicyConsent,
		Redact:   redactDefaults(),
	}
}

// unit is a descriptor along one axis: two units are sqrt(2) apart, far
// beyond any threshold.
func unit(axis int) detect.Descriptor {
	var d detect.Descriptor
	d[axis] = 1
	return d
}

// noiseSquare paints r with a fixed noise texture: what a face looks like to
// the fake detector.
func noiseSquare(img *image.RGBA, r image.Rectangle, seed int) {
	s := uint32(seed*2654435761 + 1)
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			s = s*1664525 + 1013904223
			v := uint8(s >> 24)
			img.Set(x, y, color.RGBA{v, uint8(s >> 16), v / 2, 255})
		}
	}
}

var errDetector = errors.New("dlib: out of memory")

func sha(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

func dirTarget(p string) (target.Target, error) { return dir.New(p) }
