package blazeface

import (
	"image"
	"math"
	"sort"
)

// Box is one face found, in the coordinates of the image passed to Detect.
type Box struct {
	Rect  image.Rectangle
	Score float32 // the model's confidence, 0..1
}

// fbox is a box in float coordinates (x0, y0, x1, y1) with its score.
type fbox struct {
	x0, y0, x1, y1 float64
	score          float64
}

func (b fbox) w() float64 { return b.x1 - b.x0 }
func (b fbox) h() float64 { return b.y1 - b.y0 }

func (b fbox) rect() image.Rectangle {
	return image.Rect(int(math.Floor(b.x0)), int(math.Floor(b.y0)), int(math.Ceil(b.x1)), int(math.Ceil(b.y1)))
}

func iou(a, b fbox) float64 {
	ix := math.Min(a.x1, b.x1) - math.Max(a.x0, b.x0)
	iy := math.Min(a.y1, b.y1) - math.Max(a.y0, b.y0)
	if ix <= 0 || iy <= 0 {
		return 0
	}
	inter := ix * iy
	return inter / (a.w()*a.h() + b.w()*b.h() - inter)
}

// spec describes one BlazeFace model: its square input size and the SSD
// anchor layers (MediaPipe's SsdAnchorsCalculator with fixed anchor size,
// aspect ratio 1 and interpolated scale: each layer puts 2 anchors on every
// cell of its grid, and consecutive layers with the same stride share a grid).
type spec struct {
	size    int
	strides []int
}

var (
	backSpec  = spec{size: 256, strides: []int{16, 32, 32, 32}} // face_detection_back
	frontSpec = spec{size: 128, strides: []int{8, 16, 16, 16}}  // face_detection_front
)

// anchor is an anchor centre in units of the model input (0..1).
type anchor struct{ cx, cy float64 }

// anchors lists the anchors in the order of the model's outputs: layer by
// layer, row by row, cell by cell, anchor by anchor.
func (s spec) anchors() []anchor {
	var out []anchor
	for i := 0; i < len(s.strides); {
		j := i
		for j < len(s.strides) && s.strides[j] == s.strides[i] {
			j++
		}
		per := 2 * (j - i)
		grid := (s.size + s.strides[i] - 1) / s.strides[i]
		for y := 0; y < grid; y++ {
			for x := 0; x < grid; x++ {
				for k := 0; k < per; k++ {
					out = append(out, anchor{(float64(x) + 0.5) / float64(grid), (float64(y) + 0.5) / float64(grid)})
				}
			}
		}
		i = j
	}
	return out
}

func sigmoid(x float64) float64 {
	x = math.Max(-100, math.Min(100, x))
	return 1 / (1 + math.Exp(-x))
}

// decode turns the raw outputs of one tile (scores: one logit per anchor;
// regs: 16 values per anchor: centre offset x, y, width, height, then six
// key points, all in input pixels) into boxes in tile pixels with a score
// of at least minScore.
func decode(anchors []anchor, size int, scores, regs []float32, minScore float64) []fbox {
	var out []fbox
	s := float64(size)
	for i, a := range anchors {
		p := sigmoid(float64(scores[i]))
		if p < minScore {
			continue
		}
		r := regs[i*16 : i*16+4]
		cx := a.cx*s + float64(r[0])
		cy := a.cy*s + float64(r[1])
		w, h := float64(r[2]), float64(r[3])
		if w <= 0 || h <= 0 {
			continue
		}
		out = append(out, fbox{cx - w/2, cy - h/2, cx + w/2, cy + h/2, p})
	}
	return out
}

// nmsIoU is MediaPipe's min_suppression_threshold for BlazeFace.
const nmsIoU = 0.3

