package main

// Tests of issue 13's CLI items for batch, status, --version and completion,
// and of photos as iPads deliver them (item 6).

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/photoguard/photoguard/pipeline"
	"github.com/photoguard/photoguard/pipeline/inbox"
	"github.com/photoguard/photoguard/pipeline/inbox/inboxtest"
	"github.com/photoguard/photoguard/pipeline/status"
	"github.com/photoguard/photoguard/redact/testenv"
)

// writeOld writes files below dir, an hour old.
func writeOld(t *testing.T, dir string, files ...inboxtest.File) {
	t.Helper()
	paths, err := inboxtest.Write(dir, files...)
	if err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-time.Hour)
	for _, p := range paths {
		_ = os.Chtimes(p, old, old)
	}
}

// decodeReport parses all of stdout as one JSON report, and nothing else.
func decodeReport(t *testing.T, stdout []byte) (rep struct {
	Summary pipeline.Summary
	Items   []pipeline.Item
}) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(stdout))
	if err := dec.Decode(&rep); err != nil {
		t.Fatalf("standard output is not a JSON report: %v\n%s", err, stdout)
	}
	if _, err := dec.Token(); err != io.EOF {
		t.Fatalf("standard output holds more than the JSON report:\n%s", stdout)
	}
	return rep
}

// A batch over the inbox itself, as an iPad fills it: the photo is
// published, the Live Photo's .MOV is skipped as the moving part of the
// photo (rejected, exit status 0, not 2), the .AAE stays, and no note is
// left for the teacher (a batch never writes notes, though teacher_notes is
// on). With --report - standard output is the JSON report alone, and jq
// reads it. (Real films are published: TestVideoEndToEnd.)
func TestBatchLikeAnIPadDelivers(t *testing.T) {
	models := modelsForTest(t)
	dir := t.TempDir()
	cfg := websiteConfig(t, dir, models)
	if !cfg.TeacherNotes {
		t.Fatal("teacher_notes is off by default; the test needs it on")
	}
	group := filepath.Join(cfg.Inbox, "groep-5")
	writeOld(t, group, inboxtest.LivePhoto("IMG_0001", ".JPG", plainJPEG(t, 640, 480, 1))...)

	var stdout, stderr bytes.Buffer
	if err := runBatch(context.Background(), cfg, cfg.Inbox, batchFlags{report: "-"}, &stdout, &stderr); err != nil {
		t.Fatalf("batch: %v (want exit status 0: videos are no problem)\n%s", err, stderr.String())
	}
	rep := decodeReport(t, stdout.Bytes())
	got := map[string]pipeline.Item{}
	for _, it := range rep.Items {
		got[it.Input] = it
	}
	if it := got["groep-5/IMG_0001.JPG"]; it.Outcome != pipeline.Published {
		t.Errorf("the photo: %+v", it)
	}
	if it := got["groep-5/IMG_0001.MOV"]; it.Outcome != pipeline.Rejected || it.Reason != pipeline.ReasonLivePhoto {
		t.Errorf("the Live Photo's video: %+v", it)
	}
	if len(rep.Items) != 2 || rep.Summary.Rejected != 1 || rep.Summary.Published != 1 {
		t.Errorf("summary %+v, %d items", rep.Summary, len(rep.Items))
	}
	if !strings.Contains(stderr.String(), "2 photos to website: 1 published, 1 rejected") ||
		!strings.Contains(stderr.String(), "the moving part of a Live Photo") {
		t.Errorf("the summary is not on standard error:\n%s", stderr.String())
	}
	if _, err := os.Stat(filepath.Join(group, "IMG_0001.AAE")); err != nil {
		t.Errorf("the .AAE was taken: %v", err)
	}
	notes, _ := filepath.Glob(filepath.Join(group, "*"+pipeline.NoteSuffix))
	if len(notes) != 0 {
		t.Errorf("a batch left teacher notes: %v", notes)
	}
	if jq, err := exec.LookPath("jq"); err == nil {
		cmd := exec.Command(jq, "-e", ".summary.rejected")
		cmd.Stdin = bytes.NewReader(stdout.Bytes())
		if out, err := cmd.CombinedOutput(); err != nil || strings.TrimSpace(string(out)) != "1" {
			t.Errorf("jq -e .summary.rejected: %q, %v", out, err)
		}
	}
}

