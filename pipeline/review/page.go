package review

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"html/template"
	"strings"
	"time"

	"github.com/photoguard/photoguard/detect"
	"github.com/photoguard/photoguard/internal/display"
	"github.com/photoguard/photoguard/pipeline"
)

// The page's own script: filters and counts. Its hash is in the page's
// Content-Security-Policy; no other script runs.
const pageScript = `
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

const pageStyle = `
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}
h1{font-size:1.4em;margin:0 0 .3em}
.warn{background:#fff3cd;border:1px solid #e0c36a;padding:.5em .8em;margin:.8em 0}
#filters label{margin-right:1.2em}
table.photos{border-collapse:collapse;width:100%}
tr.photo>td{border-top:1px solid #ccc;vertical-align:top;padding:.6em .4em}
img{display:block;max-width:100%}
.out{width:330px}.in{width:490px}
.tag{display:inline-block;padding:0 .4em;border-radius:3px;font-size:.85em;color:#fff}
.published{background:#2a7}.waiting{background:#37b}.held{background:#c70}.rejected{background:#777}.quarantined{background:#a33}
table.faces{border-collapse:collapse;font-size:.92em}
table.faces td,table.faces th{border:1px solid #ddd;padding:.15em .4em;text-align:left}
.show{color:#062;font-weight:600}.redact{color:#a00}
code{font-size:.85em;background:#f4f4f4;padding:0 .2em;user-select:all}
.legend span{margin-right:1em}
.strip{display:flex;flex-wrap:wrap;gap:4px}.strip figure{margin:0;width:240px;font-size:.85em;color:#555}
`

// CSP is the page's Content-Security-Policy: images from data: URLs only,
// no script but the page's own (by its hash), nothing fetched.
var CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'sha256-" +
	func() string {
		s := sha256.Sum256([]byte(pageScript))
		return base64.StdEncoding.EncodeToString(s[:])
	}() +
	"'; base-uri 'none'; form-action 'none'"

// Page is the review page: one Row per photo.
type Page struct {
	Title, What, Generated string
	CSP                    string
	Script                 template.JS
	Style                  template.CSS
	Rows                   []Row
	Missing                []pipeline.Item
	Held, Unknown, Shown   int
	Thresholds             string
	Names                  bool
}

// Row is one photo of the page.
type Row struct {
	Short, SHA256, At, Input string
	Held, Unknown, Shown     bool
	Preview                  template.URL
	// Strip is a video's strip of frames with its tracks boxed.
	Strip   []StripPic
	Outputs []Output
	Faces   []PageFace
	// Unclear are the numbers of the boxes that could not be described
	// ("7", or "7 (found at a low score)")
	// (always redacted): listed, not tabled.
	Unclear  []string
	Category string
}

// StripPic is one frame of a video's strip on the page.
type StripPic struct {
	Image template.URL
	At    string
}

// Output is what one target did with the photo.
type Output struct {
	Target  string       `json:"target"`
	Outcome string       `json:"outcome"`
	Reason  string       `json:"reason,omitempty"`
	Thumb   template.URL `json:"-"`
}

// PageFace is one described face of a photo.
type PageFace struct {
	N         int
	Width     int
	Match     string
	MatchName string
	Why       string
	Nearest   string
	Cells     []Cell
	Shown     bool
	Ref       string // PHOTO for the commands
	// LowScore is the finder's score of a face found at a low score
	// (small, turned, blurred or in shadow, or perhaps not a face), "".
	LowScore string
}

// low reports whether the finder found a face at a low score.
func low(f Face) bool { return f.Score > 0 && f.Score < detect.LowScore }

// Cell is one target's decision about a face.
type Cell struct {
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

// PageOptions say what the page shows besides the records.
type PageOptions struct {
	// Match and Policy are the configured settings, printed at the top.
	Match  detect.MatchConfig
	Policy string
	// Names, when not nil, gives a pupil's first name and group: the page
	// then shows names and input file names.
	Names func(id string) string
	Now   time.Time
}

// BuildPage lays out the records, newest first, with a note for each photo
// in missing (one without a record).
func BuildPage(recs []*Record, missing []pipeline.Item, what string, opts PageOptions) *Page {
	names, now := opts.Names, opts.Now
	// Text from outside (file names, names from the consent store, reasons quoting
	// them) is escaped with display's rule before html/template's: no
	// bidi control reorders what the page shows.
	esc := display.Escape
	missing = append([]pipeline.Item(nil), missing...)
	for i := range missing {
		missing[i].Input, missing[i].Reason = esc(missing[i].Input), esc(missing[i].Reason)
	}
	p := &Page{Title: "photoguard review", What: esc(what), Generated: now.Format("2 January 2006 15:04"),
		CSP: CSP, Script: template.JS(pageScript), Style: template.CSS(pageStyle), Missing: missing, Names: names != nil,
		Thresholds: fmt.Sprintf("distance ≤ %.2f, margin ≥ %.2f, face ≥ %d px, policy %s", opts.Match.Threshold, opts.Match.Margin, opts.Match.MinFacePx, opts.Policy)}
	for i := len(recs) - 1; i >= 0; i-- { // newest first
		r := recs[i]
		row := Row{Short: r.Short, SHA256: r.SHA256, At: r.At.Local().Format("2006-01-02 15:04"),
			Held: r.Held(), Unknown: r.AnyUnknown(), Shown: r.AnyShown(), Category: esc(r.Category)}
		if names != nil {
			row.Input = esc(r.Input)
		}
		if r.Preview != "" {
			row.Preview = dataURL(r.Image(r.Preview))
		}
		for _, f := range r.Strip {
			row.Strip = append(row.Strip, StripPic{Image: dataURL(r.Image(f.Image)), At: fmt.Sprintf("%.1f s", f.Seconds)})
		}
		for _, t := range r.Targets {
			o := Output{Target: t.Name, Outcome: t.Outcome, Reason: esc(t.Reason)}
			if t.Thumb != "" {
				o.Thumb = dataURL(r.Image(t.Thumb))
			}
			row.Outputs = append(row.Outputs, o)
		}
		for k, fr := range r.Faces {
			if fr.Why == detect.WhyNotDescribed && len(fr.Nearest) == 0 && !anyShown(r, k) {
				label := fmt.Sprint(fr.N)
				if low(fr) {
					label += " (found at a low score)"
				}
				row.Unclear = append(row.Unclear, label)
				continue
			}
			rf := PageFace{N: fr.N, Width: fr.Width, Match: esc(fr.Match), Why: esc(fr.Why), Ref: r.Short}
			if low(fr) {
				rf.LowScore = fmt.Sprintf("%.2f", fr.Score)
			}
			if names != nil && fr.Match != "" {
				rf.MatchName = esc(names(fr.Match))
			}
			var near []string
			for _, c := range fr.Nearest {
				near = append(near, fmt.Sprintf("%s %.2f", esc(c.ID), c.Distance))
			}
			rf.Nearest = strings.Join(near, ", ")
			for _, t := range r.Targets {
				if k < len(t.Decisions) {
					d := t.Decisions[k]
					rf.Cells = append(rf.Cells, Cell(d))
					rf.Shown = rf.Shown || d.Show
				} else {
					rf.Cells = append(rf.Cells, Cell{Reason: "-"})
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
func anyShown(r *Record, k int) bool {
	for _, t := range r.Targets {
		if k < len(t.Decisions) && t.Decisions[k].Show {
			return true
		}
	}
	return false
}

var pageTemplate = template.Must(template.New("review").Funcs(template.FuncMap{"b": func(v bool) string {
	if v {
		return "1"
	}
	return "0"
}}).Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{{.CSP}}">
<meta name="referrer" content="no-referrer">
<meta name="generator" content="photoguard">
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
<td class="out">{{range .Outputs}}<div><b>{{.Target}}</b> <span class="tag {{.Outcome}}">{{.Outcome}}</span>{{if .Thumb}}<img src="{{.Thumb}}" alt="published on {{.Target}}">{{else if eq .Outcome "published"}}<div>published (a video: no preview)</div>{{else}}<div>not published{{if .Reason}}: {{.Reason}}{{end}}</div>{{end}}</div>{{end}}</td>
<td class="in">{{if .Preview}}<img src="{{.Preview}}" alt="input, faces numbered">{{else if .Strip}}<div class="strip">{{range .Strip}}<figure>{{if .Image}}<img src="{{.Image}}" alt="frame at {{.At}}, faces numbered">{{end}}<figcaption>{{.At}}</figcaption></figure>{{end}}</div>{{else}}no preview (not decoded){{end}}</td>
<td><div><b>photo {{.Short}}</b> · {{.At}}{{if .Input}} · {{.Input}}{{end}}{{if .Category}} · category {{.Category}}{{end}}</div>
{{if .Faces}}<table class="faces"><tr><th>face</th><th>match</th><th>nearest pupils (distance)</th>{{range .Outputs}}<th>{{.Target}}</th>{{end}}</tr>
{{range .Faces}}<tr class="face"><td>{{.N}} <small>({{.Width}} px{{if .LowScore}}; found at a low score, {{.LowScore}}{{end}})</small></td><td>{{if .Match}}{{.Match}}{{if .MatchName}} {{.MatchName}}{{end}}{{else}}- <small>{{.Why}}</small>{{end}}</td><td>{{.Nearest}}</td>{{range .Cells}}<td>{{if .Show}}<span class="show">shown{{if .ID}} as {{.ID}}{{end}}</span>{{else}}<span class="redact">redacted</span>: {{.Reason}}{{end}}</td>{{end}}</tr>
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

// HTML renders the page: one self-contained file (images inline).
func (p *Page) HTML() ([]byte, error) {
	var buf bytes.Buffer
	if err := pageTemplate.Execute(&buf, p); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Listing is the --json form: what the page shows, without images.
type Listing struct {
	Photo   string        `json:"photo"`
	SHA256  string        `json:"sha256"`
	At      string        `json:"at"`
	Input   string        `json:"input,omitempty"`
	Held    bool          `json:"held"`
	Unknown bool          `json:"unknown_face"`
	Shown   bool          `json:"face_shown"`
	Targets []Output      `json:"targets"`
	Faces   []FaceListing `json:"faces"`
}

// FaceListing is one face of a Listing.
type FaceListing struct {
	N         int               `json:"n"`
	WidthPx   int               `json:"width_px"`
	Match     string            `json:"match,omitempty"`
	Why       string            `json:"why,omitempty"`
	Nearest   string            `json:"nearest,omitempty"`
	Decisions map[string]string `json:"decisions"`
}

// Listing is the page without images, for --json.
func (p *Page) Listing() []Listing {
	out := []Listing{}
	for _, r := range p.Rows {
		l := Listing{Photo: r.Short, SHA256: r.SHA256, At: r.At, Input: r.Input, Held: r.Held, Unknown: r.Unknown, Shown: r.Shown}
		l.Targets = append(l.Targets, r.Outputs...)
		for _, f := range r.Faces {
			fo := FaceListing{N: f.N, WidthPx: f.Width, Match: f.Match, Why: f.Why, Nearest: f.Nearest, Decisions: map[string]string{}}
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
