package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/photoguard/photoguard/config"
	"github.com/photoguard/photoguard/detect"
	"github.com/photoguard/photoguard/detect/analyze"
	"github.com/photoguard/photoguard/pipeline"
	"github.com/photoguard/photoguard/pipeline/audit"
	"github.com/photoguard/photoguard/pipeline/inbox"
	"github.com/photoguard/photoguard/pipeline/review"
	"github.com/photoguard/photoguard/redact/decode"
	"github.com/photoguard/photoguard/redact/encode"
	"github.com/photoguard/photoguard/redact/mask"
	"github.com/photoguard/photoguard/redact/testenv"
)

// reviewIDs are the pupil ids of the shared identities in the review tests
// (numbers, as a school's administration gives them).
var reviewIDs = map[string]string{"amy": "100201", "bernadette": "100202", "howard": "100203", "leonard": "100204",
	"penny": "100205", "raj": "100206", "sheldon": "100207", "stuart": "100208"}

// reviewSchool is a state folder with two targets (website, newsletter),
// the register (sheldon may not be on the website, raj not in the
// newsletter), and everyone but penny enrolled from the shared crops.
type reviewSchool struct {
	dir, testdata string
	cfg           *config.Config
}

func newReviewSchool(t *testing.T) *reviewSchool {
	t.Helper()
	s := &reviewSchool{dir: t.TempDir(), testdata: testenv.SharedTestdata(t)}
	yaml := fmt.Sprintf("inbox: %[1]s/inbox\nstate_dir: %[1]s/state\nmodels_dir: %[2]s\nwatch:\n  settle: 0s\ntargets:\n"+
		"  website:\n    type: dir\n    path: %[1]s/out-website\n    channel: website\n    approval: none\n    individual: allowed\n"+
		"  newsletter:\n    type: dir\n    path: %[1]s/out-newsletter\n    channel: newsletter\n", s.dir, modelsForTest(t))
	p := filepath.Join(s.dir, "photoguard.yaml")
	if err := os.WriteFile(p, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(p)
	if err != nil {
		t.Fatal(err)
	}
	s.cfg = cfg
	var csv strings.Builder
	csv.WriteString("pupil_id,first_name,last_name,group,website,social_media,newsletter,parent_portal,confirmed_on\n")
	enroll := filepath.Join(s.dir, "enroll")
	for name, id := range reviewIDs {
		web, news := "yes", "yes"
		if name == "sheldon" {
			web = "no"
		}
		if name == "raj" {
			news = "no"
		}
		fmt.Fprintf(&csv, "%s,%s,Demo,groep 8,%s,no,%s,yes,%s\n", id, strings.ToUpper(name[:1])+name[1:], web, news, time.Now().Format("2006-01-02"))
		if name == "penny" {
			continue // not enrolled: her face is unknown until the coordinator enrolls it from a reviewed photo
		}
		crops, _ := filepath.Glob(filepath.Join(s.testdata, "faces", "identities", name, "*.png"))
		testenv.Require(t, len(crops) == 5, "5 crops of %s in %s", name, s.testdata)
		for _, c := range crops {
			if err := copyFile(c, filepath.Join(enroll, id, filepath.Base(c))); err != nil {
				t.Fatal(err)
			}
		}
	}
	csvPath := filepath.Join(s.dir, "consent.csv")
	if err := os.WriteFile(csvPath, []byte(csv.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := consentImport(&out, cfg, csvPath, false, ""); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if err := enrollDir(context.Background(), &out, cfg, enrollFlags{dir: enroll}); err != nil {
		t.Fatalf("enroll: %v\n%s", err, out.String())
	}
	return s
}

// run processes photos as the service does (every target, inputs wiped)
// and returns the items by input name.
func (s *reviewSchool) run(t *testing.T, photos map[string][]byte) map[string][]pipeline.Item {
	t.Helper()
	in := filepath.Join(s.dir, "inbox")
	for name, data := range photos {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(in, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(in, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	items := serviceRun(t, s.cfg, in)
	for name := range photos {
		if _, err := os.Stat(filepath.Join(in, name)); err == nil {
			t.Fatalf("%s was not wiped: the test is meant to work from the review records alone", name)
		}
	}
	return items
}

// serviceRun processes the photos below in once as the service does: to
// every configured target, inputs wiped. It returns the items by input.
func serviceRun(t *testing.T, cfg *config.Config, in string) map[string][]pipeline.Item {
	t.Helper()
	items, err := runService(cfg, in)
	if err != nil {
		t.Fatal(err)
	}
	return items
}

// runService is serviceRun without a test: the items of one run of the
// service's pipeline (every target, inputs wiped) over the folder in.
func runService(cfg *config.Config, in string) (map[string][]pipeline.Item, error) {
	st, err := openPipeline(cfg, slog.New(slog.DiscardHandler), runMode{targets: cfg.TargetNames(), wipe: true})
	if err != nil {
		return nil, err
	}
	defer st.Close()
	items := map[string][]pipeline.Item{}
	var mu sync.Mutex
	intake := pipeline.NewIntake(st.p, func(it pipeline.Item) {
		mu.Lock()
		items[it.Input] = append(items[it.Input], it)
		mu.Unlock()
	})
	_, err = inbox.Batch(context.Background(), intake, batchRoots(st.p, []batchInput{{path: in, dir: true}}), inbox.BatchOptions{
		Options: st.p.InboxOptions(cfg.Watch.Rescan), Workers: cfg.Workers, Retries: 1, Own: []string{cfg.StateDir}})
	if err != nil {
		return nil, err
	}
	return items, nil
}

// faceAt is the number (1..N) of the face of rec whose box overlaps box
// most (IoU at least 0.5), or 0.
func faceAt(rec *review.Record, box image.Rectangle) int {
	best, n := 0.5, 0
	for _, f := range rec.Faces {
		r := image.Rect(f.Box[0], f.Box[1], f.Box[2], f.Box[3])
		if v := analyze.IoU(r, box); v >= best {
			best, n = v, f.N
		}
	}
	return n
}

func decisionOf(rec *review.Record, target string, n int) review.Decision {
	for _, t := range rec.Targets {
		if t.Name == target && n >= 1 && n <= len(t.Decisions) {
			return t.Decisions[n-1]
		}
	}
	return review.Decision{Reason: "(no such target or face)"}
}

func scaleRect(r image.Rectangle, f float64) image.Rectangle {
	return image.Rect(int(float64(r.Min.X)*f), int(float64(r.Min.Y)*f), int(float64(r.Max.X)*f), int(float64(r.Max.Y)*f))
}

// TestReviewCorrectLoop is the coordinator's loop with the real models and
// the shared identities: the service processes a group photo (and wipes
// it); the review page shows the unknown face (penny, not enrolled) and a
// face shown as amy; the coordinator enrolls penny from the reviewed face
// (from the review record: the input is gone) and marks amy's face as not
// amy; the next run (the same photo at 90%, new content) shows penny as
// 100205 and no longer matches that face to amy. The pages are checked in
// headless Chromium, and screenshots saved for the README.
func TestReviewCorrectLoop(t *testing.T) {
	s := newReviewSchool(t)
	ctx := context.Background()
	groupPath := filepath.Join(s.testdata, "faces", "groups", "bbt4.jpg")
	group, err := os.ReadFile(groupPath)
	testenv.Require(t, err == nil, "the shared group photo: %v", err)
	pennyBox, amyBox := image.Rect(256, 246, 346, 337), image.Rect(87, 37, 177, 128) // testdata/faces/groundtruth.json

	items := s.run(t, map[string][]byte{"groep-8/IMG_0001.jpg": group})
	if it := items["groep-8/IMG_0001.jpg"]; len(it) != 2 || it[0].Outcome != pipeline.Published || it[1].Outcome != pipeline.Published {
		t.Fatalf("first run: %+v", it)
	}
	recs, err := review.Load(s.cfg.StateDir, time.Now().Add(-time.Hour))
	if err != nil || len(recs) != 1 {
		t.Fatalf("review records after the first run: %d, %v", len(recs), err)
	}
	first := recs[0]
	penny, amy := faceAt(first, pennyBox), faceAt(first, amyBox)
	if penny == 0 || amy == 0 {
		t.Fatalf("penny (face %d) or amy (face %d) not found in the record", penny, amy)
	}
	if f := first.Faces[penny-1]; f.Match != "" || f.Crop == "" {
		t.Fatalf("penny is not enrolled, yet her face is matched %q (crop %q)", f.Match, f.Crop)
	}
	if f := first.Faces[amy-1]; f.Match != "100201" || !decisionOf(first, "website", amy).Show || !decisionOf(first, "newsletter", amy).Show {
		t.Fatalf("amy's face: match %q, website %+v, newsletter %+v", f.Match, decisionOf(first, "website", amy), decisionOf(first, "newsletter", amy))
	}

	// The page: one photo, labelled per target, no names, no file name.
	page := filepath.Join(s.dir, "pages", "review-1.html")
	if err := os.Mkdir(filepath.Dir(page), 0o700); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := reviewPage(&out, s.cfg, reviewFlags{out: page}, time.Now()); err != nil {
		t.Fatal(err)
	}
	html := readPrivateFile(t, page)
	for _, want := range []string{`http-equiv="Content-Security-Policy"`, `class="photo"`, "<th>website</th>", "<th>newsletter</th>",
		"photoguard enroll ID --from " + first.Short + fmt.Sprintf(" --face %d", penny),
		"photoguard correct " + first.Short + fmt.Sprintf(" --face %d --not 100201", amy), "shown as 100201"} {
		if !strings.Contains(html, want) {
			t.Errorf("the review page lacks %q", want)
		}
	}
	for _, never := range []string{"Amy", "Penny", "IMG_0001", "groep-8"} {
		if strings.Contains(html, never) {
			t.Errorf("the review page shows %q without --names", never)
		}
	}
	named := filepath.Join(s.dir, "pages", "named.html")
	if err := reviewPage(&out, s.cfg, reviewFlags{out: named, names: true}, time.Now()); err != nil {
		t.Fatal(err)
	}
	if h := readPrivateFile(t, named); !strings.Contains(h, "Amy") || !strings.Contains(h, "groep-8/IMG_0001.jpg") {
		t.Error("--names does not show the first name and the input")
	}

	// Corrections: penny from the record (the input is wiped), amy's face
	// from a copy of the original file.
	out.Reset()
	if err := enrollFrom(ctx, &out, s.cfg, "100205", first.Short, penny, false); err != nil {
		t.Fatalf("enroll --from: %v\n%s", err, out.String())
	}
	out.Reset()
	if err := correct(ctx, &out, s.cfg, groupPath, amy, "100201"); err != nil {
		t.Fatalf("correct: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "photoguard takedown --pupil 100201 "+first.Short) || !strings.Contains(out.String(), "newsletter, website") {
		t.Errorf("correct did not offer the takedown of the published photo:\n%s", out.String())
	}
	events, err := audit.Read(s.cfg.StateDir)
	if err != nil {
		t.Fatal(err)
	}
	var corrections []string
	for _, e := range events {
		if e.Kind == audit.Correction {
			corrections = append(corrections, strings.Join(e.Pupils, ","))
			if e.SHA256 != first.SHA256 {
				t.Errorf("correction event for photo %s, want %s", e.SHA256, first.SHA256)
			}
		}
	}
	if strings.Join(corrections, " ") != "100205 100201" {
		t.Errorf("audit log corrections by pupil: %q, want 100205 then 100201", corrections)
	}

	// The next run: the same photo at 90% (new content, not a duplicate).
	img, _, err := decode.Decode(ctx, group, decode.DefaultLimits(), 0)
	if err != nil {
		t.Fatal(err)
	}
	smaller, err := encode.JPEG(decode.Fit(img, 639), 92)
	if err != nil {
		t.Fatal(err)
	}
	items = s.run(t, map[string][]byte{"groep-8/IMG_0002.jpg": smaller})
	if it := items["groep-8/IMG_0002.jpg"]; len(it) != 2 || it[0].Outcome != pipeline.Published {
		t.Fatalf("second run: %+v", it)
	}
	recs, _ = review.Load(s.cfg.StateDir, time.Now().Add(-time.Hour))
	var second *review.Record
	for _, r := range recs {
		if r.SHA256 != first.SHA256 {
			second = r
		}
	}
	if second == nil {
		t.Fatal("no review record of the second run")
	}
	f := 639.0 / 710
	penny2, amy2 := faceAt(second, scaleRect(pennyBox, f)), faceAt(second, scaleRect(amyBox, f))
	if penny2 == 0 || amy2 == 0 {
		t.Fatalf("second run: penny (face %d) or amy (face %d) not found", penny2, amy2)
	}
	if m := second.Faces[penny2-1].Match; m != "100205" || !decisionOf(second, "website", penny2).Show || !decisionOf(second, "newsletter", penny2).Show {
		t.Errorf("after enroll --from, penny's face is matched %q (%s), website %+v", m, second.Faces[penny2-1].Why, decisionOf(second, "website", penny2))
	}
	if fa := second.Faces[amy2-1]; fa.Match != "" || fa.Why != detect.WhyCorrected || decisionOf(second, "website", amy2).Show {
		t.Errorf("after correct --not, the face is matched %q (%s), website %+v", fa.Match, fa.Why, decisionOf(second, "website", amy2))
	}

	// Both runs on one page, checked in a real browser.
	page2 := filepath.Join(s.dir, "pages", "review.html")
	if err := reviewPage(&out, s.cfg, reviewFlags{out: page2, since: "today"}, time.Now()); err != nil {
		t.Fatal(err)
	}
	dom, fetches := renderInChromium(t, page2, "")
	checkOffline(t, "review.html", dom, fetches)
	if n := strings.Count(dom, `<tr class="photo"`); n != 2 {
		t.Errorf("the rendered review page has %d photo rows, want 2", n)
	}
	if !strings.Contains(dom, `data-ready="1"`) || !strings.Contains(dom, `<span id="visible">2</span>`) {
		t.Error("the review page's script did not run (filters, count)")
	}
	if strings.Count(dom, `src="data:image/jpeg;base64,`) < 6 {
		t.Error("the rendered page lacks the inline previews (2 inputs, 4 outputs)")
	}

	// The README's screenshot: the same page with the photos blurred
	// beyond recognition (see abstractedState).
	shotCfg := *s.cfg
	shotCfg.StateDir = abstractedState(t, s.cfg.StateDir)
	shotPage := filepath.Join(s.dir, "pages", "review-screenshot.html")
	if err := reviewPage(&out, &shotCfg, reviewFlags{out: shotPage}, time.Now()); err != nil {
		t.Fatal(err)
	}
	dom, fetches = renderInChromium(t, shotPage, screenshotPath(t, "review.png"))
	checkOffline(t, "the screenshot's review.html", dom, fetches)

	// --batch REPORT: the photos of one report.
	rep := pipeline.NewReport(false)
	for _, it := range items["groep-8/IMG_0002.jpg"] {
		rep.Add(it)
	}
	var rb bytes.Buffer
	if err := rep.WriteJSON(&rb); err != nil {
		t.Fatal(err)
	}
	repPath := filepath.Join(s.dir, "report.json")
	if err := os.WriteFile(repPath, rb.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if err := reviewPage(&out, s.cfg, reviewFlags{batch: repPath, json: true}, time.Now()); err != nil {
		t.Fatal(err)
	}
	var listing []review.Listing
	if err := json.Unmarshal(out.Bytes(), &listing); err != nil || len(listing) != 1 || listing[0].SHA256 != second.SHA256 {
		t.Fatalf("review --batch --json: %v, %d photos\n%s", err, len(listing), out.String())
	}
	if d := listing[0].Faces; len(d) == 0 || listing[0].Input != "" {
		t.Errorf("review --json listing: %d faces, input %q", len(d), listing[0].Input)
	}

	// The tune page of this register, in the browser too.
	tunePath := filepath.Join(s.dir, "pages", "tune.html")
	var tout, terr bytes.Buffer
	if err := tuneRun(ctx, &tout, &terr, s.cfg, tuneFlags{out: tunePath, json: true}, time.Now()); err != nil {
		t.Fatalf("tune: %v\n%s", err, terr.String())
	}
	var tr struct {
		Basis struct {
			Pupils int `json:"pupils"`
		} `json:"basis"`
		Curves []json.RawMessage `json:"curves"`
	}
	if err := json.Unmarshal(tout.Bytes(), &tr); err != nil || tr.Basis.Pupils != 8 || len(tr.Curves) < 4 {
		t.Errorf("tune --json: %v, %d pupils, %d curves", err, tr.Basis.Pupils, len(tr.Curves))
	}
	readPrivateFile(t, tunePath)
	dom, fetches = renderInChromium(t, tunePath, screenshotPath(t, "tune.png"))
	checkOffline(t, "tune.html", dom, fetches)
	if n := strings.Count(dom, `class="curve"`); n < 8 || !strings.Contains(dom, `<svg id="tradeoff"`) || !strings.Contains(dom, `id="current-wrong"`) {
		t.Errorf("the rendered tune page lacks the plot (%d curves)", n)
	}
	if !strings.Contains(dom, `class="pair"`) || !strings.Contains(dom, `id="recommendation"`) || !strings.Contains(dom, "fewer than three references") {
		t.Error("the rendered tune page lacks the look-alikes, the recommendation or the warning about penny's single reference")
	}
}

// readPrivateFile reads a page and checks it is 0600.
func readPrivateFile(t *testing.T, p string) string {
	t.Helper()
	st, err := os.Lstat(p)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("%s: mode %04o, want 0600", p, st.Mode().Perm())
	}
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// abstractedState copies the review records of stateDir into a new state
// folder with every preview blurred beyond recognition (the whole picture)
// and the face boxes drawn again on top: the page keeps its layout, boxes,
// numbers and tables, and shows nothing of the shared test photos, which
// may not be published (../shared/testdata/README.md). The README's
// screenshot is made from it.
func abstractedState(t *testing.T, stateDir string) string {
	t.Helper()
	out := t.TempDir()
	recs, err := review.Load(stateDir, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	blur := mask.Options{Mode: mask.Blur, Shape: mask.Box, MaskScale: 1, Cells: 6}
	for _, r := range recs {
		day := r.At.Local().Format("2006-01-02")
		src := filepath.Join(stateDir, review.Folder, day)
		dst := filepath.Join(out, review.Folder, day)
		if err := os.MkdirAll(dst, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := copyFile(filepath.Join(src, r.Short+".json"), filepath.Join(dst, r.Short+".json")); err != nil {
			t.Fatal(err)
		}
		names := []string{r.Preview}
		for _, tg := range r.Targets {
			if tg.Thumb != "" {
				names = append(names, tg.Thumb)
			}
		}
		for k, name := range names {
			data, err := r.Image(name)
			if err != nil {
				t.Fatal(err)
			}
			img, _, err := decode.Decode(context.Background(), data, decode.DefaultLimits(), 0)
			if err != nil {
				t.Fatal(err)
			}
			img = mask.Redact(img, []image.Rectangle{img.Rect}, blur)
			img = mask.Redact(img, []image.Rectangle{img.Rect}, blur)
			if k == 0 { // the input preview: the boxes again
				s := float64(img.Rect.Dx()) / float64(r.Width)
				var faces []detect.Face
				for _, f := range r.Faces {
					faces = append(faces, detect.Face{Rect: scaleRect(image.Rect(f.Box[0], f.Box[1], f.Box[2], f.Box[3]), s)})
				}
				colours := r.Colours()
				img = review.Annotate(img, faces, colours, review.InputPreviewSide)
			}
			enc, err := encode.JPEG(img, 85)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dst, name), enc, 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	return out
}
