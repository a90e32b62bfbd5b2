package decode

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/jpeg"
	"math"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/disintegration/imaging"
	"github.com/photoguard/photoguard/redact/fixture"
	"github.com/photoguard/photoguard/redact/internal/pix"
	"github.com/photoguard/photoguard/redact/testenv"
)

// A decoder that passes its deadline is abandoned: Decode returns an
// InputError at once and the decoder finishes in the background.
func TestRunDecoderTimeout(t *testing.T) {
	release := make(chan struct{})
	start := time.Now()
	_, err := runDecoder(context.Background(), 50*time.Millisecond, JPEG, func() (*image.NRGBA, error) {
		<-release
		return image.NewNRGBA(image.Rect(0, 0, 1, 1)), nil
	})
	if !IsInputError(err) || !strings.Contains(err.Error(), "took longer than 50ms") {
		t.Fatalf("err %v", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("returned after %v", d)
	}
	if Abandoned() != 1 {
		t.Errorf("Abandoned() = %d, want 1", Abandoned())
	}
	close(release)
	for i := 0; Abandoned() != 0 && i < 100; i++ {
		time.Sleep(10 * time.Millisecond)
	}
	if Abandoned() != 0 {
		t.Errorf("Abandoned() = %d after the decoder finished", Abandoned())
	}
}

// The caller's context ending is not the input's fault.
func TestRunDecoderContext(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	release := make(chan struct{})
	defer close(release)
	_, err := runDecoder(ctx, time.Minute, HEIC, func() (*image.NRGBA, error) {
		<-release
		return nil, nil
	})
	if IsInputError(err) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err %v, want context.DeadlineExceeded and no InputError", err)
	}
}

func TestRunDecoderPanic(t *testing.T) {
	_, err := runDecoder(context.Background(), time.Minute, PNG, func() (*image.NRGBA, error) {
		var m map[string]int
		//lint:ignore SA5000 the decoder bug under test
		m["x"]++
		return nil, nil
	})
	if !IsInputError(err) || !strings.Contains(err.Error(), "the png decoder failed") {
		t.Fatalf("err %v", err)
	}
}

func TestFitSize(t *testing.T) {
	for _, tt := range []struct{ w, h, max, ww, wh int }{
		{4032, 3024, 2048, 2048, 1536},
		{3024, 4032, 2048, 1536, 2048},
		{1920, 1080, 1000, 1000, 563},
		{10000, 1, 100, 100, 1},
		{1, 10000, 100, 1, 100},
	} {
		if w, h := fitSize(tt.w, tt.h, tt.max); w != tt.ww || h != tt.wh {
			t.Errorf("fitSize(%d, %d, %d) = %d, %d, want %d, %d", tt.w, tt.h, tt.max, w, h, tt.ww, tt.wh)
		}
	}
}

// libjpeg's scale is the smallest n/8 whose long side is still >= maxSide.
func TestDCTScale(t *testing.T) {
	for _, tt := range []struct{ w, h, max, wantW int }{
		{160, 120, 80, 80},   // 4/8
		{160, 120, 70, 80},   // 4/8, then resized
		{160, 120, 100, 100}, // 5/8
		{160, 120, 20, 20},   // 1/8
		{160, 120, 10, 20},   // 1/8 is the smallest scale
		{160, 120, 159, 160}, // 8/8
		{120, 160, 80, 60},   // portrait: long side 80
	} {
		data := fixture.EncodeJPEG(fixture.Stored(fixture.Pattern(160, 120), map[bool]int{true: 6, false: 1}[tt.w < tt.h]), 90)
		h, err := probe(data)
		if err != nil {
			t.Fatal(err)
		}
		img, err := decodeJPEG(data[:h.jpeg.EOI+2], h, tt.max)
		if err != nil {
			t.Fatal(err)
		}
		if img.Rect.Dx() != tt.wantW {
			t.Errorf("%dx%d max %d: libjpeg output %v, want width %d", tt.w, tt.h, tt.max, img.Rect.Size(), tt.wantW)
		}
	}
}

// The P3-to-sRGB matrix matches the published one (e.g. in the CSS Color 4
// conversion code), to 4 decimals.
func TestP3Matrix(t *testing.T) {
	want := [3][3]float64{
		{1.2249, -0.2247, 0},
		{-0.0420, 1.0419, 0},
		{-0.0197, -0.0786, 1.0983},
	}
	got := p3Matrix()
	for i := range want {
		for j := range want[i] {
			if math.Abs(got[i][j]-want[i][j]) > 6e-4 {
				t.Errorf("m[%d][%d] = %.5f, want %.4f", i, j, got[i][j], want[i][j])
			}
		}
	}
}

