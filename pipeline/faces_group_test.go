package pipeline

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"strings"
	"testing"
	"time"

	"github.com/photoguard/photoguard/detect"
	"github.com/photoguard/photoguard/redact/mask"
)

// TestGroupFolderScopesTheMatch: anna is in groep 5, bram in groep 6, both
// with consent for the website. A photo in inbox/groep-5/ shows anna and
// redacts bram (saying why); the same photo outside any group folder, or in
// a folder that is no group of the register, shows both.
func TestGroupFolderScopesTheMatch(t *testing.T) {
	reg := &fakeConsent{
		people: []detect.Person{
			{ID: "anna", Group: "Groep 5", Descriptors: []detect.Descriptor{unit(0)}},
			{ID: "bram", Group: "Groep 6", Descriptors: []detect.Descriptor{unit(1)}},
		},
		consent: map[string]map[string]bool{"anna": {"website": true}, "bram": {"website": true}},
	}
	e := faceEnv(t, detect.PolicyConsent, classFaces(), reg)
	for _, rel := range []string{"groep-5/klas.jpg", "groep 5/feest/klas2.jpg", "klas3.jpg", "uitstapje/klas4.jpg"} {
		data := classPhoto(t)
		data = append(data, []byte(rel)...) // another content hash per copy
		e.write(rel, data)
	}
	items := e.batch()
	for rel, wantBram := range map[string]bool{"groep-5/klas.jpg": false, "groep 5/feest/klas2.jpg": false, "klas3.jpg": true, "uitstapje/klas4.jpg": true} {
		it := one(t, items, rel)
		img := published(t, e, it)
		if d := detail(img, annaBox); d < 25 {
			t.Errorf("%s: anna (groep 5, consent) is not recognisable: detail %.1f", rel, d)
		}
		if shown := detail(img, bramBox) > 25; shown != wantBram {
			t.Errorf("%s: bram (groep 6) shown %v, want %v", rel, shown, wantBram)
		}
		if !wantBram && it.Faces.Reasons["redacted: "+detect.WhyOtherGroup] != 1 {
			t.Errorf("%s: reasons %v", rel, it.Faces.Reasons)
		}
	}
}

// TestOldReferencesFade: a pupil whose only reference is older than the
// reference age is not shown; with a fresh one beside it, they are.
func TestOldReferencesFade(t *testing.T) {
	old := time.Now().AddDate(-3, 0, 0)
	for _, c := range []struct {
		added []time.Time
		descs []detect.Descriptor
		shown bool
	}{
		{[]time.Time{old}, []detect.Descriptor{unit(0)}, false},
		{[]time.Time{old, time.Now().AddDate(0, -1, 0)}, []detect.Descriptor{unit(0), unit(0)}, true},
		{nil, []detect.Descriptor{unit(0)}, true}, // undated: a store from before dates were kept
	} {
		reg := &fakeConsent{
			people:  []detect.Person{{ID: "anna", Descriptors: c.descs, Added: c.added}},
			consent: map[string]map[string]bool{"anna": {"website": true}},
		}
		e := faceEnv(t, detect.PolicyConsent, classFaces(), reg)
		e.write("klas.jpg", classPhoto(t))
		it := one(t, e.batch(), "klas.jpg")
		img := published(t, e, it)
		if shown := detail(img, annaBox) > 25; shown != c.shown {
			t.Errorf("references added %v: anna shown %v, want %v (%v)", c.added, shown, c.shown, it.Faces.Reasons)
		}
		if !c.shown && it.Faces.Reasons["redacted: "+detect.WhyStale] != 1 {
			t.Errorf("reasons %v", it.Faces.Reasons)
		}
	}
}

func TestPhotoGroup(t *testing.T) {
	people := []detect.Person{{ID: "a", Group: "Groep 5"}, {ID: "b", Group: "groep 6"}}
	for _, c := range []struct{ root, rel, want string }{
		{"/srv/inbox", "groep-5/x.jpg", "Groep 5"},
		{"/srv/inbox", "groep-5/zomerfeest/x.jpg", "Groep 5"},
		{"/srv/inbox", "x.jpg", ""},
		{"/srv/inbox", "schoolreis/x.jpg", ""},
		{"/home/juf/groep 6", "x.jpg", "groep 6"},
		{"/home/juf/groep 6", "feest/x.jpg", "groep 6"},
		{"/srv/inbox", "schoolreis/groep5/x.jpg", "Groep 5"},
	} {
		if got := photoGroup(&Job{Root: c.root, Rel: c.rel}, people); got != c.want {
			t.Errorf("%s + %s: %q, want %q", c.root, c.rel, got, c.want)
		}
	}
	if g := photoGroup(&Job{Root: "/srv/inbox", Rel: "groep-5/x.jpg"}, nil); g != "" || strings.Contains(g, "5") {
		t.Errorf("nobody enrolled: %q", g)
	}
}

