package analyze

import (
	"context"
	"image"
	"image/color"
	"math"
	"testing"
	"time"

	"github.com/photoguard/photoguard/detect"
)

// fakeFinder returns its boxes that are at least minFace wide, and records
// what it was asked.
type fakeFinder struct {
	reach Reach
	boxes []Box
	asked []float64
	// onlyNormalized finds its boxes only in a copy that is not dark.
	onlyNormalized bool
}

func (f *fakeFinder) Name() string { return "fake" }
func (f *fakeFinder) Reach() Reach { return f.reach }
func (f *fakeFinder) Find(ctx context.Context, img *image.NRGBA, minFace float64) ([]Box, error) {
	f.asked = append(f.asked, minFace)
	if f.onlyNormalized && img.Pix[0] < 100 {
		return nil, nil
	}
	var out []Box
	for _, b := range f.boxes {
		if float64(b.Rect.Dx()) >= minFace {
			out = append(out, b)
		}
	}
	return out, nil
}

type fakeRec struct {
	reach     Reach
	faces     []detect.Face
	describes map[image.Rectangle]detect.Face
	asked     []float64
	described []image.Rectangle
}

func (r *fakeRec) Reach() Reach { return r.reach }
func (r *fakeRec) Faces(ctx context.Context, img *image.NRGBA, minFace float64) ([]detect.Face, error) {
	r.asked = append(r.asked, minFace)
	var out []detect.Face
	for _, f := range r.faces {
		if float64(f.Rect.Dx()) >= minFace {
			out = append(out, f)
		}
	}
	return out, nil
}
func (r *fakeRec) Describe(ctx context.Context, img *image.NRGBA, boxes []image.Rectangle) ([]detect.Face, error) {
	out := make([]detect.Face, len(boxes))
	for i, b := range boxes {
		r.described = append(r.described, b)
		if f, ok := r.describes[b]; ok {
			out[i] = f
		} else {
			out[i] = detect.Face{Rect: b, NoDescriptor: true}
		}
	}
	return out, nil
}

var (
	blaze = Reach{Floor: 16, MaxScale: 3, CostPerMP: 50 * time.Millisecond}
	hog   = Reach{Floor: 60, MaxScale: 2, CostPerMP: 120 * time.Millisecond}
	cfg   = Config{CoveragePx: 20, MinFacePx: 60}
)

func TestPlan(t *testing.T) {
	cases := []struct {
		name        string
		finder      bool
		size        image.Point
		publish     int
		budget      time.Duration
		wantSide    int
		wantFindMin float64
		wantRecMin  float64
	}{
		// A tablet photo published at 2048: a 20 px face there is 39.4 px
		// in the original; the recogniser needs the 60 px faces (118 px in
		// the original) at its floor: it sees the photo at half size.
		{"12 MP with finder", true, image.Pt(4032, 3024), 2048, 0, 2048, 20 * 4032 / 2048.0, 60 * 4032 / 2048.0},
		// A small photo published as it is: the finder enlarges it.
		{"640x480 with finder", true, image.Pt(640, 480), 2048, 0, 640, 20, 60},
		// Without a finder HOG must reach the floor: 60/20 = 3x is more
		// than its 2x, so the photo is published at 2/3 of its size.
		{"640x480 HOG only", false, image.Pt(640, 480), 2048, 0, 426, 30, 30},
		// Without a finder on a 12 MP photo HOG reaches 30 px in the
		// original, so a 2048 px publication keeps the floor.
		{"12 MP HOG only", false, image.Pt(4032, 3024), 2048, 0, 2048, 20 * 4032 / 2048.0, 20 * 4032 / 2048.0},
		// A time budget that HOG at 1.5x on 12 MP (27 MP seen, ~3.4 s)
		// exceeds: published smaller until the estimate fits.
		{"12 MP HOG only, 2 s budget", false, image.Pt(4032, 3024), 2048, 2 * time.Second, 1492, 20 * 4032 / 1492.0, 20 * 4032 / 1492.0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var f Finder
			if tc.finder {
				f = &fakeFinder{reach: blaze}
			}
			c := cfg
			c.TimeBudget = tc.budget
			e, err := New(c, f, &fakeRec{reach: hog})
			if err != nil {
				t.Fatal(err)
			}
			p := e.Plan(tc.size, tc.publish)
			if p.PublishSide != tc.wantSide || math.Abs(p.FindMin-tc.wantFindMin) > 0.05 || math.Abs(p.RecMin-tc.wantRecMin) > 0.05 {
				t.Errorf("plan %+v, want side %d, find %.1f, rec %.1f", p, tc.wantSide, tc.wantFindMin, tc.wantRecMin)
			}
			if p.FloorPx > cfg.CoveragePx+1e-6 {
				t.Errorf("floor %.2f px is coarser than promised (%v)", p.FloorPx, cfg.CoveragePx)
			}
			if tc.budget > 0 && p.Estimate > tc.budget {
				t.Errorf("estimate %v over budget %v", p.Estimate, tc.budget)
			}
		})
	}
}

