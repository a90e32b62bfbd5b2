package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/photoguard/photoguard/config"
	"github.com/photoguard/photoguard/pipeline"
	"github.com/photoguard/photoguard/pipeline/inbox"
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
		Use:   "batch [flags] DIR|FILE...",
		Short: "Process every photo in folders (or the photos named) once and write a report",
		Long: `Process every photo below each DIR, and each FILE named, once; publish what may
be published to the target, and print a summary. Inputs are removed once
their outcome is durable (unless --keep-inputs or wipe_inputs: false); photos
that are not published are moved to state_dir/rejected, quarantine or held
with a reason file. Videos (.mov, .mp4, .m4v) are published as a new video
with the same face rules, without sound or metadata (see the README's
"Video"); with video.enabled: false they are moved to state_dir/rejected
with the reason "videos are not published". Hidden and temporary files and the .AAE edit files of iPhones and iPads are skipped.
A batch leaves no notes for teachers (only "photoguard run" does).

With --report - the JSON report is the only thing written to standard
output; the summary and every other line go to standard error:
  photoguard batch --report - inbox/ | jq .summary

Exit status: 0 when every photo was published or rejected by policy (a
flagged category, a video), 2 when any was quarantined or held or an
interrupted earlier run could not be finished, 1 for usage, configuration
and other errors.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := loadConfig()
			if err != nil {
				return err
			}
			return runBatchOn(cmd.Context(), cfg, args, f, os.Stdout, os.Stderr)
		},
	}
	cmd.Flags().StringVar(&f.target, "target", "", "target to publish to (default: default_target, or the only target; a --dry-run without either tries every target)")
	cmd.Flags().StringVar(&f.report, "report", "", "write the JSON report to this file (- for standard output, and everything else to standard error)")
	cmd.Flags().BoolVar(&f.keepInputs, "keep-inputs", false, "leave every input where it is")
	cmd.Flags().BoolVar(&f.dryRun, "dry-run", false, "decide everything, publish, move and record nothing")
	_ = cmd.RegisterFlagCompletionFunc("target", completeTargets)
	return cmd
}

// batchInput is one argument of a batch: a folder to walk or a file.
type batchInput struct {
	path string // absolute
	dir  bool
}

// batchInputs checks the arguments before anything is opened: each must
// exist, be a folder or a file (not a link: links are never followed), and
// lie apart from state_dir and the targets. Files the inbox's rules skip
// (hidden, temporary, .AAE) are said to be skipped.
func batchInputs(cfg *config.Config, args, targets []string, stderr io.Writer) ([]batchInput, error) {
	var ins []batchInput
	for _, a := range args {
		abs, err := filepath.Abs(a)
		if err != nil {
			return nil, err
		}
		st, err := os.Lstat(abs)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return nil, fmt.Errorf("%s: no such file or folder", shown(a))
		case err != nil:
			return nil, err
		case st.Mode()&fs.ModeSymlink != 0:
			return nil, fmt.Errorf("%s is a symbolic link; photoguard does not follow links (name what it points to)", shown(a))
		}
		if config.Within(abs, cfg.StateDir) {
			return nil, fmt.Errorf("%s is inside state_dir (%s); to try a held photo again: photoguard retry HASH", shown(a), cfg.StateDir)
		}
		if st.IsDir() {
			if err := checkFolders(cfg, abs, targets); err != nil {
				return nil, err
			}
			ins = append(ins, batchInput{path: abs, dir: true})
			continue
		}
		for _, t := range targets {
			if p, local := localFolder(cfg, t); local && config.Within(abs, p) {
				return nil, fmt.Errorf("%s is inside target %s (%s); photoguard does not take published photos as inputs", shown(a), t, p)
			}
		}
		if why := inbox.Skipped(filepath.Base(abs)); why != "" {
			fmt.Fprintf(stderr, "skipped %s: %s\n", shown(a), why)
			continue
		}
		ins = append(ins, batchInput{path: abs})
	}
	return ins, nil
}

// batchRoots are the inbox roots of the inputs. A folder's photos are named
// from the folder, the files named from the deepest folder that holds them
// all (one file: its own folder), each from above any flagged folder on that
// path (Pipeline.BatchBase), so that a category is never lost by where the
// batch was pointed.
func batchRoots(p *pipeline.Pipeline, ins []batchInput) []inbox.Root {
	var roots []inbox.Root
	common := ""
	for _, in := range ins {
		if in.dir {
			roots = append(roots, inbox.Root{Dir: in.path, Base: p.BatchBase(in.path)})
			continue
		}
		dir := filepath.Dir(in.path)
		for common != "" && !config.Within(dir, common) {
			common = filepath.Dir(common)
		}
		if common == "" {
			common = dir
		}
	}
	base := p.BatchBase(common)
	for _, in := range ins {
		if !in.dir {
			roots = append(roots, inbox.Root{File: in.path, Base: base})
		}
	}
	return roots
}

// batchTargets are the targets a batch publishes to: --target, or
// default_target, or the only target. A dry run without either, with
// several targets configured, tries every target (nothing is published):
// the first run's try-out works on any configuration.
func batchTargets(cfg *config.Config, f batchFlags) ([]string, error) {
	if f.dryRun && f.target == "" && cfg.DefaultTarget == "" && len(cfg.Targets) > 1 {
		return cfg.TargetNames(), nil
	}
	target, err := cfg.ResolveTarget(f.target)
	if err != nil {
		return nil, err
	}
	return []string{target}, nil
}

// runBatch is a batch over one folder (or file).
func runBatch(ctx context.Context, cfg *config.Config, folder string, f batchFlags, stdout, stderr io.Writer) error {
	return runBatchOn(ctx, cfg, []string{folder}, f, stdout, stderr)
}

// runBatchOn is `photoguard batch ARGS...`.
func runBatchOn(ctx context.Context, cfg *config.Config, args []string, f batchFlags, stdout, stderr io.Writer) error {
	targets, err := batchTargets(cfg, f)
	if err != nil {
		return err
	}
	// With the report on standard output, every line meant for a person
	// goes to standard error.
	human := stdout
	if f.report == "-" {
		human = stderr
	}
	ins, err := batchInputs(cfg, args, targets, stderr)
	if err != nil {
		return err
	}
	log, err := newLogger(slog.LevelWarn)
	if err != nil {
		return err
	}
	st, err := openPipeline(cfg, log, runMode{
		targets: targets,
		wipe:    cfg.WipeInputs && !f.keepInputs && !f.dryRun,
		dryRun:  f.dryRun,
		batch:   true,
	})
	if err != nil {
		return err
	}
	defer st.Close()
	roots := batchRoots(st.p, ins)
	recovered, recoverErr := st.p.Recover(ctx)
	if recoverErr != nil {
		log.Error("recovering interrupted photos", "err", recoverErr)
	} else if recovered > 0 {
		fmt.Fprintf(stderr, "finished %s that an earlier run left half done\n", plural(recovered, "photo"))
	}

	rep := pipeline.NewReport(f.dryRun)
	prog := newProgress(stderr, human)
	intake := pipeline.NewIntake(st.p, func(it pipeline.Item) {
		rep.Add(it)
		prog.item(it)
	})
	_, scanErr := inbox.Batch(ctx, intake, roots, inbox.BatchOptions{
		Options: st.p.InboxOptions(cfg.Watch.Rescan),
		Workers: cfg.Workers,
		Retries: 3,
		Own:     []string{cfg.StateDir},
		OnFound: prog.found,
	})
	rep.Finish()
	prog.done()
	printSummary(human, rep, strings.Join(targets, " and "))
	if f.report != "" {
		if err := writeReport(f.report, rep, stdout); err != nil {
			return fmt.Errorf("report: %w", err)
		}
	}
	switch {
	case scanErr != nil && ctx.Err() != nil:
		return fmt.Errorf("interrupted: the photos not done are where they were; run the batch again to finish")
	case scanErr != nil:
		return scanErr
	case !rep.Clean():
		return exitError{exitAttention}
	case recoverErr != nil:
		fmt.Fprintln(stderr, "photoguard: photos an earlier run left half done could not all be finished; run the batch again, and see the log")
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
	if s.Waiting > 0 {
		fmt.Fprintf(w, ", %d waiting for approval", s.Waiting)
	}
	fmt.Fprintf(w, " in %.1f s\n", s.Seconds)
	var notPublished, waiting []pipeline.Item
	for _, it := range rep.Items {
		switch it.Outcome {
		case pipeline.Published:
		case pipeline.Waiting:
			waiting = append(waiting, it)
		default:
			notPublished = append(notPublished, it)
		}
	}
	if len(waiting) > 0 {
		fmt.Fprintln(w, "\nWaiting for approval (photoguard pending; the direction approves or rejects each):")
		for _, it := range waiting {
			fmt.Fprintf(w, "  %-12s %s  (%s)\n", short12(it.SHA256), shown(it.Input), it.Target)
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

// progress shows a bar with the rate and the time left on a terminal, and
// one line per photo otherwise.
type progress struct {
	mu     sync.Mutex
	tty    bool
	bar    io.Writer
	lines  io.Writer
	total  int
	n      int
	counts map[pipeline.Outcome]int
	start  time.Time
	now    func() time.Time
}

func newProgress(stderr, lines io.Writer) *progress {
	tty := false
	if f, ok := stderr.(*os.File); ok {
		tty = isTerminal(f)
	}
	return &progress{tty: tty, bar: stderr, lines: lines, counts: map[pipeline.Outcome]int{}, start: time.Now(), now: time.Now}
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
	fmt.Fprint(p.bar, "\r"+p.line()+" ")
}

// line is the progress bar: photos done of found, the rate and the time
// left, and the count of each outcome.
func (p *progress) line() string {
	total := max(p.total, p.n)
	const width = 30
	filled := 0
	if total > 0 {
		filled = width * p.n / total
	}
	return fmt.Sprintf("[%s%s] %d/%d%s  published %d  rejected %d  quarantined %d  held %d",
		strings.Repeat("#", filled), strings.Repeat(".", width-filled), p.n, total, rateLeft(p.n, total, p.now().Sub(p.start)),
		p.counts[pipeline.Published], p.counts[pipeline.Rejected], p.counts[pipeline.Quarantined], p.counts[pipeline.Held])
}

// rateLeft is "  2.4/s, 1m05s left" for done of total photos after elapsed;
// empty before the first photo is done.
func rateLeft(done, total int, elapsed time.Duration) string {
	if done == 0 || elapsed <= 0 {
		return ""
	}
	rate := float64(done) / elapsed.Seconds()
	s := fmt.Sprintf("  %.1f/s", rate)
	if rate < 1 {
		s = fmt.Sprintf("  %.1f/min", rate*60)
	}
	if left := total - done; left > 0 {
		s += ", " + time.Duration(float64(left)/rate*float64(time.Second)).Round(time.Second).String() + " left"
	}
	return s
}

func (p *progress) done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.tty {
		fmt.Fprintln(p.bar)
	}
}

// short12 is the short hash of a content hash ("" for none).
func short12(sha string) string {
	if len(sha) < 12 {
		return ""
	}
	return sha[:12]
}
