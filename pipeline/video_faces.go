package pipeline

import (
	"context"
	"fmt"
	"image"
	"io"
	"math"
	"sort"
	"time"

	"github.com/photoguard/photoguard/detect"
	"github.com/photoguard/photoguard/detect/track"
	"github.com/photoguard/photoguard/redact/video"
)

// The faces of a video: looked for on sampled frames, followed through
// time, decided per track.

// trackFaces analyses every step-th frame with the face analysis (the same
// as a photo's, at the published size) and links the faces into tracks.
func (p *Pipeline) trackFaces(ctx context.Context, j *Job) error {
	vj := j.video
	start := time.Now()
	defer func() { j.detectTook = time.Since(start) }()
	opt := video.DecodeOptions{Width: vj.width, Height: vj.height, FPS: vj.fps, MaxFrames: vj.frames + int(vj.fps) + 1}
	if vj.frames > 2*vj.step {
		// ffmpeg hands out only the analysed frames, and every frame of
		// the last two steps of the length the header promises, of which
		// the last is analysed too. A video shorter than its header by
		// more than that has its last step seen as any step between two
		// analysed frames is: its tracks held over it (Extend).
		opt.Every, opt.From = vj.step, vj.frames-2*vj.step
	}
	r, err := video.Decode(ctx, p.opt.Video.Tools, p.videoInput(j), opt)
	if err != nil {
		return Hold(err, "decoding the video failed")
	}
	defer r.Close()
	side := max(vj.width, vj.height)
	vj.faces = map[int][]detect.Face{}
	det := p.opt.Faces.Analyzer
	finder, sparse := det.(videoFinder)
	var pick track.Pick
	if sparse {
		pick = track.Pick{MinWidth: finder.DescribeMin(), First: max(describeFirst, 2*p.opt.Video.Rule.MinFrames),
			Every: max(1, int(math.Round(describeEvery*vj.fps))), Grow: describeGrow}
	}
	// The finder's second look runs over the whole frame on every
	// fullEvery-th analysed frame and the last; on the others only around
	// the small faces followed. A face the second look first finds on a
	// frame looked at everywhere may have been in the picture since the
	// one before: its track is held back over those frames.
	every := fullEvery
	if p.opt.Video.FullEvery > 0 {
		every = p.opt.Video.FullEvery
	}
	var focusW float64
	focused := false
	if sparse {
		focusW, focused = finder.FocusWidth(image.Pt(vj.width, vj.height), side)
	}
	if focused {
		vj.tcfg.Before = every * vj.step
		// A small face the look around it missed is found again on the
		// next frame looked at everywhere: the same track.
		vj.tcfg.MaxGap = max(vj.tcfg.MaxGap, every*vj.step)
	}
	linker := track.NewLinker(vj.tcfg)
	picked := map[int]*track.Picked{}
	// analyse looks for the faces of analysed frame i (the whole frame
	// with both looks when everywhere) and links them into tracks.
	analyse := func(i int, frame *image.NRGBA, everywhere bool) error {
		var a *detect.Analysis
		var err error
		switch {
		case !sparse:
			a, err = det.Analyze(ctx, frame, side)
		case everywhere || !focused:
			a, err = finder.Find(ctx, frame, side)
		default:
			a, err = finder.FindAround(ctx, frame, side, around(linker.Tracks(), i, vj.step, focusW, vj.tcfg, frame.Rect))
		}
		if err != nil {
			if serr := p.stopped(ctx, "while detecting faces"); serr != nil {
				return serr
			}
			return Hold(err, "face detection failed")
		}
		if a.PublishSide < side {
			// The floor holds only in a smaller video: the configured
			// video.max_side is too large for the face analysis.
			return Hold(nil, "the coverage floor (faces.coverage_px) cannot be kept at %d px within the face analysis's budget; set video.max_side to %d or less", side, a.PublishSide)
		}
		if j.Analysis == nil {
			j.Analysis = a
		} else {
			j.Analysis.FloorPx = math.Max(j.Analysis.FloorPx, a.FloorPx)
		}
		vj.analysed++
		if everywhere {
			vj.everywhere++
		}
		if vj.analysed%50 == 0 {
			// Progress of a long clip, for the log of the service.
			p.opt.Log.Info("video: faces looked for", "photo", short(j.SHA256), "frame", i, "of", vj.frames)
		}
		boxes := make([]track.Sighting, len(a.Faces))
		for k, f := range a.Faces {
			boxes[k] = track.Sighting{Frame: i, Rect: f.Rect, Face: k}
		}
		ts := linker.Add(i, boxes)
		if sparse {
			if err := p.describePicked(ctx, vj, frame, i, a.Faces, ts, linker.Tracks(), pick, picked); err != nil {
				return err
			}
		}
		vj.faces[i] = a.Faces
		vj.keepForStrip(i, frame)
		return nil
	}
	// Every step-th frame is analysed, and the last frame, whatever its
	// index: a face that comes in at the end is seen too. An analysed
	// frame waits for the next one (pending): the last analysed frame is
	// looked at everywhere, which is known only at the end.
	rect := image.Rect(0, 0, vj.width, vj.height)
	last, lastAt := image.NewNRGBA(rect), -1
	pending, pendingAt := image.NewNRGBA(rect), -1
	for {
		i, frame, err := r.Next()
		if err == io.EOF {
			break
		} else if err != nil {
			return p.videoErr(ctx, j, err, "decoding the video")
		} else if i%vj.step != 0 {
			copy(last.Pix, frame.Pix)
			lastAt = i
			continue
		}
		if pendingAt >= 0 {
			if err := analyse(pendingAt, pending, vj.analysed%every == 0); err != nil {
				return err
			}
		}
		copy(pending.Pix, frame.Pix)
		pendingAt, lastAt = i, i
	}
	if pendingAt >= 0 {
		// The last analysed frame is looked at everywhere unless the last
		// frame comes after it (that one is).
		if err := analyse(pendingAt, pending, lastAt == pendingAt || vj.analysed%every == 0); err != nil {
			return err
		}
	}
	if lastAt > pendingAt {
		if err := analyse(lastAt, last, true); err != nil {
			return err
		}
	}
	if vj.analysed == 0 {
		return p.videoErr(ctx, j, &video.InputError{Reason: "the video has no frame"}, "decoding the video")
	}
	if err := p.unchanged(j, j.Size); err != nil {
		return err
	}
	vj.tracks = linker.Tracks()
	p.opt.Log.Debug("video: faces looked for", "photo", short(j.SHA256), "analysed", vj.analysed, "everywhere", vj.everywhere,
		"described", vj.described, "tracks", len(vj.tracks))
	// One face per track, for the report and the ledger: its largest
	// sighting.
	j.Faces = make([]detect.Face, len(vj.tracks))
	for t, tr := range vj.tracks {
		best := tr.Sightings[0]
		for _, s := range tr.Sightings {
			if s.Rect.Dx() > best.Rect.Dx() {
				best = s
			}
		}
		j.Faces[t] = vj.faces[best.Frame][best.Face]
	}
	return nil
}

