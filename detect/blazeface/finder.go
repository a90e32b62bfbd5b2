package blazeface

import (
	"context"
	"image"
	"time"

	"github.com/photoguard/photoguard/detect/analyze"
)

// What the finder promises, from measurements. On faces pasted at controlled
// widths into one tile (MEASUREMENTS.md, "Floor") the back model finds
// 93-96 % of faces from 12 model px up. Real small faces are harder: on the
// WIDER crowds, whose photos are published at their own size, recall of the
// faces of 20 px and more rises with the enlargement (end to end over the 18
// photos, coverage 20 px, judged from the output pixels by
// crowds/recall.py; scratch runs of detect/analyze, 1 onnxruntime thread):
//
//	20 px faces shown at 40 model px (2x), threshold 0.30: 90.1 %
//	20 px faces shown at 60 model px (3x), threshold 0.30: 93.6 %
//	20 px faces shown at 60 model px (3x), threshold 0.25: 95.6 %
//
// A face with more pixels in the original does not need that: published at
// 512 px, the same photos' faces of 20 px there have 40 px in the original,
// and showing them at 40 model px (1x, 5.5 s of CPU for the 18) found as many
// as at 60 (1.5x, 12.6 s): 79 of 81. So the model is shown a face that has m
// pixels in the original at modelPx(m) pixels: 60 for m up to 20, 40 from 40
// up, and in between on the line joining them (not measured there).
const (
	FinderThreshold = 0.25
	// smallFacePx faces are shown at smallModelPx; largeFacePx faces and
	// larger at largeModelPx.
	smallFacePx, smallModelPx = 20, 60
	largeFacePx, largeModelPx = 40, 40
	// FinderMaxScale bounds the enlargement: a face is never shown to the
	// model more than 3x its size in the original (enlarging adds no
	// detail; a photo that would need more is published smaller).
	FinderMaxScale = 3
	// finderCostPerMP is the measured CPU per megapixel the model sees,
	// pyramid and overlap included (crowds: 9.5-10.8 ms per 256 px tile).
	finderCostPerMP = 350 * time.Millisecond
)

// modelPx is the width, in model pixels, at which a face m pixels wide in
// the image given to Find is shown to the model.
func modelPx(m float64) float64 {
	switch {
	case m <= smallFacePx:
		return smallModelPx
	case m >= largeFacePx:
		return largeModelPx
	}
	t := (m - smallFacePx) / (largeFacePx - smallFacePx)
	return smallModelPx + t*(largeModelPx-smallModelPx)
}

// Finder is a Detector as the analysis's Finder.
type Finder struct{ d *Detector }

// NewFinder wraps d, which should run at FinderThreshold.
func NewFinder(d *Detector) *Finder { return &Finder{d} }

// Name is "blazeface".
func (f *Finder) Name() string { return "blazeface" }

// Reach is the finder's floor and limits.
func (f *Finder) Reach() analyze.Reach {
	// The smallest face reachable is smallFacePx (smallModelPx at the
	// largest enlargement); the cost estimate is an upper bound.
	return analyze.Reach{Floor: smallModelPx, MaxScale: FinderMaxScale, CostPerMP: finderCostPerMP}
}

// Find returns the faces of img at least minFace pixels wide: the model sees
// img at the scale where such a face is modelPx(minFace) px wide.
func (f *Finder) Find(ctx context.Context, img *image.NRGBA, minFace float64) ([]analyze.Box, error) {
	scale := min(modelPx(minFace)/minFace, FinderMaxScale)
	boxes, err := f.d.Detect(ctx, img, scale)
	if err != nil {
		return nil, err
	}
	out := make([]analyze.Box, len(boxes))
	for i, b := range boxes {
		out[i] = analyze.Box{Rect: b.Rect.Intersect(img.Rect), Score: b.Score}
	}
	return out, nil
}

var _ analyze.Finder = (*Finder)(nil)
