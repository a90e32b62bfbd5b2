package tuning

import (
	"fmt"
	"math"
	"slices"

	"github.com/photoguard/photoguard/detect"
)

// Skip says why a photo of tune's labelled folder cannot be used, or ""
// when its faces are samples: an enrollment photo would match itself
// (enrolled holds the content hashes of the enrollment photos), and a photo
// labelled with a pupil must show exactly one face (whose face it is would
// otherwise be a guess). Photos of people who are not enrolled (label "")
// may show any number of faces.
func Skip(label string, faces int, sha string, enrolled map[string]bool) string {
	switch {
	case enrolled[sha]:
		return "it is an enrollment photo (it would match itself)"
	case label != "" && faces != 1:
		return fmt.Sprintf("%d faces, a labelled photo needs exactly one", faces)
	}
	return ""
}

// LabelledThresholds are the thresholds of the labelled table: 0.30 to 0.60
// by 0.02.
func LabelledThresholds() []float64 {
	var out []float64
	for t := 30; t <= 60; t += 2 {
		out = append(out, float64(t)/100)
	}
	return out
}

// Labelled is what the labelled photos show: per threshold how many faces
// are matched right, missed and matched to the wrong person, the distances
// of a face to its own and to the nearest other person, and the largest
// threshold without a wrong match (0: none).
type Labelled struct {
	Rows      []detect.TradeOffRow
	Distances detect.Distances
	Safest    float64
}

// AnalyseLabelled matches the labelled samples against people at each of
// LabelledThresholds with mc's margin and minimum face.
func AnalyseLabelled(samples []detect.Sample, people []detect.Person, mc detect.MatchConfig) Labelled {
	rows := detect.TradeOff(samples, people, mc, LabelledThresholds())
	return Labelled{Rows: rows, Distances: detect.SampleDistances(samples, people), Safest: detect.SafestThreshold(rows)}
}

// LookAlikeRow is the look-alike test at one margin: of Probes tries of an
// enrolled person taken as someone who is not enrolled, Shown were matched
// to someone else. Current marks the configured margin.
type LookAlikeRow struct {
	Margin        float64
	Shown, Probes int
	Current       bool
}

// LookAlikeTest takes each enrolled person in turn as someone who is not
// enrolled and matches their references against everyone else, at the
// margins 0.10, 0.20, 0.30, 0.40 and the configured one (threshold as
// configured).
func LookAlikeTest(people []detect.Person, mc detect.MatchConfig) []LookAlikeRow {
	near := func(a, b float64) bool { return math.Abs(a-b) < 0.005 }
	margins := []float64{0.10, 0.20, 0.30, 0.40}
	if !slices.ContainsFunc(margins, func(m float64) bool { return near(m, mc.Margin) }) {
		margins = append(margins, mc.Margin)
		slices.Sort(margins)
	}
	var out []LookAlikeRow
	for _, m := range margins {
		c := mc
		c.Margin = m
		r := detect.LeaveOneOut(people, c)
		out = append(out, LookAlikeRow{Margin: m, Shown: r.Shown, Probes: r.Probes, Current: near(m, mc.Margin)})
	}
	return out
}
