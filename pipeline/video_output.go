package pipeline

import (
	"context"
	"fmt"
	"image"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/photoguard/photoguard/detect"
	"github.com/photoguard/photoguard/pipeline/core"
	"github.com/photoguard/photoguard/redact/mask"
	"github.com/photoguard/photoguard/redact/video"
)

// The output of a video: every frame redacted and encoded, then checked.

// VideoName is the neutral name a video is published under.
func VideoName(date time.Time, sha string) string {
	return strings.TrimSuffix(OutputName(date, sha), ".jpg") + ".mp4"
}

// prepareVideo names each delivery and makes the folder the outputs are
// encoded in (state_dir/video-work, removed when the job ends).
func (p *Pipeline) prepareVideo(ctx context.Context, j *Job) error {
	date := p.opt.Now()
	if j.Record != nil && !j.Record.ClaimedAt.IsZero() {
		date = j.Record.ClaimedAt.Local()
	}
	for _, d := range j.live() {
		d.Name = VideoName(date, j.SHA256)
		d.Faces = j.Faces
		d.FloorPx = j.Analysis.FloorPx
	}
	base := filepath.Join(p.opt.StateDir, core.VideoWorkFolder)
	if err := os.MkdirAll(base, 0o700); err != nil {
		return Retry(err, "cannot make the video work folder")
	}
	removeStaleWork(base, p.opt.Now().Add(-2*p.opt.Video.Timeout))
	dir, err := os.MkdirTemp(base, j.SHA256[:12]+"-")
	if err != nil {
		return Retry(err, "cannot make the video work folder")
	}
	j.video.work = dir
	return nil
}

// removeStaleWork removes the work folders of videos whose process died
// (older than before: a live job ends within its time limit).
func removeStaleWork(base string, before time.Time) {
	entries, err := os.ReadDir(base)
	if err != nil {
		return
	}
	for _, e := range entries {
		if info, err := e.Info(); err == nil && e.IsDir() && info.ModTime().Before(before) {
			os.RemoveAll(filepath.Join(base, e.Name()))
		}
	}
}

// redactedTracks are the tracks delivery d does not show.
func redactedTracks(d *Delivery) []int {
	var ts []int
	for t, dec := range d.Decisions {
		if !dec.Show {
			ts = append(ts, t)
		}
	}
	return ts
}

// boxesAt are the boxes of the given tracks on frame i.
func (vj *videoJob) boxesAt(i int, ts []int) []image.Rectangle {
	var boxes []image.Rectangle
	bounds := image.Rect(0, 0, vj.width, vj.height)
	for _, t := range ts {
		if r, ok := vj.tracks[t].At(i, vj.tcfg); ok {
			if r = r.Intersect(bounds); !r.Empty() {
				boxes = append(boxes, r)
			}
		}
	}
	return boxes
}

// checkPlan says where every redacted track is checked in the output: on
// the frame of its largest sighting (frame -> tracks).
func (vj *videoJob) checkPlan(ts []int) map[int][]int {
	plan := map[int][]int{}
	for _, t := range ts {
		tr := vj.tracks[t]
		best := tr.Sightings[0]
		for _, s := range tr.Sightings {
			if s.Rect.Dx() > best.Rect.Dx() {
				best = s
			}
		}
		plan[best.Frame] = append(plan[best.Frame], t)
	}
	return plan
}

// faceCheck is one redacted track's check in the output: on frame, the
// sample of its face (the central part, unredacted and as redacted).
type faceCheck struct {
	frame  int
	sample mask.Sample
}

// renderVideo decodes every frame again, redacts in it the tracks each
// delivery may not show, and encodes the result (once per set of redacted
// tracks). The unredacted frames the check needs are kept.
func (p *Pipeline) renderVideo(ctx context.Context, j *Job) error {
	done := map[string]*Delivery{}
	for _, d := range j.live() {
		key := fmt.Sprint(redactedTracks(d))
		if same := done[key]; same != nil {
			d.Output, d.video = same.Output, same.video
			continue
		}
		if err := p.renderOne(ctx, j, d); err != nil {
			return err
		}
		if d.Err == nil {
			done[key] = d
		}
	}
	return nil
}

// videoOutput is what a delivery's encoding left for the check.
type videoOutput struct {
	path   string
	frames int
	checks []faceCheck
	shown  []shownCheck
}

