// Command benchphotos makes tablet-sized test photos for scripts/bench.sh:
// each source photo is scaled to the given size (an iPad photo is
// 4032x3024) and written as several copies whose content differs in a
// corner block, so that the journal does not take them for duplicates. The copies
// carry no metadata; what is measured is the work on pixels and faces.
package main

import (
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"os"
	"path/filepath"

	"github.com/disintegration/imaging"
)

func main() {
	src := flag.String("src", "../shared/testdata/photos", "folder of source JPEGs")
	out := flag.String("out", "", "folder to write into")
	w := flag.Int("w", 4032, "width")
	h := flag.Int("h", 3024, "height")
	copies := flag.Int("copies", 1, "copies of each photo")
	flag.Parse()
	if *out == "" {
		fmt.Fprintln(os.Stderr, "benchphotos: -out is required")
		os.Exit(2)
	}
	files, err := filepath.Glob(filepath.Join(*src, "*.jpg"))
	if err != nil || len(files) == 0 {
		fmt.Fprintf(os.Stderr, "benchphotos: no JPEGs in %s\n", *src)
		os.Exit(1)
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		fail(err)
	}
	n := 0
	for _, f := range files {
		img, err := imaging.Open(f)
		if err != nil {
			fail(err)
		}
		big := imaging.Fill(img, *w, *h, imaging.Center, imaging.Lanczos)
		for c := 0; c < *copies; c++ {
			im := image.NewNRGBA(big.Bounds())
			copy(im.Pix, big.Pix)
			// A 32x32 block in the corner coloured by the copy number: it
			// survives JPEG quantisation, so each copy has its own hash.
			for y := 0; y < 32; y++ {
				for x := 0; x < 32; x++ {
					im.SetNRGBA(x, y, color.NRGBA{uint8(c * 37), uint8(c * 91), uint8(c>>8) * 53, 255})
				}
			}
			name := filepath.Join(*out, fmt.Sprintf("%s-%03d.jpg", trimExt(filepath.Base(f)), c))
			o, err := os.Create(name)
			if err != nil {
				fail(err)
			}
			if err := jpeg.Encode(o, im, &jpeg.Options{Quality: 92}); err != nil {
				fail(err)
			}
			if err := o.Close(); err != nil {
				fail(err)
			}
			n++
		}
	}
	fmt.Printf("benchphotos: %d photos of %dx%d in %s\n", n, *w, *h, *out)
}

func trimExt(s string) string { return s[:len(s)-len(filepath.Ext(s))] }

func fail(err error) {
	fmt.Fprintln(os.Stderr, "benchphotos:", err)
	os.Exit(1)
}
