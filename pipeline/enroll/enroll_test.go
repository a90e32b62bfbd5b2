package enroll

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"image"
	"image/color"
	"image/png"
	"testing"
	"time"

	"github.com/photoguard/photoguard/detect"
	"github.com/photoguard/photoguard/pipeline/consent"
	"github.com/photoguard/photoguard/redact/decode"
)

// A test photo says, in its centre pixel, what the fake detector finds in
// it: R is the identity (the descriptor's axis), G the number of faces, and
// B=1 a tight crop, in which the face is found only on a padded canvas
// (twice the size), as dlib finds a face that fills the picture.
func testPhoto(t *testing.T, identity, faces int, tight bool) []byte {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, 60, 60))
	b := uint8(0)
	if tight {
		b = 1
	}
	for y := 0; y < 60; y++ {
		for x := 0; x < 60; x++ {
			img.Set(x, y, color.NRGBA{uint8(identity), uint8(faces), b, 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func axis(i int) detect.Descriptor {
	var d detect.Descriptor
	d[i] = 1
	return d
}

type fakeRecognizer struct{ calls int }

func (f *fakeRecognizer) Detect(ctx context.Context, img image.Image) ([]detect.Face, error) {
	f.calls++
	b := img.Bounds()
	r, g, bl, _ := img.At(b.Min.X+b.Dx()/2, b.Min.Y+b.Dy()/2).RGBA()
	identity, n, tight := int(r>>8), int(g>>8), bl>>8 == 1
	if tight && b.Dx() < 100 {
		return nil, nil
	}
	var out []detect.Face
	for i := 0; i < n; i++ {
		out = append(out, detect.Face{Rect: image.Rect(10*i, 0, 10*i+40, 40), Descriptor: axis(identity + i)})
	}
	return out, nil
}

var testNow = time.Date(2025, 10, 15, 12, 0, 0, 0, time.UTC)

// newSchool is a consent store with a, b and c, and an Enroller for model m2.
func newSchool(t *testing.T) (*Enroller, *consent.Store) {
	t.Helper()
	k, err := consent.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	store, err := consent.Open(t.TempDir(), k, consent.WithClock(func() time.Time { return testNow }))
	if err != nil {
		t.Fatal(err)
	}
	var people []consent.Person
	for _, id := range []string{"a", "b", "c"} {
		people = append(people, consent.Person{ID: id, FirstName: "X", LastName: "Y", Role: consent.RolePupil,
			Consent: map[string]consent.ChannelConsent{}})
	}
	if _, err := store.ImportConsent(people, consent.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	e, err := New(Config{Recognizer: &fakeRecognizer{}, Model: "m2", Store: store, Limits: decode.DefaultLimits(), MaxSide: 2048,
		Threshold: 0.5, Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatal(err)
	}
	return e, store
}

func shaOf(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

// One face per photo: a photo without a face or with two is not used, a
// tight crop is found on the padded canvas, and each reference carries the
// photo's hash and the model.
func TestEnrollOneFacePerPhoto(t *testing.T) {
	e, store := newSchool(t)
	one, tight := testPhoto(t, 3, 1, false), testPhoto(t, 3, 1, true)
	res, err := e.Enroll(context.Background(), "a", []Photo{
		{"one.png", one}, {"none.png", testPhoto(t, 3, 0, false)}, {"two.png", testPhoto(t, 3, 2, false)}, {"tight.png", tight},
	}, false)
	if err != nil {
		t.Fatal(err)
	}
	if res.Used() != 2 || res.Failed() != 2 || res.Added != 2 || res.Replaced != 0 {
		t.Fatalf("result %+v", res)
	}
	if !errors.Is(res.Photos[1].Err, ErrNoFace) || !errors.Is(res.Photos[2].Err, ErrManyFaces) || res.Photos[2].Faces != 2 {
		t.Errorf("photo results %+v", res.Photos)
	}
	refs := store.Snapshot().References("a")
	if len(refs) != 2 || refs[0].SourceSHA256 != shaOf(one) || refs[1].SourceSHA256 != shaOf(tight) ||
		refs[0].Model != "m2" || refs[0].Descriptor != axis(3) || !refs[0].AddedAt.Equal(testNow) {
		t.Errorf("references %+v", refs)
	}
	// The same photo again adds nothing.
	res, err = e.Enroll(context.Background(), "a", []Photo{{"again.png", one}}, false)
	if err != nil || res.Added != 0 || res.Used() != 1 {
		t.Errorf("again: %+v %v", res, err)
	}
}

// A face that matches someone else enrolled with the same model files is
// refused unless forced; one that matches only another model's references
// is not a look-alike (those cannot be compared), and enrolling with the
// new model replaces a person's old references.
func TestEnrollLookalikesAndModels(t *testing.T) {
	e, store := newSchool(t)
	ctx := context.Background()
	if _, err := e.Enroll(ctx, "a", []Photo{{"a.png", testPhoto(t, 5, 1, false)}}, false); err != nil {
		t.Fatal(err)
	}
	res, err := e.Enroll(ctx, "b", []Photo{{"b-is-a.png", testPhoto(t, 5, 1, false)}}, false)
	if err == nil || !errors.Is(res.Photos[0].Err, ErrLookalike) || res.Photos[0].Lookalike != "a" || res.Photos[0].Distance != 0 {
		t.Fatalf("look-alike enrolled: %+v %v", res, err)
	}
	if store.Snapshot().References("b") != nil {
		t.Fatalf("a refused photo was enrolled")
	}
	res, err = e.Enroll(ctx, "b", []Photo{{"b-is-a.png", testPhoto(t, 5, 1, false)}}, true)
	if err != nil || res.Used() != 1 || res.Photos[0].Lookalike != "a" {
		t.Errorf("forced: %+v %v", res, err)
	}

	// c was enrolled with the old model files, with identity 7.
	old := consent.Reference{Descriptor: axis(7), SourceSHA256: shaOf([]byte("old")), Model: "m1"}
	if err := store.Enroll("c", []consent.Reference{old}); err != nil {
		t.Fatal(err)
	}
	if other, _ := e.Lookalike(store.Snapshot(), "a", axis(7)); other != "" {
		t.Errorf("compared with another model's references: %s", other)
	}
	res, err = e.Enroll(ctx, "c", []Photo{{"c.png", testPhoto(t, 7, 1, false)}}, false)
	if err != nil || res.Replaced != 1 || res.Added != 1 {
		t.Fatalf("c again: %+v %v", res, err)
	}
	if refs := store.Snapshot().References("c"); len(refs) != 1 || refs[0].Model != "m2" {
		t.Errorf("c's references %+v", refs)
	}
	if n := OtherModel([]consent.Reference{old, {Model: "m2"}}, "m2"); n != 1 {
		t.Errorf("OtherModel = %d", n)
	}
}

// Nothing is written for someone who is not in the consent store, or when
// no photo is usable.
func TestEnrollRefusals(t *testing.T) {
	e, store := newSchool(t)
	gen := store.Snapshot().Generation()
	if _, err := e.Enroll(context.Background(), "zoe", []Photo{{"z.png", testPhoto(t, 2, 1, false)}}, false); !errors.Is(err, consent.ErrNotInStore) {
		t.Errorf("not in the store: %v", err)
	}
	res, err := e.Enroll(context.Background(), "a", []Photo{{"none.png", testPhoto(t, 2, 0, false)}, {"bad.png", []byte("not a photo")}}, false)
	if err == nil || res.Failed() != 2 || res.Photos[1].Err == nil {
		t.Errorf("no usable photo: %+v %v", res, err)
	}
	if store.Changed() || store.Snapshot().Generation() != gen {
		t.Errorf("a refused enrollment wrote the store")
	}
	if _, err := New(Config{Store: store, Threshold: 0.5}); err == nil {
		t.Errorf("New without a detector")
	}
}
