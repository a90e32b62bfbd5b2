package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/photoguard/photoguard/config"
	"github.com/photoguard/photoguard/pipeline/held"
	"github.com/photoguard/photoguard/pipeline/ledger"
	"github.com/photoguard/photoguard/pipeline/retention"
	"github.com/photoguard/photoguard/pipeline/state"
	"github.com/photoguard/photoguard/pipeline/target"
)

func purgeCmd() *cobra.Command {
	var dryRun bool
	cmd := &cobra.Command{
		Use:   "purge [--dry-run]",
		Short: "Delete what state_dir keeps past its retention (photos not published, review records, old journal records)",
		Long: `Delete what is past its retention (config: retention.originals,
retention.review, retention.journal): photos in rejected/, quarantine/ and
held/ (and held photos whose content was published since), review records,
and the journal records of photos finished long ago. Photos that waited for
the direction's approval longer than approval.expire are rejected and their
kept originals deleted; the answers of photos answered longer ago than
retention.originals go. photoguard run does this at start and every hour;
this command does it now. It also removes the temporary uploads a slow
WebDAV share took after photoguard gave up on them (the publication
ledger's leftovers; the service does that every 10 minutes). --dry-run
lists what would go.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := loadConfig()
			if err != nil {
				return err
			}
			return runPurge(cmd.Context(), os.Stdout, cfg, dryRun)
		},
	}
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "list what would be deleted; delete nothing")
	return cmd
}

// purger is the Purger of the configuration over house h: a dry run (a
// house that does not write) reads the journal and records nothing.
func purger(cfg *config.Config, h *state.House) (*retention.Purger, error) {
	j, err := h.Journal()
	if err != nil {
		return nil, err
	}
	aud, err := h.Audit()
	if err != nil {
		return nil, err
	}
	p := &retention.Purger{StateDir: h.Dir, Journal: j, Policy: retention.Policy{
		Originals: cfg.Retention.Originals, Review: cfg.Retention.Review, Journal: cfg.Retention.Journal},
		// Never purge a held photo while a retry has it staged.
		Lock: (&held.Retrier{StateDir: h.Dir}).Lock}
	if aud != nil {
		p.Audit = aud
	}
	return p, nil
}

func runPurge(ctx context.Context, w io.Writer, cfg *config.Config, dryRun bool) error {
	if _, err := os.Stat(cfg.StateDir); err != nil {
		return fmt.Errorf("state_dir: %w", err)
	}
	h, err := openHouse(cfg, modeOf(dryRun))
	if err != nil {
		return err
	}
	defer h.Close()
	p, err := purger(cfg, h)
	if err != nil {
		return err
	}
	removed, err := p.Run(dryRun)
	verb := "deleted"
	if dryRun {
		verb = "would delete (dry run)"
	}
	for _, r := range removed {
		fmt.Fprintf(w, "%s %s/%s  (%s, %s)\n", verb, r.Folder, shown(r.Name), r.At.Local().Format("2006-01-02"), r.Why)
	}
	expired, aerr := expireApprovals(cfg, h)
	for _, line := range expired {
		fmt.Fprintln(w, line)
	}
	if len(removed) == 0 && len(expired) == 0 {
		fmt.Fprintln(w, "nothing is past its retention")
	}
	err = errors.Join(err, aerr)
	if serr := purgeLeftovers(ctx, w, cfg, h); err == nil {
		err = serr
	}
	return err
}

// expireApprovals rejects the photos that waited for approval longer than
// approval.expire (their originals are deleted with the answer) and
// removes the records of photos answered longer than retention.originals
// ago; it says what it did, one line each. A dry run (a house that does
// not write) only says it.
func expireApprovals(cfg *config.Config, h *state.House) ([]string, error) {
	if _, err := os.Lstat(filepath.Join(h.Dir, state.Approval)); errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	dryRun := !h.Mode.Writes()
	s, err := openApprovals(h)
	if err != nil {
		return nil, err
	}
	if !dryRun {
		unlock, err := s.LockAnswers()
		if err != nil {
			return nil, err
		}
		defer unlock()
	}
	var lines []string
	answers, err := s.Expire(cfg.Approval.Expire, dryRun)
	verb := "expired"
	if dryRun {
		verb = "would expire (dry run)"
	}
	for _, a := range answers {
		lines = append(lines, fmt.Sprintf("%s approval/%s for %s  (%s; nothing is sent, its original is deleted)", verb, a.SHA256[:12], a.Target, a.Note))
	}
	gone, perr := s.Purge(cfg.Retention.Originals, dryRun)
	verb = "deleted"
	if dryRun {
		verb = "would delete (dry run)"
	}
	for _, g := range gone {
		lines = append(lines, fmt.Sprintf("%s approval/%s  (answered %s ago or more)", verb, g, waited(cfg.Retention.Originals)))
	}
	return lines, errors.Join(err, perr)
}

// purgeLeftovers removes the temporary uploads a slow share took after
// photoguard gave up on them (the ledger's leftovers), or lists them.
func purgeLeftovers(ctx context.Context, w io.Writer, cfg *config.Config, h *state.House) error {
	if ctx == nil {
		ctx = context.Background()
	}
	if !h.Mode.Writes() {
		rd, _, err := h.ReadLedger()
		if err != nil {
			return err
		}
		for _, l := range ledger.Leftovers(rd.Entries) {
			fmt.Fprintf(w, "would remove the temporary upload %s on %s (of %s)\n", shown(l.Temp), l.Target, shown(l.Name))
		}
		return nil
	}
	sw, err := leftoverSweeper(cfg, h)
	if err != nil {
		return err
	}
	res, err := sw.Sweep(ctx, nil)
	if err != nil {
		return err
	}
	for _, l := range res.Removed {
		fmt.Fprintf(w, "removed the temporary upload %s on %s (of %s)\n", shown(l.Temp), l.Target, shown(l.Name))
	}
	for _, p := range res.Problems {
		fmt.Fprintf(w, "could not remove a temporary upload: %s\n", shown(p))
	}
	if res.Waiting > 0 {
		fmt.Fprintf(w, "%s still being sent by the service: left for its next sweep\n", plural(res.Waiting, "upload"))
	}
	if len(res.Problems) > 0 {
		return exitError{exitAttention}
	}
	return nil
}

// retentionEvery is how often the service purges.
const retentionEvery = time.Hour

// sweepEvery is how often the service removes the temporary uploads a slow
// share took after photoguard gave up on them (a variable for tests).
var sweepEvery = 10 * time.Minute

// leftoverSweeper is the ledger's Sweeper of the configuration, over
// house h (which writes).
func leftoverSweeper(cfg *config.Config, h *state.House) (*ledger.Sweeper, error) {
	led, err := h.Ledger()
	if err != nil {
		return nil, err
	}
	key, err := h.LedgerKey()
	if err != nil {
		return nil, err
	}
	return &ledger.Sweeper{Ledger: led, StateDir: h.Dir, Key: key, Target: func(name string) (target.Target, error) {
		t, ok := cfg.Targets[name]
		if !ok {
			return nil, errors.New("it is not in the configuration any more")
		}
		return openTarget(name, t)
	}}, nil
}

// sweepLeftovers removes leftover temporary uploads at start and every
// sweepEvery, until ctx ends.
func sweepLeftovers(ctx context.Context, cfg *config.Config, log *slog.Logger) {
	h, err := openHouse(cfg, state.Write)
	if err != nil {
		log.Error("leftover temporary uploads are not swept", "err", err)
		return
	}
	defer h.Close()
	sw, err := leftoverSweeper(cfg, h)
	if err != nil {
		log.Error("leftover temporary uploads are not swept", "err", err)
		return
	}
	for {
		res, err := sw.Sweep(ctx, nil)
		switch {
		case err != nil:
			log.Warn("sweeping leftover temporary uploads", "err", err)
		case len(res.Removed) > 0:
			log.Info("removed temporary uploads a target took after photoguard gave up on them", "count", len(res.Removed), "confirmed_gone", len(res.Confirmed))
		}
		if res != nil {
			for _, p := range res.Problems {
				log.Warn("a leftover temporary upload could not be removed", "problem", p)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(sweepEvery):
		}
	}
}

// enforceRetention purges what is past its retention at start and every
// hour, until ctx ends.
func enforceRetention(ctx context.Context, cfg *config.Config, h *state.House, log *slog.Logger) {
	p, err := purger(cfg, h)
	if err != nil {
		log.Error("retention: photos past their retention are not deleted", "err", err)
		return
	}
	for {
		removed, err := p.Run(false)
		if err != nil {
			log.Warn("retention: deleting what is past its retention", "err", err)
		}
		if expired, err := expireApprovals(cfg, h); err != nil {
			log.Warn("approval: expiring photos nobody answered", "err", err)
		} else if len(expired) > 0 {
			log.Info("approval: photos nobody answered in time were rejected (see the audit log)", "count", len(expired))
		}
		if len(removed) > 0 {
			log.Info("retention: deleted what is past its retention (see the audit log)", "count", len(removed))
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(retentionEvery):
		}
	}
}
