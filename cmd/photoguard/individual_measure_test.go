package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/photoguard/photoguard/detect"
)

// TestMeasureIndividual measures where the individual rule draws its line
// on the shared photos (README, "Approving photos for the website"): the
// school of the end-to-end tests (eight people enrolled, sheldon without
// consent for the website), the default settings, and per photo the faces
// found, those the website would show, the largest shown face as a share of
// the photo's shorter side, and whether the photo counts as one pupil on
// their own (not for the website). By hand (about 3 minutes):
//
//	PHOTOGUARD_MEASURE=1 go test -trimpath ./cmd/photoguard -run TestMeasureIndividual -v
func TestMeasureIndividual(t *testing.T) {
	if os.Getenv("PHOTOGUARD_MEASURE") == "" {
		t.Skip("a measurement: PHOTOGUARD_MEASURE=1")
	}
	s := newFaceSchool(t)
	cfg := writeConfig(t, t.TempDir(), fmt.Sprintf("inbox: %[1]s/inbox\nstate_dir: %[1]s/state\nmodels_dir: %[2]s\n"+
		"targets:\n  website:\n    type: dir\n    path: %[1]s/out\n    channel: website\n", s.dir, s.models))
	var photos []string
	for _, pattern := range []string{"faces/groups/*.jpg", "photos/*.jpg", "faces/identities/*/*1.png"} {
		m, _ := filepath.Glob(filepath.Join(s.testdata, pattern))
		sort.Strings(m)
		photos = append(photos, m...)
	}
	st, err := openPipeline(cfg, slog.New(slog.DiscardHandler), runMode{targets: []string{"website"}, dryRun: true, batch: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var b strings.Builder
	fmt.Fprintf(&b, "| photo | size | faces found (clear enough to recognise) | largest of those | shown on the website | largest shown | one pupil on their own? |\n|---|---|---|---|---|---|---|\n")
	for _, p := range photos {
		j, err := st.p.Explain(context.Background(), filepath.Dir(p), p)
		if j == nil || j.Image == nil {
			t.Errorf("%s: %v", p, err)
			continue
		}
		d := j.Deliveries[0]
		var shown []string
		largest, clear, largestClear := 0.0, 0, 0.0
		for _, f := range j.Faces {
			if !f.NoDescriptor {
				clear++
				largestClear = max(largestClear, detect.FaceShare(f.Rect, j.Image.Rect))
			}
		}
		for i, dec := range d.Decisions {
			if dec.Show {
				shown = append(shown, dec.ID)
				largest = max(largest, detect.FaceShare(j.Faces[i].Rect, j.Image.Rect))
			}
		}
		verdict := "no: published (after approval)"
		if d.Err != nil {
			verdict = "yes: portal only"
			if !strings.Contains(d.Err.Error(), "one pupil") {
				verdict = "not published: " + d.Err.Error()
			}
		}
		rel, _ := filepath.Rel(s.testdata, p)
		share := "-"
		if len(shown) > 0 {
			share = fmt.Sprintf("%.2f", largest)
		}
		fmt.Fprintf(&b, "| %s | %dx%d | %d (%d) | %.2f | %d %s | %s | %s |\n", rel, j.Image.Rect.Dx(), j.Image.Rect.Dy(), len(j.Faces), clear,
			largestClear, len(shown), strings.Join(shown, ", "), share, verdict)
	}
	t.Logf("\n%s", b.String())
}
