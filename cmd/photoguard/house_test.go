package main

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/photoguard/photoguard/pipeline"
	"github.com/photoguard/photoguard/pipeline/journal"
	"github.com/photoguard/photoguard/pipeline/ledger"
	"github.com/photoguard/photoguard/pipeline/state"
	"github.com/photoguard/photoguard/redact/testenv"
)

// The commands that only show something, and every --dry-run, change
// nothing in the state folder: they open it read-only (pipeline/state).
func TestShowingAndDryRunsWriteNothing(t *testing.T) {
	cfg, dir := consentSchool(t)
	sha := strings.Repeat("5e", 32)
	h, err := openHouse(cfg, state.Write)
	if err != nil {
		t.Fatal(err)
	}
	j, err := h.Journal()
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	if err := j.Put(&journal.Record{SHA256: sha, State: journal.Done, Outcome: "published", Targets: []string{"website"},
		Deliveries: map[string]*journal.Delivery{"website": {Name: pipeline.OutputName(now, sha), Published: true, At: now}},
		ClaimedAt:  now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	led, err := h.Ledger()
	if err != nil {
		t.Fatal(err)
	}
	if err := led.Published(pipeline.Publication{SHA256: sha, Target: "website", Channel: "website",
		Name: pipeline.OutputName(now, sha), Ref: pipeline.OutputName(now, sha), Pupils: []string{"sheldon"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := openApprovals(h); err != nil {
		t.Fatal(err)
	}
	h.Close()
	csv := writeCSV(t, dir, "next.csv", demoConsent(now))

	before := testenv.Tree(t, cfg.StateDir)
	time.Sleep(10 * time.Millisecond) // a write now would show in a time
	var out bytes.Buffer
	ctx := context.Background()
	commands := map[string]func() error{
		"status":                           func() error { return printStatus(&out, cfg, 15) },
		"published":                        func() error { return printPublished(&out, cfg, ledger.Query{}, false) },
		"pending":                          func() error { return printPending(&out, cfg, false, now) },
		"consent list":                     func() error { return consentListAs(&out, cfg, "", false) },
		"enroll --list":                    func() error { return enrollListAs(&out, cfg, false) },
		"ledger check":                     func() error { return ledgerCheck(&out, cfg) },
		"consent import --dry-run":         func() error { return consentImport(&out, cfg, csv, true, "") },
		"consent accept-restore --dry-run": func() error { return consentAcceptRestore(&out, cfg, true) },
		"purge --dry-run":                  func() error { return runPurge(ctx, &out, cfg, true) },
		"takedown --dry-run": func() error {
			return runTakedown(ctx, &out, cfg, ledger.Request{Pupil: "sheldon", DryRun: true})
		},
	}
	order := []string{"status", "published", "pending", "consent list", "enroll --list", "ledger check",
		"consent import --dry-run", "consent accept-restore --dry-run", "purge --dry-run", "takedown --dry-run"}
	if len(order) != len(commands) {
		t.Fatal("order misses a command")
	}
	for _, name := range order {
		run := commands[name]
		out.Reset()
		var ee exitError
		if err := run(); err != nil && !errors.As(err, &ee) {
			t.Errorf("%s: %v\n%s", name, err, out.String())
		}
		if name == "takedown --dry-run" && !strings.Contains(out.String(), "would take down") {
			t.Errorf("takedown --dry-run found nothing to take down:\n%s", out.String())
		}
		after := testenv.Tree(t, cfg.StateDir)
		for p, v := range after {
			if before[p] != v {
				t.Errorf("%s changed %s: %q, was %q", name, p, v, before[p])
			}
		}
		for p := range before {
			if _, ok := after[p]; !ok {
				t.Errorf("%s removed %s", name, p)
			}
		}
		before = after // each change is said once, by the command that made it
	}

	// A state folder not made yet stays not made.
	cfg.StateDir = filepath.Join(dir, "new-state")
	for _, name := range []string{"status", "published", "pending", "consent list", "enroll --list", "ledger check",
		"consent import --dry-run", "takedown --dry-run"} {
		_ = commands[name]()
		if _, err := os.Lstat(cfg.StateDir); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("%s made the state folder: %v", name, err)
		}
	}
}
