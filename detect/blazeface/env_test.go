package blazeface

import (
	"image"
	_ "image/jpeg"
	_ "image/png"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/photoguard/photoguard/detect/blazeface/internal/facetest"
	"github.com/photoguard/photoguard/redact/testenv"
)

// Test environment: the model and onnxruntime from $PHOTOGUARD_BLAZEFACE_MODEL
// and $PHOTOGUARD_ONNXRUNTIME_LIB, else from $PHOTOGUARD_MODELS_DIR (default
// /usr/local/share/photoguard/models, where scripts/setup.sh puts them);
// shared photos from $PHOTOGUARD_TESTDATA (default ../shared/testdata). Under
// CI=true a missing asset fails the test; elsewhere it skips it.

const defaultModelsDir = "/usr/local/share/photoguard/models"

func testConfig() Config {
	dir := os.Getenv("PHOTOGUARD_MODELS_DIR")
	if dir == "" {
		dir = defaultModelsDir
	}
	return Config{
		ModelsDir:   dir,
		ModelPath:   os.Getenv("PHOTOGUARD_BLAZEFACE_MODEL"),
		LibraryPath: os.Getenv("PHOTOGUARD_ONNXRUNTIME_LIB"),
	}
}

var (
	detMu     sync.Mutex
	detectors = map[Config]*Detector{}
)

// sharedDetector returns a detector for cfg (model paths filled from the
// environment), skipping or failing when the model or library is missing.
func sharedDetector(t testing.TB, cfg Config) *Detector {
	t.Helper()
	env := testConfig()
	cfg.ModelsDir, cfg.ModelPath, cfg.LibraryPath = env.ModelsDir, env.ModelPath, env.LibraryPath
	err := cfg.Check()
	testenv.Require(t, err == nil, "%v", err)
	detMu.Lock()
	defer detMu.Unlock()
	if d, ok := detectors[cfg]; ok {
		return d
	}
	d, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	detectors[cfg] = d
	return d
}

func TestMain(m *testing.M) {
	code := m.Run()
	for _, d := range detectors {
		d.Close()
	}
	os.Exit(code)
}

func loadImage(t testing.TB, path string) image.Image { return facetest.LoadImage(t, path) }

func groupPhoto(t testing.TB, name string) string {
	return filepath.Join(facetest.GroupsDir(t), name)
}
