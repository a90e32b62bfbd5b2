package dlib

// Measurements behind the defaults, run on demand:
//
//	OPENBLAS_NUM_THREADS=1 PHOTOGUARD_MEASURE=1 go test ./detect/dlib -run 'TestMeasure' -v -timeout 90m
//
// or one of them, e.g. -run TestMeasureGroups. Each prints Markdown tables.
// Annotated images go to $PHOTOGUARD_MEASURE_OUT (default a temp folder).
// Times are wall clock (median of repeats) and the CPU time of the thread
// that ran the dlib call: with OPENBLAS_NUM_THREADS=1 the CPU time is all of
// dlib's work and does not grow when other processes compete for the cores.

import (
	"bufio"
	"context"
	"fmt"
	"image"
	"image/color"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	face "github.com/Kagami/go-face"
	xdraw "golang.org/x/image/draw"

	"github.com/photoguard/photoguard/detect"
	"github.com/photoguard/photoguard/detect/analyze"
)

func measureOnly(t *testing.T) {
	t.Helper()
	if os.Getenv("PHOTOGUARD_MEASURE") != "1" {
		t.Skip("measurement: set PHOTOGUARD_MEASURE=1")
	}
	t.Logf("OPENBLAS_NUM_THREADS=%q GOMAXPROCS=%d NumCPU=%d", os.Getenv("OPENBLAS_NUM_THREADS"), runtime.GOMAXPROCS(0), runtime.NumCPU())
}

func measureOut(t *testing.T) string {
	dir := os.Getenv("PHOTOGUARD_MEASURE_OUT")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "photoguard-measure")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

func ms(d time.Duration) string { return strconv.FormatFloat(float64(d)/1e6, 'f', 0, 64) }

func medianDur(v []time.Duration) time.Duration {
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}

// groupPhoto is a ground-truth image loaded.
type groupPhoto struct {
	gtImage
	img image.Image
}

func loadGroups(t testing.TB) []groupPhoto {
	t.Helper()
	var out []groupPhoto
	for _, im := range loadGroundTruth(t).Images {
		out = append(out, groupPhoto{im, loadImage(t, filepath.Join(sharedTestdata(t), "faces", im.File))})
	}
	return out
}

// counted reports whether a ground-truth face counts for recall (a head
// turned away has no face to find).
func (f gtFace) counted() bool { return f.Pose != "away" }

// option is one way of running the detectors, given by the long side of the
// copy handed to dlib as a function of the image's long side.
type option struct {
	label string
	cnn   bool
	side  func(long int) int
	reps  int
}

func upTo(px int) func(int) int { return func(l int) int { return min(px, l) } }
func times(f float64) func(int) int {
	return func(l int) int { return int(math.Round(f * float64(l))) }
}

// runOption runs o on img, repeating for the timing.
func runOption(t testing.TB, rec *face.Recognizer, img image.Image, o option) passResult {
	b := img.Bounds()
	side := o.side(max(b.Dx(), b.Dy()))
	var res passResult
	var walls, cpus, preps []time.Duration
	for range max(o.reps, 1) {
		res = rawPass(t, rec, img, side, o.cnn)
		walls, cpus, preps = append(walls, res.wall), append(cpus, res.cpu), append(preps, res.prep)
	}
	res.wall, res.cpu, res.prep = medianDur(walls), medianDur(cpus), medianDur(preps)
	return res
}

func faceRects(fs []detect.Face) []image.Rectangle {
	var r []image.Rectangle
	for _, f := range fs {
		r = append(r, f.Rect)
	}
	return r
}

