package dlib

import (
	"context"
	"fmt"
	"image"
	"math"
	"time"

	face "github.com/Kagami/go-face"

	"github.com/photoguard/photoguard/detect"
	"github.com/photoguard/photoguard/detect/analyze"
)

// What the HOG detector can see, from MEASUREMENTS.md §2 (TestMeasureClassPhoto:
// a 4032x3024 class photo, 12 faces per width): faces from 60 px wide in the
// copy it sees are found (60 px: 11-12 of 12; 50 px: 2-5 of 12), at about
// 0.12 s of one core per megapixel seen, 23 MB per megapixel (639 MB at
// 6144x4608).
const (
	hogFloor     = 60
	hogCostPerMP = 120 * time.Millisecond
	hogBytesPerP = 23
	// describeFacePx is the width a face is given in the crop that
	// Describe hands dlib: well above both detectors' floors (HOG 60, CNN
	// 75) and near the 150 px chip the descriptor network takes.
	describeFacePx = 150
)

// Reach is what the HOG pass of Faces can see: its floor, and the
// configured Upsample as the largest enlargement.
func (d *Recognizer) Reach() analyze.Reach {
	return analyze.Reach{Floor: hogFloor, MaxScale: float64(d.cfg.Upsample), CostPerMP: hogCostPerMP}
}

// Faces runs HOG over img seen at the scale where a face minFace pixels wide
// is at HOG's floor (never enlarged more than Config.Upsample), and returns
// the faces with their descriptors in img's coordinates. When that copy
// would need more than Config.MemoryBytes, HOG sees it in overlapping tiles,
// and once more whole at a scale that fits, for the faces larger than the
// overlap.
func (d *Recognizer) Faces(ctx context.Context, img *image.NRGBA, minFace float64) ([]detect.Face, error) {
	b := img.Bounds()
	if b.Empty() {
		return nil, nil
	}
	rec, release, err := d.borrow(ctx)
	if err != nil {
		return nil, err
	}
	defer release()

	s := min(hogFloor/minFace, float64(d.cfg.Upsample))
	budget := float64(d.cfg.MemoryBytes)
	seen := float64(b.Dx()) * float64(b.Dy()) * s * s
	var faces []detect.Face
	if budget <= 0 || seen*hogBytesPerP <= budget {
		return d.hogRegion(ctx, rec, img, b, s, nil)
	}
	// Tiles: squares of the scaled copy that fit the budget, overlapping by
	// a quarter of their side, so a face up to that size lies wholly in one.
	side := int(math.Sqrt(budget / hogBytesPerP))
	overlap := side / 4
	step := float64(side-overlap) / s // in img's pixels
	tile := int(math.Ceil(float64(side) / s))
	for y0 := b.Min.Y; ; y0 += int(step) {
		for x0 := b.Min.X; ; x0 += int(step) {
			r := image.Rect(x0, y0, x0+tile, y0+tile).Intersect(b)
			if faces, err = d.hogRegion(ctx, rec, img, r, s, faces); err != nil {
				return nil, err
			}
			if r.Max.X >= b.Max.X {
				break
			}
		}
		if y0+tile >= b.Max.Y {
			break
		}
	}
	// The whole image at the scale that fits, for faces larger than the
	// overlap (those are far above the floor there).
	whole := math.Sqrt(budget / hogBytesPerP / (float64(b.Dx()) * float64(b.Dy())))
	return d.hogRegion(ctx, rec, img, b, min(whole, s), faces)
}

