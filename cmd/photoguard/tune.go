package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
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
register itself (each pupil's references tried as a child who is not enrolled,
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
		tp := tuning.Pupil{ID: p.ID}
		for _, r := range snap.References(p.ID) {
			enrolledSHA[r.SourceSHA256] = true
			tp.References = append(tp.References, tuning.Reference{Descriptor: r.Descriptor, AddedAt: r.AddedAt})
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
	registerTest(text, people, mc)
	rep := tuning.Analyse(tuning.Input{Pupils: pupils, Samples: samples, Match: mc, Now: now})
	printTuning(text, &rep)
	if f.json {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if err := enc.Encode(&rep); err != nil {
			return err
		}
	}
	if f.out != "" {
		if err := privatePagePath(cfg, f.out); err != nil {
			return err
		}
		page, err := tunePage(&rep, thumbs, now)
		if err != nil {
			return err
		}
		if err := pipeline.WriteFile(f.out, page, 0o600); err != nil {
			return err
		}
		fmt.Fprintf(text, "\ntuning page: %s\n", f.out)
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
			if withThumbs && label != "" && thumbs[label] == nil {
				thumbs[label] = tuneThumb(ctx, p)
			}
		}
	}
	if len(samples) == 0 {
		return nil, nil, fmt.Errorf("no usable faces in %s", dir)
	}
	var thresholds []float64
	for t := 30; t <= 60; t += 2 {
		thresholds = append(thresholds, float64(t)/100)
	}
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
	return samples, thumbs, nil
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

// printTuning prints the recommendation, the look-alikes and the warnings.
func printTuning(w io.Writer, rep *tuning.Report) {
	b := rep.Basis
	fmt.Fprintf(w, "\nData: %d pupils with %s; %d tries as a child who is not enrolled, %d against their own references",
		b.Pupils, plural(b.References, "reference"), b.OthersProbes, b.OwnProbes)
	if b.Labelled+b.LabelledUnknown > 0 {
		fmt.Fprintf(w, ", %d labelled faces of enrolled pupils and %d of others", b.Labelled, b.LabelledUnknown)
	}
	fmt.Fprintln(w, ".")
	r := rep.Recommended
	if r.OK {
		fmt.Fprintf(w, "Recommended: faces.threshold %.2f, faces.margin %.2f (now %.2f, %.2f): %s.\n", r.Threshold, r.Margin,
			rep.Current.Threshold, rep.Current.Margin, r.Why)
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

const tuneStyle = `
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222;max-width:1000px}
h1{font-size:1.4em}h2{font-size:1.15em;margin-top:1.5em}
table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:.15em .5em;text-align:left}
.warn{background:#fff3cd;border:1px solid #e0c36a;padding:.4em .8em;margin:.4em 0}
.rec{background:#e6f4ea;border:1px solid #7c9;padding:.5em .8em}
svg text{font:12px system-ui,sans-serif}
img{vertical-align:middle;margin-right:.3em}
`

var tuneCSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"

type tunePageData struct {
	CSP       string
	Style     template.CSS
	Generated string
	Rep       *tuning.Report
	Plot      template.HTML
	Pairs     []tunePair
	Spreads   []tuning.Spread
	Threshold float64
}

type tunePair struct {
	tuning.Pair
	Close      bool
	ThumbA     template.URL
	ThumbB     template.URL
	HaveThumbs bool
}

var tuneTemplate = template.Must(template.New("tune").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{{.CSP}}">
<meta name="referrer" content="no-referrer">
<title>photoguard tune</title>
<style>{{.Style}}</style></head><body>
<h1>photoguard tune: your pupils' trade-off</h1>
<p>Made {{.Generated}}. Settings now: faces.threshold {{printf "%.2f" .Rep.Current.Threshold}}, faces.margin {{printf "%.2f" .Rep.Current.Margin}}.</p>
{{with .Rep.Basis}}<p id="basis">The figures rest on {{.Pupils}} enrolled pupils with {{.References}} references: {{.OthersProbes}} tries of a reference as a child who is not enrolled (matched against everyone else), {{.OwnProbes}} against the pupil's own other references{{if .Labelled}}, {{.Labelled}} labelled faces of enrolled pupils{{end}}{{if .LabelledUnknown}}, {{.LabelledUnknown}} of people who are not enrolled{{end}}.</p>{{end}}
{{with .Rep.Recommended}}<div class="rec" id="recommendation">{{if .OK}}<b>Recommended: faces.threshold {{printf "%.2f" .Threshold}}, faces.margin {{printf "%.2f" .Margin}}</b>: {{.Why}}. There {{.At.Wrong}} of {{.At.Probes}} tries were matched to the wrong pupil and {{.At.Missed}} of {{.At.Own}} of a pupil's own faces were missed.{{else}}<b>No recommendation</b>: {{.Why}}.{{end}} A register is a few hundred tries: it finds look-alikes, it cannot prove a rate near zero; the margin is never recommended below 0.30, measured on 960 children.</div>{{end}}
<h2>Wrong and missed matches against the threshold</h2>
{{.Plot}}
<h2>Closest pairs of different pupils (look-alikes)</h2>
<table id="lookalikes"><tr><th>pupils</th><th>distance</th><th></th></tr>
{{range .Pairs}}<tr class="pair"><td>{{if .HaveThumbs}}{{if .ThumbA}}<img src="{{.ThumbA}}" alt="{{.A}}" width="48">{{end}}{{if .ThumbB}}<img src="{{.ThumbB}}" alt="{{.B}}" width="48">{{end}}{{end}}{{.A}} and {{.B}}</td><td>{{printf "%.2f" .Distance}}</td><td>{{if .Close}}closer than the threshold{{end}}</td></tr>
{{end}}</table>
<h2>Each pupil's spread of references</h2>
<p>How far apart a pupil's own reference descriptors lie. Spread-out references (the largest distance above the threshold) mean one photo may be of someone else or the child has changed: replace them with new photos.</p>
<table id="spreads"><tr><th>pupil</th><th>references</th><th>largest distance</th><th>median</th><th>oldest</th></tr>
{{range .Spreads}}<tr class="spread"><td>{{.ID}}</td><td>{{.References}}</td><td>{{printf "%.2f" .Max}}</td><td>{{printf "%.2f" .Median}}</td><td>{{.Oldest.Format "2006-01-02"}}</td></tr>
{{end}}</table>
<h2>Warnings</h2>
{{range .Rep.Warnings}}<div class="warn"><b>{{.Kind}}</b>: {{range $i, $id := .IDs}}{{if $i}}, {{end}}{{$id}}{{end}}. {{.Text}}</div>
{{else}}<p>None.</p>{{end}}
</body></html>
`))

func tunePage(rep *tuning.Report, thumbs map[string][]byte, now time.Time) ([]byte, error) {
	d := &tunePageData{CSP: tuneCSP, Style: template.CSS(tuneStyle), Generated: now.Format("2 January 2006 15:04"), Rep: rep,
		Plot: template.HTML(tradeOffSVG(rep)), Spreads: rep.Spreads, Threshold: rep.Current.Threshold}
	for _, p := range rep.LookAlikes {
		tp := tunePair{Pair: p, Close: p.Distance <= rep.Current.Threshold, HaveThumbs: thumbs != nil}
		if thumbs != nil {
			tp.ThumbA, tp.ThumbB = dataURL(thumbs[p.A], nil), dataURL(thumbs[p.B], nil)
		}
		d.Pairs = append(d.Pairs, tp)
	}
	var buf bytes.Buffer
	if err := tuneTemplate.Execute(&buf, d); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// tradeOffSVG draws two panels over the thresholds: wrong matches (top) and
// missed matches (bottom), one line per margin (the current one bold), with
// the current and the recommended settings marked. Only numbers go into it.
func tradeOffSVG(rep *tuning.Report) string {
	const w, left, right, panelH, top, gap = 760, 60, 200, 170, 20, 50
	x0, x1 := tuning.Thresholds[0], tuning.Thresholds[len(tuning.Thresholds)-1]
	x := func(t float64) float64 { return left + (t-x0)/(x1-x0)*float64(w-left-right) }
	maxWrong := 0.0
	for _, c := range rep.Curves {
		for _, p := range c.Points {
			maxWrong = math.Max(maxWrong, p.WrongRate())
		}
	}
	if maxWrong == 0 {
		maxWrong = 0.01
	}
	type panel struct {
		title string
		y0    float64
		max   float64
		val   func(tuning.Point) float64
		col   string
	}
	panels := []panel{
		{"wrong matches (a face shown as another pupil)", top, maxWrong, tuning.Point.WrongRate, "#c62828"},
		{"missed matches (a pupil's own face redacted)", top + panelH + gap, 1, tuning.Point.MissedRate, "#1565c0"},
	}
	h := top + 2*panelH + gap + 40
	var b strings.Builder
	fmt.Fprintf(&b, `<svg id="tradeoff" xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" role="img" aria-label="wrong and missed matches against threshold">`, w, h, w, h)
	for pi, pn := range panels {
		y := func(v float64) float64 { return pn.y0 + panelH - v/pn.max*panelH }
		fmt.Fprintf(&b, `<text x="%d" y="%.0f" font-weight="600">%s</text>`, left, pn.y0-6, pn.title)
		fmt.Fprintf(&b, `<rect x="%d" y="%.0f" width="%d" height="%d" fill="none" stroke="#999"/>`, left, pn.y0, w-left-right, panelH)
		for k := 0; k <= 4; k++ {
			v := pn.max * float64(k) / 4
			fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#eee"/><text x="%d" y="%.1f" text-anchor="end">%s%%</text>`,
				left, w-right, y(v), y(v), left-4, y(v)+4, strconv.FormatFloat(math.Round(10000*v)/100, 'f', -1, 64))
		}
		for _, c := range rep.Curves {
			current := math.Abs(c.Margin-rep.Current.Margin) < 0.005
			var pts []string
			for _, p := range c.Points {
				pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(p.Threshold), y(pn.val(p))))
			}
			width, op, dash := "1.2", "0.45", ` stroke-dasharray="4 3"`
			if current {
				width, op, dash = "2.5", "1", ""
			}
			fmt.Fprintf(&b, `<polyline class="curve" data-margin="%.2f" points="%s" fill="none" stroke="%s" stroke-width="%s" opacity="%s"%s/>`,
				c.Margin, strings.Join(pts, " "), pn.col, width, op, dash)
			last := c.Points[len(c.Points)-1]
			if pi == 0 && !current {
				continue // the wrong-match lines often lie on each other: one label
			}
			fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" fill="%s" opacity="%s">margin %.2f%s</text>`, x(last.Threshold)+6, y(pn.val(last))+4, pn.col, op, c.Margin,
				map[bool]string{true: " (now)", false: ""}[current])
		}
		cx := x(rep.Current.Threshold)
		fmt.Fprintf(&b, `<line id="current-%s" x1="%.1f" x2="%.1f" y1="%.0f" y2="%.0f" stroke="#333" stroke-dasharray="6 3"/>`,
			[]string{"wrong", "missed"}[pi], cx, cx, pn.y0, pn.y0+panelH)
		if r := rep.Recommended; r.OK {
			if c := rep.Curve(r.Margin); c != nil {
				for _, p := range c.Points {
					if math.Abs(p.Threshold-r.Threshold) < 0.005 {
						fmt.Fprintf(&b, `<circle class="recommended" cx="%.1f" cy="%.1f" r="6" fill="#2e7d32" stroke="#fff" stroke-width="2"/>`, x(p.Threshold), y(pn.val(p)))
					}
				}
			}
		}
	}
	base := top + 2*panelH + gap
	for t := x0; t <= x1+1e-9; t += 0.05 {
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle">%.2f</text>`, x(t), base+16, t)
	}
	fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="middle">faces.threshold (distance)</text>`, (w-right+left)/2, base+34)
	fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%d" y2="%d" stroke="#333" stroke-dasharray="6 3"/><text x="%d" y="%d">now: %.2f, %.2f</text>`,
		w-right+8, w-right+28, top+14, top+14, w-right+34, top+18, rep.Current.Threshold, rep.Current.Margin)
	if r := rep.Recommended; r.OK {
		fmt.Fprintf(&b, `<circle cx="%d" cy="%d" r="5" fill="#2e7d32"/><text x="%d" y="%d">recommended: %.2f, %.2f</text>`,
			w-right+18, top+34, w-right+34, top+38, r.Threshold, r.Margin)
	}
	fmt.Fprintf(&b, `<text x="%d" y="%d" fill="#555">solid: margin now;</text><text x="%d" y="%d" fill="#555">dashed: other margins</text>`,
		w-right+8, top+60, w-right+8, top+75)
	b.WriteString(`</svg>`)
	return b.String()
}
