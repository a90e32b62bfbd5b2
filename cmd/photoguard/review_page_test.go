package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/photoguard/photoguard/config"
	"github.com/photoguard/photoguard/detect/tuning"
)

// pageConfig is a configuration with an inbox and one target, no models
// needed (the review page reads records only).
func pageConfig(t *testing.T) (*config.Config, string) {
	t.Helper()
	dir := t.TempDir()
	for _, d := range []string{"inbox", "state", "out"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	return writeConfig(t, dir, fmt.Sprintf("inbox: %[1]s/inbox\nstate_dir: %[1]s/state\ntargets:\n  website:\n    type: dir\n    path: %[1]s/out\n    channel: website\n", dir)), dir
}

func TestReviewPageRefusals(t *testing.T) {
	cfg, dir := pageConfig(t)
	now := time.Now()
	var out bytes.Buffer
	// No records yet: an empty page is fine.
	empty := filepath.Join(dir, "empty.html")
	if err := reviewPage(&out, cfg, reviewFlags{out: empty}, now); err != nil {
		t.Fatalf("empty page: %v", err)
	}
	if h := readPrivateFile(t, empty); !strings.Contains(h, "0 photos") || !strings.Contains(h, "Content-Security-Policy") {
		t.Error("the empty page lacks its summary or policy")
	}
	elsewhere := filepath.Join(dir, "elsewhere.html")
	link := filepath.Join(dir, "link.html")
	if err := os.Symlink(elsewhere, link); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		f    reviewFlags
		want string
	}{
		{"over a link", reviewFlags{out: link}, "link"},
		{"into a target", reviewFlags{out: filepath.Join(dir, "out", "r.html")}, "inside target website"},
		{"into the inbox", reviewFlags{out: filepath.Join(dir, "inbox", "r.html")}, "inside the inbox"},
		{"into a missing folder", reviewFlags{out: filepath.Join(dir, "nope", "r.html")}, "does not exist"},
		{"a bad date", reviewFlags{since: "1-12-2026", out: filepath.Join(dir, "r.html")}, "YYYY-MM-DD"},
		{"both --since and --batch", reviewFlags{since: "today", batch: "x.json"}, "not both"},
		{"a missing report", reviewFlags{batch: filepath.Join(dir, "none.json")}, "--batch"},
		{"a report that is not one", reviewFlags{batch: cfg.File}, "not a batch report"},
	} {
		err := reviewPage(&out, cfg, tc.f, now)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error with %q", tc.name, err, tc.want)
		}
	}
	if _, err := os.Lstat(elsewhere); err == nil {
		t.Error("the page was written through the link")
	}
}

func TestParseSince(t *testing.T) {
	now := time.Date(2026, 12, 1, 15, 4, 0, 0, time.Local)
	for in, want := range map[string]string{"": "2026-12-01", "today": "2026-12-01", "yesterday": "2026-11-30", "2026-09-01": "2026-09-01"} {
		got, err := parseSince(in, now)
		if err != nil || got.Format("2006-01-02") != want {
			t.Errorf("parseSince(%q) = %v, %v; want %s", in, got, err, want)
		}
	}
}

// tune's text: the recommendation and every warning, by id.
func TestPrintTuning(t *testing.T) {
	rep := tuning.Report{Current: tuning.Setting{Threshold: 0.5, Margin: 0.3},
		Recommended: tuning.Recommendation{OK: true, Setting: tuning.Setting{Threshold: 0.5, Margin: 0.3}, Why: "no wrong match"},
		Warnings:    []tuning.Warning{{Kind: "fewer than three references", IDs: []string{"100208"}, Text: "add photos"}}}
	var text bytes.Buffer
	printTuning(&text, &rep)
	if !strings.Contains(text.String(), "Recommended: faces.threshold") || !strings.Contains(text.String(), "warning: fewer than three references: 100208") {
		t.Errorf("tune's text:\n%s", text.String())
	}
}

