package pipeline

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/photoguard/photoguard/detect"
	"github.com/photoguard/photoguard/pipeline/target"
	"github.com/photoguard/photoguard/redact/mask"
)

// class is a photo with three "faces": anna, bram and a stranger.
var (
	annaBox     = image.Rect(30, 40, 90, 100)
	bramBox     = image.Rect(130, 40, 190, 100)
	strangerBox = image.Rect(230, 120, 290, 180)
)

func classPhoto(t *testing.T) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 320, 240))
	for y := 0; y < 240; y++ {
		for x := 0; x < 320; x++ {
			img.Set(x, y, color.RGBA{uint8(100 + x/8), uint8(120 + y/8), 140, 255})
		}
	}
	noiseSquare(img, annaBox, 1)
	noiseSquare(img, bramBox, 2)
	noiseSquare(img, strangerBox, 3)
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func classFaces() *fakeAnalyzer {
	return &fakeAnalyzer{faces: []fakeFace{{annaBox, unit(0)}, {bramBox, unit(1)}, {strangerBox, unit(2)}}}
}

// faceEnv has anna (consent for website), bram (consent only for the parent
// portal) and an unknown face.
func faceEnv(t *testing.T, policy detect.Policy, det *fakeAnalyzer, reg *fakeConsent, dests ...string) *env {
	return faceEnvHook(t, policy, det, reg, nil)
}

// faceEnvHook is faceEnv with a step hook.
func faceEnvHook(t *testing.T, policy detect.Policy, det *fakeAnalyzer, reg *fakeConsent, hook func(string, *Job)) *env {
	if reg == nil {
		reg = &fakeConsent{
			people: []detect.Person{{ID: "anna", Descriptors: []detect.Descriptor{unit(0)}}, {ID: "bram", Descriptors: []detect.Descriptor{unit(1)}}},
			consent: map[string]map[string]bool{
				"anna": {"website": true, "parent_portal": true},
				"bram": {"website": false, "parent_portal": true},
			},
		}
	}
	return newEnv(t, func(o *Options) {
		o.Workers = 1
		o.Hook = hook
		o.Faces = &FaceOptions{
			Analyzer: det,
			Consent:  func() Consent { return reg },
			Match:    detect.MatchConfig{Threshold: 0.5, Margin: 0.06, MinFacePx: 20},
			Policy:   policy,
			Redact:   mask.DefaultOptions(),
		}
	})
}