// TestMeasureGroups: recall, false detections and time per photo of each
// detector and size on the five group photos.
func TestMeasureGroups(t *testing.T) {
	measureOnly(t)
	groups := loadGroups(t)
	rec, put := recognizer(t)
	defer put()
	opts := []option{
		{"hog 600", false, upTo(600), 3},
		{"hog 800", false, upTo(800), 3},
		{"hog 1000", false, upTo(1000), 3},
		{"hog full", false, times(1), 3},
		{"hog full x1.5", false, times(1.5), 3},
		{"hog full x2", false, times(2), 3},
		{"cnn 600", true, upTo(600), 1},
		{"cnn 800", true, upTo(800), 1},
		{"cnn 1000", true, upTo(1000), 1},
		{"cnn full", true, times(1), 1},
		{"cnn full x2", true, times(2), 1},
	}
	type result struct {
		faces           [][]detect.Face // per photo
		wall, cpu, prep time.Duration
	}
	results := map[string]*result{}
	for _, o := range opts {
		r := &result{}
		for _, g := range groups {
			res := runOption(t, rec, g.img, o)
			r.faces = append(r.faces, res.faces)
			r.wall += res.wall / time.Duration(len(groups))
			r.cpu += res.cpu / time.Duration(len(groups))
			r.prep += res.prep / time.Duration(len(groups))
		}
		results[o.label] = r
	}
	// Combinations: merge the faces of two runs as Detect does.
	combos := [][2]string{{"hog full x2", "cnn full"}, {"hog full x2", "cnn 1000"}, {"hog full x2", "cnn full x2"}}
	labels := []string{}
	for _, o := range opts {
		labels = append(labels, o.label)
	}
	for _, c := range combos {
		a, b := results[c[0]], results[c[1]]
		r := &result{wall: a.wall + b.wall, cpu: a.cpu + b.cpu, prep: a.prep + b.prep}
		for i := range groups {
			r.faces = append(r.faces, mergePasses(a.faces[i], b.faces[i]))
		}
		l := c[0] + " + " + c[1]
		results[l] = r
		labels = append(labels, l)
	}

	total := 0
	for _, g := range groups {
		for _, f := range g.Faces {
			if f.counted() {
				total++
			}
		}
	}
	var rows [][]string
	for _, l := range labels {
		r := results[l]
		found, extra := 0, 0
		var missed []string
		for i, g := range groups {
			var gt []image.Rectangle
			for _, f := range g.Faces {
				gt = append(gt, f.rect())
			}
			det, ex := matchGT(gt, faceRects(r.faces[i]))
			extra += ex
			for j, f := range g.Faces {
				if !f.counted() {
					continue
				}
				if det[j] >= 0 {
					found++
				} else {
					missed = append(missed, fmt.Sprintf("%s %s %dpx", strings.TrimSuffix(filepath.Base(g.File), ".jpg"), f.Who, f.rect().Dx()))
				}
			}
		}
		rows = append(rows, []string{l, fmt.Sprintf("%d/%d", found, total), strings.Join(missed, ", "), strconv.Itoa(extra),
			ms(r.wall), ms(r.cpu), ms(r.prep)})
	}
	table(t, []string{"option (long side handed to dlib)", "faces found", "missed (face width in the photo)", "false", "ms/photo wall", "ms/photo CPU", "ms/photo resize+encode"}, rows)

	// HOG/CNN box agreement on the faces both find (for the merge thresholds).
	var ious, covers []float64
	h, c := results["hog full x2"], results["cnn full x2"]
	for i := range groups {
		for _, a := range h.faces[i] {
			for _, b := range c.faces[i] {
				if v := IoU(a.Rect, b.Rect); v > 0.1 {
					ious = append(ious, v)
					covers = append(covers, analyze.Cover(a.Rect, b.Rect))
				}
			}
		}
	}
	t.Logf("HOG x2 vs CNN x2 boxes of the same face: IoU %v; cover %v", summarize(ious), summarize(covers))
	fmt.Printf("HOG x2 vs CNN x2 boxes of the same face: IoU %v; cover %v\n", summarize(ious), summarize(covers))
}

// TestMeasureGroundTruth prints each ground-truth face with the identities
// nearest to it and writes the photos annotated (green: ground truth, red:
// detections with the nearest identity).
func TestMeasureGroundTruth(t *testing.T) {
	measureOnly(t)
	d := sharedDetector(t, Config{Detector: HOG, MaxSide: MaxMaxSide, Upsample: 2})
	ids := enroll(t, d)
	rec, put := recognizer(t)
	defer put()
	out := measureOut(t)
	var rows [][]string
	for _, g := range loadGroups(t) {
		fs, err := d.Detect(t.Context(), g.img)
		if err != nil {
			t.Fatal(err)
		}
		// Faces HOG misses: CNN on the photo enlarged 2x.
		b := g.img.Bounds()
		fs = mergePasses(fs, rawPass(t, rec, g.img, 2*max(b.Dx(), b.Dy()), true).faces)
		var gt []image.Rectangle
		for _, f := range g.Faces {
			gt = append(gt, f.rect())
		}
		det, extra := matchGT(gt, faceRects(fs))
		boxes, labels, cols := slices.Clone(gt), make([]string, len(gt)), make([]color.RGBA, len(gt))
		for i := range cols {
			cols[i] = color.RGBA{0, 220, 0, 255}
		}
		for j, f := range g.Faces {
			row := []string{filepath.Base(g.File), f.Who, f.Pose, fmt.Sprint(f.Box), strconv.Itoa(f.rect().Dx())}
			if det[j] < 0 {
				rows = append(rows, append(row, "not found", "", ""))
				continue
			}
			ff := fs[det[j]]
			r := rank(ids, &ff.Descriptor)
			rows = append(rows, append(row, ff.Detector, fmt.Sprintf("%s %.3f", r[0].name, r[0].dist), fmt.Sprintf("%s %.3f", r[1].name, r[1].dist)))
			boxes = append(boxes, ff.Rect)
			labels = append(labels, fmt.Sprintf("%s %.2f", r[0].name, r[0].dist))
			cols = append(cols, color.RGBA{255, 0, 0, 255})
		}
		if extra > 0 {
			t.Logf("%s: %d detections outside the ground truth", g.File, extra)
		}
		annotate(t, g.img, boxes, labels, cols, filepath.Join(out, "gt-"+strings.TrimSuffix(filepath.Base(g.File), ".jpg")+".png"))
	}
	table(t, []string{"photo", "ground truth", "pose", "box", "width", "found by", "nearest identity", "second"}, rows)
	t.Logf("annotated photos in %s", out)
}

