package tuning

import (
	"fmt"
	"testing"

	"github.com/photoguard/photoguard/detect"
)

func TestSkip(t *testing.T) {
	enrolled := map[string]bool{"e1": true}
	for _, tc := range []struct {
		label string
		faces int
		sha   string
		want  string
	}{
		{"p1", 1, "x", ""},
		{"", 3, "x", ""},
		{"", 0, "x", ""},
		{"p1", 1, "e1", "it is an enrollment photo (it would match itself)"},
		{"", 2, "e1", "it is an enrollment photo (it would match itself)"},
		{"p1", 2, "x", "2 faces, a labelled photo needs exactly one"},
		{"p1", 0, "x", "0 faces, a labelled photo needs exactly one"},
	} {
		if got := Skip(tc.label, tc.faces, tc.sha, enrolled); got != tc.want {
			t.Errorf("Skip(%q, %d, %q) = %q, want %q", tc.label, tc.faces, tc.sha, got, tc.want)
		}
	}
}

// The enrolled pupils of cmd's TestLookAlikeTest: p1, p2 0.20 from p1, p4 0.35
// from p1 (0.40 from p2), p3 far away. At margin 0.10 two of four are
// shown as someone else, at 0.20 one, from 0.25 none; the configured
// margin is added to the list when it is not on it.
func TestLookAlikeTest(t *testing.T) {
	at := func(axis, off int, v float32) detect.Descriptor {
		var d detect.Descriptor
		d[axis], d[off] = 1, v
		return d
	}
	var people []detect.Person
	for _, p := range [4]struct {
		axis, off int
		v         float32
	}{{0, 100, 0}, {0, 100, 0.2}, {1, 100, 0}, {0, 101, 0.35}} {
		people = append(people, detect.Person{ID: fmt.Sprintf("p%d", len(people)+1), Descriptors: []detect.Descriptor{at(p.axis, p.off, p.v)}})
	}
	rows := LookAlikeTest(people, detect.MatchConfig{Threshold: 0.5, Margin: 0.25, MinFacePx: 60})
	want := []LookAlikeRow{{0.10, 2, 4, false}, {0.20, 1, 4, false}, {0.25, 0, 4, true}, {0.30, 0, 4, false}, {0.40, 0, 4, false}}
	if len(rows) != len(want) {
		t.Fatalf("%d rows: %+v", len(rows), rows)
	}
	for i := range want {
		if rows[i] != want[i] {
			t.Errorf("row %d: %+v, want %+v", i, rows[i], want[i])
		}
	}
	if rows := LookAlikeTest(people, detect.MatchConfig{Threshold: 0.5, Margin: 0.30}); len(rows) != 4 || !rows[2].Current {
		t.Errorf("margin 0.30: %+v", rows)
	}

	// A face of p3 (0.10 from its reference) and one of nobody: matched right
	// at every threshold, none wrong up to 0.60.
	samples := []detect.Sample{{Label: "p3", Face: detect.Face{Descriptor: at(1, 100, 0.1)}}, {Face: detect.Face{Descriptor: at(2, 100, 0)}}}
	lab := AnalyseLabelled(samples, people, detect.MatchConfig{Threshold: 0.5, Margin: 0.3})
	if len(lab.Rows) != 16 || lab.Rows[0].Threshold != 0.30 || lab.Rows[15].Threshold != 0.60 || lab.Rows[0].Enrolled != 1 || lab.Rows[0].Unknown != 1 {
		t.Fatalf("labelled rows: %+v", lab.Rows)
	}
	if lab.Rows[0].Correct != 1 || lab.Rows[0].False != 0 || lab.Safest != 0.60 || lab.Distances.Same.N != 1 {
		t.Errorf("labelled: %+v", lab)
	}
}
