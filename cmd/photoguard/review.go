package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/photoguard/photoguard/config"
	"github.com/photoguard/photoguard/pipeline"
	"github.com/photoguard/photoguard/pipeline/review"
	"github.com/photoguard/photoguard/pipeline/state"
)

// reviewSink is the pipeline's review sink: the records that `review`
// makes its page from. A dry run keeps none.
func reviewSink(cfg *config.Config, m runMode) pipeline.ReviewSink {
	if m.dryRun {
		return nil
	}
	return review.New(cfg.StateDir)
}

type reviewFlags struct {
	since, batch, out string
	names, json       bool
	waiting           bool
}

func reviewCmd() *cobra.Command {
	var f reviewFlags
	cmd := &cobra.Command{
		Use:   "review [--since DATE | --batch REPORT] [--out review.html]",
		Short: "Write a page that shows, per photo, what photoguard decided about every face",
		Long: `Write one self-contained HTML page (no external files, works offline) with, per
photo, the published output beside a preview of the input with every face
boxed and numbered: shown (with the pupil id) or redacted (and why), the
distance to the nearest pupils, and per target what it did. Filters show only
held photos, photos with an unknown face, or photos with a face shown.

The records are made when photos are processed (by run and batch), in
state_dir/review/<date>/. --since DATE (YYYY-MM-DD, today, yesterday; the
default is today) takes the photos processed from that day on; --batch REPORT
those of a batch report. The page shows children's faces unredacted: it is
written 0600, into the state folder unless --out says where, never into a
target, and it names nobody unless --names is given.

With --waiting the page is the direction's instead: every photo that waits
for approval, as it would be published (nothing unredacted), with the
commands that approve or reject it.

Fix what is wrong from the commands the page shows:
  photoguard enroll ID --from PHOTO --face N     this face is ID
  photoguard correct PHOTO --face N --not ID     this face is not ID`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := loadConfig()
			if err != nil {
				return err
			}
			if f.waiting {
				return waitingPage(os.Stdout, cfg, f, time.Now())
			}
			return reviewPage(os.Stdout, cfg, f, time.Now())
		},
	}
	cmd.Flags().StringVar(&f.since, "since", "", "photos processed from this day on (YYYY-MM-DD, today, yesterday; default today)")
	cmd.Flags().StringVar(&f.batch, "batch", "", "the photos of this batch report (batch --report)")
	cmd.Flags().StringVar(&f.out, "out", "", "write the page here (default state_dir/review/<today>/review.html)")
	cmd.Flags().BoolVar(&f.names, "names", false, "show first names, groups and input file names (the page then holds names: keep it to yourself)")
	cmd.Flags().BoolVar(&f.json, "json", false, "print the photos and faces as JSON on standard output (no page unless --out is given)")
	cmd.Flags().BoolVar(&f.waiting, "waiting", false, "the photos waiting for the direction's approval, as they would be published, with the commands to answer them")
	return cmd
}

// parseSince reads --since (review, published) as a local day, or a moment
// in RFC 3339.
func parseSince(s string, now time.Time) (time.Time, error) {
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.Local)
	switch strings.ToLower(s) {
	case "", "today":
		return today, nil
	case "yesterday":
		return today.AddDate(0, 0, -1), nil
	}
	if t, err := time.ParseInLocation("2006-01-02", s, time.Local); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("--since %q: give a date as YYYY-MM-DD, today or yesterday", s)
}

// reviewRecords selects the records for the page, with a note for each
// photo of a batch report that has none.
func reviewRecords(cfg *config.Config, f reviewFlags, now time.Time) (recs []*review.Record, missing []pipeline.Item, what string, err error) {
	if f.batch != "" && f.since != "" {
		return nil, nil, "", errors.New("give --since or --batch, not both")
	}
	if f.batch == "" {
		since, err := parseSince(f.since, now)
		if err != nil {
			return nil, nil, "", err
		}
		recs, err := review.Load(cfg.StateDir, since)
		return recs, nil, "photos processed since " + since.Format("Monday 2 January 2006"), err
	}
	data, err := os.ReadFile(f.batch)
	if err != nil {
		return nil, nil, "", fmt.Errorf("--batch: %w", err)
	}
	var rep struct {
		Summary pipeline.Summary `json:"summary"`
		Items   []pipeline.Item  `json:"items"`
	}
	if err := json.Unmarshal(data, &rep); err != nil {
		return nil, nil, "", fmt.Errorf("--batch %s: not a batch report: %v", f.batch, err)
	}
	seen := map[string]bool{}
	for _, it := range rep.Items {
		if it.SHA256 == "" || seen[it.SHA256] {
			if it.SHA256 == "" && !seen[it.Input] {
				seen[it.Input] = true
				missing = append(missing, it)
			}
			continue
		}
		seen[it.SHA256] = true
		r, err := review.Find(cfg.StateDir, it.SHA256)
		if err != nil {
			missing = append(missing, it)
			continue
		}
		recs = append(recs, r)
	}
	return recs, missing, fmt.Sprintf("the batch of %s (%s)", rep.Summary.Started.Local().Format("2 January 2006 15:04"), plural(rep.Summary.Inputs, "photo")), nil
}

