package blazeface

import (
	"context"
	"image"
	"time"

	"github.com/photoguard/photoguard/detect/analyze"
)

// What the finder promises, from measurements. On faces pasted at controlled
// widths into one tile (MEASUREMENTS.md, "Floor") the back model finds
// 93-96 % of faces from 12 model px up; but on the WIDER crowds, whose small
// faces are blurred, turned and covered, recall at a given width keeps rising
// with the scale the model sees them at, and with a lower threshold. Run
// end to end over the 18 crowd photos (coverage 20 px, judged from the output
// pixels by crowds/recall.py; scratch runs of detect/analyze with these
// finder settings, 1 onnxruntime thread):
//
//	floor 40 (2x), threshold 0.30: 90.1 % of the 203 faces of 20 px or more
//	floor 60 (3x), threshold 0.30: 93.6 %
//	floor 60 (3x), threshold 0.25: 95.6 %   <- the default
//	floor 80 (4x), threshold 0.30: 97.0 %, 60 % more CPU
//
// So a face of the coverage floor is shown to the model FinderFloor px wide:
// five times the clean-face floor.
const (
	FinderThreshold = 0.25
	FinderFloor     = 60
	// FinderMaxScale bounds the enlargement: a face is never shown to the
	// model more than 3x its size in the original (enlarging adds no
	// detail; a photo that would need more is published smaller).
	FinderMaxScale = 3
	// finderCostPerMP is the measured CPU per megapixel the model sees,
	// pyramid and overlap included (crowds: 9.5-10.8 ms per 256 px tile).
	finderCostPerMP = 350 * time.Millisecond
)

// Finder is a Detector as the analysis's Finder.
type Finder struct{ d *Detector }

// NewFinder wraps d, which should run at FinderThreshold.
func NewFinder(d *Detector) *Finder { return &Finder{d} }

// Name is "blazeface".
func (f *Finder) Name() string { return "blazeface" }

// Reach is the finder's floor and limits.
func (f *Finder) Reach() analyze.Reach {
	return analyze.Reach{Floor: FinderFloor, MaxScale: FinderMaxScale, CostPerMP: finderCostPerMP}
}

// Find returns the faces of img at least minFace pixels wide: the model sees
// img at the scale where such a face is FinderFloor px wide.
func (f *Finder) Find(ctx context.Context, img *image.NRGBA, minFace float64) ([]analyze.Box, error) {
	scale := min(FinderFloor/minFace, FinderMaxScale)
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