// shownCheck is a shown track's check in the output: on the frame of its
// largest sighting that was a confident match to the pupil it is shown as
// (wholly in the picture when one is), the face there must still be that
// pupil.
type shownCheck struct {
	frame int
	face  detect.Face // as analysed
	id    string
}

// shownChecks are the checks of the tracks d shows, except a face that
// lies partly under a redaction on that frame (its descriptor changes,
// and it can only hide someone).
func (vj *videoJob) shownChecks(d *Delivery, redacted []int, o mask.Options) []shownCheck {
	var cs []shownCheck
	bounds := image.Rect(0, 0, vj.width, vj.height)
	for t, dec := range d.Decisions {
		if !dec.Show {
			continue
		}
		// The check asks of the output what the decision asked of the
		// analysed frames: a sighting the matcher was not confident of
		// (ambiguous, too small, cut by the frame's edge) is not one the
		// track was shown for, and may fail in the output while the face
		// is as recognisable as it was.
		var best *detect.Face
		frame, inside := -1, false
		for _, s := range vj.tracks[t].Sightings {
			f := vj.faces[s.Frame][s.Face]
			if f.NoDescriptor || vj.matches[s.Frame][s.Face].ID != dec.ID {
				continue
			}
			in := f.Rect.In(bounds.Inset(1))
			if best == nil || in && !inside || in == inside && f.Rect.Dx() > best.Rect.Dx() {
				best, frame, inside = &f, s.Frame, in
			}
		}
		if best == nil || underRedaction(best.Rect, vj.boxesAt(frame, redacted), o.MaskScale, bounds) {
			continue
		}
		cs = append(cs, shownCheck{frame: frame, face: *best, id: dec.ID})
	}
	return cs
}

func (p *Pipeline) renderOne(ctx context.Context, j *Job, d *Delivery) error {
	vj, v := j.video, p.opt.Video
	ts := redactedTracks(d)
	out := &videoOutput{path: filepath.Join(vj.work, fmt.Sprintf("%d.mp4", indexOf(j, d))), shown: vj.shownChecks(d, ts, p.opt.Faces.Redact)}
	plan := vj.checkPlan(ts)
	r, err := video.Decode(ctx, v.Tools, p.videoInput(j), video.DecodeOptions{
		Width: vj.width, Height: vj.height, FPS: vj.fps, MaxFrames: vj.frames + int(vj.fps) + 1})
	if err != nil {
		return Hold(err, "decoding the video failed")
	}
	defer r.Close()
	var audio *video.Input
	if v.KeepAudio && vj.info.Audio > 0 {
		in := p.videoInput(j)
		audio = &in
	}
	enc, err := video.Encode(ctx, v.Tools, out.path, video.EncodeOptions{Width: vj.width, Height: vj.height, FPS: vj.fps, CRF: v.CRF, Audio: audio})
	if err != nil {
		return Hold(err, "encoding the video failed")
	}
	for {
		i, frame, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			enc.Abort()
			return p.videoErr(ctx, j, err, "decoding the video")
		}
		boxes := vj.boxesAt(i, ts)
		if len(boxes) > 0 {
			redacted := mask.Redact(frame, boxes, p.opt.Faces.Redact)
			for _, t := range plan[i] {
				face, ok := vj.tracks[t].At(i, vj.tcfg)
				if !ok || float64(face.Dx()) < j.Analysis.FloorPx {
					continue // under the floor: never promised
				}
				if smp, ok := mask.NewSample(frame, redacted, face.Intersect(frame.Rect)); ok {
					out.checks = append(out.checks, faceCheck{frame: i, sample: smp})
				}
			}
			frame = redacted
		}
		if err := enc.Write(frame); err != nil {
			enc.Abort()
			if serr := p.stopped(ctx, "while encoding the video"); serr != nil {
				return serr
			}
			d.Err = Hold(err, "encoding the video failed")
			return nil
		}
		out.frames++
	}
	if err := enc.Close(); err != nil {
		if serr := p.stopped(ctx, "while encoding the video"); serr != nil {
			return serr
		}
		d.Err = Hold(err, "encoding the video failed")
		return nil
	}
	if err := p.unchanged(j, j.Size); err != nil {
		return err
	}
	data, err := os.ReadFile(out.path)
	if err != nil {
		return Retry(err, "cannot read the encoded video")
	}
	d.Output, d.video = data, out
	return nil
}

