package yunet

import (
	"context"
	"image"
	"path/filepath"
	"testing"

	"github.com/photoguard/photoguard/detect/internal/facetest"
)

func rects(boxes []Box) []image.Rectangle {
	out := make([]image.Rectangle, len(boxes))
	for i, b := range boxes {
		out[i] = b.Rect
	}
	return out
}

// TestEyeBoxedPhotos: on the group and camera photos, published at their
// own size with a coverage floor of 20 px, every face boxed by eye is found
// and the finder adds almost nothing else (issue 17: all 45 faces, 2 false
// boxes in all in the scratch measurement).
func TestEyeBoxedPhotos(t *testing.T) {
	d := sharedDetector(t)
	found, total, falses := 0, 0, 0
	for _, set := range facetest.EyeBoxedSets(t) {
		for _, name := range set.Names {
			img := loadNRGBA(t, filepath.Join(set.Dir, name))
			boxes, err := d.Find(context.Background(), img, 20)
			if err != nil {
				t.Fatal(err)
			}
			gt := set.Truth[name]
			hit := facetest.Hits(gt, rects(boxes))
			for i, g := range gt {
				if !g.Valid {
					continue
				}
				total++
				if hit[i] {
					found++
				} else {
					t.Errorf("%s: face at %v not found", name, g.R)
				}
			}
			fp := facetest.FalsePositives(gt, rects(boxes))
			falses += fp
			t.Logf("%s: %d boxes, %d matching no face", name, len(boxes), fp)
		}
	}
	t.Logf("faces found %d of %d, boxes matching no face %d", found, total, falses)
	if total != 45 {
		t.Errorf("expected 45 faces boxed by eye, the shared sets have %d", total)
	}
	// Measured: 5 (small boxes on a sleeve, a hand, a hair band).
	if falses > 7 {
		t.Errorf("%d boxes match no face on the 11 photos (at most 7)", falses)
	}
}

// TestNoFacesPhotos: on photos without a person the finder returns
// (almost) nothing. Measured: 5 boxes on 3 of the 18 photos (a drawn girl
// in "Autumn", ripples in "SafeLanding", leaves in "FallenLeaf"), all small.
func TestNoFacesPhotos(t *testing.T) {
	d := sharedDetector(t)
	set := facetest.NoFaces(t)
	total, with := 0, 0
	for _, name := range set.Names {
		img := loadNRGBA(t, filepath.Join(set.Dir, name))
		boxes, err := d.Find(context.Background(), img, 20)
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range boxes {
			t.Logf("%s: box %v score %.2f", name, b.Rect, b.Score)
		}
		total += len(boxes)
		if len(boxes) > 0 {
			with++
		}
	}
	t.Logf("%d boxes on %d of %d photos", total, with, len(set.Names))
	if with > 3 || total > 7 {
		t.Errorf("%d boxes on %d photos without a person (at most 7 on 3)", total, with)
	}
}

// TestCrowdFinderRecall: the finder alone on the crowds, faces of 20 px or
// more (the published pixels are judged end to end in cmd/photoguard).
func TestCrowdFinderRecall(t *testing.T) {
	d := sharedDetector(t)
	dir, names, truth := facetest.CrowdTruth(t)
	var c facetest.Count
	falses := 0
	for _, name := range names {
		img := loadNRGBA(t, filepath.Join(dir, name))
		boxes, err := d.Find(context.Background(), img, 20)
		if err != nil {
			t.Fatal(err)
		}
		hit := facetest.Hits(truth[name], rects(boxes))
		r := facetest.Recall(truth[name], hit, []int{20})
		c.Add(r[0])
		falses += facetest.FalsePositives(truth[name], rects(boxes))
	}
	t.Logf("crowd faces >= 20 px found: %d of %d (%.1f%%); boxes matching no annotation: %d", c.Found, c.Total, 100*float64(c.Found)/float64(c.Total), falses)
	// Measured: 197 of 203 (97.0 %).
	if float64(c.Found) < 0.96*float64(c.Total) {
		t.Errorf("finder recall %d of %d is under 96%%", c.Found, c.Total)
	}
}

// TestFocusedSecondLook: on the crowds, the second look limited to regions
// around the small faces the full plan finds (as a video follows its small
// tracks between frames it looks at everywhere) finds those faces again;
// without a second look the first look alone misses faces the full plan
// finds (what the video's frames looked at everywhere are for).
func TestFocusedSecondLook(t *testing.T) {
	d := sharedDetector(t)
	dir, names, truth := facetest.CrowdTruth(t)
	ctx := context.Background()
	var full, focused, first facetest.Count
	for _, name := range names {
		img := loadNRGBA(t, filepath.Join(dir, name))
		all, err := d.Find(ctx, img, 20)
		if err != nil {
			t.Fatal(err)
		}
		var regions []image.Rectangle
		for _, b := range all {
			if w := b.Rect.Dx(); float64(w) < LargeFaces*20 {
				m := max(w*3/2, 40)
				regions = append(regions, image.Rect(b.Rect.Min.X-m, b.Rect.Min.Y-m, b.Rect.Max.X+m, b.Rect.Max.Y+m))
			}
		}
		around, err := d.find(ctx, img, 20, &regions)
		if err != nil {
			t.Fatal(err)
		}
		none, err := d.find(ctx, img, 20, &[]image.Rectangle{})
		if err != nil {
			t.Fatal(err)
		}
		gt := truth[name]
		hAll, hAround, hNone := facetest.Hits(gt, rects(all)), facetest.Hits(gt, rects(around)), facetest.Hits(gt, rects(none))
		for i := range gt {
			if hAll[i] && !hAround[i] {
				t.Logf("%s: face at %v found by the full plan, not around it", name, gt[i].R)
			}
			// What the focused look finds beyond the full plan is not
			// counted: a video's tracks cover the full plan's faces.
			hAround[i] = hAround[i] && hAll[i]
			hNone[i] = hNone[i] && hAll[i]
		}
		full.Add(facetest.Recall(gt, hAll, []int{20})[0])
		focused.Add(facetest.Recall(gt, hAround, []int{20})[0])
		first.Add(facetest.Recall(gt, hNone, []int{20})[0])
	}
	t.Logf("crowd faces >= 20 px found: full plan %d of %d; second look around its small faces %d; first look alone %d",
		full.Found, full.Total, focused.Found, first.Found)
	if focused.Found < full.Found-2 {
		t.Errorf("the second look around the small faces found %d of the full plan's %d", focused.Found, full.Found)
	}
	if first.Found >= full.Found {
		t.Errorf("the first look alone found %d of the full plan's %d: the test shows nothing", first.Found, full.Found)
	}
}
