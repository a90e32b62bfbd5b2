package main

import (
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
	"github.com/photoguard/photoguard/pipeline/journal"
)

func statusCmd() *cobra.Command {
	var last int
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show whether the service runs, what waits in the inbox, the last outcomes and held photos",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := loadConfig()
			if err != nil {
				return err
			}
			return printStatus(os.Stdout, cfg, last)
		},
	}
	cmd.Flags().IntVar(&last, "last", 15, "how many recent outcomes to show")
	return cmd
}

func printStatus(w io.Writer, cfg *config.Config, last int) error {
	switch pid := daemonPID(cfg.StateDir); {
	case pid > 0:
		fmt.Fprintf(w, "service:  running (pid %d)\n", pid)
	case pid < 0:
		fmt.Fprintln(w, "service:  running")
	default:
		fmt.Fprintln(w, "service:  not running")
	}
	waiting := 0
	_ = filepath.WalkDir(cfg.Inbox, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if d.IsDir() {
			if p != cfg.Inbox && strings.HasPrefix(d.Name(), ".") {
				return filepath.SkipDir
			}
			return nil
		}
		if !pipeline.Ignored(d.Name()) {
			waiting++
		}
		return nil
	})
	fmt.Fprintf(w, "inbox:    %s (%s waiting)\n", cfg.Inbox, plural(waiting, "file"))
	fmt.Fprintf(w, "register: %s\n", registerStatus(cfg))

	var recs []*journal.Record
	if _, err := os.Stat(filepath.Join(cfg.StateDir, "journal")); err == nil {
		// Reading needs no owner registration: list the record files.
		recs, err = readJournal(cfg.StateDir)
		if err != nil {
			fmt.Fprintf(w, "journal:  %v\n", err)
		}
	}
	var busy, done []*journal.Record
	for _, r := range recs {
		if r.State == journal.Done {
			done = append(done, r)
		} else {
			busy = append(busy, r)
		}
	}
	if len(busy) > 0 {
		fmt.Fprintf(w, "\nin progress (%d):\n", len(busy))
		for _, r := range busy {
			fmt.Fprintf(w, "  %s  %-12s %s\n", r.UpdatedAt.Local().Format("2006-01-02 15:04"), r.State, shown(r.Rel))
		}
	}
	sort.Slice(done, func(a, b int) bool { return done[a].UpdatedAt.After(done[b].UpdatedAt) })
	if len(done) > last {
		done = done[:last]
	}
	if len(done) > 0 {
		fmt.Fprintf(w, "\nlast outcomes:\n")
		for _, r := range done {
			line := fmt.Sprintf("  %s  %-11s %s", r.UpdatedAt.Local().Format("2006-01-02 15:04"), r.Outcome, shown(r.Rel))
			var outs []string
			for t, d := range r.Deliveries {
				if d.Published {
					outs = append(outs, t+":"+d.Name)
				}
			}
			sort.Strings(outs)
			if len(outs) > 0 {
				line += " -> " + strings.Join(outs, " ")
			}
			if r.Outcome != string(pipeline.Published) && r.Reason != "" {
				line += "\n      " + r.Reason
			}
			fmt.Fprintln(w, line)
		}
	}
	for _, folder := range []string{"held", "quarantine", "rejected"} {
		items := asideItems(filepath.Join(cfg.StateDir, folder))
		if len(items) == 0 {
			continue
		}
		fmt.Fprintf(w, "\n%s (%d, in %s):\n", folder, len(items), filepath.Join(cfg.StateDir, folder))
		show := items
		if folder != "held" && len(show) > 5 {
			show = show[:5]
		}
		for _, it := range show {
			fmt.Fprintf(w, "  %s\n      %s\n", shown(it.name), shown(it.reason))
		}
		if len(show) < len(items) {
			fmt.Fprintf(w, "  ... and %d more\n", len(items)-len(show))
		}
	}
	return nil
}

// registerStatus sums up the protected store (counts only, no names) and
// says when it makes the service hold every photo. It creates neither a
// store nor a key.
func registerStatus(cfg *config.Config) string {
	if !consent.Exists(cfg.StateDir) {
		return "empty: import the consent register (photoguard consent import)"
	}
	store, err := openStore(cfg)
	if err != nil {
		return fmt.Sprintf("cannot be used, every photo is held: %v", err)
	}
	snap := store.Snapshot()
	if err := snap.Err(); err != nil {
		return fmt.Sprintf("cannot be used, every photo is held: %v", err)
	}
	s := fmt.Sprintf("%d in the register, %d enrolled", snap.Len(), len(snap.People()))
	model, err := dlib.ModelID(cfg.ModelsDir)
	if err != nil {
		return s + fmt.Sprintf("; the face model files could not be checked: %v", err)
	}
	if err := staleModels(snap, model); err != nil {
		return s + "\n          every photo is held: " + err.Error()
	}
	return s
}

func readJournal(stateDir string) ([]*journal.Record, error) {
	j, err := journal.Open(stateDir)
	if err != nil {
		return nil, err
	}
	defer j.Close()
	return j.List()
}

type asideItem struct {
	name, reason string
	at           time.Time
}

// asideItems lists the photos moved to one of state_dir's outcome folders,
// newest first, with the reason line of each.
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
		it := asideItem{name: e.Name()}
		for _, line := range strings.Split(string(text), "\n") {
			if v, ok := strings.CutPrefix(line, "photo:"); ok {
				it.name = e.Name() + "  (" + strings.TrimSpace(v) + ")"
			}
			if v, ok := strings.CutPrefix(line, "reason:"); ok {
				it.reason = strings.TrimSpace(v)
			}
		}
		if info, err := e.Info(); err == nil {
			it.at = info.ModTime()
		}
		items = append(items, it)
	}
	sort.Slice(items, func(a, b int) bool { return items[a].at.After(items[b].at) })
	return items
}
