package tuning

import (
	"image"
	"math"
	"math/rand"
	"strings"
	"testing"
	"time"

	"github.com/photoguard/photoguard/detect"
)

var now = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

// point is a descriptor at centre c (a unit axis) moved by r along axis a.
func point(c, a int, r float64) detect.Descriptor {
	var d detect.Descriptor
	d[c] = 1
	d[a] += float32(r)
	return d
}

func refs(ds ...detect.Descriptor) []Reference {
	out := make([]Reference, len(ds))
	for i, d := range ds {
		out[i] = Reference{Descriptor: d, AddedAt: now.AddDate(0, -1, 0)}
	}
	return out
}

// school: p1..p4 far apart with three close references each; twins t1 and
// t2 0.2 apart; p5 with one old reference; p6 whose references are 0.8
// apart.
func school() []Pupil {
	ps := []Pupil{}
	for i := 0; i < 4; i++ {
		c := 10 * i
		ps = append(ps, Pupil{ID: []string{"p1", "p2", "p3", "p4"}[i], References: refs(point(c, c+1, 0.1), point(c, c+2, 0.1), point(c, c+3, 0.1))})
	}
	ps = append(ps,
		Pupil{ID: "t1", References: refs(point(50, 51, 0.05), point(50, 52, 0.05), point(50, 53, 0.05))},
		Pupil{ID: "t2", References: refs(point(50, 54, 0.2), point(50, 55, 0.2), point(50, 56, 0.2))},
		Pupil{ID: "p5", References: []Reference{{Descriptor: point(60, 61, 0), AddedAt: now.AddDate(-2, 0, 0)}}},
		Pupil{ID: "p6", References: refs(point(70, 71, 0.4), point(70, 72, 0.4), point(70, 73, -0.4))},
	)
	return ps
}

func TestAnalyse(t *testing.T) {
	cfg := detect.MatchConfig{Threshold: 0.5, Margin: 0.3, MinFacePx: 40}
	rep := Analyse(Input{Pupils: school(), Match: cfg, Now: now})
	if rep.Basis.Pupils != 8 || rep.Basis.References != 22 || rep.Basis.OthersProbes != 22 || rep.Basis.OwnProbes != 21 {
		t.Errorf("basis %+v", rep.Basis)
	}
	if len(rep.LookAlikes) == 0 || rep.LookAlikes[0].A != "t1" || rep.LookAlikes[0].B != "t2" {
		t.Fatalf("closest pair: %+v, want t1-t2", rep.LookAlikes)
	}
	want := map[string][]string{FewReferences: {"p5"}, OldReferences: {"p5"}, SpreadOut: {"p6"}, CloserPupils: {"t1", "t2"}}
	got := map[string][]string{}
	for _, w := range rep.Warnings {
		got[w.Kind] = w.IDs
	}
	for k, ids := range want {
		if len(got[k]) != len(ids) || got[k][0] != ids[0] {
			t.Errorf("warning %q: %v, want %v", k, got[k], ids)
		}
	}
	// Wrong matches never fall as the threshold rises (at one margin), and
	// the twins are matched to each other at a small margin.
	for _, c := range rep.Curves {
		for i := 1; i < len(c.Points); i++ {
			if c.Points[i].Wrong < c.Points[i-1].Wrong {
				t.Errorf("margin %.2f: wrong matches fell from %d to %d at %.2f", c.Margin, c.Points[i-1].Wrong, c.Points[i].Wrong, c.Points[i].Threshold)
			}
		}
	}
	if p := rep.Curve(0.10).Points[len(Thresholds)-1]; p.Wrong == 0 {
		t.Errorf("at margin 0.10, threshold 0.60 the twins were not mixed up: %+v", p)
	}
	// With the twins enrolled no setting is free of wrong matches
	// (either twin taken as not enrolled is shown as the other).
	if rep.Recommended.OK {
		t.Errorf("recommended a setting although the twins are mixed up at every one: %+v", rep.Recommended)
	}
	noTwins := append(school()[:4:4], school()[6:]...)
	r := Analyse(Input{Pupils: noTwins, Match: cfg, Now: now}).Recommended
	if !r.OK || r.Margin < MinRecommendedMargin || r.Threshold > MaxRecommendedThreshold || r.At.Wrong != 0 {
		t.Errorf("recommendation %+v", r)
	}
	// Too little data: no recommendation.
	small := Analyse(Input{Pupils: school()[:2], Match: cfg, Now: now})
	if small.Recommended.OK {
		t.Errorf("recommended on 2 pupils: %+v", small.Recommended)
	}
}

