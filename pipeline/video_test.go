package pipeline

import (
	"context"
	"image"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/photoguard/photoguard/detect"
	"github.com/photoguard/photoguard/detect/track"
	"github.com/photoguard/photoguard/pipeline/target/dir"
	"github.com/photoguard/photoguard/redact/mask"
	"github.com/photoguard/photoguard/redact/testenv"
	"github.com/photoguard/photoguard/redact/video"
)

// classClip is classPhoto filmed for seconds at 10 fps (nearly lossless,
// so that the fake detector still sees the faces' noise), with a tone, a
// creation time and a GPS position, as an iPad's .MOV.
func classClip(t *testing.T, seconds string, extra ...string) []byte {
	t.Helper()
	testenv.RequireTool(t, "ffmpeg")
	dir := t.TempDir()
	still := filepath.Join(dir, "class.jpg")
	if err := os.WriteFile(still, classPhoto(t), 0o600); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "clip.mov")
	cmd := exec.Command("ffmpeg", "-v", "error", "-loop", "1", "-framerate", "10", "-i", still,
		"-f", "lavfi", "-i", "sine=d="+seconds, "-t", seconds, "-c:v", "libx264", "-qp", "0", "-pix_fmt", "yuv444p",
		"-c:a", "aac", "-metadata", "creation_time=2026-11-30T09:41:00Z", "-metadata", "location=+37.3305-121.8968/")
	cmd.Args = append(append(cmd.Args, extra...), out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg: %v\n%s", err, b)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func videoOpts() *VideoOptions {
	return &VideoOptions{Limits: video.DefaultLimits(), MaxFileBytes: 1 << 30, LivePhotos: LivePhotosSkip,
		MaxSide: 1280, MaxFPS: 30, AnalysisFPS: 5, CRF: 23, Rule: track.Rule{MinFrames: 3, MinShare: 0.5}, Timeout: time.Minute}
}

// videoEnv is faceEnv (anna may be on the website, bram not, and a
// stranger) with videos on.
func videoEnv(t *testing.T, edit func(*VideoOptions), opts ...envOption) *env {
	reg := &fakeConsent{
		people:  []detect.Person{{ID: "anna", Descriptors: []detect.Descriptor{unit(0)}}, {ID: "bram", Descriptors: []detect.Descriptor{unit(1)}}},
		consent: map[string]map[string]bool{"anna": {"website": true}, "bram": {"parent_portal": true}},
	}
	v := videoOpts()
	if edit != nil {
		edit(v)
	}
	return newEnv(t, append([]envOption{func(o *Options) {
		o.Workers = 1
		o.Video = v
		o.Faces = &FaceOptions{Analyzer: classFaces(), Consent: func() Consent { return reg },
			Match: detect.MatchConfig{Threshold: 0.5, Margin: 0.06, MinFacePx: 20}, Policy: detect.PolicyConsent, Redact: mask.DefaultOptions()}
	}}, opts...)...)
}

// frames decodes a published video with the ffmpeg command line.
func frames(t *testing.T, path string, w, h int) []*image.NRGBA {
	t.Helper()
	out, err := exec.Command("ffmpeg", "-v", "error", "-i", path, "-f", "rawvideo", "-pix_fmt", "rgba", "-").Output()
	if err != nil {
		t.Fatal(err)
	}
	var fs []*image.NRGBA
	for off := 0; off+w*h*4 <= len(out); off += w * h * 4 {
		fs = append(fs, &image.NRGBA{Pix: out[off : off+w*h*4], Stride: 4 * w, Rect: image.Rect(0, 0, w, h)})
	}
	return fs
}

