package video

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Tools are the programs a video is handed to. The zero value finds ffmpeg
// and ffprobe on PATH.
type Tools struct {
	FFmpeg, FFprobe string
}

func (t Tools) ffmpeg() string  { return or(t.FFmpeg, "ffmpeg") }
func (t Tools) ffprobe() string { return or(t.FFprobe, "ffprobe") }

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// Input is the video to read: an open regular file, handed to the child as
// its descriptor 3 (so that a file replaced by a link under the same name is
// never followed, and what was hashed is what is read).
type Input struct {
	File *os.File
}

// inputURL is how the child names its descriptor 3.
const inputURL = "file:/dev/fd/3"

// maxStderr bounds what is kept of a child's error output.
const maxStderr = 16 << 10

// capped keeps the first n bytes written to it and counts the rest.
type capped struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	n       int
	dropped int
}

func (c *capped) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	room := c.n - c.buf.Len()
	if room > len(p) {
		room = len(p)
	}
	if room > 0 {
		c.buf.Write(p[:room])
	}
	c.dropped += len(p) - max(room, 0)
	return len(p), nil
}

// String is the kept output on one line, without ffmpeg's prefixes.
func (c *capped) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := strings.TrimSpace(c.buf.String())
	lines := strings.Split(s, "\n")
	if len(lines) > 3 {
		lines = lines[len(lines)-3:]
	}
	return strings.Join(lines, "; ")
}

// command prepares a child with the input as descriptor 3, a deadline (the
// child is killed when ctx ends) and its stderr captured, bounded.
func command(ctx context.Context, exe string, in *Input, args ...string) (*exec.Cmd, *capped) {
	cmd := exec.CommandContext(ctx, exe, args...)
	if in != nil && in.File != nil {
		cmd.ExtraFiles = []*os.File{in.File}
	}
	cmd.Env = []string{"PATH=/usr/bin:/bin", "LC_ALL=C"}
	cmd.Stdin = nil
	stderr := &capped{n: maxStderr}
	cmd.Stderr = stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 2 * time.Second
	return cmd, stderr
}

// MaxChildMemory bounds the address space of every ffmpeg and ffprobe
// child: a hostile file that makes the decoder allocate without end fails
// that child, not the machine. (1 GiB is enough for 1080p decoded and
// 720p encoded; 4K HEVC needs more.)
const MaxChildMemory = 2 << 30

// start starts cmd and bounds its memory. The limit is set right after the
// child starts (Go cannot set it between fork and exec), before it has read
// more than its arguments.
func start(cmd *exec.Cmd) error {
	if err := cmd.Start(); err != nil {
		return err
	}
	lim := &unix.Rlimit{Cur: MaxChildMemory, Max: MaxChildMemory}
	if err := unix.Prlimit(cmd.Process.Pid, unix.RLIMIT_AS, lim, nil); err != nil {
		_ = cmd.Cancel()
		_ = cmd.Wait()
		return fmt.Errorf("video: limiting the memory of %s: %w", cmd.Path, err)
	}
	return nil
}

// ErrDeadline is the cause of a child killed at its deadline.
var ErrDeadline = errors.New("deadline passed")

// childErr explains how a child ended.
func childErr(ctx context.Context, what string, err error, stderr *capped) error {
	if ctx.Err() != nil {
		if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, context.Canceled) && !errors.Is(cause, context.DeadlineExceeded) {
			return cause
		}
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return fmt.Errorf("%s: %w", what, ErrDeadline)
		}
		return ctx.Err()
	}
	if msg := stderr.String(); msg != "" {
		return fmt.Errorf("%s: %v: %s", what, err, msg)
	}
	return fmt.Errorf("%s: %w", what, err)
}
