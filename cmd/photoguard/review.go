package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/photoguard/photoguard/config"
	"github.com/photoguard/photoguard/detect"
	"github.com/photoguard/photoguard/pipeline"
	"github.com/photoguard/photoguard/pipeline/review"
)

// reviewSink is the pipeline's review sink: the records that `review`
// makes its page from. A dry run keeps none.
func reviewSink(cfg *config.Config, m runMode) pipeline.ReviewSink {
	if m.dryRun {
		return nil
	}
	return review.New(cfg.StateDir)
}

type reviewFlags struct {
	since, batch, out string
	names, json       bool
}

func reviewCmd() *cobra.Command {
	var f reviewFlags
	cmd := &cobra.Command{
		Use:   "review [--since DATE | --batch REPORT] [--out review.html]",
		Short: "Write a page that shows, per photo, what photoguard decided about every face",
		Long: `Write one self-contained HTML page (no external files, works offline) with, per
photo, the published output beside a preview of the input with every face
boxed and numbered: shown (with the pupil id) or redacted (and why), the
distance to the nearest pupils, and per target what it did. Filters show only
held photos, photos with an unknown face, or photos with a face shown.

The records are made when photos are processed (by run and batch), in
state_dir/review/<date>/. --since DATE (YYYY-MM-DD, today, yesterday; the
default is today) takes the photos processed from that day on; --batch REPORT
those of a batch report. The page shows children's faces unredacted: it is
written 0600, into the state folder unless --out says where, never into a
target, and it names nobody unless --names is given.

Fix what is wrong from the commands the page shows:
  photoguard enroll ID --from PHOTO --face N     this face is ID
  photoguard correct PHOTO --face N --not ID     this face is not ID`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := loadConfig()
			if err != nil {
				return err
			}
			return reviewPage(os.Stdout, cfg, f, time.Now())
		},
	}
	cmd.Flags().StringVar(&f.since, "since", "", "photos processed from this day on (YYYY-MM-DD, today, yesterday; default today)")
	cmd.Flags().StringVar(&f.batch, "batch", "", "the photos of this batch report (batch --report)")
	cmd.Flags().StringVar(&f.out, "out", "", "write the page here (default state_dir/review/<today>/review.html)")
	cmd.Flags().BoolVar(&f.names, "names", false, "show first names, groups and input file names (the page then holds names: keep it to yourself)")
	cmd.Flags().BoolVar(&f.json, "json", false, "print the photos and faces as JSON on standard output (no page unless --out is given)")
	return cmd
}

// parseSince reads --since (review, published) as a local day, or a moment
// in RFC 3339.
func parseSince(s string, now time.Time) (time.Time, error) {
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.Local)
	switch strings.ToLower(s) {
	case "", "today":
		return today, nil
	case "yesterday":
		return today.AddDate(0, 0, -1), nil
	}
	if t, err := time.ParseInLocation("2006-01-02", s, time.Local); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("--since %q: give a date as YYYY-MM-DD, today or yesterday", s)
}

// reviewRecords selects the records for the page, with a note for each
// photo of a batch report that has none.
func reviewRecords(cfg *config.Config, f reviewFlags, now time.Time) (recs []*review.Record, missing []pipeline.Item, what string, err error) {
	if f.batch != "" && f.since != "" {
		return nil, nil, "", errors.New("give --since or --batch, not both")
	}
	if f.batch == "" {
		since, err := parseSince(f.since, now)
		if err != nil {
			return nil, nil, "", err
		}
		recs, err := review.Load(cfg.StateDir, since)
		return recs, nil, "photos processed since " + since.Format("Monday 2 January 2006"), err
	}
	data, err := os.ReadFile(f.batch)
	if err != nil {
		return nil, nil, "", fmt.Errorf("--batch: %w", err)
	}
	var rep struct {
		Summary pipeline.Summary `json:"summary"`
		Items   []pipeline.Item  `json:"items"`
	}
	if err := json.Unmarshal(data, &rep); err != nil {
		return nil, nil, "", fmt.Errorf("--batch %s: not a batch report: %v", f.batch, err)
	}
	seen := map[string]bool{}
	for _, it := range rep.Items {
		if it.SHA256 == "" || seen[it.SHA256] {
			if it.SHA256 == "" && !seen[it.Input] {
				seen[it.Input] = true
				missing = append(missing, it)
			}
			continue
		}
		seen[it.SHA256] = true
		r, err := review.Find(cfg.StateDir, it.SHA256)
		if err != nil {
			missing = append(missing, it)
			continue
		}
		recs = append(recs, r)
	}
	return recs, missing, fmt.Sprintf("the batch of %s (%s)", rep.Summary.Started.Local().Format("2 January 2006 15:04"), plural(rep.Summary.Inputs, "photo")), nil
}

