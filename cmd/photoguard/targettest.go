package main

import (
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/photoguard/photoguard/config"
	"github.com/photoguard/photoguard/pipeline"
	"github.com/photoguard/photoguard/redact/encode"
)

func targetCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "target",
		Short: "Check the publishing targets",
	}
	test := &cobra.Command{
		Use:   "test [NAME]",
		Short: "Connect to a target (or every target), write a small test photo, check it is there and remove it",
		Long: `Connect to the target NAME (default: every target), write a small grey test
photo named photoguard-test-DATE.jpg, check that the target has it, remove it
and check that it is gone, and say in plain words what went wrong, if
anything: settings, password, certificate, folder, permissions, a server that
does not answer. Nothing else is written or removed. The photo is a plain
grey square (no face, no metadata).

Exit status: 0 when every target passed, 2 when a target failed the test, 1
when the configuration does not load or NAME is not a target.`,
		Args:              cobra.MaximumNArgs(1),
		ValidArgsFunction: completeTargets,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := loadConfig()
			if err != nil {
				return err
			}
			names := cfg.TargetNames()
			if len(args) == 1 {
				if _, ok := cfg.Targets[args[0]]; !ok {
					return fmt.Errorf("no target %q in the configuration (targets: %s)", shown(args[0]), strings.Join(names, ", "))
				}
				names = args
			}
			return testTargets(cmd.Context(), os.Stdout, cfg, names, time.Now())
		},
	}
	cmd.AddCommand(test)
	return cmd
}

// testTargets runs the probe on each named target and reports; it returns
// exit status 2 when one failed.
func testTargets(ctx context.Context, w io.Writer, cfg *config.Config, names []string, now time.Time) error {
	if ctx == nil {
		ctx = context.Background()
	}
	failed := 0
	for _, name := range names {
		t := cfg.Targets[name]
		where := t.Path
		if t.URL != "" {
			where = t.URL
		} else if t.Address != "" {
			where = t.Address
		}
		fmt.Fprintf(w, "target %s (%s, %s):\n", name, typeOf(t), shown(where))
		start := time.Now()
		if err := probeTarget(ctx, name, t, now); err != nil {
			failed++
			fmt.Fprintf(w, "  FAILED: %s\n", shown(err.Error()))
			continue
		}
		fmt.Fprintf(w, "  OK: connected, wrote a test photo, found it, removed it (%.1f s)\n", time.Since(start).Seconds())
	}
	if failed > 0 {
		return exitError{exitAttention}
	}
	return nil
}

func typeOf(t config.Target) string {
	if t.Type == "" {
		return "dir"
	}
	return t.Type
}

// probeTarget opens the target as a start does, publishes a small grey
// JPEG, checks it with Exists, removes it and checks it is gone. The error
// says which step failed, in words.
func probeTarget(ctx context.Context, name string, t config.Target, now time.Time) error {
	tg, err := openTarget(name, t)
	if err != nil {
		return fmt.Errorf("the settings are not usable (nothing was contacted): %w", err)
	}
	img := image.NewGray(image.Rect(0, 0, 16, 16))
	for i := range img.Pix {
		img.Pix[i] = color.Gray{Y: 128}.Y
	}
	data, err := encode.JPEG(img, 80)
	if err != nil {
		return err
	}
	probe := "photoguard-test-" + now.UTC().Format("20060102T150405") + ".jpg"
	ref, err := tg.Publish(ctx, probe, data)
	if err != nil {
		return fmt.Errorf("could not write a test photo: %w%s", err, permanence(err))
	}
	got, ok, err := tg.Exists(ctx, probe)
	switch {
	case err != nil:
		err = fmt.Errorf("wrote the test photo, but could not look it up: %w", err)
	case !ok:
		err = errors.New("wrote the test photo, but the target does not show it: check that path is the folder the site reads")
	}
	if got != "" {
		ref = got
	}
	if rerr := tg.Remove(ctx, ref); rerr != nil {
		return errors.Join(err, fmt.Errorf("could not remove the test photo %s: %w; remove it by hand", probe, rerr))
	}
	if err != nil {
		return err
	}
	if _, still, err := tg.Exists(ctx, probe); err != nil || still {
		return fmt.Errorf("removed the test photo %s, but the target still shows it (%v): takedowns may not work; check the user's permission to delete", probe, err)
	}
	return nil
}

// permanence says whether trying again later may help.
func permanence(err error) string {
	if pipeline.IsPermanent(err) {
		return " (this will not pass by itself: a setting, password or permission must change)"
	}
	return " (this may pass: the service tries again later, but look at it if it stays)"
}