// videoFinder is a face analysis that can find faces without describing
// them (analyze.Engine): a video describes each track from a few of its
// sightings (track.Pick) instead of every face in every analysed frame.
type videoFinder interface {
	Find(ctx context.Context, img *image.NRGBA, publishSide int) (*detect.Analysis, error)
	// DescribeMin is the narrowest face worth describing, in published
	// pixels.
	DescribeMin() float64
	// FindAround is Find with the finder's second, closer look (the one
	// that finds the smallest faces) only in regions; FocusWidth is the
	// widest face only that look may find in a frame of size published
	// at publishSide, and false when the finder's second look cannot be
	// limited (then Find is used on every frame).
	FindAround(ctx context.Context, img *image.NRGBA, publishSide int, regions []image.Rectangle) (*detect.Analysis, error)
	FocusWidth(size image.Point, publishSide int) (float64, bool)
}

// fullEvery: the finder's second look runs over the whole frame on every
// fullEvery-th analysed frame (and the last one); between them it runs
// around the small faces followed (around).
const fullEvery = 3

// Around a small face followed, the second look sees its last box grown
// on each side by aroundMoves face widths (the most a face moves between
// analysed frames and still continues its track, track.Config.MaxMove) per
// analysed step since it was seen, and at least aroundMin pixels. A track
// is followed while its box is narrower than aroundGrow x the widest face
// only the second look finds (it may grow until the next frame).
const (
	aroundMoves = 1.5
	aroundMin   = 24
	aroundGrow  = 1.25
)

// around is where the second look runs on analysed frame i (frames are
// analysed every step) between frames looked at everywhere: around each
// track still followed (seen within cfg.MaxGap frames) whose face is
// narrower than aroundGrow x width, clipped to bounds.
func around(tracks []*track.Track, i, step int, width float64, cfg track.Config, bounds image.Rectangle) []image.Rectangle {
	var out []image.Rectangle
	for _, t := range tracks {
		if i-t.Last() > cfg.MaxGap || t.Last() >= i {
			continue
		}
		r := t.Sightings[len(t.Sightings)-1].Rect
		if float64(r.Dx()) >= aroundGrow*width {
			continue
		}
		steps := (i - t.Last() + step - 1) / step
		m := max(int(math.Ceil(aroundMoves*float64(steps)*float64(max(r.Dx(), r.Dy())))), aroundMin)
		if g := image.Rect(r.Min.X-m, r.Min.Y-m, r.Max.X+m, r.Max.Y+m).Intersect(bounds); !g.Empty() {
			out = append(out, g)
		}
	}
	return out
}

// Which sightings of a track are described (track.Pick): the first
// describeFirst (at least twice video.min_frames), then one every
// describeEvery seconds, and any that is describeGrow times as wide as the
// widest described.
const (
	describeFirst = 6
	describeEvery = 1.0
	describeGrow  = 1.25
)

