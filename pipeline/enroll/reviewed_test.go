package enroll

import (
	"context"
	"errors"
	"fmt"
	"image"
	"slices"
	"strings"
	"testing"

	"github.com/photoguard/photoguard/detect"
	"github.com/photoguard/photoguard/pipeline"
	"github.com/photoguard/photoguard/pipeline/audit"
	"github.com/photoguard/photoguard/pipeline/consent"
	"github.com/photoguard/photoguard/pipeline/journal"
	"github.com/photoguard/photoguard/pipeline/review"
)

// cropRecognizer finds, in a review crop, the faces its place function puts
// relative to the picture's bounds.
type cropRecognizer struct {
	calls int
	place func(b image.Rectangle) []detect.Face
}

func (d *cropRecognizer) Detect(ctx context.Context, img image.Image) ([]detect.Face, error) {
	d.calls++
	return d.place(img.Bounds()), nil
}

// centred is a face of side px at the centre of b, described as axis a.
func centred(b image.Rectangle, px, a int) detect.Face {
	c := image.Pt(b.Dx()/2, b.Dy()/2)
	return detect.Face{Rect: image.Rect(c.X-px/2, c.Y-px/2, c.X+px/2, c.Y+px/2), Descriptor: axis(a)}
}

// reviewedPhoto is a photo with two faces, published on the website with
// face 1 shown and face 2 redacted, held for the newsletter; its review
// record and journal record are in the returned state folder.
func reviewedPhoto(t *testing.T) (string, *pipeline.Job, *review.Record) {
	t.Helper()
	state := t.TempDir()
	img := image.NewNRGBA(image.Rect(0, 0, 960, 640))
	for i := range img.Pix {
		img.Pix[i] = 128
	}
	j := &pipeline.Job{Rel: "groep-5/IMG_0001.jpg", SHA256: strings.Repeat("ab", 32), Image: img, Original: img,
		Faces:   []detect.Face{{Rect: image.Rect(100, 100, 200, 200), Descriptor: axis(1)}, {Rect: image.Rect(500, 120, 580, 200), Descriptor: axis(2)}},
		Matches: []detect.Match{{ID: "a"}, {Why: detect.WhyUnknown}}}
	j.Analysis = &detect.Analysis{Faces: j.Faces}
	web := &pipeline.Delivery{Dest: &pipeline.Destination{Name: "website", Channel: "website"}, Published: true, Image: img,
		Decisions: []detect.Decision{{Show: true, ID: "a", Reason: "consent"}, {Reason: detect.WhyUnknown}}}
	news := &pipeline.Delivery{Dest: &pipeline.Destination{Name: "newsletter", Channel: "newsletter"},
		Decisions: []detect.Decision{{Show: true, ID: "a", Reason: "consent"}, {Reason: detect.WhyUnknown}}}
	j.Deliveries = []*pipeline.Delivery{web, news}
	items := []pipeline.Item{{Target: "website", Outcome: pipeline.Published}, {Target: "newsletter", Outcome: pipeline.Held}}
	if err := review.New(state).Record(j, items); err != nil {
		t.Fatal(err)
	}
	jn, err := journal.Open(state)
	if err != nil {
		t.Fatal(err)
	}
	defer jn.Close()
	if err := jn.Put(&journal.Record{SHA256: j.SHA256, State: journal.Done, Targets: []string{"website", "newsletter"},
		Deliveries: map[string]*journal.Delivery{"website": {Name: "website", Published: true}, "newsletter": {Name: "newsletter"}}}); err != nil {
		t.Fatal(err)
	}
	rec, err := review.Find(state, j.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	return state, j, rec
}

func TestFaceOfRecord(t *testing.T) {
	state, _, rec := reviewedPhoto(t)
	ctx := context.Background()
	opener := func(d *cropRecognizer) func() (Recognizer, string, func(), error) {
		return func() (Recognizer, string, func(), error) { return d, "m2", func() {}, nil }
	}

	// The face at the centre of the crop, a neighbour at its edge.
	d := &cropRecognizer{place: func(b image.Rectangle) []detect.Face {
		return []detect.Face{{Rect: image.Rect(0, 0, 40, 40), Descriptor: axis(9)}, centred(b, 100, 7)}
	}}
	rf, err := FaceOfRecord(ctx, state, opener(d), rec, 1)
	if err != nil {
		t.Fatal(err)
	}
	if rf.Descriptor != axis(7) || rf.Model != "m2" || rf.SHA256 != rec.SHA256 || rf.N != 1 || !slices.Equal(rf.ShownOn, []string{"website"}) {
		t.Errorf("face 1: %+v", rf)
	}
	// Face 2 is redacted everywhere: shown on no target.
	if rf, err := FaceOfRecord(ctx, state, opener(d), rec, 2); err != nil || len(rf.ShownOn) != 0 {
		t.Errorf("face 2: %+v, %v", rf, err)
	}

	// A tight crop: found only on the padded canvas (twice the size).
	var sizes []int
	d = &cropRecognizer{place: func(b image.Rectangle) []detect.Face {
		sizes = append(sizes, b.Dx())
		if b.Dx() < 400 {
			return nil
		}
		return []detect.Face{centred(b, 200, 5)}
	}}
	if rf, err := FaceOfRecord(ctx, state, opener(d), rec, 1); err != nil || rf.Descriptor != axis(5) || d.calls != 2 || sizes[1] != 2*sizes[0] {
		t.Errorf("tight crop: %+v, %v; sizes %v", rf, err, sizes)
	}

	for _, tc := range []struct {
		name  string
		n     int
		place func(b image.Rectangle) []detect.Face
		want  string
	}{
		{"only a neighbour at the edge", 1, func(b image.Rectangle) []detect.Face {
			return []detect.Face{{Rect: image.Rect(0, 0, 40, 40), Descriptor: axis(9)}}
		}, "could not be described again"},
		{"no face", 1, func(image.Rectangle) []detect.Face { return nil }, "could not be described again"},
		{"not described", 1, func(b image.Rectangle) []detect.Face {
			f := centred(b, 100, 7)
			f.NoDescriptor = true
			return []detect.Face{f}
		}, "could not be described again"},
		{"no such face", 3, nil, "has 2 faces; there is no face 3"},
	} {
		d := &cropRecognizer{place: tc.place}
		_, err := FaceOfRecord(ctx, state, opener(d), rec, tc.n)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error with %q", tc.name, err, tc.want)
		}
		if tc.place == nil && d.calls != 0 {
			t.Errorf("%s: the detector ran", tc.name)
		}
	}
	// A face without a crop, and a detector that cannot be loaded: no
	// detector is loaded for a face that cannot be used.
	loaded := false
	failing := func() (Recognizer, string, func(), error) {
		loaded = true
		return nil, "", nil, errors.New("no models")
	}
	noCrop := *rec
	noCrop.Faces = slices.Clone(rec.Faces)
	noCrop.Faces[1].Crop = ""
	if _, err := FaceOfRecord(ctx, state, failing, &noCrop, 2); err == nil || !strings.Contains(err.Error(), "not clear enough") || loaded {
		t.Errorf("face without a crop: %v (detector loaded: %v)", err, loaded)
	}
	if _, err := FaceOfRecord(ctx, state, failing, rec, 1); err == nil || err.Error() != "no models" {
		t.Errorf("detector error: %v", err)
	}
}

