package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/photoguard/photoguard/config"
	"github.com/photoguard/photoguard/detect"
	"github.com/photoguard/photoguard/detect/tuning"
	"github.com/photoguard/photoguard/pipeline"
	"github.com/photoguard/photoguard/pipeline/consent"
	"github.com/photoguard/photoguard/redact/decode"
	"github.com/photoguard/photoguard/redact/encode"
)

type tuneFlags struct {
	labelled, out    string
	json, thumbnails bool
}

func tuneCmd() *cobra.Command {
	var f tuneFlags
	cmd := &cobra.Command{
		Use:   "tune [--labelled DIR] [--out tune.html]",
		Short: "Show your own false-match / missed-match trade-off for each threshold",
		Long: `Measure how faces.threshold and faces.margin behave on your own pupils: on the
enrolled pupils themselves (each pupil's references tried as a child who is not enrolled,
and against their own other references), and on labelled photos if you give
them. DIR holds labelled photos that were NOT used for enrollment:

  DIR/<pupil-id>/*.jpg   photos of an enrolled person, one face each
  DIR/unknown/*.jpg      photos of people who are not enrolled (any number of faces)

For each threshold the table shows how many faces would be matched to the
right person (shown when they have consent), missed (redacted although they
may be shown: safe, but a lost photo), and matched to the wrong person (a
child shown under someone else's consent: the risk that must be zero).
Children are mixed up more easily than adults: use photos from this school
year, several per child, and look-alike siblings if you have them.

With --out, write a page (self-contained, 0600) with the trade-off plotted,
the current and recommended settings marked, the closest pairs of different
pupils, each pupil's spread of references and the warnings; --thumbnails
adds a photo of each look-alike from DIR (the page then shows children).
(DIR may also be given without --labelled.)`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				if f.labelled != "" && f.labelled != args[0] {
					return errors.New("give the labelled folder once: as DIR or --labelled")
				}
				f.labelled = args[0]
			}
			if f.thumbnails && (f.labelled == "" || f.out == "") {
				return errors.New("--thumbnails needs --labelled DIR (the photos) and --out (the page)")
			}
			cfg, err := loadConfig()
			if err != nil {
				return err
			}
			return tuneRun(cmd.Context(), os.Stdout, os.Stderr, cfg, f, time.Now())
		},
	}
	cmd.Flags().StringVar(&f.labelled, "labelled", "", "labelled photos: DIR/<pupil-id>/*.jpg and DIR/unknown/*.jpg")
	cmd.Flags().StringVar(&f.out, "out", "", "write the tuning page (HTML) here")
	cmd.Flags().BoolVar(&f.json, "json", false, "print the analysis as JSON on standard output (text goes to standard error)")
	cmd.Flags().BoolVar(&f.thumbnails, "thumbnails", false, "show a photo of each look-alike pupil on the page (from --labelled)")
	return cmd
}

