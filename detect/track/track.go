package track

import (
	"image"
	"math"
	"sort"
)

// Sighting is a face box found on a sampled frame. Face is the caller's
// index of the face on that frame (its descriptor, its match).
type Sighting struct {
	Frame int
	Rect  image.Rectangle
	Face  int
}

// Track is one face followed through the video: its sightings in frame
// order.
type Track struct {
	Sightings []Sighting
}

// First and Last are the frames of the first and last sighting.
func (t *Track) First() int { return t.Sightings[0].Frame }
func (t *Track) Last() int  { return t.Sightings[len(t.Sightings)-1].Frame }

// Config says how boxes are linked and held.
type Config struct {
	// MinIoU is the least overlap of a box with a track's predicted box
	// for it to continue the track.
	MinIoU float64
	// MaxMove is how far, in face widths, a face may move from its
	// predicted place between two sightings and still continue its track
	// (a pan between sampled frames can leave no overlap).
	MaxMove float64
	// MaxGap is how many frames a track may go unseen and still be
	// continued (the finder blinked on a sampled frame).
	MaxGap int
	// Extend is how many frames a track's box is held before its first
	// and after its last sighting.
	Extend int
	// Before, when more than Extend, is how many frames a track's box is
	// held before its first sighting (a face may have been in the picture
	// unseen since the last frame looked at everywhere).
	Before int
	// Pad grows a box on frames without a sighting, as a share of its
	// size on each side: the face may have moved off the straight line.
	Pad float64
}

// Link joins the sightings of all frames into tracks. Each frame's boxes
// are linked to the open tracks greedily, best overlap first; a box that
// continues no track starts one.
func Link(sightings []Sighting, cfg Config) []*Track {
	byFrame := map[int][]Sighting{}
	var frames []int
	for _, s := range sightings {
		if s.Rect.Empty() {
			continue
		}
		if _, ok := byFrame[s.Frame]; !ok {
			frames = append(frames, s.Frame)
		}
		byFrame[s.Frame] = append(byFrame[s.Frame], s)
	}
	sort.Ints(frames)
	l := NewLinker(cfg)
	for _, f := range frames {
		l.Add(f, byFrame[f])
	}
	return l.Tracks()
}

// Linker links the sightings frame by frame, as the frames come (Link is
// a Linker fed every frame): a track only ever grows at its end, so a
// sighting's track is known the moment its frame is added.
type Linker struct {
	cfg    Config
	tracks []*Track
	last   int
}

// NewLinker returns a linker with no track.
func NewLinker(cfg Config) *Linker { return &Linker{cfg: cfg, last: math.MinInt} }

// Tracks are the tracks so far, in order of their first sighting.
func (l *Linker) Tracks() []*Track { return l.tracks }

// Add links the boxes of frame f (after every frame added before it) and
// returns, for each box, the index of its track in Tracks (-1 for an
// empty box, which is ignored).
func (l *Linker) Add(f int, boxes []Sighting) []int {
	if f <= l.last {
		panic("track: frames added out of order")
	}
	l.last = f
	cfg := l.cfg
	idx := make([]int, len(boxes))
	type pair struct {
		t, b  int
		score float64
	}
	var pairs []pair
	for ti, t := range l.tracks {
		if f-t.Last() > cfg.MaxGap || t.Last() >= f {
			continue
		}
		pred := t.predict(f)
		w := float64(max(pred.Dx(), 1))
		for bi, b := range boxes {
			if b.Rect.Empty() {
				continue
			}
			iou := IoU(pred, b.Rect)
			move := dist(center(pred), center(b.Rect)) / w
			ratio := float64(b.Rect.Dx()) / w
			switch {
			case iou >= cfg.MinIoU:
				pairs = append(pairs, pair{ti, bi, 1 + iou})
			case move <= cfg.MaxMove && ratio > 0.5 && ratio < 2:
				pairs = append(pairs, pair{ti, bi, 1 / (1 + move)})
			}
		}
	}
	sort.SliceStable(pairs, func(i, j int) bool { return pairs[i].score > pairs[j].score })
	usedT, usedB := map[int]bool{}, map[int]bool{}
	for _, p := range pairs {
		if usedT[p.t] || usedB[p.b] {
			continue
		}
		usedT[p.t], usedB[p.b] = true, true
		b := boxes[p.b]
		b.Frame = f
		l.tracks[p.t].Sightings = append(l.tracks[p.t].Sightings, b)
		idx[p.b] = p.t
	}
	for bi, b := range boxes {
		switch {
		case b.Rect.Empty():
			idx[bi] = -1
		case !usedB[bi]:
			b.Frame = f
			l.tracks = append(l.tracks, &Track{Sightings: []Sighting{b}})
			idx[bi] = len(l.tracks) - 1
		}
	}
	return idx
}

