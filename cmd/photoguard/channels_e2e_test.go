package main

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/photoguard/photoguard/detect"
	"github.com/photoguard/photoguard/detect/dlib"
	"github.com/photoguard/photoguard/pipeline"
)

// TestConsentDiffersPerChannel: one run to two targets (the group run of
// school_test.go), where sheldon has consent for the parent portal and not
// for the website (the demo register). Judged by matching the faces in the
// two published outputs of each group photo with a detector of the test's
// own: no face on the
// website is within the threshold of sheldon, and on the portal he is
// recognisable in at least one photo (the portal really shows him: the
// website's redaction is not just everything redacted everywhere).
func TestConsentDiffersPerChannel(t *testing.T) {
	s, cfg, items := groupSchool(t)
	if len(items) != 10 {
		t.Fatalf("%d items, want 5 photos x 2 targets", len(items))
	}
	out := map[string]map[string]string{} // input -> target -> output file
	for _, it := range items {
		if it.Outcome != pipeline.Published {
			t.Fatalf("%s on %s: %+v, want published", it.Input, it.Target, it)
		}
		if out[it.Input] == nil {
			out[it.Input] = map[string]string{}
		}
		out[it.Input][it.Target] = filepath.Join(cfg.Targets[it.Target].Path, it.Output)
	}

	judge, people := s.judge(t, cfg, dlib.HOG)
	defer judge.Close()
	var sheldon detect.Person
	for _, p := range people {
		if p.ID == "sheldon" {
			sheldon = p
		}
	}
	if sheldon.ID == "" {
		t.Fatal("sheldon is not enrolled")
	}
	threshold := cfg.Faces.Threshold
	nearest := func(path string) float64 {
		faces, err := judge.Detect(context.Background(), decodeFile(t, path))
		if err != nil {
			t.Fatal(err)
		}
		best := 2.0
		for _, m := range detect.MatchFaces(faces, []detect.Person{sheldon}, detect.MatchConfig{Threshold: threshold}) {
			if len(m.Nearest) > 0 && m.Nearest[0].Distance < best {
				best = m.Nearest[0].Distance
			}
		}
		return best
	}
	shownOnPortal := 0
	for name, byTarget := range out {
		web, portal := nearest(byTarget["website"]), nearest(byTarget["portal"])
		t.Logf("%s: nearest face to sheldon: website %.2f, portal %.2f", name, web, portal)
		if web <= threshold {
			t.Errorf("%s: a face on the website is %.2f from sheldon, who has no consent for it", name, web)
		}
		if portal <= threshold {
			shownOnPortal++
		}
	}
	if shownOnPortal == 0 {
		t.Error("sheldon (consent for the parent portal) is recognisable in no portal output")
	}
}
