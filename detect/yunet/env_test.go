package yunet

import (
	"image"
	"image/draw"
	_ "image/jpeg"
	_ "image/png"
	"os"
	"sync"
	"testing"

	"github.com/photoguard/photoguard/redact/testenv"
)

// Test environment: the model and onnxruntime from $PHOTOGUARD_MODELS_DIR
// (default /usr/local/share/photoguard/models, where scripts/setup.sh puts
// them); shared photos from $PHOTOGUARD_TESTDATA (default
// ../shared/testdata). Under CI=true a missing asset fails the test;
// elsewhere it skips it.

func testConfig() Config {
	dir := os.Getenv("PHOTOGUARD_MODELS_DIR")
	if dir == "" {
		dir = "/usr/local/share/photoguard/models"
	}
	return Config{ModelsDir: dir}
}

var (
	detOnce sync.Once
	det     *Detector
	detErr  error
)

// sharedDetector returns the package's one detector, skipping or failing
// when the model or the library is missing.
func sharedDetector(t testing.TB) *Detector {
	t.Helper()
	cfg := testConfig()
	err := cfg.Check()
	testenv.Require(t, err == nil, "%v", err)
	detOnce.Do(func() { det, detErr = New(cfg) })
	if detErr != nil {
		t.Fatal(detErr)
	}
	return det
}

// loadNRGBA decodes a test photo as NRGBA.
func loadNRGBA(t testing.TB, path string) *image.NRGBA {
	t.Helper()
	img := testenv.LoadImage(t, path)
	if n, ok := img.(*image.NRGBA); ok {
		return n
	}
	b := img.Bounds()
	n := image.NewNRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(n, n.Rect, img, b.Min, draw.Src)
	return n
}
