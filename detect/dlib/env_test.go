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

// repoRoot is the directory holding go.mod, found upwards from the package.
func repoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the package directory")
		}
		dir = parent
	}
}

func sharedTestdata(t testing.TB) string {
	t.Helper()
	if d := os.Getenv("PHOTOGUARD_TESTDATA"); d != "" {
		return d
	}
	return filepath.Join(repoRoot(t), "..", "shared", "testdata")
}

// missing skips the test, or fails it under CI=true.
func missing(t testing.TB, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf(format, args...)
	}
	t.Skipf(format, args...)
}

// requireFile returns path if it exists and otherwise skips or fails.
func requireFile(t testing.TB, path string) string {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		missing(t, "test asset missing: %v", err)
	}
	return path
}

func requireModels(t testing.TB) string {
	t.Helper()
	dir := modelsDir()
	if err := CheckModels(dir); err != nil {
		missing(t, "%v", err)
	}
	return dir
}

func loadImage(t testing.TB, path string) image.Image {
	t.Helper()
	f, err := os.Open(requireFile(t, path))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return img
}

// detectors are shared between tests: loading the models takes about a
// second per recognizer.
var (
	detectorsMu sync.Mutex
	detectors   = map[Config]*Detector{}
)

func sharedDetector(t testing.TB, cfg Config) *Detector {
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
