package pipeline

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"image"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/photoguard/photoguard/detect"
	"github.com/photoguard/photoguard/detect/track"
	"github.com/photoguard/photoguard/pipeline/inbox"
	"github.com/photoguard/photoguard/redact/decode"
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
	// Rule is how many of a track's described sightings must agree for it
	// to be shown.
	Rule track.Rule
	// Timeout bounds the work on one video (instead of PhotoTimeout).
	Timeout time.Duration
	// FullEvery, when above 0, replaces fullEvery: 1 runs the finder's
	// second look over the whole of every analysed frame (the schedule
	// before issue 21's cost work). Not configurable; for measurements.
	FullEvery int
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
	// matches are the matches of the faces of every analysed frame, by
	// frame (decideTracks).
	matches map[int][]detect.Match
	// analysed counts the frames analysed, everywhere those of them the
	// finder looked at everywhere twice, described the faces described.
	analysed, everywhere, described int
	// work is the folder the encoded outputs are written to.
	work string
	// strip are small copies of a few analysed frames, spread over the
	// clip, for the review page (VideoStrip).
	strip []stripCopy
}

// stripCopy is an analysed frame kept small for the review page.
type stripCopy struct {
	frame int
	img   *image.NRGBA
}

// StripFrames and StripSide: the review page's strip of a video is
// StripFrames of its analysed frames, spread over the clip, each at most
// StripSide pixels long.
const (
	StripFrames = 5
	StripSide   = 240
)

// StripFrame is one frame of a video's strip on the review page.
type StripFrame struct {
	// Frame is the frame's index at the published rate, At its time.
	Frame int
	At    time.Duration
	// Image is the analysed frame (unredacted, as the photo's input
	// preview), at most StripSide long.
	Image *image.NRGBA
	// Boxes are, per track (in Faces order), its box on this frame in
	// Image's pixels: empty when the track is not on it.
	Boxes []image.Rectangle
}

// VideoStrip is the strip of a video job for the review page (nil for a
// photo, or a video that was not analysed).
func (j *Job) VideoStrip() []StripFrame {
	vj := j.video
	if vj == nil {
		return nil
	}
	var out []StripFrame
	for _, c := range vj.strip {
		sx := float64(c.img.Rect.Dx()) / float64(vj.width)
		sy := float64(c.img.Rect.Dy()) / float64(vj.height)
		f := StripFrame{Frame: c.frame, At: time.Duration(float64(c.frame) / vj.fps * float64(time.Second)), Image: c.img,
			Boxes: make([]image.Rectangle, len(vj.tracks))}
		for t, tr := range vj.tracks {
			if r, ok := tr.At(c.frame, vj.tcfg); ok {
				f.Boxes[t] = image.Rect(int(float64(r.Min.X)*sx), int(float64(r.Min.Y)*sy),
					int(math.Ceil(float64(r.Max.X)*sx)), int(math.Ceil(float64(r.Max.Y)*sy))).Intersect(c.img.Rect)
			}
		}
		out = append(out, f)
	}
	return out
}

// keepForStrip keeps a small copy of analysed frame i when it is the first
// analysed frame at or after the next of StripFrames points spread over
// the clip's expected frames.
func (vj *videoJob) keepForStrip(i int, frame *image.NRGBA) {
	k := len(vj.strip)
	if k >= StripFrames {
		return
	}
	at := k * max(vj.frames-1, 0) / (StripFrames - 1)
	if i < at && k > 0 {
		return
	}
	small := decode.Fit(frame, StripSide)
	if small == frame {
		small = &image.NRGBA{Pix: append([]uint8(nil), frame.Pix...), Stride: frame.Stride, Rect: frame.Rect}
	}
	vj.strip = append(vj.strip, stripCopy{frame: i, img: small})
}

// ProcessVideo takes a video through the phases. Without VideoOptions, or
// for the moving part of a Live Photo under live_photos: skip, it ends the
// video without reading it: rejected like a photo in a flagged category
// (moved to rejected/ with its reason, never wiped) or, for the Live Photo,
// ended without a note for the teacher.
func (p *Pipeline) ProcessVideo(ctx context.Context, root, path string) (items []Item, err error) {
	return p.processVideo(ctx, root, path, false)
}

// processVideo is ProcessVideo of a video the inbox found beside a photo
// of the same name (live), or not.
func (p *Pipeline) processVideo(ctx context.Context, root, path string, live bool) (items []Item, err error) {
	j, err := p.newJob(root, path)
	if err != nil {
		return nil, err
	}
	v := p.opt.Video
	live = live || inbox.HasStill(path)
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
	f, before, err := openInput(j)
	if err != nil {
		return err
	}
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
