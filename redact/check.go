package redact

import (
	"fmt"
	"image"
	"math"
)

// The check of a redacted face looks at the central part of the face box
// (checkInner of its width and height: inside the ellipse of any mask scale
// of 1 or more), sampled on a grid of at most checkGrid x checkGrid cells.
// What a face keeps is its detail finer than the redaction's cells: the
// difference between the region and a reconstruction from Cells x Cells
// averages of it. A redacted face keeps at most checkRatio of what the same
// face had before, or at most checkFloor grey levels after the contrast
// stretch a viewer could apply (ImageMagick's -normalize: the 2nd to the
// 99th luminance percentile of the whole photo to black and white).
const (
	checkInner = 0.7
	checkGrid  = 24
	checkRatio = 0.4
	checkFloor = 4.0
)

// CheckRedacted verifies, from the pixels alone, that each face of before
// (boxes in its coordinates) lost its detail in after, the same picture
// after redaction (decoded from the encoded output): the detail finer than
// the redaction's cells is gone, also under a contrast stretch of the whole
// photo. cells is RedactOptions.Cells (0: the default). It returns an error
// naming the first face that kept its detail.
func CheckRedacted(before, after *image.NRGBA, faces []image.Rectangle, cells int) error {
	if before.Rect.Size() != after.Rect.Size() {
		return fmt.Errorf("redact: check: output is %v, the photo %v", after.Rect.Size(), before.Rect.Size())
	}
	if cells <= 0 {
		cells = defaultCells
	}
	gain := stretchGain(after)
	for i, f := range faces {
		cx, cy := float64(f.Min.X+f.Max.X)/2, float64(f.Min.Y+f.Max.Y)/2
		hw, hh := float64(f.Dx())*checkInner/2, float64(f.Dy())*checkInner/2
		in := image.Rect(int(math.Ceil(cx-hw)), int(math.Ceil(cy-hh)), int(math.Floor(cx+hw)), int(math.Floor(cy+hh)))
		in = in.Intersect(before.Rect.Sub(before.Rect.Min))
		if in.Dx() < 4 || in.Dy() < 4 {
			continue // a sliver at the edge: nothing recognisable fits
		}
		n := min(checkGrid, in.Dx(), in.Dy())
		b := fineDetail(lumaGrid(before, in, n), n, cells)
		a := fineDetail(lumaGrid(after, in, n), n, cells)
		if a <= checkRatio*b || a*gain <= checkFloor {
			continue
		}
		return fmt.Errorf("redact: face %d of %d at %v kept %.1f grey levels of detail (%.0f %% of the original's, %.1f after a contrast stretch)",
			i+1, len(faces), f, a, 100*a/max(b, 1e-9), a*gain)
	}
	return nil
}

// defaultCells is RedactOptions.Cells when zero.
const defaultCells = 6

// stretchGain is the factor by which -normalize would stretch img's
// luminance (the 2nd to the 99th percentile to 0..255), at most 32.
func stretchGain(img *image.NRGBA) float64 {
	var hist [256]int
	b := img.Rect
	step := max(1, int(math.Sqrt(float64(b.Dx())*float64(b.Dy())/250000)))
	n := 0
	for y := b.Min.Y; y < b.Max.Y; y += step {
		for x := b.Min.X; x < b.Max.X; x += step {
			hist[luma(img.Pix[img.PixOffset(x, y):])]++
			n++
		}
	}
	pct := func(p float64) int {
		acc, target := 0, int(p*float64(n))
		for v, c := range hist {
			if acc += c; acc > target {
				return v
			}
		}
		return 255
	}
	span := max(pct(0.99)-pct(0.02), 8)
	return min(255/float64(span), 32)
}

func luma(p []uint8) int { return (299*int(p[0]) + 587*int(p[1]) + 114*int(p[2]) + 500) / 1000 }

// lumaGrid averages the luminance of r (in img's coordinates relative to its
// Min) over an n x n grid of cells.
func lumaGrid(img *image.NRGBA, r image.Rectangle, n int) []float64 {
	g := make([]float64, n*n)
	cnt := make([]float64, n*n)
	for y := r.Min.Y; y < r.Max.Y; y++ {
		gy := (y - r.Min.Y) * n / r.Dy()
		row := img.Pix[img.PixOffset(img.Rect.Min.X, img.Rect.Min.Y+y):]
		for x := r.Min.X; x < r.Max.X; x++ {
			gx := (x - r.Min.X) * n / r.Dx()
			g[gy*n+gx] += float64(luma(row[4*x:]))
			cnt[gy*n+gx]++
		}
	}
	for i := range g {
		g[i] /= max(cnt[i], 1)
	}
	return g
}

// fineDetail is the mean absolute difference between the n x n grid g and
// its best reconstruction from a cells x cells grid of averages (blocks or
// bilinear, whichever is closer): the detail finer than the redaction keeps.
func fineDetail(g []float64, n, cells int) float64 {
	c := min(cells, n)
	coarse := make([]float64, c*c)
	cnt := make([]float64, c*c)
	for y := 0; y < n; y++ {
		for x := 0; x < n; x++ {
			k := (y*c/n)*c + x*c/n
			coarse[k] += g[y*n+x]
			cnt[k]++
		}
	}
	for i := range coarse {
		coarse[i] /= max(cnt[i], 1)
	}
	var block, smooth float64
	at := func(x, y int) float64 { return coarse[min(max(y, 0), c-1)*c+min(max(x, 0), c-1)] }
	for y := 0; y < n; y++ {
		fy := (float64(y)+0.5)*float64(c)/float64(n) - 0.5
		y0 := int(math.Floor(fy))
		ty := fy - float64(y0)
		for x := 0; x < n; x++ {
			v := g[y*n+x]
			block += math.Abs(v - coarse[(y*c/n)*c+x*c/n])
			fx := (float64(x)+0.5)*float64(c)/float64(n) - 0.5
			x0 := int(math.Floor(fx))
			tx := fx - float64(x0)
			s := (at(x0, y0)*(1-tx)+at(x0+1, y0)*tx)*(1-ty) + (at(x0, y0+1)*(1-tx)+at(x0+1, y0+1)*tx)*ty
			smooth += math.Abs(v - s)
		}
	}
	return min(block, smooth) / float64(n*n)
}