func published(t *testing.T, e *env, it Item) image.Image {
	t.Helper()
	if it.Outcome != Published {
		t.Fatalf("%s: %s (%s)", it.Input, it.Outcome, it.Reason)
	}
	data, err := os.ReadFile(filepath.Join(e.out, it.Output))
	if err != nil {
		t.Fatal(err)
	}
	img, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func TestConsentPolicyRedactsAllButConsented(t *testing.T) {
	e := faceEnv(t, detect.PolicyConsent, classFaces(), nil)
	e.write("groep-5/klas.jpg", classPhoto(t))
	it := one(t, e.batch(), "groep-5/klas.jpg")
	img := published(t, e, it)

	if d := detail(img, annaBox); d < 25 {
		t.Errorf("anna (consent) is not recognisable: detail %.1f", d)
	}
	for name, box := range map[string]image.Rectangle{"bram (no consent)": bramBox, "stranger": strangerBox} {
		if d := detail(img, box); d > 10 {
			t.Errorf("%s is not redacted: detail %.1f", name, d)
		}
	}
	s := it.Faces
	if s == nil || s.Found != 3 || s.Shown != 1 || s.Redacted != 2 {
		t.Fatalf("face summary %+v", s)
	}
	if strings.Join(s.ShownIDs, ",") != "anna" || strings.Join(s.RedactedIDs, ",") != "bram" {
		t.Errorf("ids %v %v", s.ShownIDs, s.RedactedIDs)
	}
	if s.Reasons["redacted: no consent for website"] != 1 || s.Reasons["redacted: "+detect.WhyUnknown] != 1 || s.Reasons["shown: consent"] != 1 {
		t.Errorf("reasons %v", s.Reasons)
	}
}

func TestObjectionsPolicyShowsUnknown(t *testing.T) {
	e := faceEnv(t, detect.PolicyObjections, classFaces(), nil)
	e.write("klas.jpg", classPhoto(t))
	img := published(t, e, one(t, e.batch(), "klas.jpg"))
	if detail(img, strangerBox) < 25 || detail(img, annaBox) < 25 {
		t.Error("objections policy redacted an unknown or consented face")
	}
	if detail(img, bramBox) > 10 {
		t.Error("bram (no consent) shown under the objections policy")
	}
}

func TestPerPhotoObjection(t *testing.T) {
	data := classPhoto(t)
	reg := &fakeConsent{
		people:     []detect.Person{{ID: "anna", Descriptors: []detect.Descriptor{unit(0)}}},
		consent:    map[string]map[string]bool{"anna": {"website": true}},
		objections: map[string][]string{sha(data): {"anna"}},
	}
	e := faceEnv(t, detect.PolicyConsent, classFaces(), reg)
	e.write("klas.jpg", data)
	it := one(t, e.batch(), "klas.jpg")
	img := published(t, e, it)
	if detail(img, annaBox) > 10 {
		t.Error("anna objected to this photo but is recognisable")
	}
	if it.Faces.Reasons["redacted: "+detect.ReasonObjection] != 1 {
		t.Errorf("reasons %v", it.Faces.Reasons)
	}
}

func TestTwoChannelsRedactDifferently(t *testing.T) {
	e := faceEnv(t, detect.PolicyConsent, classFaces(), nil)
	portalDir := filepath.Join(filepath.Dir(e.out), "portal")
	portal := mustDir(t, portalDir)
	o := e.p.opt
	o.Destinations = append(o.Destinations, &Destination{Name: "portal", Channel: "parent_portal", Target: portal})
	e.build(o)
	e.write("klas.jpg", classPhoto(t))
	items := e.batch()["klas.jpg"]
	if len(items) != 2 {
		t.Fatalf("%+v", items)
	}
	for _, it := range items {
		out := e.out
		if it.Target == "portal" {
			out = portalDir
		}
		data, err := os.ReadFile(filepath.Join(out, it.Output))
		if err != nil {
			t.Fatal(err)
		}
		img, _, _ := image.Decode(bytes.NewReader(data))
		bramShown := detail(img, bramBox) > 25
		if bramShown != (it.Target == "portal") {
			t.Errorf("%s: bram shown=%v", it.Target, bramShown)
		}
	}
}

func TestFaceFailuresHold(t *testing.T) {
	bram := unit(1)
	// skipRedaction undoes the redaction after the step (a redaction bug,
	// or boxes mapped to the wrong place).
	skipRedaction := func(step string, j *Job) {
		if step == "redact" {
			for _, d := range j.Deliveries {
				d.Image = j.Image
			}
		}
	}
	cases := []struct {
		name   string
		det    *fakeAnalyzer
		reg    *fakeConsent
		hook   func(string, *Job)
		reason string
	}{
		{"detector error", &fakeAnalyzer{err: errDetector}, nil, nil, "face detection failed"},
		{"register unreadable", classFaces(), &fakeConsent{err: os.ErrPermission}, nil, "consent store cannot be used"},
		{"redaction that did not happen", classFaces(), nil, skipRedaction, "a redacted face kept its detail"},
		{"a shown face that became someone else in the output", func() *fakeAnalyzer { d := classFaces(); d.becomes = &bram; return d }(), nil, nil,
			"no longer a confident match"},
		{"a shown face no longer recognisable in the output", func() *fakeAnalyzer {
			d := classFaces()
			d.becomes = &detect.Descriptor{}
			return d
		}(), nil, nil, "no longer a confident match"},
		{"no publication size", func() *fakeAnalyzer { d := classFaces(); d.publishSide = -1; return d }(), nil, nil, "gave no publication size"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := faceEnvHook(t, detect.PolicyConsent, tc.det, tc.reg, tc.hook)
			in := e.write("klas.jpg", classPhoto(t))
			it := one(t, e.batch(), "klas.jpg")
			if it.Outcome != Held || !strings.Contains(it.Reason, tc.reason) {
				t.Fatalf("%s %q, want held with %q", it.Outcome, it.Reason, tc.reason)
			}
			if len(e.outputs()) != 0 {
				t.Error("something was published")
			}
			if exists(in) || !exists(filepath.Join(it.Aside, "klas.jpg")) {
				t.Error("input not moved to held/")
			}
		})
	}
}

