package yunet

import (
	"context"
	"image"
	"math"
	"time"

	"github.com/photoguard/photoguard/detect/analyze"
)

// What the finder promises, and how it looks, from measurements
// (MEASUREMENTS.md): the photo is seen once whole at the scale where the
// smallest face asked for is FloorModelPx wide, and again at SecondLook
// times that scale in overlapping tiles (small faces in crowds are found
// far more often the second time); coarser levels of the first pass find
// faces too large for the model's receptive field.
const (
	// FloorModelPx is the width, in model pixels, at which the smallest
	// face asked for is shown to the model in the first pass.
	FloorModelPx = 20
	// SecondLook is the second pass's scale over the first's.
	SecondLook = 1.5
	// MaxScale bounds the first pass's enlargement (enlarging adds no
	// detail; a photo that would need more is published smaller).
	MaxScale = 2.0
	// Threshold is the least score (cls x obj) of a box kept.
	Threshold = 0.1
	// MinWidth: boxes narrower than MinWidth times the smallest face asked
	// for are dropped (the model's boxes of 10-15 px in a 2048 px
	// landscape are ripples and leaves; real faces of 20 px get boxes of
	// 16 px and more).
	MinWidth = 0.8
	// LargeScore is the least first-look score of a box wider than
	// LargeFaces times the smallest face asked for: the model's unsure
	// boxes on shirts, leaves and shelves are large, its unsure real faces
	// in crowds small.
	LargeScore = 0.55
	LargeFaces = 4.0

	// tileSide and tileOverlap are the second pass's tiles, in model
	// pixels (memory stays bounded whatever the photo's size). wholeMax is
	// the most pixels the first pass sees in one run; a larger view is
	// tiled with wholeTile-side tiles (a 12 MP photo: peak RSS 488 MB with
	// 1024 px tiles against 660 MB seen whole, same boxes).
	tileSide    = 640
	tileOverlap = 128
	wholeMax    = 1024 * 1024
	wholeTile   = 1024
	wholeOver   = 256
	// coarseStep and coarseMin: the first pass is repeated at 1/coarseStep
	// of its scale while the view's long side stays at least coarseMin.
	coarseStep = 3.0
	coarseMin  = 160
	// nmsIoU merges one face's boxes within and across passes.
	// regionEdge is how far, in model pixels, from a focused region's cut
	// edge a box's centre must be for the region to own it.
	regionEdge = 16
	nmsIoU     = 0.45
	nmsCover   = 0.7
	// costPerMP is the CPU per megapixel of the original seen at the first
	// pass's scale, both passes included (a 1920x1280 photo with 20 px
	// faces: about 0.7 s, MEASUREMENTS.md).
	costPerMP = 290 * time.Millisecond
)

// view is one scale of one pass and the tiles it is seen in.
type view struct {
	scale float64
	tiles []tile
	// second marks the second look.
	second bool
}

// plan lists the views for a w x h image in which faces down to minFace
// pixels are looked for.
func plan(w, h int, minFace float64) []view {
	if w <= 0 || h <= 0 || minFace <= 0 {
		return nil
	}
	s := min(FloorModelPx/minFace, MaxScale)
	var views []view
	for c := s; ; c /= coarseStep {
		sw, sh := scaledSize(w, h, c)
		if c < s && max(sw, sh) < coarseMin {
			break
		}
		if sw*sh <= wholeMax {
			views = append(views, view{scale: c, tiles: planTiles(sw, sh, max(sw, sh), 0)})
		} else {
			views = append(views, view{scale: c, tiles: planTiles(sw, sh, wholeTile, wholeOver)})
		}
	}
	s2 := s * SecondLook
	sw, sh := scaledSize(w, h, s2)
	views = append(views, view{scale: s2, tiles: planTiles(sw, sh, tileSide, tileOverlap), second: true})
	return views
}

// focus limits the second look of views (planned for an image with bounds
// b) to regions, in the image's coordinates: each region clipped to the
// image and seen at the second look's scale, tiled like the whole when it
// is larger than a tile. A region owns the boxes whose centre lies in it
// away from its cut edges (a face cut by the region's edge is the
// neighbouring region's, or, outside every region, not looked for a second
// time). When the regions' tiles would cost as much as the whole second look
// (many faces followed, as in a crowd), the whole second look is run
// instead: it looks at every pixel the regions would, and costs no more.
func focus(views []view, b image.Rectangle, regions []image.Rectangle) []view {
	var out []view
	for _, v := range views {
		if !v.second {
			out = append(out, v)
			continue
		}
		sw, sh := scaledSize(b.Dx(), b.Dy(), v.scale)
		var tiles []tile
		for _, r := range regions {
			r = r.Sub(b.Min)
			sr := image.Rect(int(math.Floor(float64(r.Min.X)*v.scale)), int(math.Floor(float64(r.Min.Y)*v.scale)),
				int(math.Ceil(float64(r.Max.X)*v.scale)), int(math.Ceil(float64(r.Max.Y)*v.scale))).Intersect(image.Rect(0, 0, sw, sh))
			if sr.Empty() {
				continue
			}
			for _, t := range planTiles(sr.Dx(), sr.Dy(), tileSide, tileOverlap) {
				t.Rect = t.Rect.Add(sr.Min)
				for k, lim := range [4]float64{float64(t.Rect.Min.X), float64(t.Rect.Min.Y), float64(t.Rect.Max.X), float64(t.Rect.Max.Y)} {
					// A cut edge of the region: a box centred within
					// regionEdge of it may be a face cut in two.
					atImage := (k == 0 || k == 1) && lim <= 0 || k == 2 && lim >= float64(sw) || k == 3 && lim >= float64(sh)
					switch {
					case math.IsInf(t.core[k], 0) && atImage:
					case math.IsInf(t.core[k], 0) && k < 2:
						t.core[k] = lim + regionEdge
					case math.IsInf(t.core[k], 0):
						t.core[k] = lim - regionEdge
					default:
						t.core[k] += float64(sr.Min.X*(1-k%2) + sr.Min.Y*(k%2))
					}
				}
				tiles = append(tiles, t)
			}
		}
		if cost(tiles) >= cost(v.tiles) {
			out = append(out, v)
		} else if len(tiles) > 0 {
			out = append(out, view{scale: v.scale, tiles: tiles, second: true})
		}
	}
	return out
}

