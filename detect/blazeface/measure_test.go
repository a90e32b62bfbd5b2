package blazeface

import (
	"context"
	"fmt"
	"image"
	"image/png"
	"math"
	"math/rand"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	xdraw "golang.org/x/image/draw"

	"github.com/photoguard/photoguard/detect/blazeface/internal/facetest"
)

// The measurements of MEASUREMENTS.md. They run only with PHOTOGUARD_MEASURE=1:
//
//	PHOTOGUARD_MEASURE=1 PHOTOGUARD_MEASURE_OUT=/tmp/bf.md go test ./detect/blazeface -run 'TestMeasure' -v -timeout 60m
//
// PHOTOGUARD_MEASURE_OUT, when set, receives the tables as markdown.
// PHOTOGUARD_MEASURE_SCALES overrides the crowd scales (default 1,1.5,2,3).
// PHOTOGUARD_MEASURE_SHEETS, a folder, receives contact sheets of the false
// boxes and missed faces at the first scale, threshold 0.3.

func requireMeasure(t *testing.T) {
	if os.Getenv("PHOTOGUARD_MEASURE") != "1" {
		t.Skip("set PHOTOGUARD_MEASURE=1 to measure")
	}
}

// report: facetest.Report.
func report(t *testing.T, format string, args ...any) {
	t.Helper()
	facetest.Report(t, format, args...)
}

var (
	minWidths  = []int{16, 20, 30}
	thresholds = []float64{0.2, 0.3, 0.5, 0.75}
)

func measureScales(t *testing.T) []float64 {
	v := os.Getenv("PHOTOGUARD_MEASURE_SCALES")
	if v == "" {
		return []float64{1, 1.5, 2, 3}
	}
	var out []float64
	for _, f := range strings.Split(v, ",") {
		s, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
		if err != nil {
			t.Fatalf("PHOTOGUARD_MEASURE_SCALES: %v", err)
		}
		out = append(out, s)
	}
	return out
}

// photoRun is one photo run through the detector at one scale.
type photoRun struct {
	name  string
	gt    []facetest.GT
	cands []fbox
	tiles int
	cpu   time.Duration
	mp    float64 // megapixels of the photo
	scale float64
}

func (r photoRun) boxes(thr float64) []image.Rectangle {
	return rects(merge(r.cands, thr, image.Point{}))
}

// photoSet is a set of photos with their ground truth, decoded once.
type photoSet struct {
	names []string
	truth map[string][]facetest.GT
	imgs  map[string]image.Image
}

func crowdSet(t *testing.T, only ...string) photoSet {
	dir, names, truth := facetest.CrowdTruth(t)
	if len(only) > 0 {
		names = only
	}
	s := photoSet{names: names, truth: truth, imgs: map[string]image.Image{}}
	for _, n := range names {
		s.imgs[n] = toRGBA(loadImage(t, filepath.Join(dir, n)))
	}
	return s
}

func groupSet(t *testing.T) photoSet {
	names, truth := facetest.GroupTruth(t)
	s := photoSet{names: names, truth: truth, imgs: map[string]image.Image{}}
	for _, n := range names {
		s.imgs[n] = toRGBA(loadImage(t, groupPhoto(t, n)))
	}
	return s
}

// run detects (minimum score 0.3, merged later per threshold) in every photo
// of the set, transformed by tf when it is not nil.
func (s photoSet) run(t *testing.T, d *Detector, scale float64, tf func(image.Image) image.Image) []photoRun {
	var out []photoRun
	for _, n := range s.names {
		img := s.imgs[n]
		if tf != nil {
			img = tf(img)
		}
		u0 := facetest.Now()
		c, st, err := d.candidates(context.Background(), img, scale, thresholds[0])
		if err != nil {
			t.Fatal(err)
		}
		u1 := facetest.Now()
		b := img.Bounds()
		out = append(out, photoRun{name: n, gt: s.truth[n], cands: c, tiles: st.Tiles, cpu: u1.CPU - u0.CPU,
			mp: float64(b.Dx()*b.Dy()) / 1e6, scale: scale})
	}
	return out
}

