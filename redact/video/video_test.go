package video

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/photoguard/photoguard/redact/testenv"
)

// ffmpegClip writes a clip made by the ffmpeg command line with args
// (inputs and options before the output name) to dir/name.
func ffmpegClip(t testing.TB, dir, name string, args ...string) string {
	t.Helper()
	testenv.RequireTool(t, "ffmpeg")
	testenv.RequireTool(t, "ffprobe")
	path := filepath.Join(dir, name)
	args = append(append([]string{"-v", "error", "-y"}, args...), path)
	if out, err := exec.Command("ffmpeg", args...).CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg %v: %v\n%s", args, err, out)
	}
	return path
}

// ipadClip is a 2 s 320x240 30 fps H.264 clip with a tone, a creation
// time and a GPS position, its index (moov) after the frames as an iPad
// writes it.
func ipadClip(t testing.TB, dir string) string {
	return ffmpegClip(t, dir, "ipad.mov", "-f", "lavfi", "-i", "testsrc=s=320x240:r=30:d=2",
		"-f", "lavfi", "-i", "sine=f=440:d=2", "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac",
		"-metadata", "creation_time=2026-11-30T09:41:00Z", "-metadata", "location=+37.3305-121.8968/")
}

func open(t testing.TB, path string) Input {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return Input{File: f}
}

func TestProbeLimits(t *testing.T) {
	clip := ipadClip(t, t.TempDir())
	in := open(t, clip)
	info, err := Probe(context.Background(), Tools{}, in, DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	if info.Codec != "h264" || info.Width != 320 || info.Height != 240 || info.FPS != 30 || info.Streams != 2 || info.Audio != 1 || info.Seconds < 1.9 || info.Seconds > 2.1 {
		t.Fatalf("info %+v", info)
	}
	tests := []struct {
		name string
		edit func(*Limits)
		want string
	}{
		{"length", func(l *Limits) { l.MaxSeconds = 1 }, "longer than video.max_seconds (0:01)"},
		{"side", func(l *Limits) { l.MaxSide = 300 }, "larger than video.max_source_side (300 px)"},
		{"pixels", func(l *Limits) { l.MaxPixels = 50000 }, "megapixels"},
		{"frame rate", func(l *Limits) { l.MaxFPS = 25 }, "30 frames a second"},
		{"streams", func(l *Limits) { l.MaxStreams = 1 }, "2 streams"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lim := DefaultLimits()
			tt.edit(&lim)
			_, err := Probe(context.Background(), Tools{}, in, lim)
			if !IsLimit(err) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err %v, want a limit error with %q", err, tt.want)
			}
		})
	}
}

// boxAt finds the first box of type typ at the top level of data.
func boxAt(t testing.TB, data []byte, typ string) (off, size int) {
	t.Helper()
	for off < len(data) {
		size = int(binary.BigEndian.Uint32(data[off:]))
		if string(data[off+4:off+8]) == typ {
			return off, size
		}
		if size < 8 {
			break
		}
		off += size
	}
	t.Fatalf("no %s box", typ)
	return 0, 0
}

// setDuration writes seconds into the movie's and every track's header
// (mvhd, tkhd, mdhd, version 0), as a hostile file may claim.
func setDuration(t testing.TB, data []byte, seconds uint32) {
	t.Helper()
	for _, typ := range []string{"mvhd", "mdhd"} {
		for i := 0; ; {
			k := strings.Index(string(data[i:]), typ)
			if k < 0 {
				break
			}
			body := i + k + 4
			scale := binary.BigEndian.Uint32(data[body+12:])
			binary.BigEndian.PutUint32(data[body+16:], scale*seconds)
			i = body
		}
	}
}

