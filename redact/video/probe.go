package video

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// InputError means the file itself is unusable as a video: it is damaged,
// truncated, not a video or in a form photoguard does not take. The pipeline
// quarantines it. Reason never contains the file name.
type InputError struct {
	Reason string
	Err    error
}

func (e *InputError) Error() string {
	if e.Err == nil {
		return e.Reason
	}
	return e.Reason + ": " + e.Err.Error()
}
func (e *InputError) Unwrap() error { return e.Err }

// LimitError means the video is over one of the configured limits (length,
// size, frame rate, streams): it is held, with the reason, for the
// coordinator to decide.
type LimitError struct{ Reason string }

func (e *LimitError) Error() string { return e.Reason }

// IsInputError and IsLimit tell the kinds apart.
func IsInputError(err error) bool { var e *InputError; return errors.As(err, &e) }
func IsLimit(err error) bool      { var e *LimitError; return errors.As(err, &e) }

func limitf(format string, args ...any) error {
	return &LimitError{Reason: fmt.Sprintf(format, args...)}
}

// Limits bound what is decoded; they are checked from ffprobe's reading of
// the header before a frame is decoded.
type Limits struct {
	// MaxSeconds is the longest video taken (video.max_seconds).
	MaxSeconds float64
	// MaxSide and MaxPixels bound the frame as stored.
	MaxSide   int
	MaxPixels int64
	// MaxFPS bounds the frame rate; MaxStreams the number of streams.
	MaxFPS     float64
	MaxStreams int
	// ProbeTimeout bounds ffprobe.
	ProbeTimeout time.Duration
}

// DefaultLimits are the limits of the default configuration.
func DefaultLimits() Limits {
	return Limits{MaxSeconds: 180, MaxSide: 4096, MaxPixels: 4096 * 2304, MaxFPS: 60, MaxStreams: 16, ProbeTimeout: 20 * time.Second}
}

// Info is what ffprobe says of a video that is within the limits.
type Info struct {
	// Codec is the video stream's codec ("h264", "hevc").
	Codec string
	// Width and Height are the frame as shown (after the rotation the
	// file asks for), Rotation that rotation in degrees.
	Width, Height int
	Rotation      int
	// FPS is the video stream's frame rate, Seconds its duration.
	FPS     float64
	Seconds float64
	// Streams counts every stream, Audio the audio streams.
	Streams, Audio int
	// LivePhoto is set for the moving part of an Apple Live Photo (it
	// carries the content identifier that pairs it with its still).
	LivePhoto bool
}

// Frames is how many frames the video has at fps.
func (i *Info) Frames(fps float64) int { return int(math.Ceil(i.Seconds*fps - 1e-6)) }

// maxProbeOutput bounds ffprobe's JSON: a file with thousands of streams is
// over it (and over MaxStreams long before).
const maxProbeOutput = 4 << 20

// Codecs photoguard decodes: what iPads, iPhones and most cameras record.
var codecs = map[string]bool{"h264": true, "hevc": true, "mpeg4": true}

// Probe reads the header with ffprobe and checks it against the limits.
func Probe(ctx context.Context, tools Tools, in Input, lim Limits) (*Info, error) {
	if lim.ProbeTimeout <= 0 {
		lim.ProbeTimeout = DefaultLimits().ProbeTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, lim.ProbeTimeout)
	defer cancel()
	if _, err := in.File.Seek(0, 0); err != nil {
		return nil, err
	}
	cmd, stderr := command(ctx, tools.ffprobe(), &in, "-v", "error", "-hide_banner",
		"-print_format", "json", "-show_format", "-show_streams", "-show_chapters", inputURL)
	out := &capped{n: maxProbeOutput}
	cmd.Stdout = out
	err := start(cmd)
	if err == nil {
		err = cmd.Wait()
	}
	if ctx.Err() != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return nil, &InputError{Reason: fmt.Sprintf("reading the video's header took longer than %s", lim.ProbeTimeout)}
		}
		return nil, ctx.Err()
	}
	if out.dropped > 0 {
		return nil, limitf("the video's header describes too much (more than %d MB of stream descriptions)", maxProbeOutput>>20)
	}
	if err != nil {
		var ee interface{ ExitCode() int }
		if errors.As(err, &ee) && ee.ExitCode() > 0 {
			return nil, &InputError{Reason: "not a readable video (damaged, truncated or without its index)", Err: errors.New(stderr.String())}
		}
		return nil, childErr(ctx, "ffprobe", err, stderr)
	}
	return parseProbe(out.buf.Bytes(), lim)
}

type probeJSON struct {
	Streams []struct {
		CodecType    string            `json:"codec_type"`
		CodecName    string            `json:"codec_name"`
		Width        int               `json:"width"`
		Height       int               `json:"height"`
		RFrameRate   string            `json:"r_frame_rate"`
		AvgFrameRate string            `json:"avg_frame_rate"`
		Duration     string            `json:"duration"`
		Disposition  map[string]int    `json:"disposition"`
		Tags         map[string]string `json:"tags"`
		SideData     []struct {
			Rotation *float64 `json:"rotation"`
		} `json:"side_data_list"`
	} `json:"streams"`
	Format struct {
		FormatName string            `json:"format_name"`
		Duration   string            `json:"duration"`
		NbStreams  int               `json:"nb_streams"`
		Tags       map[string]string `json:"tags"`
	} `json:"format"`
}