func gray(w, h int, v uint8) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = v
	}
	return img
}

func TestAnalyzeMergesAndDescribes(t *testing.T) {
	var d1, d2 detect.Descriptor
	d1[0], d2[1] = 1, 1
	hogFace := detect.Face{Rect: image.Rect(100, 100, 260, 260), Descriptor: d1, Detector: "hog"}
	sameAsHog := Box{Rect: image.Rect(95, 90, 265, 270), Score: 0.9}
	bigOnlyFinder := Box{Rect: image.Rect(1000, 100, 1160, 260), Score: 0.8}
	smallOnlyFinder := Box{Rect: image.Rect(2000, 100, 2045, 145), Score: 0.7}
	tooSmallForFloor := Box{Rect: image.Rect(3000, 100, 3010, 110), Score: 0.9}
	f := &fakeFinder{reach: blaze, boxes: []Box{sameAsHog, bigOnlyFinder, smallOnlyFinder, tooSmallForFloor}}
	described := detect.Face{Rect: image.Rect(1010, 110, 1150, 250), Descriptor: d2, Detector: "hog"}
	// The recogniser's own detector would find hogFace; with a finder it
	// must not run at all: it only describes the finder's boxes.
	r := &fakeRec{reach: hog, faces: []detect.Face{hogFace},
		describes: map[image.Rectangle]detect.Face{bigOnlyFinder.Rect: described, sameAsHog.Rect: hogFace}}
	e, err := New(cfg, f, r)
	if err != nil {
		t.Fatal(err)
	}
	a, err := e.Analyze(context.Background(), gray(4032, 3024, 128), 2048)
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Faces) != 3 {
		t.Fatalf("faces %+v, want 3 (hog, described, small undescribed)", a.Faces)
	}
	if a.Faces[0].Descriptor != d1 || a.Faces[0].NoDescriptor || !a.Faces[0].Rect.Eq(hogFace.Rect.Union(sameAsHog.Rect)) {
		t.Errorf("face %+v: want the descriptor of the face aligned there and the union of both boxes", a.Faces[0])
	}
	if a.Faces[1].Descriptor != d2 || a.Faces[1].NoDescriptor || !a.Faces[1].Rect.Eq(bigOnlyFinder.Rect) {
		t.Errorf("finder face %+v: want described, box covering the finder's", a.Faces[1])
	}
	if !a.Faces[2].NoDescriptor || !a.Faces[2].Rect.Eq(smallOnlyFinder.Rect) {
		t.Errorf("small face %+v: want undescribed", a.Faces[2])
	}
	// Only the two big finder faces were sent to be described (the small
	// one is 45 px in the original, 23 px published: below min_face_px),
	// and the recogniser's detector never ran.
	if len(r.described) != 2 {
		t.Errorf("described %v", r.described)
	}
	if len(r.asked) != 0 {
		t.Errorf("the recogniser's detector ran (%v) although a finder is configured", r.asked)
	}
	if a.FloorPx > 20 || a.PublishSide != 2048 {
		t.Errorf("floor %v, side %d", a.FloorPx, a.PublishSide)
	}
}