// weightedNMS merges overlapping boxes as MediaPipe's WEIGHTED non-max
// suppression does: the best remaining box takes every box overlapping it
// by IoU >= iouMin and becomes their score-weighted mean, with the best
// score. Boxes from different tiles and pyramid levels merge the same way.
func weightedNMS(boxes []fbox, iouMin float64) []fbox {
	bs := append([]fbox(nil), boxes...)
	sort.SliceStable(bs, func(i, j int) bool { return bs[i].score > bs[j].score })
	used := make([]bool, len(bs))
	var out []fbox
	for i := range bs {
		if used[i] {
			continue
		}
		used[i] = true
		var acc fbox
		var wsum float64
		add := func(b fbox) {
			acc.x0 += b.x0 * b.score
			acc.y0 += b.y0 * b.score
			acc.x1 += b.x1 * b.score
			acc.y1 += b.y1 * b.score
			wsum += b.score
		}
		add(bs[i])
		for j := i + 1; j < len(bs); j++ {
			if !used[j] && iou(bs[i], bs[j]) >= iouMin {
				used[j] = true
				add(bs[j])
			}
		}
		out = append(out, fbox{acc.x0 / wsum, acc.y0 / wsum, acc.x1 / wsum, acc.y1 / wsum, bs[i].score})
	}
	return out
}

// axisTiles places n tiles of size t along a side of length l so that
// neighbours overlap by at least ov: positions evenly spread from 0 to l-t.
// A side no longer than a tile gets one tile at 0 (padded).
func axisTiles(l, t, ov int) []int {
	if l <= t {
		return []int{0}
	}
	step := t - ov
	if step < 1 {
		step = 1
	}
	n := (l - ov + step - 1) / step
	if n < 2 {
		n = 2
	}
	pos := make([]int, n)
	for i := range pos {
		pos[i] = int(math.Round(float64(i) * float64(l-t) / float64(n-1)))
	}
	return pos
}

// tile is one model input cut from a pyramid level: Rect in level
// pixels (may extend past the level's bounds, padded), and the part of the
// level it owns: a detection is kept from this tile only when its centre is
// in Own. The owned parts partition the level, split in the middle of each
// overlap, so a face no wider than the overlap whose centre a tile owns lies
// wholly inside that tile.
type tile struct {
	Rect image.Rectangle
	Own  [4]float64 // x0, y0, x1, y1 (infinite at the level's borders)
}

func (t tile) owns(b fbox) bool {
	cx, cy := (b.x0+b.x1)/2, (b.y0+b.y1)/2
	return cx >= t.Own[0] && cx < t.Own[2] && cy >= t.Own[1] && cy < t.Own[3]
}

// planTiles cuts a w x h level into size x size tiles overlapping by at
// least overlap pixels.
func planTiles(w, h, size, overlap int) []tile {
	xs, ys := axisTiles(w, size, overlap), axisTiles(h, size, overlap)
	bounds := func(pos []int, i int) (lo, hi float64) {
		lo, hi = math.Inf(-1), math.Inf(1)
		if i > 0 {
			lo = float64(pos[i-1]+size+pos[i]) / 2
		}
		if i < len(pos)-1 {
			hi = float64(pos[i]+size+pos[i+1]) / 2
		}
		return
	}
	var out []tile
	for j, y := range ys {
		y0, y1 := bounds(ys, j)
		for i, x := range xs {
			x0, x1 := bounds(xs, i)
			out = append(out, tile{image.Rect(x, y, x+size, y+size), [4]float64{x0, y0, x1, y1}})
		}
	}
	return out
}

// levelScales lists the pyramid: scale, scale/2, scale/4, ... down to the
// first scale at which the w x h image fits in one tile (at most maxLevels).
func levelScales(w, h int, scale float64, size, maxLevels int) []float64 {
	var out []float64
	for s := scale; len(out) < maxLevels; s /= 2 {
		out = append(out, s)
		if math.Ceil(float64(w)*s) <= float64(size) && math.Ceil(float64(h)*s) <= float64(size) {
			break
		}
	}
	return out
}
