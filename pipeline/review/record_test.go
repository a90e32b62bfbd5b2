package review

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/color"
	"image/jpeg"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/photoguard/photoguard/detect"
	"github.com/photoguard/photoguard/pipeline"
)

func testJob() (*pipeline.Job, []pipeline.Item) {
	img := image.NewNRGBA(image.Rect(0, 0, 960, 640))
	for i := range img.Pix {
		img.Pix[i] = 128
	}
	var d1, d2 detect.Descriptor
	d1[0], d2[1] = 0.123456, 0.654321
	j := &pipeline.Job{
		Rel: "groep-5/IMG_0001.jpg", SHA256: strings.Repeat("ab", 32), Image: img,
		Faces: []detect.Face{
			{Rect: image.Rect(100, 100, 200, 200), Descriptor: d1, Score: 0.91},
			{Rect: image.Rect(500, 120, 580, 200), Descriptor: d2, Score: 0.23},
		},
		Matches: []detect.Match{
			{ID: "100205", Nearest: []detect.Candidate{{ID: "100205", Distance: 0.41}, {ID: "100231", Distance: 0.8}}},
			{Why: detect.WhyUnknown, Nearest: []detect.Candidate{{ID: "100231", Distance: 0.66}, {ID: "100205", Distance: math.Inf(1)}}},
		},
	}
	j.Original = img
	j.Analysis = &detect.Analysis{Faces: j.Faces}
	web := &pipeline.Delivery{Dest: &pipeline.Destination{Name: "website", Channel: "website"}, Published: true, Image: img, Name: "20261201-abababababab.jpg",
		Decisions: []detect.Decision{{Show: true, ID: "100205", Reason: "consent"}, {Reason: detect.WhyUnknown}}}
	news := &pipeline.Delivery{Dest: &pipeline.Destination{Name: "newsletter", Channel: "newsletter"},
		Decisions: []detect.Decision{{ID: "100205", Reason: "no consent for newsletter"}, {Reason: detect.WhyUnknown}}}
	j.Deliveries = []*pipeline.Delivery{web, news}
	items := []pipeline.Item{
		{Target: "website", Outcome: pipeline.Published, Output: web.Name},
		{Target: "newsletter", Outcome: pipeline.Held, Reason: "the face check of the output failed"},
	}
	return j, items
}

// writeTestRecord records testJob in a new state folder, at 10:30 on
// 1 December 2026.
func writeTestRecord(t *testing.T) (state string, at time.Time, j *pipeline.Job) {
	t.Helper()
	state = t.TempDir()
	w := New(state)
	at = time.Date(2026, 12, 1, 10, 30, 0, 0, time.Local)
	w.Now = func() time.Time { return at }
	j, items := testJob()
	if err := w.Record(j, items); err != nil {
		t.Fatal(err)
	}
	return state, at, j
}

func TestRecordRoundTrip(t *testing.T) {
	state, at, j := writeTestRecord(t)
	day := filepath.Join(state, Folder, "2026-12-01")
	for _, name := range []string{"abababababab.json", "abababababab-in.jpg", "abababababab-out-0.jpg", "abababababab-face-1.jpg", "abababababab-face-2.jpg"} {
		st, err := os.Lstat(filepath.Join(day, name))
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %04o, want 0600", name, st.Mode().Perm())
		}
	}
	if _, err := os.Lstat(filepath.Join(day, "abababababab-out-1.jpg")); err == nil {
		t.Error("a preview of the held (unpublished) output was written")
	}
	for _, d := range []string{filepath.Join(state, Folder), day} {
		if st, _ := os.Stat(d); st.Mode().Perm() != 0o700 {
			t.Errorf("%s: mode %04o, want 0700", d, st.Mode().Perm())
		}
	}
	raw, _ := os.ReadFile(filepath.Join(day, "abababababab.json"))
	b := make([]byte, 4)
	binary.LittleEndian.PutUint32(b, math.Float32bits(0.123456))
	if bytes.Contains(raw, b) || bytes.Contains(raw, []byte("0.123")) || bytes.Contains(raw, []byte("descriptor")) {
		t.Error("the record holds a descriptor")
	}

	recs, err := Load(state, at.Add(-time.Hour))
	if err != nil || len(recs) != 1 {
		t.Fatalf("Load: %d records, %v", len(recs), err)
	}
	r := recs[0]
	if r.Input != j.Rel || len(r.Faces) != 2 || r.Faces[0].N != 1 || r.Faces[1].N != 2 || r.Faces[0].Match != "100205" ||
		r.Faces[1].Why != detect.WhyUnknown || r.Faces[1].Nearest[1].Distance != 9.999 || r.Faces[0].Nearest[0].Distance != 0.41 {
		t.Errorf("record read back: %+v", r)
	}
	if !r.Held() || !r.Published() || !r.AnyUnknown() || !r.AnyShown() {
		t.Errorf("filters: held %v published %v unknown %v shown %v", r.Held(), r.Published(), r.AnyUnknown(), r.AnyShown())
	}
	if r.Targets[1].Decisions[0].Reason != "no consent for newsletter" || r.Targets[0].Thumb != "abababababab-out-0.jpg" {
		t.Errorf("targets: %+v", r.Targets)
	}
	pv, err := r.Image(r.Preview)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := jpeg.DecodeConfig(bytes.NewReader(pv))
	if err != nil || max(cfg.Width, cfg.Height) != InputPreviewSide {
		t.Errorf("input preview: %dx%d, %v; want long side %d", cfg.Width, cfg.Height, err, InputPreviewSide)
	}
	// The box of face 1 is drawn (green: shown on one target, redacted on
	// the other: orange).
	im, _ := jpeg.Decode(bytes.NewReader(pv))
	edge := color.NRGBAModel.Convert(im.At(50, 80)).(color.NRGBA)
	if !(edge.R > 200 && edge.G > 120 && edge.G < 200 && edge.B < 80) {
		t.Errorf("face 1's box is not orange (shown on some targets): %v", edge)
	}
	if crop, err := r.Image(r.Faces[0].Crop); err != nil {
		t.Errorf("face crop: %v", err)
	} else if c, _ := jpeg.DecodeConfig(bytes.NewReader(crop)); c.Width != 250 || c.Height != 250 {
		t.Errorf("face 1's crop is %dx%d, want the 100 px face with 75 px around it", c.Width, c.Height)
	}
	if _, err := r.Image("../../registry/registry.db"); err == nil {
		t.Error("Image read a file outside the record")
	}
	if got, err := Find(state, "abababab"); err != nil || got.SHA256 != j.SHA256 {
		t.Errorf("Find: %v", err)
	}
	if _, err := Find(state, "cdcdcdcd"); err == nil {
		t.Error("Find found a photo that has no record")
	}
	if recs, _ := Load(state, at.Add(time.Hour)); len(recs) != 0 {
		t.Errorf("Load since later: %d records", len(recs))
	}
}

func TestRecordRefusesLinks(t *testing.T) {
	state, elsewhere := t.TempDir(), t.TempDir()
	if err := os.Symlink(elsewhere, filepath.Join(state, Folder)); err != nil {
		t.Fatal(err)
	}
	j, items := testJob()
	if err := New(state).Record(j, items); err == nil {
		t.Fatal("wrote through a linked review folder")
	}
	if ents, _ := os.ReadDir(elsewhere); len(ents) != 0 {
		t.Errorf("%d files written where the link points", len(ents))
	}
}
