package dlib

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

// TestModelID: the id changes with the landmark and the descriptor model,
// not with the CNN detector (which does not change descriptors), follows
// links, and names a missing file.
func TestModelID(t *testing.T) {
	dir := writeModels(t, ModelFiles[0].Name, ModelFiles[1].Name, ModelFiles[2].Name)
	id := func() string {
		t.Helper()
		s, err := ModelID(dir)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	write := func(name, content string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	base := id()
	if !regexp.MustCompile(`^[0-9a-f]{16}$`).MatchString(base) {
		t.Fatalf("ModelID = %q, want 16 hex digits", base)
	}
	if again := id(); again != base {
		t.Fatalf("ModelID not stable: %s then %s", base, again)
	}

	write("mmod_human_face_detector.dat", "another detector")
	if got := id(); got != base {
		t.Errorf("the CNN detector changed the id: %s -> %s", base, got)
	}
	write("dlib_face_recognition_resnet_model_v1.dat", "another network")
	net := id()
	if net == base {
		t.Error("a different descriptor network kept the id")
	}
	// Debian's route: the landmark name is a link to the 68-point model.
	other := filepath.Join(t.TempDir(), "shape_predictor_68_face_landmarks.dat")
	if err := os.WriteFile(other, []byte("68 points"), 0o644); err != nil {
		t.Fatal(err)
	}
	lm := filepath.Join(dir, ModelFiles[0].Name)
	if err := os.Remove(lm); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(other, lm); err != nil {
		t.Fatal(err)
	}
	if got := id(); got == net {
		t.Error("a different landmark model (through a link) kept the id")
	}

	if err := os.Remove(other); err != nil {
		t.Fatal(err)
	}
	_, err := ModelID(dir)
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("dangling landmark link: %v, want a not-exist error", err)
	}
}

// TestDetectorModelID: a detector reports the id of the models it loaded.
func TestDetectorModelID(t *testing.T) {
	d := sharedDetector(t, Config{})
	want, err := ModelID(d.Config().ModelsDir)
	if err != nil {
		t.Fatal(err)
	}
	if d.ModelID() != want {
		t.Errorf("Detector.ModelID() = %q, ModelID(dir) = %q", d.ModelID(), want)
	}
}

// BenchmarkModelID: the cost of fingerprinting the installed models, paid
// at every detector start and by `enroll --list` and `status`.
func BenchmarkModelID(b *testing.B) {
	dir := requireModels(b)
	for i := 0; i < b.N; i++ {
		if _, err := ModelID(dir); err != nil {
			b.Fatal(err)
		}
	}
}
