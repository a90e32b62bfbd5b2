package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/photoguard/photoguard/detect"
	"github.com/photoguard/photoguard/detect/dlib"
	"github.com/photoguard/photoguard/pipeline"
	"github.com/photoguard/photoguard/pipeline/consent"
	"github.com/photoguard/photoguard/redact/testenv"
)

// TestModelChangeHoldsPhotos: references made with other face model files
// than those in models_dir (what the store holds after the school replaces
// a model file) are never matched against: every photo is held with a
// reason that says what to do, `enroll --list` names who must be enrolled
// again, and enrolling them again replaces the old references and lets
// photos through.
func TestModelChangeHoldsPhotos(t *testing.T) {
	models := modelsForTest(t)
	identities := filepath.Join(testenv.SharedTestdata(t), "faces", "identities")
	dir := t.TempDir()
	cfg := websiteConfig(t, dir, models)
	csv := filepath.Join(dir, "consent.csv")
	if err := os.WriteFile(csv, []byte(demoConsent(time.Now())), 0o600); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := consentImport(&out, cfg, csv, false, ""); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if err := enrollPhotos(context.Background(), &out, cfg, "penny", []string{filepath.Join(identities, "penny", "penny1.png")}, enrollFlags{}); err != nil {
		t.Fatalf("enroll: %v\n%s", err, out.String())
	}

	// raj was enrolled before the model files changed.
	store, err := openStore(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var d detect.Descriptor
	for i := range d {
		d[i] = 0.05
	}
	old := consent.Reference{Descriptor: d, SourceSHA256: strings.Repeat("ab", 32), Model: "0123456789abcdef"}
	if err := store.Enroll("raj", []consent.Reference{old}); err != nil {
		t.Fatal(err)
	}
	current, err := dlib.ModelID(models)
	if err != nil {
		t.Fatal(err)
	}
	if refs := store.Snapshot().References("penny"); len(refs) != 1 || refs[0].Model != current {
		t.Fatalf("penny's reference was not recorded with the current model %s: %v", current, refs)
	}

	batch := func(seed int) pipeline.Item {
		t.Helper()
		in := filepath.Join(dir, fmt.Sprint("in", seed))
		if err := os.MkdirAll(in, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(in, "a.jpg"), plainJPEG(t, 640, 480, seed), 0o644); err != nil {
			t.Fatal(err)
		}
		report := filepath.Join(dir, fmt.Sprint("report", seed, ".json"))
		var stdout, stderr bytes.Buffer
		err := runBatch(context.Background(), cfg, in, batchFlags{report: report}, &stdout, &stderr)
		var ee exitError
		if err != nil && !errors.As(err, &ee) {
			t.Fatalf("batch: %v\n%s\n%s", err, stdout.String(), stderr.String())
		}
		data, err := os.ReadFile(report)
		if err != nil {
			t.Fatal(err)
		}
		var rep struct{ Items []pipeline.Item }
		if err := json.Unmarshal(data, &rep); err != nil || len(rep.Items) != 1 {
			t.Fatalf("report: %v %s", err, data)
		}
		return rep.Items[0]
	}

	it := batch(1)
	if it.Outcome != pipeline.Held || !strings.Contains(it.Reason, "enroll everyone again") {
		t.Fatalf("with a reference of another model in the store: %s %q, want held with what to do", it.Outcome, it.Reason)
	}
	if outs, _ := filepath.Glob(filepath.Join(dir, "out", "*.jpg")); len(outs) != 0 {
		t.Fatalf("published %v", outs)
	}

	out.Reset()
	if err := printStatus(&out, cfg, 5); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "consent:  8 people in the consent store, 2 enrolled\n          every photo is held: 1 enrolled reference") ||
		!strings.Contains(out.String(), "held (1,") {
		t.Errorf("status does not show why photos are held:\n%s", out.String())
	}
	t.Logf("status:\n%s", out.String())

	out.Reset()
	if err := enrollList(&out, cfg); err != nil {
		t.Fatal(err)
	}
	var rajLine string
	for _, line := range strings.Split(out.String(), "\n") {
		if strings.HasPrefix(line, "raj ") {
			rajLine = line
		}
		if strings.HasPrefix(line, "penny ") && strings.Contains(line, "other model") {
			t.Errorf("penny is flagged although enrolled with the current model: %q", line)
		}
	}
	if !strings.Contains(rajLine, "1 made with other model files") || !strings.Contains(out.String(), "1 person must be enrolled again") {
		t.Errorf("enroll --list does not say raj must be enrolled again:\n%s", out.String())
	}

	out.Reset()
	if err := enrollPhotos(context.Background(), &out, cfg, "raj", []string{filepath.Join(identities, "raj", "raj1.png")}, enrollFlags{}); err != nil {
		t.Fatalf("enroll again: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "1 reference made with other face model files replaced") {
		t.Errorf("enrolling again does not say the old reference was replaced:\n%s", out.String())
	}
	if it := batch(2); it.Outcome != pipeline.Published {
		t.Fatalf("after enrolling again: %s %q, want published", it.Outcome, it.Reason)
	}
	out.Reset()
	if err := printStatus(&out, cfg, 5); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "consent:  8 people in the consent store, 2 enrolled\n") || strings.Contains(out.String(), "every photo is held") {
		t.Errorf("status after enrolling again:\n%s", out.String())
	}
}