func indexOf(j *Job, d *Delivery) int {
	for i, x := range j.Deliveries {
		if x == d {
			return i
		}
	}
	return -1
}

// maxSelect is the most frames the check decodes by name; with more it
// decodes the whole output and picks them.
const maxSelect = 100

// verifyVideo checks each output as it will be published: its boxes and
// ffprobe's view against the allow-lists (video.Check), and in the output's
// own frames, decoded again, every redacted track on the frame of its
// largest sighting (mask.CheckRedactedWithin, as a photo's faces, with
// H.264's tolerance).
func (p *Pipeline) verifyVideo(ctx context.Context, j *Job) error {
	start := time.Now()
	defer func() { j.checkTook += time.Since(start) }()
	checked := map[*videoOutput]error{}
	for _, d := range j.live() {
		out := d.video
		if err, ok := checked[out]; ok {
			d.Err = err
			continue
		}
		err := p.verifyOne(ctx, j, out, d.Output)
		if serr := p.stopped(ctx, "while checking the output"); serr != nil {
			return serr
		}
		checked[out] = err
		d.Err = err
	}
	return nil
}

func (p *Pipeline) verifyOne(ctx context.Context, j *Job, out *videoOutput, data []byte) error {
	vj, v := j.video, p.opt.Video
	audio := v.KeepAudio && vj.info.Audio > 0
	if err := video.Check(ctx, v.Tools, out.path, data, video.Want{Width: vj.width, Height: vj.height, Audio: audio, Frames: out.frames}); err != nil {
		return Hold(err, "the output failed the metadata check")
	}
	if len(out.checks) == 0 && len(out.shown) == 0 {
		return nil
	}
	f, err := os.Open(out.path)
	if err != nil {
		return Retry(err, "cannot read the encoded video")
	}
	defer f.Close()
	byFrame := map[int][]faceCheck{}
	shownAt := map[int][]shownCheck{}
	var frames []int
	add := func(i int) {
		if byFrame[i] == nil && shownAt[i] == nil {
			frames = append(frames, i)
		}
	}
	for _, c := range out.checks {
		add(c.frame)
		byFrame[c.frame] = append(byFrame[c.frame], c)
	}
	for _, c := range out.shown {
		add(c.frame)
		shownAt[c.frame] = append(shownAt[c.frame], c)
	}
	sort.Ints(frames)
	people, mc := p.opt.Faces.matchContext(j, j.consent, p.opt.Now())
	opt := video.DecodeOptions{Width: vj.width, Height: vj.height, FPS: vj.fps, MaxFrames: out.frames + 1}
	if len(frames) <= maxSelect {
		opt.Select = frames
	}
	r, err := video.Decode(ctx, v.Tools, video.Input{File: f}, opt)
	if err != nil {
		return Hold(err, "the output could not be decoded for the face check")
	}
	defer r.Close()
	seen := 0
	for {
		i, frame, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return Hold(err, "the output could not be decoded for the face check")
		}
		cs, ss := byFrame[i], shownAt[i]
		if cs == nil && ss == nil {
			continue
		}
		seen++
		if len(cs) > 0 {
			gain := mask.StretchGain(frame)
			for _, c := range cs {
				if err := c.sample.Judge(frame, gain, mask.VideoTolerance); err != nil {
					return Hold(fmt.Errorf("redact: the face at %v %w", c.sample.Rect, err), "the face check of the output failed on frame %d: a redacted face kept its detail", i)
				}
			}
		}
		for _, c := range ss {
			again, err := p.opt.Faces.Analyzer.Describe(ctx, frame, []image.Rectangle{c.face.Rect})
			if err != nil || len(again) != 1 {
				if serr := p.stopped(ctx, "while checking the output"); serr != nil {
					return serr
				}
				return Hold(err, "face detection on the output failed")
			}
			if why := stillShown(again[0], c.face, c.id, people, mc); why != "" {
				return Hold(nil, "the face check of the output failed on frame %d: %s", i, why)
			}
		}
	}
	if seen != len(frames) {
		return Hold(nil, "the face check of the output read %d of the %d frames it checks", seen, len(frames))
	}
	return nil
}