func reviewPage(w io.Writer, cfg *config.Config, f reviewFlags, now time.Time) error {
	if f.out != "" {
		if err := checkPrivateOut(cfg, f.out, privateHTML); err != nil {
			return err
		}
	}
	recs, missing, what, err := reviewRecords(cfg, f, now)
	if err != nil {
		return err
	}
	var names func(id string) string
	if f.names {
		h, store, err := openConsent(cfg, state.ReadOnly)
		if err != nil {
			return err
		}
		defer h.Close()
		snap := store.Snapshot()
		names = func(id string) string {
			if p, ok := snap.Person(id); ok {
				return strings.TrimSpace(p.FirstName + " (" + p.Group + ")")
			}
			return ""
		}
	}
	page := review.BuildPage(recs, missing, what, review.PageOptions{Match: matchConfig(cfg), Policy: cfg.Faces.Policy, Names: names, Now: now})
	if f.json {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if err := enc.Encode(page.Listing()); err != nil {
			return err
		}
		if f.out == "" {
			return nil
		}
	}
	html, err := page.HTML()
	if err != nil {
		return err
	}
	out, err := writePage(cfg, f.out, "review.html", html, now)
	if err != nil {
		return err
	}
	msg := fmt.Sprintf("review page: %s (%s", shown(out), plural(len(recs), "photo"))
	if len(missing) > 0 {
		msg += fmt.Sprintf(", %d without a record", len(missing))
	}
	msg += "; it shows children's faces unredacted: for your eyes only, never publish it)"
	if f.json {
		fmt.Fprintln(os.Stderr, msg)
	} else {
		fmt.Fprintln(w, msg)
	}
	return nil
}

// waitingPage writes the direction's page of the photos that wait for
// approval.
func waitingPage(w io.Writer, cfg *config.Config, f reviewFlags, now time.Time) error {
	if f.since != "" || f.batch != "" || f.names || f.json {
		return errors.New("--waiting takes only --out")
	}
	if f.out != "" {
		if err := checkPrivateOut(cfg, f.out, privateHTML); err != nil {
			return err
		}
	}
	list, err := pendingList(cfg, now)
	if err != nil {
		return err
	}
	page := review.BuildWaitingPage(now)
	for _, pp := range list {
		rec, _ := review.Find(cfg.StateDir, pp.SHA256) // none: the page says so
		var ts []review.WaitingTargetInfo
		for _, t := range pp.Targets {
			ts = append(ts, review.WaitingTargetInfo{Name: t.Target, Channel: t.Channel, Faces: t.Faces, Shown: t.Shown, Redacted: t.Redacted, Pupils: t.Pupils})
		}
		page.Add(pp.SHA256, pp.Group, pp.Since, pp.Expires, rec, ts)
	}
	html, err := page.HTML()
	if err != nil {
		return err
	}
	out, err := writePage(cfg, f.out, "waiting.html", html, now)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "waiting page: %s (%s waiting for approval)\n", shown(out), plural(len(list), "photo"))
	return nil
}

// writePage writes a page to out, or to name in today's review folder,
// by the rule of every private file (checkPrivateOut); it returns where.
func writePage(cfg *config.Config, out, name string, html []byte, now time.Time) (string, error) {
	if out == "" {
		out = filepath.Join(cfg.StateDir, review.Folder, now.Format("2006-01-02"), name)
		if err := os.MkdirAll(filepath.Dir(out), 0o700); err != nil {
			return "", err
		}
	}
	return out, writePrivate(cfg, out, html, privateHTML)
}
