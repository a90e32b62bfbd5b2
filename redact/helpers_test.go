package redact_test

import (
	"context"
	"fmt"
	"image"
	"image/color"

	"github.com/photoguard/photoguard/redact"
	"github.com/photoguard/photoguard/redact/fixture"
)

// sanitize is the pipeline's path through this package: decode (long side
// at most maxSide) and encode.
func sanitize(data []byte, lim redact.Limits, maxSide int) ([]byte, *image.NRGBA, redact.Source, error) {
	img, src, err := redact.Decode(context.Background(), data, lim, maxSide)
	if err != nil {
		return nil, nil, src, err
	}
	out, err := redact.EncodeJPEG(img, 85)
	return out, img, src, err
}

// mean returns the mean colour of img over r.
func mean(img image.Image, r image.Rectangle) color.NRGBA {
	var s [3]int
	n := 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			c := color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA)
			s[0] += int(c.R)
			s[1] += int(c.G)
			s[2] += int(c.B)
			n++
		}
	}
	if n == 0 {
		return color.NRGBA{}
	}
	return color.NRGBA{uint8(s[0] / n), uint8(s[1] / n), uint8(s[2] / n), 255}
}

func near(a, b color.NRGBA, tol int) bool {
	d := func(x, y uint8) int {
		if x > y {
			return int(x - y)
		}
		return int(y - x)
	}
	return d(a.R, b.R) <= tol && d(a.G, b.G) <= tol && d(a.B, b.B) <= tol
}

func gray(c color.NRGBA) color.NRGBA {
	y := uint8((299*int(c.R) + 587*int(c.G) + 114*int(c.B) + 500) / 1000)
	return color.NRGBA{y, y, y, 255}
}

// checkUpright checks that img shows the fixture pattern upright: the
// right colour in each corner marker (sampled in the marker's middle half),
// with tolerance tol per channel.
func checkUpright(img image.Image, grayscale bool, tol int) error {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	if abs(w*fixture.Height-h*fixture.Width) > max(fixture.Width, fixture.Height)/2 {
		return fmt.Errorf("size %dx%d does not have the pattern's aspect ratio %dx%d", w, h, fixture.Width, fixture.Height)
	}
	m := fixture.Marker(w, h)
	q := max(1, m/4)
	corners := []struct {
		name string
		r    image.Rectangle
		want color.NRGBA
	}{
		{"top-left", image.Rect(q, q, m-q, m-q), fixture.TopLeft},
		{"top-right", image.Rect(w-m+q, q, w-q, m-q), fixture.TopRight},
		{"bottom-left", image.Rect(q, h-m+q, m-q, h-q), fixture.BottomLeft},
		{"bottom-right", image.Rect(w-m+q, h-m+q, w-q, h-q), fixture.BottomRight},
	}
	for _, c := range corners {
		want := c.want
		if grayscale {
			want = gray(want)
		}
		if got := mean(img, c.r.Add(b.Min)); !near(got, want, tol) {
			return fmt.Errorf("%s corner is %v, want %v (±%d)", c.name, got, want, tol)
		}
	}
	return nil
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
