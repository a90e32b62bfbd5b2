package redact_test

import (
	"bytes"
	"context"
	"image"
	"image/jpeg"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/disintegration/imaging"
	"github.com/photoguard/photoguard/redact/decode"
	"github.com/photoguard/photoguard/redact/encode"
	"github.com/photoguard/photoguard/redact/fixture"
	"github.com/photoguard/photoguard/redact/inspect"
	"github.com/photoguard/photoguard/redact/testenv"
	ljpeg "github.com/viam-labs/go-libjpeg/jpeg"
)

// tabletPhotos returns the shared sample photos scaled to 4032x3024 (an
// iPad photo), re-encoded at quality 92 with 4:2:0 and their original EXIF
// segment, as a tablet would store them.
func tabletPhotos(b *testing.B) [][]byte {
	b.Helper()
	files, _ := filepath.Glob(filepath.Join(testenv.SharedTestdata(b), "photos", "sample*.jpg"))
	testenv.Require(b, len(files) > 0, "no sample photos")
	var out [][]byte
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		img, err := jpeg.Decode(bytes.NewReader(data))
		if err != nil {
			b.Fatal(err)
		}
		big := imaging.Resize(img, 4032, 3024, imaging.Lanczos)
		var buf bytes.Buffer
		if err := ljpeg.Encode(&buf, big, &ljpeg.EncoderOptions{Quality: 92}); err != nil {
			b.Fatal(err)
		}
		j, _ := inspect.ParseJPEG(data)
		var segs [][]byte
		for _, s := range j.Segments {
			if s.Marker == inspect.APP1 && s.AppID() == "Exif" {
				segs = append(segs, data[s.Offset:s.End()])
			}
		}
		out = append(out, fixture.Splice(buf.Bytes(), segs...))
	}
	return out
}

// BenchmarkSanitize is the per-photo cost of this package in the pipeline:
// decode a 4032x3024 JPEG (DCT-scaled), orient, resize to a long side of
// 2048, encode at quality 85 and verify.
func BenchmarkSanitize(b *testing.B) {
	photos := tabletPhotos(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		data := photos[i%len(photos)]
		img, _, err := decode.Decode(context.Background(), data, decode.DefaultLimits(), 2048)
		if err != nil {
			b.Fatal(err)
		}
		out, err := encode.JPEG(img, 85)
		if err != nil {
			b.Fatal(err)
		}
		b.SetBytes(int64(len(data)))
		_ = out
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/photo")
}

// BenchmarkStages splits the sanitize step and compares the alternatives
// that were considered.
func BenchmarkStages(b *testing.B) {
	photos := tabletPhotos(b)
	data := photos[0]
	ctx := context.Background()
	lim := decode.DefaultLimits()
	b.Run("decode-libjpeg-full", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if _, _, err := decode.Decode(ctx, data, lim, 0); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("decode-stdlib-full", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if _, err := jpeg.Decode(bytes.NewReader(data)); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("decode-libjpeg-dct-2048", func(b *testing.B) { // 5/8 scale then resize
		for i := 0; i < b.N; i++ {
			if _, _, err := decode.Decode(ctx, data, lim, 2048); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("decode-libjpeg-dct-2016", func(b *testing.B) { // exactly 1/2 scale, no resize
		for i := 0; i < b.N; i++ {
			if _, _, err := decode.Decode(ctx, data, lim, 2016); err != nil {
				b.Fatal(err)
			}
		}
	})
	scaled, err := ljpeg.DecodeIntoRGBA(bytes.NewReader(data), &ljpeg.DecoderOptions{ScaleTarget: image.Rect(0, 0, 2048, 1536)})
	if err != nil {
		b.Fatal(err)
	}
	src := &image.NRGBA{Pix: scaled.Pix, Stride: scaled.Stride, Rect: scaled.Rect}
	b.Run("libjpeg-only-dct-5/8", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			ljpeg.DecodeIntoRGBA(bytes.NewReader(data), &ljpeg.DecoderOptions{ScaleTarget: image.Rect(0, 0, 2048, 1536)})
		}
	})
	b.Run("libjpeg-only-full", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			ljpeg.DecodeIntoRGBA(bytes.NewReader(data), &ljpeg.DecoderOptions{})
		}
	})
	img := imaging.Resize(src, 2048, 1536, imaging.Linear)
	b.Run("orient-6-2048", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			imaging.Rotate270(img)
		}
	})
	b.Run("encode-libjpeg-2048-q85", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if _, err := encode.JPEG(img, 85); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encode-stdlib-2048-q85", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			jpeg.Encode(&bytes.Buffer{}, img, &jpeg.Options{Quality: 85})
		}
	})
	out, _ := encode.JPEG(img, 85)
	b.Run("verify-clean", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if err := encode.VerifyClean(out); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("probe", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			decode.Probe(data)
		}
	})
}

// BenchmarkSanitizeHEIC is the same for a 4032x3024 HEIC made by heif-enc.
func BenchmarkSanitizeHEIC(b *testing.B) {
	testenv.RequireTool(b, "heif-enc")
	photos := tabletPhotos(b)
	heic, err := fixture.HeifEnc(b.TempDir(), "tablet.jpg", photos[0])
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		img, _, err := decode.Decode(context.Background(), heic, decode.DefaultLimits(), 2048)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := encode.JPEG(img, 85); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(time.Since(start).Milliseconds())/float64(b.N), "ms/photo")
}
