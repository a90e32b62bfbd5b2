package decode

import (
	"context"
	"image"
	"strings"
	"testing"

	"github.com/photoguard/photoguard/redact/fixture"
	"github.com/photoguard/photoguard/redact/inspect"
	"github.com/photoguard/photoguard/redact/testenv"
)

// A HEIC whose pixels are stored sideways with only an EXIF orientation (no
// irot, no imir) is decoded upright: libheif alone gives the stored pixels,
// and Decode applies the EXIF orientation. A HEIC with a HEIF transform is
// upright by the transform alone, whatever its EXIF orientation says (no
// double rotation). Each is compared with the upright JPEG of the same
// scene, at full size and scaled down.
func TestHEICOrientation(t *testing.T) {
	testenv.RequireTool(t, "heif-enc")
	cs, err := fixture.HEIC(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	uprightJPEG := fixture.EncodeJPEG(fixture.Pattern(fixture.Width, fixture.Height), 95)
	const tol = 16 // HEVC at q90 plus two YCbCr conversions, as in the sanitize test
	n := 0
	for _, c := range cs {
		if c.Expect == fixture.Refused || c.Orientation == 1 {
			continue
		}
		n++
		t.Run(c.Name, func(t *testing.T) {
			hf, err := inspect.ParseHEIF(c.Data)
			if err != nil {
				t.Fatal(err)
			}
			exifOnly := strings.HasPrefix(c.Name, "exif-orientation-")
			exif := inspect.ExifOrientation(hf.PrimaryExif())
			if hf.HasTransform() == exifOnly || exif == 0 || exifOnly && exif != c.Orientation {
				t.Fatalf("fixture broken: HEIF transform %v, EXIF orientation %d", hf.HasTransform(), exif)
			}
			raw, err := decodeHEIC(c.Data, DefaultLimits().withDefaults())
			if err != nil {
				t.Fatal(err)
			}
			if rawUpright := fixture.CheckUpright(raw, false, tol) == nil; rawUpright == exifOnly {
				t.Fatalf("libheif's own output is upright: %v (want %v)", rawUpright, !exifOnly)
			}
			for _, maxSide := range []int{0, 80} {
				img, src, err := Decode(context.Background(), c.Data, DefaultLimits(), maxSide)
				if err != nil {
					t.Fatal(err)
				}
				if src.Orientation != c.Orientation {
					t.Errorf("max %d: orientation %d, want %d", maxSide, src.Orientation, c.Orientation)
				}
				want, _, err := Decode(context.Background(), uprightJPEG, DefaultLimits(), maxSide)
				if err != nil {
					t.Fatal(err)
				}
				if img.Rect != want.Rect {
					t.Fatalf("max %d: bounds %v, want %v as the upright JPEG", maxSide, img.Rect, want.Rect)
				}
				if err := fixture.CheckUpright(img, false, tol); err != nil {
					t.Errorf("max %d: %v", maxSide, err)
				}
				d := meanAbsDiff(img, want)
				t.Logf("max %d: mean difference from the upright JPEG %.2f", maxSide, d)
				if d > 4 {
					t.Errorf("max %d: mean difference from the upright JPEG %.2f, want <= 4", maxSide, d)
				}
			}
		})
	}
	if n < 5 {
		t.Errorf("%d oriented HEIC fixtures, want 5", n)
	}
}

// meanAbsDiff is the mean absolute difference per RGB channel of two
// images of the same bounds.
func meanAbsDiff(a, b *image.NRGBA) float64 {
	var sum int
	for i := range a.Pix {
		if i%4 != 3 {
			sum += abs(int(a.Pix[i]) - int(b.Pix[i]))
		}
	}
	return float64(sum) / float64(len(a.Pix)/4*3)
}
