package detect

import (
	"math"
	"testing"
)

// child at axis a, off along axis 100+b (so children on different axes are
// sqrt(2) apart, twins on one axis are |off1-off2| apart).
func child(a int, off float64, band, group string) Child {
	d := desc(a, 100, off)
	return Child{Descriptor: d, Band: band, Group: group}
}

var rule = MatchConfig{Threshold: 0.5, Margin: 0.1, MinFacePx: 60}

func TestFalseShow(t *testing.T) {
	var apart, cluster, twins []Child
	for i := 0; i < 20; i++ {
		apart = append(apart, child(i, 0, "b", "g"))
		cluster = append(cluster, child(0, 0.002*float64(i), "b", "g"))
	}
	// Two pairs of look-alikes (0.2 apart), far from each other.
	twins = []Child{child(0, 0, "young", "x"), child(0, 0.2, "young", "x"), child(1, 0, "old", "y"), child(1, 0.2, "old", "y")}
	cases := []struct {
		name       string
		set        []Child
		opt        FalseShowOptions
		mean, wrst float64
	}{
		{"children far apart are never shown", apart, FalseShowOptions{Shown: 5}, 0, 0},
		{"one enrolled in a crowd: every probe is shown", cluster, FalseShowOptions{Shown: 1}, 1, 1},
		{"two enrolled in a crowd: the margin redacts all", cluster, FalseShowOptions{Shown: 2}, 0, 0},
		{"one shown, one more enrolled: the margin redacts all", cluster, FalseShowOptions{Shown: 1, Enrolled: 2}, 0, 0},
		{"one enrolled, one background child: redacted", cluster, FalseShowOptions{Shown: 1, Background: 1}, 0, 0},
		{"a twin of the enrolled child is shown, the others not", twins, FalseShowOptions{Shown: 1}, 1.0 / 3, 1.0 / 3},
		{"no probes left: no result", twins, FalseShowOptions{Shown: 2, Background: 2}, 0, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			opt := tc.opt
			opt.Draws, opt.Seed, opt.Match = 7, 1, rule
			r := NewChildSet(tc.set).FalseShow(opt)
			if math.Abs(r.Mean-tc.mean) > 1e-9 || math.Abs(r.Worst-tc.wrst) > 1e-9 {
				t.Errorf("mean %v worst %v, want %v %v (%+v)", r.Mean, r.Worst, tc.mean, tc.wrst, r.PerDraw)
			}
			probes := len(tc.set) - max(opt.Enrolled, opt.Shown) - opt.Background
			if probes <= 0 {
				if len(r.PerDraw) != 0 {
					t.Errorf("draws without probes: %+v", r.PerDraw)
				}
				return
			}
			if len(r.PerDraw) != opt.Draws {
				t.Fatalf("%d draws", len(r.PerDraw))
			}
			var band Count
			for _, c := range r.ByBand {
				band.Probes += c.Probes
				band.Shown += c.Shown
			}
			var draws Count
			for _, c := range r.PerDraw {
				if c.Probes != probes {
					t.Errorf("draw with %d probes, want %d", c.Probes, probes)
				}
				draws.Probes += c.Probes
				draws.Shown += c.Shown
			}
			if band != draws {
				t.Errorf("by band %+v, draws %+v", band, draws)
			}
		})
	}
}

func TestFalseShowByBandAndSeed(t *testing.T) {
	twins := []Child{child(0, 0, "young", "x"), child(0, 0.2, "young", "x"), child(1, 0, "old", "y"), child(1, 0.2, "old", "y")}
	s := NewChildSet(twins)
	opt := FalseShowOptions{Shown: 1, Draws: 20, Seed: 3, Match: rule}
	r := s.FalseShow(opt)
	// Each draw shows exactly the enrolled child's twin, of its band.
	y, o := r.ByBand["young"], r.ByBand["old"]
	if y.Shown+o.Shown != 20 || y.Probes+o.Probes != 60 || r.ByGroup["x"] != y || r.ByGroup["y"] != o {
		t.Errorf("by band %+v, by group %+v", r.ByBand, r.ByGroup)
	}
	again := s.FalseShow(opt)
	for i := range r.PerDraw {
		if r.PerDraw[i] != again.PerDraw[i] || r.ByBand["young"] != again.ByBand["young"] {
			t.Fatalf("not reproducible: %+v vs %+v", r, again)
		}
	}
	// A class drawn from one band, probes of that band only: the young
	// twin of the enrolled young child, every time.
	r = s.FalseShow(FalseShowOptions{Shown: 1, Draws: 6, Match: rule, Band: "young"})
	for _, c := range r.PerDraw {
		if c != (Count{Probes: 1, Shown: 1}) {
			t.Errorf("band draw %+v, want the one young probe shown", c)
		}
	}
	if r.ByBand["old"].Probes != 0 || r.Mean != 1 {
		t.Errorf("band draws: %+v", r)
	}
	// Two enrolled from a band of two leaves no probe of it; three cannot
	// be drawn from it at all.
	if r = s.FalseShow(FalseShowOptions{Shown: 3, Draws: 2, Match: rule, Band: "young"}); len(r.PerDraw) != 0 {
		t.Errorf("three from a band of two: %+v", r)
	}
	sub := s.Subset(func(c Child) bool { return c.Band == "young" })
	if len(sub.Children) != 2 {
		t.Fatalf("subset: %d", len(sub.Children))
	}
	r = sub.FalseShow(FalseShowOptions{Shown: 1, Draws: 5, Match: rule})
	if r.Mean != 1 {
		t.Errorf("young twins: the other twin is always shown, mean %v", r.Mean)
	}
}

func TestAdults(t *testing.T) {
	// anna, bram, cas enrolled (see people); photo 1: anna and bram;
	// photo 2: cas, a stranger at 0.3 from cas's point along another axis
	// (a look-alike: matched to cas at 0.3 as well), and bram too small.
	photos := [][]Sample{
		{{"anna", face(desc(0, 30, 0.1), 100)}, {"bram", face(desc(1, 30, 0.2), 100)}},
		{{"cas", face(desc(2, 30, 0.1), 100)}, {"", face(desc(2, 31, 0.3), 100)}, {"bram", face(desc(1, 0, 0), 30)}},
	}
	r := Adults(photos, people, cfg)
	// Per scenario (one of three without consent): photo 2's cas and the
	// stranger both match cas: matched twice, both redacted; bram in photo
	// 2 too small. Kept: anna and bram in photo 1 when they have consent.
	if r.Scenarios != 3 || r.Leaks != 0 {
		t.Errorf("%+v", r)
	}
	// Labelled faces: anna, bram (photo 1), cas, bram (photo 2). Consented
	// per scenario: without anna 3, without bram 2, without cas 3. Kept:
	// without anna bram; without bram anna; without cas anna and bram.
	if r.Consented != 3+2+3 || r.Kept != 1+1+2 {
		t.Errorf("consented %d kept %d", r.Consented, r.Kept)
	}
	// A stranger alone near cas is shown as cas whenever cas has consent: a
	// leak in two of the three scenarios.
	r = Adults([][]Sample{{{"", face(desc(2, 31, 0.3), 100)}}}, people, cfg)
	if r.Leaks != 2 || r.Consented != 0 || r.KeptRate() != 0 {
		t.Errorf("stranger: %+v", r)
	}
}