// parseProbe checks ffprobe's JSON against the limits.
func parseProbe(data []byte, lim Limits) (*Info, error) {
	var pj probeJSON
	if err := json.Unmarshal(data, &pj); err != nil {
		return nil, &InputError{Reason: "ffprobe's description of the video cannot be read", Err: err}
	}
	if !strings.Contains(pj.Format.FormatName, "mp4") && !strings.Contains(pj.Format.FormatName, "mov") {
		return nil, &InputError{Reason: fmt.Sprintf("not a QuickTime or MP4 video (ffprobe reads it as %q)", pj.Format.FormatName)}
	}
	info := &Info{Streams: max(len(pj.Streams), pj.Format.NbStreams)}
	_, info.LivePhoto = pj.Format.Tags["com.apple.quicktime.content.identifier"]
	if lim.MaxStreams > 0 && info.Streams > lim.MaxStreams {
		return nil, limitf("the video has %d streams, more than video.max_streams (%d)", info.Streams, lim.MaxStreams)
	}
	video := -1
	for i, s := range pj.Streams {
		switch s.CodecType {
		case "audio":
			info.Audio++
		case "video":
			if s.Disposition["attached_pic"] == 1 {
				continue // a cover picture, not the film
			}
			if video < 0 {
				video = i
			}
		}
	}
	if video < 0 {
		return nil, &InputError{Reason: "the file has no video stream"}
	}
	s := pj.Streams[video]
	info.Codec = s.CodecName
	if !codecs[s.CodecName] {
		return nil, &InputError{Reason: fmt.Sprintf("video codec %q is not one photoguard decodes (H.264, HEVC, MPEG-4)", s.CodecName)}
	}
	if s.Width <= 0 || s.Height <= 0 {
		return nil, &InputError{Reason: "the video stream has no frame size"}
	}
	if lim.MaxSide > 0 && max(s.Width, s.Height) > lim.MaxSide {
		return nil, limitf("the video is %dx%d, larger than video.max_source_side (%d px)", s.Width, s.Height, lim.MaxSide)
	}
	if lim.MaxPixels > 0 && int64(s.Width)*int64(s.Height) > lim.MaxPixels {
		return nil, limitf("the video is %dx%d, more than %.1f megapixels a frame", s.Width, s.Height, float64(lim.MaxPixels)/1e6)
	}
	for _, sd := range s.SideData {
		if sd.Rotation != nil {
			info.Rotation = ((int(math.Round(*sd.Rotation)) % 360) + 360) % 360
		}
	}
	if r, err := strconv.Atoi(s.Tags["rotate"]); err == nil && info.Rotation == 0 {
		info.Rotation = ((r % 360) + 360) % 360
	}
	info.Width, info.Height = s.Width, s.Height
	if info.Rotation == 90 || info.Rotation == 270 {
		info.Width, info.Height = s.Height, s.Width
	}
	info.FPS = rate(s.AvgFrameRate)
	if info.FPS <= 0 {
		info.FPS = rate(s.RFrameRate)
	}
	if !(info.FPS > 0 && info.FPS < 10000) {
		return nil, &InputError{Reason: "the video stream has no frame rate"}
	}
	if lim.MaxFPS > 0 && info.FPS > lim.MaxFPS+0.5 {
		return nil, limitf("the video has %.0f frames a second, more than video.max_source_fps (%.0f; slow motion?)", info.FPS, lim.MaxFPS)
	}
	info.Seconds = seconds(pj.Format.Duration)
	if d := seconds(s.Duration); d > info.Seconds {
		info.Seconds = d
	}
	if !(info.Seconds > 0) {
		return nil, &InputError{Reason: "the video has no duration (damaged or still being written?)"}
	}
	if lim.MaxSeconds > 0 && info.Seconds > lim.MaxSeconds {
		return nil, limitf("the video is %s long, longer than video.max_seconds (%s)", clock(info.Seconds), clock(lim.MaxSeconds))
	}
	return info, nil
}

func rate(s string) float64 {
	num, den, ok := strings.Cut(s, "/")
	if !ok {
		f, _ := strconv.ParseFloat(s, 64)
		return f
	}
	n, err1 := strconv.ParseFloat(num, 64)
	d, err2 := strconv.ParseFloat(den, 64)
	if err1 != nil || err2 != nil || d == 0 {
		return 0
	}
	return n / d
}

func seconds(s string) float64 {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || f < 0 {
		return 0
	}
	return f
}

// clock writes seconds as m:ss (or h:mm:ss).
func clock(s float64) string {
	t := int(math.Round(s))
	if t >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", t/3600, t/60%60, t%60)
	}
	return fmt.Sprintf("%d:%02d", t/60, t%60)
}
