package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"slices"
	"sort"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/photoguard/photoguard/config"
	"github.com/photoguard/photoguard/pipeline"
	"github.com/photoguard/photoguard/pipeline/held"
	"github.com/photoguard/photoguard/pipeline/journal"
	"github.com/photoguard/photoguard/pipeline/state"
)

func retryCmd() *cobra.Command {
	var all bool
	var target string
	cmd := &cobra.Command{
		Use:   "retry [SHORT-HASH...|--all]",
		Short: "Put held photos back through the pipeline, with the current consent store and configuration",
		Long: `Put held photos (state_dir/held/, listed by photoguard status) back through
the pipeline once the cause is gone: a target that refused them, a consent
store that could not be read, enrollment redone after new model files. Name them
by the short hash in their folder's name (DATE-HASH; any unambiguous prefix
of at least 6 characters), or --all. Each goes to the targets it was meant
for (or --target), with today's consent store and settings, and its path
below the inbox as it was, so category rules apply as they did. Published:
its original is deleted and it is no longer held. Held again: its reason is
updated. A target that is still down leaves it where it was. Exit status 2
when any photo was not published.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if all == (len(args) > 0) {
				return errors.New("name the held photos by their short hash, or give --all")
			}
			cfg, err := loadConfig()
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return runRetry(ctx, os.Stdout, cfg, args, target)
		},
	}
	cmd.Flags().BoolVar(&all, "all", false, "retry every held photo")
	cmd.Flags().StringVar(&target, "target", "", "publish to this target instead of the ones the photo was meant for")
	return cmd
}

func runRetry(ctx context.Context, w io.Writer, cfg *config.Config, names []string, target string) error {
	if target != "" {
		if _, ok := cfg.Targets[target]; !ok {
			return fmt.Errorf("--target %q is not one of the targets (%s)", target, strings.Join(cfg.TargetNames(), ", "))
		}
	}
	h, err := openHouse(cfg, state.Write)
	if err != nil {
		return err
	}
	defer h.Close()
	r := &held.Retrier{StateDir: h.Dir}
	unlock, err := r.Lock()
	if err != nil {
		return err
	}
	defer unlock()
	if err := r.Recover(); err != nil {
		return fmt.Errorf("putting back what an interrupted retry left: %w", err)
	}
	photos, err := held.List(h.Dir)
	if err != nil {
		return err
	}
	if len(names) > 0 {
		if photos, err = held.Select(photos, names); err != nil {
			return err
		}
	}
	if len(photos) == 0 {
		fmt.Fprintln(w, "no held photos")
		return nil
	}
	j, err := h.Journal()
	if err != nil {
		return err
	}
	groups, problems := retryGroups(cfg, j, photos, target)
	for _, p := range problems {
		fmt.Fprintln(w, p)
	}
	log, err := newLogger(slog.LevelWarn)
	if err != nil {
		return err
	}
	failed := len(problems)
	mode := runMode{wipe: true, batch: true}
	keys := make([]string, 0, len(groups))
	for k := range groups {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	// One set of resources for every target a group goes to; one pipeline
	// per group over them.
	var all []string
	for _, key := range keys {
		for _, t := range strings.Split(key, ",") {
			if !slices.Contains(all, t) {
				all = append(all, t)
			}
		}
	}
	res, err := resourcesOver(cfg, h, all)
	if err != nil {
		return err
	}
	defer res.Close()
	for _, key := range keys {
		mode.targets = strings.Split(key, ",")
		p, err := res.pipeline(cfg, log, mode)
		if err != nil {
			return err
		}
		for _, ph := range groups[key] {
			if !printRetry(ctx, w, ph, r, p) {
				failed++
			}
		}
	}
	if failed > 0 {
		return exitError{exitAttention}
	}
	return nil
}

// retryGroups groups the photos by the targets each goes to: target, or
// the configured ones of the targets the journal says it was meant for.
// problems are the photos that cannot be retried, one line each.
func retryGroups(cfg *config.Config, j *journal.Journal, photos []held.Photo, target string) (map[string][]held.Photo, []string) {
	groups := map[string][]held.Photo{}
	var problems []string
	for _, ph := range photos {
		var targets []string
		switch rec, err := j.Get(ph.SHA256); {
		case target != "":
			targets = []string{target}
		case err == nil:
			for _, t := range rec.Targets {
				if _, ok := cfg.Targets[t]; ok {
					targets = append(targets, t)
				}
			}
		}
		if len(targets) == 0 {
			problems = append(problems, fmt.Sprintf("%s: not retried: which targets it was meant for is not known any more (or none is configured now); give --target", ph.Name))
			continue
		}
		sort.Strings(targets)
		key := strings.Join(targets, ",")
		groups[key] = append(groups[key], ph)
	}
	return groups, problems
}

// printRetry retries one photo and says what became of it; it reports
// whether it was published everywhere.
func printRetry(ctx context.Context, w io.Writer, ph held.Photo, r *held.Retrier, p *pipeline.Pipeline) bool {
	items, err := r.Retry(ctx, p, ph)
	ok := err == nil && len(items) > 0
	for _, it := range items {
		switch it.Outcome {
		case pipeline.Published:
			fmt.Fprintf(w, "%s: published to %s as %s\n", ph.Name, it.Target, it.Output)
		case pipeline.Waiting:
			fmt.Fprintf(w, "%s: waits for the direction's approval for %s (photoguard pending)\n", ph.Name, it.Target)
		default:
			ok = false
			fmt.Fprintf(w, "%s: %s (%s): %s\n", ph.Name, it.Outcome, it.Target, shown(it.Reason))
		}
	}
	if err != nil {
		fmt.Fprintf(w, "%s: left in held/: %s\n", ph.Name, shown(pipeline.ReasonOf(err)))
	}
	return ok
}