func TestFaceOfJob(t *testing.T) {
	state, j, _ := reviewedPhoto(t)
	rf, err := FaceOfJob(state, j, nil, "m2", 1, "IMG_0001.jpg")
	if err != nil || rf.Descriptor != axis(1) || rf.Model != "m2" || rf.N != 1 || !slices.Equal(rf.ShownOn, []string{"website"}) {
		t.Fatalf("face 1: %+v, %v", rf, err)
	}
	if rf, err := FaceOfJob(state, j, nil, "m2", 2, "IMG_0001.jpg"); err != nil || rf.Descriptor != axis(2) || len(rf.ShownOn) != 0 {
		t.Errorf("face 2: %+v, %v", rf, err)
	}
	unclear := *j
	unclear.Faces = slices.Clone(j.Faces)
	unclear.Faces[0].NoDescriptor = true
	bad := errors.New("not a photo")
	for _, tc := range []struct {
		name   string
		j      *pipeline.Job
		jobErr error
		n      int
		want   string
	}{
		{"no face 3", j, nil, 3, "IMG_0001.jpg has 2 faces; there is no face 3"},
		{"unclear", &unclear, nil, 1, "IMG_0001.jpg: face 1 was found but is not clear enough"},
		{"unread", &pipeline.Job{}, bad, 1, "IMG_0001.jpg: not a photo"},
		{"no faces", &pipeline.Job{SHA256: j.SHA256}, bad, 1, "IMG_0001.jpg: no faces: not a photo"},
		{"one face", &pipeline.Job{SHA256: j.SHA256, Faces: j.Faces[:1]}, nil, 2, "has 1 face; there is no face 2"},
	} {
		if _, err := FaceOfJob(state, tc.j, tc.jobErr, "m2", tc.n, "IMG_0001.jpg"); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error with %q", tc.name, err, tc.want)
		}
	}
}