// classFace is one face placed on the class-photo canvas. Faces with width
// 0 are neighbours: other ground-truth faces of the source photo that the
// surroundings of a placed face show in part. They are real faces (a
// detection there is not false) but do not count for recall.
type classFace struct {
	rect  image.Rectangle
	width int
	who   string
}

// classWidths are the face widths on the class-photo canvas, and
// classPerWidth how many faces of each width it holds.
var classWidths = []int{30, 40, 50, 60, 70, 80, 90, 100, 120, 150}

const classPerWidth = 12

// classPhoto composes a 4032x3024 "class photo" from the named faces of the
// group photos: classPerWidth faces of each width in classWidths (width of
// the HOG-style box), each with its surroundings (2.6 face widths wide, 3
// high), smallest in the back rows.
func classPhoto(t testing.TB, groups []groupPhoto) (*image.RGBA, []classFace) {
	t.Helper()
	type src struct {
		img image.Image
		f   gtFace
		all []gtFace
	}
	var faces []src
	for _, g := range groups {
		for _, f := range g.Faces {
			if f.Who != "unknown" {
				faces = append(faces, src{g.img, f, g.Faces})
			}
		}
	}
	canvas := image.NewRGBA(image.Rect(0, 0, 4032, 3024))
	xdraw.Draw(canvas, canvas.Bounds(), image.NewUniform(color.RGBA{118, 112, 104, 255}), image.Point{}, xdraw.Src)
	const gap = 10
	x, y, rowH := gap, gap, 0
	var placed []classFace
	for k, w := range classWidths {
		cw, ch := int(math.Round(2.6*float64(w))), int(math.Round(3.0*float64(w)))
		for i := range classPerWidth {
			s := faces[(k*classPerWidth+i)%len(faces)]
			if x+cw > canvas.Bounds().Dx() {
				x, y, rowH = gap, y+rowH+gap, 0
			}
			if y+ch > canvas.Bounds().Dy() {
				t.Fatalf("class photo: no room for width %d", w)
			}
			box := s.f.rect()
			sc := float64(w) / float64(box.Dx())
			// The source region, in source pixels, that fills the cell.
			fx0, fy0 := float64(box.Min.X)-0.8*float64(box.Dx()), float64(box.Min.Y)-0.9*float64(box.Dx())
			srcR := image.Rect(int(fx0), int(fy0), int(fx0+float64(cw)/sc), int(fy0+float64(ch)/sc))
			clipped := srcR.Intersect(s.img.Bounds())
			dstR := image.Rect(
				x+int(math.Round(float64(clipped.Min.X-srcR.Min.X)*sc)), y+int(math.Round(float64(clipped.Min.Y-srcR.Min.Y)*sc)),
				x+int(math.Round(float64(clipped.Max.X-srcR.Min.X)*sc)), y+int(math.Round(float64(clipped.Max.Y-srcR.Min.Y)*sc)))
			xdraw.BiLinear.Scale(canvas, dstR, s.img, clipped, xdraw.Src, nil)
			project := func(r image.Rectangle) image.Rectangle {
				return image.Rect(
					x+int(math.Round(float64(r.Min.X-srcR.Min.X)*sc)), y+int(math.Round(float64(r.Min.Y-srcR.Min.Y)*sc)),
					x+int(math.Round(float64(r.Max.X-srcR.Min.X)*sc)), y+int(math.Round(float64(r.Max.Y-srcR.Min.Y)*sc)))
			}
			placed = append(placed, classFace{project(box), w, s.f.Who})
			for _, o := range s.all {
				if o.rect() == box {
					continue
				}
				full := project(o.rect())
				if vis := full.Intersect(dstR); area(vis) > area(full)/5 {
					placed = append(placed, classFace{vis, 0, o.Who})
				}
			}
			x += cw + gap
			rowH = max(rowH, ch)
		}
		x, y, rowH = gap, y+rowH+gap, 0
	}
	return canvas, placed
}

// classOptions are the detector runs compared on the class photo.
var classOptions = []option{
	{"hog 1000", false, upTo(1000), 1},
	{"hog 1600", false, upTo(1600), 1},
	{"hog 2016", false, upTo(2016), 1},
	{"hog 3024", false, upTo(3024), 1},
	{"hog 4032 (full)", false, upTo(4032), 1},
	{"hog 5040 (x1.25)", false, times(1.25), 1},
	{"hog 6048 (x1.5)", false, times(1.5), 1},
	{"hog 8064 (x2)", false, times(2), 1},
	{"hog 6144 (default)", false, func(l int) int { return min(2*l, DefaultMaxSide) }, 1},
	{"cnn 1000", true, upTo(1000), 1},
	{"cnn 1600", true, upTo(1600), 1},
	{"cnn 2016", true, upTo(2016), 1},
	{"cnn 3024", true, upTo(3024), 1},
}

