package detect

import (
	"fmt"
	"image"
	"log/slog"
	"math"
	"strings"
	"testing"
)

// desc makes a descriptor at a known place: unit vector along axis a,
// scaled, plus an offset along axis b. Distances between such descriptors
// are easy to compute by hand.
func desc(a int, offB int, off float64) Descriptor {
	var d Descriptor
	d[a] = 1
	if off != 0 {
		d[offB] = float32(off)
	}
	return d
}

func face(d Descriptor, width int) Face {
	return Face{Rect: image.Rect(0, 0, width, width), Descriptor: d}
}

// The tables below were written for the nearest reference (CombineBest);
// TestCombineBestAndMean covers the mean.
var cfg = MatchConfig{Threshold: 0.5, Margin: 0.1, MinFacePx: 40, Combine: CombineBest}

// Enrolled: anna near axis 0, bram near axis 1, cas near axis 2 (axes are
// sqrt(2) = 1.41 apart, far beyond any threshold).
var people = []Person{
	{ID: "anna", Descriptors: []Descriptor{desc(0, 0, 0), desc(0, 10, 0.2)}},
	{ID: "bram", Descriptors: []Descriptor{desc(1, 0, 0)}},
	{ID: "cas", Descriptors: []Descriptor{desc(2, 0, 0)}},
}

func TestDistance(t *testing.T) {
	a, b := desc(0, 0, 0), desc(1, 0, 0)
	if got := Distance(&a, &b); math.Abs(got-math.Sqrt2) > 1e-9 {
		t.Errorf("Distance = %v, want sqrt(2) (Euclidean, not squared)", got)
	}
}

func TestMatchFaces(t *testing.T) {
	// A face halfway between anna and bram's reference points along a
	// third axis: equally near both.
	var between Descriptor
	between[0], between[1] = 0.75, 0.75
	cases := []struct {
		name  string
		faces []Face
		want  []string // ID or "-"+Why
	}{
		{"exact match", []Face{face(desc(0, 0, 0), 100)}, []string{"anna"}},
		{"nearest reference counts", []Face{face(desc(0, 10, 0.25), 100)}, []string{"anna"}},
		{"at the threshold matches", []Face{face(desc(1, 5, 0.5), 100)}, []string{"bram"}},
		{"just past the threshold is unknown", []Face{face(desc(1, 5, 0.5001), 100)}, []string{"-" + WhyUnknown}},
		{"unknown face", []Face{face(desc(50, 0, 0), 100)}, []string{"-" + WhyUnknown}},
		{"equally far from two people, beyond the threshold", []Face{face(between, 100)}, []string{"-" + WhyUnknown}},
		{"too small", []Face{face(desc(0, 0, 0), 39)}, []string{"-" + WhyTooSmall}},
		{"smallest allowed", []Face{face(desc(0, 0, 0), 40)}, []string{"anna"}},
		{"matched twice: both redacted", []Face{face(desc(2, 0, 0), 100), face(desc(2, 9, 0.1), 100), face(desc(1, 0, 0), 100)},
			[]string{"-" + WhyMatchedTwice, "-" + WhyMatchedTwice, "bram"}},
		{"no descriptor never matches, even when the array equals a reference", []Face{{Rect: image.Rect(0, 0, 100, 100), Descriptor: desc(0, 0, 0), NoDescriptor: true}}, []string{"-" + WhyNotDescribed}},
		{"NaN descriptor never matches", []Face{face(Descriptor{0: float32(math.NaN())}, 100)}, []string{"-" + WhyUnknown}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := MatchFaces(tc.faces, people, cfg)
			for i, m := range got {
				s := m.ID
				if s == "" {
					s = "-" + m.Why
				}
				if s != tc.want[i] {
					t.Errorf("face %d: %q, want %q (nearest %v)", i, s, tc.want[i], m.Nearest)
				}
			}
		})
	}
}

