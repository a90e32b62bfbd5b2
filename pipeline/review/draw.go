package review

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"

	"github.com/photoguard/photoguard/detect"
	"github.com/photoguard/photoguard/redact/decode"
)

// Colour is what a face's box says at a glance; the page says it in words
// per target.
type Colour int

// Box colours.
const (
	Redacted Colour = iota // red: no target shows it
	Shown                  // green: every target shows it
	Mixed                  // orange: some targets show it
	// Unclear: found but not described (always redacted, nothing to
	// correct): a thin dim box without a number, so that the faces that
	// can be told apart stand out.
	Unclear
)

var palette = map[Colour]color.NRGBA{
	Redacted: {230, 30, 30, 255},
	Shown:    {0, 200, 60, 255},
	Mixed:    {255, 160, 0, 255},
	Unclear:  {230, 30, 30, 110},
}

// Annotate returns img fitted into maxSide with every face boxed in its
// colour and numbered 1..N (the order of faces). A face with an empty box
// is not drawn (a video's track not on this frame), and keeps its number.
func Annotate(img *image.NRGBA, faces []detect.Face, colours []Colour, maxSide int) *image.NRGBA {
	small := decode.Fit(img, maxSide)
	out := image.NewNRGBA(small.Rect.Sub(small.Rect.Min))
	draw.Draw(out, out.Rect, small, small.Rect.Min, draw.Src)
	sx := float64(out.Rect.Dx()) / float64(img.Rect.Dx())
	sy := float64(out.Rect.Dy()) / float64(img.Rect.Dy())
	for i, f := range faces {
		if f.Rect.Empty() {
			continue
		}
		r := f.Rect.Sub(img.Rect.Min)
		box := image.Rect(int(float64(r.Min.X)*sx), int(float64(r.Min.Y)*sy),
			int(float64(r.Max.X)*sx+0.999), int(float64(r.Max.Y)*sy+0.999))
		c := Redacted
		if i < len(colours) {
			c = colours[i]
		}
		if c == Unclear {
			outline(out, box, palette[c], 1)
			continue
		}
		outline(out, box.Inset(-1), palette[c], 2)
		label(out, box.Min.X, box.Min.Y-3, fmt.Sprint(i+1), palette[c])
	}
	return out
}

// outline draws r's border, w pixels wide, inside r.
func outline(img *image.NRGBA, r image.Rectangle, c color.NRGBA, w int) {
	u := image.NewUniform(c)
	edges := []image.Rectangle{
		{r.Min, image.Pt(r.Max.X, r.Min.Y+w)}, {image.Pt(r.Min.X, r.Max.Y-w), r.Max},
		{r.Min, image.Pt(r.Min.X+w, r.Max.Y)}, {image.Pt(r.Max.X-w, r.Min.Y), r.Max},
	}
	for _, e := range edges {
		draw.Draw(img, e.Intersect(img.Rect), u, image.Point{}, draw.Over)
	}
}

// label writes s on a dark backing so that it reads on any photo.
func label(img *image.NRGBA, x, y int, s string, c color.NRGBA) {
	if y < 13 {
		y = 13
	}
	x = max(1, min(x, img.Rect.Dx()-7*len(s)-1))
	bg := image.Rect(x-1, y-12, x+7*len(s)+1, y+3)
	draw.Draw(img, bg.Intersect(img.Rect), image.NewUniform(color.NRGBA{0, 0, 0, 210}), image.Point{}, draw.Over)
	d := &font.Drawer{Dst: img, Src: image.NewUniform(c), Face: basicfont.Face7x13, Dot: fixed.P(x, y)}
	d.DrawString(s)
}
