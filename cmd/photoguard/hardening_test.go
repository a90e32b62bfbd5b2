package main

// Tests of issue 8 (hardening) at the level of the commands.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/photoguard/photoguard/config"
	"github.com/photoguard/photoguard/detect"
	"github.com/photoguard/photoguard/pipeline"
	"github.com/photoguard/photoguard/pipeline/consent"
)

// explain --out never truncates what a planted link points to.
func TestExplainOutNeverFollowsALink(t *testing.T) {
	dir := t.TempDir()
	key := filepath.Join(dir, "consent.key")
	if err := os.WriteFile(key, []byte("the key\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "check.png")
	if err := os.Symlink(key, out); err != nil {
		t.Fatal(err)
	}
	j := &pipeline.Job{Image: image.NewNRGBA(image.Rect(0, 0, 64, 48))}
	if err := writeAnnotated(&config.Config{}, out, j); err == nil {
		t.Error("explain --out wrote over a link")
	}
	if got, _ := os.ReadFile(key); string(got) != "the key\n" {
		t.Fatalf("explain --out wrote through the link: the key is now %q", got)
	}
	// A plain path works.
	if err := writeAnnotated(&config.Config{}, filepath.Join(dir, "ok.png"), j); err != nil {
		t.Fatal(err)
	}
}

// A restored older register is refused by the coordinator's commands with a
// message naming the deliberate command; consent accept-restore lists what
// differs by pupil id (never names) and then accepts it.
func TestConsentAcceptRestore(t *testing.T) {
	dir := t.TempDir()
	cfg := websiteConfig(t, dir, filepath.Join(dir, "models"))
	csv := filepath.Join(dir, "export.csv")
	if err := os.WriteFile(csv, []byte("leerlingnummer;voornaam;achternaam;groep;website;sociale_media;nieuwsbrief;ouderportaal;bevestigd_op\n"+
		"100231;Pietje;Puk;5;ja;ja;ja;ja;2026-09-01\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := consentImport(&out, cfg, csv, false, ""); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(cfg.StateDir, "registry", "registry.db")
	backup, err := os.ReadFile(db)
	if err != nil {
		t.Fatal(err)
	}
	store, err := openStore(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.Revoke("100231", "website"); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(db, backup, 0o600); err != nil {
		t.Fatal(err)
	}
	err = consentList(&out, cfg, "")
	if !errors.Is(err, consent.ErrRolledBack) || !strings.Contains(err.Error(), "photoguard consent accept-restore") {
		t.Fatalf("consent list over a restored register: %v", err)
	}
	out.Reset()
	if err := consentAcceptRestore(&out, cfg, false); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	for _, want := range []string{"100231 website: revoked on ", "-> yes (confirmed 2026-09-01)", "accepted"} {
		if !strings.Contains(got, want) {
			t.Errorf("accept-restore does not say %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "Pietje") || strings.Contains(got, "Puk") {
		t.Errorf("accept-restore names the pupil:\n%s", got)
	}
	out.Reset()
	if err := consentList(&out, cfg, ""); err != nil {
		t.Fatalf("consent list after accepting: %v", err)
	}
}

// config check accepts exactly what start-up then accepts: at both ends of
// every detector setting, what the configuration takes the detector takes
// (dlib.Config.Normalize, what New checks first), and the school year start
// the register takes (consent.Open).
func TestConfigCheckMatchesStartup(t *testing.T) {
	for _, c := range []struct {
		key    string
		lo, hi int
	}{
		{"workers", detect.MinWorkers, detect.MaxWorkers},
		{"faces.detect_max_side", detect.MinDetectMaxSide, detect.MaxDetectMaxSide},
		{"faces.upsample", detect.MinUpsample, detect.MaxUpsample},
		{"faces.cnn_max_side", detect.MinCNNMaxSide, detect.MaxCNNMaxSide},
	} {
		for _, v := range []int{c.lo - 1, c.lo, c.hi, c.hi + 1, 12, 64} {
			env := []string{config.EnvPrefix + "_" + strings.ToUpper(strings.ReplaceAll(c.key, ".", "_")) + "=" + fmt.Sprint(v)}
			cfg, cerr := config.Parse(nil, "/base", env)
			inRange := v >= c.lo && v <= c.hi
			if (cerr == nil) != inRange {
				t.Errorf("%s %d: config check says %v", c.key, v, cerr)
			}
			if cerr != nil {
				continue
			}
			if _, err := dlibConfig(cfg).Normalize(); err != nil {
				t.Errorf("%s %d: config check accepts it, start-up refuses it: %v", c.key, v, err)
			}
		}
	}
	for _, day := range []string{"08-01", "02-28", "02-29", "12-31"} {
		cfg, cerr := config.Parse([]byte("consent:\n  school_year_start: "+day+"\n"), "/base", nil)
		if cerr != nil {
			continue
		}
		m, d, _ := cfg.Consent.SchoolYearStartMD()
		k, _ := consent.NewKey()
		if _, err := consent.Open(t.TempDir(), k, consent.WithSchoolYearStart(m, d)); err != nil {
			t.Errorf("school_year_start %s: config check accepts it, start-up refuses it: %v", day, err)
		}
	}
}

// A file name with an ESC sequence, a newline or a bidirectional override
// reaches the terminal escaped, in the progress lines and in the summary.
func TestBatchOutputEscapesNames(t *testing.T) {
	evil := "groep-5/\x1b[2J\x1b]0;pwned\x07IMG\nquarantined fake.jpg\r\u202egpj.exe"
	it := pipeline.Item{Input: evil, Outcome: pipeline.Quarantined, Target: "website", Reason: "not a photo: " + evil}
	rep := pipeline.NewReport(false)
	var lines, summary bytes.Buffer
	prog := &progress{lines: &lines, counts: map[pipeline.Outcome]int{}}
	rep.Add(it)
	prog.item(it)
	rep.Finish()
	printSummary(&summary, rep, "website")
	for name, out := range map[string]string{"progress": lines.String(), "summary": summary.String()} {
		for _, r := range out {
			if r < 0x20 && r != '\n' || r == 0x7f || r == '\u202e' {
				t.Errorf("%s prints %U raw:\n%q", name, r, out)
				break
			}
		}
		if !strings.Contains(out, `\x1b[2J`) || !strings.Contains(out, `IMG\nquarantined`) || !strings.Contains(out, `\u202e`) {
			t.Errorf("%s does not show the name escaped:\n%s", name, out)
		}
	}
	if n := strings.Count(lines.String(), "\n"); n != 1 {
		t.Errorf("one photo made %d progress lines:\n%s", n, lines.String())
	}
}

// The service does not start with a target inside state_dir: a website sync
// of that folder would upload the key, the register and the originals in
// held/ and quarantine/. Nothing is created for it.
func TestRunRefusesTargetInsideState(t *testing.T) {
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "pg.yaml")
	yaml := fmt.Sprintf("inbox: %[1]s/inbox\nstate_dir: %[1]s/state\nmodels_dir: %[1]s/models\n"+
		"targets:\n  website:\n    type: dir\n    path: %[1]s/state/www\n    channel: website\n", dir)
	if err := os.WriteFile(cfgPath, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	err := runDaemon(t.Context(), cfgPath, slog.New(slog.DiscardHandler))
	if err == nil || !strings.Contains(err.Error(), "targets.website.path") || !strings.Contains(err.Error(), "state_dir") {
		t.Fatalf("run with a target inside state_dir: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "state")); err == nil {
		t.Error("state_dir was created for a configuration that is refused")
	}
}

// explain of a file that is not there, or of a link, is an error that names
// the file (exit status non-zero), before any model is loaded.
func TestExplainMissingFileIsAnError(t *testing.T) {
	dir := t.TempDir()
	cfg := websiteConfig(t, dir, filepath.Join(dir, "no-models"))
	var out bytes.Buffer
	err := explain(context.Background(), &out, cfg, filepath.Join(dir, "nofile.jpg"), "", "")
	if err == nil || !strings.Contains(err.Error(), "nofile.jpg") || !strings.Contains(err.Error(), "no such file") {
		t.Errorf("missing file: %v", err)
	}
	link := filepath.Join(dir, "link.jpg")
	if err := os.Symlink(filepath.Join(dir, "pg.yaml"), link); err != nil {
		t.Fatal(err)
	}
	if err := explain(context.Background(), &out, cfg, link, "", ""); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("link: %v", err)
	}
}