// TestMeasureClassPhoto: the smallest face each option finds on a 4032x3024
// composed class photo.
func TestMeasureClassPhoto(t *testing.T) {
	measureOnly(t)
	groups := loadGroups(t)
	canvas, placed := classPhoto(t, groups)
	out := measureOut(t)
	var gt []image.Rectangle
	for _, p := range placed {
		gt = append(gt, p.rect)
	}
	annotate(t, canvas, gt, nil, []color.RGBA{{0, 220, 0, 255}}, filepath.Join(out, "classphoto-groundtruth.png"))
	rec, put := recognizer(t)
	defer put()
	header := []string{"option", "false", "loose"}
	for _, w := range classWidths {
		header = append(header, fmt.Sprintf("%dpx", w))
	}
	header = append(header, "smallest width all found", "ms wall", "ms CPU")
	var rows [][]string
	for _, o := range classOptions {
		if !optionWanted(o) {
			continue
		}
		res := runOption(t, rec, canvas, o)
		det, _ := matchGT(gt, faceRects(res.faces))
		used := map[int]bool{}
		found := map[int]int{}
		for i, p := range placed {
			if det[i] >= 0 {
				used[det[i]] = true
				if p.width > 0 {
					found[p.width]++
				}
			}
		}
		// Unmatched detections: a loose box on a face (covering most of a
		// placed face's box, or covered by it), a neighbour's partial face,
		// or false.
		falseN, loose := 0, 0
		for j, f := range res.faces {
			if used[j] {
				continue
			}
			kind := "false"
			for _, p := range placed {
				if analyze.Cover(p.rect, f.Rect) >= 0.6 {
					kind = "loose"
					break
				}
			}
			if kind == "loose" {
				loose++
			} else {
				falseN++
			}
			t.Logf("%s: unmatched detection %v (%dpx): %s", o.label, f.Rect, f.Rect.Dx(), kind)
		}
		row := []string{o.label, strconv.Itoa(falseN), strconv.Itoa(loose)}
		smallest := "none"
		for i := len(classWidths) - 1; i >= 0; i-- {
			if found[classWidths[i]] < classPerWidth {
				break
			}
			smallest = fmt.Sprintf("%dpx", classWidths[i])
		}
		for _, w := range classWidths {
			row = append(row, fmt.Sprintf("%d/%d", found[w], classPerWidth))
		}
		rows = append(rows, append(row, smallest, ms(res.wall), ms(res.cpu)))
		var boxes []image.Rectangle
		var cols []color.RGBA
		boxes = append(boxes, gt...)
		for range gt {
			cols = append(cols, color.RGBA{0, 220, 0, 255})
		}
		for _, f := range res.faces {
			boxes = append(boxes, f.Rect)
			cols = append(cols, color.RGBA{255, 0, 0, 255})
		}
		annotate(t, canvas, boxes, nil, cols, filepath.Join(out, "classphoto-"+strings.ReplaceAll(strings.Fields(o.label)[0]+strings.Fields(o.label)[1], " ", "")+".png"))
	}
	table(t, header, rows)
}

// TestMeasureMemory: peak resident memory of a process that loads the
// models, composes the class photo and runs one option on it once.
func TestMeasureMemory(t *testing.T) {
	measureOnly(t)
	if os.Getenv("PHOTOGUARD_MEASURE_CHILD") != "" {
		t.Skip("child")
	}
	var rows [][]string
	labels := []string{"baseline (models loaded, photo composed)"}
	for _, o := range classOptions {
		labels = append(labels, o.label)
	}
	for _, l := range labels {
		if o := findOption(l); o.side != nil && !optionWanted(o) {
			continue
		}
		res := child(t, "TestMeasureMemoryChild", map[string]string{"PHOTOGUARD_MEASURE_CHILD": l})
		rows = append(rows, []string{l, res.out["peak_rss_mib"], res.out["wall_ms"]})
	}
	table(t, []string{"option on the 4032x3024 class photo", "peak RSS MiB", "ms wall"}, rows)
}

// optionWanted filters the class-photo options: PHOTOGUARD_MEASURE_OPTIONS
// is a comma-separated list of label prefixes (e.g. "hog,cnn 1000").
func optionWanted(o option) bool {
	f := os.Getenv("PHOTOGUARD_MEASURE_OPTIONS")
	if f == "" {
		return true
	}
	for _, p := range strings.Split(f, ",") {
		if strings.HasPrefix(o.label, strings.TrimSpace(p)) {
			return true
		}
	}
	return false
}

func findOption(label string) option {
	for _, o := range classOptions {
		if o.label == label {
			return o
		}
	}
	return option{}
}

func TestMeasureMemoryChild(t *testing.T) {
	l := os.Getenv("PHOTOGUARD_MEASURE_CHILD")
	if l == "" || !strings.HasPrefix(t.Name(), "TestMeasureMemoryChild") {
		t.Skip("run by TestMeasureMemory")
	}
	rec, err := face.NewRecognizer(requireModels(t))
	if err != nil {
		t.Fatal(err)
	}
	defer rec.Close()
	canvas, _ := classPhoto(t, loadGroups(t))
	if o := findOption(l); o.side != nil {
		t0 := time.Now()
		rawPass(t, rec, canvas, o.side(4032), o.cnn)
		report("wall_ms", ms(time.Since(t0)))
	}
	report("peak_rss_mib", fmt.Sprintf("%.0f", peakRSS()))
}

// child runs one test of this binary in a new process and returns what it
// reported and the CPU time it used.
type childResult struct {
	out  map[string]string
	cpu  time.Duration
	wall time.Duration
}

