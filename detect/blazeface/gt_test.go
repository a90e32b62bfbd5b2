package blazeface

import (
	"encoding/json"
	"image"
	"os"
	"path/filepath"
	"testing"

	"github.com/photoguard/photoguard/redact/testenv"
)

// gtBox is one ground-truth face: its box in the photo's pixels and whether
// it counts (WIDER's valid flag; the group photos' faces that show a face).
type gtBox struct {
	r     image.Rectangle
	valid bool
}

// groupTruth reads testdata/faces/groundtruth.json of this repository
// (faces with pose "away" do not count).
func groupTruth(t testing.TB) map[string][]gtBox {
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
	out := map[string][]gtBox{}
	for _, im := range gt.Images {
		for _, f := range im.Faces {
			out[im.File] = append(out[im.File], gtBox{image.Rect(f.Box[0], f.Box[1], f.Box[2], f.Box[3]), f.Pose != "away"})
		}
	}
	return out
}

// crowdTruth reads ../shared/testdata/crowds/boxes.json (WIDER FACE).
func crowdTruth(t testing.TB) (dir string, names []string, truth map[string][]gtBox) {
	t.Helper()
	dir = filepath.Join(sharedTestdata(t), "crowds")
	data, err := os.ReadFile(requireFile(t, filepath.Join(dir, "boxes.json")))
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string]struct {
		Faces [][]int `json:"faces"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		t.Fatal(err)
	}
	truth = map[string][]gtBox{}
	for name, e := range raw {
		names = append(names, name)
		for _, f := range e.Faces {
			truth[name] = append(truth[name], gtBox{image.Rect(f[0], f[1], f[0]+f[2], f[1]+f[3]), f[4] == 0})
		}
	}
	sortStrings(names)
	return dir, names, truth
}

// The matching rule of every recall figure: a ground-truth box is found by a
// detection that overlaps it with IoU >= 0.3, or whose centre lies inside it
// and whose width is 0.5x to 2x its width.
func matches(gt, det image.Rectangle) bool {
	if rectIoU(gt, det) >= 0.3 {
		return true
	}
	c := image.Pt((det.Min.X+det.Max.X)/2, (det.Min.Y+det.Max.Y)/2)
	r := float64(det.Dx()) / float64(gt.Dx())
	return c.In(gt) && r >= 0.5 && r <= 2
}

func rectIoU(a, b image.Rectangle) float64 {
	in := a.Intersect(b)
	if in.Empty() {
		return 0
	}
	i := float64(in.Dx() * in.Dy())
	return i / (float64(a.Dx()*a.Dy()+b.Dx()*b.Dy()) - i)
}

// score counts, for minimum widths minW, the valid GT faces at least that
// wide and those found, and the detections that match no GT box at all
// (valid or not, of any size): false positives.
func score(gt []gtBox, dets []image.Rectangle, minW []int) (total, found []int, fp int) {
	total, found = make([]int, len(minW)), make([]int, len(minW))
	for _, g := range gt {
		if !g.valid {
			continue
		}
		hit := false
		for _, d := range dets {
			if matches(g.r, d) {
				hit = true
				break
			}
		}
		for i, w := range minW {
			if g.r.Dx() >= w {
				total[i]++
				if hit {
					found[i]++
				}
			}
		}
	}
	for _, d := range dets {
		m := false
		for _, g := range gt {
			if matches(g.r, d) {
				m = true
				break
			}
		}
		if !m {
			fp++
		}
	}
	return total, found, fp
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}
