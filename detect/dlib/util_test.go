package dlib

import (
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	face "github.com/Kagami/go-face"
	xdraw "golang.org/x/image/draw"
	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"

	"github.com/photoguard/photoguard/detect"
)

// Helpers shared by the CI tests and the measurements.

// gtMatchIoU is the overlap at which a detection counts as a ground-truth
// face. HOG and CNN draw boxes of one face differently (IoU 0.6-0.7 between
// them on the group photos), so it is lenient.
const gtMatchIoU = 0.4

// matchGT pairs detections with ground-truth boxes greedily by IoU. It
// returns, per ground-truth face, the index of its detection or -1, and the
// number of detections matching no ground-truth face.
func matchGT(gt []image.Rectangle, found []image.Rectangle) (det []int, extra int) {
	type pair struct {
		g, f int
		iou  float64
	}
	var pairs []pair
	for i, g := range gt {
		for j, f := range found {
			if v := IoU(g, f); v >= gtMatchIoU {
				pairs = append(pairs, pair{i, j, v})
			}
		}
	}
	sort.Slice(pairs, func(a, b int) bool { return pairs[a].iou > pairs[b].iou })
	det = make([]int, len(gt))
	for i := range det {
		det[i] = -1
	}
	used := make([]bool, len(found))
	for _, p := range pairs {
		if det[p.g] == -1 && !used[p.f] {
			det[p.g] = p.f
			used[p.f] = true
		}
	}
	for _, u := range used {
		if !u {
			extra++
		}
	}
	return det, extra
}

// Padding of the tight identity crops so that a detector finds the face.
type padMode int

const (
	padEdge    padMode = iota // repeat the border pixels
	padReflect                // mirror the image at its border
	padGray                   // constant mid grey
)

func (m padMode) String() string { return [...]string{"edge", "reflect", "gray"}[m] }

// pad returns img with frac of its width (height) added on each side, as RGBA.
func pad(img image.Image, frac float64, mode padMode) *image.RGBA {
	b := img.Bounds()
	px, py := int(math.Round(frac*float64(b.Dx()))), int(math.Round(frac*float64(b.Dy())))
	dst := image.NewRGBA(image.Rect(0, 0, b.Dx()+2*px, b.Dy()+2*py))
	fold := func(v, n int) int { // reflect v into [0, n)
		for v < 0 || v >= n {
			if v < 0 {
				v = -v - 1
			}
			if v >= n {
				v = 2*n - v - 1
			}
		}
		return v
	}
	for y := 0; y < dst.Bounds().Dy(); y++ {
		for x := 0; x < dst.Bounds().Dx(); x++ {
			sx, sy := x-px, y-py
			inside := sx >= 0 && sy >= 0 && sx < b.Dx() && sy < b.Dy()
			var c color.Color
			switch {
			case inside:
				c = img.At(b.Min.X+sx, b.Min.Y+sy)
			case mode == padGray:
				c = color.Gray{128}
			case mode == padEdge:
				c = img.At(b.Min.X+min(max(sx, 0), b.Dx()-1), b.Min.Y+min(max(sy, 0), b.Dy()-1))
			default:
				c = img.At(b.Min.X+fold(sx, b.Dx()), b.Min.Y+fold(sy, b.Dy()))
			}
			dst.Set(x, y, c)
		}
	}
	return dst
}

// Enrollment of the identity crops.
const (
	enrollPadFrac = 0.5
	enrollPadMode = padEdge
)

var identityNames = []string{"amy", "bernadette", "howard", "leonard", "penny", "raj", "sheldon", "stuart"}

type crop struct {
	who   string
	n     int
	faces []detect.Face
}

// describeCrops runs d on every identity crop padded as given.
func describeCrops(t testing.TB, d *Recognizer, frac float64, mode padMode) []crop {
	t.Helper()
	dir := filepath.Join(sharedTestdata(t), "faces", "identities")
	var out []crop
	for _, who := range identityNames {
		for n := 1; n <= 5; n++ {
			img := loadImage(t, filepath.Join(dir, who, fmt.Sprintf("%s%d.png", who, n)))
			fs, err := d.Detect(t.Context(), pad(img, frac, mode))
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, crop{who, n, fs})
		}
	}
	return out
}

// enroll returns the enrolled identities: the descriptor of every crop that
// yields exactly one face.
func enroll(t testing.TB, d *Recognizer) []identity {
	t.Helper()
	byName := map[string]*identity{}
	var ids []identity
	for _, c := range describeCrops(t, d, enrollPadFrac, enrollPadMode) {
		if len(c.faces) != 1 {
			continue
		}
		if byName[c.who] == nil {
			ids = append(ids, identity{name: c.who})
			byName[c.who] = &ids[len(ids)-1]
		}
		byName[c.who].descr = append(byName[c.who].descr, c.faces[0].Descriptor)
	}
	return ids
}

// nearest returns the identities ordered by their smallest distance to d.
type scored struct {
	name string
	dist float64
}