// enroll --from and correct --not: a reviewed face becomes a reference or a
// negative of a pupil, refused (without force) when it matches someone
// else enrolled with the same model files, and each is in the audit log by
// pupil id.
func TestAddReviewedAndMarkNot(t *testing.T) {
	_, store := newSchool(t)
	state := t.TempDir()
	if err := store.Enroll("b", []consent.Reference{{Descriptor: axis(4), SourceSHA256: sha64('b'), Model: "m2"}}); err != nil {
		t.Fatal(err)
	}
	if err := store.Enroll("c", []consent.Reference{{Descriptor: axis(5), SourceSHA256: sha64('c'), Model: "m1"}}); err != nil {
		t.Fatal(err)
	}
	rf := &Reviewed{Descriptor: axis(4), Model: "m2", SHA256: sha64('1'), N: 2}
	if _, err := AddReviewed(state, store, "a", rf, 0.5, false, testNow); err == nil ||
		err.Error() != "face 2 matches b, who is enrolled already (distance 0.00): check the face number, or use --force" {
		t.Errorf("a look-alike: %v", err)
	}
	if n := len(store.Snapshot().References("a")); n != 0 {
		t.Fatalf("the look-alike was enrolled: %d references", n)
	}
	if n, err := AddReviewed(state, store, "a", rf, 0.5, true, testNow); err != nil || n != 1 {
		t.Errorf("forced: %d references, %v", n, err)
	}
	// c's reference is of other model files: not compared.
	rf5 := &Reviewed{Descriptor: axis(5), Model: "m2", SHA256: sha64('2'), N: 1}
	if n, err := AddReviewed(state, store, "a", rf5, 0.5, false, testNow); err != nil || n != 2 {
		t.Errorf("a face like another model's reference: %d references, %v", n, err)
	}
	refs := store.Snapshot().References("a")
	if refs[1].SourceSHA256 != rf5.SHA256 || refs[1].Model != "m2" || !refs[1].AddedAt.Equal(testNow) {
		t.Errorf("reference: %+v", refs[1])
	}
	if _, err := AddReviewed(state, store, "nobody", rf5, 0.5, false, testNow); err == nil {
		t.Error("enrolled someone who is not in the store")
	}

	if err := MarkNot(state, store, "b", rf); err != nil {
		t.Fatal(err)
	}
	neg, err := store.Negatives()
	if err != nil || len(neg["b"]) != 1 || neg["b"][0].PhotoSHA256 != rf.SHA256 || neg["b"][0].Model != "m2" {
		t.Errorf("negatives: %d, %v", len(neg["b"]), err)
	}
	if err := MarkNot(state, store, "nobody", rf); err == nil {
		t.Error("a negative of someone who is not in the store")
	}

	events, err := audit.Read(state)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range events {
		if e.Kind == audit.Correction {
			got = append(got, fmt.Sprintf("%s %s %d %s", e.Pupils, e.Photo, e.Count, e.Detail))
		}
	}
	want := []string{
		"[a] 111111111111 2 a reviewed face was added as a reference of this pupil (enroll --from)",
		"[a] 222222222222 1 a reviewed face was added as a reference of this pupil (enroll --from)",
		"[b] 111111111111 2 a reviewed face was marked as not this pupil (correct --not)",
	}
	if !slices.Equal(got, want) {
		t.Errorf("audit corrections:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func sha64(c byte) string { return strings.Repeat(string(c), 64) }