// A clip of the class: published as .mp4 under a neutral name, anna (who
// may be on the website) shown and bram and the stranger redacted in every
// frame, with one video stream and nothing else; the input is wiped, and
// the same clip delivered again is not published twice.
func TestVideoPublished(t *testing.T) {
	e := videoEnv(t, nil)
	clip := classClip(t, "2")
	e.write("groep-5/IMG_0042.MOV", clip)
	// The work folder of a process that died long ago is cleared.
	dead := filepath.Join(e.state, "video-work", "0123456789ab-dead")
	if err := os.MkdirAll(dead, 0o700); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-24 * time.Hour)
	_ = os.Chtimes(dead, old, old)
	it := one(t, e.batch(), "groep-5/IMG_0042.MOV")
	if it.Outcome != Published || !strings.HasSuffix(it.Output, ".mp4") || strings.Contains(it.Output, "IMG") {
		t.Fatalf("%+v", it)
	}
	if s := it.Faces; s == nil || s.Found != 3 || strings.Join(s.ShownIDs, ",") != "anna" || strings.Join(s.RedactedIDs, ",") != "bram" {
		t.Fatalf("faces %+v", it.Faces)
	}
	// 20 frames at 10 fps, analysed 5 a second: frames 0, 2, … 18, and
	// the last one, 19, so that a face coming in at the end is seen.
	if calls := e.p.opt.Faces.Analyzer.(*fakeAnalyzer).calls; calls != 11 {
		t.Errorf("%d frames analysed, want 11", calls)
	}
	out := filepath.Join(e.out, it.Output)
	fs := frames(t, out, 320, 240)
	if len(fs) != 20 {
		t.Fatalf("%d frames, want 20", len(fs))
	}
	for n, f := range fs {
		if d := detail(f, annaBox); d < 15 {
			t.Errorf("frame %d: anna (consent) is not shown: detail %.1f", n, d)
		}
		for name, box := range map[string]image.Rectangle{"bram": bramBox, "stranger": strangerBox} {
			if d := detail(f, box); d > 10 {
				t.Errorf("frame %d: %s is not redacted: detail %.1f", n, name, d)
			}
		}
	}
	probe, err := exec.Command("ffprobe", "-v", "error", "-show_entries", "stream=codec_type:stream_tags=creation_time:format_tags=creation_time,location",
		"-of", "csv=p=0", out).Output()
	if err != nil || strings.TrimSpace(string(probe)) != "video" {
		t.Errorf("ffprobe: %q %v, want one video stream and no date or place", probe, err)
	}
	if exists(filepath.Join(e.inbox, "groep-5", "IMG_0042.MOV")) {
		t.Error("the input was not wiped")
	}
	if left, _ := os.ReadDir(filepath.Join(e.state, "video-work")); len(left) != 0 {
		t.Errorf("work folders left: %v", left)
	}
	// explain says the same of the clip, and writes nothing.
	path := e.write("groep-7/again.mov", classClip(t, "1", "-metadata", "title=again"))
	j, err := e.p.Explain(context.Background(), e.inbox, path)
	if err != nil || len(j.Faces) != 3 || len(j.Deliveries[0].Decisions) != 3 || !exists(path) || len(e.outputs()) != 1 {
		t.Errorf("explain: %v, %d faces, outputs %v", err, len(j.Faces), e.outputs())
	}
	os.Remove(path)
	e.write("groep-6/copy.mov", clip)
	if again := one(t, e.batch(), "groep-6/copy.mov"); !again.Duplicate || len(e.outputs()) != 1 {
		t.Errorf("delivered again: %+v, outputs %v", again, e.outputs())
	}
}

// The moving part of a Live Photo is skipped without a note (the still is
// the photo) unless live_photos is publish. It is known by the photo of
// the same name beside it or, when that photo was taken first, by the
// content identifier Apple writes into both parts.
func TestVideoLivePhoto(t *testing.T) {
	clip := classClip(t, "1", "-movflags", "use_metadata_tags", "-metadata", "com.apple.quicktime.content.identifier=4F1C6A3E-0D2B-4C55-9E59-1B2D3C4E5F60")
	for _, mode := range []string{LivePhotosSkip, LivePhotosPublish} {
		t.Run(mode, func(t *testing.T) {
			e := videoEnv(t, func(v *VideoOptions) { v.LivePhotos = mode }, func(o *Options) { o.TeacherNotes = true })
			e.write("groep-5/IMG_0001.JPG", photo(t, 1))
			e.write("groep-5/IMG_0001.MOV", clip)
			e.write("groep-6/IMG_0002.MOV", clip) // its photo went first
			// Beside its photo, without Apple's identifier: the photo is
			// taken (and wiped) first, but the inbox saw them together.
			e.write("groep-7/IMG_0003.JPG", photo(t, 3))
			e.write("groep-7/IMG_0003.MOV", classClip(t, "1", "-metadata", "title=no identifier"))
			items := e.batch()
			if one(t, items, "groep-5/IMG_0001.JPG").Outcome != Published {
				t.Error("the still was not published")
			}
			for _, rel := range []string{"groep-5/IMG_0001.MOV", "groep-6/IMG_0002.MOV", "groep-7/IMG_0003.MOV"} {
				mov := one(t, items, rel)
				note := exists(filepath.Join(e.inbox, filepath.FromSlash(rel)+NoteSuffix))
				switch {
				case mode == LivePhotosSkip && (mov.Outcome != Rejected || !strings.Contains(mov.Reason, "Live Photo") || note):
					t.Errorf("%s: %+v, note %v", rel, mov, note)
				case mode == LivePhotosPublish && mov.Outcome != Published && !mov.Duplicate:
					t.Errorf("%s: %+v", rel, mov)
				}
			}
		})
	}
}

