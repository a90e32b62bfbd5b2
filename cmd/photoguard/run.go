package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/photoguard/photoguard/config"
	"github.com/photoguard/photoguard/pipeline"
	"github.com/photoguard/photoguard/pipeline/inbox"
)

// stopTimeout bounds a graceful stop: the photo in hand is finished or rolled
// back within it; past it the process exits and the journal recovers the
// rest at the next start.
const stopTimeout = 30 * time.Second

func runCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "run",
		Short: "Watch the inbox and publish photos as they arrive (the service)",
		Long: `Watch the inbox (and every folder below it) and take each photo once it is
completely written: publish it to every target, or move it aside with a
reason. Runs until SIGTERM or SIGINT. The configuration file is re-read when
it changes; a change that does not validate is refused and the old
configuration stays in force.

What it takes: photos (JPEG, PNG, HEIC) and videos (.mov, .mp4, .m4v,
published as a new video without sound or metadata; with video.enabled:
false each is moved to state_dir/rejected, "videos are not published", with
a note for the teacher). Hidden and temporary files, photoguard's notes and the .AAE edit
files of iPhones and iPads are left alone.

Exit status: 0 after a graceful stop, 1 when it cannot start (configuration,
folders, models, another run on the same state_dir) or did not stop within
30 s (the next start finishes what was interrupted).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			log, err := newLogger(slog.LevelInfo)
			if err != nil {
				return err
			}
			return runDaemon(cmd.Context(), configPath(), log)
		},
	}
}

func runDaemon(ctx context.Context, path string, log *slog.Logger) error {
	cfg, err := config.Load(path)
	if err != nil {
		return fmt.Errorf("configuration: %w", err)
	}
	if err := os.MkdirAll(cfg.Inbox, 0o755); err != nil {
		return fmt.Errorf("inbox: %w", err)
	}
	if st, err := os.Lstat(cfg.Inbox); err == nil && st.Mode()&os.ModeSymlink != 0 {
		return fmt.Errorf("inbox: %s is a symbolic link; photoguard does not follow links (set inbox to the folder it points to)", cfg.Inbox)
	}
	if err := checkFolders(cfg, cfg.Inbox, cfg.TargetNames()); err != nil {
		return err
	}
	// One service per state folder: its house holds the run lock.
	mode := runMode{targets: cfg.TargetNames(), wipe: cfg.WipeInputs, service: true}
	st, err := openPipeline(cfg, log, mode)
	if err != nil {
		return err
	}
	defer st.Close()
	// The service loads one worker's face models now: model files dlib
	// cannot read stop it here, not at the first photo with a face.
	if err := st.recognizer.Warm(ctx); err != nil {
		return fmt.Errorf("face detector: %w\n(scripts/setup.sh installs the models into models_dir)", err)
	}

	if n, err := st.p.Recover(ctx); err != nil {
		log.Error("recovering photos an earlier run left half done", "err", err)
	} else if n > 0 {
		log.Info("recovered photos an earlier run left half done", "count", n)
	}
	intake := pipeline.NewIntake(st.p, nil)
	d := inbox.NewDaemon(cfg.Inbox, intake, inbox.DaemonOptions{
		Options: st.p.InboxOptions(cfg.Watch.Rescan),
		Workers: cfg.Workers,
		Own:     []string{cfg.StateDir},
		Log:     log,
	})
	go enforceRetention(ctx, cfg, st.house, log)
	go sweepLeftovers(ctx, cfg, log)
	if rd, _, err := st.house.ReadLedger(); err != nil {
		log.Error("the publication ledger cannot be read", "err", err)
	} else if p := rd.Problem(); p != "" {
		// Publishing goes on (new entries are appended whole); a
		// takedown may miss what the skipped lines name.
		log.Error(p)
	}

	if path != "" {
		go config.WatchFile(ctx, path, 10*time.Second, func(next *config.Config, err error) {
			if err != nil {
				log.Error("configuration change refused; the previous configuration stays in force", "file", path, "err", err)
				return
			}
			// What a restart would change stays as it is.
			if changed := next.KeepRestartOnly(cfg); len(changed) > 0 {
				log.Warn("configuration change needs a restart to apply; the rest applies now", "changed", strings.Join(changed, ", "))
			}
			m := mode
			m.wipe = next.WipeInputs
			p, err := st.pipeline(next, log, m)
			if err != nil {
				log.Error("configuration change refused", "err", err)
				return
			}
			intake.SetPipeline(p)
			d.SetOptions(p.InboxOptions(next.Watch.Rescan))
			log.Info("configuration reloaded; it applies from the next photo")
		})
	}

	log.Info("photoguard started", "inbox", cfg.Inbox, "targets", strings.Join(cfg.TargetNames(), ","),
		"rescan", cfg.Watch.Rescan.String(), "settle", cfg.Watch.Settle.String())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	log.Info("stopping: finishing or rolling back the photo in hand", "within", stopTimeout.String())
	select {
	case err := <-done:
		log.Info("stopped")
		return err
	case <-time.After(stopTimeout):
		return fmt.Errorf("did not stop within %s; the next start finishes what was interrupted", stopTimeout)
	}
}
