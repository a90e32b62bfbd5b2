package video

import (
	"context"
	"errors"
	"fmt"
	"image"
	"io"
	"os/exec"
	"strconv"
)

// EncodeOptions shape the published file.
type EncodeOptions struct {
	Width, Height int
	FPS           float64
	// CRF is x264's constant rate factor (lower: better and larger).
	CRF int
	// Audio, when set, is the input whose first audio stream is re-encoded
	// into the output (video.audio: keep); nil drops the sound.
	Audio *Input
	// Threads is how many threads x264 encodes with (0: 1).
	Threads int
}

// Encoder writes frames to an ffmpeg child that encodes them as H.264 in
// MP4, with no metadata, to a file.
type Encoder struct {
	ctx    context.Context
	cmd    *exec.Cmd
	stderr *capped
	in     io.WriteCloser
	opt    EncodeOptions
	frames int
}

// Encode starts the encoder writing to path (which it creates or replaces).
func Encode(ctx context.Context, tools Tools, path string, opt EncodeOptions) (*Encoder, error) {
	if opt.Width <= 0 || opt.Height <= 0 || opt.Width%2 != 0 || opt.Height%2 != 0 || !(opt.FPS > 0) {
		return nil, fmt.Errorf("video: bad encode size %dx%d at %v fps", opt.Width, opt.Height, opt.FPS)
	}
	if opt.CRF == 0 {
		opt.CRF = 23
	}
	threads := strconv.Itoa(max(opt.Threads, 1))
	args := []string{"-nostdin", "-hide_banner", "-loglevel", "error", "-y",
		"-f", "rawvideo", "-pix_fmt", "rgba", "-s", fmt.Sprintf("%dx%d", opt.Width, opt.Height),
		"-framerate", strconv.FormatFloat(opt.FPS, 'f', -1, 64), "-i", "pipe:0"}
	if opt.Audio != nil {
		if _, err := opt.Audio.File.Seek(0, 0); err != nil {
			return nil, err
		}
		args = append(args, "-i", inputURL)
	}
	args = append(args, "-map", "0:v:0")
	if opt.Audio != nil {
		args = append(args, "-map", "1:a:0?", "-c:a", "aac", "-b:a", "128k", "-ac", "2", "-flags:a", "+bitexact")
	}
	args = append(args,
		"-c:v", "libx264", "-preset", "veryfast", "-crf", strconv.Itoa(opt.CRF), "-pix_fmt", "yuv420p",
		"-threads", threads, "-x264-params", "threads="+threads,
		// x264 writes its version and settings in an SEI message: removed.
		"-bsf:v", "filter_units=remove_types=6",
		"-map_metadata", "-1", "-map_chapters", "-1",
		"-fflags", "+bitexact", "-flags:v", "+bitexact",
		"-movflags", "+faststart", "-f", "mp4", path)
	cmd, stderr := command(ctx, tools.ffmpeg(), opt.Audio, args...)
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	if err := start(cmd); err != nil {
		return nil, fmt.Errorf("video: starting ffmpeg: %w", err)
	}
	return &Encoder{ctx: ctx, cmd: cmd, stderr: stderr, in: in, opt: opt}, nil
}

// Write encodes one frame (of the encoder's size).
func (e *Encoder) Write(img *image.NRGBA) error {
	if img.Rect.Dx() != e.opt.Width || img.Rect.Dy() != e.opt.Height || img.Stride != 4*e.opt.Width {
		return fmt.Errorf("video: frame %v, the encoder takes %dx%d", img.Rect, e.opt.Width, e.opt.Height)
	}
	if _, err := e.in.Write(img.Pix); err != nil {
		_ = e.cmd.Cancel()
		werr := e.cmd.Wait()
		return childErr(e.ctx, "encoding the video", errors.Join(err, werr), e.stderr)
	}
	e.frames++
	return nil
}

// Close ends the input and waits for the file to be written.
func (e *Encoder) Close() error {
	e.in.Close()
	if err := e.cmd.Wait(); err != nil {
		return childErr(e.ctx, "encoding the video", err, e.stderr)
	}
	if e.frames == 0 {
		return errors.New("encoding the video: no frame")
	}
	return nil
}

// Abort stops the encoder without a file being finished.
func (e *Encoder) Abort() {
	e.in.Close()
	_ = e.cmd.Cancel()
	_ = e.cmd.Wait()
}
