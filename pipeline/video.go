package pipeline

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/photoguard/photoguard/detect"
	"github.com/photoguard/photoguard/detect/track"
	"github.com/photoguard/photoguard/redact/mask"
	"github.com/photoguard/photoguard/redact/video"
)

// VideoOptions configure the video path (issue 21). Without them (nil
// Options.Video) every video is rejected with ReasonVideo, as before.
type VideoOptions struct {
	Tools  video.Tools
	Limits video.Limits
	// MaxFileBytes bounds the file (video.max_file_mb).
	MaxFileBytes int64
	// LivePhotos: "skip" ends the moving part of a Live Photo without a
	// note (the still is the photo), "publish" takes it as a video.
	LivePhotos string
	// KeepAudio re-encodes the sound into the output (video.audio: keep);
	// by default it is dropped (spoken names are personal data).
	KeepAudio bool
	// MaxSide is the long side a video is published at (at most its own);
	// MaxFPS the highest frame rate it is published at.
	MaxSide int
	MaxFPS  float64
	// AnalysisFPS is how many frames a second faces are looked for in;
	// the frames between are covered by tracking.
	AnalysisFPS float64
	// CRF is x264's quality (lower: better and larger).
	CRF int
	// Rule is how many analysed frames must agree for a track to be shown.
	Rule track.Rule
	// Timeout bounds the work on one video (instead of PhotoTimeout).
	Timeout time.Duration
}

// Values of VideoOptions.LivePhotos.
const (
	LivePhotosSkip    = "skip"
	LivePhotosPublish = "publish"
)

func (v *VideoOptions) validate() error {
	if v == nil {
		return nil
	}
	switch {
	case v.LivePhotos != LivePhotosSkip && v.LivePhotos != LivePhotosPublish:
		return fmt.Errorf("pipeline: video live_photos %q is not skip or publish", v.LivePhotos)
	case v.MaxSide < 64 || !(v.MaxFPS >= 1) || !(v.AnalysisFPS > 0) || v.Rule.MinFrames < 1:
		return fmt.Errorf("pipeline: video options out of range")
	}
	return nil
}

// videoJob is what a video job carries besides a photo job's fields.
type videoJob struct {
	file *os.File
	info *video.Info
	// width and height are the published frame, fps its rate, step the
	// frames between two analysed frames, frames the expected count.
	width, height int
	fps           float64
	step, frames  int
	tcfg          track.Config
	tracks        []*track.Track
	// sightings' faces: the faces of every analysed frame, by frame.
	faces map[int][]detect.Face
	// analysed counts the frames analysed.
	analysed int
	// work is the folder the encoded outputs are written to.
	work string
}

// ProcessVideo takes a video through the phases. Without VideoOptions, or
// for the moving part of a Live Photo under live_photos: skip, it ends the
// video without reading it: rejected like a photo in a flagged category
// (moved to rejected/ with its reason, never wiped) or, for the Live Photo,
// ended without a note for the teacher.
func (p *Pipeline) ProcessVideo(ctx context.Context, root, path string) (items []Item, err error) {
	j, err := p.newJob(root, path)
	if err != nil {
		return nil, err
	}
	v := p.opt.Video
	live := livePhoto(path)
	switch {
	case v == nil:
		j.Category = VideoCategory
		why := ReasonVideo
		if live {
			why += " (the moving part of a Live Photo; its photo is taken on its own)"
		}
		return p.settle(ctx, j, Reject("%s", why))
	case live && v.LivePhotos == LivePhotosSkip:
		return p.settle(ctx, j, skipLivePhoto(j))
	case !publishable(path):
		j.Category = VideoCategory
		return p.settle(ctx, j, Reject("%s (photoguard publishes .mov, .mp4 and .m4v videos)", ReasonVideo))
	}
	j.video = &videoJob{}
	defer j.video.close()
	defer func() { p.recordReview(j, items, err) }()
	return p.process(ctx, j, p.committer)
}

// ReasonLivePhoto is the reason the moving part of a Live Photo is not
// published under live_photos: skip.
const ReasonLivePhoto = "the moving part of a Live Photo: its photo is published on its own (video.live_photos: skip)"

// skipLivePhoto ends the moving part of a Live Photo: set aside with
// rejected originals, without a note for the teacher (skipping it is the
// rule, not news).
func skipLivePhoto(j *Job) error {
	j.noNote = true
	return Reject("%s", ReasonLivePhoto)
}

// publishable reports whether a video's name is one of the kinds
// photoguard publishes: what iPads, iPhones and most cameras record.
func publishable(path string) bool {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".mov", ".mp4", ".m4v":
		return true
	}
	return false
}

