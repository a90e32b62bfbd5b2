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