// Videos over a limit are held with the reason; broken ones quarantined.
func TestVideoRefused(t *testing.T) {
	clip := classClip(t, "2")
	cases := []struct {
		name string
		data []byte
		edit func(*VideoOptions)
		want Outcome
		why  string
	}{
		{"too long", clip, func(v *VideoOptions) { v.Limits.MaxSeconds = 1 }, Held, "longer than video.max_seconds (0:01)"},
		{"too large a file", clip, func(v *VideoOptions) { v.MaxFileBytes = 1000 }, Held, "more than video.max_file_mb"},
		{"truncated", clip[:len(clip)/2], nil, Quarantined, "not a readable video"},
		{"not a video", []byte("this is not a video at all, only text"), nil, Quarantined, "not a readable video"},
		{"another kind of video", clip, nil, Rejected, "photoguard publishes .mov, .mp4 and .m4v videos"},
		{"out of time", clip, func(v *VideoOptions) { v.Timeout = time.Millisecond }, Held, "processing took longer than 1ms"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := videoEnv(t, tc.edit, func(o *Options) { o.TeacherNotes = true })
			name := "groep-5/film.mp4"
			if tc.want == Rejected {
				name = "groep-5/film.avi"
			}
			e.write(name, tc.data)
			it := one(t, e.batch(), name)
			if it.Outcome != tc.want || !strings.Contains(it.Reason, tc.why) {
				t.Fatalf("%s: %q, want %s: %q", it.Outcome, it.Reason, tc.want, tc.why)
			}
			if len(e.outputs()) != 0 {
				t.Errorf("published %v", e.outputs())
			}
			if tc.want != Rejected {
				note, err := os.ReadFile(filepath.Join(e.inbox, filepath.FromSlash(name)+NoteSuffix))
				if err != nil || !strings.Contains(string(note), "Deze video") && !strings.Contains(string(note), "geen video") {
					t.Errorf("teacher note %q %v, want one about a video", note, err)
				}
			}
		})
	}
}

// Process, the entry retry uses (held.Retrier), takes a video through the
// video path: a video held for its length is published once the limit
// allows it.
func TestVideoProcessIsTheVideoPath(t *testing.T) {
	clip := classClip(t, "2")
	e := videoEnv(t, func(v *VideoOptions) { v.Limits.MaxSeconds = 1 })
	path := e.write("groep-5/film.mov", clip)
	items, err := e.p.Process(context.Background(), e.inbox, path)
	if err != nil || len(items) != 1 || items[0].Outcome != Held {
		t.Fatalf("%+v %v", items, err)
	}
	held := filepath.Join(items[0].Aside, "film.mov")
	opt := e.p.Options()
	v := *opt.Video
	v.Limits.MaxSeconds = 180
	opt.Video = &v
	p, err := New(opt)
	if err != nil {
		t.Fatal(err)
	}
	items, err = p.Process(context.Background(), filepath.Dir(held), held)
	if err != nil || len(items) != 1 || items[0].Outcome != Published || !strings.HasSuffix(items[0].Output, ".mp4") {
		t.Fatalf("retried: %+v %v", items, err)
	}
}

