package pipeline

import (
	"bytes"
	"context"
	"image"
	"image/draw"
	"image/jpeg"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/photoguard/photoguard/detect"
	"github.com/photoguard/photoguard/redact/testenv"
)

// focusFinder is the fake detector as a videoFinder whose second look can
// be limited: its small face is found by Find wherever it is in the
// picture, by FindAround only inside a region (as YuNet's second look, the
// only one that finds the smallest faces).
type focusFinder struct {
	*fakeAnalyzer
	small           image.Rectangle
	wholes, arounds int
	// followed counts the frames FindAround found the small face on.
	followed int
}

func (f *focusFinder) find(img *image.NRGBA, side int, regions []image.Rectangle, everywhere bool) (*detect.Analysis, error) {
	a, err := f.Analyze(context.Background(), img, side)
	if err != nil {
		return nil, err
	}
	for k := range a.Faces {
		a.Faces[k] = detect.Face{Rect: a.Faces[k].Rect, NoDescriptor: true, Detector: "fake"}
	}
	seen := everywhere
	for _, r := range regions {
		seen = seen || f.small.In(r)
	}
	if seen && detail(img, f.small) > 25 {
		if !everywhere {
			f.followed++
		}
		a.Faces = append(a.Faces, detect.Face{Rect: f.small, NoDescriptor: true, Detector: "fake"})
	}
	return a, nil
}

func (f *focusFinder) Find(ctx context.Context, img *image.NRGBA, side int) (*detect.Analysis, error) {
	f.wholes++
	return f.find(img, side, nil, true)
}

func (f *focusFinder) FindAround(ctx context.Context, img *image.NRGBA, side int, regions []image.Rectangle) (*detect.Analysis, error) {
	f.arounds++
	return f.find(img, side, regions, false)
}

func (f *focusFinder) DescribeMin() float64 { return 30 }

func (f *focusFinder) FocusWidth(size image.Point, side int) (float64, bool) { return 40, true }

// smallBox is a face only the finder's second look finds.
var smallBox = image.Rect(250, 40, 272, 62)

// A small face that comes into the picture just after a frame the finder
// looked at everywhere is first found on the next such frame, fullEvery
// analysed frames later; it is redacted from the frame it came in (as it
// was when every analysed frame was looked at everywhere: found on the next
// analysed frame, held one step back), and followed on the frames between.
func TestVideoSmallFaceHeldBackToWhereItCameIn(t *testing.T) {
	testenv.RequireTool(t, "ffmpeg")
	dir := t.TempDir()
	var stills [2]string
	for k := range stills {
		img, err := jpeg.Decode(bytes.NewReader(classPhoto(t)))
		if err != nil {
			t.Fatal(err)
		}
		rgba := image.NewRGBA(img.Bounds())
		draw.Draw(rgba, rgba.Rect, img, image.Point{}, draw.Src)
		if k == 1 {
			noiseSquare(rgba, smallBox, 4)
		}
		var buf bytes.Buffer
		if err := png.Encode(&buf, rgba); err != nil {
			t.Fatal(err)
		}
		stills[k] = filepath.Join(dir, []string{"before.png", "after.png"}[k])
		if err := os.WriteFile(stills[k], buf.Bytes(), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	// 10 fps, analysed 5 a second (frames 0, 2, 4, …): the small face is
	// there from frame 1, after frame 0 was looked at everywhere; frames 2
	// and 4 are not, frame 6 is.
	clip := filepath.Join(dir, "clip.mov")
	if b, err := exec.Command("ffmpeg", "-v", "error", "-loop", "1", "-framerate", "10", "-i", stills[0],
		"-loop", "1", "-framerate", "10", "-i", stills[1], "-filter_complex", "[0][1]overlay=enable='gte(n,1)'",
		"-t", "2", "-c:v", "libx264", "-qp", "0", "-pix_fmt", "yuv444p", clip).CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg: %v\n%s", err, b)
	}
	data, err := os.ReadFile(clip)
	if err != nil {
		t.Fatal(err)
	}
	f := &focusFinder{fakeAnalyzer: classFaces(), small: smallBox}
	e := videoEnv(t, nil, func(o *Options) { o.Faces.Analyzer = f })
	e.write("groep-5/small.mov", data)
	it := one(t, e.batch(), "groep-5/small.mov")
	if it.Outcome != Published {
		t.Fatalf("%s: %s", it.Outcome, it.Reason)
	}
	// Frames 0, 6, 12, 18 and the last, 19, everywhere; 2, 4, 8, 10, 14
	// and 16 around the small faces. Found on frame 6, it is followed on
	// 8, 10, 14 and 16.
	if fullEvery != 3 {
		t.Fatalf("the frames below are those of fullEvery 3, not %d", fullEvery)
	}
	if f.wholes != 5 || f.arounds != 6 || f.followed != 4 {
		t.Errorf("looked everywhere on %d frames, around on %d, the small face followed on %d; want 5, 6 and 4", f.wholes, f.arounds, f.followed)
	}
	fs := frames(t, filepath.Join(e.out, it.Output), 320, 240)
	if len(fs) != 20 {
		t.Fatalf("%d frames, want 20", len(fs))
	}
	for n, fr := range fs[1:] {
		if d := detail(fr, smallBox); d > 10 {
			t.Errorf("frame %d: the small face is not redacted: detail %.1f", n+1, d)
		}
	}
}
