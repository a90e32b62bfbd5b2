package pipeline

import (
	"bytes"
	"image"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/photoguard/photoguard/detect"
	"github.com/photoguard/photoguard/redact/encode"
)

// perTargetEnv publishes the class photo (320x240, with EXIF and a comment)
// to four targets: website and site2 at the global settings (512 px, quality
// 85: the photo keeps its 320 px), portal (parent_portal) and news (website
// channel) at 160 px and quality 60. hook sees every step boundary.
func perTargetEnv(t *testing.T, hook func(string, *Job)) (*env, map[string]string) {
	det := classFaces()
	det.size = image.Pt(320, 240) // and described in the 160 px outputs too
	det.seeThrough = true         // the detail of a face halved is below its eye
	e := faceEnvHook(t, detect.PolicyConsent, det, nil, hook)
	dirs := map[string]string{"website": e.out}
	o := e.p.opt
	for _, d := range []*Destination{
		{Name: "site2", Channel: "website"},
		{Name: "portal", Channel: "parent_portal", MaxSide: 160, Quality: 60},
		{Name: "news", Channel: "website", MaxSide: 160, Quality: 60},
	} {
		dirs[d.Name] = filepath.Join(filepath.Dir(e.out), d.Name)
		d.Target = mustDir(t, dirs[d.Name])
		o.Destinations = append(o.Destinations, d)
	}
	e.build(o)
	e.write("klas.jpg", insertAfterSOI(classPhoto(t),
		segment(0xE1, append([]byte("Exif\x00\x00"), []byte("MM\x00\x2a\x00\x00\x00\x08GPS-SECRET-52.3676N")...)),
		segment(0xFE, []byte("Jan Jansen groep 5"))))
	return e, dirs
}

// Two targets with different sizes get different outputs, each verified and
// without metadata; deliveries with the same size, quality and redactions
// share one encoding.
func TestPerTargetOutputSettings(t *testing.T) {
	var mu sync.Mutex
	encodings := map[*byte][]string{}
	e, dirs := perTargetEnv(t, func(step string, j *Job) {
		if step != "encode" {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		for _, d := range j.Deliveries {
			encodings[&d.Output[0]] = append(encodings[&d.Output[0]], d.Dest.Name)
		}
	})
	items := e.batch()["klas.jpg"]
	if len(items) != 4 {
		t.Fatalf("%+v", items)
	}
	if len(encodings) != 3 {
		t.Errorf("encoded %d times (%v), want 3: website and site2 publish the same output", len(encodings), encodings)
	}
	scale := func(r image.Rectangle) image.Rectangle {
		return image.Rect(r.Min.X/2+2, r.Min.Y/2+2, r.Max.X/2-2, r.Max.Y/2-2)
	}
	want := map[string]struct {
		size      image.Point
		bramShown bool
	}{
		"website": {image.Pt(320, 240), false},
		"site2":   {image.Pt(320, 240), false},
		"portal":  {image.Pt(160, 120), true},
		"news":    {image.Pt(160, 120), false},
	}
	outputs := map[string][]byte{}
	for _, it := range items {
		if it.Outcome != Published {
			t.Fatalf("%s: %s (%s)", it.Target, it.Outcome, it.Reason)
		}
		data, err := os.ReadFile(filepath.Join(dirs[it.Target], it.Output))
		if err != nil {
			t.Fatal(err)
		}
		outputs[it.Target] = data
		if err := encode.VerifyClean(data); err != nil {
			t.Errorf("%s: the output fails the allow-list: %v", it.Target, err)
		}
		for _, s := range []string{"GPS-SECRET", "Jan Jansen", "Exif"} {
			if bytes.Contains(data, []byte(s)) {
				t.Errorf("%s: the output contains %q", it.Target, s)
			}
		}
		img, _, err := image.Decode(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		w := want[it.Target]
		if img.Bounds().Size() != w.size {
			t.Errorf("%s: published at %v, want %v", it.Target, img.Bounds().Size(), w.size)
		}
		if got := it.Faces.PublishedSide; got != w.size.X {
			t.Errorf("%s: the report says published at %d px, want %d", it.Target, got, w.size.X)
		}
		// Shown faces keep their noise (at 160 px, halved: measured 12-14,
		// redacted ones under 1.5).
		anna, bram, stranger, shownAbove := annaBox, bramBox, strangerBox, 25.0
		if w.size.X == 160 {
			anna, bram, stranger, shownAbove = scale(anna), scale(bram), scale(stranger), 5
		}
		if detail(img, anna) <= shownAbove {
			t.Errorf("%s: anna (consent everywhere) is redacted", it.Target)
		}
		if shown := detail(img, bram) > shownAbove; shown != w.bramShown {
			t.Errorf("%s: bram shown=%v, want %v", it.Target, shown, w.bramShown)
		}
		if detail(img, stranger) > shownAbove {
			t.Errorf("%s: the stranger is shown", it.Target)
		}
	}
	if !bytes.Equal(outputs["website"], outputs["site2"]) || bytes.Equal(outputs["portal"], outputs["news"]) ||
		bytes.Equal(outputs["website"], outputs["news"]) {
		t.Error("outputs are not shared exactly where size, quality and redactions agree")
	}
}

// The verify step checks each output: metadata in one target's output holds
// that target only.
func TestPerTargetOutputEachVerified(t *testing.T) {
	e, _ := perTargetEnv(t, func(step string, j *Job) {
		if step != "encode" {
			return
		}
		for _, d := range j.Deliveries {
			if d.Dest.Name == "portal" {
				d.Output = insertAfterSOI(d.Output, segment(0xFE, []byte("planted")))
			}
		}
	})
	for _, it := range e.batch()["klas.jpg"] {
		held := it.Target == "portal"
		if (it.Outcome == Held) != held || held && !strings.Contains(it.Reason, "metadata check") {
			t.Errorf("%s: %s (%s)", it.Target, it.Outcome, it.Reason)
		}
	}
}
