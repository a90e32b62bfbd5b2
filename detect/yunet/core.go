package yunet

import (
	"image"
	"math"
	"sort"
)

// Box is one face found, in the coordinates of the image it was found in.
type Box struct {
	Rect image.Rectangle
	// Score is the model's confidence, cls x obj (0..1). Clear frontal faces
	// score about 0.8-0.95; small, turned or blurred ones much less.
	Score float32
	// Landmarks are the right eye, left eye, nose tip, right and left mouth
	// corner (as seen in the photo: "right eye" is the person's right, on
	// the left of the image).
	Landmarks [5]image.Point
}

// fbox is a box in float coordinates with its score and landmarks.
type fbox struct {
	x0, y0, x1, y1 float64
	score          float64
	kps            [10]float64
	// seen is a bit set of the looks that found this face (bit 0 the
	// first, bit 1 the second), filled in by nms from the boxes it merges.
	seen uint8
	// best is the best score of each look among the boxes merged into
	// this one (filled in by nms).
	best [2]float64
}

func (b fbox) w() float64 { return b.x1 - b.x0 }
func (b fbox) h() float64 { return b.y1 - b.y0 }

func (b fbox) cx() float64 { return (b.x0 + b.x1) / 2 }
func (b fbox) cy() float64 { return (b.y0 + b.y1) / 2 }

// scaled maps a box by p -> p/s + off.
func (b fbox) scaled(s float64, offX, offY float64) fbox {
	out := fbox{x0: b.x0/s + offX, y0: b.y0/s + offY, x1: b.x1/s + offX, y1: b.y1/s + offY, score: b.score, seen: b.seen, best: b.best}
	for k := 0; k < 5; k++ {
		out.kps[2*k] = b.kps[2*k]/s + offX
		out.kps[2*k+1] = b.kps[2*k+1]/s + offY
	}
	return out
}