// summary is recall per min width (all photos, and without the dense one)
// and false positives at one threshold.
type summary struct {
	all, sparse []facetest.Count
	clean       facetest.Count // clean valid faces >= 20 px
	fp, photos  int
}

func summarize(runs []photoRun, thr float64) summary {
	s := summary{all: make([]facetest.Count, len(minWidths)), sparse: make([]facetest.Count, len(minWidths))}
	for _, r := range runs {
		dets := r.boxes(thr)
		rc := facetest.Recall(r.gt, facetest.Hits(r.gt, dets), minWidths)
		for k := range rc {
			s.all[k].Add(rc[k])
			if r.name != facetest.Dense {
				s.sparse[k].Add(rc[k])
			}
		}
		hit := facetest.Hits(r.gt, dets)
		for i, g := range r.gt {
			if g.Valid && g.Clean() && g.R.Dx() >= 20 {
				s.clean.Total++
				if hit[i] {
					s.clean.Found++
				}
			}
		}
		s.fp += facetest.FalsePositives(r.gt, dets)
		s.photos++
	}
	return s
}

func pct(c facetest.Count) string {
	if c.Total == 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f%% (%d/%d)", 100*float64(c.Found)/float64(c.Total), c.Found, c.Total)
}

func TestMeasureCrowds(t *testing.T) {
	requireMeasure(t)
	d := sharedDetector(t, Config{})
	set := crowdSet(t)
	scales := measureScales(t)
	byScale := map[float64][]photoRun{}
	report(t, "\n### Crowds (18 WIDER FACE photos, 1024 px wide): recall by scale and threshold\n")
	report(t, "Overlap %d model px, pyramid down to one tile, weighted NMS IoU %.1f. Recall = found/valid GT faces at least N px wide (published size); \"w/o 873\" leaves out the dense parade photo; \"clean\" = WIDER occlusion none, blur not heavy, pose typical. FP = detections matching no GT box (valid or invalid).\n", d.cfg.Overlap, nmsIoU)
	report(t, "| scale | thr | >=16 | >=20 | >=30 | >=16 w/o 873 | >=20 w/o 873 | >=30 w/o 873 | >=20 clean | FP (per photo) |")
	report(t, "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
	for _, sc := range scales {
		runs := set.run(t, d, sc, nil)
		byScale[sc] = runs
		for _, thr := range thresholds {
			s := summarize(runs, thr)
			report(t, "| %.1f | %.2f | %s | %s | %s | %s | %s | %s | %s | %d (%.1f) |", sc, thr,
				pct(s.all[0]), pct(s.all[1]), pct(s.all[2]), pct(s.sparse[0]), pct(s.sparse[1]), pct(s.sparse[2]),
				pct(s.clean), s.fp, float64(s.fp)/float64(s.photos))
		}
	}

	if dir := os.Getenv("PHOTOGUARD_MEASURE_SHEETS"); dir != "" && len(byScale[scales[0]]) > 0 {
		writeSheets(t, dir, set, byScale[scales[0]], 0.3)
	}
	report(t, "\n### Crowds: what false boxes cost, and how well boxes cover faces\n")
	report(t, "FP area = share of the photo's pixels under boxes that match no GT face (mean over photos). Cover = share of a found valid face's GT box (>= 20 px) inside the best-matching detection grown 1.3x about its centre (the redaction margin): median, 10th percentile, share >= 90%%.\n")
	report(t, "| scale | thr | FP area | cover median | cover p10 | cover >= 90%% |")
	report(t, "| --- | --- | --- | --- | --- | --- |")
	for _, sc := range scales {
		for _, thr := range thresholds[:3] {
			var area float64
			var covers []float64
			for _, r := range byScale[sc] {
				dets := r.boxes(thr)
				b := set.imgs[r.name].Bounds()
				area += fpArea(r.gt, dets, b)
				for _, g := range r.gt {
					if !g.Valid || g.R.Dx() < 20 {
						continue
					}
					if c, ok := bestCover(g.R, dets, 1.3); ok {
						covers = append(covers, c)
					}
				}
			}
			sort.Float64s(covers)
			n90 := 0
			for _, c := range covers {
				if c >= 0.9 {
					n90++
				}
			}
			q := func(f float64) float64 {
				if len(covers) == 0 {
					return 0
				}
				return covers[int(f*float64(len(covers)-1))]
			}
			report(t, "| %.1f | %.2f | %.1f%% | %.2f | %.2f | %.0f%% |", sc, thr, 100*area/float64(len(byScale[sc])),
				q(0.5), q(0.1), 100*float64(n90)/float64(max(len(covers), 1)))
		}
	}

	report(t, "\n### Crowds: CPU (getrusage, user+system, 1 onnxruntime thread) per scale\n")
	report(t, "| scale | tiles (18 photos) | CPU s | CPU ms/tile | CPU s per published MP | peak RSS so far (MB) |")
	report(t, "| --- | --- | --- | --- | --- | --- |")
	for _, sc := range scales {
		var tiles int
		var cpu time.Duration
		var mp float64
		for _, r := range byScale[sc] {
			tiles += r.tiles
			cpu += r.cpu
			mp += r.mp
		}
		report(t, "| %.1f | %d | %.1f | %.1f | %.2f | %d |", sc, tiles, cpu.Seconds(),
			1000*cpu.Seconds()/float64(tiles), cpu.Seconds()/mp, facetest.Now().MaxRSS>>20)
	}

	report(t, "\n### Crowds per photo, threshold 0.5: found/total valid faces >= 20 px, and FP\n")
	hdr, sep := "| photo |", "| --- |"
	for _, sc := range scales {
		hdr += fmt.Sprintf(" %.1fx >=20 | %.1fx FP |", sc, sc)
		sep += " --- | --- |"
	}
	report(t, "%s", hdr)
	report(t, "%s", sep)
	for i, n := range set.names {
		line := "| " + strings.TrimSuffix(n, ".jpg") + " |"
		for _, sc := range scales {
			r := byScale[sc][i]
			dets := r.boxes(0.5)
			c := facetest.Recall(r.gt, facetest.Hits(r.gt, dets), []int{20})[0]
			line += fmt.Sprintf(" %d/%d | %d |", c.Found, c.Total, facetest.FalsePositives(r.gt, dets))
		}
		report(t, "%s", line)
	}

	// Recall by published width, per scale: does enlarging help small faces?
	bins := []int{10, 16, 20, 24, 30, 40, 60, 1 << 30}
	report(t, "\n### Crowds: recall by published face width, per scale (valid faces)\n")
	hdr, sep = "| width px |", "| --- |"
	for _, sc := range scales {
		for _, thr := range thresholds[1:3] {
			hdr += fmt.Sprintf(" %.1fx thr %.1f |", sc, thr)
			sep += " --- |"
		}
	}
	report(t, "%s", hdr)
	report(t, "%s", sep)
	for b := 0; b+1 < len(bins); b++ {
		label := fmt.Sprintf("%d-%d", bins[b], bins[b+1]-1)
		if b+2 == len(bins) {
			label = fmt.Sprintf(">=%d", bins[b])
		}
		line := "| " + label + " |"
		for _, sc := range scales {
			for _, thr := range thresholds[1:3] {
				var c facetest.Count
				for _, r := range byScale[sc] {
					hit := facetest.Hits(r.gt, r.boxes(thr))
					for i, g := range r.gt {
						if g.Valid && g.R.Dx() >= bins[b] && g.R.Dx() < bins[b+1] {
							c.Total++
							if hit[i] {
								c.Found++
							}
						}
					}
				}
				line += " " + pct(c) + " |"
			}
		}
		report(t, "%s", line)
	}
}

// writeSheets writes two contact sheets (up to 80 crops of 64x64 each, the
// box with half its width around it): the false boxes and the missed valid
// faces >= 20 px of runs at threshold thr.
func writeSheets(t *testing.T, dir string, set photoSet, runs []photoRun, thr float64) {
	var fps, miss []image.Image
	for _, r := range runs {
		img := toRGBA(set.imgs[r.name])
		dets := r.boxes(thr)
		for _, d := range dets {
			if facetest.FalsePositives(r.gt, []image.Rectangle{d}) == 1 {
				fps = append(fps, img.SubImage(d.Inset(-d.Dx()/2)))
			}
		}
		hit := facetest.Hits(r.gt, dets)
		for i, g := range r.gt {
			if g.Valid && g.R.Dx() >= 20 && !hit[i] {
				miss = append(miss, img.SubImage(g.R.Inset(-g.R.Dx()/2)))
			}
		}
	}
	for name, list := range map[string][]image.Image{"false": fps, "missed": miss} {
		sheet := image.NewRGBA(image.Rect(0, 0, 10*64, 8*64))
		for i, c := range list[:min(len(list), 80)] {
			r := image.Rect((i%10)*64, (i/10)*64, (i%10)*64+64, (i/10)*64+64)
			xdraw.BiLinear.Scale(sheet, r, c, c.Bounds(), xdraw.Src, nil)
		}
		p := filepath.Join(dir, fmt.Sprintf("crowds-%gx-thr%g-%s.png", runs[0].scale, thr, name))
		f, err := os.Create(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := png.Encode(f, sheet); err != nil {
			t.Fatal(err)
		}
		f.Close()
		t.Logf("wrote %s (%d of %d crops)", p, min(len(list), 80), len(list))
	}
}

// fpArea is the share of b's pixels under detections that match no GT box.
func fpArea(gt []facetest.GT, dets []image.Rectangle, b image.Rectangle) float64 {
	var fps []image.Rectangle
	for _, d := range dets {
		if facetest.FalsePositives(gt, []image.Rectangle{d}) == 1 {
			fps = append(fps, d.Intersect(b))
		}
	}
	mask := make([]bool, b.Dx()*b.Dy())
	n := 0
	for _, r := range fps {
		for y := r.Min.Y; y < r.Max.Y; y++ {
			for x := r.Min.X; x < r.Max.X; x++ {
				i := (y-b.Min.Y)*b.Dx() + x - b.Min.X
				if !mask[i] {
					mask[i] = true
					n++
				}
			}
		}
	}
	return float64(n) / float64(len(mask))
}

// bestCover returns the share of g inside the matching detection (highest
// IoU) grown by grow about its centre.
func bestCover(g image.Rectangle, dets []image.Rectangle, grow float64) (float64, bool) {
	best, bi := -1.0, -1
	for i, d := range dets {
		if facetest.Matches(g, d) {
			if v := facetest.IoU(g, d); v > best {
				best, bi = v, i
			}
		}
	}
	if bi < 0 {
		return 0, false
	}
	d := dets[bi]
	cx, cy := float64(d.Min.X+d.Max.X)/2, float64(d.Min.Y+d.Max.Y)/2
	hw, hh := float64(d.Dx())*grow/2, float64(d.Dy())*grow/2
	r := image.Rect(int(cx-hw), int(cy-hh), int(math.Ceil(cx+hw)), int(math.Ceil(cy+hh)))
	in := r.Intersect(g)
	return float64(in.Dx()*in.Dy()) / float64(g.Dx()*g.Dy()), true
}

// pasteFace renders the 256x256 canvas a face of source box g in src makes
// when scaled to w pixels wide, its centre moved by (dx, dy), the rest of the
// canvas its real surroundings (mid-grey past the photo's edge). It returns
// the canvas and the face's box in it.
func pasteFace(src *image.RGBA, g image.Rectangle, w, dx, dy float64) (*image.RGBA, image.Rectangle) {
	const size = 256
	k := w / float64(g.Dx()) // canvas px per source px
	cx := float64(g.Min.X+g.Max.X)/2 - (float64(size)/2+dx)/k
	cy := float64(g.Min.Y+g.Max.Y)/2 - (float64(size)/2+dy)/k
	// Canvas (0,0) is source (cx, cy) - (0,0) shifted so the face centre
	// lands at (size/2+dx, size/2+dy).
	sr := image.Rect(int(math.Floor(cx)), int(math.Floor(cy)), int(math.Ceil(cx+size/k)), int(math.Ceil(cy+size/k)))
	dst := image.NewRGBA(image.Rect(0, 0, size, size))
	for i := range dst.Pix {
		dst.Pix[i] = 128
	}
	in := sr.Intersect(src.Rect)
	if !in.Empty() {
		dr := image.Rect(int(math.Round((float64(in.Min.X)-cx)*k)), int(math.Round((float64(in.Min.Y)-cy)*k)),
			int(math.Round((float64(in.Max.X)-cx)*k)), int(math.Round((float64(in.Max.Y)-cy)*k)))
		xdraw.BiLinear.Scale(dst, dr, src, in, xdraw.Src, nil)
	}
	box := image.Rect(int(math.Round((float64(g.Min.X)-cx)*k)), int(math.Round((float64(g.Min.Y)-cy)*k)),
		int(math.Round((float64(g.Max.X)-cx)*k)), int(math.Round((float64(g.Max.Y)-cy)*k)))
	return dst, box
}

// floorSources are the faces pasted at controlled sizes: valid unoccluded
// crowd faces at least 40 px wide, and the counted group-photo faces.
func floorSources(t *testing.T) (faces []facetest.GT, imgs map[string]*image.RGBA) {
	imgs = map[string]*image.RGBA{}
	dir, names, truth := facetest.CrowdTruth(t)
	for _, n := range names {
		for _, g := range truth[n] {
			if g.Valid && g.Occl == 0 && g.R.Dx() >= 40 {
				faces = append(faces, g)
				if imgs[n] == nil {
					imgs[n] = toRGBA(loadImage(t, filepath.Join(dir, n)))
				}
			}
		}
	}
	gnames, gtruth := facetest.GroupTruth(t)
	for _, n := range gnames {
		for _, g := range gtruth[n] {
			if g.Valid {
				faces = append(faces, g)
				if imgs[n] == nil {
					imgs[n] = toRGBA(loadImage(t, groupPhoto(t, n)))
				}
			}
		}
	}
	return faces, imgs
}

func TestMeasureFloor(t *testing.T) {
	requireMeasure(t)
	d := sharedDetector(t, Config{MaxLevels: 1})
	faces, imgs := floorSources(t)
	widths := []int{8, 10, 12, 14, 16, 18, 20, 22, 24, 28, 32, 40, 48, 64, 80, 96, 112, 128, 160, 192}
	rng := rand.New(rand.NewSource(9))
	report(t, "\n### Floor: faces pasted at controlled widths into one 256 px tile\n")
	report(t, "%d source faces (valid, unoccluded crowd faces >= 40 px and the 23 counted group-photo faces), each downscaled (bilinear) with its real surroundings so its GT box is W model px wide, centre jittered by up to +-W/2 (and +-16 px), one tile, no pyramid. Found = the matching rule against the pasted box.\n", len(faces))
	report(t, "| W (model px) | thr 0.2 | thr 0.3 | thr 0.5 | thr 0.75 | CPU ms/tile |")
	report(t, "| --- | --- | --- | --- | --- | --- |")
	type res struct{ c [4]facetest.Count }
	results := make([]res, len(widths))
	for wi, w := range widths {
		u0 := facetest.Now()
		for _, g := range faces {
			j := math.Min(float64(w)/2, 16)
			canvas, box := pasteFace(imgs[g.Source], g.R, float64(w), (rng.Float64()*2-1)*j, (rng.Float64()*2-1)*j)
			c, _, err := d.candidates(context.Background(), canvas, 1, thresholds[0])
			if err != nil {
				t.Fatal(err)
			}
			for ti, thr := range thresholds {
				dets := rects(merge(c, thr, image.Point{}))
				results[wi].c[ti].Total++
				if facetest.Hits([]facetest.GT{{R: box, Valid: true}}, dets)[0] {
					results[wi].c[ti].Found++
				}
			}
		}
		cpu := facetest.Now().CPU - u0.CPU
		r := results[wi]
		report(t, "| %d | %s | %s | %s | %s | %.1f |", w, pct(r.c[0]), pct(r.c[1]), pct(r.c[2]), pct(r.c[3]), 1000*cpu.Seconds()/float64(len(faces)))
	}
	// The floor: the smallest width from which every width up to 96 px is
	// found >= 90%; and the largest width found >= 90%.
	for ti, thr := range thresholds {
		floor, top := -1, -1
		for wi := len(widths) - 1; wi >= 0; wi-- {
			c := results[wi].c[ti]
			ok := c.Found*10 >= c.Total*9
			if widths[wi] <= 96 {
				if !ok {
					break
				}
				floor = widths[wi]
			}
		}
		for wi, w := range widths {
			c := results[wi].c[ti]
			if c.Found*10 >= c.Total*9 {
				top = w
			}
		}
		report(t, "\nthreshold %.2f: floor (every width from it up to 96 px found >= 90%%) = %d model px; largest width found >= 90%% = %d model px", thr, floor, top)
	}
}

// darken and washOut make the lighting variants; both stay 8-bit, as a
// photo would.
func darken(img image.Image) image.Image {
	return mapPixels(img, func(v float64) float64 { return v * 0.06 })
}
func washOut(img image.Image) image.Image {
	return mapPixels(img, func(v float64) float64 { return 140 + 0.3*v })
}

func mapPixels(img image.Image, f func(float64) float64) image.Image {
	src := toRGBA(img)
	var lut [256]uint8
	for v := range lut {
		lut[v] = uint8(math.Max(0, math.Min(255, math.Round(f(float64(v))))))
	}
	dst := image.NewRGBA(src.Rect)
	for i := range src.Pix {
		if i%4 == 3 {
			dst.Pix[i] = 255
		} else {
			dst.Pix[i] = lut[src.Pix[i]]
		}
	}
	return dst
}

func TestMeasureLighting(t *testing.T) {
	requireMeasure(t)
	plain := sharedDetector(t, Config{})
	tiled := sharedDetector(t, Config{TileStretch: true})
	global := func(img image.Image) image.Image { return Stretch(img, StretchLow, StretchHigh) }
	variants := []struct {
		name string
		tf   func(image.Image) image.Image
	}{{"original", nil}, {"dark (x0.06)", darken}, {"washed out (140+0.3v)", washOut}}
	norms := []struct {
		name string
		d    *Detector
		tf   func(image.Image) image.Image
	}{{"none", plain, nil}, {"global stretch 0.5-99.5%", plain, global}, {"per-tile stretch", tiled, nil}}
	sets := []struct {
		name  string
		set   photoSet
		scale float64
	}{{"groups bbt1-5 (23 faces), scale 1", groupSet(t), 1}, {"crowds (18), scale 1", crowdSet(t), 1}}
	report(t, "\n### Dark and washed-out photos, with and without contrast normalisation\n")
	report(t, "Dark = every channel x0.06 (8-bit, values 0-15); washed out = 140 + 0.3 v (values 140-216). Global stretch maps the 0.5%%/99.5%% luma quantiles of the whole photo to 0/255 (Stretch); per-tile does the same per 256 px tile (Config.TileStretch).\n")
	report(t, "| photos | lighting | normalisation | thr | all counted | >=20 | FP |")
	report(t, "| --- | --- | --- | --- | --- | --- | --- |")
	for _, s := range sets {
		for _, v := range variants {
			for _, nm := range norms {
				tf := v.tf
				if nm.tf != nil {
					inner := v.tf
					tf = func(img image.Image) image.Image {
						if inner != nil {
							img = inner(img)
						}
						return nm.tf(img)
					}
				}
				runs := s.set.run(t, nm.d, s.scale, tf)
				for _, thr := range []float64{0.3, 0.5} {
					var all, w20 facetest.Count
					fp := 0
					for _, r := range runs {
						dets := r.boxes(thr)
						rc := facetest.Recall(r.gt, facetest.Hits(r.gt, dets), []int{0, 20})
						all.Add(rc[0])
						w20.Add(rc[1])
						fp += facetest.FalsePositives(r.gt, dets)
					}
					report(t, "| %s | %s | %s | %.2f | %s | %s | %d |", s.name, v.name, nm.name, thr, pct(all), pct(w20), fp)
				}
			}
		}
	}
}

// TestMeasureLarge times one 12 MP photo (sample1.jpg of the shared photos
// enlarged to 4032x3024 by nearest neighbour, an iPad photo's size) at the scales a planner
// would use for it. Run it alone for the peak RSS to mean something:
//
//	PHOTOGUARD_MEASURE=1 go test ./detect/blazeface -run TestMeasureLarge -v
func TestMeasureLarge(t *testing.T) {
	requireMeasure(t)
	d := sharedDetector(t, Config{})
	src := loadImage(t, filepath.Join(facetest.GroupsDir(t), "..", "..", "photos", "sample1.jpg"))
	// Enlarged by nearest neighbour: no scaler's scratch memory in the RSS.
	small := toRGBA(src)
	img := image.NewRGBA(image.Rect(0, 0, 4032, 3024))
	for y := 0; y < 3024; y++ {
		sy := y * small.Rect.Dy() / 3024
		for x := 0; x < 4032; x++ {
			sx := x * small.Rect.Dx() / 4032
			copy(img.Pix[y*img.Stride+4*x:y*img.Stride+4*x+4], small.Pix[sy*small.Stride+4*sx:])
		}
	}
	base := facetest.Now()
	report(t, "\n### One 12 MP photo (4032x3024), one Detect call per scale, fresh process\n")
	report(t, "Peak RSS before the first call (decoded photo, 12 MP copy, model loaded): %d MB.\n", base.MaxRSS>>20)
	report(t, "| scale | levels | tiles | CPU s | CPU ms/tile | peak RSS after (MB) | boxes thr 0.5 |")
	report(t, "| --- | --- | --- | --- | --- | --- | --- |")
	for _, sc := range []float64{0.25, 0.5, 1} {
		u0 := facetest.Now()
		c, st, err := d.candidates(context.Background(), img, sc, 0.5)
		if err != nil {
			t.Fatal(err)
		}
		u1 := facetest.Now()
		report(t, "| %.2f | %v | %d | %.1f | %.1f | %d | %d |", sc, st.Levels, st.Tiles, (u1.CPU - u0.CPU).Seconds(),
			1000*(u1.CPU-u0.CPU).Seconds()/float64(st.Tiles), u1.MaxRSS>>20, len(merge(c, 0.5, image.Point{})))
	}
}

// TestMeasureMirror: does running every tile mirrored too (Config.Mirror)
// find more than the same CPU spent on a larger scale?
func TestMeasureMirror(t *testing.T) {
	requireMeasure(t)
	set := crowdSet(t)
	report(t, "\n### Mirrored tiles (Config.Mirror) on the crowds\n")
	report(t, "| scale | mirror | thr | >=16 | >=20 | >=30 | >=20 clean | FP | FP area | tiles run | CPU s/MP |")
	report(t, "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
	for _, sc := range []float64{1, 2} {
		for _, mirror := range []bool{false, true} {
			d := sharedDetector(t, Config{Mirror: mirror})
			runs := set.run(t, d, sc, nil)
			var cpu time.Duration
			var mp float64
			tiles := 0
			for _, r := range runs {
				cpu += r.cpu
				mp += r.mp
				tiles += r.tiles
			}
			for _, thr := range thresholds[:3] {
				s := summarize(runs, thr)
				var area float64
				for _, r := range runs {
					area += fpArea(r.gt, r.boxes(thr), set.imgs[r.name].Bounds())
				}
				report(t, "| %.1f | %v | %.2f | %s | %s | %s | %s | %d | %.1f%% | %d | %.2f |", sc, mirror, thr,
					pct(s.all[0]), pct(s.all[1]), pct(s.all[2]), pct(s.clean), s.fp, 100*area/float64(len(runs)), tiles, cpu.Seconds()/mp)
			}
		}
	}
}

// TestMeasureChildrenFloor: the floor again, with children's faces (every
// 4th of the shared UTKFace chips, ages 3-16: one face each, 200x200). The
// reference box is BlazeFace's own on the chip shown whole (200 px) in a
// tile; the chip is then shrunk so that box is W model px wide and pasted
// into a mid-grey tile, centre jittered by up to +-min(W/2, 16) px.
func TestMeasureChildrenFloor(t *testing.T) {
	requireMeasure(t)
	d := sharedDetector(t, Config{MaxLevels: 1})
	dir := filepath.Join(filepath.Dir(facetest.GroupsDir(t)), "..", "children")
	files, err := filepath.Glob(filepath.Join(dir, "*.jpg"))
	if err != nil || len(files) == 0 {
		facetest.RequireFile(t, filepath.Join(dir, "README.md"))
		t.Fatalf("no children's chips in %s", dir)
	}
	sort.Strings(files)
	type chip struct {
		img *image.RGBA
		ref image.Rectangle // in chip pixels
		age int
	}
	var chips []chip
	found200, tried := 0, 0
	for i := 0; i < len(files); i += 4 {
		tried++
		img := toRGBA(loadImage(t, files[i]))
		age, _ := strconv.Atoi(strings.SplitN(filepath.Base(files[i]), "_", 2)[0])
		canvas := grey256()
		off := image.Pt((256-img.Rect.Dx())/2, (256-img.Rect.Dy())/2)
		xdraw.Copy(canvas, off, img, img.Rect, xdraw.Src, nil)
		c, _, err := d.candidates(context.Background(), canvas, 1, thresholds[0])
		if err != nil {
			t.Fatal(err)
		}
		best := Box{}
		for _, b := range merge(c, 0.3, image.Point{}) {
			if b.Score > best.Score && image.Pt(128, 128).In(b.Rect.Inset(-b.Rect.Dx()/4)) {
				best = b
			}
		}
		if best.Score == 0 {
			continue
		}
		found200++
		chips = append(chips, chip{img, best.Rect.Sub(off), age})
	}
	report(t, "\n### Floor with children's faces (UTKFace chips, ages 3-16)\n")
	report(t, "%d of %d chips (every 4th) have a face BlazeFace finds at thr 0.3 when shown whole; those %d are then pasted with the face W model px wide.\n", found200, tried, len(chips))
	widths := []int{8, 10, 12, 14, 16, 18, 20, 24, 28, 32, 40, 48, 64}
	bands := []struct {
		name   string
		lo, hi int
	}{{"age 3-7", 0, 7}, {"age 8-12", 8, 12}, {"age 13-16", 13, 99}}
	report(t, "| W (model px) | thr 0.2 | thr 0.3 | thr 0.5 | thr 0.3 %s | thr 0.3 %s | thr 0.3 %s |", bands[0].name, bands[1].name, bands[2].name)
	report(t, "| --- | --- | --- | --- | --- | --- | --- |")
	rng := rand.New(rand.NewSource(12))
	for _, w := range widths {
		var byThr [3]facetest.Count
		var byBand [3]facetest.Count
		for _, ch := range chips {
			j := math.Min(float64(w)/2, 16)
			dx, dy := (rng.Float64()*2-1)*j, (rng.Float64()*2-1)*j
			canvas, box := pasteFace(ch.img, ch.ref, float64(w), dx, dy)
			c, _, err := d.candidates(context.Background(), canvas, 1, thresholds[0])
			if err != nil {
				t.Fatal(err)
			}
			for ti, thr := range []float64{0.2, 0.3, 0.5} {
				hit := facetest.Hits([]facetest.GT{{R: box, Valid: true}}, rects(merge(c, thr, image.Point{})))[0]
				byThr[ti].Total++
				if hit {
					byThr[ti].Found++
				}
				if thr == 0.3 {
					for bi, b := range bands {
						if ch.age >= b.lo && ch.age <= b.hi {
							byBand[bi].Total++
							if hit {
								byBand[bi].Found++
							}
						}
					}
				}
			}
		}
		report(t, "| %d | %s | %s | %s | %s | %s | %s |", w, pct(byThr[0]), pct(byThr[1]), pct(byThr[2]), pct(byBand[0]), pct(byBand[1]), pct(byBand[2]))
	}
}

func grey256() *image.RGBA {
	m := image.NewRGBA(image.Rect(0, 0, 256, 256))
	for i := range m.Pix {
		m.Pix[i] = 128
	}
	return m
}