// predict is where the track's face is expected on frame f: moved on from
// its last sighting at the speed between its last two.
func (t *Track) predict(f int) image.Rectangle {
	n := len(t.Sightings)
	last := t.Sightings[n-1]
	if n < 2 {
		return last.Rect
	}
	prev := t.Sightings[n-2]
	span := float64(last.Frame - prev.Frame)
	if span <= 0 {
		return last.Rect
	}
	k := float64(f-last.Frame) / span
	d := center(last.Rect).Sub(center(prev.Rect))
	return last.Rect.Add(image.Pt(int(math.Round(float64(d.X)*k)), int(math.Round(float64(d.Y)*k))))
}

// At is the track's box on frame f, and whether it has one there: the
// sighting itself on a sampled frame, on frames between two sightings the
// box moved and resized in a straight line and padded, and Extend frames
// beyond the ends the end box, padded (Before frames before the first
// sighting when that is more; there also the box where the face was had it
// moved as between its first two sightings).
func (t *Track) At(f int, cfg Config) (image.Rectangle, bool) {
	if f < t.First()-max(cfg.Extend, cfg.Before) || f > t.Last()+cfg.Extend {
		return image.Rectangle{}, false
	}
	if f <= t.First() {
		r := t.Sightings[0].Rect
		if f < t.First() {
			r = pad(r.Union(t.back(f)), cfg.Pad)
		}
		return r, true
	}
	if f >= t.Last() {
		r := t.Sightings[len(t.Sightings)-1].Rect
		if f > t.Last() {
			r = pad(r, cfg.Pad)
		}
		return r, true
	}
	i := sort.Search(len(t.Sightings), func(i int) bool { return t.Sightings[i].Frame >= f })
	b := t.Sightings[i]
	if b.Frame == f {
		return b.Rect, true
	}
	a := t.Sightings[i-1]
	k := float64(f-a.Frame) / float64(b.Frame-a.Frame)
	lerp := func(x, y int) int { return int(math.Round(float64(x) + (float64(y)-float64(x))*k)) }
	r := image.Rect(lerp(a.Rect.Min.X, b.Rect.Min.X), lerp(a.Rect.Min.Y, b.Rect.Min.Y),
		lerp(a.Rect.Max.X, b.Rect.Max.X), lerp(a.Rect.Max.Y, b.Rect.Max.Y))
	return pad(r, cfg.Pad), true
}

// back is where the track's face was on frame f before its first
// sighting had it moved at the speed between its first two sightings (its
// first box when it has one).
func (t *Track) back(f int) image.Rectangle {
	first := t.Sightings[0]
	if len(t.Sightings) < 2 || t.Sightings[1].Frame <= first.Frame {
		return first.Rect
	}
	next := t.Sightings[1]
	k := float64(f-first.Frame) / float64(next.Frame-first.Frame)
	d := center(next.Rect).Sub(center(first.Rect))
	return first.Rect.Add(image.Pt(int(math.Round(float64(d.X)*k)), int(math.Round(float64(d.Y)*k))))
}

// pad grows r by share of its size on each side.
func pad(r image.Rectangle, share float64) image.Rectangle {
	dx := int(math.Ceil(float64(r.Dx()) * share))
	dy := int(math.Ceil(float64(r.Dy()) * share))
	return image.Rect(r.Min.X-dx, r.Min.Y-dy, r.Max.X+dx, r.Max.Y+dy)
}

func center(r image.Rectangle) image.Point {
	return image.Pt((r.Min.X+r.Max.X)/2, (r.Min.Y+r.Max.Y)/2)
}

func dist(a, b image.Point) float64 {
	return math.Hypot(float64(a.X-b.X), float64(a.Y-b.Y))
}

// IoU is the intersection over union of two rectangles.
func IoU(a, b image.Rectangle) float64 {
	in := a.Intersect(b)
	if in.Empty() {
		return 0
	}
	ai := in.Dx() * in.Dy()
	return float64(ai) / float64(a.Dx()*a.Dy()+b.Dx()*b.Dy()-ai)
}
