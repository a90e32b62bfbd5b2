package detect

import (
	"image"
	"testing"
)

func TestIndividual(t *testing.T) {
	photo := image.Rect(0, 0, 1600, 1200) // shorter side 1200: a quarter is 300 px
	face := func(side int) image.Rectangle { return image.Rect(100, 100, 100+side, 100+side) }
	tall := image.Rect(0, 0, 200, 300) // the larger side counts
	for _, c := range []struct {
		name  string
		shown []image.Rectangle
		share float64
		want  bool
	}{
		{"no face shown", nil, 0.25, false},
		{"one small face shown", []image.Rectangle{face(40)}, 0.25, true},
		{"one large face shown", []image.Rectangle{face(700)}, 0.25, true},
		{"three small faces", []image.Rectangle{face(80), face(90), face(100)}, 0.25, false},
		{"a group with one face just under a quarter", []image.Rectangle{face(80), face(299)}, 0.25, false},
		{"a group with one face of a quarter", []image.Rectangle{face(80), face(300)}, 0.25, true},
		{"a face tall enough dominates", []image.Rectangle{face(80), tall}, 0.25, true},
		{"a stricter share lets the group through", []image.Rectangle{face(80), face(300)}, 0.5, false},
		{"min_share 1 leaves only single faces", []image.Rectangle{face(1200), face(80)}, 1, true},
		{"a close group: several faces of a quarter, none dominates", []image.Rectangle{face(320), face(300), face(280), face(310)}, 0.25, false},
		{"one face of a quarter, 1.5 times the next", []image.Rectangle{face(450), face(300)}, 0.25, true},
		{"one face of a quarter, less than 1.5 times the next", []image.Rectangle{face(440), face(300)}, 0.25, false},
	} {
		if got := Individual(c.shown, photo, c.share); got != c.want {
			t.Errorf("%s: Individual = %v, want %v", c.name, got, c.want)
		}
	}
	if Individual([]image.Rectangle{face(10), face(10)}, image.Rectangle{}, 0.25) {
		t.Error("an empty photo made a group a portrait")
	}
}