func TestAnalyzeDarkPhotoUsesNormalizedCopy(t *testing.T) {
	// A 6 % brightness photo with some structure.
	img := gray(800, 600, 10)
	for y := 0; y < 600; y++ {
		for x := 0; x < 800; x += 7 {
			img.SetNRGBA(x, y, color.NRGBA{18, 18, 18, 255})
		}
	}
	face := Box{Rect: image.Rect(100, 100, 150, 150), Score: 0.8}
	f := &fakeFinder{reach: blaze, boxes: []Box{face}, onlyNormalized: true}
	c := cfg
	c.Normalize = true
	e, _ := New(c, f, &fakeRec{reach: hog})
	a, err := e.Analyze(context.Background(), img, 2048)
	if err != nil {
		t.Fatal(err)
	}
	if !a.Normalized || len(a.Faces) != 1 {
		t.Fatalf("normalized %v, faces %v: the face visible after a contrast stretch must be found", a.Normalized, a.Faces)
	}
	c.Normalize = false
	e, _ = New(c, f, &fakeRec{reach: hog})
	a, _ = e.Analyze(context.Background(), img, 2048)
	if len(a.Faces) != 0 {
		t.Fatalf("the fake must need the normalised copy to be a test at all")
	}
}

func TestNormalize(t *testing.T) {
	if _, ok := Normalize(gray(100, 100, 128)); !ok {
		t.Error("a flat grey photo is washed out")
	}
	img := gray(256, 10, 0)
	for x := 0; x < 256; x++ {
		for y := 0; y < 10; y++ {
			img.SetNRGBA(x, y, color.NRGBA{uint8(x), uint8(x), uint8(x), 255})
		}
	}
	if _, ok := Normalize(img); ok {
		t.Error("a full-range photo needs no normalisation")
	}
	dark := gray(256, 10, 0)
	for x := 0; x < 256; x++ {
		for y := 0; y < 10; y++ {
			v := uint8(x * 15 / 255)
			dark.SetNRGBA(x, y, color.NRGBA{v, v, v, 255})
		}
	}
	n, ok := Normalize(dark)
	if !ok {
		t.Fatal("a 6 % photo must be normalised")
	}
	if lo, hi := n.Pix[0], n.Pix[4*255]; lo > 5 || hi < 250 {
		t.Errorf("stretched to %d..%d, want about 0..255", lo, hi)
	}
}

func TestConfigValidate(t *testing.T) {
	for _, c := range []Config{{CoveragePx: 4, MinFacePx: 60}, {CoveragePx: 20, MinFacePx: 10}, {CoveragePx: 20, MinFacePx: 60, TimeBudget: -1}} {
		if err := c.Validate(); err == nil {
			t.Errorf("%+v accepted", c)
		}
	}
	if err := cfg.Validate(); err != nil {
		t.Error(err)
	}
}

// darkRec describes a face only where its image is bright enough (a
// stretched copy), except the faces in always, and records which copy it
// was asked about.
type darkRec struct {
	fakeRec
	always map[image.Rectangle]bool
	seen   []uint8
}

func (r *darkRec) Describe(ctx context.Context, img *image.NRGBA, boxes []image.Rectangle) ([]detect.Face, error) {
	r.seen = append(r.seen, img.Pix[0])
	out := make([]detect.Face, len(boxes))
	for i, b := range boxes {
		out[i] = detect.Face{Rect: b, NoDescriptor: true}
		if r.always[b] || img.Pix[0] >= 100 {
			out[i] = detect.Face{Rect: b, Descriptor: detect.Descriptor{float32(img.Pix[0])}}
		}
	}
	return out, nil
}