func (b fbox) box() Box {
	out := Box{
		Rect:  image.Rect(int(math.Floor(b.x0)), int(math.Floor(b.y0)), int(math.Ceil(b.x1)), int(math.Ceil(b.y1))),
		Score: float32(b.score),
	}
	for k := 0; k < 5; k++ {
		out.Landmarks[k] = image.Pt(int(math.Round(b.kps[2*k])), int(math.Round(b.kps[2*k+1])))
	}
	return out
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

// strides are YuNet's three output levels.
var strides = [3]int{8, 16, 32}

// output holds one stride's four outputs for one model run: per cell of
// the (h/s) x (w/s) grid, row by row, cls and obj (sigmoid already applied),
// bbox (4 values) and kps (10 values).
type output struct {
	stride   int
	cls, obj []float32
	bbox     []float32
	kps      []float32
}

// decode turns one run's outputs into boxes of at least minScore, in the
// pixels of the model's input (w x h, multiples of 32). The box of the cell
// at (col, row) is centred at ((bbox0+col)*s, (bbox1+row)*s) and is
// exp(bbox2)*s wide and exp(bbox3)*s high; landmark k is at
// ((kps[2k]+col)*s, (kps[2k+1]+row)*s).
func decode(outs []output, w, h int, minScore float64) []fbox {
	var out []fbox
	for _, o := range outs {
		s := float64(o.stride)
		cols, rows := w/o.stride, h/o.stride
		n := cols * rows
		if len(o.cls) < n || len(o.obj) < n || len(o.bbox) < 4*n || len(o.kps) < 10*n {
			continue
		}
		for i := 0; i < n; i++ {
			score := float64(o.cls[i]) * float64(o.obj[i])
			if !(score >= minScore) {
				continue
			}
			col, row := float64(i%cols), float64(i/cols)
			bb := o.bbox[4*i : 4*i+4]
			cx := (float64(bb[0]) + col) * s
			cy := (float64(bb[1]) + row) * s
			bw := math.Exp(math.Min(float64(bb[2]), 10)) * s
			bh := math.Exp(math.Min(float64(bb[3]), 10)) * s
			fb := fbox{x0: cx - bw/2, y0: cy - bh/2, x1: cx + bw/2, y1: cy + bh/2, score: score}
			for k := 0; k < 10; k += 2 {
				fb.kps[k] = (float64(o.kps[10*i+k]) + col) * s
				fb.kps[k+1] = (float64(o.kps[10*i+k+1]) + row) * s
			}
			out = append(out, fb)
		}
	}
	return out
}

// nms keeps the best-scoring box of every group of boxes overlapping by at
// least iouMin (or of which the smaller lies at least coverMin inside the
// larger, when coverMin > 0: one face's box from two scales).
func nms(boxes []fbox, iouMin, coverMin float64) []fbox {
	bs := append([]fbox(nil), boxes...)
	sort.SliceStable(bs, func(i, j int) bool { return bs[i].score > bs[j].score })
	var keep []fbox
	for _, b := range bs {
		dup := false
		for i := range keep {
			k := &keep[i]
			if iou(b, *k) >= iouMin || (coverMin > 0 && cover(b, *k) >= coverMin && sizeRatio(b, *k) <= 2) {
				k.seen |= b.seen
				k.best[0] = math.Max(k.best[0], b.best[0])
				k.best[1] = math.Max(k.best[1], b.best[1])
				dup = true
				break
			}
		}
		if !dup {
			keep = append(keep, b)
		}
	}
	return keep
}

// cover is the share of the smaller box inside the other.
func cover(a, b fbox) float64 {
	ix := math.Min(a.x1, b.x1) - math.Max(a.x0, b.x0)
	iy := math.Min(a.y1, b.y1) - math.Max(a.y0, b.y0)
	if ix <= 0 || iy <= 0 {
		return 0
	}
	m := math.Min(a.w()*a.h(), b.w()*b.h())
	if m <= 0 {
		return 0
	}
	return ix * iy / m
}

// sizeRatio is the larger box's width over the smaller's.
func sizeRatio(a, b fbox) float64 {
	x, y := a.w(), b.w()
	if x < y {
		x, y = y, x
	}
	if y <= 0 {
		return math.Inf(1)
	}
	return x / y
}

// tile is one model run over a region of a scaled image.
type tile struct {
	// Rect is the region of the scaled image the model sees.
	Rect image.Rectangle
	// core is the part of Rect whose boxes this tile owns: a box belongs
	// to the tile whose core holds its centre, so a face in an overlap is
	// reported once, by the tile that sees it whole.
	core [4]float64
}

func (t tile) owns(b fbox) bool {
	x, y := b.cx(), b.cy()
	return x >= t.core[0] && x < t.core[2] && y >= t.core[1] && y < t.core[3]
}

// axisTiles places tiles of length size along an axis of length l, each
// overlapping the previous by at least ov: their start positions.
func axisTiles(l, size, ov int) []int {
	if l <= size {
		return []int{0}
	}
	step := size - ov
	n := (l - ov + step - 1) / step
	pos := make([]int, n)
	for i := range pos {
		// Spread evenly so the last tile ends at l.
		pos[i] = int(math.Round(float64(i) * float64(l-size) / float64(n-1)))
	}
	return pos
}

// planTiles covers a w x h image with tiles of at most size x size
// overlapping by at least ov. Each tile's core reaches halfway into its
// overlaps with its neighbours.
func planTiles(w, h, size, ov int) []tile {
	xs, ys := axisTiles(w, size, ov), axisTiles(h, size, ov)
	bounds := func(pos []int, i, l int) (lo, hi float64) {
		lo, hi = math.Inf(-1), math.Inf(1)
		if i > 0 {
			lo = float64(pos[i]+min(pos[i-1]+size, l)) / 2
		}
		if i < len(pos)-1 {
			hi = float64(pos[i+1]+min(pos[i]+size, l)) / 2
		}
		return lo, hi
	}
	var out []tile
	for j, y := range ys {
		y0, y1 := bounds(ys, j, h)
		for i, x := range xs {
			x0, x1 := bounds(xs, i, w)
			out = append(out, tile{
				Rect: image.Rect(x, y, min(x+size, w), min(y+size, h)),
				core: [4]float64{x0, y0, x1, y1},
			})
		}
	}
	return out
}

// pad32 rounds n up to a multiple of 32 (YuNet's largest stride).
func pad32(n int) int { return (n + 31) / 32 * 32 }
