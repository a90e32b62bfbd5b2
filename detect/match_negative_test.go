package detect

import (
	"math"
	"testing"
)

func TestMatchNegatives(t *testing.T) {
	// anna's reference at axis 0; the coordinator said that a face at
	// axis 0 offset 0.4 along axis 20 (0.4 from anna: a match) is not anna.
	neg := desc(0, 20, 0.4)
	moved := neg
	moved[21] = 0.1         // 0.1 from the negative
	far := desc(0, 30, 0.4) // 0.4 from anna, 0.57 from the negative
	withNeg := []Person{
		{ID: "anna", Descriptors: []Descriptor{desc(0, 0, 0)}, Negatives: []Descriptor{neg}},
		{ID: "bram", Descriptors: []Descriptor{desc(1, 0, 0)}},
	}
	var nan Descriptor
	nan[0] = float32(math.NaN())
	cases := []struct {
		name   string
		people []Person
		face   Descriptor
		want   string
	}{
		{"without the negative the face matches anna", people, neg, "anna"},
		{"the corrected face itself is never anna", withNeg, neg, "-" + WhyCorrected},
		{"the same face moved a little is still not anna", withNeg, moved, "-" + WhyCorrected},
		{"anna's own reference still matches anna", withNeg, desc(0, 0, 0), "anna"},
		{"a face beyond the radius of the negative matches anna", withNeg, far, "anna"},
		{"another person's negative does not block bram", withNeg, desc(1, 0, 0), "bram"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := MatchFaces([]Face{face(tc.face, 100)}, tc.people, cfg)[0]
			got := m.ID
			if got == "" {
				got = "-" + m.Why
			}
			if got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
	// The fixture is what its names say.
	if d := Distance(&moved, &neg); d > NegativeRadius {
		t.Fatalf("fixture: moved face is %.2f from the negative, beyond the radius %.2f", d, NegativeRadius)
	}
	if d := Distance(&far, &neg); d <= NegativeRadius {
		t.Fatalf("fixture: far face is %.2f from the negative, within the radius", d)
	}
	// A broken negative fails closed.
	broken := []Person{{ID: "anna", Descriptors: []Descriptor{desc(0, 0, 0)}, Negatives: []Descriptor{nan}}}
	if m := MatchFaces([]Face{face(desc(0, 0, 0), 100)}, broken, cfg)[0]; m.ID != "" {
		t.Errorf("a NaN negative let the face match %q", m.ID)
	}
	// A negated face does not take part in the matched-twice rule: the
	// other face of anna in the photo is still anna.
	ms := MatchFaces([]Face{face(neg, 100), face(desc(0, 0, 0), 100)}, withNeg, cfg)
	if ms[0].ID != "" || ms[1].ID != "anna" {
		t.Errorf("two faces: %q (%s), %q (%s); want -, anna", ms[0].ID, ms[0].Why, ms[1].ID, ms[1].Why)
	}
}
