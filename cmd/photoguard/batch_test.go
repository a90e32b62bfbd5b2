package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/photoguard/photoguard/config"
	"github.com/photoguard/photoguard/detect"
	"github.com/photoguard/photoguard/pipeline"
	"github.com/photoguard/photoguard/pipeline/inbox"
	"github.com/photoguard/photoguard/redact/encode"
	"github.com/photoguard/photoguard/redact/fixture"
	"github.com/photoguard/photoguard/redact/inspect"
	"github.com/photoguard/photoguard/redact/testenv"
)

// Issue 2's acceptance: a batch over the shared camera photos (real GPS,
// camera make and model) plus the dirty and bad fixtures gives the expected
// outcome for each, exit status 2 (some were quarantined), and not one
// published file carries metadata, by our parser and by exiftool. The face
// analysis finds no faces (withoutFaces).
func TestBatchDirtyAndBadInputs(t *testing.T) {
	td := testenv.SharedTestdata(t)
	models := modelsForTest(t)
	testenv.RequireTool(t, "exiftool")
	dir := t.TempDir()
	in := filepath.Join(dir, "in")

	want := map[string]string{} // input -> outcome
	var secrets []fixture.Secret
	samples, _ := filepath.Glob(filepath.Join(td, "photos", "*.jpg"))
	testenv.Require(t, len(samples) == 6, "6 shared photos, found %d", len(samples))
	for _, s := range samples {
		if err := copyFile(s, filepath.Join(in, "camera", filepath.Base(s))); err != nil {
			t.Fatal(err)
		}
		want["camera/"+filepath.Base(s)] = "published"
	}
	write := func(sub string, cases []fixture.Case) {
		for _, c := range cases {
			p := filepath.Join(in, sub, c.Name)
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, c.Data, 0o644); err != nil {
				t.Fatal(err)
			}
			switch {
			case inbox.IsVideo(c.Name):
				// The fixtures' videos are a few bytes that are no
				// video: since videos are published (issue 21) they are
				// quarantined as unreadable, with their own reason.
				want[sub+"/"+c.Name] = "quarantined"
			case c.Expect == fixture.Clean:
				want[sub+"/"+c.Name] = "published"
				secrets = append(secrets, c.Secrets...)
			default:
				want[sub+"/"+c.Name] = "quarantined"
			}
		}
	}
	write("dirty", fixture.Dirty())
	write("bad", fixture.Bad())
	if heic, err := fixture.HEIC(dir); err == nil {
		write("heic", heic)
	} else {
		testenv.Require(t, false, "HEIC fixtures: %v", err)
	}
	// A symlink and a folder named like a photo.
	if err := os.Symlink(samples[0], filepath.Join(in, "bad", "link.jpg")); err != nil {
		t.Fatal(err)
	}
	want["bad/link.jpg"] = "quarantined"
	if err := os.MkdirAll(filepath.Join(in, "bad", "map.jpg"), 0o755); err != nil {
		t.Fatal(err)
	}
	want["bad/map.jpg"] = "quarantined"
	// The same dirty photo in a swimming-lesson folder.
	if err := os.WriteFile(filepath.Join(in, "zwemles-groep-4.jpg"), fixture.DirtyJPEG(3), 0o644); err != nil {
		t.Fatal(err)
	}
	want["zwemles-groep-4.jpg"] = "rejected"
	old := time.Now().Add(-time.Hour)
	_ = filepath.Walk(in, func(p string, _ os.FileInfo, _ error) error { _ = os.Chtimes(p, old, old); return nil })

	yaml := fmt.Sprintf("inbox: %[1]s/inbox\nstate_dir: %[1]s/state\nmodels_dir: %[2]s\n"+
		"targets:\n  website:\n    type: dir\n    path: %[1]s/out\n    channel: website\n    approval: none\n    individual: allowed\n", dir, models)
	cfgPath := filepath.Join(dir, "pg.yaml")
	if err := os.WriteFile(cfgPath, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	// What a published file carries does not depend on its faces: the
	// analysis finds none here (the end-to-end tests judge the faces); the
	// rest of the path, decoding to the verified output, is the real one.
	withoutFaces(t)
	var stdout, stderr bytes.Buffer
	report := filepath.Join(dir, "report.json")
	err = runBatch(context.Background(), cfg, in, batchFlags{report: report}, &stdout, &stderr)
	var ee exitError
	if !errors.As(err, &ee) || ee.code != exitAttention {
		t.Fatalf("batch returned %v, want exit status 2 (some inputs are quarantined)\n%s%s", err, stdout.String(), stderr.String())
	}
	data, err := os.ReadFile(report)
	if err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Summary pipeline.Summary
		Items   []pipeline.Item
	}
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatal(err)
	}
	got := map[string]pipeline.Item{}
	for _, it := range rep.Items {
		if _, dup := got[it.Input]; dup {
			t.Errorf("%s reported twice", it.Input)
		}
		got[it.Input] = it
	}
	for input, it := range got {
		if it.Outcome == pipeline.Published && (it.Faces == nil || it.Faces.Found != 0 || len(it.Faces.Passes) != 1 || it.Faces.Passes[0].Name != noFacesPass) {
			t.Errorf("%s: faces %+v, want the analysis that finds none", input, it.Faces)
		}
	}
	for input, outcome := range want {
		it, ok := got[input]
		switch {
		case !ok:
			t.Errorf("%s: no item", input)
		case string(it.Outcome) != outcome:
			t.Errorf("%s: %s (%s), want %s", input, it.Outcome, it.Reason, outcome)
		case outcome != "published" && it.Reason == "":
			t.Errorf("%s: %s without a reason", input, outcome)
		case inbox.IsVideo(input) && !strings.Contains(it.Reason, "video"):
			t.Errorf("%s: %q, want a reason about the video", input, it.Reason)
		}
	}
	if len(got) != len(want) {
		t.Errorf("%d items, %d inputs", len(got), len(want))
	}

	// Every published file: fresh pixels only.
	outs, _ := filepath.Glob(filepath.Join(dir, "out", "*.jpg"))
	if len(outs) == 0 {
		t.Fatal("nothing published")
	}
	checkPublishedClean(t, outs, secrets)
	for _, o := range outs {
		if strings.Contains(filepath.Base(o), "sample") || strings.Contains(filepath.Base(o), "dirty") {
			t.Errorf("%s: output name carries the input's name", o)
		}
	}
	// Nothing is left in the input folder but folders; everything that was
	// not published waits under state_dir with a reason.
	_ = filepath.Walk(in, func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			t.Errorf("left in the input folder: %s", p)
		}
		return nil
	})
	reasons, _ := filepath.Glob(filepath.Join(dir, "state", "*", "*", "reason.txt"))
	if n := rep.Summary.Rejected + rep.Summary.Quarantined + rep.Summary.Held; len(reasons) != n {
		t.Errorf("%d reason files for %d photos not published", len(reasons), n)
	}
	t.Logf("summary %+v", rep.Summary)
}

