package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"

	"github.com/photoguard/photoguard/config"
	"github.com/photoguard/photoguard/pipeline"
	"github.com/photoguard/photoguard/pipeline/inbox"
	"github.com/photoguard/photoguard/pipeline/journal"
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

What it takes: photos (JPEG, PNG, HEIC). Videos are never published: each is
moved to state_dir/rejected ("videos are not published") with a note for the
teacher. Hidden and temporary files, photoguard's notes and the .AAE edit
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
			// The command's context ends with SIGTERM or SIGINT (main).
			return runDaemon(cmd.Context(), configPath(), log)
		},
	}
}

func runDaemon(ctx context.Context, path string, log *slog.Logger) error {
	cfg, err := config.Load(path)
	if err != nil {
		return fmt.Errorf("configuration: %w", err)
	}
	if err := os.MkdirAll(cfg.StateDir, 0o700); err != nil {
		return fmt.Errorf("state_dir: %w", err)
	}
	unlock, err := lockRun(cfg.StateDir)
	if err != nil {
		return err
	}
	defer unlock()
	if err := os.MkdirAll(cfg.Inbox, 0o755); err != nil {
		return fmt.Errorf("inbox: %w", err)
	}
	if st, err := os.Lstat(cfg.Inbox); err == nil && st.Mode()&os.ModeSymlink != 0 {
		return fmt.Errorf("inbox: %s is a symbolic link; photoguard does not follow links (set inbox to the folder it points to)", cfg.Inbox)
	}
	if err := checkFolders(cfg, cfg.Inbox, cfg.TargetNames()); err != nil {
		return err
	}
	mode := runMode{targets: cfg.TargetNames(), wipe: cfg.WipeInputs}
	st, err := buildPipeline(cfg, log, mode)
	if err != nil {
		return err
	}
	defer st.Close()
	mode.journal, mode.detector, mode.store = st.journal, st.detector, st.store

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
	go pruneJournal(ctx, st.journal, log)

	if path != "" {
		go config.WatchFile(ctx, path, 10*time.Second, func(next *config.Config, err error) {
			if err != nil {
				log.Error("configuration change refused; the previous configuration stays in force", "file", path, "err", err)
				return
			}
			if why := needsRestart(cfg, next); why != "" {
				log.Warn("configuration change needs a restart to apply; the rest applies now", "changed", why)
			}
			// What a restart would change stays as it is.
			next.Inbox, next.StateDir, next.ModelsDir, next.Targets = cfg.Inbox, cfg.StateDir, cfg.ModelsDir, cfg.Targets
			next.Faces.Detector, next.Faces.DetectMaxSide, next.Faces.Upsample, next.Faces.CNNMaxSide =
				cfg.Faces.Detector, cfg.Faces.DetectMaxSide, cfg.Faces.Upsample, cfg.Faces.CNNMaxSide
			next.Workers, next.Consent = cfg.Workers, cfg.Consent
			m := mode
			m.wipe = next.WipeInputs
			nst, err := buildPipeline(next, log, m)
			if err != nil {
				log.Error("configuration change refused", "err", err)
				return
			}
			intake.SetPipeline(nst.p)
			d.SetOptions(nst.p.InboxOptions(next.Watch.Rescan))
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

// needsRestart names the changed settings that a running daemon cannot take
// over.
func needsRestart(old, next *config.Config) string {
	var changed []string
	if old.Inbox != next.Inbox {
		changed = append(changed, "inbox")
	}
	if old.StateDir != next.StateDir {
		changed = append(changed, "state_dir")
	}
	if old.ModelsDir != next.ModelsDir {
		changed = append(changed, "models_dir")
	}
	if !reflect.DeepEqual(old.Targets, next.Targets) {
		changed = append(changed, "targets")
	}
	if dlibConfig(old) != dlibConfig(next) {
		changed = append(changed, "faces.detector, faces.detect_max_side, faces.upsample, faces.cnn_max_side, workers")
	}
	if old.Consent != next.Consent {
		changed = append(changed, "consent.school_year_start")
	}
	return strings.Join(changed, ", ")
}

// lockRun makes sure only one daemon works on a state folder. The lock file
// holds the daemon's pid for `photoguard status`.
func lockRun(stateDir string) (func(), error) {
	p := filepath.Join(stateDir, "run.lock")
	f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("state_dir: %w", err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		pid, _ := os.ReadFile(p)
		f.Close()
		return nil, fmt.Errorf("another photoguard run (pid %s) is using %s", strings.TrimSpace(string(pid)), stateDir)
	}
	_ = f.Truncate(0)
	_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	return func() { f.Close() }, nil
}

// daemonPID returns the pid of the running daemon, or 0.
func daemonPID(stateDir string) int {
	p := filepath.Join(stateDir, "run.lock")
	f, err := os.OpenFile(p, os.O_RDWR, 0)
	if err != nil {
		return 0
	}
	defer f.Close()
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err == nil {
		_ = unix.Flock(int(f.Fd()), unix.LOCK_UN)
		return 0
	}
	data, _ := os.ReadFile(p)
	pid, _ := strconv.Atoi(strings.TrimSpace(string(data)))
	if pid == 0 {
		pid = -1
	}
	return pid
}

// journalKeep is how long the record of a finished photo is kept: long
// enough to recognise a photo dropped again within the school year.
const journalKeep = 400 * 24 * time.Hour

// pruneJournal removes finished records older than journalKeep, at start and
// once a day.
func pruneJournal(ctx context.Context, j *journal.Journal, log *slog.Logger) {
	for {
		if n, err := j.Prune(journalKeep); err != nil {
			log.Warn("journal: pruning old records", "err", err)
		} else if n > 0 {
			log.Info("journal: removed records of photos finished more than 400 days ago", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(24 * time.Hour):
		}
	}
}
