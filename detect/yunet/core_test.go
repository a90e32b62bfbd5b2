package yunet

import (
	"image"
	"math"
	"testing"
)

func TestDecode(t *testing.T) {
	// A 64x32 input: stride 8 has an 8x4 grid. One cell (col 3, row 2) of
	// stride 8 scores 0.9*0.5; everything else is zero.
	w, h := 64, 32
	var outs []output
	for _, s := range strides {
		n := (w / s) * (h / s)
		outs = append(outs, output{stride: s, cls: make([]float32, n), obj: make([]float32, n), bbox: make([]float32, 4*n), kps: make([]float32, 10*n)})
	}
	i := 2*8 + 3
	o := outs[0]
	o.cls[i], o.obj[i] = 0.9, 0.5
	o.bbox[4*i], o.bbox[4*i+1] = 0.5, 0.25 // centre (3.5*8, 2.25*8) = (28, 18)
	o.bbox[4*i+2], o.bbox[4*i+3] = float32(math.Log(2)), float32(math.Log(3))
	o.kps[10*i], o.kps[10*i+1] = 0, 0 // landmark 0 at the cell's corner (24, 16)
	got := decode(outs, w, h, 0.1)
	if len(got) != 1 {
		t.Fatalf("got %d boxes, want 1", len(got))
	}
	b := got[0]
	if math.Abs(b.score-0.45) > 1e-6 {
		t.Errorf("score %v, want 0.45 (cls x obj)", b.score)
	}
	if math.Abs(b.cx()-28) > 1e-4 || math.Abs(b.cy()-18) > 1e-4 || math.Abs(b.w()-16) > 1e-4 || math.Abs(b.h()-24) > 1e-4 {
		t.Errorf("box %+v, want centre (28,18), 16x24", b)
	}
	if b.kps[0] != 24 || b.kps[1] != 16 {
		t.Errorf("landmark 0 at (%v,%v), want (24,16)", b.kps[0], b.kps[1])
	}
	if len(decode(outs, w, h, 0.5)) != 0 {
		t.Error("a box under the least score was kept")
	}
	// Short outputs (a model that does not match the input size) give
	// nothing rather than reading out of range.
	outs[0].cls = outs[0].cls[:3]
	if len(decode(outs, w, h, 0.1)) != 0 {
		t.Error("short output decoded")
	}
}

func TestNMS(t *testing.T) {
	a := fbox{x0: 0, y0: 0, x1: 10, y1: 10, score: 0.9, seen: 1, best: [2]float64{0.9, 0}}
	b := fbox{x0: 1, y0: 1, x1: 11, y1: 11, score: 0.5, seen: 2, best: [2]float64{0, 0.5}}
	c := fbox{x0: 30, y0: 0, x1: 40, y1: 10, score: 0.3}
	inner := fbox{x0: 3, y0: 3, x1: 9, y1: 9, score: 0.4, seen: 2, best: [2]float64{0, 0.4}}
	got := nms([]fbox{c, b, a}, 0.45, 0)
	if len(got) != 2 || got[0].score != 0.9 || got[1].score != 0.3 {
		t.Fatalf("nms %+v", got)
	}
	if got[0].seen != 3 || got[0].best != [2]float64{0.9, 0.5} {
		t.Errorf("merged box: seen %d best %v, want both looks", got[0].seen, got[0].best)
	}
	// A smaller box mostly inside a larger one of similar size is the
	// same face when cover merging is on.
	if got := nms([]fbox{a, inner}, 0.45, 0.7); len(got) != 1 {
		t.Errorf("cover merge: %d boxes", len(got))
	}
	if got := nms([]fbox{a, inner}, 0.45, 0); len(got) != 2 {
		t.Errorf("without cover merge: %d boxes", len(got))
	}
}

