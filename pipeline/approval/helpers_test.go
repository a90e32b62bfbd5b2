package approval

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/jpeg"
	"sync"
	"testing"
	"time"

	"github.com/photoguard/photoguard/detect"
	"github.com/photoguard/photoguard/pipeline"
	"github.com/photoguard/photoguard/pipeline/consent"
	"github.com/photoguard/photoguard/redact/mask"
)

// The fakes of these tests: photos whose faces are noise squares at known
// places (the fake detector knows them by the photo's width), pupils whose
// descriptors are unit vectors, and a register whose consent a test can
// withdraw.

type face struct {
	rect image.Rectangle
	who  int // the pupil's axis (p0, p1, ...)
}

type fakeAnalyzer struct{ byWidth map[int][]face }

func (f *fakeAnalyzer) Analyze(ctx context.Context, img *image.NRGBA, publishSide int) (*detect.Analysis, error) {
	a := &detect.Analysis{FloorPx: 20, PublishSide: publishSide}
	for _, fc := range f.byWidth[img.Rect.Dx()] {
		a.Faces = append(a.Faces, detect.Face{Rect: fc.rect, Descriptor: unit(fc.who), Detector: "fake"})
	}
	return a, nil
}

func (f *fakeAnalyzer) Describe(ctx context.Context, img *image.NRGBA, boxes []image.Rectangle) ([]detect.Face, error) {
	out := make([]detect.Face, len(boxes))
	for i, b := range boxes {
		out[i] = detect.Face{Rect: b, NoDescriptor: true}
		for _, fc := range f.byWidth[img.Rect.Dx()] {
			if fc.rect == b {
				out[i] = detect.Face{Rect: b, Descriptor: unit(fc.who), Detector: "fake"}
			}
		}
	}
	return out, nil
}

func unit(axis int) detect.Descriptor {
	var d detect.Descriptor
	d[axis] = 1
	return d
}

type register struct {
	mu      sync.Mutex
	people  []detect.Person
	consent map[string]map[string]bool
}

func (r *register) People() []detect.Person { return r.people }
func (r *register) Consent(id, channel string, now time.Time) (bool, string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.consent[id][channel] {
		return true, "consent"
	}
	return false, "no consent for " + channel
}
func (r *register) Objections(string) []string { return nil }
func (r *register) Models() map[string]int     { return nil }
func (r *register) Err() error                 { return nil }

func (r *register) revoke(id, channel string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.consent[id], channel)
}

// newRegister: pupils p0..p(n-1), each with consent for every channel given.
func newRegister(n int, channels ...string) *register {
	r := &register{consent: map[string]map[string]bool{}}
	for i := 0; i < n; i++ {
		id := "p" + string(rune('0'+i))
		r.people = append(r.people, detect.Person{ID: id, Descriptors: []detect.Descriptor{unit(i)}})
		r.consent[id] = map[string]bool{}
		for _, c := range channels {
			r.consent[id][c] = true
		}
	}
	return r
}

func faceOptions(det *fakeAnalyzer, reg *register) *pipeline.FaceOptions {
	return &pipeline.FaceOptions{
		Analyzer: det,
		Consent:  func() pipeline.Consent { return reg },
		Match:    detect.MatchConfig{Threshold: 0.5, Margin: 0.06, MinFacePx: 20},
		Policy:   detect.PolicyConsent,
		Redact:   mask.DefaultOptions(),
	}
}

// photoWith is a JPEG of width x height with a noise square at each face
// (and seed in its pixels, so that photos differ).
func photoWith(t testing.TB, width, height, seed int, faces []face) []byte {
	img := image.NewRGBA(image.Rect(0, 0, width, height))
	for y := 0; y < height; y++ {
		for x := 0; x < width; x++ {
			img.Set(x, y, color.RGBA{uint8(x/4 + seed*29), uint8(y/4 + seed*17), 90, 255})
		}
	}
	for k, fc := range faces {
		s := uint32((seed*7+k)*2654435761 + 1)
		for y := fc.rect.Min.Y; y < fc.rect.Max.Y; y++ {
			for x := fc.rect.Min.X; x < fc.rect.Max.X; x++ {
				s = s*1664525 + 1013904223
				img.Set(x, y, color.RGBA{uint8(s >> 24), uint8(s >> 16), uint8(s >> 8), 255})
			}
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func testKey(t testing.TB) consent.Key {
	k, err := consent.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// memLedger records what the pipeline tells the ledger.
type memLedger struct {
	mu   sync.Mutex
	pubs []pipeline.Publication
}

func (l *memLedger) Publishing(p pipeline.Publication) error { return nil }
func (l *memLedger) Withdrawn(p pipeline.Publication) error  { return nil }
func (l *memLedger) Published(p pipeline.Publication) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.pubs = append(l.pubs, p)
	return nil
}
