package tuning

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"html/template"
	"math"
	"strconv"
	"strings"
	"time"
)

const pageStyle = `
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222;max-width:1000px}
h1{font-size:1.4em}h2{font-size:1.15em;margin-top:1.5em}
table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:.15em .5em;text-align:left}
.warn{background:#fff3cd;border:1px solid #e0c36a;padding:.4em .8em;margin:.4em 0}
.rec{background:#e6f4ea;border:1px solid #7c9;padding:.5em .8em}
svg text{font:12px system-ui,sans-serif}
img{vertical-align:middle;margin-right:.3em}
`

// PageCSP is the page's Content-Security-Policy: no script, images from
// data: URLs only, nothing fetched.
var PageCSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"

type pageData struct {
	CSP       string
	Style     template.CSS
	Generated string
	Rep       *Report
	Plot      template.HTML
	Pairs     []pagePair
	Spreads   []Spread
	Threshold float64
}

type pagePair struct {
	Pair
	Close      bool
	ThumbA     template.URL
	ThumbB     template.URL
	HaveThumbs bool
}

var pageTemplate = template.Must(template.New("tune").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{{.CSP}}">
<meta name="referrer" content="no-referrer">
<meta name="generator" content="photoguard">
<title>photoguard tune</title>
<style>{{.Style}}</style></head><body>
<h1>photoguard tune: your pupils' trade-off</h1>
<p>Made {{.Generated}}. Settings now: faces.threshold {{printf "%.2f" .Rep.Current.Threshold}}, faces.margin {{printf "%.2f" .Rep.Current.Margin}}.</p>
{{with .Rep.Basis}}<p id="basis">The figures rest on {{.Pupils}} enrolled pupils with {{.References}} references: {{.OthersProbes}} tries of a reference as a child who is not enrolled (matched against everyone else), {{.OwnProbes}} against the pupil's own other references{{if .Labelled}}, {{.Labelled}} labelled faces of enrolled pupils{{end}}{{if .LabelledUnknown}}, {{.LabelledUnknown}} of people who are not enrolled{{end}}.</p>{{end}}
{{with .Rep.Recommended}}<div class="rec" id="recommendation">{{if .OK}}<b>Recommended: faces.threshold {{if .Tie}}any value from {{printf "%.2f" .ThresholdFrom}} to {{printf "%.2f" .ThresholdTo}} (the same result){{else}}{{printf "%.2f" .Threshold}}{{end}}, faces.margin {{printf "%.2f" .Margin}}</b>: {{.Why}}. There {{.At.Wrong}} of {{.At.Probes}} tries were matched to the wrong pupil and {{.At.Missed}} of {{.At.Own}} of a pupil's own faces were missed.{{else}}<b>No recommendation</b>: {{.Why}}.{{end}} Your enrolled pupils are a few hundred tries: they find look-alikes, it cannot prove a rate near zero; the margin is never recommended below 0.30, measured on 960 children.</div>{{end}}
<h2>Wrong and missed matches against the threshold</h2>
{{.Plot}}
<h2>Closest pairs of different pupils (look-alikes)</h2>
<table id="lookalikes"><tr><th>pupils</th><th>distance</th><th></th></tr>
{{range .Pairs}}<tr class="pair"><td>{{if .HaveThumbs}}{{if .ThumbA}}<img src="{{.ThumbA}}" alt="{{.A}}" width="48">{{end}}{{if .ThumbB}}<img src="{{.ThumbB}}" alt="{{.B}}" width="48">{{end}}{{end}}{{.A}} and {{.B}}</td><td>{{printf "%.2f" .Distance}}</td><td>{{if .Close}}closer than the threshold{{end}}</td></tr>
{{end}}</table>
<h2>Each pupil's references</h2>
<p>How many references each pupil has, where they came from (the school portrait, or a face you confirmed on the review page with <code>enroll --from</code>), how old they are, and how far apart they lie. A pupil is matched by the nearest of their references; references older than about two school years no longer show the pupil (children's faces change) but still keep look-alikes apart. Spread-out references (the largest distance above the threshold) mean one photo may be of someone else or the child has changed: replace them with new photos.</p>
<table id="spreads"><tr><th>pupil</th><th>references</th><th>portrait / review / unknown source</th><th>newest</th><th>oldest</th><th>too old to show</th><th>largest distance</th><th>median</th></tr>
{{range .Spreads}}<tr class="spread"><td>{{.ID}}</td><td>{{.References}}</td><td>{{.Portrait}} / {{.Review}} / {{.UnknownSource}}</td><td>{{if .Newest.IsZero}}unknown{{else}}{{.Newest.Format "2006-01-02"}}{{end}}</td><td>{{if .Oldest.IsZero}}unknown{{else}}{{.Oldest.Format "2006-01-02"}}{{end}}{{if .UnknownDate}} ({{.UnknownDate}} undated){{end}}</td><td>{{.Faded}}</td><td>{{printf "%.2f" .Max}}</td><td>{{printf "%.2f" .Median}}</td></tr>
{{end}}</table>
{{if .Rep.Groups}}<h2>The class as context</h2>
<p>A photo in a group folder (<code>inbox/groep-5/</code>) shows only that group's pupils, and every other enrolled pupil of the school must be clearly further from the face. Once enough of the school is enrolled around a group, its photos are matched with the group margin, which shows more consented children. The test: each reference of a pupil of the group, taken as a child who is not enrolled, in a photo of the group; "shown as a classmate" must stay 0.</p>
<table id="groups"><tr><th>group</th><th>enrolled</th><th>enrolled outside</th><th>margin of its photos</th><th>shown as a classmate</th></tr>
{{range .Rep.Groups}}<tr class="group"><td>{{.Group}}</td><td>{{.Enrolled}}</td><td>{{.Outside}}</td><td>{{printf "%.2f" .Margin}}{{if .Applies}} (group margin){{end}}</td><td>{{.Wrong}} of {{.Probes}}</td></tr>
{{end}}</table>{{end}}
<h2>Warnings</h2>
{{range .Rep.Warnings}}<div class="warn"><b>{{.Kind}}</b>: {{range $i, $id := .IDs}}{{if $i}}, {{end}}{{$id}}{{end}}. {{.Text}}</div>
{{else}}<p>None.</p>{{end}}
</body></html>
`))

// Page renders the report as one self-contained HTML page: the trade-off
// plotted, the settings marked, the look-alikes (with a small photo each
// from thumbs, JPEG by pupil id, when thumbs is not nil), the spreads and
// the warnings. Only ids, numbers and the thumbnails go into it.
func Page(rep *Report, thumbs map[string][]byte, now time.Time) ([]byte, error) {
	d := &pageData{CSP: PageCSP, Style: template.CSS(pageStyle), Generated: now.Format("2 January 2006 15:04"), Rep: rep,
		Plot: template.HTML(tradeOffSVG(rep)), Spreads: rep.Spreads, Threshold: rep.Current.Threshold}
	for _, p := range rep.LookAlikes {
		tp := pagePair{Pair: p, Close: p.Distance <= rep.Current.Threshold, HaveThumbs: thumbs != nil}
		if thumbs != nil {
			tp.ThumbA, tp.ThumbB = jpegURL(thumbs[p.A]), jpegURL(thumbs[p.B])
		}
		d.Pairs = append(d.Pairs, tp)
	}
	var buf bytes.Buffer
	if err := pageTemplate.Execute(&buf, d); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// tradeOffSVG draws two panels over the thresholds: wrong matches (top) and
// missed matches (bottom), one line per margin (the current one bold), with
// the current and the recommended settings marked. Only numbers go into it.
func tradeOffSVG(rep *Report) string {
	const w, left, right, panelH, top, gap = 760, 60, 200, 170, 20, 50
	x0, x1 := Thresholds[0], Thresholds[len(Thresholds)-1]
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
		val   func(Point) float64
		col   string
	}
	panels := []panel{
		{"wrong matches (a face shown as another pupil)", top, maxWrong, Point.WrongRate, "#c62828"},
		{"missed matches (a pupil's own face redacted)", top + panelH + gap, 1, Point.MissedRate, "#1565c0"},
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

func jpegURL(b []byte) template.URL {
	if len(b) == 0 {
		return ""
	}
	return template.URL("data:image/jpeg;base64," + base64.StdEncoding.EncodeToString(b))
}
