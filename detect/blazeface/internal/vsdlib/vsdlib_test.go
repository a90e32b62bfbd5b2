package vsdlib

import (
	"context"
	"fmt"
	"image"
	_ "image/jpeg"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/photoguard/photoguard/detect/blazeface"
	"github.com/photoguard/photoguard/detect/blazeface/internal/facetest"
	"github.com/photoguard/photoguard/detect/dlib"
	"github.com/photoguard/photoguard/redact/testenv"
)

// Run with (dlib's models and BlazeFace's files from PHOTOGUARD_MODELS_DIR,
// or BlazeFace's from PHOTOGUARD_BLAZEFACE_MODEL / PHOTOGUARD_ONNXRUNTIME_LIB):
//
//	OPENBLAS_NUM_THREADS=1 PHOTOGUARD_MEASURE=1 go test ./detect/blazeface/internal/vsdlib -run TestMeasureVsDlib -v -timeout 60m
//
// PHOTOGUARD_MEASURE_DLIB_UPSAMPLE lists dlib's enlargements (default 1,2).

func modelsDir() string {
	if d := os.Getenv("PHOTOGUARD_MODELS_DIR"); d != "" {
		return d
	}
	return "/usr/local/share/photoguard/models"
}

func report(t *testing.T, format string, args ...any) {
	t.Helper()
	facetest.Report(t, format, args...)
}

type detector struct {
	name string
	run  func(image.Image) ([]image.Rectangle, error)
}

type result struct {
	hits [][]bool // per photo, per GT face
	fp   int
	cpu  time.Duration
}

func TestMeasureVsDlib(t *testing.T) {
	if os.Getenv("PHOTOGUARD_MEASURE") != "1" {
		t.Skip("set PHOTOGUARD_MEASURE=1 to measure")
	}
	dir := modelsDir()
	testenv.Require(t, dlib.CheckModels(dir) == nil, "%v", dlib.CheckModels(dir))
	bcfg := blazeface.Config{ModelsDir: dir, ModelPath: os.Getenv("PHOTOGUARD_BLAZEFACE_MODEL"),
		LibraryPath: os.Getenv("PHOTOGUARD_ONNXRUNTIME_LIB")}
	testenv.Require(t, bcfg.Check() == nil, "%v", bcfg.Check())

	var dets []detector
	for _, thr := range []float64{0.3, 0.5} {
		c := bcfg
		c.Threshold = thr
		bf, err := blazeface.New(c)
		if err != nil {
			t.Fatal(err)
		}
		defer bf.Close()
		for _, sc := range []float64{1, 2} {
			dets = append(dets, detector{fmt.Sprintf("blazeface %gx thr %.1f", sc, thr), func(img image.Image) ([]image.Rectangle, error) {
				bs, err := bf.Detect(context.Background(), img, sc)
				out := make([]image.Rectangle, len(bs))
				for i, b := range bs {
					out[i] = b.Rect
				}
				return out, err
			}})
		}
	}
	ups := []int{1, 2}
	if v := os.Getenv("PHOTOGUARD_MEASURE_DLIB_UPSAMPLE"); v != "" {
		ups = nil
		for _, f := range strings.Split(v, ",") {
			u, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil {
				t.Fatal(err)
			}
			ups = append(ups, u)
		}
	}
	for _, u := range ups {
		dd, err := dlib.New(dlib.Config{ModelsDir: dir, Detector: dlib.HOG, Upsample: u})
		if err != nil {
			t.Fatal(err)
		}
		defer dd.Close()
		dets = append(dets, detector{fmt.Sprintf("dlib HOG %dx", u), func(img image.Image) ([]image.Rectangle, error) {
			fs, err := dd.Detect(context.Background(), img)
			out := make([]image.Rectangle, len(fs))
			for i, f := range fs {
				out[i] = f.Rect
			}
			return out, err
		}})
	}

	imgDir, names, truth := facetest.CrowdTruth(t)
	results := make([]result, len(dets))
	var mp float64
	for _, n := range names {
		img := facetest.LoadImage(t, filepath.Join(imgDir, n))
		mp += float64(img.Bounds().Dx()*img.Bounds().Dy()) / 1e6
		gt := truth[n]
		for i, d := range dets {
			u0 := facetest.Now()
			boxes, err := d.run(img)
			if err != nil {
				t.Fatal(err)
			}
			results[i].cpu += facetest.Now().CPU - u0.CPU
			results[i].hits = append(results[i].hits, facetest.Hits(gt, boxes))
			results[i].fp += facetest.FalsePositives(gt, boxes)
		}
	}
	minW := []int{16, 20, 30}
	recall := func(hit func(p, f int) bool, sparse bool) []facetest.Count {
		out := make([]facetest.Count, len(minW))
		for p, n := range names {
			if sparse && n == facetest.Dense {
				continue
			}
			h := make([]bool, len(truth[n]))
			for f := range h {
				h[f] = hit(p, f)
			}
			rc := facetest.Recall(truth[n], h, minW)
			for k := range rc {
				out[k].Add(rc[k])
			}
		}
		return out
	}
	pct := func(c facetest.Count) string {
		return fmt.Sprintf("%.0f%% (%d/%d)", 100*float64(c.Found)/float64(max(c.Total, 1)), c.Found, c.Total)
	}
	report(t, "\n### BlazeFace and dlib HOG side by side on the crowds (same run)\n")
	report(t, "dlib HOG via detect/dlib (Upsample = enlargement; its CPU includes a descriptor for every face found, about 27 ms each). Same matching rule and counting as above.\n")
	report(t, "| detector | >=16 | >=20 | >=30 | >=20 w/o 873 | FP | CPU s (18 photos, %.1f MP) | CPU s/MP |", mp)
	report(t, "| --- | --- | --- | --- | --- | --- | --- | --- |")
	for i, d := range dets {
		r := results[i]
		all := recall(func(p, f int) bool { return r.hits[p][f] }, false)
		sp := recall(func(p, f int) bool { return r.hits[p][f] }, true)
		report(t, "| %s | %s | %s | %s | %s | %d | %.1f | %.2f |", d.name, pct(all[0]), pct(all[1]), pct(all[2]), pct(sp[1]), r.fp, r.cpu.Seconds(), r.cpu.Seconds()/mp)
	}
	report(t, "\nWhat each finds that the other misses (valid faces >= 20 px; union = found by either):\n")
	report(t, "| BlazeFace | dlib | both | BlazeFace only | dlib only | neither | union >=20 | union >=20 w/o 873 |")
	report(t, "| --- | --- | --- | --- | --- | --- | --- | --- |")
	for i, a := range dets {
		if !strings.HasPrefix(a.name, "blazeface") {
			continue
		}
		for j, b := range dets {
			if !strings.HasPrefix(b.name, "dlib") {
				continue
			}
			var both, aOnly, bOnly, neither int
			for p, n := range names {
				for f, g := range truth[n] {
					if !g.Valid || g.R.Dx() < 20 {
						continue
					}
					ha, hb := results[i].hits[p][f], results[j].hits[p][f]
					switch {
					case ha && hb:
						both++
					case ha:
						aOnly++
					case hb:
						bOnly++
					default:
						neither++
					}
				}
			}
			union := func(p, f int) bool { return results[i].hits[p][f] || results[j].hits[p][f] }
			report(t, "| %s | %s | %d | %d | %d | %d | %s | %s |", a.name, b.name, both, aOnly, bOnly, neither,
				pct(recall(union, false)[1]), pct(recall(union, true)[1]))
		}
	}
}
