package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/photoguard/photoguard/pipeline"
	"github.com/photoguard/photoguard/redact/testenv"
)

// TestVideoBenchmark measures issue 21's target, by hand only
// (PHOTOGUARD_BENCH_VIDEO=1; PHOTOGUARD_TEST_VIDEO_HD_SECONDS shortens the
// clip; PHOTOGUARD_BENCH_VIDEO_CLIP takes one made beforehand;
// PHOTOGUARD_BENCH_VIDEO_ANALYSIS_FPS sets video.analysis_fps): a 1080p30 clip over a camera photo with 4-5 faces, nobody
// enrolled, one worker, default video settings; CPU time of photoguard and
// of its ffmpeg children, and the peak RSS of each. Results in
// BENCHMARKS.md.
func TestVideoBenchmark(t *testing.T) {
	if os.Getenv("PHOTOGUARD_BENCH_VIDEO") != "1" {
		t.Skip("a benchmark: PHOTOGUARD_BENCH_VIDEO=1")
	}
	testdata := testenv.SharedTestdata(t)
	extra := "workers: 1\nvideo:\n  timeout: 3h\n"
	if fps := os.Getenv("PHOTOGUARD_BENCH_VIDEO_ANALYSIS_FPS"); fps != "" {
		// The trade of video.analysis_fps, measured.
		extra += "  analysis_fps: " + fps + "\n"
	}
	cfg, dir := nobodySchool(t, extra)
	// The clip is made beforehand when PHOTOGUARD_BENCH_VIDEO_CLIP names
	// it, so that the peak RSS of ffmpeg's children is photoguard's
	// ffmpeg's, not the clip maker's.
	clip := os.Getenv("PHOTOGUARD_BENCH_VIDEO_CLIP")
	if clip == "" {
		clips := filepath.Join(dir, "clips")
		t.Setenv("PHOTOGUARD_TEST_VIDEO_HD", "1")
		makeTestVideos(t, clips, testdata)
		os.Unsetenv("PHOTOGUARD_TEST_VIDEO_HD")
		clip = filepath.Join(clips, "bench-1080p30.MOV")
	}
	in := filepath.Join(dir, "inbox-video")
	if err := copyFile(clip, filepath.Join(in, "bench-1080p30.MOV")); err != nil {
		t.Fatal(err)
	}
	var self0, kids0 syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &self0)
	syscall.Getrusage(syscall.RUSAGE_CHILDREN, &kids0)
	start := time.Now()
	items := videoBatch(t, cfg, in)
	wall := time.Since(start)
	var self1, kids1 syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &self1)
	syscall.Getrusage(syscall.RUSAGE_CHILDREN, &kids1)
	cpu := func(a, b syscall.Rusage) time.Duration {
		return time.Duration(b.Utime.Nano()+b.Stime.Nano()-a.Utime.Nano()-a.Stime.Nano()) * time.Nanosecond
	}
	it := items["bench-1080p30.MOV"]
	if it.Outcome != pipeline.Published {
		t.Fatalf("%+v", it)
	}
	if f := it.Faces; f != nil {
		t.Logf("tracks %d, analysis %d ms, check %d ms", f.Found, f.DetectMs, f.CheckMs)
	}
	out, err := exec.Command("ffprobe", "-v", "error", "-count_packets", "-show_entries", "stream=nb_read_packets", "-of", "csv=p=0",
		filepath.Join(cfg.Targets["website"].Path, it.Output)).Output()
	if err != nil {
		t.Fatal(err)
	}
	var frames int
	fmt.Sscan(string(out), &frames)
	selfCPU, kidsCPU := cpu(self0, self1), cpu(kids0, kids1)
	t.Logf("%d frames: wall %s; CPU photoguard %s + ffmpeg %s = %s (%.1f frames/s of CPU); peak RSS photoguard %d MiB, largest ffmpeg %d MiB",
		frames, wall.Round(time.Millisecond), selfCPU.Round(time.Millisecond), kidsCPU.Round(time.Millisecond),
		(selfCPU + kidsCPU).Round(time.Millisecond), float64(frames)/(selfCPU+kidsCPU).Seconds(), self1.Maxrss>>10, kids1.Maxrss>>10)
}
