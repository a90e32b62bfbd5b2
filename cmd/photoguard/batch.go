package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/photoguard/photoguard/config"
	"github.com/photoguard/photoguard/pipeline"
)

type batchFlags struct {
	target     string
	report     string
	keepInputs bool
	dryRun     bool
}

func batchCmd() *cobra.Command {
	var f batchFlags
	cmd := &cobra.Command{
		Use:   "batch [flags] DIR",
		Short: "Process every photo in a folder once and write a report",
		Long: `Process every photo below DIR once, publish what may be published to the target,
and print a summary. Inputs are removed once their outcome is durable (unless
--keep-inputs or wipe_inputs: false); photos that are not published are moved
to state_dir/rejected, quarantine or held with a reason file.

Exit status: 0 when every photo was published or rejected by policy, 2 when
any was quarantined or held, 1 for usage or configuration errors.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := loadConfig()
			if err != nil {
				return err
			}
			return runBatch(cmd.Context(), cfg, args[0], f, os.Stdout, os.Stderr)
		},
	}
	cmd.Flags().StringVar(&f.target, "target", "", "target to publish to (default: default_target, or the only target)")
	cmd.Flags().StringVar(&f.report, "report", "", "write the JSON report to this file (- for standard output)")
	cmd.Flags().BoolVar(&f.keepInputs, "keep-inputs", false, "leave every input where it is")
	cmd.Flags().BoolVar(&f.dryRun, "dry-run", false, "decide everything, publish, move and record nothing")
	return cmd
}

func runBatch(ctx context.Context, cfg *config.Config, folder string, f batchFlags, stdout, stderr io.Writer) error {
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()

	target, err := cfg.ResolveTarget(f.target)
	if err != nil {
		return err
	}
	abs, err := filepath.Abs(folder)
	if err != nil {
		return err
	}
	if st, err := os.Stat(abs); err != nil || !st.IsDir() {
		return fmt.Errorf("%s is not a folder", folder)
	}
	if err := checkFolders(cfg, abs, []string{target}); err != nil {
		return err
	}
	log, err := newLogger(slog.LevelWarn)
	if err != nil {
		return err
	}
	st, err := openPipeline(cfg, log, runMode{
		targets: []string{target},
		wipe:    cfg.WipeInputs && !f.keepInputs && !f.dryRun,
		dryRun:  f.dryRun,
		batch:   true,
	})
	if err != nil {
		return err
	}
	defer st.Close()
	if n, err := st.p.Recover(ctx); err != nil {
		log.Error("recovering interrupted photos", "err", err)
	} else if n > 0 {
		fmt.Fprintf(stderr, "finished %s that an earlier run left half done\n", plural(n, "photo"))
	}

	rep := pipeline.NewReport(f.dryRun)
	prog := newProgress(stderr, stdout)
	_, scanErr := pipeline.NewScanner(st.p, abs).Scan(ctx, pipeline.ScanOptions{
		Wait:    true,
		Retries: 3,
		OnFound: prog.found,
		OnItem: func(it pipeline.Item) {
			rep.Add(it)
			prog.item(it)
		},
	})
	rep.Finish()
	prog.done()
	printSummary(stdout, rep, target)
	if f.report != "" {
		if err := writeReport(f.report, rep, stdout); err != nil {
			return fmt.Errorf("report: %w", err)
		}
	}
	if scanErr != nil {
		return scanErr
	}
	if !rep.Clean() {
		return exitError{exitAttention}
	}
	return nil
}

func writeReport(path string, rep *pipeline.Report, stdout io.Writer) error {
	if path == "-" {
		return rep.WriteJSON(stdout)
	}
	var buf bytes.Buffer
	if err := rep.WriteJSON(&buf); err != nil {
		return err
	}
	return pipeline.WriteFile(path, buf.Bytes(), 0o600)
}

func printSummary(w io.Writer, rep *pipeline.Report, target string) {
	s := rep.Summary
	verb := "published"
	if s.DryRun {
		verb = "would be published (dry run)"
	}
	fmt.Fprintf(w, "\n%s to %s: %d %s, %d rejected, %d quarantined, %d held",
		plural(s.Inputs, "photo"), target, s.Published, verb, s.Rejected, s.Quarantined, s.Held)
	if s.Duplicates > 0 {
		fmt.Fprintf(w, " (%d of the published were duplicates, not published again)", s.Duplicates)
	}
	fmt.Fprintf(w, " in %.1f s\n", s.Seconds)
	var notPublished []pipeline.Item
	for _, it := range rep.Items {
		if it.Outcome != pipeline.Published {
			notPublished = append(notPublished, it)
		}
	}
	if len(notPublished) > 0 {
		fmt.Fprintln(w, "\nNot published:")
		for _, it := range notPublished {
			fmt.Fprintf(w, "  %-11s %s\n", it.Outcome, shown(it.Input))
			indent(w, "            "+shown(it.Reason))
		}
	}
}

// progress shows a bar on a terminal and one line per photo otherwise.
type progress struct {
	mu     sync.Mutex
	tty    bool
	bar    io.Writer
	lines  io.Writer
	total  int
	n      int
	counts map[pipeline.Outcome]int
}

func newProgress(stderr, stdout io.Writer) *progress {
	tty := false
	if f, ok := stderr.(*os.File); ok {
		tty = isTerminal(f)
	}
	return &progress{tty: tty, bar: stderr, lines: stdout, counts: map[pipeline.Outcome]int{}}
}

func (p *progress) found(n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.total = n
	p.draw()
}

func (p *progress) item(it pipeline.Item) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.n++
	p.counts[it.Outcome]++
	if p.tty {
		p.draw()
		return
	}
	line := fmt.Sprintf("%-11s %s", it.Outcome, shown(it.Input))
	if it.Output != "" {
		line += " -> " + it.Output
	}
	if f := it.Faces; f != nil && f.Found > 0 && it.Outcome == pipeline.Published {
		line += fmt.Sprintf(" (%s: %d shown, %d redacted)", plural(f.Found, "face"), f.Shown, f.Redacted)
	}
	if it.Outcome != pipeline.Published && it.Reason != "" {
		line += ": " + shown(it.Reason)
	}
	fmt.Fprintln(p.lines, line)
}

func (p *progress) draw() {
	if !p.tty {
		return
	}
	total := max(p.total, p.n)
	const width = 30
	filled := 0
	if total > 0 {
		filled = width * p.n / total
	}
	fmt.Fprintf(p.bar, "\r[%s%s] %d/%d  published %d  rejected %d  quarantined %d  held %d ",
		strings.Repeat("#", filled), strings.Repeat(".", width-filled), p.n, total,
		p.counts[pipeline.Published], p.counts[pipeline.Rejected], p.counts[pipeline.Quarantined], p.counts[pipeline.Held])
}

func (p *progress) done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.tty {
		fmt.Fprintln(p.bar)
	}
}