func reviewPage(w io.Writer, cfg *config.Config, f reviewFlags, now time.Time) error {
	recs, missing, what, err := reviewRecords(cfg, f, now)
	if err != nil {
		return err
	}
	var names func(id string) string
	if f.names {
		store, err := openStore(cfg)
		if err != nil {
			return err
		}
		snap := store.Snapshot()
		names = func(id string) string {
			if p, ok := snap.Person(id); ok {
				return strings.TrimSpace(p.FirstName + " (" + p.Group + ")")
			}
			return ""
		}
	}
	page := buildReviewPage(recs, missing, what, cfg, names, now)
	if f.json {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if err := enc.Encode(page.listing()); err != nil {
			return err
		}
		if f.out == "" {
			return nil
		}
	}
	out := f.out
	if out == "" {
		out = filepath.Join(cfg.StateDir, review.Folder, now.Format("2006-01-02"), "review.html")
		if err := os.MkdirAll(filepath.Dir(out), 0o700); err != nil {
			return err
		}
	}
	if err := privatePagePath(cfg, out); err != nil {
		return err
	}
	html, err := page.render()
	if err != nil {
		return err
	}
	if err := pipeline.WriteFile(out, html, 0o600); err != nil {
		return err
	}
	msg := fmt.Sprintf("review page: %s (%s", out, plural(len(recs), "photo"))
	if len(missing) > 0 {
		msg += fmt.Sprintf(", %d without a record", len(missing))
	}
	msg += "; it shows children's faces unredacted: for your eyes only, never publish it)"
	if f.json {
		fmt.Fprintln(os.Stderr, msg)
	} else {
		fmt.Fprintln(w, msg)
	}
	return nil
}

// privatePagePath refuses to write a page of unredacted faces into a target
// or the inbox.
func privatePagePath(cfg *config.Config, out string) error {
	abs, err := filepath.Abs(out)
	if err != nil {
		return err
	}
	dir := filepath.Dir(abs)
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return fmt.Errorf("%s: the folder %s does not exist", out, dir)
	}
	for _, name := range cfg.TargetNames() {
		if p := cfg.Targets[name].Path; p != "" && config.Within(dir, p) {
			return fmt.Errorf("%s is inside target %s (%s): a page with unredacted faces is never written where photos are published", out, name, p)
		}
	}
	if cfg.Inbox != "" && config.Within(dir, cfg.Inbox) {
		return fmt.Errorf("%s is inside the inbox (%s): write the page elsewhere", out, cfg.Inbox)
	}
	return nil
}

// The page's own script: filters and counts. Its hash is in the page's
// Content-Security-Policy; no other script runs.
const reviewScript = `
(function () {
  var boxes = document.querySelectorAll('#filters input');
  var rows = document.querySelectorAll('tr.photo');
  function apply() {
    var want = [];
    boxes.forEach(function (b) { if (b.checked) want.push(b.value); });
    var n = 0;
    rows.forEach(function (r) {
      var show = want.every(function (k) { return r.dataset[k] === '1'; });
      r.hidden = !show;
      if (show) n++;
    });
    document.getElementById('visible').textContent = String(n);
  }
  boxes.forEach(function (b) { b.addEventListener('change', apply); });
  apply();
  document.body.setAttribute('data-ready', '1');
})();
`