func TestPlanTilesCoverOnce(t *testing.T) {
	for _, tc := range []struct{ w, h, size, ov int }{{2000, 1500, 640, 128}, {640, 640, 640, 128}, {641, 100, 640, 128}, {5000, 300, 1536, 384}} {
		tiles := planTiles(tc.w, tc.h, tc.size, tc.ov)
		for _, tl := range tiles {
			if tl.Rect.Dx() > tc.size || tl.Rect.Dy() > tc.size || !tl.Rect.In(image.Rect(0, 0, tc.w, tc.h)) {
				t.Errorf("%v: tile %v", tc, tl.Rect)
			}
		}
		// Every point is owned by exactly one tile, and a box of the
		// overlap's size anywhere lies whole in the tile that owns it.
		for y := 0; y < tc.h; y += 37 {
			for x := 0; x < tc.w; x += 41 {
				b := fbox{x0: float64(x) - 20, y0: float64(y) - 20, x1: float64(x) + 20, y1: float64(y) + 20}
				owners := 0
				for _, tl := range tiles {
					if tl.owns(b) {
						owners++
						r := image.Rect(max(0, x-tc.ov/2+1), max(0, y-tc.ov/2+1), min(tc.w, x+tc.ov/2-1), min(tc.h, y+tc.ov/2-1))
						if !r.In(tl.Rect) {
							t.Errorf("%v: a box of the overlap's size at (%d,%d) is cut by its tile %v", tc, x, y, tl.Rect)
						}
					}
				}
				if owners != 1 {
					t.Fatalf("%v: point (%d,%d) owned by %d tiles", tc, x, y, owners)
				}
			}
		}
	}
}

func TestPlanViews(t *testing.T) {
	// A 12 MP photo published at 2048: the smallest face is 39.4 px in
	// the original, seen at 20 model px (scale 0.51: 2048x1536, in 1024 px
	// tiles), the second look at 0.76 in 640 px tiles, and coarser levels
	// for large faces.
	views := plan(4032, 3024, 20*4032/2048.0)
	if len(views) < 3 {
		t.Fatalf("views %d", len(views))
	}
	if s := views[0].scale; math.Abs(s-0.508) > 0.001 || len(views[0].tiles) != 6 {
		t.Errorf("first look at %v in %d tiles", s, len(views[0].tiles))
	}
	last := views[len(views)-1]
	if !last.second || math.Abs(last.scale-1.5*views[0].scale) > 1e-9 {
		t.Errorf("second look %+v", last)
	}
	for _, tl := range last.tiles {
		if tl.Rect.Dx() > tileSide || tl.Rect.Dy() > tileSide {
			t.Errorf("second-look tile %v larger than %d", tl.Rect, tileSide)
		}
	}
	for _, v := range views[1 : len(views)-1] {
		if v.second || v.scale >= views[0].scale {
			t.Errorf("coarse view %+v", v)
		}
	}
	// Small faces asked in a small photo: enlarged at most MaxScale.
	if v := plan(640, 480, 5); v[0].scale != MaxScale {
		t.Errorf("first look at %v, want the cap %v", v[0].scale, MaxScale)
	}
	// A first look of up to a megapixel is one run; larger ones are tiled.
	if v := plan(1024, 768, 20); len(v[0].tiles) != 1 {
		t.Errorf("a 1024x768 first look in %d runs", len(v[0].tiles))
	}
	if plan(0, 10, 20) != nil || plan(10, 10, 0) != nil {
		t.Error("empty plan expected")
	}
}

