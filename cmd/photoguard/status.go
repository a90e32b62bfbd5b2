package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/photoguard/photoguard/config"
	"github.com/photoguard/photoguard/detect/dlib"
	"github.com/photoguard/photoguard/pipeline/approval"
	"github.com/photoguard/photoguard/pipeline/consent"
	"github.com/photoguard/photoguard/pipeline/state"
	"github.com/photoguard/photoguard/pipeline/status"
)

func statusCmd() *cobra.Command {
	var last int
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show whether the service runs, what waits in the inbox, the last outcomes and held photos",
		Long: `Show whether the service runs, what waits in the inbox (counted with the same
rules the service takes files by: hidden and temporary files, teachers' notes
and .AAE edit files are not counted), the consent store, the photos in
progress, the last outcomes, and the photos in state_dir's held, quarantine
and rejected folders.

With --json the same is written as one JSON object (for monitoring):
  photoguard status --json | jq .inbox.waiting

Exit status: 0; 1 when the configuration does not load or the inbox or the
journal cannot be read (what could be read is shown first); 2 when lines of
the publication ledger were skipped (damaged, or changed since they were
written: run photoguard ledger check).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := loadConfig()
			if err != nil {
				return err
			}
			if asJSON {
				return printStatusJSON(os.Stdout, cfg, last)
			}
			return printStatus(os.Stdout, cfg, last)
		},
	}
	cmd.Flags().IntVar(&last, "last", 15, "how many recent outcomes to show")
	cmd.Flags().BoolVar(&asJSON, "json", false, "write the status as JSON")
	return cmd
}

// collectStatus is status.Collect of the configured folders.
func collectStatus(cfg *config.Config, last int) *status.Status {
	o := status.Options{StateDir: cfg.StateDir, Inbox: cfg.Inbox, Last: last}
	h, err := openHouse(cfg, state.ReadOnly)
	if err == nil {
		defer h.Close()
		o.ConsentStore = func() status.ConsentStore { return consentStoreStatus(cfg, h) }
		o.LedgerKey, err = h.LedgerKey()
	} else {
		problem := err.Error()
		o.ConsentStore = func() status.ConsentStore { return status.ConsentStore{State: "unusable", Problem: problem} }
	}
	s := status.Collect(o)
	if err != nil {
		s.Errors = append(s.Errors, err.Error())
	}
	return s
}

// statusExit is the status's error: what could not be read (exit 1), or
// skipped lines of the ledger (exit 2).
func statusExit(s *status.Status) error {
	if err := s.Err(); err != nil {
		return err
	}
	if s.Ledger.Problem != "" {
		return exitError{exitAttention}
	}
	return nil
}

// printStatus writes the status for a person; the error says what could
// not be read.
func printStatus(w io.Writer, cfg *config.Config, last int) error {
	s := collectStatus(cfg, last)
	writeStatus(w, s)
	return statusExit(s)
}

// printStatusJSON writes the status as one JSON object.
func printStatusJSON(w io.Writer, cfg *config.Config, last int) error {
	s := collectStatus(cfg, last)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(s); err != nil {
		return err
	}
	return statusExit(s)
}

func writeStatus(w io.Writer, s *status.Status) {
	switch {
	case s.Service.PID > 0:
		fmt.Fprintf(w, "service:  running (pid %d)\n", s.Service.PID)
	case s.Service.Running:
		fmt.Fprintln(w, "service:  running")
	default:
		fmt.Fprintln(w, "service:  not running")
	}
	in := s.Inbox
	waiting := plural(in.Waiting, "file") + " waiting"
	if in.Videos > 0 || in.Other > 0 {
		parts := []string{plural(in.Photos, "photo")}
		if in.Videos > 0 {
			parts = append(parts, plural(in.Videos, "video"))
		}
		if in.Other > 0 {
			parts = append(parts, fmt.Sprintf("%d not a photo", in.Other))
		}
		waiting += ": " + strings.Join(parts, ", ")
	}
	if in.Missing {
		waiting = "does not exist yet: photoguard run makes it"
	}
	fmt.Fprintf(w, "inbox:    %s (%s)\n", in.Path, waiting)
	fmt.Fprintf(w, "consent:  %s\n", consentStoreLine(s.ConsentStore))
	if n, err := approval.CountWaiting(s.StateDir); err != nil {
		fmt.Fprintf(w, "approval: cannot be read: %v\n", err)
	} else if n > 0 {
		what := "photos wait"
		if n == 1 {
			what = "photo waits"
		}
		fmt.Fprintf(w, "approval: %d %s for the direction's approval (photoguard pending)\n", n, what)
	}
	if s.Ledger.Problem != "" {
		fmt.Fprintf(w, "ledger:   %s\n", shown(s.Ledger.Problem))
	}
	if n := s.Ledger.Leftovers; n > 0 {
		fmt.Fprintf(w, "ledger:   %s a target may have taken after photoguard gave up on them, not yet confirmed gone (the service removes them; photoguard purge does it now)\n",
			plural(n, "temporary upload"))
	}
	for _, e := range s.Errors {
		fmt.Fprintf(w, "error:    %s\n", e)
	}
	if len(s.InProgress) > 0 {
		fmt.Fprintf(w, "\nin progress (%d):\n", len(s.InProgress))
		for _, r := range s.InProgress {
			fmt.Fprintf(w, "  %s  %-12s %s\n", r.Updated.Local().Format("2006-01-02 15:04"), r.State, shown(r.Input))
		}
	}
	if len(s.Last) > 0 {
		fmt.Fprintf(w, "\nlast outcomes:\n")
		for _, r := range s.Last {
			// A finished record keeps no input path (it may hold a
			// child's name): the photo is named by its short hash then,
			// the hash that takedown and retry take.
			what := shown(r.Input)
			if r.Input == "" && len(r.SHA256) >= 12 {
				what = r.SHA256[:12]
			}
			line := fmt.Sprintf("  %s  %-11s %s", r.Updated.Local().Format("2006-01-02 15:04"), r.Outcome, what)
			if len(r.Outputs) > 0 {
				line += " -> " + strings.Join(r.Outputs, " ")
			}
			if r.Reason != "" {
				line += "\n      " + shown(r.Reason)
			}
			fmt.Fprintln(w, line)
		}
	}
	for _, folder := range status.Aside() {
		items := s.Aside[folder]
		if len(items) == 0 {
			continue
		}
		fmt.Fprintf(w, "\n%s (%d, in %s):\n", folder, len(items), filepath.Join(s.StateDir, folder))
		show := items
		if folder != state.Held && len(show) > 5 {
			show = show[:5]
		}
		for _, it := range show {
			name := it.Folder
			if it.Input != "" {
				name += "  (" + it.Input + ")"
			}
			fmt.Fprintf(w, "  %s\n      %s\n", shown(name), shown(it.Reason))
		}
		if len(show) < len(items) {
			fmt.Fprintf(w, "  ... and %d more\n", len(items)-len(show))
		}
	}
}

// consentStoreLine is the consent store's line of the status.
func consentStoreLine(r status.ConsentStore) string {
	switch r.State {
	case "empty":
		return "the consent store is empty: import the consent register (photoguard consent import)"
	case "unusable":
		return "the consent store cannot be used, every photo is held: " + r.Problem
	}
	s := fmt.Sprintf("%d people in the consent store, %d enrolled", r.People, r.Enrolled)
	if r.Problem != "" {
		if r.State == "stale" {
			return s + "\n          every photo is held: " + r.Problem
		}
		return s + "; " + r.Problem
	}
	return s
}

// consentStoreStatus sums up the consent store (counts only, no names) and
// says when it makes the service hold every photo. It reads house h, which
// is read-only: it creates neither a store nor a key.
func consentStoreStatus(cfg *config.Config, h *state.House) status.ConsentStore {
	if !consent.Exists(h.Dir) {
		return status.ConsentStore{State: "empty"}
	}
	store, err := h.Store()
	if err != nil {
		return status.ConsentStore{State: "unusable", Problem: err.Error()}
	}
	snap := store.Snapshot()
	if err := snap.Err(); err != nil {
		return status.ConsentStore{State: "unusable", Problem: err.Error()}
	}
	r := status.ConsentStore{State: "ok", People: snap.Len(), Enrolled: len(snap.People())}
	model, err := dlib.ModelID(cfg.ModelsDir)
	if err != nil {
		r.Problem = fmt.Sprintf("the face model files could not be checked: %v", err)
		return r
	}
	if err := staleModels(snap, model); err != nil {
		r.State, r.Problem = "stale", err.Error()
	}
	return r
}
