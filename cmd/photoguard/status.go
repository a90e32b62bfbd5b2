package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/photoguard/photoguard/config"
	"github.com/photoguard/photoguard/detect/dlib"
	"github.com/photoguard/photoguard/pipeline"
	"github.com/photoguard/photoguard/pipeline/consent"
	"github.com/photoguard/photoguard/pipeline/inbox"
	"github.com/photoguard/photoguard/pipeline/journal"
)

func statusCmd() *cobra.Command {
	var last int
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show whether the service runs, what waits in the inbox, the last outcomes and held photos",
		Long: `Show whether the service runs, what waits in the inbox (counted with the same
rules the service takes files by: hidden and temporary files, teachers' notes
and .AAE edit files are not counted), the protected store, the photos in
progress, the last outcomes, and the photos in state_dir's held, quarantine
and rejected folders.

With --json the same is written as one JSON object (for monitoring):
  photoguard status --json | jq .inbox.waiting

Exit status: 0, or 1 when the configuration does not load or the inbox or the
journal cannot be read (what could be read is shown first).`,
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

// status is what `photoguard status` shows. It holds input paths below the
// inbox (which may hold children's names): it is for the ICT coordinator,
// like the batch report.
type status struct {
	Service struct {
		Running bool `json:"running"`
		PID     int  `json:"pid,omitempty"`
	} `json:"service"`
	StateDir   string         `json:"state_dir"`
	Inbox      inboxStatus    `json:"inbox"`
	Register   registerState  `json:"register"`
	InProgress []recordStatus `json:"in_progress"`
	Last       []recordStatus `json:"last"`
	// Aside are the photos in state_dir/held, quarantine and rejected,
	// newest first, by folder name.
	Aside map[string][]asideItem `json:"aside"`
	// Errors are what could not be read (the command then exits 1).
	Errors []string `json:"errors,omitempty"`
}

type inboxStatus struct {
	Path string `json:"path"`
	// Waiting counts every entry the service would take: Photos, Videos
	// (set aside with "videos are not published") and Other (links,
	// folders named like photos, devices: quarantined unread).
	Waiting int `json:"waiting"`
	Photos  int `json:"photos"`
	Videos  int `json:"videos"`
	Other   int `json:"other"`
	// Missing is set when the folder does not exist (yet).
	Missing bool `json:"missing,omitempty"`
}

type registerState struct {
	// State is "empty", "unusable" (every photo is held), "stale" (every
	// photo is held: references of other model files) or "ok".
	State    string `json:"state"`
	People   int    `json:"people,omitempty"`
	Enrolled int    `json:"enrolled,omitempty"`
	Problem  string `json:"problem,omitempty"`
}

type recordStatus struct {
	Updated time.Time `json:"updated"`
	State   string    `json:"state"`
	Outcome string    `json:"outcome,omitempty"`
	Input   string    `json:"input"`
	SHA256  string    `json:"sha256"`
	// Outputs are "target:name" of each publication.
	Outputs []string `json:"outputs,omitempty"`
	Reason  string   `json:"reason,omitempty"`
}

type asideItem struct {
	Folder string    `json:"folder"`
	Input  string    `json:"input,omitempty"`
	Reason string    `json:"reason"`
	At     time.Time `json:"at"`
}

func (s *status) err() error {
	if len(s.Errors) == 0 {
		return nil
	}
	return errors.New(strings.Join(s.Errors, "; "))
}

// collectStatus reads the state without changing anything: the run lock,
// the inbox (walked with the inbox's own rules, removing nothing), the
// store (no store or key is created), the journal and the aside folders.
func collectStatus(cfg *config.Config, last int) *status {
	s := &status{Aside: map[string][]asideItem{}, InProgress: []recordStatus{}, Last: []recordStatus{}}
	switch pid := journal.RunPID(cfg.StateDir); {
	case pid > 0:
		s.Service.Running, s.Service.PID = true, pid
	case pid < 0:
		s.Service.Running = true
	}
	s.StateDir, s.Inbox.Path = cfg.StateDir, cfg.Inbox
	entries, err := inbox.Walk(inbox.Root{Dir: cfg.Inbox}, inbox.WalkOptions{Own: []string{cfg.StateDir}})
	switch {
	case errors.Is(err, fs.ErrNotExist):
		s.Inbox.Missing = true // made by the service at its start
	case err != nil:
		s.Errors = append(s.Errors, "inbox: "+err.Error())
	}
	for _, e := range entries {
		switch e.Kind {
		case inbox.Photo:
			s.Inbox.Photos++
		case inbox.Video:
			s.Inbox.Videos++
		default:
			s.Inbox.Other++
		}
	}
	s.Inbox.Waiting = len(entries)
	s.Register = registerStatus(cfg)

	if _, err := os.Stat(filepath.Join(cfg.StateDir, "journal")); err == nil {
		recs, err := readJournal(cfg.StateDir)
		if err != nil {
			s.Errors = append(s.Errors, "journal: "+err.Error())
		}
		var done []*journal.Record
		for _, r := range recs {
			if r.State == journal.Done {
				done = append(done, r)
			} else {
				s.InProgress = append(s.InProgress, record(r))
			}
		}
		sort.Slice(done, func(a, b int) bool { return done[a].UpdatedAt.After(done[b].UpdatedAt) })
		for _, r := range done[:min(len(done), max(last, 0))] {
			s.Last = append(s.Last, record(r))
		}
	}
	for _, folder := range []string{"held", "quarantine", "rejected"} {
		if items := asideItems(filepath.Join(cfg.StateDir, folder)); len(items) > 0 {
			s.Aside[folder] = items
		}
	}
	return s
}

func record(r *journal.Record) recordStatus {
	rs := recordStatus{Updated: r.UpdatedAt, State: string(r.State), Outcome: r.Outcome, Input: r.Rel, SHA256: r.SHA256}
	for t, d := range r.Deliveries {
		if d.Published {
			rs.Outputs = append(rs.Outputs, t+":"+d.Name)
		}
	}
	sort.Strings(rs.Outputs)
	if r.Outcome != string(pipeline.Published) {
		rs.Reason = r.Reason
	}
	return rs
}

// printStatus writes the status for a person; the error says what could
// not be read.
func printStatus(w io.Writer, cfg *config.Config, last int) error {
	s := collectStatus(cfg, last)
	writeStatus(w, s)
	return s.err()
}

// printStatusJSON writes the status as one JSON object.
func printStatusJSON(w io.Writer, cfg *config.Config, last int) error {
	s := collectStatus(cfg, last)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(s); err != nil {
		return err
	}
	return s.err()
}

func writeStatus(w io.Writer, s *status) {
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
	fmt.Fprintf(w, "register: %s\n", s.Register)
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
			line := fmt.Sprintf("  %s  %-11s %s", r.Updated.Local().Format("2006-01-02 15:04"), r.Outcome, shown(r.Input))
			if len(r.Outputs) > 0 {
				line += " -> " + strings.Join(r.Outputs, " ")
			}
			if r.Reason != "" {
				line += "\n      " + shown(r.Reason)
			}
			fmt.Fprintln(w, line)
		}
	}
	for _, folder := range []string{"held", "quarantine", "rejected"} {
		items := s.Aside[folder]
		if len(items) == 0 {
			continue
		}
		fmt.Fprintf(w, "\n%s (%d, in %s):\n", folder, len(items), filepath.Join(s.StateDir, folder))
		show := items
		if folder != "held" && len(show) > 5 {
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

func (r registerState) String() string {
	switch r.State {
	case "empty":
		return "empty: import the consent register (photoguard consent import)"
	case "unusable":
		return "cannot be used, every photo is held: " + r.Problem
	}
	s := fmt.Sprintf("%d in the register, %d enrolled", r.People, r.Enrolled)
	if r.Problem != "" {
		if r.State == "stale" {
			return s + "\n          every photo is held: " + r.Problem
		}
		return s + "; " + r.Problem
	}
	return s
}

// registerStatus sums up the protected store (counts only, no names) and
// says when it makes the service hold every photo. It creates neither a
// store nor a key.
func registerStatus(cfg *config.Config) registerState {
	if !consent.Exists(cfg.StateDir) {
		return registerState{State: "empty"}
	}
	store, err := openStore(cfg)
	if err != nil {
		return registerState{State: "unusable", Problem: err.Error()}
	}
	snap := store.Snapshot()
	if err := snap.Err(); err != nil {
		return registerState{State: "unusable", Problem: err.Error()}
	}
	r := registerState{State: "ok", People: snap.Len(), Enrolled: len(snap.People())}
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

func readJournal(stateDir string) ([]*journal.Record, error) {
	j, err := journal.Open(stateDir)
	if err != nil {
		return nil, err
	}
	defer j.Close()
	return j.List()
}

// asideItems lists the photos moved to one of state_dir's outcome folders,
// newest first, with the photo and reason lines of each reason file.
func asideItems(dir string) []asideItem {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var items []asideItem
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		text, err := os.ReadFile(filepath.Join(dir, e.Name(), "reason.txt"))
		if err != nil {
			continue
		}
		it := asideItem{Folder: e.Name()}
		for _, line := range strings.Split(string(text), "\n") {
			if v, ok := strings.CutPrefix(line, "photo:"); ok {
				it.Input = strings.TrimSpace(v)
			}
			if v, ok := strings.CutPrefix(line, "reason:"); ok {
				it.Reason = strings.TrimSpace(v)
			}
		}
		if info, err := e.Info(); err == nil {
			it.At = info.ModTime()
		}
		items = append(items, it)
	}
	sort.Slice(items, func(a, b int) bool { return items[a].At.After(items[b].At) })
	return items
}