func tuneRun(ctx context.Context, w, errw io.Writer, cfg *config.Config, f tuneFlags, now time.Time) error {
	if ctx == nil {
		ctx = context.Background()
	}
	if f.out != "" {
		if err := checkPrivateOut(cfg, f.out, privateHTML); err != nil {
			return err
		}
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
	var pupils []tuning.Pupil
	enrolledSHA := map[string]bool{}
	for _, p := range snap.People() {
		people = append(people, detect.Person{ID: p.ID, Descriptors: p.Descriptors})
		tp := tuning.Pupil{ID: p.ID, Group: p.Group}
		for _, r := range snap.References(p.ID) {
			enrolledSHA[r.SourceSHA256] = true
			tp.References = append(tp.References, tuning.Reference{Descriptor: r.Descriptor, AddedAt: r.AddedAt, Source: r.Source})
		}
		pupils = append(pupils, tp)
	}
	if len(people) == 0 {
		return fmt.Errorf("nobody is enrolled yet: enroll first (photoguard enroll)")
	}
	text := w
	if f.json {
		text = errw
	}
	mc := matchConfig(cfg)
	var samples []detect.Sample
	var thumbs map[string][]byte
	if f.labelled != "" {
		samples, thumbs, err = tuneLabelled(ctx, text, e, snap, people, enrolledSHA, f.labelled, mc, f.thumbnails)
		if err != nil {
			return err
		}
	}
	lookAlikeTest(text, people, mc)
	rep := tuning.Analyse(tuning.Input{Pupils: pupils, Samples: samples, Match: mc, Now: now, ReferenceAge: pipeline.DefaultReferenceAge,
		GroupMargin: pipeline.DefaultGroupMargin, GroupMinOutside: pipeline.GroupMinOutside})
	printTuning(text, &rep)
	if f.json {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if err := enc.Encode(&rep); err != nil {
			return err
		}
	}
	if f.out != "" {
		page, err := tuning.Page(&rep, thumbs, now)
		if err != nil {
			return err
		}
		if err := writePrivate(cfg, f.out, page, privateHTML); err != nil {
			return err
		}
		fmt.Fprintf(text, "\ntuning page: %s\n", shown(f.out))
	}
	return nil
}

// tuneLabelled matches the labelled photos of dir and prints the table per
// threshold. With thumbs, it keeps a small copy of one photo per pupil.
func tuneLabelled(ctx context.Context, w io.Writer, e *enroller, snap *consent.Snapshot, people []detect.Person, enrolledSHA map[string]bool,
	dir string, mc detect.MatchConfig, withThumbs bool) ([]detect.Sample, map[string][]byte, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, nil, err
	}
	thumbs := map[string][]byte{}
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
			fmt.Fprintf(w, "%s: not in the consent store, skipped (use unknown/ for people who are not enrolled)\n", shown(ent.Name()))
			continue
		}
		files, _ := os.ReadDir(filepath.Join(dir, ent.Name()))
		for _, f := range files {
			if f.IsDir() || pipeline.Ignored(f.Name()) {
				continue
			}
			p := filepath.Join(dir, ent.Name(), f.Name())
			faces, sha, err := e.faces(ctx, p)
			why := tuning.Skip(label, len(faces), sha, enrolledSHA)
			if err != nil {
				why = err.Error()
			}
			if err != nil || why != "" {
				fmt.Fprintf(w, "%s: skipped: %s\n", shown(p), shown(why))
				skipped++
				continue
			}
			for _, fc := range faces {
				samples = append(samples, detect.Sample{Label: label, Face: fc})
			}
			if withThumbs && label != "" && thumbs[label] == nil {
				thumbs[label] = tuneThumb(ctx, p)
			}
		}
	}
	if len(samples) == 0 {
		return nil, nil, fmt.Errorf("no usable faces in %s", shown(dir))
	}
	lab := tuning.AnalyseLabelled(samples, people, mc)
	rows, d := lab.Rows, lab.Distances
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
	if safe := lab.Safest; safe == 0 {
		fmt.Fprintln(w, "\nEven the strictest threshold matches a face to the wrong person: look at those photos with")
		fmt.Fprintln(w, "`photoguard explain`, add reference photos, and keep the consent policy.")
	} else {
		fmt.Fprintf(w, "\nThe largest threshold without a wrong match on these photos is %.2f. Stay below it with some\n", safe)
		fmt.Fprintln(w, "room to spare: these are only the photos you have; the next one may be closer.")
	}
	if skipped > 0 {
		fmt.Fprintf(w, "(%s skipped, see above)\n", plural(skipped, "photo"))
	}
	return samples, thumbs, nil
}

// lookAlikeTest is the false-show rate on the school's own enrolled pupils (each
// enrolled person taken in turn as someone who is not enrolled) for the
// configured margin and its neighbours, and what was measured on children.
func lookAlikeTest(w io.Writer, people []detect.Person, mc detect.MatchConfig) {
	fmt.Fprintf(w, "\nYour enrolled pupils as a test: each of the %d enrolled people taken in turn as a child who is\n", len(people))
	fmt.Fprintln(w, "NOT enrolled, their reference photos matched against everyone else (threshold as now):")
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "margin\tshown as someone else\t")
	for _, r := range tuning.LookAlikeTest(people, mc) {
		mark := ""
		if r.Current {
			mark = "  <- faces.margin now"
		}
		fmt.Fprintf(tw, "%.2f\t%s\t%s\n", r.Margin, pct(r.Shown, r.Probes), mark)
	}
	tw.Flush()
	fmt.Fprint(w, childrenMeasured)
}