// Hostile and broken inputs end with the right kind of error, each within
// its deadline, and nothing is decoded from them.
func TestHostileInputs(t *testing.T) {
	dir := t.TempDir()
	clip := ipadClip(t, dir)
	good, err := os.ReadFile(clip)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	noMoov := append([]byte(nil), good...)
	off, _ := boxAt(t, noMoov, "moov")
	// ffmpeg finds an index in a box renamed "free" (its recovery of
	// damaged files): "junk" it does not know.
	copy(noMoov[off+4:], "junk")
	tenHours := append([]byte(nil), good...)
	setDuration(t, tenHours, 10*3600)
	faststart := ffmpegClip(t, dir, "faststart.mp4", "-i", clip, "-c", "copy", "-movflags", "+faststart")
	cases := []struct {
		name string
		path string
		kind string // "ok", "input", "limit"
	}{
		{"the index at the end (as an iPad writes it)", clip, "ok"},
		{"the index first", faststart, "ok"},
		{"HEVC, as iPads record by default", ffmpegClip(t, dir, "hevc.mov", "-f", "lavfi", "-i", "testsrc=s=320x240:r=30:d=1",
			"-c:v", "libx265", "-preset", "ultrafast", "-tag:v", "hvc1", "-x265-params", "log-level=error"), "ok"},
		{"truncated: half the file, no index", write("half.mov", good[:len(good)/2]), "input"},
		{"truncated: the index cut in half", write("cut.mov", good[:len(good)-1500]), "input"},
		// The last bytes of the index are only its metadata: every frame
		// is there and is decoded.
		{"truncated: the last 40 bytes missing", write("cut40.mov", good[:len(good)-40]), "ok"},
		{"no index (moov renamed)", write("nomoov.mov", noMoov), "input"},
		{"a ten-hour duration in the header", write("tenhours.mov", tenHours), "limit"},
		{"empty", write("empty.mov", nil), "input"},
		{"not a video", write("photo.mov", []byte("\xff\xd8\xff\xe0 not really a video at all")), "input"},
		{"8192x4608", ffmpegClip(t, dir, "huge.mp4", "-f", "lavfi", "-i", "color=s=8192x4608:r=1:d=1", "-c:v", "libx264", "-preset", "ultrafast"), "limit"},
		{"300 streams", ffmpegClip(t, dir, "many.mov", append(append([]string{"-f", "lavfi", "-i", "color=s=64x64:r=10:d=1", "-f", "lavfi", "-i", "sine=d=0.1"},
			strings.Fields(strings.Repeat("-map 1:a ", 300))...), "-map", "0:v", "-c:a", "pcm_s16le")...), "limit"},
		{"audio only", ffmpegClip(t, dir, "audio.m4a", "-f", "lavfi", "-i", "sine=d=1", "-c:a", "aac"), "input"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			start := time.Now()
			err := probeAndDecode(ctx, open(t, tc.path))
			var got string
			switch {
			case err == nil:
				got = "ok"
			case IsInputError(err):
				got = "input"
			case IsLimit(err):
				got = "limit"
			default:
				got = "other: " + err.Error()
			}
			if got != tc.kind {
				t.Fatalf("%s (%v), want %s", got, err, tc.kind)
			}
			if took := time.Since(start); took > 15*time.Second {
				t.Errorf("took %s", took)
			}
		})
	}
}

// probeAndDecode is the pipeline's reading of a video: the header, then
// every frame.
func probeAndDecode(ctx context.Context, in Input) error {
	info, err := Probe(ctx, Tools{}, in, DefaultLimits())
	if err != nil {
		return err
	}
	r, err := Decode(ctx, Tools{}, in, DecodeOptions{Width: info.Width &^ 1, Height: info.Height &^ 1, FPS: info.FPS, MaxFrames: info.Frames(info.FPS) + 31})
	if err != nil {
		return err
	}
	defer r.Close()
	for {
		if _, _, err := r.Next(); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
	}
}

// A clip decoded and encoded again is one clean H.264 stream (and one AAC
// stream when the sound is kept) that Check accepts; the input, full of
// metadata, is refused by it, and exiftool finds no date or place in the
// output.
func TestEncodeIsClean(t *testing.T) {
	dir := t.TempDir()
	clip := ipadClip(t, dir)
	in := open(t, clip)
	inData, _ := os.ReadFile(clip)
	if err := CheckBoxes(inData); err == nil {
		t.Error("CheckBoxes accepts the input with its metadata")
	}
	for _, keep := range []bool{false, true} {
		out := filepath.Join(dir, "out.mp4")
		opt := EncodeOptions{Width: 160, Height: 120, FPS: 30}
		if keep {
			opt.Audio = &in
		}
		r, err := Decode(context.Background(), Tools{}, in, DecodeOptions{Width: 160, Height: 120, FPS: 30, MaxFrames: 100})
		if err != nil {
			t.Fatal(err)
		}
		enc, err := Encode(context.Background(), Tools{}, out, opt)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for {
			_, img, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			if err := enc.Write(img); err != nil {
				t.Fatal(err)
			}
			n++
		}
		if err := enc.Close(); err != nil {
			t.Fatal(err)
		}
		if n != 60 {
			t.Errorf("%d frames, want 60", n)
		}
		data, _ := os.ReadFile(out)
		if err := Check(context.Background(), Tools{}, out, data, Want{Width: 160, Height: 120, Audio: keep, Frames: n}); err != nil {
			t.Errorf("audio %v: %v", keep, err)
		}
		if err := Check(context.Background(), Tools{}, out, data, Want{Width: 160, Height: 120, Audio: !keep, Frames: n}); keep && err == nil {
			t.Error("Check accepts a sound stream it was not told of")
		}
		for k, v := range testenv.ExifTool(t, out) {
			if strings.Contains(k, "GPS") || strings.Contains(k, "Location") ||
				(strings.Contains(k, "Date") && !strings.HasPrefix(k, "File:") && v != "0000:00:00 00:00:00") {
				t.Errorf("exiftool finds %s = %v", k, v)
			}
		}
	}
}