// Usage errors of the commands this part adds end in an error (exit 1),
// before anything is loaded.
func TestCorrectionUsageErrors(t *testing.T) {
	cfg, _ := pageConfig(t)
	t.Setenv("PHOTOGUARD_CONFIG", cfg.File)
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"enroll --face without --from", []string{"enroll", "100205", "--face", "2"}, "--from PHOTO --face N"},
		{"enroll --from without --face", []string{"enroll", "100205", "--from", "x.jpg"}, "--from PHOTO --face N"},
		{"enroll --from with two ids", []string{"enroll", "100205", "100206", "--from", "x.jpg", "--face", "1"}, "one id"},
		{"correct without --not", []string{"correct", "x.jpg", "--face", "1"}, "--not ID"},
		{"correct without --face", []string{"correct", "x.jpg", "--not", "100205"}, "--face N"},
		{"correct of a photo nobody knows", []string{"correct", "nofile.jpg", "--face", "1", "--not", "100205"}, "not in the consent store"},
		{"tune --thumbnails without photos", []string{"tune", "--thumbnails"}, "--thumbnails needs"},
		{"review with both selections", []string{"review", "--since", "today", "--batch", "r.json"}, "not both"},
	} {
		root := &cobra.Command{Use: "photoguard", SilenceUsage: true, SilenceErrors: true}
		root.AddCommand(enrollCmd(), correctCmd(), tuneCmd(), reviewCmd())
		root.SetArgs(tc.args)
		root.SetOut(io.Discard)
		err := root.Execute()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error with %q", tc.name, err, tc.want)
		}
	}
}

// writeConfig writes yaml as dir/photoguard.yaml and loads it.
func writeConfig(t testing.TB, dir, yaml string) *config.Config {
	t.Helper()
	p := filepath.Join(dir, "photoguard.yaml")
	if err := os.WriteFile(p, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(p)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// shareAtRoot is a configuration with a WebDAV target whose share path is
// / (a folder on the server) and a dir target at dir/out.
func shareAtRoot(t *testing.T) (*config.Config, string) {
	t.Helper()
	dir := t.TempDir()
	pw := filepath.Join(dir, "dav.password")
	if err := os.WriteFile(pw, []byte("secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "out"), 0o700); err != nil {
		t.Fatal(err)
	}
	return writeConfig(t, dir, fmt.Sprintf("inbox: %[1]s/inbox\nstate_dir: %[1]s/state\ntargets:\n"+
		"  share:\n    type: webdav\n    url: http://127.0.0.1:1/\n    path: /\n    user: u\n    password_file: %[2]s\n    channel: newsletter\n"+
		"  website:\n    type: dir\n    path: %[1]s/out\n    channel: website\n", dir, pw)), dir
}

// A network target's path is a folder on its server: it does not make every
// folder on this machine "inside a target" (a WebDAV share at /), while a
// dir target still refuses the page.
func TestReviewPagePathIgnoresServerPaths(t *testing.T) {
	cfg, dir := shareAtRoot(t)
	if err := checkPrivateOut(cfg, filepath.Join(dir, "review.html"), privateHTML); err != nil {
		t.Errorf("a WebDAV target at / refused a page beside the config: %v", err)
	}
	if err := checkPrivateOut(cfg, filepath.Join(dir, "out", "review.html"), privateHTML); err == nil || !strings.Contains(err.Error(), "inside target website") {
		t.Errorf("a page inside the dir target: %v", err)
	}
}

// The same for batch: a photo named on the command line is not "inside" a
// WebDAV target whose share path is /.
func TestBatchFileWithAServerPathTarget(t *testing.T) {
	cfg, dir := shareAtRoot(t)
	photo := filepath.Join(dir, "IMG_0001.JPG")
	if err := os.WriteFile(photo, []byte("not read here"), 0o600); err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	if ins, err := batchInputs(cfg, []string{photo}, []string{"share"}, &stderr); err != nil || len(ins) != 1 {
		t.Errorf("batch of one file with a WebDAV target at /: %v, %v", ins, err)
	}
}