// cost is what the model's runs over tiles cost, in input pixels (each
// tile padded as the model sees it).
func cost(tiles []tile) int {
	n := 0
	for _, t := range tiles {
		n += pad32(t.Rect.Dx()) * pad32(t.Rect.Dy())
	}
	return n
}

// keep applies the score and size rules to one merged box: at least
// Threshold and at least MinWidth x minFace wide; a box wider than
// LargeFaces x minFace needs LargeScore from the first look (the second
// look's large boxes on leaves, water and evening skies score up to 0.6,
// while a large real face is found by the first look).
func keep(b fbox, minFace float64) bool {
	if b.score < Threshold || b.w() < MinWidth*minFace {
		return false
	}
	return b.w() <= LargeFaces*minFace || b.best[0] >= LargeScore
}

// Finder is a Detector as the analysis's Finder.
type Finder struct{ d *Detector }

// NewFinder wraps d.
func NewFinder(d *Detector) *Finder { return &Finder{d} }

// Name is "yunet".
func (f *Finder) Name() string { return "yunet" }

// Reach is the finder's floor and limits.
func (f *Finder) Reach() analyze.Reach {
	return analyze.Reach{Floor: FloorModelPx, MaxScale: MaxScale, CostPerMP: costPerMP}
}

// Find returns the faces of img at least minFace pixels wide, with the
// finder's score.
func (f *Finder) Find(ctx context.Context, img *image.NRGBA, minFace float64) ([]analyze.Box, error) {
	return f.FindFocus(ctx, img, minFace, analyze.Focus{})
}

// FindFocus is Find with the second look only in focus's regions when
// focus is partial (analyze.FocusFinder).
func (f *Finder) FindFocus(ctx context.Context, img *image.NRGBA, minFace float64, focus analyze.Focus) ([]analyze.Box, error) {
	var regions *[]image.Rectangle
	if focus.Partial {
		regions = &focus.Regions
	}
	boxes, err := f.d.find(ctx, img, minFace, regions)
	if err != nil {
		return nil, err
	}
	out := make([]analyze.Box, len(boxes))
	for i, b := range boxes {
		out[i] = analyze.Box{Rect: b.Rect.Intersect(img.Rect), Score: b.Score}
	}
	return out, nil
}

// SecondLookWidth is LargeFaces: a box wider than LargeFaces x minFace is
// kept only when the first look scores it (keep).
func (f *Finder) SecondLookWidth() float64 { return LargeFaces }

var _ analyze.FocusFinder = (*Finder)(nil)

// Find runs the planned views over img and returns the merged boxes that
// pass the score rules, in img's coordinates. The context is checked before
// every model run.
func (d *Detector) Find(ctx context.Context, img *image.NRGBA, minFace float64) ([]Box, error) {
	return d.find(ctx, img, minFace, nil)
}

// find is Find with the second look only in regions (img's coordinates)
// when regions is not nil.
func (d *Detector) find(ctx context.Context, img *image.NRGBA, minFace float64, regions *[]image.Rectangle) ([]Box, error) {
	merged, err := d.candidates(ctx, img, minFace, regions)
	if err != nil {
		return nil, err
	}
	var out []Box
	for _, m := range merged {
		if keep(m, minFace) {
			out = append(out, m.box())
		}
	}
	return out, nil
}

// candidates runs the planned views and merges their boxes, before the
// score rules.
func (d *Detector) candidates(ctx context.Context, img *image.NRGBA, minFace float64, regions *[]image.Rectangle) ([]fbox, error) {
	b := img.Bounds()
	views := plan(b.Dx(), b.Dy(), minFace)
	if len(views) == 0 {
		return nil, nil
	}
	if regions != nil {
		views = focus(views, b, *regions)
	}
	pyr := newPyramid(img)
	var buf []float32
	var all []fbox
	for _, v := range views {
		src, f := pyr.at(v.scale)
		for _, t := range v.tiles {
			found, err := d.run(ctx, src, f, t.Rect, Threshold, &buf)
			if err != nil {
				return nil, err
			}
			for _, fb := range found {
				if !t.owns(fb) {
					continue
				}
				fb.seen = 1
				if v.second {
					fb.seen = 2
				}
				fb.best[fb.seen-1] = fb.score
				all = append(all, fb.scaled(v.scale, float64(b.Min.X), float64(b.Min.Y)))
			}
		}
	}
	return nms(all, nmsIoU, nmsCover), nil
}