// Consent is per channel: one clip to the website and the parent portal
// shows bram only on the portal, where he may be shown; a video in a
// flagged category is rejected like a photo.
func TestVideoPerChannelAndCategory(t *testing.T) {
	clip := classClip(t, "1")
	portal := filepath.Join(t.TempDir(), "portal")
	tg, err := dir.New(portal)
	if err != nil {
		t.Fatal(err)
	}
	e := videoEnv(t, nil, func(o *Options) {
		o.Destinations = append(o.Destinations, &Destination{Name: "portal", Channel: "parent_portal", Target: tg})
	})
	e.write("groep-5/film.mov", clip)
	e.write("groep-5/zwemles/film2.mov", classClip(t, "1", "-metadata", "title=zwemles"))
	items := e.batch()
	if got := items["groep-5/zwemles/film2.mov"]; len(got) != 2 || got[0].Outcome != Rejected || !strings.Contains(got[0].Reason, "zwemles") {
		t.Errorf("flagged: %+v", got)
	}
	its := items["groep-5/film.mov"]
	if len(its) != 2 {
		t.Fatalf("items %+v", its)
	}
	for _, it := range its {
		folder, bramShown := e.out, false
		if it.Target == "portal" {
			folder, bramShown = portal, true
		}
		if it.Outcome != Published {
			t.Fatalf("%+v", it)
		}
		for n, f := range frames(t, filepath.Join(folder, it.Output), 320, 240) {
			if shown := detail(f, bramBox) > 15; shown != bramShown {
				t.Errorf("%s frame %d: bram shown %v, want %v", it.Target, n, shown, bramShown)
			}
			if detail(f, strangerBox) > 10 {
				t.Errorf("%s frame %d: the stranger is shown", it.Target, n)
			}
		}
	}
}

// The output check finds a redaction that did not happen: the encoded
// video is swapped, after rendering, for one of the same frames without
// the blur; it is held, and nothing is published.
func TestVideoCheckFindsMissingRedaction(t *testing.T) {
	clip := classClip(t, "1")
	e := videoEnv(t, nil, func(o *Options) {
		o.Hook = func(step string, j *Job) {
			if step != "render" {
				return
			}
			for _, d := range j.live() {
				unredacted(t, j, d)
			}
		}
	})
	e.write("groep-5/film.mov", clip)
	it := one(t, e.batch(), "groep-5/film.mov")
	if it.Outcome != Held || !strings.Contains(it.Reason, "a redacted face kept its detail") {
		t.Fatalf("%s: %s", it.Outcome, it.Reason)
	}
	if len(e.outputs()) != 0 {
		t.Errorf("published %v", e.outputs())
	}
}

// unredacted encodes d's output again from the input's frames, unredacted.
func unredacted(t *testing.T, j *Job, d *Delivery) {
	vj := j.video
	r, err := video.Decode(context.Background(), video.Tools{}, video.Input{File: vj.file}, video.DecodeOptions{Width: vj.width, Height: vj.height, FPS: vj.fps})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	enc, err := video.Encode(context.Background(), video.Tools{}, d.video.path, video.EncodeOptions{Width: vj.width, Height: vj.height, FPS: vj.fps})
	if err != nil {
		t.Fatal(err)
	}
	for {
		_, f, err := r.Next()
		if err != nil {
			break
		}
		if err := enc.Write(f); err != nil {
			t.Fatal(err)
		}
	}
	if err := enc.Close(); err != nil {
		t.Fatal(err)
	}
	if d.Output, err = os.ReadFile(d.video.path); err != nil {
		t.Fatal(err)
	}
}

func TestEvenFit(t *testing.T) {
	for _, tc := range []struct{ w, h, side, ww, wh int }{
		{1920, 1080, 1280, 1280, 720},
		{1080, 1920, 1280, 720, 1280},
		{640, 358, 1280, 640, 358},
		{641, 359, 1280, 640, 358},
		{3840, 2160, 1280, 1280, 720},
		{1280, 721, 1280, 1280, 720},
	} {
		if w, h := evenFit(tc.w, tc.h, tc.side); w != tc.ww || h != tc.wh {
			t.Errorf("evenFit(%d, %d, %d) = %d, %d, want %d, %d", tc.w, tc.h, tc.side, w, h, tc.ww, tc.wh)
		}
	}
}

// A shown face is described again in the output: a face that reads as
// someone else there holds the video.
func TestVideoCheckFindsAShownFaceThatChanged(t *testing.T) {
	bram := unit(1)
	e := videoEnv(t, nil, func(o *Options) { o.Faces.Analyzer.(*fakeAnalyzer).becomes = &bram })
	e.write("groep-5/film.mov", classClip(t, "1"))
	it := one(t, e.batch(), "groep-5/film.mov")
	if it.Outcome != Held || !strings.Contains(it.Reason, "no longer a confident match to anna") {
		t.Fatalf("%s: %s", it.Outcome, it.Reason)
	}
	if d := e.p.opt.Faces.Analyzer.(*fakeAnalyzer).describes; d != 1 {
		t.Errorf("%d descriptions of the output, want 1 (anna's track)", d)
	}
}
