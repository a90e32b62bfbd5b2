// Package testenv holds test helpers that several packages share: finding
// external tools (exiftool, heif-enc) and the shared test photos, with one
// rule for when they are missing, and exiftool's view of a file.
//
// Invariant: under CI=true a missing tool or asset fails the test
// (t.Fatal); anywhere else it skips the test. A test never passes because
// something it needs was not there.
package testenv

import (
	"bytes"
	"encoding/json"
	"image"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
)

// CI reports whether the tests run under CI (the environment variable CI is
// "true" or "1").
func CI() bool {
	v := strings.ToLower(os.Getenv("CI"))
	return v == "true" || v == "1"
}

// Require fails (under CI) or skips (elsewhere) the test when ok is false.
func Require(t testing.TB, ok bool, format string, args ...any) {
	t.Helper()
	if ok {
		return
	}
	if CI() {
		t.Fatalf("required under CI=true: "+format, args...)
	}
	t.Skipf("skipped: "+format, args...)
}

// RequireTool returns the path of an executable on PATH, or fails (CI) or
// skips the test when it is not installed.
func RequireTool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	Require(t, err == nil, "%s is not installed (%v)", name, err)
	return p
}

// HasTool reports whether an executable is on PATH, for code that can do
// without it.
func HasTool(name string) bool {
	_, err := exec.LookPath(name)
	return err == nil
}

// RepoRoot returns the directory of the go.mod of module
// github.com/photoguard/photoguard, searching upwards from the working
// directory (a test runs in its package's directory).
func RepoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && bytes.Contains(b, []byte("module github.com/photoguard/photoguard\n")) {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("testenv: cannot find the repository root (go.mod of github.com/photoguard/photoguard)")
		}
		dir = parent
	}
}

// SharedTestdata returns the directory of the shared test photos: the
// environment variable PHOTOGUARD_TESTDATA, or ../shared/testdata next to
// the repository root. A missing directory fails (CI) or skips the test.
func SharedTestdata(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("PHOTOGUARD_TESTDATA")
	if dir == "" {
		dir = filepath.Join(RepoRoot(t), "..", "shared", "testdata")
	}
	fi, err := os.Stat(dir)
	Require(t, err == nil && fi.IsDir(), "shared test data not found at %s (set PHOTOGUARD_TESTDATA)", dir)
	return dir
}

// SharedFile returns the path of a file below SharedTestdata, failing (CI) or
// skipping when it is missing.
func SharedFile(t testing.TB, rel string) string {
	t.Helper()
	p := filepath.Join(SharedTestdata(t), filepath.FromSlash(rel))
	_, err := os.Stat(p)
	Require(t, err == nil, "shared test file %s not found", p)
	return p
}

// ExifTool runs `exiftool -j -G -a` on a file and returns its tags, keyed
// "Group:Name" (for example "EXIF:GPSLatitude"). It requires exiftool (see
// RequireTool).
func ExifTool(t testing.TB, path string) map[string]any {
	t.Helper()
	exe := RequireTool(t, "exiftool")
	out, err := exec.Command(exe, "-j", "-G", "-a", path).Output()
	if err != nil {
		t.Fatalf("exiftool %s: %v", path, err)
	}
	var v []map[string]any
	if err := json.Unmarshal(out, &v); err != nil || len(v) != 1 {
		t.Fatalf("exiftool %s: cannot read its JSON output (%v): %s", path, err, out)
	}
	return v[0]
}

// ExifToolFiles runs `exiftool -j -G -a` once on several files (exiftool
// starts slowly) and returns their tags by path, as given.
func ExifToolFiles(t testing.TB, paths ...string) map[string]map[string]any {
	t.Helper()
	exe := RequireTool(t, "exiftool")
	if len(paths) == 0 {
		return nil
	}
	out, err := exec.Command(exe, append([]string{"-j", "-G", "-a"}, paths...)...).Output()
	if err != nil && len(out) == 0 {
		t.Fatalf("exiftool: %v", err)
	}
	var v []map[string]any
	if err := json.Unmarshal(out, &v); err != nil {
		t.Fatalf("exiftool: cannot read its JSON output (%v)", err)
	}
	m := map[string]map[string]any{}
	for _, tags := range v {
		if p, ok := tags["SourceFile"].(string); ok {
			m[p] = tags
		}
	}
	for _, p := range paths {
		if m[p] == nil {
			t.Fatalf("exiftool said nothing about %s", p)
		}
	}
	return m
}

// CleanExifToolKeys are the exiftool keys that a clean JPEG may show (with
// `exiftool -j -G -a`): what exiftool says about the file itself, the frame
// header, the JFIF header, and values computed from those. Anything else,
// including an exiftool warning or error, means the output is not clean.
var CleanExifToolKeys = []string{
	"SourceFile",
	"ExifTool:ExifToolVersion",
	"File:FileName", "File:Directory", "File:FileSize", "File:FileModifyDate", "File:FileAccessDate",
	"File:FileInodeChangeDate", "File:FilePermissions", "File:FileType", "File:FileTypeExtension", "File:MIMEType",
	"File:ImageWidth", "File:ImageHeight", "File:EncodingProcess", "File:BitsPerSample", "File:ColorComponents",
	"File:YCbCrSubSampling",
	"JFIF:JFIFVersion", "JFIF:ResolutionUnit", "JFIF:XResolution", "JFIF:YResolution",
	"Composite:ImageSize", "Composite:Megapixels",
}

// UncleanExifToolKeys returns the keys (with values) of exiftool's output
// that are not in CleanExifToolKeys, sorted.
func UncleanExifToolKeys(tags map[string]any) []string {
	var bad []string
	for k, v := range tags {
		if !slices.Contains(CleanExifToolKeys, k) {
			bad = append(bad, k+"="+strings.TrimSpace(toString(v)))
		}
	}
	sort.Strings(bad)
	return bad
}

func toString(v any) string {
	b, _ := json.Marshal(v)
	if len(b) > 80 {
		b = append(b[:77], "..."...)
	}
	return string(b)
}

// RequireFile returns path if it exists, and otherwise skips the test (or,
// under CI=true, fails it).
func RequireFile(t testing.TB, path string) string {
	t.Helper()
	_, err := os.Stat(path)
	Require(t, err == nil, "test asset missing: %v", err)
	return path
}

// LoadImage decodes a test photo with the standard library (the caller
// registers the decoders it needs, e.g. by importing image/jpeg).
func LoadImage(t testing.TB, path string) image.Image {
	t.Helper()
	f, err := os.Open(RequireFile(t, path))
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
