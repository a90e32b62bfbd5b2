package blazeface

import (
	"image"
	"image/color"
	"math"
	"math/rand"
	"testing"
)

func TestAnchors(t *testing.T) {
	for _, s := range []spec{backSpec, frontSpec} {
		a := s.anchors()
		if len(a) != 896 {
			t.Fatalf("%d: %d anchors, want 896", s.size, len(a))
		}
		// First layer: 16x16 cells, 2 anchors each; second: 8x8, 6 each.
		if a[0] != a[1] || a[0] == a[2] || a[0] != (anchor{0.5 / 16, 0.5 / 16}) {
			t.Errorf("%d: first anchors %v", s.size, a[:3])
		}
		if a[511] != (anchor{15.5 / 16, 15.5 / 16}) {
			t.Errorf("%d: anchor 511 = %v", s.size, a[511])
		}
		if a[512] != (anchor{0.5 / 8, 0.5 / 8}) || a[517] != a[512] || a[518] == a[512] {
			t.Errorf("%d: second layer starts %v", s.size, a[512:519])
		}
		if a[895] != (anchor{7.5 / 8, 7.5 / 8}) {
			t.Errorf("%d: last anchor %v", s.size, a[895])
		}
	}
}

func TestDecode(t *testing.T) {
	a := backSpec.anchors()
	scores := make([]float32, len(a))
	regs := make([]float32, 16*len(a))
	for i := range scores {
		scores[i] = -10
	}
	// Anchor 513 (second layer, cell 0,0: centre 16,16 px) with a box
	// offset by (+4, -2) px, 30 x 40 px, logit 2 (score 0.88).
	scores[513] = 2
	copy(regs[513*16:], []float32{4, -2, 30, 40})
	got := decode(a, 256, scores, regs, 0.5)
	if len(got) != 1 {
		t.Fatalf("got %d boxes, want 1: %v", len(got), got)
	}
	b := got[0]
	want := fbox{20 - 15, 14 - 20, 20 + 15, 14 + 20, sigmoid(2)}
	if math.Abs(b.x0-want.x0)+math.Abs(b.y0-want.y0)+math.Abs(b.x1-want.x1)+math.Abs(b.y1-want.y1) > 1e-9 || math.Abs(b.score-want.score) > 1e-9 {
		t.Errorf("decoded %+v, want %+v", b, want)
	}
	if got := decode(a, 256, scores, regs, 0.9); len(got) != 0 {
		t.Errorf("threshold 0.9 kept %v", got)
	}
}

func TestWeightedNMS(t *testing.T) {
	boxes := []fbox{
		{10, 10, 30, 30, 0.9},
		{12, 10, 32, 30, 0.6}, // overlaps the first: merged into it
		{100, 100, 120, 120, 0.7},
		{40, 10, 60, 30, 0.8}, // beside the first: kept
	}
	got := weightedNMS(boxes, 0.3)
	if len(got) != 3 {
		t.Fatalf("got %d boxes, want 3: %v", len(got), got)
	}
	m := got[0]
	wantX0 := (10*0.9 + 12*0.6) / 1.5
	if math.Abs(m.x0-wantX0) > 1e-9 || m.score != 0.9 {
		t.Errorf("merged box %+v, want x0 %v score 0.9", m, wantX0)
	}
	if got[1].score != 0.8 || got[2].score != 0.7 {
		t.Errorf("order by score: %v", got)
	}
}

func TestAxisTiles(t *testing.T) {
	for _, c := range []struct{ l, t, ov int }{{100, 256, 64}, {256, 256, 64}, {257, 256, 64}, {1024, 256, 64}, {3072, 256, 96}, {2049, 256, 128}, {700, 256, 200}} {
		pos := axisTiles(c.l, c.t, c.ov)
		if pos[0] != 0 {
			t.Errorf("%v: first tile at %d", c, pos[0])
		}
		if c.l > c.t && pos[len(pos)-1] != c.l-c.t {
			t.Errorf("%v: last tile at %d, want %d", c, pos[len(pos)-1], c.l-c.t)
		}
		for i := 1; i < len(pos); i++ {
			if ov := pos[i-1] + c.t - pos[i]; ov < c.ov {
				t.Errorf("%v: tiles %d and %d overlap by %d", c, i-1, i, ov)
			}
		}
		// Not more tiles than needed: one fewer would overlap too little.
		if n := len(pos); n > 2 && float64(c.l-c.t)/float64(n-2) <= float64(c.t-c.ov) {
			t.Errorf("%v: %d tiles, %d would do", c, n, n-1)
		}
	}
}

