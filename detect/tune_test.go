package detect

import "testing"

func TestTradeOff(t *testing.T) {
	// anna's reference at axis 0; samples at known distances.
	at := func(axis int, off float64) Descriptor { return desc(axis, 40, off) }
	samples := []Sample{
		{"anna", face(at(0, 0.30), 100)}, // correct from 0.30
		{"anna", face(at(0, 0.45), 100)}, // correct from 0.45, missed below
		{"bram", face(at(1, 0.40), 100)}, // correct from 0.40
		{"", face(at(2, 0.0), 100)},      // unknown, 0 from cas: false at any threshold
		{"", face(at(50, 0.0), 100)},     // unknown, far from everyone
	}
	// cas is enrolled but the "unknown" sample at cas's point is labelled
	// unknown: a look-alike who is not enrolled.
	rows := TradeOff(samples, people, MatchConfig{Margin: 0.1, MinFacePx: 40}, []float64{0.35, 0.42, 0.5})
	want := []TradeOffRow{
		{Threshold: 0.35, Correct: 1, Missed: 2, False: 1, Enrolled: 3, Unknown: 2},
		{Threshold: 0.42, Correct: 2, Missed: 1, False: 1, Enrolled: 3, Unknown: 2},
		{Threshold: 0.5, Correct: 3, Missed: 0, False: 1, Enrolled: 3, Unknown: 2},
	}
	for i := range want {
		if rows[i] != want[i] {
			t.Errorf("row %d: %+v, want %+v", i, rows[i], want[i])
		}
	}
	if got := SafestThreshold(rows); got != 0 {
		t.Errorf("SafestThreshold = %v, want 0 (a false match at every threshold)", got)
	}
	rows = TradeOff(samples[:3], people, MatchConfig{Margin: 0.1}, []float64{0.35, 0.5})
	if got := SafestThreshold(rows); got != 0.5 {
		t.Errorf("SafestThreshold = %v", got)
	}
	d := SampleDistances(samples[:3], people)
	if d.Same.N != 3 || d.Same.Min < 0.29 || d.Same.Max > 0.46 || d.Other.Min < 1 {
		t.Errorf("distances %+v", d)
	}
}

func TestLeaveOneOut(t *testing.T) {
	// anna and her look-alike lena 0.2 apart; bram far away; cas with two
	// references, one of them 0.25 from dirk's.
	people := []Person{
		{ID: "anna", Descriptors: []Descriptor{desc(0, 40, 0)}},
		{ID: "lena", Descriptors: []Descriptor{desc(0, 40, 0.2)}},
		{ID: "bram", Descriptors: []Descriptor{desc(1, 0, 0)}},
		{ID: "cas", Descriptors: []Descriptor{desc(2, 0, 0), desc(3, 41, 0.25)}},
		{ID: "dirk", Descriptors: []Descriptor{desc(3, 0, 0)}},
	}
	cases := []struct {
		name string
		cfg  MatchConfig
		want Count
	}{
		// anna <-> lena both ways, cas's second reference -> dirk, dirk ->
		// cas: 4 of 6 references.
		{"loose", MatchConfig{Threshold: 0.5, Margin: 0.1, MinFacePx: 60, Combine: CombineBest}, Count{Probes: 6, Shown: 4}},
		{"threshold between the pairs", MatchConfig{Threshold: 0.22, Margin: 0.1, MinFacePx: 60, Combine: CombineBest}, Count{Probes: 6, Shown: 2}},
		{"strict", MatchConfig{Threshold: 0.1, Margin: 0.1, MinFacePx: 60, Combine: CombineBest}, Count{Probes: 6}},
		// By the mean of cas's references dirk is far from cas: 3 of 6.
		{"loose, mean of the references", MatchConfig{Threshold: 0.5, Margin: 0.1, MinFacePx: 60}, Count{Probes: 6, Shown: 3}},
		// A background child only counts where it is near a probe.
		{"far background changes nothing", MatchConfig{Threshold: 0.5, Margin: 0.1, MinFacePx: 60, Combine: CombineBest, Background: []Descriptor{desc(60, 0, 0)}}, Count{Probes: 6, Shown: 4}},
		{"background beside anna and lena", MatchConfig{Threshold: 0.5, Margin: 0.1, MinFacePx: 60, Combine: CombineBest, Background: []Descriptor{desc(0, 41, 0.1)}}, Count{Probes: 6, Shown: 2}},
	}
	for _, tc := range cases {
		if got := LeaveOneOut(people, tc.cfg); got != tc.want {
			t.Errorf("%s: %+v, want %+v", tc.name, got, tc.want)
		}
	}
	if got := LeaveOneOut(nil, MatchConfig{Threshold: 0.5}); got != (Count{}) {
		t.Errorf("nobody: %+v", got)
	}
}