func box(typ string, body ...[]byte) []byte {
	n := 8
	for _, b := range body {
		n += len(b)
	}
	out := binary.BigEndian.AppendUint32(nil, uint32(n))
	out = append(out, typ...)
	for _, b := range body {
		out = append(out, b...)
	}
	return out
}

func TestCheckBoxes(t *testing.T) {
	hdr := func(date uint32) []byte { // a version 0 header with its dates
		b := make([]byte, 20)
		binary.BigEndian.PutUint32(b[4:], date)
		return b
	}
	ftyp := box("ftyp", []byte("isom\x00\x00\x02\x00isom"))
	meta := box("meta", make([]byte, 4), box("hdlr", make([]byte, 25)), box("ilst"))
	trak := box("trak", box("tkhd", hdr(0)), box("mdia", box("mdhd", hdr(0))))
	tests := []struct {
		name string
		data []byte
		ok   bool
	}{
		{"clean", concat(ftyp, box("moov", box("mvhd", hdr(0)), trak, box("udta", meta)), box("mdat", []byte{1, 2})), true},
		{"a date in mvhd", concat(ftyp, box("moov", box("mvhd", hdr(1)), trak)), false},
		{"a date in tkhd", concat(ftyp, box("moov", box("mvhd", hdr(0)), box("trak", box("tkhd", hdr(7))))), false},
		{"an item in ilst", concat(ftyp, box("moov", box("udta", box("meta", make([]byte, 4), box("ilst", box("\xa9xyz", []byte("+37.3-121.8/"))))))), false},
		{"GPS in udta", concat(ftyp, box("moov", box("udta", box("\xa9xyz", []byte("+37.3-121.8/"))))), false},
		{"a uuid box", concat(ftyp, box("uuid", make([]byte, 16))), false},
		{"meta at the top", concat(ftyp, box("meta", make([]byte, 4))), false},
		{"bytes after the last box", concat(ftyp, []byte{0, 0, 0}), false},
		{"a size past the end", concat(ftyp, []byte{0, 0, 1, 0, 'f', 'r', 'e', 'e'}), false},
	}
	for _, tt := range tests {
		if err := CheckBoxes(tt.data); (err == nil) != tt.ok {
			t.Errorf("%s: %v, want ok %v", tt.name, err, tt.ok)
		}
	}
}