// TestDescribeOriginalFirst: faces are described from the original's pixels
// (as enrollment describes them); only a face that cannot be aligned there
// is tried on the contrast-stretched copy of a dark photo.
func TestDescribeOriginalFirst(t *testing.T) {
	img := gray(800, 600, 10)
	for y := 0; y < 600; y++ {
		for x := 0; x < 800; x += 7 {
			img.SetNRGBA(x, y, color.NRGBA{18, 18, 18, 255})
		}
	}
	a := Box{Rect: image.Rect(100, 100, 200, 200), Score: 0.9}
	b := Box{Rect: image.Rect(400, 100, 500, 200), Score: 0.9}
	f := &fakeFinder{reach: blaze, boxes: []Box{a, b}}
	r := &darkRec{fakeRec: fakeRec{reach: hog}, always: map[image.Rectangle]bool{b.Rect: true}}
	c := cfg
	c.Normalize = true
	e, _ := New(c, f, r)
	an, err := e.Analyze(context.Background(), img, 800)
	if err != nil {
		t.Fatal(err)
	}
	if !an.Normalized || len(an.Faces) != 2 {
		t.Fatalf("normalized %v, faces %v", an.Normalized, an.Faces)
	}
	if len(r.seen) != 2 || r.seen[0] >= 100 || r.seen[1] < 100 {
		t.Fatalf("described copies %v, want the original first, then the stretched one", r.seen)
	}
	for _, fc := range an.Faces {
		switch {
		case fc.NoDescriptor:
			t.Errorf("face %v not described", fc.Rect)
		case fc.Rect.Min.X == 400 && fc.Descriptor[0] >= 100:
			t.Errorf("the face the original's pixels describe was described from the stretched copy")
		case fc.Rect.Min.X == 100 && fc.Descriptor[0] < 100:
			t.Errorf("the dark face was not described from the stretched copy")
		}
	}
}

// focusFinder is a FocusFinder: its small box is found only by the second
// look, where focus lets it look.
type focusFinder struct {
	fakeFinder
	small  Box
	wholes int // calls with a second look everywhere
}

func (f *focusFinder) Find(ctx context.Context, img *image.NRGBA, minFace float64) ([]Box, error) {
	f.wholes++
	found, _ := f.fakeFinder.Find(ctx, img, minFace)
	return append(found, f.small), nil
}

func (f *focusFinder) FindFocus(ctx context.Context, img *image.NRGBA, minFace float64, focus Focus) ([]Box, error) {
	if !focus.Partial {
		return f.Find(ctx, img, minFace)
	}
	found, _ := f.fakeFinder.Find(ctx, img, minFace)
	for _, r := range focus.Regions {
		if f.small.Rect.In(r) {
			return append(found, f.small), nil
		}
	}
	return found, nil
}

func (f *focusFinder) SecondLookWidth() float64 { return 4 }

// A photo's analysis looks everywhere twice; FindAround limits the second
// look where it says, and FocusWidth is the finder's share of the plan.
func TestFindFocus(t *testing.T) {
	big := Box{Rect: image.Rect(100, 100, 200, 200), Score: 0.9}
	small := Box{Rect: image.Rect(400, 100, 420, 120), Score: 0.3}
	f := &focusFinder{fakeFinder: fakeFinder{reach: blaze, boxes: []Box{big}}, small: small}
	e, err := New(Config{CoveragePx: 20, MinFacePx: 40}, f, &fakeRec{reach: blaze})
	if err != nil {
		t.Fatal(err)
	}
	img := image.NewNRGBA(image.Rect(0, 0, 640, 480))
	ctx := context.Background()
	count := func(a *detect.Analysis, err error) int {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return len(a.Faces)
	}
	if n := count(e.Analyze(ctx, img, 640)); n != 2 || f.wholes != 1 {
		t.Errorf("a photo: %d faces, %d looks everywhere; want 2 and 1", n, f.wholes)
	}
	if n := count(e.Find(ctx, img, 640)); n != 2 || f.wholes != 2 {
		t.Errorf("Find: %d faces, %d looks everywhere; want 2 and 2", n, f.wholes)
	}
	if n := count(e.FindAround(ctx, img, 640, nil)); n != 1 || f.wholes != 2 {
		t.Errorf("no second look: %d faces, %d looks everywhere; want 1 and 2", n, f.wholes)
	}
	around := []image.Rectangle{image.Rect(380, 80, 440, 140)}
	if n := count(e.FindAround(ctx, img, 640, around)); n != 2 || f.wholes != 2 {
		t.Errorf("second look around the small face: %d faces, %d looks everywhere; want 2 and 2", n, f.wholes)
	}
	if w, ok := e.FocusWidth(img.Rect.Size(), 640); !ok || w != 4*20 {
		t.Errorf("FocusWidth %v %v, want 80 true", w, ok)
	}
	plain, _ := New(Config{CoveragePx: 20, MinFacePx: 40}, &fakeFinder{reach: blaze}, &fakeRec{reach: blaze})
	if _, ok := plain.FocusWidth(img.Rect.Size(), 640); ok {
		t.Error("a finder without focus has a FocusWidth")
	}
}
