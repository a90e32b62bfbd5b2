package track

import (
	"image"
	"testing"
)

var cfg = Config{MinIoU: 0.3, MaxMove: 1.5, MaxGap: 12, Extend: 3, Pad: 0.1}

func box(x, y, w int) image.Rectangle { return image.Rect(x, y, x+w, y+w) }

func TestLink(t *testing.T) {
	s := func(f, x, y, w int) Sighting { return Sighting{Frame: f, Rect: box(x, y, w)} }
	tests := []struct {
		name   string
		in     []Sighting
		tracks []int // sightings per track, in order of first sighting
	}{
		{"still face", []Sighting{s(0, 10, 10, 40), s(6, 12, 10, 40), s(12, 14, 10, 40)}, []int{3}},
		{"pan without overlap between samples", []Sighting{s(0, 0, 10, 40), s(6, 45, 10, 40), s(12, 90, 10, 40)}, []int{3}},
		{"too far to be the same face", []Sighting{s(0, 0, 10, 40), s(6, 200, 10, 40)}, []int{1, 1}},
		{"size jumps: another face", []Sighting{s(0, 0, 10, 40), s(6, 5, 10, 100)}, []int{1, 1}},
		{"finder blinked on one sample", []Sighting{s(0, 10, 10, 40), s(12, 10, 10, 40)}, []int{2}},
		{"gone longer than MaxGap", []Sighting{s(0, 10, 10, 40), s(18, 10, 10, 40)}, []int{1, 1}},
		{"two faces side by side", []Sighting{s(0, 0, 0, 40), s(0, 100, 0, 40), s(6, 4, 0, 40), s(6, 104, 0, 40)}, []int{2, 2}},
		{"a face appears", []Sighting{s(0, 0, 0, 40), s(6, 0, 0, 40), s(6, 300, 0, 40)}, []int{2, 1}},
		{"empty box ignored", []Sighting{{Frame: 0}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Link(tt.in, cfg)
			if len(got) != len(tt.tracks) {
				t.Fatalf("%d tracks, want %d", len(got), len(tt.tracks))
			}
			for i, tr := range got {
				if len(tr.Sightings) != tt.tracks[i] {
					t.Errorf("track %d has %d sightings, want %d", i, len(tr.Sightings), tt.tracks[i])
				}
			}
		})
	}
}

func TestLinkKeepsFacesApartWhenTheyMove(t *testing.T) {
	// Two faces moving right together: each stays its own track.
	var in []Sighting
	for f := 0; f <= 30; f += 6 {
		in = append(in, Sighting{Frame: f, Rect: box(f*5, 0, 40), Face: 0}, Sighting{Frame: f, Rect: box(200+f*5, 0, 40), Face: 1})
	}
	got := Link(in, cfg)
	if len(got) != 2 {
		t.Fatalf("%d tracks, want 2", len(got))
	}
	for _, tr := range got {
		for _, s := range tr.Sightings {
			if s.Face != tr.Sightings[0].Face {
				t.Fatalf("a track mixes faces %d and %d", tr.Sightings[0].Face, s.Face)
			}
		}
	}
}

func TestAt(t *testing.T) {
	tr := &Track{Sightings: []Sighting{{Frame: 10, Rect: box(0, 0, 40)}, {Frame: 20, Rect: box(100, 0, 40)}}}
	tests := []struct {
		frame int
		ok    bool
		want  image.Rectangle
	}{
		{6, false, image.Rectangle{}},
		{7, true, image.Rect(-37, -4, 47, 44)}, // extended before: the first box and where the face was moving so, padded
		{10, true, box(0, 0, 40)},              // the sighting itself
		{15, true, image.Rect(46, -4, 94, 44)}, // halfway, padded
		{20, true, box(100, 0, 40)},
		{23, true, image.Rect(96, -4, 144, 44)},
		{24, false, image.Rectangle{}},
	}
	for _, tt := range tests {
		got, ok := tr.At(tt.frame, cfg)
		if ok != tt.ok || got != tt.want {
			t.Errorf("frame %d: %v %v, want %v %v", tt.frame, got, ok, tt.want, tt.ok)
		}
	}
}

// Every frame from a track's first sighting minus Extend to its last plus
// Extend has a box that covers the straight-line path of the face.
func TestAtCoversEveryFrame(t *testing.T) {
	tr := &Track{Sightings: []Sighting{{Frame: 0, Rect: box(0, 0, 40)}, {Frame: 5, Rect: box(50, 0, 40)}, {Frame: 11, Rect: box(50, 60, 80)}}}
	for f := -cfg.Extend; f <= 11+cfg.Extend; f++ {
		if _, ok := tr.At(f, cfg); !ok {
			t.Errorf("frame %d has no box", f)
		}
	}
}

