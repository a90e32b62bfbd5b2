package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/photoguard/photoguard/detect"
)

// The look-alike test of `photoguard tune`: p1, p2 0.20 from p1 and p4 0.35
// from p1 (0.40 from p2), p3 far away. Left out in turn, p1 is 0.15 nearer
// to p2 than to p4, p2 0.20 nearer to p1 than to p4, p4 only 0.05 nearer
// to p1 than to p2: at margin 0.10 two of four are shown as someone else,
// at 0.20 one, from 0.25 none.
func TestLookAlikeTest(t *testing.T) {
	at := func(axis, off int, v float32) detect.Descriptor {
		var d detect.Descriptor
		d[axis], d[off] = 1, v
		return d
	}
	people := []detect.Person{
		{ID: "p1", Descriptors: []detect.Descriptor{at(0, 100, 0)}},
		{ID: "p2", Descriptors: []detect.Descriptor{at(0, 100, 0.2)}},
		{ID: "p3", Descriptors: []detect.Descriptor{at(1, 100, 0)}},
		{ID: "p4", Descriptors: []detect.Descriptor{at(0, 101, 0.35)}},
	}
	for _, tc := range []struct {
		margin float64
		want   []string
	}{
		{0.30, []string{"0.10 2 (50%)\n", "0.20 1 (25%)\n", "0.30 0 (0%) <- faces.margin now", "0.40 0 (0%)\n"}},
		{0.25, []string{"0.20 1 (25%)\n", "0.25 0 (0%) <- faces.margin now", "0.30 0 (0%)\n"}},
	} {
		var b bytes.Buffer
		lookAlikeTest(&b, people, detect.MatchConfig{Threshold: 0.5, Margin: tc.margin, MinFacePx: 60})
		// Columns are aligned with spaces: compare words, line by line.
		var lines []string
		for _, l := range strings.Split(b.String(), "\n") {
			lines = append(lines, strings.Join(strings.Fields(l), " "))
		}
		out := strings.Join(lines, "\n")
		for _, w := range append(tc.want, "4 enrolled people", "in 0 of 18,700 tries") {
			if !strings.Contains(out, w) {
				t.Errorf("margin %.2f: output lacks %q:\n%s", tc.margin, w, out)
			}
		}
		if strings.Contains(out, "p1") || strings.Contains(out, "p2") {
			t.Errorf("the look-alike test names people:\n%s", out)
		}
	}
}