// TestGroupMarginNeedsTheSchool: a face 0.30 from anna (groep 5) and 0.50
// from bram (groep 6) passes the group margin (0.18) but not the margin of
// the whole school (0.30). In groep-5/ it is shown only when at least
// GroupMinOutside pupils are enrolled outside groep 5; outside a group
// folder never.
func TestGroupMarginNeedsTheSchool(t *testing.T) {
	face := unit(0) // the face in annaBox
	near := func(d float64, axis int) detect.Descriptor {
		v := face
		v[axis] += float32(d)
		return v
	}
	for _, c := range []struct {
		rel     string
		outside int
		shown   bool
	}{
		{"groep-5/a.jpg", GroupMinOutside, true},
		{"groep-5/a.jpg", GroupMinOutside - 1, false},
		{"a.jpg", GroupMinOutside, false},
	} {
		people := []detect.Person{
			{ID: "anna", Group: "Groep 5", Descriptors: []detect.Descriptor{near(0.30, 5)}},
			{ID: "bram", Group: "Groep 6", Descriptors: []detect.Descriptor{near(0.50, 6)}},
		}
		// The rest of the school: far from everyone (bram is one of them).
		for i := 1; i < c.outside; i++ {
			people = append(people, detect.Person{ID: fmt.Sprintf("p%d", i), Group: "Groep 7", Descriptors: []detect.Descriptor{unit(10 + i%100)}})
		}
		reg := &fakeConsent{people: people, consent: map[string]map[string]bool{"anna": {"website": true}}}
		det := &fakeAnalyzer{faces: []fakeFace{{annaBox, face}}}
		e := newEnv(t, func(o *Options) {
			o.Workers = 1
			o.Faces = &FaceOptions{Analyzer: det, Consent: func() Consent { return reg }, Policy: detect.PolicyConsent,
				Match: detect.MatchConfig{Threshold: 0.52, Margin: 0.30, MinFacePx: 20}, Redact: mask.DefaultOptions()}
		})
		e.write(c.rel, classPhoto(t))
		it := one(t, e.batch(), c.rel)
		img := published(t, e, it)
		if shown := detail(img, annaBox) > 25; shown != c.shown {
			t.Errorf("%s with %d enrolled outside groep 5: anna shown %v, want %v (%v)", c.rel, c.outside, shown, c.shown, it.Faces.Reasons)
		}
	}
}

// TestBlurredFaceIsNotMatched: a face with no detail left (here a flat
// patch the fake detector still describes as anna) is redacted as too
// blurred, although its descriptor matches anna, who has consent.
func TestBlurredFaceIsNotMatched(t *testing.T) {
	img := image.NewRGBA(image.Rect(0, 0, 320, 240))
	for y := 0; y < 240; y++ {
		for x := 0; x < 320; x++ {
			img.Set(x, y, color.RGBA{uint8(100 + x/8), uint8(120 + y/8), 140, 255})
		}
	}
	noiseSquare(img, bramBox, 2) // a sharp face beside it
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	reg := &fakeConsent{
		people:  []detect.Person{{ID: "anna", Descriptors: []detect.Descriptor{unit(0)}}, {ID: "bram", Descriptors: []detect.Descriptor{unit(1)}}},
		consent: map[string]map[string]bool{"anna": {"website": true}, "bram": {"website": true}},
	}
	det := &fakeAnalyzer{seeThrough: true, faces: []fakeFace{{annaBox, unit(0)}, {bramBox, unit(1)}}}
	e := faceEnv(t, detect.PolicyConsent, det, reg)
	e.write("klas.jpg", buf.Bytes())
	it := one(t, e.batch(), "klas.jpg")
	if it.Outcome != Published || it.Faces.Shown != 1 || it.Faces.Reasons["redacted: "+detect.WhyBlurred] != 1 {
		t.Errorf("%s: %+v", it.Outcome, it.Faces)
	}
}