func TestAmbiguousWithinMargin(t *testing.T) {
	// Two enrolled people whose references are 0.12 apart; a face 0.3 from
	// one and 0.35 from the other is within the threshold of both: margin
	// 0.05 < 0.1, so ambiguous.
	var p, q, f Descriptor
	p[0] = 1
	q[0], q[1] = 1, 0.12
	f[0], f[2] = 1, 0.3
	ps := []Person{{ID: "p", Descriptors: []Descriptor{p}}, {ID: "q", Descriptors: []Descriptor{q}}}
	m := MatchFaces([]Face{face(f, 100)}, ps, cfg)[0]
	if m.ID != "" || m.Why != WhyAmbiguous {
		t.Errorf("got %+v, want ambiguous", m)
	}
	if len(m.Nearest) != 2 || m.Nearest[0].ID != "p" {
		t.Errorf("nearest %v", m.Nearest)
	}
}

func TestNobodyEnrolled(t *testing.T) {
	m := MatchFaces([]Face{face(desc(0, 0, 0), 100)}, nil, cfg)[0]
	if m.ID != "" || m.Why != WhyNoPeople {
		t.Errorf("%+v", m)
	}
}

// consentOf is a register: id -> why not ("" = consent).
func consentOf(reg map[string]string) ConsentFunc {
	return func(id string) (bool, string) {
		why, ok := reg[id]
		if !ok {
			return false, "not in the consent store"
		}
		return why == "", why
	}
}