// Before holds a track longer before its first sighting, and only before.
func TestAtBefore(t *testing.T) {
	tr := &Track{Sightings: []Sighting{{Frame: 20, Rect: box(0, 0, 40)}, {Frame: 25, Rect: box(10, 0, 40)}}}
	c := cfg
	c.Before = 9
	for f := 0; f <= 40; f++ {
		_, ok := tr.At(f, c)
		if want := f >= 20-9 && f <= 25+cfg.Extend; ok != want {
			t.Errorf("frame %d: box %v, want %v", f, ok, want)
		}
	}
	// A face first seen moving right was left of its first box before.
	mv := &Track{Sightings: []Sighting{{Frame: 20, Rect: box(200, 0, 40)}, {Frame: 22, Rect: box(220, 0, 40)}}}
	for f := 20 - 9; f < 20; f++ {
		was := box(200-10*(20-f), 0, 40)
		if r, ok := mv.At(f, c); !ok || !was.In(r) || !box(200, 0, 40).In(r) {
			t.Errorf("frame %d: box %v %v does not cover %v and the first box", f, r, ok, was)
		}
	}
	c.Before = 1 // less than Extend: Extend holds
	if _, ok := tr.At(20-cfg.Extend, c); !ok {
		t.Error("Before under Extend shortened the hold")
	}
}

func TestVote(t *testing.T) {
	rule := Rule{MinFrames: 2, MinShare: 0.5}
	d := func(id string, near ...string) Label { return Label{ID: id, Near: near, Described: true} }
	none := Label{}
	tests := []struct {
		name   string
		labels []Label
		want   string
	}{
		{"consistent", []Label{d("a"), d("a"), d("a")}, "a"},
		{"enough with undescribed frames", []Label{d("a"), none, d("a"), none}, "a"},
		{"once is not enough", []Label{d("a"), d(""), none}, ""},
		{"too small a share", []Label{d("a"), d("a"), d(""), d(""), d("")}, ""},
		{"close to itself only does not count against", []Label{d("a"), d("a"), d("a"), d("", "a"), d("", "a"), d("", "a"), d("", "a")}, "a"},
		{"unknown frames count against", []Label{d("a"), d("a"), d("a"), d(""), d(""), d(""), d("")}, ""},
		{"two people", []Label{d("a"), d("a"), d("a"), d("b")}, ""},
		{"near someone else once", []Label{d("a"), d("a"), d("", "b")}, ""},
		{"near itself is fine", []Label{d("a", "a"), d("a")}, "a"},
		{"never described", []Label{none, none}, ""},
		{"nobody", []Label{d(""), d("")}, ""},
		{"no sightings", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, why := Vote(tt.labels, rule)
			if got != tt.want {
				t.Errorf("Vote = %q (%s), want %q", got, why, tt.want)
			}
			if got == "" && why == "" {
				t.Error("nobody without a reason")
			}
		})
	}
}

func TestLinkerAdd(t *testing.T) {
	l := NewLinker(cfg)
	if got := l.Add(0, []Sighting{{Rect: box(0, 0, 40)}, {}, {Rect: box(200, 0, 40)}}); got[0] != 0 || got[1] != -1 || got[2] != 1 {
		t.Fatalf("frame 0: %v", got)
	}
	// The second face first: each box gets its own track back.
	if got := l.Add(6, []Sighting{{Rect: box(204, 0, 40)}, {Rect: box(4, 0, 40)}, {Rect: box(400, 0, 40)}}); got[0] != 1 || got[1] != 0 || got[2] != 2 {
		t.Fatalf("frame 6: %v", got)
	}
	if tr := l.Tracks(); len(tr) != 3 || tr[0].Last() != 6 || tr[1].Sightings[1].Frame != 6 {
		t.Fatalf("tracks %+v", tr)
	}
}

func TestPick(t *testing.T) {
	p := Pick{MinWidth: 40, First: 3, Every: 10, Grow: 1.25}
	tests := []struct {
		name string
		f, w int
		so   Picked
		want bool
	}{
		{"too small", 0, 39, Picked{}, false},
		{"the first", 0, 40, Picked{}, true},
		{"until First are described", 3, 40, Picked{Described: 2, Tried: 2, Last: 0, Widest: 40}, true},
		{"then not right after", 6, 40, Picked{Described: 3, Tried: 3, Last: 3, Widest: 40}, false},
		{"then every Every frames", 13, 40, Picked{Described: 3, Tried: 3, Last: 3, Widest: 40}, true},
		{"or when much wider", 6, 50, Picked{Described: 3, Tried: 3, Last: 3, Widest: 40}, true},
		{"a little wider is not enough", 6, 49, Picked{Described: 3, Tried: 3, Last: 3, Widest: 40}, false},
		{"turned: tried up to twice First", 6, 40, Picked{Described: 0, Tried: 5, Last: 3}, true},
		{"then every Every frames too", 9, 40, Picked{Described: 0, Tried: 6, Last: 6}, false},
		{"and never for being wider than nothing", 9, 400, Picked{Described: 0, Tried: 6, Last: 6}, false},
	}
	for _, tt := range tests {
		if got := p.Want(tt.f, tt.w, tt.so); got != tt.want {
			t.Errorf("%s: Want = %v", tt.name, got)
		}
	}
	var so Picked
	so.Add(0, 50, false)
	so.Add(3, 60, true)
	so.Add(6, 55, true)
	if so != (Picked{Described: 2, Tried: 3, Last: 6, Widest: 60}) {
		t.Errorf("Add: %+v", so)
	}
}