// childrenMeasured is what detect/MEASUREMENTS-children.md measured on 960
// real children (PHOTOGUARD_MEASURE=1 go test ./detect/dlib -run
// TestMeasureChildren -v), for the coordinator.
const childrenMeasured = `
Your enrolled pupils as a test find look-alikes among your own pupils; it is a check, not a proof (a few
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

// printTuning prints the recommendation, the look-alikes and the warnings.
func printTuning(w io.Writer, rep *tuning.Report) {
	b := rep.Basis
	fmt.Fprintf(w, "\nData: %d pupils with %s; %d tries as a child who is not enrolled, %d against their own references",
		b.Pupils, plural(b.References, "reference"), b.OthersProbes, b.OwnProbes)
	if b.Labelled+b.LabelledUnknown > 0 {
		fmt.Fprintf(w, ", %d labelled faces of enrolled pupils and %d of others", b.Labelled, b.LabelledUnknown)
	}
	fmt.Fprintln(w, ".")
	printReferences(w, rep.Spreads)
	for _, g := range rep.Groups {
		how := fmt.Sprintf("faces.margin %.2f (group margin once %d are enrolled outside)", g.Margin, pipeline.GroupMinOutside)
		if g.Applies {
			how = fmt.Sprintf("group margin %.2f", g.Margin)
		}
		fmt.Fprintf(w, "Group %s: %d enrolled, %d outside; its photos: %s; %d of %d tries shown as a classmate.\n",
			g.Group, g.Enrolled, g.Outside, how, g.Wrong, g.Probes)
	}
	r := rep.Recommended
	if r.OK {
		if r.Tie() {
			// No value in the range is better than another on this data.
			fmt.Fprintf(w, "Recommended: faces.threshold: any value from %.2f to %.2f gives the same result; faces.margin %.2f (now %.2f, %.2f): %s.\n",
				r.ThresholdFrom, r.ThresholdTo, r.Margin, rep.Current.Threshold, rep.Current.Margin, r.Why)
		} else {
			fmt.Fprintf(w, "Recommended: faces.threshold %.2f, faces.margin %.2f (now %.2f, %.2f): %s.\n", r.Threshold, r.Margin,
				rep.Current.Threshold, rep.Current.Margin, r.Why)
		}
		fmt.Fprintf(w, "  there: %d of %d tries matched to the wrong pupil, %d of %d of a pupil's own faces missed.\n",
			r.At.Wrong, r.At.Probes, r.At.Missed, r.At.Own)
	} else {
		fmt.Fprintf(w, "No recommendation: %s.\n", r.Why)
	}
	if len(rep.LookAlikes) > 0 {
		fmt.Fprint(w, "\nClosest pairs of different pupils:")
		for i, p := range rep.LookAlikes {
			if i == 5 {
				break
			}
			fmt.Fprintf(w, " %s-%s %.2f", p.A, p.B, p.Distance)
		}
		fmt.Fprintln(w)
	}
	for _, wn := range rep.Warnings {
		fmt.Fprintf(w, "warning: %s: %s: %s\n", wn.Kind, strings.Join(wn.IDs, ", "), wn.Text)
	}
}

// printReferences sums up the pupils' references: how many each has, where
// they came from and how old they are (the page has them per pupil).
func printReferences(w io.Writer, sp []tuning.Spread) {
	if len(sp) == 0 {
		return
	}
	var counts []int
	var portrait, review, unknown, undated, faded int
	var oldest time.Time
	for _, s := range sp {
		counts = append(counts, s.References)
		portrait, review, unknown = portrait+s.Portrait, review+s.Review, unknown+s.UnknownSource
		undated, faded = undated+s.UnknownDate, faded+s.Faded
		if !s.Oldest.IsZero() && (oldest.IsZero() || s.Oldest.Before(oldest)) {
			oldest = s.Oldest
		}
	}
	sort.Ints(counts)
	fmt.Fprintf(w, "References per pupil: %d to %d (median %d); %d from portraits, %d confirmed on the review page, %d of unknown source",
		counts[0], counts[len(counts)-1], counts[len(counts)/2], portrait, review, unknown)
	if !oldest.IsZero() {
		fmt.Fprintf(w, "; oldest %s", oldest.Format("2006-01-02"))
	}
	if undated > 0 {
		fmt.Fprintf(w, "; %d undated (enrolled before dates were kept: they never fade)", undated)
	}
	fmt.Fprintf(w, "; %d older than the reference age (no longer show anyone).\n", faded)
}

// tuneThumb is a small copy of a labelled photo (one face each), or nil.
func tuneThumb(ctx context.Context, path string) []byte {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	img, _, err := decode.Decode(ctx, data, decode.DefaultLimits(), 0)
	if err != nil {
		return nil
	}
	out, err := encode.JPEG(decode.Fit(img, 96), 85)
	if err != nil {
		return nil
	}
	return out
}
