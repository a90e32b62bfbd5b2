package detect

import (
	"image"
	"math"
	"strings"
	"testing"
	"time"
)

// at is a descriptor at distance d from the origin along axis k (two such
// descriptors on different axes are sqrt(a²+b²) apart).
func at(k int, d float64) Descriptor {
	var v Descriptor
	v[k] = float32(d)
	return v
}

func faceAt(d Descriptor) Face { return Face{Rect: image.Rect(0, 0, 100, 100), Descriptor: d} }

func TestCombineBestAndMean(t *testing.T) {
	// anna's references: one close to the face (0.2), two far (1.0): the
	// nearest is 0.2 away, their mean (0.2+1.0+1.0)/3 = 0.733 on axis 0 is
	// 0.733 away.
	anna := Person{ID: "anna", Descriptors: []Descriptor{at(0, 0.2), at(0, 1.0), at(0, 1.0)}}
	bram := Person{ID: "bram", Descriptors: []Descriptor{at(1, 2)}}
	f := faceAt(Descriptor{})
	cfg := MatchConfig{Threshold: 0.5, Margin: 0.3, MinFacePx: 60}
	cases := []struct {
		combine string
		want    string
		dist    float64
	}{
		{"", "", 2.2 / 3},
		{CombineBest, "anna", 0.2},
		{CombineMean, "", 2.2 / 3},
	}
	for _, c := range cases {
		cfg.Combine = c.combine
		m := MatchFaces([]Face{f}, []Person{anna, bram}, cfg)[0]
		if m.ID != c.want || math.Abs(m.Nearest[0].Distance-c.dist) > 1e-6 {
			t.Errorf("%q: got %q at %.3f, want %q at %.3f", c.combine, m.ID, m.Nearest[0].Distance, c.want, c.dist)
		}
	}
	if err := (MatchConfig{Threshold: 0.5, Margin: 0.3, MinFacePx: 60, Combine: "median"}).Validate(); err == nil {
		t.Error("an unknown way to combine references was accepted")
	}
}

func TestAgeFadesOldReferences(t *testing.T) {
	now := time.Date(2026, 12, 8, 0, 0, 0, 0, time.UTC)
	old, recent := now.AddDate(-3, 0, 0), now.AddDate(0, -2, 0)
	people := []Person{
		{ID: "anna", Descriptors: []Descriptor{at(0, 3), at(0, 0.2)}, Added: []time.Time{old, recent}},
		{ID: "bram", Descriptors: []Descriptor{at(0, 0.45), at(1, 1)}, Added: []time.Time{old, old}},
		// Undated (a store from before dates were kept): never fades.
		{ID: "cas", Descriptors: []Descriptor{at(2, 1)}},
	}
	aged := Age(people, now, 2*365*24*time.Hour)
	if len(aged[0].Descriptors) != 1 || aged[0].Descriptors[0] != at(0, 0.2) || len(aged[0].Stale) != 1 {
		t.Errorf("anna: %v, want the recent reference kept and the old one stale", aged[0])
	}
	if len(aged[1].Descriptors) != 0 || len(aged[1].Stale) != 2 {
		t.Errorf("bram: %v, want his references stale", aged[1])
	}
	if len(aged[2].Descriptors) != 1 || len(aged[2].Stale) != 0 {
		t.Errorf("cas: %v, want the undated reference kept", aged[2])
	}
	if len(people[0].Descriptors) != 2 {
		t.Error("Age changed its input")
	}
	if got := Age(people, now, 0); len(got[1].Descriptors) != 2 {
		t.Error("no age limit faded a reference")
	}

	cfg := MatchConfig{Threshold: 0.5, Margin: 0.3, MinFacePx: 60, Combine: CombineBest}
	// A face of bram: his references are stale, so he is not shown...
	m := MatchFaces([]Face{faceAt(at(1, 0.95))}, aged, cfg)[0]
	if m.ID != "" || m.Why != WhyStale {
		t.Errorf("bram with only a stale reference: %q (%s), want not matched: %s", m.ID, m.Why, WhyStale)
	}
	// ...but he still counts for the margin: a face 0.1 from anna's recent
	// reference and 0.35 from bram's stale one is not anna.
	m = MatchFaces([]Face{faceAt(at(0, 0.1))}, aged, cfg)[0]
	if m.ID != "" || m.Why != WhyAmbiguous {
		t.Errorf("a face near anna and near bram's stale reference: %q (%s), want ambiguous", m.ID, m.Why)
	}
}