func rank(ids []identity, d *detect.Descriptor) []scored {
	var out []scored
	for _, id := range ids {
		best := math.Inf(1)
		for i := range id.descr {
			best = min(best, detect.Distance(&id.descr[i], d))
		}
		out = append(out, scored{id.name, best})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].dist < out[j].dist })
	return out
}

// threadCPU is the CPU time of the calling OS thread. With the goroutine
// locked to its thread and OPENBLAS_NUM_THREADS=1, a cgo call's CPU time is
// the difference: unlike wall time it does not grow when other processes
// compete for the two cores.
func threadCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(1 /* RUSAGE_THREAD */, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// rawPass runs one detector directly on img scaled to long side `side`
// (beyond the limits of Config), timing the dlib call only.
type passResult struct {
	faces     []detect.Face
	prep      time.Duration // resize and encode, wall
	wall, cpu time.Duration // the go-face call
}

func rawPass(t testing.TB, rec *face.Recognizer, img image.Image, side int, cnn bool) passResult {
	t.Helper()
	b := img.Bounds()
	s := float64(side) / float64(max(b.Dx(), b.Dy()))
	t0 := time.Now()
	enc, err := encodeScaled(img, s)
	if err != nil {
		t.Fatal(err)
	}
	res := passResult{prep: time.Since(t0)}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	c0 := threadCPU()
	t0 = time.Now()
	var found []face.Face
	if cnn {
		found, err = rec.RecognizeCNN(enc.jpeg)
	} else {
		found, err = rec.Recognize(enc.jpeg)
	}
	res.wall, res.cpu = time.Since(t0), threadCPU()-c0
	if err != nil {
		t.Fatal(err)
	}
	name := HOG
	if cnn {
		name = CNN
	}
	for _, f := range found {
		res.faces = append(res.faces, detect.Face{Rect: enc.toSource(f.Rectangle), Descriptor: detect.Descriptor(f.Descriptor), Detector: name})
	}
	return res
}

// recognizer borrows the recognizer of a shared one-worker detector.
func recognizer(t testing.TB) (*face.Recognizer, func()) {
	d := sharedDetector(t, Config{Detector: HOG, Upsample: 1, MaxSide: MaxMaxSide, Workers: 1})
	rec, release, err := d.borrow(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return rec, release
}

// annotate writes img with labelled boxes to path (for looking at results).
func annotate(t testing.TB, img image.Image, boxes []image.Rectangle, labels []string, cols []color.RGBA, path string) {
	t.Helper()
	b := img.Bounds()
	dst := image.NewRGBA(b)
	xdraw.Draw(dst, b, img, b.Min, xdraw.Src)
	for i, r := range boxes {
		c := cols[i%len(cols)]
		for k := 0; k < 2; k++ {
			rr := r.Inset(-k)
			for x := rr.Min.X; x < rr.Max.X; x++ {
				dst.Set(x, rr.Min.Y, c)
				dst.Set(x, rr.Max.Y-1, c)
			}
			for y := rr.Min.Y; y < rr.Max.Y; y++ {
				dst.Set(rr.Min.X, y, c)
				dst.Set(rr.Max.X-1, y, c)
			}
		}
		if i < len(labels) {
			dr := &font.Drawer{Dst: dst, Src: image.NewUniform(c), Face: basicfont.Face7x13,
				Dot: fixed.P(r.Min.X+2, max(r.Min.Y-3, 12))}
			dr.DrawString(labels[i])
		}
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := png.Encode(f, dst); err != nil {
		t.Fatal(err)
	}
}

// stats of a sample: min, median, p95, max.
type stats struct {
	n                  int
	min, med, p95, max float64
}

func summarize(v []float64) stats {
	if len(v) == 0 {
		return stats{}
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	q := func(p float64) float64 { // nearest rank
		i := int(math.Ceil(p*float64(len(s)))) - 1
		return s[min(max(i, 0), len(s)-1)]
	}
	return stats{len(s), s[0], q(0.5), q(0.95), s[len(s)-1]}
}

func (s stats) String() string {
	return fmt.Sprintf("n=%-4d min %.3f  median %.3f  p95 %.3f  max %.3f", s.n, s.min, s.med, s.p95, s.max)
}

// table prints rows of cells aligned in columns, as Markdown.
func table(t testing.TB, header []string, rows [][]string) {
	t.Helper()
	w := make([]int, len(header))
	for i, h := range header {
		w[i] = len(h)
	}
	for _, r := range rows {
		for i, c := range r {
			w[i] = max(w[i], len(c))
		}
	}
	line := func(cells []string) string {
		var sb strings.Builder
		sb.WriteString("|")
		for i, c := range cells {
			fmt.Fprintf(&sb, " %-*s |", w[i], c)
		}
		return sb.String()
	}
	var sb strings.Builder
	sb.WriteString("\n" + line(header) + "\n")
	sep := make([]string, len(header))
	for i := range sep {
		sep[i] = strings.Repeat("-", w[i])
	}
	sb.WriteString(line(sep) + "\n")
	for _, r := range rows {
		sb.WriteString(line(r) + "\n")
	}
	fmt.Print(sb.String())
}

func area(r image.Rectangle) int {
	if r.Empty() {
		return 0
	}
	return r.Dx() * r.Dy()
}
