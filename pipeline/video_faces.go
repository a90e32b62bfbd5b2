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
	r, err := video.Decode(ctx, p.opt.Video.Tools, p.videoInput(j), video.DecodeOptions{
		Width: vj.width, Height: vj.height, FPS: vj.fps, MaxFrames: vj.frames + int(vj.fps) + 1})
	if err != nil {
		return Hold(err, "decoding the video failed")
	}
	defer r.Close()
	side := max(vj.width, vj.height)
	vj.faces = map[int][]detect.Face{}
	var sightings []track.Sighting
	// Every step-th frame is analysed, and the last frame, whatever its
	// index: a face that comes in at the end is seen too.
	last, lastAt := image.NewNRGBA(image.Rect(0, 0, vj.width, vj.height)), -1
	for {
		i, frame, err := r.Next()
		if err == io.EOF {
			if lastAt < 0 || lastAt%vj.step == 0 {
				break
			}
			i, frame = lastAt, last
		} else if err != nil {
			return p.videoErr(ctx, j, err, "decoding the video")
		} else if i%vj.step != 0 {
			copy(last.Pix, frame.Pix)
			lastAt = i
			continue
		}
		lastAt = i
		a, err := p.opt.Faces.Analyzer.Analyze(ctx, frame, side)
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
		if vj.analysed%50 == 0 {
			// Progress of a long clip, for the log of the service.
			p.opt.Log.Info("video: faces looked for", "photo", short(j.SHA256), "frame", i, "of", vj.frames)
		}
		vj.faces[i] = a.Faces
		for k, f := range a.Faces {
			sightings = append(sightings, track.Sighting{Frame: i, Rect: f.Rect, Face: k})
		}
		if frame == last {
			break // the last frame, analysed after the end
		}
	}
	if vj.analysed == 0 {
		return p.videoErr(ctx, j, &video.InputError{Reason: "the video has no frame"}, "decoding the video")
	}
	if err := p.unchanged(j, j.Size); err != nil {
		return err
	}
	vj.tracks = track.Link(sightings, vj.tcfg)
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
		m := detect.Match{ID: id, Why: why}
		for _, c := range nearest {
			m.Nearest = append(m.Nearest, c)
		}
		sort.Slice(m.Nearest, func(a, b int) bool { return m.Nearest[a].Distance < m.Nearest[b].Distance })
		j.Matches[t] = m
		p.opt.Log.Debug("video track", "photo", short(j.SHA256), "track", t, "first", tr.First(), "last", tr.Last(),
			"sightings", len(tr.Sightings), "box", j.Faces[t].Rect, "id", id, "why", why, "labels", fmt.Sprint(labels))
	}
	p.decideChannels(j, reg)
	return nil
}