func TestGroupScope(t *testing.T) {
	people := []Person{
		{ID: "anna", Group: "Groep 5", Descriptors: []Descriptor{at(0, 1)}},
		{ID: "bram", Group: "groep 6", Descriptors: []Descriptor{at(1, 1)}},
		{ID: "juf", Group: "", Descriptors: []Descriptor{at(2, 1)}}, // staff
	}
	cfg := MatchConfig{Threshold: 0.5, Margin: 0.3, MinFacePx: 60}
	cases := []struct {
		group string
		face  Descriptor
		want  string
		why   string
	}{
		{"", at(0, 0.9), "anna", ""},
		{"", at(1, 0.9), "bram", ""},
		{"Groep 5", at(0, 0.9), "anna", ""},
		{"Groep 5", at(1, 0.9), "", WhyOtherGroup},
		{"Groep 5", at(2, 0.9), "juf", ""},
	}
	for _, c := range cases {
		cfg.Group = c.group
		m := MatchFaces([]Face{faceAt(c.face)}, people, cfg)[0]
		if m.ID != c.want || m.Why != c.why {
			t.Errorf("group %q: got %q (%s), want %q (%s)", c.group, m.ID, m.Why, c.want, c.why)
		}
	}
	for _, c := range []struct {
		folder, want string
	}{{"groep-5", "Groep 5"}, {"GROEP5", "Groep 5"}, {"groep 6", "groep 6"}, {"uitstapje", ""}, {"", ""}, {"--", ""}} {
		if got := GroupOf(people, c.folder); got != c.want {
			t.Errorf("GroupOf(%q) = %q, want %q", c.folder, got, c.want)
		}
	}
}

func TestReasonsSayWhatWasMeasured(t *testing.T) {
	bram := at(0, 0.44)
	bram[1] = 0.6 // 0.60 from a face at(0, 0.44)
	people := []Person{{ID: "anna", Descriptors: []Descriptor{at(0, 0)}}, {ID: "bram", Descriptors: []Descriptor{bram}}}
	cfg := MatchConfig{Threshold: 0.5, Margin: 0.3, MinFacePx: 60}
	cases := []struct {
		face Face
		want string
	}{
		// 0.44 from anna, 0.60 from bram: 0.16 further, not 0.30.
		{faceAt(at(0, 0.44)), "ambiguous: another person is nearly as close (0.44 from the nearest person, next person 0.16 further, 0.30 needed)"},
		{faceAt(at(2, 0.6)), "unknown face (nearest person 0.60 away, at most 0.50 matches)"},
		{Face{Rect: image.Rect(0, 0, 45, 45)}, "too small to recognise (45 px wide, 60 needed)"},
	}
	for _, c := range cases {
		m := MatchFaces([]Face{c.face}, people, cfg)[0]
		if got := m.Reason(); got != c.want {
			t.Errorf("got %q\nwant %q", got, c.want)
		}
	}
	m := MatchFaces([]Face{faceAt(at(0, 0.1))}, people, cfg)[0]
	if m.ID != "anna" || !strings.Contains(m.Detail, "0.10 away") {
		t.Errorf("a confident match: %q %q", m.ID, m.Detail)
	}
}

func TestCorrectedSaysNoNumbers(t *testing.T) {
	people := []Person{{ID: "anna", Descriptors: []Descriptor{at(0, 1)}, Negatives: []Descriptor{at(0, 0.95)}}}
	m := MatchFaces([]Face{faceAt(at(0, 0.9))}, people, MatchConfig{Threshold: 0.5, Margin: 0.3, MinFacePx: 60})[0]
	if m.ID != "" || m.Reason() != WhyCorrected {
		t.Errorf("%q %q", m.ID, m.Reason())
	}
}
