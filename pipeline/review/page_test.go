package review

import (
	htmlpkg "html"
	"strings"
	"testing"
	"time"

	"github.com/photoguard/photoguard/detect"
	"github.com/photoguard/photoguard/pipeline"
)

// The page of one recorded photo: the counts, a row per photo with its
// previews inline, a table row per described face with one cell per
// target, the commands to correct a face, names only when asked, and the
// listing carrying the same decisions without images.
func TestPage(t *testing.T) {
	state, at, j := writeTestRecord(t)
	recs, err := Load(state, at.Add(-time.Hour))
	if err != nil || len(recs) != 1 {
		t.Fatalf("Load: %d records, %v", len(recs), err)
	}
	missing := []pipeline.Item{{Input: "groep-5/IMG_0009.jpg", SHA256: strings.Repeat("cd", 32), Outcome: pipeline.Rejected, Reason: "not a photo"}}
	opts := PageOptions{Match: detect.MatchConfig{Threshold: 0.5, Margin: 0.3, MinFacePx: 60}, Policy: "strict", Now: at}
	p := BuildPage(recs, missing, "today", opts)
	if p.Held != 1 || p.Unknown != 1 || p.Shown != 1 || len(p.Rows) != 1 {
		t.Fatalf("counts: held %d unknown %d shown %d, %d rows", p.Held, p.Unknown, p.Shown, len(p.Rows))
	}
	row := p.Rows[0]
	if row.Input != "" || len(row.Faces) != 2 || len(row.Faces[0].Cells) != 2 || !row.Faces[0].Shown || row.Faces[1].Shown || row.Preview == "" {
		t.Errorf("row: %+v", row)
	}
	html, err := p.HTML()
	if err != nil {
		t.Fatal(err)
	}
	h := htmlpkg.UnescapeString(string(html))
	for _, want := range []string{CSP, "1 photos: 1 held, 1 with a face matched to nobody, 1 with a face shown", "distance ≤ 0.50, margin ≥ 0.30, face ≥ 60 px, policy strict",
		`<img src="data:image/jpeg;base64,`, "shown as 100205", "no consent for newsletter",
		"photoguard correct abababababab --face 1 --not 100205", "photoguard enroll ID --from abababababab --face 2",
		"Without a review record", strings.Repeat("cd", 32), "(80 px; found at a low score, 0.23)"} {
		if !strings.Contains(h, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	if strings.Contains(h, "(100 px; found at a low score") {
		t.Error("a face found at 0.91 is marked as found at a low score")
	}
	if strings.Contains(h, "groep-5") || strings.Contains(h, "Ada") {
		t.Error("the page names an input or a pupil without --names")
	}
	if n := strings.Count(h, "<script>"); n != 1 || !strings.Contains(CSP, "script-src 'sha256-") {
		t.Errorf("%d scripts; policy %s", n, CSP)
	}

	opts.Names = func(id string) string { return map[string]string{"100205": "Ada (5b)"}[id] }
	h2, err := BuildPage(recs, missing, "today", opts).HTML()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(h2), "100205 Ada (5b)") || !strings.Contains(string(h2), "groep-5/IMG_0001.jpg") || !strings.Contains(string(h2), "groep-5/IMG_0009.jpg") {
		t.Error("--names: the page lacks the name or the input files")
	}

	l := p.Listing()
	if len(l) != 1 || l[0].SHA256 != j.SHA256 || !l[0].Held || len(l[0].Faces) != 2 || l[0].Faces[0].Decisions["website"] != "shown: consent" ||
		l[0].Faces[0].Decisions["newsletter"] != "redacted: no consent for newsletter" || len(l[0].Targets) != 2 {
		t.Errorf("listing: %+v", l)
	}
}

// Issue 19: a register name or a file name with a bidirectional override
// (U+202E) or an ESC sequence is shown escaped on the page, not obeyed.
func TestPageEscapesBidiAndControls(t *testing.T) {
	state, at, _ := writeTestRecord(t)
	recs, err := Load(state, at.Add(-time.Hour))
	if err != nil || len(recs) != 1 {
		t.Fatalf("Load: %d records, %v", len(recs), err)
	}
	missing := []pipeline.Item{{Input: "groep-5/\u202egpj.exe", Reason: "not a photo: \x1b[2J", Outcome: pipeline.Rejected}}
	opts := PageOptions{Now: at, Names: func(string) string { return "\u202eadA (5b)" }}
	html, err := BuildPage(recs, missing, "today", opts).HTML()
	if err != nil {
		t.Fatal(err)
	}
	h := string(html)
	if strings.ContainsAny(h, "\u202e\x1b") {
		t.Error("the page holds a raw bidi override or ESC")
	}
	for _, want := range []string{`\u202eadA (5b)`, `groep-5/\u202egpj.exe`, `not a photo: \x1b[2J`} {
		if !strings.Contains(htmlpkg.UnescapeString(h), want) {
			t.Errorf("the page lacks %q", want)
		}
	}
}
