package dlib

import (
	"fmt"
	"image"
	"os"
	"path/filepath"
	"testing"

	"github.com/photoguard/photoguard/detect"
	"github.com/photoguard/photoguard/internal/testchildren"
)

// Descriptors of the shared children and adults, as the product computes
// them: references padded like `photoguard enroll` does (a grey canvas twice
// the photo's size) and described by the default detector; group photos
// described as the pipeline does. Computing all of them takes about a minute
// of one core, so a developer iterating on the rules can keep them in a
// file of their own choosing outside the repository
// (PHOTOGUARD_DESCRIPTOR_CACHE=/tmp/...; mode 0600). They are biometric data
// of real children: never in the repository, never in a log.

// childFace is one photo of the children folder: one child.
type childFace struct {
	File string // base name, carries the dataset's labels
	Age  int
	Race string // the dataset's ethnicity label
	D    detect.Descriptor
}

// adultFaces are the shared adults: the identity crops (references) and the
// faces of the group photos found by the default detector, labelled by the
// ground truth ("unknown" for the unnamed face, "" for a detection that is
// no ground-truth face).
type adultFaces struct {
	Refs  map[string][]detect.Descriptor
	Group []groupFace
}

type groupFace struct {
	Photo string
	Who   string
	Face  detect.Face
}

type descriptorCache struct {
	Model    string
	Children []childFace
	Adults   adultFaces
}

// describeReference is a reference photo described as `photoguard enroll`
// describes it: padded to twice its size with grey, exactly one face.
func describeReference(t testing.TB, d *Recognizer, img image.Image) (detect.Descriptor, bool) {
	t.Helper()
	fs, err := d.Detect(t.Context(), pad(img, 0.5, padGray))
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) != 1 {
		return detect.Descriptor{}, false
	}
	return fs[0].Descriptor, true
}

// describeChildren describes the children's photos named in files (every
// one when files is nil); photos without exactly one face are left out and
// counted.
func describeChildren(t testing.TB, d *Recognizer, files []string) (out []childFace, dropped int) {
	t.Helper()
	dir := testchildren.Dir(t)
	for _, name := range files {
		age, race, ok := testchildren.Parse(name)
		if !ok {
			t.Fatalf("children: %s: not an UTKFace file name", name)
		}
		desc, ok := describeReference(t, d, loadImage(t, filepath.Join(dir, name)))
		if !ok {
			dropped++
			continue
		}
		out = append(out, childFace{File: name, Age: age, Race: race, D: desc})
	}
	return out, dropped
}

// describeAdults describes the identity crops and the group photos.
func describeAdults(t testing.TB, d *Recognizer) adultFaces {
	t.Helper()
	a := adultFaces{Refs: map[string][]detect.Descriptor{}}
	dir := filepath.Join(sharedTestdata(t), "faces", "identities")
	for _, who := range identityNames {
		for n := 1; n <= 5; n++ {
			img := loadImage(t, filepath.Join(dir, who, fmt.Sprintf("%s%d.png", who, n)))
			if desc, ok := describeReference(t, d, img); ok {
				a.Refs[who] = append(a.Refs[who], desc)
			}
		}
	}
	for _, g := range loadGroups(t) {
		fs, err := d.Detect(t.Context(), g.img)
		if err != nil {
			t.Fatal(err)
		}
		var gt []image.Rectangle
		for _, f := range g.Faces {
			gt = append(gt, f.rect())
		}
		det, _ := matchGT(gt, faceRects(fs))
		who := make([]string, len(fs))
		for j, k := range det {
			if k >= 0 {
				who[k] = g.Faces[j].Who
			}
		}
		for k, f := range fs {
			a.Group = append(a.Group, groupFace{Photo: filepath.Base(g.File), Who: who[k], Face: f})
		}
	}
	return a
}

// sharedDescriptors returns the descriptors of every child and of the
// adults, from the developer's cache file when it is set and was made with
// the same models.
func sharedDescriptors(t testing.TB) descriptorCache {
	t.Helper()
	d := sharedDetector(t, Config{})
	path := os.Getenv("PHOTOGUARD_DESCRIPTOR_CACHE")
	var cached descriptorCache
	if testchildren.LoadCache(path, &cached) && cached.Model == d.ModelID() {
		return cached
	}
	c := descriptorCache{Model: d.ModelID()}
	var dropped int
	c.Children, dropped = describeChildren(t, d, testchildren.Files(t))
	if dropped > 0 {
		t.Logf("children: %d photos without exactly one face left out", dropped)
	}
	c.Adults = describeAdults(t, d)
	if path != "" {
		if err := testchildren.SaveCache(path, &c); err != nil {
			t.Fatal(err)
		}
	}
	return c
}
