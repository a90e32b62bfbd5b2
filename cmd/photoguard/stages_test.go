package main

import (
	"context"
	"image"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/disintegration/imaging"

	"github.com/photoguard/photoguard/config"
	"github.com/photoguard/photoguard/detect/dlib"
	"github.com/photoguard/photoguard/redact/decode"
	"github.com/photoguard/photoguard/redact/encode"
	"github.com/photoguard/photoguard/redact/mask"
	"github.com/photoguard/photoguard/redact/testenv"
)

// BenchmarkStages times each stage of one photo at the default settings, on
// a shared camera photo scaled to an iPad's 4032x3024:
//
//	go test ./cmd/photoguard -run XXX -bench Stages -benchtime 3x
//
// (PHOTOGUARD_FACES_DETECTOR=hog for the HOG-only figures.)
func BenchmarkStages(b *testing.B) {
	td := testenv.SharedTestdata(b)
	cfg, err := config.Parse(nil, "/", os.Environ())
	if err != nil {
		b.Fatal(err)
	}
	if d := os.Getenv("PHOTOGUARD_MODELS_DIR"); d != "" {
		cfg.ModelsDir = d
	}
	src, err := imaging.Open(filepath.Join(td, "photos", "sample1.jpg"))
	if err != nil {
		b.Fatal(err)
	}
	big := imaging.Fill(src, 4032, 3024, imaging.Center, imaging.Lanczos)
	input, err := encode.JPEG(big, 92)
	if err != nil {
		b.Fatal(err)
	}
	dc := dlibConfig(cfg)
	dc.Workers = 1
	det, err := dlib.New(dc)
	if err != nil {
		b.Fatal(err)
	}
	defer det.Close()
	lim := decode.DefaultLimits()
	ctx := context.Background()
	stages := map[string]time.Duration{}
	faces := 0
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		img, _, err := decode.Decode(ctx, input, lim, cfg.Output.MaxSide)
		if err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		found, err := det.Detect(ctx, img)
		if err != nil {
			b.Fatal(err)
		}
		t2 := time.Now()
		var boxes []image.Rectangle
		for _, f := range found {
			boxes = append(boxes, f.Rect)
		}
		red := mask.Redact(img, boxes, mask.DefaultOptions())
		t3 := time.Now()
		out, err := encode.JPEG(red, cfg.Output.Quality)
		if err != nil {
			b.Fatal(err)
		}
		if err := encode.VerifyClean(out); err != nil {
			b.Fatal(err)
		}
		t4 := time.Now()
		back, _, err := decode.Decode(ctx, out, lim, 0)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := det.Detect(ctx, back); err != nil {
			b.Fatal(err)
		}
		t5 := time.Now()
		stages["1-decode"] += t1.Sub(t0)
		stages["2-detect+descriptors"] += t2.Sub(t1)
		stages["3-redact"] += t3.Sub(t2)
		stages["4-encode+verify"] += t4.Sub(t3)
		stages["5-check-output"] += t5.Sub(t4)
		faces = len(found)
	}
	for name, d := range stages {
		b.ReportMetric(float64(d.Milliseconds())/float64(b.N), name+"-ms")
	}
	b.ReportMetric(float64(faces), "faces")
}
