package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/disintegration/imaging"

	"github.com/photoguard/photoguard/redact/encode"
	"github.com/photoguard/photoguard/redact/testenv"
)

// BenchmarkStages times one photo through the path a batch and the service
// take (Pipeline.Explain over the pipeline cmd wires: decode, the face
// analysis with its finder, redaction, encoding and the check of the
// output), at the default settings with one website target and nobody
// enrolled, on a shared camera photo scaled to an iPad's 4032x3024. ns/op is
// the whole photo; the analysis' passes are reported as <pass>-ms:
//
//	. scripts/env.sh
//	go test -trimpath ./cmd/photoguard -run XXX -bench Stages -benchtime 3x
func BenchmarkStages(b *testing.B) {
	td := testenv.SharedTestdata(b)
	models := modelsForTest(b)
	dir := b.TempDir()
	src, err := imaging.Open(filepath.Join(td, "photos", "sample1.jpg"))
	if err != nil {
		b.Fatal(err)
	}
	input, err := encode.JPEG(imaging.Fill(src, 4032, 3024, imaging.Center, imaging.Lanczos), 92)
	if err != nil {
		b.Fatal(err)
	}
	photo := filepath.Join(dir, "in", "ipad.jpg")
	if err := os.MkdirAll(filepath.Dir(photo), 0o755); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(photo, input, 0o644); err != nil {
		b.Fatal(err)
	}
	cfg := writeConfig(b, dir, fmt.Sprintf("inbox: %[1]s/inbox\nstate_dir: %[1]s/state\nmodels_dir: %[2]s\n"+
		"targets:\n  website:\n    type: dir\n    path: %[1]s/out\n    channel: website\n", dir, models))
	st, err := openPipeline(cfg, slog.New(slog.DiscardHandler), runMode{targets: []string{"website"}, dryRun: true, batch: true})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	passes := map[string]time.Duration{}
	faces := 0
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		j, err := st.p.Explain(context.Background(), filepath.Dir(photo), photo)
		if err != nil || j == nil || j.Analysis == nil || len(j.Deliveries) != 1 || j.Deliveries[0].Output == nil {
			b.Fatalf("the photo did not go through the whole path: %v", err)
		}
		for _, p := range j.Analysis.Passes {
			passes[p.Name] += p.Took
		}
		faces = len(j.Faces)
	}
	for name, d := range passes {
		b.ReportMetric(float64(d.Milliseconds())/float64(b.N), strings.Join(strings.Fields(name), "_")+"-ms")
	}
	b.ReportMetric(float64(faces), "faces")
}
