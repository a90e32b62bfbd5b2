package pipeline

import (
	"context"
	"fmt"
	"image"
	"testing"
	"time"

	"github.com/photoguard/photoguard/detect"
	"github.com/photoguard/photoguard/detect/analyze"
	"github.com/photoguard/photoguard/detect/track"
)

// The face analysis the commands wire in describes a video's tracks from a
// few sightings: were it no videoFinder, every face would be described.
var _ videoFinder = (*analyze.Engine)(nil)

func TestSameTimeTwice(t *testing.T) {
	tr := func(first, last int) *track.Track {
		return &track.Track{Sightings: []track.Sighting{{Frame: first}, {Frame: last}}}
	}
	tests := []struct {
		name   string
		tracks []*track.Track
		ids    []string
		want   []string
	}{
		{"two people at once", []*track.Track{tr(0, 10), tr(0, 10)}, []string{"a", "b"}, []string{"a", "b"}},
		{"one person twice at once", []*track.Track{tr(0, 10), tr(5, 20), tr(0, 20)}, []string{"a", "a", "b"}, []string{"", "", "b"}},
		{"seen together for one frame", []*track.Track{tr(0, 10), tr(10, 20)}, []string{"a", "a"}, []string{"", ""}},
		{"one after the other: a track that broke, or the face came back", []*track.Track{tr(0, 10), tr(12, 20)}, []string{"a", "a"}, []string{"a", "a"}},
		{"nobody twice is fine", []*track.Track{tr(0, 10), tr(0, 10)}, []string{"", ""}, []string{"", ""}},
	}
	for _, tt := range tests {
		ms := make([]detect.Match, len(tt.ids))
		for i, id := range tt.ids {
			ms[i].ID = id
		}
		sameTimeTwice(tt.tracks, ms)
		for i, m := range ms {
			if m.ID != tt.want[i] || m.ID == "" && tt.ids[i] != "" && m.Why != detect.WhyMatchedTwice {
				t.Errorf("%s: track %d: %q (%s), want %q", tt.name, i, m.ID, m.Why, tt.want[i])
			}
		}
	}
}

// A shown track is checked in the output on a sighting that was a
// confident match to the pupil it is shown as, wholly in the picture when
// one is: not on its largest sighting when the matcher was not sure of
// that one (zoom-out-bbt5 was held for it).
func TestShownCheckOnAConfidentSighting(t *testing.T) {
	face := func(x, w int, described bool) detect.Face {
		return detect.Face{Rect: image.Rect(x, 20, x+w, 20+w), NoDescriptor: !described}
	}
	vj := &videoJob{width: 640, height: 360,
		faces: map[int][]detect.Face{
			0:  {face(0, 120, true)},   // largest, at the edge, a confident match
			3:  {face(10, 110, true)},  // large, inside, ambiguous
			6:  {face(20, 100, true)},  // inside, a confident match: the one
			9:  {face(30, 90, true)},   // smaller, a confident match
			12: {face(40, 130, false)}, // the largest, not described
		},
		matches: map[int][]detect.Match{0: {{ID: "anna"}}, 3: {{Why: detect.WhyAmbiguous}}, 6: {{ID: "anna"}}, 9: {{ID: "anna"}}, 12: {{}}},
	}
	var ss []track.Sighting
	for _, f := range []int{0, 3, 6, 9, 12} {
		ss = append(ss, track.Sighting{Frame: f, Rect: vj.faces[f][0].Rect})
	}
	vj.tracks = []*track.Track{{Sightings: ss}}
	d := &Delivery{Decisions: []detect.Decision{{Show: true, ID: "anna"}}}
	cs := vj.shownChecks(d, nil, FaceOptions{}.Redact)
	if len(cs) != 1 || cs[0].frame != 6 || cs[0].id != "anna" {
		t.Fatalf("checks %+v, want one on frame 6", cs)
	}
	// Only the one at the edge is confident: it is checked.
	vj.matches[6][0].ID, vj.matches[9][0].ID = "", ""
	if cs := vj.shownChecks(d, nil, FaceOptions{}.Redact); len(cs) != 1 || cs[0].frame != 0 {
		t.Fatalf("checks %+v, want one on frame 0", cs)
	}
}

// A video's strip for the review page: a few analysed frames spread over
// the clip, small, with every track's box on each frame it is on.
func TestVideoStrip(t *testing.T) {
	e := videoEnv(t, nil)
	path := e.write("groep-7/strip.mov", classClip(t, "2"))
	j, err := e.p.Explain(context.Background(), e.inbox, path)
	if err != nil {
		t.Fatal(err)
	}
	strip := j.VideoStrip()
	// 20 frames, analysed every other, and the last: the first analysed
	// frame at or after 0, 4, 9, 14 and 19.
	var at []int
	for _, f := range strip {
		at = append(at, f.Frame)
		if s := f.Image.Rect.Size(); max(s.X, s.Y) > StripSide || f.Image.Rect.Min != (image.Point{}) {
			t.Errorf("frame %d: %v", f.Frame, f.Image.Rect)
		}
		if len(f.Boxes) != len(j.Faces) {
			t.Fatalf("frame %d: %d boxes for %d tracks", f.Frame, len(f.Boxes), len(j.Faces))
		}
		for k, b := range f.Boxes {
			if b.Empty() || !b.In(f.Image.Rect) {
				t.Errorf("frame %d: track %d box %v", f.Frame, k, b)
			}
		}
	}
	if fmt.Sprint(at) != "[0 4 10 14 19]" {
		t.Errorf("strip frames %v", at)
	}
	if strip[4].At != 1900*time.Millisecond {
		t.Errorf("the last strip frame at %v", strip[4].At)
	}
	if (&Job{}).VideoStrip() != nil {
		t.Error("a photo has a strip")
	}
}
