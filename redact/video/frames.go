package video

import (
	"context"
	"errors"
	"fmt"
	"image"
	"io"
	"os/exec"
	"strconv"
	"strings"
)

// DecodeOptions say which frames Decode hands out, and how large.
type DecodeOptions struct {
	// Width and Height are the size of every frame handed out (the video
	// as shown, scaled; both even).
	Width, Height int
	// FPS is the constant rate the video is read at: frame i is the
	// picture shown at time i/FPS.
	FPS float64
	// Every hands out only frames whose index is a multiple of it (1 or
	// 0: every frame); the index of a frame is always its index at FPS.
	Every int
	// From, with Every, hands out every frame from index From on too (the
	// end of a video, whose last frame is wanted whatever its index).
	From int
	// Select, when set, hands out only the frames with these indices
	// (ascending), instead of Every.
	Select []int
	// MaxFrames bounds the frames read at FPS: a video that yields more
	// than its header promised is refused.
	MaxFrames int
	// Threads is how many threads ffmpeg decodes with (0: 1).
	Threads int
}

// Reader hands out a video's frames, decoded by an ffmpeg child.
type Reader struct {
	ctx    context.Context
	cmd    *exec.Cmd
	stderr *capped
	out    io.ReadCloser
	opt    DecodeOptions
	next   int // index of the next frame handed out
	count  int // frames handed out
	buf    *image.NRGBA
	done   bool
}

// Decode starts ffmpeg on the input. The caller must Close the reader.
func Decode(ctx context.Context, tools Tools, in Input, opt DecodeOptions) (*Reader, error) {
	if opt.Width <= 0 || opt.Height <= 0 || opt.Width%2 != 0 || opt.Height%2 != 0 || !(opt.FPS > 0) {
		return nil, fmt.Errorf("video: bad decode size %dx%d at %v fps", opt.Width, opt.Height, opt.FPS)
	}
	if opt.Every < 1 {
		opt.Every = 1
	}
	if _, err := in.File.Seek(0, 0); err != nil {
		return nil, err
	}
	vf := "fps=" + strconv.FormatFloat(opt.FPS, 'f', -1, 64)
	switch {
	case len(opt.Select) > 0:
		terms := make([]string, len(opt.Select))
		for k, i := range opt.Select {
			terms[k] = fmt.Sprintf("eq(n\\,%d)", i)
		}
		vf += ",select='" + strings.Join(terms, "+") + "'"
	case opt.Every > 1 && opt.From > 0:
		vf += fmt.Sprintf(",select='not(mod(n\\,%d))+gte(n\\,%d)'", opt.Every, opt.From)
	case opt.Every > 1:
		vf += fmt.Sprintf(",select='not(mod(n\\,%d))'", opt.Every)
	}
	vf += fmt.Sprintf(",scale=%d:%d:flags=area,format=rgba", opt.Width, opt.Height)
	threads := max(opt.Threads, 1)
	cmd, stderr := command(ctx, tools.ffmpeg(), &in, "-nostdin", "-hide_banner", "-loglevel", "error",
		"-threads", strconv.Itoa(threads), "-filter_threads", "1",
		"-i", inputURL, "-map", "0:v:0", "-an", "-sn", "-dn",
		"-vf", vf, "-fps_mode", "passthrough", "-f", "rawvideo", "-pix_fmt", "rgba", "pipe:1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := start(cmd); err != nil {
		return nil, fmt.Errorf("video: starting ffmpeg: %w", err)
	}
	return &Reader{ctx: ctx, cmd: cmd, stderr: stderr, out: out, opt: opt,
		buf: image.NewNRGBA(image.Rect(0, 0, opt.Width, opt.Height))}, nil
}

// Next returns the next frame handed out and its index at FPS, or io.EOF
// after the last. The image is reused by the next call.
func (r *Reader) Next() (int, *image.NRGBA, error) {
	if r.done {
		return 0, nil, io.EOF
	}
	_, err := io.ReadFull(r.out, r.buf.Pix)
	switch {
	case err == io.EOF:
		r.done = true
		if werr := r.wait(); werr != nil {
			return 0, nil, werr
		}
		return 0, nil, io.EOF
	case err != nil:
		r.done = true
		if werr := r.wait(); werr != nil {
			return 0, nil, werr
		}
		return 0, nil, &InputError{Reason: "the video ended in the middle of a frame"}
	}
	i := r.next
	if sel := r.opt.Select; len(sel) > 0 {
		if r.count >= len(sel) {
			r.Close()
			return 0, nil, fmt.Errorf("video: more frames than selected")
		}
		i = sel[r.count]
	}
	r.count++
	r.next = r.after(i)
	if r.opt.MaxFrames > 0 && i >= r.opt.MaxFrames {
		r.Close()
		return 0, nil, &InputError{Reason: fmt.Sprintf("the video has more frames than its header says (more than %d)", r.opt.MaxFrames)}
	}
	return i, r.buf, nil
}

// after is the index of the frame handed out after frame i.
func (r *Reader) after(i int) int {
	e, from := r.opt.Every, r.opt.From
	if from <= 0 || e <= 1 {
		return i + e
	}
	if i+1 >= from {
		return i + 1
	}
	return min(i/e*e+e, from)
}

// wait reaps the child and explains a failure.
func (r *Reader) wait() error {
	err := r.cmd.Wait()
	if err == nil {
		return nil
	}
	if r.ctx.Err() != nil {
		return childErr(r.ctx, "decoding the video", err, r.stderr)
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return &InputError{Reason: "the video does not decode (damaged or truncated)", Err: errors.New(r.stderr.String())}
	}
	return childErr(r.ctx, "decoding the video", err, r.stderr)
}

// Close stops the child (if it still runs) and reaps it.
func (r *Reader) Close() error {
	if r.done {
		return nil
	}
	r.done = true
	if r.cmd.Process != nil {
		_ = r.cmd.Cancel()
	}
	_ = r.cmd.Wait()
	return nil
}
