package status

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/photoguard/photoguard/pipeline/core"
	"github.com/photoguard/photoguard/pipeline/inbox"
	"github.com/photoguard/photoguard/pipeline/journal"
	"github.com/photoguard/photoguard/pipeline/ledger"
	"github.com/photoguard/photoguard/pipeline/state"
)

// Aside are the folders of inputs that were not published, in the order
// status shows them.
func Aside() []string { return []string{state.Held, state.Quarantine, state.Rejected} }

// Status is what `photoguard status` shows (its --json form). It holds input paths below the
// inbox (which may hold children's names): it is for the ICT coordinator,
// like the batch report.
type Status struct {
	Service struct {
		Running bool `json:"running"`
		PID     int  `json:"pid,omitempty"`
	} `json:"service"`
	StateDir     string       `json:"state_dir"`
	Inbox        Inbox        `json:"inbox"`
	ConsentStore ConsentStore `json:"register"`
	InProgress   []Record     `json:"in_progress"`
	Last         []Record     `json:"last"`
	// Aside are the photos in state_dir/held, quarantine and rejected,
	// newest first, by folder name.
	Aside map[string][]AsideItem `json:"aside"`
	// Errors are what could not be read (the command then exits 1).
	Errors []string `json:"errors,omitempty"`
	// Ledger is what reading the publication ledger found.
	Ledger Ledger `json:"ledger"`
}

// Ledger sums up the publication ledger: lines skipped (damaged, or
// changed since they were sealed) make the command exit 2.
type Ledger struct {
	Entries int `json:"entries"`
	Damaged int `json:"damaged_lines"`
	Changed int `json:"changed_lines"`
	// Problem says what was skipped and what to run ("" when nothing).
	Problem string `json:"problem,omitempty"`
	// Leftovers counts temporary uploads a target may have taken after
	// photoguard gave up on them, not yet confirmed gone (the service
	// sweeps them).
	Leftovers int `json:"leftovers,omitempty"`
}

// Inbox is what waits in the inbox.
type Inbox struct {
	Path string `json:"path"`
	// Waiting counts every entry the service would take: Photos, Videos
	// (published as videos, or set aside: see pipeline/video.go) and Other (links,
	// folders named like photos, devices: quarantined unread).
	Waiting int `json:"waiting"`
	Photos  int `json:"photos"`
	Videos  int `json:"videos"`
	Other   int `json:"other"`
	// Missing is set when the folder does not exist (yet).
	Missing bool `json:"missing,omitempty"`
}

// ConsentStore sums up the consent store (counts only, no names).
type ConsentStore struct {
	// State is "empty", "unusable" (every photo is held), "stale" (every
	// photo is held: references of other model files) or "ok".
	State    string `json:"state"`
	People   int    `json:"people,omitempty"`
	Enrolled int    `json:"enrolled,omitempty"`
	Problem  string `json:"problem,omitempty"`
}

// Record is one journal record.
type Record struct {
	Updated time.Time `json:"updated"`
	State   string    `json:"state"`
	Outcome string    `json:"outcome,omitempty"`
	Input   string    `json:"input"`
	SHA256  string    `json:"sha256"`
	// Outputs are "target:name" of each publication.
	Outputs []string `json:"outputs,omitempty"`
	Reason  string   `json:"reason,omitempty"`
}

// AsideItem is one photo in a held, quarantine or rejected folder.
type AsideItem struct {
	Folder string    `json:"folder"`
	Input  string    `json:"input,omitempty"`
	Reason string    `json:"reason"`
	At     time.Time `json:"at"`
}

// TakenDown is the outcome shown for a photo whose every output was taken
// down.
const TakenDown = "taken down"

// Err joins what could not be read, or is nil.
func (s *Status) Err() error {
	if len(s.Errors) == 0 {
		return nil
	}
	return errors.New(strings.Join(s.Errors, "; "))
}

// Options say where to look.
type Options struct {
	StateDir, Inbox string
	// Last is how many recent outcomes to list.
	Last int
	// ConsentStore sums up the consent store (the caller opens it: it
	// needs the key and the face model files).
	ConsentStore func() ConsentStore
	// LedgerKey checks the seals of the ledger's lines (nil: not checked).
	LedgerKey []byte
}

// Collect reads the state without changing anything: the run lock, the
// inbox (walked with the inbox's own rules, removing nothing), the store
// (through o.ConsentStore), the journal and the aside folders.
func Collect(o Options) *Status {
	s := &Status{Aside: map[string][]AsideItem{}, InProgress: []Record{}, Last: []Record{}}
	switch pid := state.RunPID(o.StateDir); {
	case pid > 0:
		s.Service.Running, s.Service.PID = true, pid
	case pid < 0:
		s.Service.Running = true
	}
	s.StateDir, s.Inbox.Path = o.StateDir, o.Inbox
	entries, err := inbox.Walk(inbox.Root{Dir: o.Inbox}, inbox.WalkOptions{Own: []string{o.StateDir}})
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
	s.ConsentStore = o.ConsentStore()
	if rd, err := ledger.Read(o.StateDir, o.LedgerKey); err != nil {
		s.Errors = append(s.Errors, err.Error())
	} else {
		s.Ledger = Ledger{Entries: len(rd.Entries), Damaged: len(rd.Damaged), Changed: len(rd.Changed), Problem: rd.Problem(),
			Leftovers: len(ledger.Leftovers(rd.Entries))}
	}

	if _, err := os.Stat(filepath.Join(o.StateDir, state.Journal)); err == nil {
		recs, err := readJournal(o.StateDir)
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
		for _, r := range done[:min(len(done), max(o.Last, 0))] {
			s.Last = append(s.Last, record(r))
		}
	}
	for _, folder := range Aside() {
		if items := asideItems(filepath.Join(o.StateDir, folder)); len(items) > 0 {
			s.Aside[folder] = items
		}
	}
	return s
}

func record(r *journal.Record) Record {
	rs := Record{Updated: r.UpdatedAt, State: string(r.State), Outcome: r.Outcome, Input: r.Rel, SHA256: r.SHA256}
	up, down := 0, 0
	for t, d := range r.Deliveries {
		switch {
		case !d.TakenDown.IsZero():
			rs.Outputs = append(rs.Outputs, t+":"+d.Name+" (taken down)")
			down++
		case d.Published:
			rs.Outputs = append(rs.Outputs, t+":"+d.Name)
			up++
		}
	}
	sort.Strings(rs.Outputs)
	if down > 0 && up == 0 && rs.Outcome == string(core.Published) {
		// Every output of it was taken down since.
		rs.Outcome = TakenDown
	}
	if r.Outcome != string(core.Published) {
		rs.Reason = r.Reason
	}
	return rs
}

func readJournal(stateDir string) ([]*journal.Record, error) {
	// Read-only: status claims nothing and registers no owner.
	return journal.ReadOnly(stateDir).List()
}

// asideItems lists the photos moved to one of state_dir's outcome folders,
// newest first, with the photo and reason lines of each reason file.
func asideItems(dir string) []AsideItem {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var items []AsideItem
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		text, err := os.ReadFile(filepath.Join(dir, e.Name(), "reason.txt"))
		if err != nil {
			continue
		}
		it := AsideItem{Folder: e.Name()}
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