func TestIsDisplayP3(t *testing.T) {
	if !isDisplayP3(fixture.DisplayP3Profile()) {
		t.Error("fixture Display P3 profile not recognised")
	}
	if isDisplayP3(fixture.SRGBProfile()) {
		t.Error("sRGB profile taken for Display P3")
	}
	p := fixture.DisplayP3Profile()
	for _, n := range []int{0, 100, 131, 140, len(p) - 1} {
		isDisplayP3(p[:n]) // must not panic
	}
}

func TestP3ToSRGB(t *testing.T) {
	img := image.NewNRGBA(image.Rect(0, 0, 4, 1))
	copy(img.Pix, []uint8{
		255, 255, 255, 255, // white stays white
		0, 0, 0, 255, // black stays black
		0, 255, 0, 255, // P3 green is outside sRGB: clipped
		128, 128, 128, 255, // greys stay grey
	})
	p3ToSRGB(img)
	want := []uint8{255, 255, 255, 255, 0, 0, 0, 255, 0, 255, 0, 255, 128, 128, 128, 255}
	for i := range want {
		if d := int(img.Pix[i]) - int(want[i]); d < -1 || d > 1 {
			t.Fatalf("pixels %v, want %v", img.Pix, want)
		}
	}
	// A P3 colour inside the sRGB gamut: (200, 100, 50) in P3 is
	// (214.9, 92.6, 30.9) in sRGB (computed separately with the published
	// matrix in double precision).
	img = image.NewNRGBA(image.Rect(0, 0, 1, 1))
	copy(img.Pix, []uint8{200, 100, 50, 255})
	p3ToSRGB(img)
	r, g, b := img.Pix[0], img.Pix[1], img.Pix[2]
	if r != 215 || g != 93 || b != 31 {
		t.Errorf("P3 (200,100,50) -> sRGB (%d,%d,%d), want (215,93,31)", r, g, b)
	}
}

// The fixed-point resizer gives what imaging.Linear gives, within rounding,
// on the test pattern and on a real photo, shrinking by various factors.
func TestResizeMatchesImaging(t *testing.T) {
	t.Run("pattern", func(t *testing.T) { compareResize(t, fixture.Pattern(403, 302)) })
	t.Run("photo", func(t *testing.T) {
		b, err := os.ReadFile(testenv.SharedFile(t, "photos/sample1.jpg"))
		if err != nil {
			t.Fatal(err)
		}
		img, err := jpeg.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		compareResize(t, pix.Flatten(img))
	})
}

func compareResize(t *testing.T, src *image.NRGBA) {
	for _, f := range []float64{1, 0.81, 0.5, 0.33, 0.1} {
		w := max(1, int(float64(src.Rect.Dx())*f))
		h := max(1, int(float64(src.Rect.Dy())*f))
		got := resize(src, w, h)
		want := imaging.Resize(src, w, h, imaging.Linear)
		if got.Rect != want.Rect {
			t.Fatalf("x%.2f: bounds %v, want %v", f, got.Rect, want.Rect)
		}
		var sum, worst int
		for i := range got.Pix {
			d := abs(int(got.Pix[i]) - int(want.Pix[i]))
			sum += d
			worst = max(worst, d)
		}
		meanDiff := float64(sum) / float64(len(got.Pix))
		t.Logf("x%.2f: mean difference %.3f, worst %d", f, meanDiff, worst)
		if meanDiff > 0.5 || worst > 2 {
			t.Errorf("x%.2f: mean difference %.3f, worst %d (want <= 0.5 and <= 2)", f, meanDiff, worst)
		}
	}
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

func TestResizeFlat(t *testing.T) {
	src := image.NewNRGBA(image.Rect(0, 0, 97, 53))
	for i := 0; i < len(src.Pix); i += 4 {
		copy(src.Pix[i:], []uint8{13, 200, 255, 255})
	}
	for _, sz := range [][2]int{{50, 27}, {1, 1}, {96, 53}, {97, 1}, {3, 53}} {
		out := resize(src, sz[0], sz[1])
		for i := 0; i < len(out.Pix); i += 4 {
			if [4]uint8(out.Pix[i:i+4]) != [4]uint8{13, 200, 255, 255} {
				t.Fatalf("%v: pixel %v", sz, out.Pix[i:i+4])
			}
		}
	}
}

// BenchmarkResize compares the fixed-point resizer with imaging's filters
// on the step Decode takes for a 4032x3024 JPEG: libjpeg's 5/8 DCT scale
// (2520x1890) down to 2048x1536.
func BenchmarkResize(b *testing.B) {
	src := fixture.Pattern(2520, 1890)
	b.Run("fixed-point-linear", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			resize(src, 2048, 1536)
		}
	})
	for _, f := range []struct {
		name string
		f    imaging.ResampleFilter
	}{{"Box", imaging.Box}, {"Linear", imaging.Linear}, {"CatmullRom", imaging.CatmullRom}, {"Lanczos", imaging.Lanczos}} {
		b.Run("imaging-"+f.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				imaging.Resize(src, 2048, 1536, f.f)
			}
		})
	}
}
