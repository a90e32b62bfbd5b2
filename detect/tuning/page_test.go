package tuning

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/photoguard/photoguard/detect"
)

// The page renders the analysis: the plot with a line per margin in
// each panel, the settings marked, look-alikes by id (no thumbnails unless
// asked), every warning.
func TestPage(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	pupil := func(id string, axis int, offs ...float32) Pupil {
		p := Pupil{ID: id}
		for i, o := range offs {
			var d detect.Descriptor
			d[axis], d[axis+1+i] = 1, o
			p.References = append(p.References, Reference{Descriptor: d, AddedAt: now.AddDate(0, -2, 0)})
		}
		return p
	}
	var pupils []Pupil
	for i := 0; i < 7; i++ {
		pupils = append(pupils, pupil(fmt.Sprintf("10020%d", i+1), 10*i, 0.1, 0.1, 0.1))
	}
	pupils = append(pupils, pupil("100208", 70, 0.1))
	rep := Analyse(Input{Pupils: pupils, Match: detect.MatchConfig{Threshold: 0.5, Margin: 0.3, MinFacePx: 60}, Now: now})
	page, err := Page(&rep, nil, now)
	if err != nil {
		t.Fatal(err)
	}
	h := string(page)
	if n := strings.Count(h, `class="curve"`); n != 2*len(rep.Curves) || n < 8 {
		t.Errorf("%d curves drawn for %d margins", n, len(rep.Curves))
	}
	for _, want := range []string{`<svg id="tradeoff"`, `id="current-wrong"`, `id="current-missed"`, `class="recommended"`, "Recommended: faces.threshold",
		"100201 and 100202", "fewer than three references</b>: 100208", `id="basis"`, "22 tries of a reference"} {
		if !strings.Contains(h, want) {
			t.Errorf("the tune page lacks %q", want)
		}
	}
	if strings.Contains(h, "<img") {
		t.Error("thumbnails without --thumbnails")
	}
}

func TestPageThumbnails(t *testing.T) {
	rep := Report{LookAlikes: []Pair{{A: "100201", B: "100202", Distance: 0.4}}, Current: Setting{Threshold: 0.5, Margin: 0.3},
		Curves: []Curve{{Margin: 0.3, Points: []Point{{Threshold: 0.3, Margin: 0.3}, {Threshold: 0.6, Margin: 0.3}}}}}
	page, err := Page(&rep, map[string][]byte{"100201": []byte("\xff\xd8jpeg")}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	h := string(page)
	if strings.Count(h, `<img src="data:image/jpeg;base64,`) != 1 || !strings.Contains(h, "closer than the threshold") {
		t.Errorf("look-alike thumbnails: %d images", strings.Count(h, "<img"))
	}
}
