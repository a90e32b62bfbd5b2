package decode_test

import (
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/photoguard/photoguard/redact/decode"
	"github.com/photoguard/photoguard/redact/fixture"
	"github.com/photoguard/photoguard/redact/inspect"
)

// All eight EXIF orientations, through the DCT-scaling and resizing paths:
// the result is the upright pattern. The fixture stores the pixels with a
// mapping written from the EXIF text, independently of the code under test.
func TestOrientations(t *testing.T) {
	for _, c := range fixture.Orientations() {
		for _, maxSide := range []int{0, 80, 70} {
			t.Run(fmt.Sprintf("%s/max%d", c.Name, maxSide), func(t *testing.T) {
				img, src, err := decode.Decode(context.Background(), c.Data, decode.DefaultLimits(), maxSide)
				if err != nil {
					t.Fatal(err)
				}
				if src.Orientation != c.Orientation {
					t.Errorf("orientation %d, want %d", src.Orientation, c.Orientation)
				}
				wantW, wantH := fixture.Width, fixture.Height
				if maxSide > 0 {
					wantW, wantH = maxSide, (fixture.Height*maxSide+fixture.Width/2)/fixture.Width
				}
				if img.Rect != image.Rect(0, 0, wantW, wantH) {
					t.Errorf("bounds %v, want %dx%d", img.Rect, wantW, wantH)
				}
				// Stored size is as stored, before orientation.
				if sw, sh := src.Width, src.Height; c.Orientation >= 5 && (sw != fixture.Height || sh != fixture.Width) ||
					c.Orientation < 5 && (sw != fixture.Width || sh != fixture.Height) {
					t.Errorf("stored size %dx%d", sw, sh)
				}
				if err := fixture.CheckUpright(img, false, 12); err != nil {
					t.Error(err)
				}
			})
		}
	}
}

// The orientation table test would pass if orientation were ignored and the
// fixture stored the pattern upright; make sure the fixture does not.
func TestOrientationFixturesAreStoredRotated(t *testing.T) {
	for _, c := range fixture.Orientations() {
		if c.Orientation == 1 {
			continue
		}
		// Decode the stored pixels without applying orientation: strip the
		// EXIF orientation by replacing the file's EXIF with one without it.
		j, _ := inspect.ParseJPEG(c.Data)
		var stripped []byte
		stripped = append(stripped, c.Data[:2]...)
		for _, s := range j.Segments[1:] {
			if s.Marker == inspect.APP1 && s.AppID() == "Exif" {
				continue
			}
			stripped = append(stripped, c.Data[s.Offset:s.End()]...)
		}
		img, src, err := decode.Decode(context.Background(), stripped, decode.DefaultLimits(), 0)
		if err != nil {
			t.Fatal(err)
		}
		if src.Orientation != 1 {
			t.Fatalf("%s: orientation %d after stripping EXIF", c.Name, src.Orientation)
		}
		if fixture.CheckUpright(img, false, 12) == nil {
			t.Errorf("%s: stored pixels are already upright", c.Name)
		}
	}
}

func TestDecodeSpecialPixels(t *testing.T) {
	byName := map[string]fixture.Case{}
	for _, c := range fixture.Dirty() {
		byName[c.Name] = c
	}
	dec := func(name string) *image.NRGBA {
		img, _, err := decode.Decode(context.Background(), byName[name].Data, decode.DefaultLimits(), 0)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return img
	}
	bandAt := image.Rect(fixture.Width/2-4, fixture.Height-fixture.Marker(fixture.Width, fixture.Height)/2-2,
		fixture.Width/2+4, fixture.Height-fixture.Marker(fixture.Width, fixture.Height)/2+2)
	// 16-bit with a half-transparent band: 8-bit, composited on white.
	if got := fixture.Mean(dec("rgba16.png"), bandAt); !fixture.Near(got, fixture.BandOnWhite, 1) {
		t.Errorf("rgba16.png band %v, want %v", got, fixture.BandOnWhite)
	}
	// Palette with a transparent background index: white.
	if got := fixture.Mean(dec("palette.png"), image.Rect(60, 5, 70, 10)); !fixture.Near(got, whiteNRGBA, 0) {
		t.Errorf("palette.png background %v, want white", got)
	}
	// Grayscale JPEG: RGB output, neutral.
	img := dec("grayscale.jpg")
	if err := fixture.CheckUpright(img, true, 6); err != nil {
		t.Error(err)
	}
	for i := 0; i < len(img.Pix); i += 4 {
		if img.Pix[i] != img.Pix[i+1] || img.Pix[i] != img.Pix[i+2] || img.Pix[i+3] != 255 {
			t.Fatalf("grayscale.jpg pixel %v is not opaque grey", img.Pix[i:i+4])
		}
	}
	// Every decoded image is opaque.
	for name := range byName {
		img := dec(name)
		for i := 3; i < len(img.Pix); i += 4 {
			if img.Pix[i] != 255 {
				t.Fatalf("%s: alpha %d", name, img.Pix[i])
			}
		}
	}
}

