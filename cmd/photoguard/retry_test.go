package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/photoguard/photoguard/detect"
	"github.com/photoguard/photoguard/pipeline/consent"
	"github.com/photoguard/photoguard/pipeline/held"
	"github.com/photoguard/photoguard/pipeline/ledger"
)

// TestRetryEndToEnd: a photo held because the store holds a reference made
// with other model files; `retry` while the cause is there holds it again
// (exit status 2, still listed by status); once the cause is gone, `retry`
// publishes it to the target it was meant for, and status no longer lists
// it as held.
func TestRetryEndToEnd(t *testing.T) {
	dir := t.TempDir()
	cfg := websiteConfig(t, dir, modelsForTest(t))
	csv := filepath.Join(dir, "consent.csv")
	if err := os.WriteFile(csv, []byte(demoConsent(time.Now())), 0o600); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := consentImport(&out, cfg, csv, false, ""); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	store, err := openStore(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var d detect.Descriptor
	d[0] = 1
	if err := store.Enroll("raj", []consent.Reference{{Descriptor: d, SourceSHA256: strings.Repeat("ab", 32), Model: "0123456789abcdef"}}); err != nil {
		t.Fatal(err)
	}
	in := filepath.Join(dir, "in", "groep-5")
	if err := os.MkdirAll(in, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(in, "a.jpg"), plainJPEG(t, 640, 480, 5), 0o644); err != nil {
		t.Fatal(err)
	}
	var ee exitError
	if err := runBatch(context.Background(), cfg, filepath.Dir(in), batchFlags{}, &out, &out); !errors.As(err, &ee) {
		t.Fatalf("batch: %v\n%s", err, out.String())
	}
	photos, err := held.List(cfg.StateDir)
	if err != nil || len(photos) != 1 {
		t.Fatalf("held: %+v, %v\n%s", photos, err, out.String())
	}

	out.Reset()
	if err := runRetry(context.Background(), &out, cfg, []string{photos[0].Short}, ""); !errors.As(err, &ee) || ee.code != exitAttention {
		t.Fatalf("retry with the cause still there: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "held (website)") {
		t.Errorf("retry output:\n%s", out.String())
	}
	if got, _ := held.List(cfg.StateDir); len(got) != 1 || got[0].File == "" {
		t.Fatalf("after a retry that held it again: %+v", got)
	}

	if _, err := store.Unenroll("raj"); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if err := runRetry(context.Background(), &out, cfg, nil, ""); err != nil {
		t.Fatalf("retry --all: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "published to website as ") {
		t.Errorf("retry output:\n%s", out.String())
	}
	if outs, _ := filepath.Glob(filepath.Join(dir, "out", "*.jpg")); len(outs) != 1 {
		t.Fatalf("at the target: %v", outs)
	}
	if got, _ := held.List(cfg.StateDir); len(got) != 0 {
		t.Errorf("still held: %+v", got)
	}
	out.Reset()
	if err := printStatus(&out, cfg, 5); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), "held (") {
		t.Errorf("status still lists the photo as held:\n%s", out.String())
	}
	recs, _, err := ledger.Records(cfg.StateDir, nil, nil)
	if err != nil || len(recs) != 1 || !recs[0].Confirmed {
		t.Errorf("ledger: %+v, %v", recs, err)
	}
}
