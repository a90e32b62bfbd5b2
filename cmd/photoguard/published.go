package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/photoguard/photoguard/config"
	"github.com/photoguard/photoguard/pipeline/consent"
	"github.com/photoguard/photoguard/pipeline/ledger"
	"github.com/photoguard/photoguard/pipeline/state"
)

func publishedCmd() *cobra.Command {
	var q ledger.Query
	var since string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "published [--pupil ID] [--channel C] [--since DATE] [--json]",
		Short: "List the published photos: where, under which name, and which pupils are visible in each",
		Long: `List what the publication ledger knows is published now: per output its
target, output name (with the short hash that status shows), the target's
reference (a WordPress media id), the channel, when, and the ids of the
pupils visible in it (never names). --pupil lists the photos in which that
pupil is visible (what photoguard takedown --pupil would remove), --since
those published on or after a date (2026-12-01), --all also those taken
down. Photos published before the ledger existed are listed from the journal
without their pupils.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := loadConfig()
			if err != nil {
				return err
			}
			if q.Channel != "" && !consent.KnownChannel(q.Channel) {
				return fmt.Errorf("--channel %q is not a channel (%s)", q.Channel, strings.Join(config.Channels, ", "))
			}
			if since != "" {
				t, err := parseSince(since, time.Now())
				if err != nil {
					return err
				}
				q.Since = t
			}
			return printPublished(os.Stdout, cfg, q, asJSON)
		},
	}
	cmd.Flags().StringVar(&q.Pupil, "pupil", "", "only photos in which this pupil id is visible")
	cmd.Flags().StringVar(&q.Channel, "channel", "", "only this channel ("+strings.Join(config.Channels, ", ")+")")
	cmd.Flags().StringVar(&since, "since", "", "only photos published on or after this date (YYYY-MM-DD, local time)")
	cmd.Flags().BoolVar(&q.All, "all", false, "include photos that were taken down")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

// publishedJSON is one output in `published --json`.
type publishedJSON struct {
	Time      time.Time  `json:"time"`
	Target    string     `json:"target"`
	Channel   string     `json:"channel,omitempty"`
	Name      string     `json:"name"`
	Ref       string     `json:"ref,omitempty"`
	Photo     string     `json:"photo"`
	SHA256    string     `json:"sha256"`
	Pupils    []string   `json:"pupils"`
	Confirmed bool       `json:"confirmed"`
	Legacy    bool       `json:"before_ledger,omitempty"`
	TakenDown *time.Time `json:"taken_down,omitempty"`
	Problem   string     `json:"takedown_problem,omitempty"`
}

func printPublished(w io.Writer, cfg *config.Config, q ledger.Query, asJSON bool) error {
	h, err := openHouse(cfg, state.ReadOnly)
	if err != nil {
		return err
	}
	defer h.Close()
	key, err := h.LedgerKey()
	if err != nil {
		return err
	}
	j, err := h.Journal()
	if err != nil {
		return err
	}
	recs, rd, err := ledger.Records(h.Dir, key, j)
	if err != nil {
		return err
	}
	// Skipped lines are said on stderr (also with --json) and give exit
	// status 2 after the listing.
	var damaged error
	if warnLedger(os.Stderr, rd) {
		damaged = exitError{exitAttention}
	}
	sel := ledger.Select(recs, q)
	if asJSON {
		out := make([]publishedJSON, 0, len(sel))
		for _, r := range sel {
			p := publishedJSON{Time: r.At.UTC(), Target: r.Target, Channel: r.Channel, Name: r.Name, Ref: r.Ref, Photo: r.Short(),
				SHA256: r.SHA256, Pupils: append([]string{}, r.Pupils...), Confirmed: r.Confirmed, Legacy: r.Legacy, Problem: r.Problem}
			if !r.Live() {
				td := r.TakenDownAt.UTC()
				p.TakenDown = &td
			}
			out = append(out, p)
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if err := enc.Encode(out); err != nil {
			return err
		}
		return damaged
	}
	if len(sel) == 0 {
		fmt.Fprintln(w, "no published photos match")
		return damaged
	}
	for _, r := range sel {
		line := fmt.Sprintf("%s  %-13s %s", r.At.Local().Format("2006-01-02 15:04"), r.Channel, describeOutput(r))
		switch {
		case !r.Live():
			line += "  [taken down " + r.TakenDownAt.Local().Format("2006-01-02") + "]"
		case r.Problem != "":
			line += "  [takedown failed: remove by hand]"
		case !r.Confirmed:
			line += "  [not confirmed by the target]"
		}
		fmt.Fprintln(w, line)
	}
	fmt.Fprintf(w, "%s\n", plural(len(sel), "output"))
	return damaged
}
