package main

import (
	"encoding/json"
	"fmt"
	"image"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/photoguard/photoguard/pipeline"
	"github.com/photoguard/photoguard/redact/testenv"
)

// TestMeasureVideoCrowd measures the coverage floor on small faces in
// video: two slow pans over WIDER FACE crowd photos (make-test-videos.sh
// with PHOTOGUARD_TEST_VIDEO_CROWD=1; most faces 20-40 px in the frame),
// published with nobody enrolled, every output frame judged from its
// pixels (judgeFace, as TestVideoEndToEnd) for every annotated valid face
// of at least faces.coverage_px wholly in the frame. Twice: with the
// finder's second look over the whole frame on every third analysed frame
// (the default) and on every one (VideoOptions.FullEvery 1, the schedule
// before), side by side, with the source photo through the photo path as
// the baseline. Results in BENCHMARKS.md ("Small faces in video").
//
//	PHOTOGUARD_MEASURE=1 go test -trimpath ./cmd/photoguard -run TestMeasureVideoCrowd -v -timeout 30m
//
// PHOTOGUARD_MEASURE_OUT=DIR keeps the clips and the published videos
// there (NAME-full0.mp4: the default schedule, NAME-full1.mp4: the full).
//
// It fails when the default schedule shows a face in a frame (judgeFace
// 'S') in which the full one redacts it; frames only partly redacted ('?')
// there are logged.
func TestMeasureVideoCrowd(t *testing.T) {
	if os.Getenv("PHOTOGUARD_MEASURE") != "1" {
		t.Skip("measurement: set PHOTOGUARD_MEASURE=1")
	}
	testdata := testenv.SharedTestdata(t)
	crowds := filepath.Join(testdata, "crowds")
	var boxes map[string]struct {
		Faces [][]int `json:"faces"`
	}
	data, err := os.ReadFile(filepath.Join(crowds, "boxes.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &boxes); err != nil {
		t.Fatal(err)
	}
	clips := t.TempDir()
	t.Setenv("PHOTOGUARD_TEST_VIDEO_CROWD", "1")
	makeTestVideos(t, clips, testdata)
	names, _ := filepath.Glob(filepath.Join(clips, "*.MOV"))
	testenv.Require(t, len(names) == 2, "2 crowd clips, made %d", len(names))
	motions := map[string]clipMotion{}
	for _, c := range names {
		data, err := os.ReadFile(strings.TrimSuffix(c, ".MOV") + ".json")
		if err != nil {
			t.Fatal(err)
		}
		var m clipMotion
		if err := json.Unmarshal(data, &m); err != nil {
			t.Fatal(err)
		}
		motions[filepath.Base(c)] = m
	}
	clipNames := make([]string, 0, len(motions))
	for name := range motions {
		clipNames = append(clipNames, name)
	}
	sort.Strings(clipNames)

	// judged[schedule][clip][face] is one byte per frame: R, S, ? (judgeFace)
	// or . (not judged: not wholly in the frame, or under the floor).
	judged := map[int]map[string][][]byte{}
	for _, every := range []int{0, 1} {
		cfg, dir := nobodySchool(t, "")
		in := filepath.Join(dir, "inbox-video")
		for _, name := range clipNames {
			if err := copyFile(filepath.Join(clips, name), filepath.Join(in, name)); err != nil {
				t.Fatal(err)
			}
			if every == 0 {
				photo := filepath.Join(testdata, motions[name].Photo)
				if err := copyFile(photo, filepath.Join(in, filepath.Base(photo))); err != nil {
					t.Fatal(err)
				}
			}
		}
		start := time.Now()
		items := videoBatchWith(t, cfg, in, func(v *pipeline.VideoOptions) { v.FullEvery = every })
		t.Logf("FullEvery %d (0: the default, 3): batch %s", every, time.Since(start).Round(time.Millisecond))
		out := cfg.Targets["website"].Path
		judged[every] = map[string][][]byte{}
		for _, name := range clipNames {
			m := motions[name]
			faces := validFaces(boxes[filepath.Base(m.Photo)].Faces)
			it := items[name]
			if it.Outcome != pipeline.Published {
				t.Fatalf("%s: %s (%s), want published", name, it.Outcome, it.Reason)
			}
			if f := it.Faces; f != nil {
				t.Logf("FullEvery %d: %s: %d tracks; analysis %d ms", every, name, f.Found, f.DetectMs)
			}
			if keep := os.Getenv("PHOTOGUARD_MEASURE_OUT"); keep != "" {
				// To look at: the clip and what was published, per schedule.
				_ = copyFile(filepath.Join(clips, name), filepath.Join(keep, name))
				_ = copyFile(filepath.Join(out, it.Output), filepath.Join(keep, fmt.Sprintf("%s-full%d.mp4", strings.TrimSuffix(name, ".MOV"), every)))
			}
			inFrames := rawFrames(t, filepath.Join(clips, name), m.Width, m.Height)
			outFrames := rawFrames(t, filepath.Join(out, it.Output), m.Width, m.Height)
			if len(inFrames) != m.Frames || len(outFrames) != m.Frames {
				t.Fatalf("%s: %d frames in, %d out, the clip has %d", name, len(inFrames), len(outFrames), m.Frames)
			}
			frame := image.Rect(0, 0, m.Width, m.Height)
			seqs := make([][]byte, len(faces))
			var n, r, s, q int
			for k, f := range faces {
				seqs[k] = make([]byte, m.Frames)
				for i := range m.Frames {
					b := m.box(i, f)
					if !b.In(frame) || b.Dx() < cfg.Faces.CoveragePx {
						seqs[k][i] = '.'
						continue
					}
					v := judgeFace(inFrames[i], outFrames[i], b)
					seqs[k][i] = v
					n++
					switch v {
					case 'R':
						r++
					case 'S':
						s++
					default:
						q++
					}
				}
			}
			judged[every][name] = seqs
			t.Logf("FullEvery %d: %s: %d face-frames judged (faces >= %d px wholly in the frame), %d redacted, %d shown, %d neither (%.2f %% redacted)",
				every, name, n, cfg.Faces.CoveragePx, r, s, q, 100*float64(r)/float64(max(n, 1)))
			if every != 0 {
				continue
			}
			// The photo path on the source photo, judged the same way.
			photo := filepath.Base(m.Photo)
			pit := items[photo]
			if pit.Outcome != pipeline.Published {
				t.Fatalf("%s: %s (%s), want published", photo, pit.Outcome, pit.Reason)
			}
			src, pub := decodeFile(t, filepath.Join(testdata, m.Photo)), decodeFile(t, filepath.Join(out, pit.Output))
			if src.Rect != pub.Rect {
				t.Fatalf("%s: published at %v, the photo is %v", photo, pub.Rect, src.Rect)
			}
			var pn, pr int
			var missed []string
			for k, f := range faces {
				b := image.Rect(f[0], f[1], f[2], f[3])
				if b.Dx() < cfg.Faces.CoveragePx {
					continue
				}
				pn++
				if judgeFace(src, pub, b) == 'R' {
					pr++
				} else {
					missed = append(missed, fmt.Sprintf("face %d (%d px)", k, b.Dx()))
				}
			}
			t.Logf("photo path: %s: %d of %d faces >= %d px redacted; not: %v", photo, pr, pn, cfg.Faces.CoveragePx, missed)
		}
	}
	// Side by side: face-frames the default schedule does not redact and
	// the full one does.
	for _, name := range clipNames {
		m := motions[name]
		faces := validFaces(boxes[filepath.Base(motions[name].Photo)].Faces)
		worse, better := 0, 0
		for k := range faces {
			def, full := judged[0][name][k], judged[1][name][k]
			var partly, shown []int
			for i := range def {
				switch {
				case def[i] != 'R' && full[i] == 'R':
					worse++
					if def[i] == 'S' {
						shown = append(shown, i)
					} else {
						partly = append(partly, i)
					}
				case def[i] == 'R' && full[i] != 'R' && full[i] != '.':
					better++
				}
			}
			if strings.ContainsAny(string(def)+string(full), "S?") {
				b0, b1 := m.box(0, faces[k]), m.box(m.Frames-1, faces[k])
				t.Logf("%s: face %d (%d-%d px; first frame %v): default %s", name, k, b0.Dx(), b1.Dx(), b0, def)
				t.Logf("%s: face %d                          full    %s", name, k, full)
			}
			if len(partly) > 0 {
				t.Logf("%s: face %d (%d px) is redacted with the full second look, only partly with the default schedule in frames %v",
					name, k, m.box(partly[0], faces[k]).Dx(), partly)
			}
			if len(shown) > 0 {
				t.Errorf("%s: face %d (%d px) is redacted with the full second look, shown with the default schedule in frames %v",
					name, k, m.box(shown[0], faces[k]).Dx(), shown)
			}
		}
		t.Logf("%s: face-frames not redacted by the default schedule but by the full one: %d; the other way round: %d", name, worse, better)
	}
}

// validFaces are a crowd photo's annotated faces not marked invalid, as
// [x0 y0 x1 y1] (boxes.json: x, y, w, h, invalid, ...).
func validFaces(faces [][]int) [][4]int {
	var out [][4]int
	for _, f := range faces {
		if len(f) >= 5 && f[4] == 0 {
			out = append(out, [4]int{f[0], f[1], f[0] + f[2], f[1] + f[3]})
		}
	}
	return out
}