// hogRegion runs HOG on region r of img at scale s and merges the faces
// into faces.
func (d *Recognizer) hogRegion(ctx context.Context, rec *face.Recognizer, img *image.NRGBA, r image.Rectangle, s float64, faces []detect.Face) ([]detect.Face, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	enc, err := encodeScaled(cropNRGBA(img, r), s)
	if err != nil {
		return nil, err
	}
	found, err := rec.Recognize(enc.jpeg)
	if err != nil {
		return nil, fmt.Errorf("dlib: hog pass: %w", err)
	}
	var these []detect.Face
	for _, f := range found {
		fr := enc.toSource(f.Rectangle)
		if fr.Empty() {
			continue
		}
		face := detect.Face{Rect: fr.Add(r.Min), Descriptor: detect.Descriptor(f.Descriptor), Detector: HOG}
		if seen := f.Rectangle.Dx(); seen < sharpFacePx {
			// Found small: describe it again from a crop where it is
			// describeFacePx wide, as enrolled faces are.
			if again, err := d.describeOne(rec, img, face.Rect); err != nil {
				return nil, err
			} else if !again.NoDescriptor {
				face.Descriptor = again.Descriptor
			}
		}
		these = append(these, face)
	}
	return mergePasses(faces, these), nil
}

// sharpFacePx: a face HOG found narrower than this in the copy it saw is
// described again from a crop where it is describeFacePx wide. The 128-D
// descriptor of a face drifts as it gets smaller (MEASUREMENTS.md §3: 0.13
// median at 64 px, 0.09 at 80, 0.06 at 100 from its full-size descriptor);
// matching rules and enrollment assume faces described large.
const sharpFacePx = 110

// Describe aligns and describes the face in each box: it crops the box with
// its surroundings from img, scales the crop so the face is about 150 px
// wide, and runs HOG on it (about 20 ms). The face whose box overlaps the
// given box most is taken; a box where HOG finds no face (turned, covered, or
// no face at all) comes back with NoDescriptor, and is redacted. The CNN
// detector would align some turned faces, at 0.3-0.5 s per box (measured on
// the 12 MP bench photos, where it made describing cost more than finding):
// a turned face stays redacted instead.
func (d *Recognizer) Describe(ctx context.Context, img *image.NRGBA, boxes []image.Rectangle) ([]detect.Face, error) {
	out := make([]detect.Face, len(boxes))
	if len(boxes) == 0 {
		return out, nil
	}
	rec, release, err := d.borrow(ctx)
	if err != nil {
		return nil, err
	}
	defer release()
	for i, box := range boxes {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if out[i], err = d.describeOne(rec, img, box); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// describeOne is Describe for one box, on a recogniser the caller holds.
func (d *Recognizer) describeOne(rec *face.Recognizer, img *image.NRGBA, box image.Rectangle) (detect.Face, error) {
	none := detect.Face{Rect: box, NoDescriptor: true}
	w := max(box.Dx(), box.Dy())
	if w <= 0 {
		return none, nil
	}
	pad := w * 3 / 4
	r := image.Rect(box.Min.X-pad, box.Min.Y-pad, box.Max.X+pad, box.Max.Y+pad).Intersect(img.Bounds())
	enc, err := encodeScaled(cropNRGBA(img, r), describeFacePx/float64(w))
	if err != nil {
		return none, err
	}
	found, err := rec.Recognize(enc.jpeg)
	if err != nil {
		return none, fmt.Errorf("dlib: describing a face: %w", err)
	}
	best, bestIoU := -1, 0.25
	for k, f := range found {
		if v := IoU(enc.toSource(f.Rectangle).Add(r.Min), box); v > bestIoU {
			best, bestIoU = k, v
		}
	}
	if best < 0 {
		return none, nil
	}
	f := found[best]
	return detect.Face{Rect: enc.toSource(f.Rectangle).Add(r.Min), Descriptor: detect.Descriptor(f.Descriptor), Detector: HOG}, nil
}

// cropNRGBA returns region r of img as an image of its own whose bounds start at
// (0, 0) (the encoder and the enlarger read Pix from the origin).
func cropNRGBA(img *image.NRGBA, r image.Rectangle) *image.NRGBA {
	if r.Eq(img.Bounds()) && r.Min == (image.Point{}) {
		return img
	}
	out := image.NewNRGBA(image.Rect(0, 0, r.Dx(), r.Dy()))
	for y := 0; y < r.Dy(); y++ {
		si := img.PixOffset(r.Min.X, r.Min.Y+y)
		copy(out.Pix[y*out.Stride:y*out.Stride+4*r.Dx()], img.Pix[si:si+4*r.Dx()])
	}
	return out
}