const reviewStyle = `
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}
h1{font-size:1.4em;margin:0 0 .3em}
.warn{background:#fff3cd;border:1px solid #e0c36a;padding:.5em .8em;margin:.8em 0}
#filters label{margin-right:1.2em}
table.photos{border-collapse:collapse;width:100%}
tr.photo>td{border-top:1px solid #ccc;vertical-align:top;padding:.6em .4em}
img{display:block;max-width:100%}
.out{width:330px}.in{width:490px}
.tag{display:inline-block;padding:0 .4em;border-radius:3px;font-size:.85em;color:#fff}
.published{background:#2a7}.held{background:#c70}.rejected{background:#777}.quarantined{background:#a33}
table.faces{border-collapse:collapse;font-size:.92em}
table.faces td,table.faces th{border:1px solid #ddd;padding:.15em .4em;text-align:left}
.show{color:#062;font-weight:600}.redact{color:#a00}
code{font-size:.85em;background:#f4f4f4;padding:0 .2em;user-select:all}
.legend span{margin-right:1em}
`

var reviewCSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'sha256-" +
	func() string {
		s := sha256.Sum256([]byte(reviewScript))
		return base64.StdEncoding.EncodeToString(s[:])
	}() +
	"'; base-uri 'none'; form-action 'none'"

type reviewPageData struct {
	Title, What, Generated string
	CSP                    string
	Script                 template.JS
	Style                  template.CSS
	Rows                   []reviewRow
	Missing                []pipeline.Item
	Held, Unknown, Shown   int
	Thresholds             string
	Names                  bool
}

type reviewRow struct {
	Short, SHA256, At, Input string
	Held, Unknown, Shown     bool
	Preview                  template.URL
	Outputs                  []reviewOutput
	Faces                    []reviewFace
	// Unclear are the numbers of the boxes that could not be described
	// (always redacted): listed, not tabled.
	Unclear  []int
	Category string
}

type reviewOutput struct {
	Target  string       `json:"target"`
	Outcome string       `json:"outcome"`
	Reason  string       `json:"reason,omitempty"`
	Thumb   template.URL `json:"-"`
}

type reviewFace struct {
	N         int
	Width     int
	Match     string
	MatchName string
	Why       string
	Nearest   string
	Cells     []reviewCell
	Shown     bool
	Ref       string // PHOTO for the commands
}

type reviewCell struct {
	Show   bool
	ID     string
	Reason string
}

func dataURL(b []byte, err error) template.URL {
	if err != nil || len(b) == 0 {
		return ""
	}
	return template.URL("data:image/jpeg;base64," + base64.StdEncoding.EncodeToString(b))
}

