package review

import (
	"bytes"
	"html/template"
	"strings"
	"time"
)

// WaitingPhoto is a photo that waits for the direction's approval, as the
// waiting page shows it: per waiting target the output as it would be
// published (the record's preview of it) and the commands that answer it.
type WaitingPhoto struct {
	Short, Group, Since, Expires string
	Targets                      []WaitingTarget
}

// WaitingTarget is one target a photo waits for.
type WaitingTarget struct {
	Name, Channel          string
	Faces, Shown, Redacted int
	Pupils                 string
	// Output is the preview of the output as it would be published; ""
	// when the record has none (then the page says so: look with explain).
	Output                  template.URL
	Approve, Reject, Reason string
}

// WaitingPage is the direction's page: what waits, nothing unredacted.
type WaitingPage struct {
	Generated string
	CSP       string
	Style     template.CSS
	Photos    []WaitingPhoto
}

// WaitingTargetInfo is what the approval store says of one waiting target.
type WaitingTargetInfo struct {
	Name, Channel          string
	Faces, Shown, Redacted int
	Pupils                 []string
}

// BuildWaitingPage starts the page; Add adds each photo that waits.
func BuildWaitingPage(now time.Time) *WaitingPage {
	return &WaitingPage{Generated: now.Format("2 January 2006 15:04"), CSP: CSP, Style: template.CSS(pageStyle + waitingStyle)}
}

// Add adds one waiting photo; rec is its review record (nil when there is
// none any more).
func (p *WaitingPage) Add(sha, group string, since, expires time.Time, rec *Record, targets []WaitingTargetInfo) {
	wp := WaitingPhoto{Short: sha[:12], Group: group, Since: since.Local().Format("2006-01-02 15:04"), Expires: expires.Local().Format("2006-01-02")}
	for _, t := range targets {
		wt := WaitingTarget{Name: t.Name, Channel: t.Channel, Faces: t.Faces, Shown: t.Shown, Redacted: t.Redacted,
			Pupils:  strings.Join(t.Pupils, ", "),
			Approve: "photoguard approve " + wp.Short + " --target " + t.Name,
			Reject:  "photoguard reject " + wp.Short + " --target " + t.Name + ` --reason "..."`}
		if rec != nil {
			for _, rt := range rec.Targets {
				if rt.Name == t.Name && rt.Thumb != "" {
					wt.Output = dataURL(rec.Image(rt.Thumb))
				}
			}
		}
		wp.Targets = append(wp.Targets, wt)
	}
	p.Photos = append(p.Photos, wp)
}

const waitingStyle = `
.waiting{border-top:1px solid #ccc;padding:.8em 0}
.waiting img{max-width:1024px;border:1px solid #ccc}
.cmds code{display:block;margin:.2em 0;font-size:1em}
`

var waitingTemplate = template.Must(template.New("waiting").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{{.CSP}}">
<meta name="referrer" content="no-referrer">
<meta name="generator" content="photoguard">
<meta name="robots" content="noindex,nofollow">
<title>photoguard: waiting for approval</title>
<style>{{.Style}}</style>
</head><body>
<h1>Waiting for approval</h1>
<p class="warn">These photos are not published yet. Each is shown as it would be published: the faces that may not be shown are already blurred. The page is for the direction and the ICT coordinator: do not send it on, delete it when done.</p>
<p>{{len .Photos}} photos wait. Made {{.Generated}}. Copy a command into the terminal of the photoguard server to answer; a photo nobody answers is rejected on the date under "expires".</p>
{{range .Photos}}<div class="waiting" id="w-{{.Short}}"><h2>photo {{.Short}}</h2>
<div>{{if .Group}}group {{.Group}} · {{end}}waiting since {{.Since}} · expires {{.Expires}}</div>
{{range .Targets}}<div class="target"><h3>for {{.Name}} ({{.Channel}})</h3>
<div>{{.Faces}} faces: {{.Shown}} shown{{if .Pupils}} (pupils {{.Pupils}}){{end}}, {{.Redacted}} blurred</div>
{{if .Output}}<img src="{{.Output}}" alt="as it would be published on {{.Name}}">{{else}}<div>no preview kept (look with photoguard explain, or run the review page of its day)</div>{{end}}
<div class="cmds">approve: <code>{{.Approve}}</code>reject: <code>{{.Reject}}</code></div>
</div>{{end}}</div>
{{else}}<p>No photo waits for approval.</p>{{end}}
</body></html>
`))

// HTML renders the page: one self-contained file (images inline, no
// script).
func (p *WaitingPage) HTML() ([]byte, error) {
	var buf bytes.Buffer
	if err := waitingTemplate.Execute(&buf, p); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