// A batch's summary lists what waits for the direction, per photo and
// target, with the short hash to answer it by; waiting is not a failure.
func TestSummaryWaiting(t *testing.T) {
	rep := pipeline.NewReport(false)
	sha := strings.Repeat("ab", 32)
	rep.Add(pipeline.Item{Input: "groep-5/IMG_0001.jpg", SHA256: sha, Outcome: pipeline.Waiting, Target: "website", Reason: pipeline.ReasonWaiting})
	rep.Add(pipeline.Item{Input: "groep-5/IMG_0001.jpg", SHA256: sha, Outcome: pipeline.Published, Target: "portal", Output: "x.jpg"})
	var out bytes.Buffer
	printSummary(&out, rep, "website")
	for _, want := range []string{", 1 waiting for approval", "Waiting for approval", "abababababab groep-5/IMG_0001.jpg  (website)"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), "Not published") || !rep.Clean() {
		t.Errorf("a waiting photo counts as a problem:\n%s", out.String())
	}
}

// checkPublishedClean fails for each published file in outs that carries
// metadata: by photoguard's own verifier and parser, by exiftool (judged
// independently of photoguard's code), and by the bytes of secrets and of
// the shared camera photos' make, model and software.
func checkPublishedClean(t *testing.T, outs []string, secrets []fixture.Secret) {
	t.Helper()
	tags := testenv.ExifToolFiles(t, outs...)
	for _, o := range outs {
		b, err := os.ReadFile(o)
		if err != nil {
			t.Fatal(err)
		}
		if err := encode.VerifyClean(b); err != nil {
			t.Errorf("%s: %v", o, err)
		}
		if r, err := inspect.Scan(b); err != nil || len(r.Findings) > 0 {
			t.Errorf("%s: metadata %v %v", o, r.Kinds(), err)
		}
		if bad := testenv.UncleanExifToolKeys(tags[o]); len(bad) > 0 {
			t.Errorf("%s: exiftool sees %v", o, bad)
		}
		for _, s := range secrets {
			if bytes.Contains(b, s.Bytes) {
				t.Errorf("%s: contains the %s", o, s.Name)
			}
		}
		for _, s := range []string{"SONY", "ILCE", "samsung", "SM-G955U", "paint.net"} {
			if bytes.Contains(b, []byte(s)) {
				t.Errorf("%s: contains %q", o, s)
			}
		}
	}
}

// withoutFaces has the pipelines built during the test analyse no faces
// (noFaces), for a test of what does not depend on them.
func withoutFaces(t *testing.T) {
	t.Helper()
	orig := faceAnalysis
	faceAnalysis = func(*config.Config, *resources) (pipeline.FaceAnalyzer, error) { return noFaces{}, nil }
	t.Cleanup(func() { faceAnalysis = orig })
}

// noFaces is a face analysis that finds no face and keeps the size asked
// for; its one pass is named noFacesPass.
type noFaces struct{}

const noFacesPass = "no faces (test)"

func (noFaces) Analyze(_ context.Context, _ *image.NRGBA, side int) (*detect.Analysis, error) {
	return &detect.Analysis{PublishSide: side, Passes: []detect.PassStat{{Name: noFacesPass}}}, nil
}

func (noFaces) Describe(context.Context, *image.NRGBA, []image.Rectangle) ([]detect.Face, error) {
	return nil, nil
}
