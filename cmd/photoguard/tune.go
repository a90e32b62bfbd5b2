package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/photoguard/photoguard/config"
	"github.com/photoguard/photoguard/detect"
	"github.com/photoguard/photoguard/pipeline"
)

func tuneCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "tune DIR",
		Short: "Show your own false-match / missed-match trade-off for each threshold",
		Long: `Measure how faces.threshold behaves on your own pupils. DIR holds labelled
photos that were NOT used for enrollment:

  DIR/<pupil-id>/*.jpg   photos of an enrolled person, one face each
  DIR/unknown/*.jpg      photos of people who are not enrolled (any number of faces)

For each threshold the table shows how many faces would be matched to the
right person (shown when they have consent), missed (redacted although they
may be shown: safe, but a lost photo), and matched to the wrong person (a
child shown under someone else's consent: the risk that must be zero).
Children are mixed up more easily than adults: use photos from this school
year, several per child, and look-alike siblings if you have them.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := loadConfig()
			if err != nil {
				return err
			}
			return tune(cmd.Context(), os.Stdout, cfg, args[0])
		},
	}
}

func tune(ctx context.Context, w io.Writer, cfg *config.Config, dir string) error {
	if ctx == nil {
		ctx = context.Background()
	}
	e, err := newEnroller(cfg)
	if err != nil {
		return err
	}
	defer e.close()
	snap := e.store.Snapshot()
	if err := staleModels(snap, e.model); err != nil {
		return err
	}
	var people []detect.Person
	enrolledSHA := map[string]bool{}
	for _, p := range snap.People() {
		people = append(people, detect.Person{ID: p.ID, Descriptors: p.Descriptors})
		for _, r := range snap.References(p.ID) {
			enrolledSHA[r.SourceSHA256] = true
		}
	}
	if len(people) == 0 {
		return fmt.Errorf("nobody is enrolled yet: enroll first (photoguard enroll)")
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	var samples []detect.Sample
	skipped := 0
	for _, ent := range entries {
		if !ent.IsDir() || strings.HasPrefix(ent.Name(), ".") {
			continue
		}
		label := ent.Name()
		if strings.EqualFold(label, "unknown") {
			label = ""
		} else if _, ok := snap.Person(label); !ok {
			fmt.Fprintf(w, "%s: not in the register, skipped (use unknown/ for people who are not enrolled)\n", ent.Name())
			continue
		}
		files, _ := os.ReadDir(filepath.Join(dir, ent.Name()))
		for _, f := range files {
			if f.IsDir() || pipeline.Ignored(f.Name()) {
				continue
			}
			p := filepath.Join(dir, ent.Name(), f.Name())
			faces, sha, err := e.faces(ctx, p)
			switch {
			case err != nil:
				fmt.Fprintf(w, "%s: skipped: %v\n", p, err)
				skipped++
				continue
			case enrolledSHA[sha]:
				fmt.Fprintf(w, "%s: skipped: it is an enrollment photo (it would match itself)\n", p)
				skipped++
				continue
			case label != "" && len(faces) != 1:
				fmt.Fprintf(w, "%s: skipped: %d faces, a labelled photo needs exactly one\n", p, len(faces))
				skipped++
				continue
			}
			for _, fc := range faces {
				samples = append(samples, detect.Sample{Label: label, Face: fc})
			}
		}
	}
	if len(samples) == 0 {
		return fmt.Errorf("no usable faces in %s", dir)
	}
	var thresholds []float64
	for t := 30; t <= 60; t += 2 {
		thresholds = append(thresholds, float64(t)/100)
	}
	mc := matchConfig(cfg)
	rows := detect.TradeOff(samples, people, mc, thresholds)
	d := detect.SampleDistances(samples, people)

	fmt.Fprintf(w, "\n%d faces of enrolled people, %d of people who are not enrolled; margin %.2f, minimum face %d px\n\n",
		rows[0].Enrolled, rows[0].Unknown, mc.Margin, mc.MinFacePx)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "threshold\tmatched correctly\tmissed (redacted)\twrong person (shown!)\t")
	for _, r := range rows {
		mark := ""
		if abs(r.Threshold-mc.Threshold) < 0.005 {
			mark = "  <- faces.threshold now"
		}
		fmt.Fprintf(tw, "%.2f\t%s\t%s\t%d\t%s\n", r.Threshold, pct(r.Correct, r.Enrolled), pct(r.Missed, r.Enrolled), r.False, mark)
	}
	tw.Flush()
	fmt.Fprintf(w, "\ndistance of a face to its own person: min %.2f, median %.2f, 95%% %.2f, max %.2f (n=%d)\n",
		d.Same.Min, d.Same.Median, d.Same.P95, d.Same.Max, d.Same.N)
	fmt.Fprintf(w, "distance to the nearest other person:  min %.2f, 5%% %.2f, median %.2f (n=%d)\n",
		d.Other.Min, d.Other.P5, d.Other.Median, d.Other.N)
	if safe := detect.SafestThreshold(rows); safe == 0 {
		fmt.Fprintln(w, "\nEven the strictest threshold matches a face to the wrong person: look at those photos with")
		fmt.Fprintln(w, "`photoguard explain`, add reference photos, and keep the consent policy.")
	} else {
		fmt.Fprintf(w, "\nThe largest threshold without a wrong match on these photos is %.2f. Stay below it with some\n", safe)
		fmt.Fprintln(w, "room to spare: these are only the photos you have; the next one may be closer.")
	}
	if skipped > 0 {
		fmt.Fprintf(w, "(%s skipped, see above)\n", plural(skipped, "photo"))
	}
	registerTest(w, people, mc)
	return nil
}

// registerTest is the false-show rate on the school's own register (each
// enrolled person taken in turn as someone who is not enrolled) for the
// configured margin and its neighbours, and what was measured on children.
func registerTest(w io.Writer, people []detect.Person, mc detect.MatchConfig) {
	fmt.Fprintf(w, "\nYour register as a test: each of the %d enrolled people taken in turn as a child who is\n", len(people))
	fmt.Fprintln(w, "NOT enrolled, their reference photos matched against everyone else (threshold as now):")
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "margin\tshown as someone else\t")
	margins := []float64{0.10, 0.20, 0.30, 0.40}
	if !slices.ContainsFunc(margins, func(m float64) bool { return abs(m-mc.Margin) < 0.005 }) {
		margins = append(margins, mc.Margin)
		slices.Sort(margins)
	}
	for _, m := range margins {
		c := mc
		c.Margin = m
		r := detect.LeaveOneOut(people, c)
		mark := ""
		if abs(m-mc.Margin) < 0.005 {
			mark = "  <- faces.margin now"
		}
		fmt.Fprintf(tw, "%.2f\t%s\t%s\n", m, pct(r.Shown, r.Probes), mark)
	}
	tw.Flush()
	fmt.Fprint(w, childrenMeasured)
}

// childrenMeasured is what detect/MEASUREMENTS-children.md measured on 960
// real children (PHOTOGUARD_MEASURE=1 go test ./detect/dlib -run
// TestMeasureChildren -v), for the coordinator.
const childrenMeasured = `
Your register as a test finds look-alikes among your own pupils; it is a check, not a proof (a few
hundred tries).

Measured on 960 real children aged 3-16 (detect/MEASUREMENTS-children.md), classes drawn at random:
at threshold 0.50 and margin 0.30 (the defaults) a child who is not enrolled was shown as one of 25
enrolled classmates in 0 of 18,700 tries, with 100 enrolled in 2 of 17,200 (0.01%); in classes of
13-16-year-olds 0.08% (0.12% with 100). At margin 0.20: 0.07% for a class, in classes of
13-16-year-olds 0.30% (0.80% with 100); at 0.10 (the old default): 2.0%. A stricter threshold
changes nothing measurable for children at margin 0.30 (0.40 to 0.55 alike) and blurs more consented
faces; the margin does the work, and it costs visible children: on adults' group photos 41% of the
consented faces stay visible at the defaults (73% at margin 0.20), and young children, whose faces
lie closest together, are blurred most. What lowers the risk: a larger margin; enrolling pupils
without consent too (each enrolled pupil is one the others are compared with, and a face matched to
them is blurred). What shows more consented children: a lower margin, at the risk above.
`

func pct(n, of int) string {
	if of == 0 {
		return "-"
	}
	return fmt.Sprintf("%d (%.0f%%)", n, 100*float64(n)/float64(of))
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}