func concat(parts ...[]byte) []byte {
	var out []byte
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func FuzzCheckBoxes(f *testing.F) {
	f.Add(concat(box("ftyp", []byte("isom")), box("moov", box("mvhd", make([]byte, 20)))))
	f.Add([]byte{0, 0, 0, 1, 'm', 'o', 'o', 'v', 0, 0, 0, 0, 0, 0, 0, 16})
	f.Fuzz(func(t *testing.T, data []byte) {
		_ = CheckBoxes(data)
	})
}

func FuzzParseProbe(f *testing.F) {
	f.Add([]byte(`{"streams":[{"codec_type":"video","codec_name":"h264","width":320,"height":240,"avg_frame_rate":"30/1","duration":"2.0","side_data_list":[{"rotation":-90}]}],"format":{"format_name":"mov,mp4","duration":"2.0","nb_streams":1}}`))
	f.Add([]byte(`{"streams":[],"format":{"format_name":"mov"}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		info, err := parseProbe(data, DefaultLimits())
		if err == nil && (info.Width <= 0 || info.Height <= 0 || !(info.FPS > 0) || !(info.Seconds > 0) || info.Seconds > 180) {
			t.Fatalf("accepted %+v", info)
		}
	})
}

// A clip filmed with the iPad upright (a display matrix of 90 degrees in
// the track header) is read as the viewer sees it: portrait frames.
func TestRotatedClip(t *testing.T) {
	dir := t.TempDir()
	clip := ffmpegClip(t, dir, "landscape.mov", "-f", "lavfi", "-i", "testsrc=s=320x240:r=10:d=1", "-c:v", "libx264", "-preset", "ultrafast")
	data, err := os.ReadFile(clip)
	if err != nil {
		t.Fatal(err)
	}
	k := strings.Index(string(data), "tkhd")
	if k < 0 {
		t.Fatal("no tkhd")
	}
	m := data[k+4+40:] // the matrix, in a version 0 track header
	for i, v := range []uint32{0, 0x10000, 0, 0xFFFF0000, 0, 0, 0, 0, 0x40000000} {
		binary.BigEndian.PutUint32(m[4*i:], v)
	}
	rotated := filepath.Join(dir, "portrait.mov")
	if err := os.WriteFile(rotated, data, 0o600); err != nil {
		t.Fatal(err)
	}
	in := open(t, rotated)
	info, err := Probe(context.Background(), Tools{}, in, DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	if info.Width != 240 || info.Height != 320 || (info.Rotation != 90 && info.Rotation != 270) {
		t.Fatalf("info %+v, want 240x320 rotated", info)
	}
	r, err := Decode(context.Background(), Tools{}, in, DecodeOptions{Width: 240, Height: 320, FPS: 10, MaxFrames: 20})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	n := 0
	for {
		_, _, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != 10 {
		t.Errorf("%d frames, want 10", n)
	}
}

// Every child runs with its address space bounded.
func TestChildMemoryBounded(t *testing.T) {
	cmd, _ := command(context.Background(), "sleep", nil, "5")
	if err := start(cmd); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Cancel(); _ = cmd.Wait() }()
	limits, err := os.ReadFile(fmt.Sprintf("/proc/%d/limits", cmd.Process.Pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(limits), "\n") {
		if strings.HasPrefix(line, "Max address space") {
			if f := strings.Fields(line); len(f) < 5 || f[3] != fmt.Sprint(MaxChildMemory) {
				t.Errorf("%q, want %d", line, MaxChildMemory)
			}
			return
		}
	}
	t.Error("no address space limit in /proc/PID/limits")
}

// Every with From hands out every Every-th frame and every frame from
// From on, each with its own index: the same pixels as decoding them all.
func TestDecodeEveryFrom(t *testing.T) {
	dir := t.TempDir()
	clip := ffmpegClip(t, dir, "count.mov", "-f", "lavfi", "-i", "testsrc2=s=64x48:r=10:d=2", "-c:v", "libx264", "-preset", "ultrafast", "-qp", "0")
	in := open(t, clip)
	read := func(opt DecodeOptions) (idx []int, pix [][]byte) {
		opt.Width, opt.Height, opt.FPS, opt.MaxFrames = 64, 48, 10, 30
		r, err := Decode(context.Background(), Tools{}, in, opt)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		for {
			i, f, err := r.Next()
			if err == io.EOF {
				return idx, pix
			}
			if err != nil {
				t.Fatal(err)
			}
			idx = append(idx, i)
			pix = append(pix, append([]byte(nil), f.Pix...))
		}
	}
	_, all := read(DecodeOptions{})
	if len(all) != 20 {
		t.Fatalf("%d frames, want 20", len(all))
	}
	for _, tt := range []struct {
		every, from int
		want        string
	}{
		{3, 15, "[0 3 6 9 12 15 16 17 18 19]"},
		{3, 14, "[0 3 6 9 12 14 15 16 17 18 19]"},
		{5, 0, "[0 5 10 15]"},
		{4, 30, "[0 4 8 12 16]"},
	} {
		idx, pix := read(DecodeOptions{Every: tt.every, From: tt.from})
		if fmt.Sprint(idx) != tt.want {
			t.Errorf("every %d from %d: frames %v, want %s", tt.every, tt.from, idx, tt.want)
			continue
		}
		for k, i := range idx {
			if string(pix[k]) != string(all[i]) {
				t.Errorf("every %d from %d: frame %d is not the %dth frame", tt.every, tt.from, i, i)
			}
		}
	}
}