func buildReviewPage(recs []*review.Record, missing []pipeline.Item, what string, cfg *config.Config, names func(string) string, now time.Time) *reviewPageData {
	p := &reviewPageData{Title: "photoguard review", What: what, Generated: now.Format("2 January 2006 15:04"),
		CSP: reviewCSP, Script: template.JS(reviewScript), Style: template.CSS(reviewStyle), Missing: missing, Names: names != nil,
		Thresholds: fmt.Sprintf("distance ≤ %.2f, margin ≥ %.2f, face ≥ %d px, policy %s", cfg.Faces.Threshold, cfg.Faces.Margin, cfg.Faces.MinFacePx, cfg.Faces.Policy)}
	for i := len(recs) - 1; i >= 0; i-- { // newest first
		r := recs[i]
		row := reviewRow{Short: r.Short, SHA256: r.SHA256, At: r.At.Local().Format("2006-01-02 15:04"),
			Held: r.Held(), Unknown: r.AnyUnknown(), Shown: r.AnyShown(), Category: r.Category}
		if names != nil {
			row.Input = r.Input
		}
		if r.Preview != "" {
			row.Preview = dataURL(r.Image(r.Preview))
		}
		for _, t := range r.Targets {
			o := reviewOutput{Target: t.Name, Outcome: t.Outcome, Reason: t.Reason}
			if t.Thumb != "" {
				o.Thumb = dataURL(r.Image(t.Thumb))
			}
			row.Outputs = append(row.Outputs, o)
		}
		for k, fr := range r.Faces {
			if fr.Why == detect.WhyNotDescribed && len(fr.Nearest) == 0 && !anyShown(r, k) {
				row.Unclear = append(row.Unclear, fr.N)
				continue
			}
			rf := reviewFace{N: fr.N, Width: fr.Width, Match: fr.Match, Why: fr.Why, Ref: r.Short}
			if names != nil && fr.Match != "" {
				rf.MatchName = names(fr.Match)
			}
			var near []string
			for _, c := range fr.Nearest {
				near = append(near, fmt.Sprintf("%s %.2f", c.ID, c.Distance))
			}
			rf.Nearest = strings.Join(near, ", ")
			for _, t := range r.Targets {
				if k < len(t.Decisions) {
					d := t.Decisions[k]
					rf.Cells = append(rf.Cells, reviewCell{Show: d.Show, ID: d.ID, Reason: d.Reason})
					rf.Shown = rf.Shown || d.Show
				} else {
					rf.Cells = append(rf.Cells, reviewCell{Reason: "-"})
				}
			}
			row.Faces = append(row.Faces, rf)
		}
		if row.Held {
			p.Held++
		}
		if row.Unknown {
			p.Unknown++
		}
		if row.Shown {
			p.Shown++
		}
		p.Rows = append(p.Rows, row)
	}
	return p
}

// anyShown reports whether a target shows face k of r.
func anyShown(r *review.Record, k int) bool {
	for _, t := range r.Targets {
		if k < len(t.Decisions) && t.Decisions[k].Show {
			return true
		}
	}
	return false
}