// Pixels outside the redacted regions match the input's within re-encoding
// tolerance.
func TestPixelsOutsideRedactionsUnchanged(t *testing.T) {
	e := faceEnv(t, detect.PolicyConsent, classFaces(), nil)
	data := classPhoto(t)
	in, _, _ := image.Decode(bytes.NewReader(data))
	e.write("klas.jpg", data)
	out := published(t, e, one(t, e.batch(), "klas.jpg"))
	regions := []image.Rectangle{
		mask.Region(bramBox, 1.3, in.Bounds()).Inset(-8), // JPEG blocks bleed a little
		mask.Region(strangerBox, 1.3, in.Bounds()).Inset(-8),
	}
	var worst, sum float64
	n := 0
	for y := 0; y < 240; y++ {
		for x := 0; x < 320; x++ {
			p := image.Pt(x, y)
			if p.In(regions[0]) || p.In(regions[1]) {
				continue
			}
			a, _, _, _ := in.At(x, y).RGBA()
			b, _, _, _ := out.At(x, y).RGBA()
			d := float64(int(a>>8) - int(b>>8))
			if d < 0 {
				d = -d
			}
			sum += d
			n++
			// Pure noise (anna's face) re-encodes with large per-pixel
			// errors; the worst case is taken on smooth image only.
			if !p.In(annaBox.Inset(-8)) {
				worst = max(worst, d)
			}
		}
	}
	if mean := sum / float64(n); mean > 3 || worst > 24 {
		t.Errorf("outside the redactions: mean difference %.2f, worst %.0f", mean, worst)
	}
}

func mustDir(t *testing.T, p string) target.Target {
	t.Helper()
	tg, err := dirTarget(p)
	if err != nil {
		t.Fatal(err)
	}
	return tg
}

// A photo whose coverage floor holds only at a smaller size is published at
// that size, and the report says so.
func TestPublishedSmallerWhenTheFloorNeedsIt(t *testing.T) {
	det := classFaces()
	det.publishSide = 200
	det.floor = 19.5
	det.size = image.Pt(320, 240)
	det.seeThrough = true // resized noise has less detail than the fake's bar
	e := faceEnv(t, detect.PolicyConsent, det, nil)
	e.write("klas.jpg", classPhoto(t))
	it := one(t, e.batch(), "klas.jpg")
	img := published(t, e, it)
	if b := img.Bounds(); b.Dx() != 200 || b.Dy() != 150 {
		t.Errorf("published %v, want 200x150", b)
	}
	if f := it.Faces; f == nil || !f.Smaller || f.PublishedSide != 200 || f.FloorPx != 19.5 {
		t.Errorf("report %+v, want smaller, 200 px, floor 19.5", it.Faces)
	}
	// The faces were redacted where they are in the smaller photo: bram and
	// the stranger lost their detail, anna (consent) kept hers.
	s := 200.0 / 320
	scaled := func(r image.Rectangle) image.Rectangle {
		return image.Rect(int(float64(r.Min.X)*s), int(float64(r.Min.Y)*s), int(float64(r.Max.X)*s), int(float64(r.Max.Y)*s))
	}
	if detail(img, scaled(annaBox)) < 15 || detail(img, scaled(bramBox)) > 5 || detail(img, scaled(strangerBox)) > 5 {
		t.Errorf("detail anna %.0f bram %.0f stranger %.0f", detail(img, scaled(annaBox)), detail(img, scaled(bramBox)), detail(img, scaled(strangerBox)))
	}
}