// The precomputed probes judge as the matcher does: the "others" probes
// agree with detect.LeaveOneOut on random registers.
func TestProbesAgreeWithMatcher(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	var pupils []Pupil
	var people []detect.Person
	for i := 0; i < 12; i++ {
		var rs []Reference
		var ds []detect.Descriptor
		for k := 0; k < 3; k++ {
			var d detect.Descriptor
			for n := 0; n < 8; n++ {
				d[n] = float32(rng.NormFloat64() * 0.2)
			}
			rs = append(rs, Reference{Descriptor: d, AddedAt: now})
			ds = append(ds, d)
		}
		pupils = append(pupils, Pupil{ID: string(rune('a' + i)), References: rs})
		people = append(people, detect.Person{ID: string(rune('a' + i)), Descriptors: ds})
	}
	for _, m := range []float64{0, 0.05, 0.1} {
		for _, th := range []float64{0.3, 0.5, 0.7} {
			cfg := detect.MatchConfig{Threshold: th, Margin: m, MinFacePx: 40}
			want := detect.LeaveOneOut(people, cfg)
			probes, _ := buildProbes(Input{Pupils: pupils})
			var others []probe
			for _, p := range probes {
				if p.want == "" {
					others = append(others, p)
				}
			}
			pt := evaluate(others, th, m, 40)
			if pt.Wrong != want.Shown || pt.Probes != want.Probes {
				t.Errorf("t %.2f m %.2f: %d of %d wrong, LeaveOneOut %d of %d", th, m, pt.Wrong, pt.Probes, want.Shown, want.Probes)
			}
			// Own probes (built in order: per reference its others probe,
			// then its own): the same as MatchFaces against everyone with
			// the probe's reference left out of its own pupil.
			n := 0
			for i, p := range pupils {
				for k := range p.References {
					ppl := append([]detect.Person(nil), people...)
					ppl[i] = detect.Person{ID: p.ID}
					for x, r := range p.References {
						if x != k {
							ppl[i].Descriptors = append(ppl[i].Descriptors, r.Descriptor)
						}
					}
					f := detect.Face{Rect: image.Rect(0, 0, 40, 40), Descriptor: p.References[k].Descriptor}
					m1 := detect.MatchFaces([]detect.Face{f}, ppl, cfg)[0]
					own := probes[n+1]
					n += 2
					id, _ := detect.Judge(own.cands, math.Inf(1), 40, cfg)
					if own.want != p.ID || id != m1.ID {
						t.Fatalf("%s ref %d: probe says %q, matcher %q", p.ID, k, id, m1.ID)
					}
				}
			}
		}
	}
}

// Issue 19: when several thresholds give the same result, tune does not
// present the strictest as better: it gives the range of the tie.
func TestRecommendationTie(t *testing.T) {
	var pts []Point
	for _, th := range []float64{0.40, 0.42, 0.44, 0.46, 0.48, 0.50, 0.52, 0.54, 0.56, 0.58, 0.60} {
		p := Point{Threshold: th, Margin: 0.30, Probes: 100, Own: 50, Missed: 3}
		if th < 0.42 {
			p.Missed = 5
		}
		pts = append(pts, p)
	}
	b := Basis{Pupils: 10, OthersProbes: 100, OwnProbes: 50}
	r := recommend([]Curve{{Margin: 0.30, Points: pts}}, b)
	if !r.OK || !r.Tie() || r.Threshold != 0.42 || r.ThresholdFrom != 0.42 || r.ThresholdTo != 0.54 {
		t.Errorf("tie: %+v", r)
	}
	// One best value: no tie.
	pts[2].Missed = 2
	r = recommend([]Curve{{Margin: 0.30, Points: pts}}, b)
	if !r.OK || r.Tie() || r.Threshold != 0.44 {
		t.Errorf("no tie: %+v", r)
	}
	rep := &Report{Recommended: recommend([]Curve{{Margin: 0.30, Points: append(pts[:2:2], pts[3:]...)}}, b)}
	page, err := Page(rep, nil, time.Now())
	if err != nil || !strings.Contains(string(page), "any value from 0.42 to 0.54 (the same result)") {
		t.Errorf("the page does not give the tie: %v", err)
	}
}