// batch takes files as well as folders: named from the folder that holds
// them all, with the category of the folders they are in (a file in
// zwemles/ is rejected, also when named alone); an argument that is missing or
// a link stops the batch before anything is touched; a file the rules skip
// is said to be skipped.
func TestBatchFiles(t *testing.T) {
	models := modelsForTest(t)
	dir := t.TempDir()
	cfg := websiteConfig(t, dir, models)
	work := filepath.Join(dir, "photos")
	writeOld(t, filepath.Join(work, "groep-5"), inboxtest.File{Name: "IMG_0001.JPG", Data: plainJPEG(t, 640, 480, 2)},
		inboxtest.File{Name: "IMG_0002.JPG", Data: plainJPEG(t, 640, 480, 3)}, inboxtest.File{Name: "IMG_0002.AAE", Data: inboxtest.AAE()})
	writeOld(t, filepath.Join(work, "zwemles"), inboxtest.File{Name: "IMG_0003.JPG", Data: plainJPEG(t, 640, 480, 4)})
	t.Chdir(filepath.Join(work, "zwemles"))

	// Refused before anything is done.
	writeOld(t, cfg.StateDir, inboxtest.File{Name: "x.jpg", Data: plainJPEG(t, 64, 48, 5)})
	for _, bad := range []struct{ arg, want string }{
		{"../groep-5/IMG_0009.JPG", "no such file"},
		{filepath.Join(cfg.StateDir, "x.jpg"), "inside state_dir"},
		{filepath.Join(cfg.StateDir), "inside state_dir"},
	} {
		var out bytes.Buffer
		err := runBatchOn(context.Background(), cfg, []string{"../groep-5/IMG_0001.JPG", bad.arg}, batchFlags{}, &out, &out)
		if err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%s: %v, want %q", bad.arg, err, bad.want)
		}
	}
	if err := os.Symlink(filepath.Join(work, "groep-5", "IMG_0001.JPG"), filepath.Join(work, "link.jpg")); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := runBatchOn(context.Background(), cfg, []string{"../link.jpg"}, batchFlags{}, &out, &out); err == nil || !strings.Contains(err.Error(), "link") {
		t.Errorf("a link: %v", err)
	}
	if _, err := os.Stat(filepath.Join(work, "groep-5", "IMG_0001.JPG")); err != nil {
		t.Fatal("a refused batch touched a photo")
	}

	var stdout, stderr bytes.Buffer
	report := filepath.Join(dir, "report.json")
	args := []string{"IMG_0003.JPG", "../groep-5/IMG_0001.JPG", filepath.Join(work, "groep-5", "IMG_0002.JPG"), "../groep-5/IMG_0002.AAE"}
	if err := runBatchOn(context.Background(), cfg, args, batchFlags{report: report}, &stdout, &stderr); err != nil {
		t.Fatalf("batch: %v\n%s%s", err, stdout.String(), stderr.String())
	}
	data, err := os.ReadFile(report)
	if err != nil {
		t.Fatal(err)
	}
	rep := decodeReport(t, data)
	got := map[string]pipeline.Outcome{}
	for _, it := range rep.Items {
		got[it.Input] = it.Outcome
	}
	want := map[string]pipeline.Outcome{
		"zwemles/IMG_0003.JPG": pipeline.Rejected,
		"groep-5/IMG_0001.JPG": pipeline.Published,
		"groep-5/IMG_0002.JPG": pipeline.Published,
	}
	if len(got) != len(want) {
		t.Errorf("items %v, want %v", got, want)
	}
	for in, o := range want {
		if got[in] != o {
			t.Errorf("%s: %s, want %s (all: %v)", in, got[in], o, got)
		}
	}
	if !strings.Contains(stderr.String(), "skipped ../groep-5/IMG_0002.AAE: an edit file") {
		t.Errorf("the .AAE given by name is not said to be skipped:\n%s", stderr.String())
	}
	if _, err := os.Stat(filepath.Join(work, "groep-5", "IMG_0002.AAE")); err != nil {
		t.Error("the .AAE given by name was taken")
	}

	// One file, named alone from inside its flagged folder.
	writeOld(t, filepath.Join(work, "zwemles"), inboxtest.File{Name: "IMG_0005.JPG", Data: plainJPEG(t, 640, 480, 6)})
	stdout.Reset()
	if err := runBatchOn(context.Background(), cfg, []string{"IMG_0005.JPG"}, batchFlags{report: "-"}, &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	if rep := decodeReport(t, stdout.Bytes()); len(rep.Items) != 1 || rep.Items[0].Input != "zwemles/IMG_0005.JPG" || rep.Items[0].Outcome != pipeline.Rejected {
		t.Errorf("one file in zwemles/: %+v", rep.Items)
	}
}