func child(t *testing.T, test string, env map[string]string) childResult {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run", "^"+test+"$", "-test.v", "-test.timeout", "60m")
	cmd.Env = append(os.Environ(), "PHOTOGUARD_MEASURE=1")
	for k, v := range env {
		if v == "\x00unset" {
			cmd.Env = slices.DeleteFunc(cmd.Env, func(e string) bool { return strings.HasPrefix(e, k+"=") })
			continue
		}
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	t0 := time.Now()
	outb, err := cmd.CombinedOutput()
	wall := time.Since(t0)
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", test, env, err, outb)
	}
	res := childResult{out: map[string]string{}, wall: wall}
	sc := bufio.NewScanner(strings.NewReader(string(outb)))
	for sc.Scan() {
		if k, v, ok := strings.Cut(strings.TrimPrefix(sc.Text(), "REPORT "), "="); ok && strings.HasPrefix(sc.Text(), "REPORT ") {
			res.out[k] = v
		}
	}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		res.cpu = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	return res
}

func report(k, v string) { fmt.Printf("REPORT %s=%s\n", k, v) }

// TestMeasureThreads: OpenBLAS threads and the number of workers, each
// configuration in fresh processes (OpenBLAS reads its variable when it
// loads), three runs each; the table shows the fastest run (other processes
// on the machine only ever slow a run down) and the median CPU time.
func TestMeasureThreads(t *testing.T) {
	measureOnly(t)
	if os.Getenv("PHOTOGUARD_MEASURE_CHILD") != "" {
		t.Skip("child")
	}
	var rows [][]string
	for _, blas := range []string{"2", "1", "\x00unset"} {
		for _, workers := range []string{"1", "2"} {
			vals := map[string][]float64{}
			for range 3 {
				res := child(t, "TestMeasureThreadsChild", map[string]string{
					"PHOTOGUARD_MEASURE_CHILD": "threads", "OPENBLAS_NUM_THREADS": blas, "CHILD_WORKERS": workers})
				for k, v := range res.out {
					f, _ := strconv.ParseFloat(v, 64)
					vals[k] = append(vals[k], f)
				}
			}
			best := func(k string) string { return fmt.Sprintf("%.0f", summarize(vals[k]).min) }
			med := func(k string) string { return fmt.Sprintf("%.0f", summarize(vals[k]).med) }
			name := blas
			switch blas {
			case "\x00unset":
				name = "unset: New sets 1"
			case "2":
				name = "2 (OpenBLAS's default here)"
			}
			rows = append(rows, []string{name, workers,
				fmt.Sprintf("%s (CPU %s)", best("descr_ms"), med("descr_cpu_ms")),
				fmt.Sprintf("%s (CPU %s)", best("cnn_ms"), med("cnn_cpu_ms")),
				fmt.Sprintf("%s (CPU %s)", best("batch_ms_per_photo"), med("batch_cpu_ms_per_photo")),
				med("peak_rss_mib")})
		}
	}
	table(t, []string{"OPENBLAS_NUM_THREADS", "workers", "descriptor ms/face", "CNN on bbt1 (1366 px) ms", "batch: ms/photo, 2 goroutines, HOG x2 on the 5 group photos x4", "peak RSS MiB"}, rows)
}

// processCPU is the CPU time of the whole process (all threads).
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// peakRSS is the process's peak resident memory in MiB, from
// /proc/self/status: the rusage a parent gets from wait4 includes the
// parent's own peak from before exec on Linux.
func peakRSS() float64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 64)
			return kb / 1024
		}
	}
	return 0
}