var whiteNRGBA = color.NRGBA{255, 255, 255, 255}

func TestLimits(t *testing.T) {
	j := fixture.DirtyJPEG(1) // 160x120
	tests := []struct {
		name string
		lim  decode.Limits
		want string
	}{
		{"file size", decode.Limits{MaxFileBytes: 1000}, "more than the limit of 1000 bytes"},
		{"side", decode.Limits{MaxSide: 159}, "image is 160x120 pixels, more than the limit of 159 pixels per side"},
		{"pixels", decode.Limits{MaxPixels: 19199}, "image is 160x120 pixels, more than the limit of 0.0 MP"},
		{"exactly at the limits", decode.Limits{MaxSide: 160, MaxPixels: 19200, MaxFileBytes: int64(len(j))}, ""},
		{"zero means default", decode.Limits{}, ""},
	}
	for _, tt := range tests {
		_, _, err := decode.Decode(context.Background(), j, tt.lim, 0)
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s: %v", tt.name, err)
		case tt.want != "" && (!decode.IsInputError(err) || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%s: %v, want InputError containing %q", tt.name, err, tt.want)
		}
	}
	if err := (decode.Limits{MaxSide: -1}).Validate(); err == nil {
		t.Error("negative MaxSide is valid")
	}
	if err := decode.DefaultLimits().Validate(); err != nil {
		t.Error(err)
	}
	d := decode.DefaultLimits()
	if d.MaxFileBytes != 50<<20 || d.MaxSide != 16384 || d.MaxPixels != 50_000_000 || d.Timeout != 30*time.Second {
		t.Errorf("defaults %+v", d)
	}
}

// A header bomb is refused in microseconds, without allocating anything
// near its claimed size (64250x64250x4 bytes = 16 GB).
func TestBombIsCheap(t *testing.T) {
	for _, data := range [][]byte{fixture.HeaderBombJPEG(64250, 64250), fixture.HeaderBombPNG(64250, 64250)} {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		start := time.Now()
		const n = 100
		for i := 0; i < n; i++ {
			_, _, err := decode.Decode(context.Background(), data, decode.DefaultLimits(), 2048)
			if !decode.IsInputError(err) {
				t.Fatalf("bomb: %v", err)
			}
		}
		elapsed := time.Since(start) / n
		runtime.ReadMemStats(&after)
		perCall := (after.TotalAlloc - before.TotalAlloc) / n
		t.Logf("bomb of %d bytes refused in %v, %d bytes allocated per call", len(data), elapsed, perCall)
		if perCall > 64<<10 {
			t.Errorf("refusing a bomb allocates %d bytes per call", perCall)
		}
		if elapsed > 5*time.Millisecond {
			t.Errorf("refusing a bomb takes %v", elapsed)
		}
	}
}

func TestDecodeContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, _, err := decode.Decode(ctx, fixture.DirtyJPEG(1), decode.DefaultLimits(), 0)
	if err == nil || decode.IsInputError(err) || !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled context: %v; want context.Canceled, not an InputError", err)
	}
}

func TestProbe(t *testing.T) {
	for _, c := range append(fixture.Dirty(), fixture.Orientations()...) {
		src, err := decode.Probe(c.Data)
		if err != nil {
			t.Errorf("%s: %v", c.Name, err)
			continue
		}
		if src.Orientation != c.Orientation || src.Width*src.Height != fixture.Width*fixture.Height {
			t.Errorf("%s: %+v", c.Name, src)
		}
	}
	// Probe does not apply limits.
	src, err := decode.Probe(fixture.HeaderBombJPEG(64250, 64250))
	if err != nil || src.Width != 64250 || src.Height != 64250 || src.Format != decode.JPEG {
		t.Errorf("bomb: %+v %v", src, err)
	}
	if _, err := decode.Probe(fixture.Zip()); !decode.IsInputError(err) {
		t.Errorf("zip: %v", err)
	}
}