// describePicked describes the faces of analysed frame i that their
// tracks (ts: the track of each face) pick, in place: a described face
// gets its descriptor and the union of both boxes (what is redacted must
// cover the face whichever box is tighter), in the track too.
func (p *Pipeline) describePicked(ctx context.Context, vj *videoJob, frame *image.NRGBA, i int, faces []detect.Face, ts []int, tracks []*track.Track, pick track.Pick, picked map[int]*track.Picked) error {
	var want []int
	var rects []image.Rectangle
	for k, t := range ts {
		if t < 0 || !faces[k].NoDescriptor {
			continue
		}
		if picked[t] == nil {
			picked[t] = &track.Picked{}
		}
		if pick.Want(i, faces[k].Rect.Dx(), *picked[t]) {
			want = append(want, k)
			rects = append(rects, faces[k].Rect)
		}
	}
	if len(rects) == 0 {
		return nil
	}
	got, err := p.opt.Faces.Analyzer.Describe(ctx, frame, rects)
	if err == nil && len(got) != len(rects) {
		err = fmt.Errorf("%d descriptions for %d faces", len(got), len(rects))
	}
	if err != nil {
		if serr := p.stopped(ctx, "while detecting faces"); serr != nil {
			return serr
		}
		return Hold(err, "face detection failed")
	}
	vj.described += len(rects)
	for m, k := range want {
		d, t := got[m], ts[k]
		picked[t].Add(i, faces[k].Rect.Dx(), !d.NoDescriptor)
		if d.NoDescriptor {
			continue
		}
		d.Rect = d.Rect.Union(faces[k].Rect).Intersect(frame.Rect)
		d.Score = faces[k].Score
		faces[k] = d
		tr := tracks[t]
		tr.Sightings[len(tr.Sightings)-1].Rect = d.Rect
	}
	return nil
}

// decideTracks matches every analysed frame's faces (as a photo's: margin,
// size, nobody twice in a frame), votes per track whom it is (track.Vote),
// and decides per channel which tracks may be shown.
func (p *Pipeline) decideTracks(ctx context.Context, j *Job) error {
	f := p.opt.Faces
	reg, err := p.consentView()
	if err != nil {
		return err
	}
	// The same people and rules as a photo's (references faded by age,
	// the group folder as context).
	people, mc := f.matchContext(j, reg, p.opt.Now())
	vj := j.video
	matches := map[int][]detect.Match{}
	for i, faces := range vj.faces {
		matches[i] = detect.MatchFaces(faces, people, mc)
	}
	vj.matches = matches
	j.Group, j.Margin = mc.Group, mc.Margin
	j.Matches = make([]detect.Match, len(vj.tracks))
	for t, tr := range vj.tracks {
		labels := make([]track.Label, len(tr.Sightings))
		nearest := map[string]detect.Candidate{}
		notDescribed := true
		for k, s := range tr.Sightings {
			face, m := vj.faces[s.Frame][s.Face], matches[s.Frame][s.Face]
			l := track.Label{ID: m.ID, Described: !face.NoDescriptor}
			notDescribed = notDescribed && face.NoDescriptor
			for _, c := range m.Nearest {
				if c.Distance <= f.Match.Threshold && c.ID != m.ID {
					l.Near = append(l.Near, c.ID)
				}
				if old, ok := nearest[c.ID]; !ok || c.Distance < old.Distance {
					nearest[c.ID] = c
				}
			}
			labels[k] = l
		}
		id, why := track.Vote(labels, p.opt.Video.Rule)
		if notDescribed {
			why = detect.WhyNotDescribed
		}
		j.Matches[t] = detect.Match{ID: id, Why: why}
		m := &j.Matches[t]
		for _, c := range nearest {
			m.Nearest = append(m.Nearest, c)
		}
		sort.Slice(m.Nearest, func(a, b int) bool { return m.Nearest[a].Distance < m.Nearest[b].Distance })
		p.opt.Log.Debug("video track", "photo", short(j.SHA256), "track", t, "first", tr.First(), "last", tr.Last(),
			"sightings", len(tr.Sightings), "box", j.Faces[t].Rect, "id", id, "why", why, "labels", fmt.Sprint(labels))
	}
	sameTimeTwice(vj.tracks, j.Matches)
	p.decideChannels(j, reg)
	return nil
}

// sameTimeTwice makes nobody of every track voted the same person as
// another track seen at the same time (between the first and last
// sightings of both: nobody is in a frame twice, so at least one of them is
// someone else, and we cannot tell which). Within an analysed frame the
// matcher already says so of the faces it described; a track is described
// on a few of its frames only. A track that ends where another begins (one
// face whose track broke) is not twice.
func sameTimeTwice(tracks []*track.Track, matches []detect.Match) {
	var twice []int
	for a := range tracks {
		for b := range tracks {
			if a == b || matches[a].ID == "" || matches[a].ID != matches[b].ID {
				continue
			}
			ta, tb := tracks[a], tracks[b]
			if ta.First() <= tb.Last() && tb.First() <= ta.Last() {
				twice = append(twice, a)
				break
			}
		}
	}
	for _, t := range twice {
		matches[t].ID, matches[t].Why = "", detect.WhyMatchedTwice
	}
}