func TestMeasureThreadsChild(t *testing.T) {
	if os.Getenv("PHOTOGUARD_MEASURE_CHILD") != "threads" {
		t.Skip("run by TestMeasureThreads")
	}
	workers, _ := strconv.Atoi(os.Getenv("CHILD_WORKERS"))
	d, err := New(Config{ModelsDir: requireModels(t), Detector: HOG, MaxSide: DefaultMaxSide, Upsample: 2, Workers: workers})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	groups := loadGroups(t)
	rec, release, err := d.borrow(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	// Descriptors: bbt4 at 2x, with and without the 6 descriptors.
	enc, err := encodeScaled(groups[3].img, 2)
	if err != nil {
		t.Fatal(err)
	}
	rec.Recognize(enc.jpeg) // warm up
	var full, det, fullCPU, detCPU time.Duration
	for range 5 {
		c0, t0 := processCPU(), time.Now()
		fs, _ := rec.Recognize(enc.jpeg)
		full, fullCPU = full+time.Since(t0), fullCPU+processCPU()-c0
		if len(fs) != 6 {
			t.Fatalf("bbt4: %d faces", len(fs))
		}
		c0, t0 = processCPU(), time.Now()
		rec.RecognizeSingle(enc.jpeg) // stops after detection
		det, detCPU = det+time.Since(t0), detCPU+processCPU()-c0
	}
	report("descr_ms", fmt.Sprintf("%.1f", float64(full-det)/1e6/30))
	report("descr_cpu_ms", fmt.Sprintf("%.1f", float64(fullCPU-detCPU)/1e6/30))
	c0, t0 := processCPU(), time.Now()
	rawPass(t, rec, groups[0].img, 1366, true)
	report("cnn_ms", ms(time.Since(t0)))
	report("cnn_cpu_ms", ms(processCPU()-c0))
	release()

	// The batch: every photo 4 times, from 2 goroutines.
	var jobs []image.Image
	for range 4 {
		for _, g := range groups {
			jobs = append(jobs, g.img)
		}
	}
	ch := make(chan image.Image)
	var wg sync.WaitGroup
	c0, t0 = processCPU(), time.Now()
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for img := range ch {
				if _, err := d.Detect(context.Background(), img); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	for _, j := range jobs {
		ch <- j
	}
	close(ch)
	wg.Wait()
	report("batch_ms_per_photo", ms(time.Since(t0)/time.Duration(len(jobs))))
	report("batch_cpu_ms_per_photo", ms((processCPU()-c0)/time.Duration(len(jobs))))
	report("peak_rss_mib", fmt.Sprintf("%.0f", peakRSS()))
}

// TestMeasureIdentityPadding: how many of the 40 tight identity crops yield
// exactly one face, by padding and detector.
func TestMeasureIdentityPadding(t *testing.T) {
	measureOnly(t)
	var rows [][]string
	for _, cfg := range []Config{
		{Detector: HOG, Upsample: 1, MaxSide: MaxMaxSide},
		{Detector: HOG, Upsample: 2, MaxSide: MaxMaxSide},
		{Detector: CNN, Upsample: 1, MaxSide: MaxMaxSide},
	} {
		d := sharedDetector(t, cfg)
		for _, frac := range []float64{0, 0.1, 0.25, 0.5, 1} {
			for _, m := range []padMode{padEdge, padReflect, padGray} {
				if frac == 0 && m != padEdge {
					continue
				}
				n := [3]int{}
				var odd []string
				for _, c := range describeCrops(t, d, frac, m) {
					n[min(len(c.faces), 2)]++
					if len(c.faces) != 1 {
						odd = append(odd, fmt.Sprintf("%s%d:%d", c.who, c.n, len(c.faces)))
					}
				}
				if len(odd) > 6 {
					odd = append(odd[:6], "...")
				}
				name := fmt.Sprintf("%s x%d", cfg.Detector, cfg.Upsample)
				rows = append(rows, []string{name, fmt.Sprintf("%.0f%%", 100*frac), m.String(), strconv.Itoa(n[1]), strconv.Itoa(n[0]), strconv.Itoa(n[2]), strings.Join(odd, " ")})
			}
		}
	}
	// What an enrollment would use: both detectors, merged.
	d := sharedDetector(t, Config{Detector: HOGCNN, Upsample: 2, MaxSide: MaxMaxSide})
	n := [3]int{}
	for _, c := range describeCrops(t, d, enrollPadFrac, enrollPadMode) {
		n[min(len(c.faces), 2)]++
	}
	rows = append(rows, []string{"hog+cnn x2", fmt.Sprintf("%.0f%%", 100*enrollPadFrac), enrollPadMode.String(), strconv.Itoa(n[1]), strconv.Itoa(n[0]), strconv.Itoa(n[2]), ""})
	table(t, []string{"detector", "pad each side", "pad mode", "exactly one", "none", "more", "exceptions"}, rows)
}

// groupDescriptors returns, per ground-truth face of the group photos, the
// descriptor computed by the detector d (nil where it finds no face there).
// With cnn2x, faces d misses are taken from CNN on the photo enlarged 2x.
func groupDescriptors(t testing.TB, d *Recognizer, groups []groupPhoto, cnn2x bool) map[*gtFace]*detect.Descriptor {
	out := map[*gtFace]*detect.Descriptor{}
	for gi := range groups {
		g := &groups[gi]
		fs, err := d.Detect(t.Context(), g.img)
		if err != nil {
			t.Fatal(err)
		}
		if cnn2x {
			rec, put := recognizer(t)
			b := g.img.Bounds()
			fs = mergePasses(fs, rawPass(t, rec, g.img, 2*max(b.Dx(), b.Dy()), true).faces)
			put()
		}
		var gt []image.Rectangle
		for _, f := range g.Faces {
			gt = append(gt, f.rect())
		}
		det, _ := matchGT(gt, faceRects(fs))
		for j := range g.Faces {
			if det[j] >= 0 {
				out[&g.Faces[j]] = &fs[det[j]].Descriptor
			}
		}
	}
	return out
}

// TestMeasureDistances: same-person and different-person distances between
// the identity crops, and between the group faces and the enrolled crops.
func TestMeasureDistances(t *testing.T) {
	measureOnly(t)
	d := sharedDetector(t, Config{})
	crops := describeCrops(t, d, enrollPadFrac, enrollPadMode)
	var same, diff []float64
	for i := range crops {
		for j := i + 1; j < len(crops); j++ {
			if len(crops[i].faces) != 1 || len(crops[j].faces) != 1 {
				continue
			}
			v := detect.Distance(&crops[i].faces[0].Descriptor, &crops[j].faces[0].Descriptor)
			if crops[i].who == crops[j].who {
				same = append(same, v)
			} else {
				diff = append(diff, v)
			}
		}
	}
	ids := enroll(t, d)
	groups := loadGroups(t)
	descr := groupDescriptors(t, d, groups, true)
	var gSame, gDiff, gSameMin, gDiffMin, unknownMin, margins []float64
	var perFace [][]string
	for gi := range groups {
		for j := range groups[gi].Faces {
			f := &groups[gi].Faces[j]
			dd := descr[f]
			if dd == nil {
				continue
			}
			for _, id := range ids {
				best := math.Inf(1)
				for k := range id.descr {
					v := detect.Distance(&id.descr[k], dd)
					best = min(best, v)
					switch {
					case f.Who == "unknown":
					case id.name == f.Who:
						gSame = append(gSame, v)
					default:
						gDiff = append(gDiff, v)
					}
				}
				switch {
				case f.Who == "unknown":
					unknownMin = append(unknownMin, best)
				case id.name == f.Who:
					gSameMin = append(gSameMin, best)
				default:
					gDiffMin = append(gDiffMin, best)
				}
			}
			r := rank(ids, dd)
			if f.Who != "unknown" {
				margins = append(margins, r[1].dist-r[0].dist)
			}
			perFace = append(perFace, []string{filepath.Base(groups[gi].File), f.Who, strconv.Itoa(f.rect().Dx()),
				fmt.Sprintf("%s %.3f", r[0].name, r[0].dist), fmt.Sprintf("%s %.3f", r[1].name, r[1].dist), fmt.Sprintf("%.3f", r[1].dist-r[0].dist)})
		}
	}
	table(t, []string{"pairs", "distribution"}, [][]string{
		{"identity crops, same person", summarize(same).String()},
		{"identity crops, different people", summarize(diff).String()},
		{"group face vs enrolled crop, same person", summarize(gSame).String()},
		{"group face vs enrolled crop, different people", summarize(gDiff).String()},
		{"group face vs person (nearest crop), same", summarize(gSameMin).String()},
		{"group face vs person (nearest crop), different", summarize(gDiffMin).String()},
		{"unknown group face (found by CNN x2) vs person (nearest crop)", summarize(unknownMin).String()},
		{"margin: second-nearest minus nearest person", summarize(margins).String()},
	})
	table(t, []string{"photo", "who", "width", "nearest", "second", "margin"}, perFace)

	// False and missed matches by threshold, for the named group faces
	// against the people (nearest crop), with a margin of 0.1.
	var rows [][]string
	for _, th := range []float64{0.40, 0.45, 0.50, 0.55, 0.60} {
		missedN, falseN, ambiguous := 0, 0, 0
		for gi := range groups {
			for j := range groups[gi].Faces {
				f := &groups[gi].Faces[j]
				dd := descr[f]
				if dd == nil {
					continue
				}
				r := rank(ids, dd)
				ok := r[0].dist <= th
				if ok && r[1].dist-r[0].dist < 0.1 {
					ambiguous++
					ok = false
				}
				switch {
				case ok && r[0].name != f.Who:
					falseN++
				case !ok && f.Who != "unknown":
					missedN++
				}
			}
		}
		rows = append(rows, []string{fmt.Sprintf("%.2f", th), strconv.Itoa(falseN), strconv.Itoa(missedN), strconv.Itoa(ambiguous)})
	}
	table(t, []string{"threshold (margin 0.10)", "false matches", "missed matches", "rejected by margin"}, rows)
}

// TestMeasureFaceSize: how the descriptor degrades as the face shrinks. Each
// group photo is shrunk so that a face is w px wide, then enlarged again so
// that HOG finds it (as Upsample does), and the face's descriptor compared
// with the enrolled people and with its full-size descriptor.
func TestMeasureFaceSize(t *testing.T) {
	measureOnly(t)
	d := sharedDetector(t, Config{})
	ids := enroll(t, d)
	groups := loadGroups(t)
	full := groupDescriptors(t, d, groups, false)
	rec, put := recognizer(t)
	defer put()
	widths := []int{16, 20, 24, 28, 32, 40, 48, 56, 64, 80, 100}
	var rows [][]string
	for _, w := range widths {
		var dTrue, dWrong, drift, margin []float64
		found, n, wrongNearest := 0, 0, 0
		var under []string
		for gi := range groups {
			g := &groups[gi]
			for j := range g.Faces {
				f := &g.Faces[j]
				if f.Who == "unknown" || full[f] == nil {
					continue
				}
				s := float64(w) / float64(f.rect().Dx())
				if s >= 1 {
					continue // not shrunk: only faces larger than w count
				}
				n++
				b := g.img.Bounds()
				small := image.NewRGBA(image.Rect(0, 0, max(1, int(math.Round(float64(b.Dx())*s))), max(1, int(math.Round(float64(b.Dy())*s)))))
				xdraw.BiLinear.Scale(small, small.Bounds(), g.img, b, xdraw.Src, nil)
				up := max(2, 100/float64(w))
				res := rawPass(t, rec, small, int(up*float64(max(small.Bounds().Dx(), small.Bounds().Dy()))), false)
				want := image.Rect(int(float64(f.Box[0])*s), int(float64(f.Box[1])*s), int(math.Ceil(float64(f.Box[2])*s)), int(math.Ceil(float64(f.Box[3])*s)))
				det, _ := matchGT([]image.Rectangle{want}, faceRects(res.faces))
				if det[0] < 0 {
					continue
				}
				found++
				dd := &res.faces[det[0]].Descriptor
				r := rank(ids, dd)
				own, other := math.NaN(), math.NaN()
				for _, x := range r { // r is sorted: the first other is the nearest
					if x.name == f.Who {
						own = x.dist
					} else if math.IsNaN(other) {
						other = x.dist
					}
				}
				dTrue, dWrong, margin = append(dTrue, own), append(dWrong, other), append(margin, other-own)
				if r[0].name != f.Who {
					wrongNearest++
					under = append(under, fmt.Sprintf("%s→%s %.2f", f.Who, r[0].name, r[0].dist))
				}
				drift = append(drift, detect.Distance(dd, full[f]))
			}
		}
		rows = append(rows, []string{strconv.Itoa(w), fmt.Sprintf("%d/%d", found, n),
			fmt.Sprintf("%.3f / %.3f", summarize(drift).med, summarize(drift).max),
			fmt.Sprintf("%.3f / %.3f", summarize(dTrue).med, summarize(dTrue).max),
			fmt.Sprintf("%.3f / %.3f", summarize(dWrong).min, summarize(dWrong).med),
			fmt.Sprintf("%.3f", summarize(margin).min),
			strconv.Itoa(wrongNearest), strings.Join(under, ", ")})
	}
	table(t, []string{"face width px", "found", "drift from full size (median / max)", "own person (median / max)", "nearest other person (min / median)", "min margin", "nearest is wrong", "which"}, rows)
}

// TestMeasureStages: time per stage for the default configuration.
func TestMeasureStages(t *testing.T) {
	measureOnly(t)
	d := sharedDetector(t, Config{})
	cfg := d.Config()
	groups := loadGroups(t)
	canvas, _ := classPhoto(t, groups)
	rec, put := recognizer(t)
	defer put()
	type img struct {
		name string
		im   image.Image
	}
	imgs := []img{}
	for _, g := range groups {
		imgs = append(imgs, img{filepath.Base(g.File), g.img})
	}
	imgs = append(imgs, img{"class photo 4032x3024", canvas})
	var rows [][]string
	for _, x := range imgs {
		b := x.im.Bounds()
		s := scaleFor(b, cfg.MaxSide, float64(cfg.Upsample))
		var prep, full, fullCPU, det, detCPU []time.Duration
		var n int
		for range 3 {
			t0 := time.Now()
			enc, err := encodeScaled(x.im, s)
			if err != nil {
				t.Fatal(err)
			}
			prep = append(prep, time.Since(t0))
			runtime.LockOSThread()
			c0, t0 := threadCPU(), time.Now()
			fs, err := rec.Recognize(enc.jpeg)
			full, fullCPU = append(full, time.Since(t0)), append(fullCPU, threadCPU()-c0)
			if err != nil {
				t.Fatal(err)
			}
			n = len(fs)
			// RecognizeSingle stops after detection when there are two
			// faces or more: detection (with the JPEG decode) alone.
			c0, t0 = threadCPU(), time.Now()
			if _, err := rec.RecognizeSingle(enc.jpeg); err != nil {
				t.Fatal(err)
			}
			det, detCPU = append(det, time.Since(t0)), append(detCPU, threadCPU()-c0)
			runtime.UnlockOSThread()
		}
		perFace, perFaceCPU := "", ""
		if n >= 2 {
			perFace = fmt.Sprintf("%.1f", float64(medianDur(full)-medianDur(det))/1e6/float64(n))
			perFaceCPU = fmt.Sprintf("%.1f", float64(medianDur(fullCPU)-medianDur(detCPU))/1e6/float64(n))
		}
		w, h := int(math.Round(float64(b.Dx())*s)), int(math.Round(float64(b.Dy())*s))
		rows = append(rows, []string{x.name, fmt.Sprintf("%dx%d", w, h), strconv.Itoa(n), ms(medianDur(prep)),
			ms(medianDur(det)), ms(medianDur(detCPU)), perFace, perFaceCPU, ms(medianDur(full))})
	}
	// The CNN detector on one photo at full size, for comparison.
	var cw, cc []time.Duration
	var cn int
	for range 2 {
		res := rawPass(t, rec, groups[0].img, 1366, true)
		cw, cc, cn = append(cw, res.wall), append(cc, res.cpu), len(res.faces)
	}
	rows = append(rows, []string{"bbt1.jpg, CNN detector (with descriptors)", "1366x768", strconv.Itoa(cn), "", "", "", "", "", ms(medianDur(cw)) + " (CPU " + ms(medianDur(cc)) + ")"})
	table(t, []string{fmt.Sprintf("image (default: %s, MaxSide %d, Upsample %d)", cfg.Detector, cfg.MaxSide, cfg.Upsample), "HOG sees", "faces",
		"resize+encode ms", "decode+detect ms wall", "CPU", "landmarks+descriptor ms/face wall", "CPU", "total dlib ms wall"}, rows)
}