// Every face no wider than the overlap is owned by exactly one tile, and
// lies wholly inside it.
func TestPlanTilesOwnership(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	for _, c := range []struct{ w, h, ov int }{{2048, 1536, 64}, {1024, 300, 96}, {200, 900, 64}, {3000, 257, 128}} {
		tiles := planTiles(c.w, c.h, 256, c.ov)
		for k := 0; k < 2000; k++ {
			f := 4 + rng.Float64()*float64(c.ov-4)
			x0 := rng.Float64() * (float64(c.w) - f)
			y0 := rng.Float64() * (float64(c.h) - f)
			b := fbox{x0, y0, x0 + f, y0 + f, 1}
			owners := 0
			for _, tl := range tiles {
				if tl.owns(b) {
					owners++
					r := tl.Rect
					if b.x0 < float64(r.Min.X) || b.y0 < float64(r.Min.Y) || b.x1 > float64(r.Max.X) || b.y1 > float64(r.Max.Y) {
						t.Fatalf("%v: face %v owned by tile %v but not inside it", c, b, r)
					}
				}
			}
			if owners != 1 {
				t.Fatalf("%v: face %v has %d owners", c, b, owners)
			}
		}
	}
}

func TestLevelScales(t *testing.T) {
	got := levelScales(1024, 768, 2, 256, 10)
	want := []float64{2, 1, 0.5, 0.25}
	if len(got) != len(want) {
		t.Fatalf("levels %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("levels %v, want %v", got, want)
		}
	}
	if got := levelScales(1024, 768, 2, 256, 1); len(got) != 1 {
		t.Errorf("maxLevels 1: %v", got)
	}
	if got := levelScales(200, 100, 1, 256, 10); len(got) != 1 {
		t.Errorf("small image: %v", got)
	}
}

func TestStretch(t *testing.T) {
	// A dark gradient (values 0..15) is stretched to about 0..255.
	img := image.NewRGBA(image.Rect(0, 0, 160, 10))
	for x := 0; x < 160; x++ {
		for y := 0; y < 10; y++ {
			v := uint8(x / 10)
			img.Set(x, y, color.RGBA{v, v, v, 255})
		}
	}
	out := Stretch(img, StretchLow, StretchHigh)
	if lo, hi := out.RGBAAt(0, 0).R, out.RGBAAt(159, 0).R; lo != 0 || hi != 255 {
		t.Errorf("stretched range %d..%d, want 0..255", lo, hi)
	}
	if mid := out.RGBAAt(80, 0).R; mid < 120 || mid > 140 {
		t.Errorf("stretched middle %d", mid)
	}
	// A flat image is left alone.
	flat := image.NewRGBA(image.Rect(0, 0, 4, 4))
	for i := range flat.Pix {
		flat.Pix[i] = 90
	}
	if v := Stretch(flat, StretchLow, StretchHigh).RGBAAt(1, 1).R; v != 90 {
		t.Errorf("flat image changed to %d", v)
	}
}

func TestFillTile(t *testing.T) {
	src := image.NewRGBA(image.Rect(0, 0, 10, 10))
	for i := range src.Pix {
		src.Pix[i] = 255
	}
	in := make([]float32, 16*16*3)
	// Level at scale 1: pixels copied, white = 1, padding past the edge 0.
	fillTile(in, newLevel(src, 1), image.Rect(0, 0, 16, 16), 16, false, nil)
	if in[0] != 1 || in[3*(9*16+9)] != 1 || in[3*(10*16+10)] != 0 || in[3*15] != 0 {
		t.Errorf("scale 1: %v %v %v %v", in[0], in[3*(9*16+9)], in[3*(10*16+10)], in[3*15])
	}
	// Level at scale 1.5: 15x15 of white, then padding.
	fillTile(in, newLevel(src, 1.5), image.Rect(0, 0, 16, 16), 16, false, nil)
	if in[3*(14*16+14)] != 1 || in[3*(15*16+15)] != 0 {
		t.Errorf("scale 1.5: %v %v", in[3*(14*16+14)], in[3*(15*16+15)])
	}
}