func TestKeep(t *testing.T) {
	box := func(w, score, first float64) fbox {
		return fbox{x0: 0, y0: 0, x1: w, y1: w * 1.3, score: score, best: [2]float64{first, 0}}
	}
	for _, tc := range []struct {
		name string
		b    fbox
		want bool
	}{
		{"clear face", box(40, 0.9, 0.9), true},
		{"small unsure crowd face", box(20, 0.12, 0.12), true},
		{"under the threshold", box(40, 0.09, 0.09), false},
		{"narrower than MinWidth x the smallest face", box(15, 0.9, 0.9), false},
		{"large, sure at the first look", box(200, 0.8, 0.8), true},
		{"large, unsure at the first look, sure at the second", box(200, 0.6, 0.3), false},
		{"large and unsure", box(200, 0.3, 0.3), false},
	} {
		if got := keep(tc.b, 20); got != tc.want {
			t.Errorf("%s: keep %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestFillSamples(t *testing.T) {
	img := image.NewNRGBA(image.Rect(0, 0, 4, 2))
	for i := 0; i < len(img.Pix); i += 4 {
		img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = 10, 20, 30, 255
	}
	dst := make([]float32, 3*32*32)
	for i := range dst {
		dst[i] = 7
	}
	fill(dst, 32, 32, img, 1, image.Rect(0, 0, 4, 2))
	// BGR planes, padding zero.
	if dst[0] != 30 || dst[32*32] != 20 || dst[2*32*32] != 10 {
		t.Errorf("pixel (0,0) = %v %v %v, want B 30 G 20 R 10", dst[0], dst[32*32], dst[2*32*32])
	}
	if dst[5] != 0 || dst[3*32] != 0 {
		t.Error("padding not zero")
	}
	// Scale 0.25 of an 8x8 image samples its second halving (2x2) at
	// factor 1, and the halvings keep the average.
	big := image.NewNRGBA(image.Rect(0, 0, 8, 8))
	for i := range big.Pix {
		big.Pix[i] = uint8(40 * (i / 4 % 2)) // columns alternate 0 and 40
	}
	p := newPyramid(big)
	src, f := p.at(0.25)
	if src.Rect.Dx() != 2 || math.Abs(f-1) > 1e-9 {
		t.Errorf("scale 0.25 of 8 px: level %v factor %v", src.Rect, f)
	}
	if v := src.Pix[0]; v != 20 {
		t.Errorf("halved value %d, want the average 20", v)
	}
}

// focus keeps the first look and limits the second to the regions, seen at
// its scale, each owning the boxes centred inside it away from its cut
// edges (not from the image's edges).
func TestFocus(t *testing.T) {
	views := plan(1280, 720, 20)
	b := image.Rect(0, 0, 1280, 720)
	regions := []image.Rectangle{image.Rect(100, 100, 200, 180), image.Rect(-50, 600, 80, 800), image.Rect(2000, 0, 2100, 50)}
	got := focus(views, b, regions)
	if len(got) != len(views) {
		t.Fatalf("%d views, want %d", len(got), len(views))
	}
	for i, v := range got[:len(got)-1] {
		if v.second || len(v.tiles) != len(views[i].tiles) {
			t.Errorf("first look view %d changed", i)
		}
	}
	sec := got[len(got)-1]
	if !sec.second || sec.scale != SecondLook || len(sec.tiles) != 2 {
		t.Fatalf("second look %+v, want two tiles at %v", sec, SecondLook)
	}
	if r := sec.tiles[0].Rect; r != image.Rect(150, 150, 300, 270) {
		t.Errorf("region tile %v, want (150,150)-(300,270)", r)
	}
	if c := sec.tiles[0].core; c != [4]float64{150 + regionEdge, 150 + regionEdge, 300 - regionEdge, 270 - regionEdge} {
		t.Errorf("region core %v", c)
	}
	// At the image's left and bottom edges the tile owns up to the edge.
	if r, c := sec.tiles[1].Rect, sec.tiles[1].core; r != image.Rect(0, 900, 120, 1080) ||
		!math.IsInf(c[0], -1) || c[1] != 900+regionEdge || c[2] != 120-regionEdge || !math.IsInf(c[3], 1) {
		t.Errorf("edge tile %v core %v", r, c)
	}
	if none := focus(views, b, nil); len(none) != len(views)-1 {
		t.Errorf("no regions: %d views, want the first look's %d", len(none), len(views)-1)
	}
	// A crowd followed: regions whose tiles would cost more than the whole
	// second look get the whole second look, never more.
	var crowd []image.Rectangle
	for y := 0; y < 720; y += 60 {
		for x := 0; x < 1280; x += 60 {
			crowd = append(crowd, image.Rect(x-40, y-40, x+80, y+80))
		}
	}
	got = focus(views, b, crowd)
	whole := views[len(views)-1]
	if sec := got[len(got)-1]; !sec.second || len(sec.tiles) != len(whole.tiles) || cost(sec.tiles) != cost(whole.tiles) {
		t.Errorf("crowd: second look of %d tiles (cost %d), want the whole one's %d (cost %d)", len(sec.tiles), cost(sec.tiles), len(whole.tiles), cost(whole.tiles))
	}
}
