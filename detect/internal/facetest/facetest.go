// Package facetest holds what the face detector measurements share: the
// ground truth of the shared test photos, the one matching rule, recall and
// false-positive counting, and process CPU time and peak memory.
//
// Invariant: used by tests only; a missing shared asset skips the test, or
// fails it under CI=true (redact/testenv).
package facetest

import (
	"encoding/json"
	"fmt"
	"image"
	"os"
	"path/filepath"
	"sort"
	"syscall"
	"testing"
	"time"

	"github.com/photoguard/photoguard/redact/testenv"
)

// GT is one ground-truth face: its box in the photo's pixels, whether it
// counts (WIDER's valid flag; in the group photos, a face that shows), and
// WIDER's occlusion (0 none, 1 partial, 2 heavy) and blur (0..2).
type GT struct {
	R          image.Rectangle
	Valid      bool
	Occl, Blur int
	Pose       string // group photos: frontal, turned, tilted, away
	Atypical   bool   // WIDER pose flag: atypical (turned, profile)
	Source     string // file the face is in
}

// RequireFile returns path if it exists and otherwise skips or fails.
func RequireFile(t testing.TB, path string) string { return testenv.RequireFile(t, path) }

// LoadImage decodes a test photo (register the decoders in the caller).
func LoadImage(t testing.TB, path string) image.Image { return testenv.LoadImage(t, path) }

// GroupsDir is the shared folder of the adult group photos.
func GroupsDir(t testing.TB) string {
	return filepath.Join(testenv.SharedTestdata(t), "faces", "groups")
}

// GroupTruth reads testdata/faces/groundtruth.json of this repository, keyed
// by file name in GroupsDir (faces with pose "away" do not count).
func GroupTruth(t testing.TB) (names []string, truth map[string][]GT) {
	t.Helper()
	p := filepath.Join(testenv.RepoRoot(t), "testdata", "faces", "groundtruth.json")
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err) // the project's own fixture: never skipped
	}
	var gt struct {
		Images []struct {
			File  string `json:"file"`
			Faces []struct {
				Box  [4]int `json:"box"`
				Pose string `json:"pose"`
			} `json:"faces"`
		} `json:"images"`
	}
	if err := json.Unmarshal(data, &gt); err != nil {
		t.Fatalf("%s: %v", p, err)
	}
	truth = map[string][]GT{}
	for _, im := range gt.Images {
		name := filepath.Base(im.File)
		names = append(names, name)
		for _, f := range im.Faces {
			truth[name] = append(truth[name], GT{R: image.Rect(f.Box[0], f.Box[1], f.Box[2], f.Box[3]),
				Valid: f.Pose != "away", Pose: f.Pose, Source: name})
		}
	}
	sort.Strings(names)
	return names, truth
}

// Dense is the crowd photo that holds a third of all faces.
const Dense = "0_Parade_Parade_0_873.jpg"

// CrowdTruth reads ../shared/testdata/crowds/boxes.json (WIDER FACE).
func CrowdTruth(t testing.TB) (dir string, names []string, truth map[string][]GT) {
	t.Helper()
	dir = filepath.Join(testenv.SharedTestdata(t), "crowds")
	names, truth = BoxesTruth(t, filepath.Join(dir, "boxes.json"))
	return filepath.Join(dir, "images"), names, truth
}

// SharedSet is one folder of shared photos with the faces boxed in a
// boxes.json (the crowds' format): the group photos and camera photos boxed
// by eye (faces/groups, photos), or none at all (nofaces/images, which has
// no boxes file).
type SharedSet struct {
	Dir   string
	Names []string
	Truth map[string][]GT
}

// EyeBoxedSets are the shared group photos (bbt1-5) and camera photos
// (sample1-6) with their faces boxed by eye: 45 faces that count, and three
// heads seen from behind marked invalid.
func EyeBoxedSets(t testing.TB) []SharedSet {
	t.Helper()
	root := testenv.SharedTestdata(t)
	var sets []SharedSet
	for _, d := range []string{filepath.Join(root, "faces", "groups"), filepath.Join(root, "photos")} {
		names, truth := BoxesTruth(t, filepath.Join(d, "boxes.json"))
		sets = append(sets, SharedSet{Dir: d, Names: names, Truth: truth})
	}
	return sets
}