var reviewTemplate = template.Must(template.New("review").Funcs(template.FuncMap{"b": func(v bool) string {
	if v {
		return "1"
	}
	return "0"
}}).Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{{.CSP}}">
<meta name="referrer" content="no-referrer">
<meta name="robots" content="noindex,nofollow">
<title>{{.Title}}</title>
<style>{{.Style}}</style>
</head><body data-ready="0">
<h1>photoguard review: {{.What}}</h1>
<p class="warn"><b>This page shows children's faces unredacted.</b> It is for the ICT coordinator only: never publish it, never send it on, delete it when done.{{if .Names}} It holds names.{{end}}</p>
<p>{{len .Rows}} photos: {{.Held}} held, {{.Unknown}} with a face matched to nobody, {{.Shown}} with a face shown. Made {{.Generated}}; {{.Thresholds}}.</p>
<p class="legend">Boxes: <span><b style="color:#0a4">green</b> shown on every target,</span> <span><b style="color:#c00">red</b> redacted on every target,</span> <span><b style="color:#d80">orange</b> shown on some targets only (see the table, per target);</span> <span>thin: found but not clear enough to recognise.</span></p>
<div id="filters">Show only:
<label><input type="checkbox" value="held"> held</label>
<label><input type="checkbox" value="unknown"> any unknown face</label>
<label><input type="checkbox" value="shown"> any face shown</label>
<span><span id="visible">{{len .Rows}}</span> shown</span></div>
<table class="photos" id="photos">
{{range .Rows}}<tr class="photo" id="p-{{.Short}}" data-held="{{b .Held}}" data-unknown="{{b .Unknown}}" data-shown="{{b .Shown}}">
<td class="out">{{range .Outputs}}<div><b>{{.Target}}</b> <span class="tag {{.Outcome}}">{{.Outcome}}</span>{{if .Thumb}}<img src="{{.Thumb}}" alt="published on {{.Target}}">{{else}}<div>not published{{if .Reason}}: {{.Reason}}{{end}}</div>{{end}}</div>{{end}}</td>
<td class="in">{{if .Preview}}<img src="{{.Preview}}" alt="input, faces numbered">{{else}}no preview (not decoded){{end}}</td>
<td><div><b>photo {{.Short}}</b> · {{.At}}{{if .Input}} · {{.Input}}{{end}}{{if .Category}} · category {{.Category}}{{end}}</div>
{{if .Faces}}<table class="faces"><tr><th>face</th><th>match</th><th>nearest pupils (distance)</th>{{range .Outputs}}<th>{{.Target}}</th>{{end}}</tr>
{{range .Faces}}<tr class="face"><td>{{.N}} <small>({{.Width}} px)</small></td><td>{{if .Match}}{{.Match}}{{if .MatchName}} {{.MatchName}}{{end}}{{else}}- <small>{{.Why}}</small>{{end}}</td><td>{{.Nearest}}</td>{{range .Cells}}<td>{{if .Show}}<span class="show">shown{{if .ID}} as {{.ID}}{{end}}</span>{{else}}<span class="redact">redacted</span>: {{.Reason}}{{end}}</td>{{end}}</tr>
{{end}}</table>
{{if .Unclear}}<div class="unclear">Also redacted on every target, found but not clear enough to recognise: {{range $i, $n := .Unclear}}{{if $i}}, {{end}}{{$n}}{{end}}.</div>{{end}}
<details><summary>correct a face</summary>
{{range .Faces}}<div>face {{.N}}: {{if .Match}}<code>photoguard correct {{.Ref}} --face {{.N}} --not {{.Match}}</code>{{else}}<code>photoguard enroll ID --from {{.Ref}} --face {{.N}}</code>{{end}}</div>
{{end}}</details>{{else if .Unclear}}<div class="unclear">Redacted on every target, found but not clear enough to recognise: {{range $i, $n := .Unclear}}{{if $i}}, {{end}}{{$n}}{{end}}.</div>{{else}}<div>no faces found</div>{{end}}
</td></tr>
{{end}}</table>
{{if .Missing}}<h2>Without a review record</h2><ul>{{range .Missing}}<li>{{if $.Names}}{{.Input}}{{else}}{{.SHA256}}{{end}}: {{.Outcome}}{{if .Reason}} ({{.Reason}}){{end}}</li>{{end}}</ul>{{end}}
<script>{{.Script}}</script>
</body></html>
`))

func (p *reviewPageData) render() ([]byte, error) {
	var buf bytes.Buffer
	if err := reviewTemplate.Execute(&buf, p); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// reviewListing is the --json form: what the page shows, without images.
type reviewListing struct {
	Photo   string          `json:"photo"`
	SHA256  string          `json:"sha256"`
	At      string          `json:"at"`
	Input   string          `json:"input,omitempty"`
	Held    bool            `json:"held"`
	Unknown bool            `json:"unknown_face"`
	Shown   bool            `json:"face_shown"`
	Targets []reviewOutput  `json:"targets"`
	Faces   []reviewFaceOut `json:"faces"`
}

type reviewFaceOut struct {
	N         int               `json:"n"`
	WidthPx   int               `json:"width_px"`
	Match     string            `json:"match,omitempty"`
	Why       string            `json:"why,omitempty"`
	Nearest   string            `json:"nearest,omitempty"`
	Decisions map[string]string `json:"decisions"`
}

func (p *reviewPageData) listing() []reviewListing {
	out := []reviewListing{}
	for _, r := range p.Rows {
		l := reviewListing{Photo: r.Short, SHA256: r.SHA256, At: r.At, Input: r.Input, Held: r.Held, Unknown: r.Unknown, Shown: r.Shown}
		l.Targets = append(l.Targets, r.Outputs...)
		for _, f := range r.Faces {
			fo := reviewFaceOut{N: f.N, WidthPx: f.Width, Match: f.Match, Why: f.Why, Nearest: f.Nearest, Decisions: map[string]string{}}
			for k, c := range f.Cells {
				if k < len(r.Outputs) {
					v := "redacted: " + c.Reason
					if c.Show {
						v = "shown: " + c.Reason
					}
					fo.Decisions[r.Outputs[k].Target] = v
				}
			}
			l.Faces = append(l.Faces, fo)
		}
		out = append(out, l)
	}
	return out
}