// status counts what the service would take, by the inbox's own rules, and
// --json says the same as one JSON object; a missing inbox is no error, an
// inbox that is a link is (exit status 1).
func TestStatusCountsWhatTheServiceTakes(t *testing.T) {
	dir := t.TempDir()
	cfg := websiteConfig(t, dir, filepath.Join(dir, "models"))
	var out bytes.Buffer
	if err := printStatus(&out, cfg, 5); err != nil || !strings.Contains(out.String(), "does not exist yet") {
		t.Fatalf("a missing inbox: %v\n%s", err, out.String())
	}
	group := filepath.Join(cfg.Inbox, "groep-5")
	writeOld(t, group, append(inboxtest.LivePhoto("IMG_0001", ".HEIC", []byte("photo")),
		inboxtest.File{Name: ".DS_Store", Data: []byte("x")},
		inboxtest.File{Name: "IMG_0002.JPG" + pipeline.NoteSuffix, Data: []byte("note")},
		inboxtest.File{Name: ".syncthing.IMG_0003.JPG.tmp", Data: []byte("x")},
		inboxtest.File{Name: "IMG_0004.JPG", Data: []byte("x")})...)
	if err := os.MkdirAll(filepath.Join(cfg.Inbox, ".stversions"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeOld(t, filepath.Join(cfg.Inbox, ".stversions"), inboxtest.File{Name: "old.jpg", Data: []byte("x")})
	if err := os.Symlink("/etc/passwd", filepath.Join(group, "link.jpg")); err != nil {
		t.Fatal(err)
	}

	out.Reset()
	if err := printStatus(&out, cfg, 5); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "(4 files waiting: 2 photos, 1 video, 1 not a photo)") {
		t.Errorf("status:\n%s", out.String())
	}
	out.Reset()
	if err := printStatusJSON(&out, cfg, 5); err != nil {
		t.Fatal(err)
	}
	var st struct {
		Service  struct{ Running bool }
		Inbox    status.Inbox
		Register struct{ State string }
	}
	if err := json.Unmarshal(out.Bytes(), &st); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if st.Inbox.Waiting != 4 || st.Inbox.Photos != 2 || st.Inbox.Videos != 1 || st.Inbox.Other != 1 || st.Service.Running || st.Register.State != "empty" {
		t.Errorf("status --json: %+v\n%s", st, out.String())
	}
	// The same count as the service's walk.
	entries, err := inbox.Walk(inbox.Root{Dir: cfg.Inbox}, inbox.WalkOptions{Own: []string{cfg.StateDir}})
	if err != nil || len(entries) != st.Inbox.Waiting {
		t.Errorf("the service would take %d entries (%v), status says %d", len(entries), err, st.Inbox.Waiting)
	}

	// An inbox that is a link: said, and exit status 1.
	real := filepath.Join(dir, "real-inbox")
	if err := os.Rename(cfg.Inbox, real); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(real, cfg.Inbox); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if err := printStatus(&out, cfg, 5); err == nil || !strings.Contains(out.String(), "error:    inbox:") {
		t.Errorf("an inbox that is a link: %v\n%s", err, out.String())
	}
	out.Reset()
	if err := printStatusJSON(&out, cfg, 5); err == nil || !strings.Contains(out.String(), `"errors"`) {
		t.Errorf("--json, an inbox that is a link: %v\n%s", err, out.String())
	}
}

// --version names the version and commit (as -ldflags set them), Go, dlib
// and every model file with its SHA-256 and the model id the store records.
func TestVersionReport(t *testing.T) {
	dir := t.TempDir()
	for name, data := range map[string]string{
		"shape_predictor_5_face_landmarks.dat":      "landmarks",
		"dlib_face_recognition_resnet_model_v1.dat": "network",
		"yunet_n_dynamic.onnx":                      "yunet",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	defer func(v, c, d string) { version, commit, dlibVersion = v, c, d }(version, commit, dlibVersion)
	version, commit = "1.4.0", "6fcaa16"
	var b strings.Builder
	writeVersion(&b, dir)
	out := b.String()
	for _, want := range []string{
		"photoguard 1.4.0 (commit 6fcaa16)\n",
		"go:      " + runtime.Version(),
		"dlib:    ",
		"model id ",
		"dlib_face_recognition_resnet_model_v1.dat  sha256 " + sha256Hex("network"),
		"yunet_n_dynamic.onnx  sha256 " + sha256Hex("yunet"),
	} {
		if !strings.Contains(out, want) {
			t.Errorf("--version lacks %q:\n%s", want, out)
		}
	}
	// This test binary links dlib: the library loaded is named.
	if lib := loadedLibrary("libdlib.so"); lib != "" && !strings.Contains(out, lib) {
		t.Errorf("dlib %s is loaded but not named:\n%s", lib, out)
	}
	dlibVersion = "19.24+dfsg-1"
	b.Reset()
	writeVersion(&b, "")
	if !strings.Contains(b.String(), "dlib:    19.24+dfsg-1 (recorded at build)") || !strings.Contains(b.String(), "models:  unknown") {
		t.Errorf("--version with dlib recorded at build and no configuration:\n%s", b.String())
	}
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// The completion scripts are printed for bash, zsh and fish; bash loads
// its script, and --target completes the configured targets.
func TestCompletion(t *testing.T) {
	root := &cobra.Command{Use: "photoguard"}
	root.PersistentFlags().StringVar(&flagConfig, "config", "", "")
	root.AddCommand(batchCmd(), statusCmd(), completionCmd())
	run := func(args ...string) (string, error) {
		var out bytes.Buffer
		root.SetOut(&out)
		root.SetErr(&out)
		root.SetArgs(args)
		err := root.Execute()
		return out.String(), err
	}
	for _, sh := range []string{"bash", "zsh", "fish"} {
		out, err := run("completion", sh)
		if err != nil || !strings.Contains(out, "photoguard") || len(out) < 1000 {
			t.Errorf("completion %s: %v\n%.200s", sh, err, out)
		}
		if sh == "bash" && testenv.HasTool("bash") {
			script := filepath.Join(t.TempDir(), "photoguard.bash")
			if err := os.WriteFile(script, []byte(out), 0o600); err != nil {
				t.Fatal(err)
			}
			got, err := exec.Command("bash", "-c", "source "+script+" && complete -p photoguard").CombinedOutput()
			if err != nil || !strings.Contains(string(got), "photoguard") {
				t.Errorf("bash does not load the script: %v\n%s", err, got)
			}
		}
	}
	if _, err := run("completion", "tcsh"); err == nil {
		t.Error("completion tcsh: no error")
	}

	dir := t.TempDir()
	websiteConfig(t, dir, filepath.Join(dir, "models"))
	defer func(c string) { flagConfig = c }(flagConfig)
	out, err := run("__complete", "--config", filepath.Join(dir, "pg.yaml"), "batch", "--target", "")
	if err != nil || !strings.Contains(out, "website\twebsite") {
		t.Errorf("--target completion: %v\n%s", err, out)
	}
}

// The progress line's rate and time left.
func TestRateLeft(t *testing.T) {
	for _, c := range []struct {
		done, total int
		elapsed     time.Duration
		want        string
	}{
		{0, 10, time.Second, ""},
		{5, 10, 2 * time.Second, "  2.5/s, 2s left"},
		{10, 10, 4 * time.Second, "  2.5/s"},
		{3, 40, time.Minute, "  3.0/min, 12m20s left"},
		{1, 2, 0, ""},
	} {
		if got := rateLeft(c.done, c.total, c.elapsed); got != c.want {
			t.Errorf("rateLeft(%d, %d, %s) = %q, want %q", c.done, c.total, c.elapsed, got, c.want)
		}
	}
	p := &progress{total: 4, n: 2, counts: map[pipeline.Outcome]int{pipeline.Published: 1, pipeline.Rejected: 1},
		start: time.Unix(0, 0), now: func() time.Time { return time.Unix(4, 0) }}
	if got := p.line(); got != "[###############...............] 2/4  30.0/min, 4s left  published 1  rejected 1  quarantined 0  held 0" {
		t.Errorf("progress line %q", got)
	}
}

// The service refuses an inbox that is a link (links are never followed:
// it would find nothing in it), with an error naming what to do.
func TestRunRefusesLinkedInbox(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "share"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(dir, "share"), filepath.Join(dir, "inbox")); err != nil {
		t.Fatal(err)
	}
	cfgPath := filepath.Join(dir, "pg.yaml")
	yaml := "inbox: " + dir + "/inbox\nstate_dir: " + dir + "/state\nmodels_dir: " + dir + "/models\n" +
		"targets:\n  website:\n    type: dir\n    path: " + dir + "/out\n    channel: website\n    approval: none\n    individual: allowed\n"
	if err := os.WriteFile(cfgPath, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	err := runDaemon(t.Context(), cfgPath, slog.New(slog.DiscardHandler))
	if err == nil || !strings.Contains(err.Error(), "symbolic link") || !strings.Contains(err.Error(), "folder it points to") {
		t.Fatalf("run with a linked inbox: %v", err)
	}
}

// A batch stopped by a signal says so (exit status 1) and leaves the photos
// it did not finish where they were.
func TestBatchInterrupted(t *testing.T) {
	models := modelsForTest(t)
	dir := t.TempDir()
	cfg := websiteConfig(t, dir, models)
	in := filepath.Join(dir, "in")
	writeOld(t, in, inboxtest.File{Name: "IMG_0001.JPG", Data: plainJPEG(t, 640, 480, 7)})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var out bytes.Buffer
	err := runBatch(ctx, cfg, in, batchFlags{}, &out, &out)
	if err == nil || !strings.Contains(err.Error(), "interrupted") {
		t.Fatalf("a stopped batch: %v\n%s", err, out.String())
	}
	if _, err := os.Stat(filepath.Join(in, "IMG_0001.JPG")); err != nil {
		t.Error("a stopped batch took the photo away")
	}
}