// NoFaces is the shared set of photos without a person (no boxes).
func NoFaces(t testing.TB) SharedSet {
	t.Helper()
	dir := filepath.Join(testenv.SharedTestdata(t), "nofaces", "images")
	entries, err := os.ReadDir(RequireFile(t, dir))
	if err != nil {
		t.Fatal(err)
	}
	set := SharedSet{Dir: dir, Truth: map[string][]GT{}}
	for _, e := range entries {
		if !e.IsDir() {
			set.Names = append(set.Names, e.Name())
		}
	}
	sort.Strings(set.Names)
	if len(set.Names) == 0 {
		t.Fatalf("%s: no photos", dir)
	}
	return set
}

// BoxesTruth reads a boxes.json in the crowds' format: per photo, faces as
// [x, y, w, h, invalid, occlusion, blur, pose].
func BoxesTruth(t testing.TB, path string) (names []string, truth map[string][]GT) {
	t.Helper()
	data, err := os.ReadFile(RequireFile(t, path))
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string]struct {
		Faces [][]int `json:"faces"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		t.Fatal(err)
	}
	truth = map[string][]GT{}
	for name, e := range raw {
		names = append(names, name)
		for _, f := range e.Faces {
			truth[name] = append(truth[name], GT{R: image.Rect(f[0], f[1], f[0]+f[2], f[1]+f[3]),
				Valid: f[4] == 0, Occl: f[5], Blur: f[6], Atypical: f[7] == 1, Source: name})
		}
	}
	sort.Strings(names)
	return names, truth
}

// Matches is the rule of every recall figure: a ground-truth box is found
// by a detection that overlaps it with IoU >= 0.3, or whose centre lies
// inside it and whose width is 0.5x to 2x its width.
func Matches(gt, det image.Rectangle) bool {
	if IoU(gt, det) >= 0.3 {
		return true
	}
	c := image.Pt((det.Min.X+det.Max.X)/2, (det.Min.Y+det.Max.Y)/2)
	r := float64(det.Dx()) / float64(gt.Dx())
	return c.In(gt) && r >= 0.5 && r <= 2
}

// IoU is the intersection over union of two boxes.
func IoU(a, b image.Rectangle) float64 {
	in := a.Intersect(b)
	if in.Empty() {
		return 0
	}
	i := float64(in.Dx() * in.Dy())
	return i / (float64(a.Dx()*a.Dy()+b.Dx()*b.Dy()) - i)
}

// Hits says, per ground-truth face, whether some detection matches it.
func Hits(gt []GT, dets []image.Rectangle) []bool {
	hit := make([]bool, len(gt))
	for i, g := range gt {
		for _, d := range dets {
			if Matches(g.R, d) {
				hit[i] = true
				break
			}
		}
	}
	return hit
}

// FalsePositives counts the detections that match no ground-truth box at
// all (valid or not, of any size).
func FalsePositives(gt []GT, dets []image.Rectangle) int {
	fp := 0
	for _, d := range dets {
		m := false
		for _, g := range gt {
			if Matches(g.R, d) {
				m = true
				break
			}
		}
		if !m {
			fp++
		}
	}
	return fp
}

// Clean reports whether a face is an easy one: WIDER's occlusion none,
// blur not heavy, pose typical.
func (g GT) Clean() bool { return g.Occl == 0 && g.Blur < 2 && !g.Atypical }

// Count is found of total faces.
type Count struct{ Found, Total int }

func (c *Count) Add(o Count) { c.Found += o.Found; c.Total += o.Total }

// Recall per minimum width: valid faces at least minW[i] wide.
func Recall(gt []GT, hit []bool, minW []int) []Count {
	out := make([]Count, len(minW))
	for i, g := range gt {
		if !g.Valid {
			continue
		}
		for k, w := range minW {
			if g.R.Dx() >= w {
				out[k].Total++
				if hit[i] {
					out[k].Found++
				}
			}
		}
	}
	return out
}

// Usage is the process's CPU time (user + system) and peak RSS so far.
type Usage struct {
	CPU    time.Duration
	MaxRSS int64 // bytes
}

// Now reads getrusage(RUSAGE_SELF).
func Now() Usage {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return Usage{}
	}
	cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	return Usage{CPU: cpu, MaxRSS: ru.Maxrss * 1024}
}

// Report logs a line of a measurement table and appends it to the file
// named by $PHOTOGUARD_MEASURE_OUT, when set.
func Report(t testing.TB, format string, args ...any) {
	t.Helper()
	line := fmt.Sprintf(format, args...)
	t.Log(line)
	if p := os.Getenv("PHOTOGUARD_MEASURE_OUT"); p != "" {
		f, err := os.OpenFile(p, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintln(f, line)
		f.Close()
	}
}
