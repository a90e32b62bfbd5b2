package dlib

import (
	"encoding/json"
	"image"
	_ "image/jpeg"
	_ "image/png"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/photoguard/photoguard/detect"
	"github.com/photoguard/photoguard/redact/testenv"
)

// Test environment: models from $PHOTOGUARD_MODELS_DIR (default
// /usr/local/share/photoguard/models), shared photos from $PHOTOGUARD_TESTDATA
// (default ../shared/testdata from the repository root). Under CI=true a
// missing model or photo fails the test; elsewhere it skips it.

const defaultModelsDir = "/usr/local/share/photoguard/models"

func modelsDir() string {
	if d := os.Getenv("PHOTOGUARD_MODELS_DIR"); d != "" {
		return d
	}
	return defaultModelsDir
}

// repoRoot, sharedTestdata and missing follow the project's one rule for
// test assets (redact/testenv): skip on a developer machine, fail under
// CI=true.
func repoRoot(t testing.TB) string { return testenv.RepoRoot(t) }

func sharedTestdata(t testing.TB) string { return testenv.SharedTestdata(t) }

func missing(t testing.TB, format string, args ...any) {
	t.Helper()
	testenv.Require(t, false, format, args...)
}

func requireModels(t testing.TB) string {
	t.Helper()
	dir := modelsDir()
	if err := CheckModels(dir); err != nil {
		missing(t, "%v", err)
	}
	return dir
}

func loadImage(t testing.TB, path string) image.Image { return testenv.LoadImage(t, path) }

// detectors are shared between tests: loading the models takes about a
// second per recognizer.
var (
	detectorsMu sync.Mutex
	detectors   = map[Config]*Recognizer{}
)

func sharedDetector(t testing.TB, cfg Config) *Recognizer {
	t.Helper()
	cfg.ModelsDir = requireModels(t)
	detectorsMu.Lock()
	defer detectorsMu.Unlock()
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

// Ground truth: testdata/faces/groundtruth.json in this repository.

type gtFile struct {
	Note   string    `json:"note"`
	Images []gtImage `json:"images"`
}

type gtImage struct {
	File   string   `json:"file"` // relative to the shared testdata/faces
	Width  int      `json:"width"`
	Height int      `json:"height"`
	Faces  []gtFace `json:"faces"`
}

type gtFace struct {
	Who  string `json:"who"` // identity name or "unknown"
	Box  [4]int `json:"box"` // x0, y0, x1, y1 (exclusive) in the file's pixels
	Pose string `json:"pose"`
	Note string `json:"note,omitempty"`
}

func (f gtFace) rect() image.Rectangle { return image.Rect(f.Box[0], f.Box[1], f.Box[2], f.Box[3]) }

func loadGroundTruth(t testing.TB) gtFile {
	t.Helper()
	p := filepath.Join(repoRoot(t), "testdata", "faces", "groundtruth.json")
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err) // the project's own fixture: never skipped
	}
	var gt gtFile
	if err := json.Unmarshal(data, &gt); err != nil {
		t.Fatalf("%s: %v", p, err)
	}
	return gt
}

// identities are the enrolled people: name -> descriptors of their crops.
type identity struct {
	name  string
	descr []detect.Descriptor
}