func (v *videoJob) close() {
	if v.file != nil {
		v.file.Close()
	}
	if v.work != "" {
		os.RemoveAll(v.work)
	}
}

// readVideo opens the video, hashes it as it reads it once, and keeps it
// open: ffprobe and ffmpeg read that open file (video.Input), so what was
// hashed is what is decoded unless the file is written to in place, which
// the check after decoding sees (unchanged).
func (p *Pipeline) readVideo(j *Job) error {
	f, err := os.OpenFile(j.Path, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if err != nil {
		if errors.Is(err, syscall.ELOOP) || errors.Is(err, os.ErrNotExist) {
			return &Error{Kind: KindNotReady, Reason: "changed while being opened", Err: err}
		}
		return Retry(err, "cannot read the file")
	}
	before, err := f.Stat()
	if err != nil {
		f.Close()
		return Retry(err, "cannot read the file")
	}
	if !before.Mode().IsRegular() {
		f.Close()
		return &Error{Kind: KindNotReady, Reason: "not a regular file any more"}
	}
	j.Size, j.MTime = before.Size(), before.ModTime()
	if max := p.opt.Video.MaxFileBytes; max > 0 && before.Size() > max {
		f.Close()
		return Hold(nil, "the video is %.0f MB, more than video.max_file_mb (%d MB)", float64(before.Size())/(1<<20), max>>20)
	}
	h := sha256.New()
	n, err := io.Copy(h, io.LimitReader(f, before.Size()+1))
	if err != nil {
		f.Close()
		return Retry(err, "cannot read the file")
	}
	if err := p.unchanged(j, n); err != nil {
		f.Close()
		return err
	}
	j.SHA256 = hex.EncodeToString(h.Sum(nil))
	j.video.file = f
	return nil
}

// unchanged checks that the input is as it was when it was read (n bytes).
func (p *Pipeline) unchanged(j *Job, n int64) error {
	after, err := os.Lstat(j.Path)
	if err != nil || n != j.Size || after.Size() != j.Size || !after.ModTime().Equal(j.MTime) {
		return &Error{Kind: KindNotReady, Reason: "still being written"}
	}
	return nil
}

// videoSteps are the transform phase of a video: the photo's steps, with
// frames.
func (p *Pipeline) videoStepList() []Step {
	return []Step{
		{"categorise", p.categorise},
		{"probe", p.probeVideo},
		{"detect", p.trackFaces},
		{"decide", p.decideTracks},
		{"prepare", p.prepareVideo},
		{"render", p.renderVideo},
		{"verify", p.verifyVideo},
	}
}

func (p *Pipeline) videoInput(j *Job) video.Input { return video.Input{File: j.video.file} }

// probeVideo reads the header with ffprobe and plans the frames: the size
// and rate the video is published at, and which frames are analysed.
func (p *Pipeline) probeVideo(ctx context.Context, j *Job) error {
	v := p.opt.Video
	info, err := video.Probe(ctx, v.Tools, p.videoInput(j), v.Limits)
	if err != nil {
		return p.videoErr(ctx, j, err, "reading the video's header")
	}
	if info.LivePhoto && v.LivePhotos == LivePhotosSkip {
		return skipLivePhoto(j)
	}
	vj := j.video
	vj.info = info
	vj.width, vj.height = evenFit(info.Width, info.Height, v.MaxSide)
	vj.fps = math.Min(info.FPS, v.MaxFPS)
	vj.step = max(1, int(math.Round(vj.fps/v.AnalysisFPS)))
	vj.frames = info.Frames(vj.fps)
	// A frame the finder missed between two analysed frames is covered by
	// the track; a face is held a whole step beyond its first and last
	// sighting, and may go unseen for one analysed frame.
	vj.tcfg = track.Config{MinIoU: 0.3, MaxMove: 1.5, MaxGap: 2 * vj.step, Extend: vj.step, Pad: 0.15}
	return nil
}

// evenFit is w x h scaled to a long side of at most side, both even.
func evenFit(w, h, side int) (int, int) {
	long := max(w, h)
	if long > side {
		w = int(math.Round(float64(w) * float64(side) / float64(long)))
		h = int(math.Round(float64(h) * float64(side) / float64(long)))
	}
	return max(2, w&^1), max(2, h&^1)
}

// videoErr classifies an error of the video tools: a time limit, a
// damaged input (quarantined, or not ready while the file is young), a
// limit (held), anything else (held).
func (p *Pipeline) videoErr(ctx context.Context, j *Job, err error, what string) error {
	if serr := p.stopped(ctx, what); serr != nil {
		return serr
	}
	switch {
	case video.IsLimit(err):
		return Hold(nil, "%s", err.Error())
	case video.IsInputError(err):
		if p.young(j) {
			return &Error{Kind: KindNotReady, Reason: "does not decode completely yet", Err: err}
		}
		return Quarantine(err, "")
	}
	return Hold(err, "%s failed", what)
}

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
		a, err := p.opt.Faces.Detector.Analyze(ctx, frame, side)
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
	people := reg.People()
	vj := j.video
	matches := map[int][]detect.Match{}
	for i, faces := range vj.faces {
		matches[i] = detect.MatchFaces(faces, people, f.Match)
	}
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
	base := filepath.Join(p.opt.StateDir, "video-work")
	if err := os.MkdirAll(base, 0o700); err != nil {
		return Retry(err, "cannot make the video work folder")
	}
	dir, err := os.MkdirTemp(base, j.SHA256[:12]+"-")
	if err != nil {
		return Retry(err, "cannot make the video work folder")
	}
	j.video.work = dir
	return nil
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

// faceCheck is one redacted track's check in the output: the unredacted
// pixels around it (before, at rect of frame), and the redacted boxes there
// in before's coordinates. rect holds the whole redacted region of every
// box in it, so that the redaction of before is the frame's redaction there.
type faceCheck struct {
	frame  int
	rect   image.Rectangle
	before *image.NRGBA
	boxes  []image.Rectangle
}

// newFaceCheck keeps what the check of face (one of boxes, the redacted
// boxes of frame i) needs.
func newFaceCheck(i int, frame *image.NRGBA, face image.Rectangle, boxes []image.Rectangle, o mask.Options) faceCheck {
	rect := mask.Region(face, o.MaskScale, frame.Rect)
	for grown := true; grown; {
		grown = false
		for _, b := range boxes {
			if r := mask.Region(b, o.MaskScale, frame.Rect); r.Overlaps(rect) && !r.In(rect) {
				rect, grown = rect.Union(r), true
			}
		}
	}
	c := faceCheck{frame: i, rect: rect, before: crop(frame, rect)}
	for _, b := range boxes {
		if mask.Region(b, o.MaskScale, frame.Rect).Overlaps(rect) {
			c.boxes = append(c.boxes, b.Sub(rect.Min))
		}
	}
	return c
}

// crop copies r of img into a new image at (0,0).
func crop(img *image.NRGBA, r image.Rectangle) *image.NRGBA {
	c := image.NewNRGBA(image.Rect(0, 0, r.Dx(), r.Dy()))
	for y := r.Min.Y; y < r.Max.Y; y++ {
		copy(c.Pix[(y-r.Min.Y)*c.Stride:], img.Pix[img.PixOffset(r.Min.X, y):img.PixOffset(r.Max.X, y)])
	}
	return c
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
// largest described sighting, the face there must still be the pupil it is
// shown as.
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
		var best *detect.Face
		frame := -1
		for _, s := range vj.tracks[t].Sightings {
			if f := vj.faces[s.Frame][s.Face]; !f.NoDescriptor && (best == nil || f.Rect.Dx() > best.Rect.Dx()) {
				best, frame = &f, s.Frame
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
		for _, t := range plan[i] {
			if face, ok := vj.tracks[t].At(i, vj.tcfg); ok && face.Overlaps(frame.Rect) {
				out.checks = append(out.checks, newFaceCheck(i, frame, face.Intersect(frame.Rect), boxes, p.opt.Faces.Redact))
			}
		}
		if len(boxes) > 0 {
			frame = mask.Redact(frame, boxes, p.opt.Faces.Redact)
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
	people := j.consent.People()
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
		for _, c := range cs {
			if err := mask.CheckRedactedWithin(c.before, crop(frame, c.rect), c.boxes, p.opt.Faces.Redact, int(j.Analysis.FloorPx), mask.VideoTolerance); err != nil {
				return Hold(err, "the face check of the output failed on frame %d: a redacted face kept its detail", i)
			}
		}
		for _, c := range ss {
			again, err := p.opt.Faces.Detector.Describe(ctx, frame, []image.Rectangle{c.face.Rect})
			if err != nil || len(again) != 1 {
				if serr := p.stopped(ctx, "while checking the output"); serr != nil {
					return serr
				}
				return Hold(err, "face detection on the output failed")
			}
			if why := stillShown(again[0], c.face, c.id, people, p.opt.Faces.Match); why != "" {
				return Hold(nil, "the face check of the output failed on frame %d: %s", i, why)
			}
		}
	}
	if seen != len(frames) {
		return Hold(nil, "the face check of the output read %d of the %d frames it checks", seen, len(frames))
	}
	return nil
}