func TestDecide(t *testing.T) {
	reg := consentOf(map[string]string{
		"anna": "",
		"bram": "no consent for website",
		"cas":  "consent from an earlier school year",
		"dirk": "revoked",
	})
	objected := func(id string) bool { return id == "eva" || id == "anna2" }
	confident := func(id string) Match { return Match{ID: id} }
	unknown := Match{Why: WhyUnknown, Nearest: []Candidate{{ID: "anna", Distance: 0.7}}}
	nearBram := Match{Why: WhyAmbiguous, Nearest: []Candidate{{ID: "anna", Distance: 0.42}, {ID: "bram", Distance: 0.45}}}
	farBram := Match{Why: WhyUnknown, Nearest: []Candidate{{ID: "bram", Distance: 0.55}}}
	twice := Match{Why: WhyMatchedTwice, Nearest: []Candidate{{ID: "anna", Distance: 0.3}}}
	small := Match{Why: WhyTooSmall, Nearest: []Candidate{{ID: "anna", Distance: 0.2}}}
	undescribed := Match{Why: WhyNotDescribed}
	regWithEva := func(id string) (bool, string) {
		if id == "eva" {
			return true, ""
		}
		return reg(id)
	}

	cases := []struct {
		name    string
		m       Match
		policy  Policy
		consent ConsentFunc
		show    bool
		reason  string
	}{
		{"consent: shown", confident("anna"), PolicyConsent, reg, true, ReasonConsent},
		{"no consent for channel", confident("bram"), PolicyConsent, reg, false, "no consent for website"},
		{"expired consent", confident("cas"), PolicyConsent, reg, false, "consent from an earlier school year"},
		{"revoked consent", confident("dirk"), PolicyConsent, reg, false, "revoked"},
		{"not in the consent store", confident("zoe"), PolicyConsent, reg, false, "not in the consent store"},
		{"objection beats consent", confident("eva"), PolicyConsent, regWithEva, false, ReasonObjection},
		{"unknown redacted under consent", unknown, PolicyConsent, reg, false, WhyUnknown},
		{"ambiguous redacted under consent", nearBram, PolicyConsent, reg, false, WhyAmbiguous},
		{"matched twice redacted under consent", twice, PolicyConsent, reg, false, WhyMatchedTwice},
		{"too small redacted under consent", small, PolicyConsent, reg, false, WhyTooSmall},
		{"objections: unknown shown", unknown, PolicyObjections, reg, true, ReasonUnknownShown},
		{"objections: no consent redacted", confident("bram"), PolicyObjections, reg, false, "no consent for website"},
		{"objections: ambiguous near a pupil without consent redacted", nearBram, PolicyObjections, reg, false, ReasonMaybeNoConsent},
		{"objections: beyond threshold shown", farBram, PolicyObjections, reg, true, ReasonUnknownShown},
		{"objections: matched twice redacted", twice, PolicyObjections, reg, false, WhyMatchedTwice},
		{"undescribed redacted under consent", undescribed, PolicyConsent, reg, false, WhyNotDescribed},
		{"objections: undescribed redacted (cannot tell who it is)", undescribed, PolicyObjections, reg, false, WhyNotDescribed},
		{"objections: per-photo objection", confident("eva"), PolicyObjections, regWithEva, false, ReasonObjection},
		{"unknown policy shows nothing", confident("anna"), Policy("everyone"), reg, true, ReasonConsent},
		{"unknown policy, unknown face", unknown, Policy("everyone"), reg, false, `unknown policy "everyone"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := Decide([]Match{tc.m}, tc.policy, MatchConfig{Threshold: 0.4, Margin: 0.1}, tc.consent, objected)[0]
			if d.Show != tc.show || d.Reason != tc.reason {
				t.Errorf("got show=%v %q, want show=%v %q", d.Show, d.Reason, tc.show, tc.reason)
			}
			if tc.m.ID != "" && d.ID != tc.m.ID {
				t.Errorf("ID %q", d.ID)
			}
		})
	}
}

// Under the objections policy a face that is not a confident match is
// redacted when someone who may not be shown is within the threshold plus
// the margin of the match settings: Decide computes the radius itself.
func TestObjectionRadius(t *testing.T) {
	reg := consentOf(map[string]string{"anna": "", "bram": "no consent for website"})
	near := func(id string, d float64) Match {
		return Match{Why: WhyUnknown, Nearest: []Candidate{{ID: id, Distance: d}}}
	}
	for _, tc := range []struct {
		name   string
		policy Policy
		mc     MatchConfig
		m      Match
		show   bool
	}{
		{"within the threshold", PolicyObjections, MatchConfig{Threshold: 0.4, Margin: 0.1}, near("bram", 0.38), false},
		{"past the threshold, within the margin", PolicyObjections, MatchConfig{Threshold: 0.4, Margin: 0.1}, near("bram", 0.47), false},
		{"at threshold plus margin", PolicyObjections, MatchConfig{Threshold: 0.375, Margin: 0.125}, near("bram", 0.5), false},
		{"past threshold plus margin", PolicyObjections, MatchConfig{Threshold: 0.4, Margin: 0.1}, near("bram", 0.51), true},
		{"no margin: the threshold alone", PolicyObjections, MatchConfig{Threshold: 0.4}, near("bram", 0.47), true},
		{"a wider margin reaches further", PolicyObjections, MatchConfig{Threshold: 0.4, Margin: 0.2}, near("bram", 0.58), false},
		{"near someone who may be shown", PolicyObjections, MatchConfig{Threshold: 0.4, Margin: 0.1}, near("anna", 0.42), true},
		{"consent policy: never shown", PolicyConsent, MatchConfig{Threshold: 0.4, Margin: 0.1}, near("anna", 0.7), false},
	} {
		d := Decide([]Match{tc.m}, tc.policy, tc.mc, reg, nil)[0]
		if d.Show != tc.show {
			t.Errorf("%s: show=%v (%s), want %v", tc.name, d.Show, d.Reason, tc.show)
		}
		if !tc.show && tc.policy == PolicyObjections && d.Reason != ReasonMaybeNoConsent {
			t.Errorf("%s: reason %q", tc.name, d.Reason)
		}
	}
	if r := (MatchConfig{Threshold: 0.42, Margin: 0.16}).ObjectionRadius(); math.Abs(r-0.58) > 1e-12 {
		t.Errorf("radius %v, want 0.58", r)
	}
}

func TestBackgroundRule(t *testing.T) {
	// anna at axis 0; background children placed at known distances from a
	// face exactly at anna's reference (distance 0) or 0.2 from it.
	atAnna := face(desc(0, 0, 0), 100)
	near := face(desc(0, 30, 0.2), 100) // 0.2 from anna
	bgAt := func(off float64) Descriptor { return desc(0, 31, off) }
	cases := []struct {
		name string
		f    Face
		bg   []Descriptor
		want string
	}{
		{"no background: matched", near, nil, "anna"},
		{"background far away: matched", near, []Descriptor{desc(60, 0, 0)}, "anna"},
		// near is at (1, 0.2 on axis 30); bgAt(x) at (1, x on axis 31):
		// distance sqrt(0.04 + x²).
		{"background exactly margin further: matched", atAnna, []Descriptor{bgAt(0.1)}, "anna"},
		{"background within the margin: ambiguous", atAnna, []Descriptor{bgAt(0.09)}, "-" + WhyBackground},
		{"background nearer than the person: ambiguous", near, []Descriptor{bgAt(0.05)}, "-" + WhyBackground},
		{"one background child of many is enough", near, []Descriptor{desc(60, 0, 0), bgAt(0.1), desc(61, 0, 0)}, "-" + WhyBackground},
		{"NaN background descriptor fails closed", atAnna, []Descriptor{{0: float32(math.NaN())}}, "-" + WhyBackground},
		{"unknown face stays unknown", face(desc(50, 0, 0), 100), []Descriptor{bgAt(0.1)}, "-" + WhyUnknown},
		{"too small stays too small", face(desc(0, 0, 0), 39), []Descriptor{desc(60, 0, 0)}, "-" + WhyTooSmall},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := cfg
			c.Background = tc.bg
			m := MatchFaces([]Face{tc.f}, people, c)[0]
			s := m.ID
			if s == "" {
				s = "-" + m.Why
			}
			if s != tc.want {
				t.Errorf("%q, want %q (nearest %v)", s, tc.want, m.Nearest)
			}
		})
	}
}

func TestJudge(t *testing.T) {
	inf := math.Inf(1)
	two := func(a, b float64) []Candidate { return []Candidate{{ID: "p", Distance: a}, {ID: "q", Distance: b}} }
	c := MatchConfig{Threshold: 0.4, Margin: 0.15, MinFacePx: 60}
	cases := []struct {
		name  string
		cands []Candidate
		bg    float64
		width int
		want  string
	}{
		{"clear match", two(0.30, 0.50), inf, 60, "p"},
		{"nobody", nil, inf, 60, "-" + WhyNoPeople},
		{"one person, no margin to check", two(0.30, 0)[:1], inf, 60, "p"},
		{"at the threshold", two(0.40, 0.55), inf, 60, "p"},
		{"past the threshold", two(0.41, 0.60), inf, 60, "-" + WhyUnknown},
		{"margin exactly met", two(0.25, 0.40), inf, 60, "p"},
		{"margin short", two(0.25, 0.39), inf, 60, "-" + WhyAmbiguous},
		{"background exactly met", two(0.25, 0.60), 0.40, 60, "p"},
		{"background short", two(0.25, 0.60), 0.39, 60, "-" + WhyBackground},
		{"NaN distance", two(math.NaN(), 0.6), inf, 60, "-" + WhyUnknown},
		{"NaN background", two(0.2, 0.6), math.NaN(), 60, "-" + WhyBackground},
		{"too small wins over everything", two(0.1, 0.9), inf, 59, "-" + WhyTooSmall},
	}
	for _, tc := range cases {
		id, why := Judge(tc.cands, tc.bg, tc.width, c)
		s := id
		if s == "" {
			s = "-" + why
		}
		// Float sums like 0.25+0.15 are not exact; the rows keep a
		// clear side where it matters.
		if s != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, s, tc.want)
		}
	}
}

// A Person never prints its descriptors, with any verb or in a log.
func TestPersonNeverPrintsDescriptors(t *testing.T) {
	var d Descriptor
	for i := range d {
		d[i] = 0.123456
	}
	p := Person{ID: "100201", Descriptors: []Descriptor{d}, Negatives: []Descriptor{d}}
	var logged strings.Builder
	slog.New(slog.NewTextHandler(&logged, nil)).Info("x", "person", p)
	for _, s := range []string{fmt.Sprint(p), fmt.Sprintf("%v %+v %#v %s %q", p, p, p, p, p), fmt.Sprint([]Person{p}), logged.String()} {
		if strings.Contains(s, "0.123") || !strings.Contains(s, "100201") {
			t.Errorf("printed %q", s)
		}
	}
}