func TestMirrorTile(t *testing.T) {
	in := make([]float32, 4*4*3)
	for i := range in {
		in[i] = float32(i)
	}
	mirrorTile(in, 4)
	// Pixel (0, 1) now holds what pixel (3, 1) held.
	if in[3*(1*4+0)] != float32(3*(1*4+3)) || in[3*(1*4+0)+2] != float32(3*(1*4+3)+2) {
		t.Errorf("mirror: %v", in[12:24])
	}
	mirrorTile(in, 4)
	for i := range in {
		if in[i] != float32(i) {
			t.Fatalf("mirroring twice changed value %d", i)
		}
	}
}

func TestLevels(t *testing.T) {
	src := image.NewRGBA(image.Rect(0, 0, 101, 60))
	for y := 0; y < 60; y++ {
		for x := 0; x < 101; x++ {
			src.SetRGBA(x, y, color.RGBA{uint8(2 * x), uint8(4 * y), 7, 255})
		}
	}
	hv := halvings{src}
	for _, c := range []struct {
		s       float64
		w, h, k int // level size, halvings used
	}{{1, 101, 60, 0}, {2, 202, 120, 0}, {0.75, 76, 45, 0}, {0.5, 51, 30, 1}, {0.25, 25, 15, 2}, {0.3, 30, 18, 1}} {
		lv := hv.level(c.s)
		if lv.w != c.w || lv.h != c.h || lv.src != hv[c.k] {
			t.Errorf("scale %v: level %dx%d from halving %dx%d, want %dx%d from halving %d", c.s, lv.w, lv.h,
				lv.src.Rect.Dx(), lv.src.Rect.Dy(), c.w, c.h, c.k)
		}
		if lv.f <= 0.5 {
			t.Errorf("scale %v: sampling factor %v skips pixels", c.s, lv.f)
		}
	}
	// A 2x2 block's mean.
	h := halve(src)
	if got := h.RGBAAt(3, 2); got.R != uint8((12+14+12+14)/4) || got.G != uint8((16+16+20+20)/4) {
		t.Errorf("halved pixel %v", got)
	}
}

func TestPlan(t *testing.T) {
	cfg := Config{}.withDefaults()
	// 1024x768 at scale 1: 5x4 tiles, then 512x384 (3x2), then 256x192 (1).
	st := plan(1024, 768, 1, 256, cfg)
	if st.Tiles != 27 || len(st.Levels) != 3 {
		t.Errorf("1024x768 at 1: %+v, want 27 tiles on 3 levels", st)
	}
	cfg.Mirror = true
	if st := plan(1024, 768, 1, 256, cfg); st.Tiles != 54 {
		t.Errorf("mirrored: %d tiles, want 54", st.Tiles)
	}
	if st := plan(0, 768, 1, 256, cfg); st.Tiles != 0 {
		t.Errorf("empty image: %+v", st)
	}
}

func TestModelPx(t *testing.T) {
	for _, c := range []struct{ m, want float64 }{{10, 60}, {20, 60}, {30, 50}, {40, 40}, {39.375, 40.625}, {100, 40}} {
		if got := modelPx(c.m); got < c.want-1e-9 || got > c.want+1e-9 {
			t.Errorf("modelPx(%v) = %v, want %v", c.m, got, c.want)
		}
	}
	// Never less enlargement for a smaller face.
	for m := 10.0; m < 60; m++ {
		if modelPx(m)/m < modelPx(m+1)/(m+1) {
			t.Errorf("scale at %v px below the scale at %v px", m, m+1)
		}
	}
}
