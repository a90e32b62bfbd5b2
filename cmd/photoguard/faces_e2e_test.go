package main

import (
	"context"
	"encoding/json"
	"image"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/photoguard/photoguard/config"
	"github.com/photoguard/photoguard/detect"
	"github.com/photoguard/photoguard/detect/analyze"
	"github.com/photoguard/photoguard/detect/dlib"
	"github.com/photoguard/photoguard/pipeline"
	"github.com/photoguard/photoguard/redact/decode"
	"github.com/photoguard/photoguard/redact/mask"
	"github.com/photoguard/photoguard/redact/testenv"
)

// groundTruth is testdata/faces/groundtruth.json: who is where in the
// shared group photos.
type groundTruth struct {
	Images []struct {
		File  string   `json:"file"`
		Faces []gtFace `json:"faces"`
	} `json:"images"`
}

func loadGroundTruth(t *testing.T) groundTruth {
	data, err := os.ReadFile(filepath.Join(testenv.RepoRoot(t), "testdata", "faces", "groundtruth.json"))
	if err != nil {
		t.Fatal(err)
	}
	var gt groundTruth
	if err := json.Unmarshal(data, &gt); err != nil {
		t.Fatal(err)
	}
	return gt
}

func modelsForTest(t testing.TB) string {
	dir := os.Getenv("PHOTOGUARD_MODELS_DIR")
	if dir == "" {
		dir = "/usr/local/share/photoguard/models"
	}
	err := dlib.CheckModels(dir)
	testenv.Require(t, err == nil, "dlib models: %v", err)
	return dir
}

// faceSchool is a state folder with the consent register (everyone may be
// on the website except sheldon) and the eight people enrolled: a copy of
// the school enrolled once per test binary (school_test.go).
type faceSchool struct {
	dir, testdata, models string
}

func newFaceSchool(t *testing.T) *faceSchool {
	t.Helper()
	s := &faceSchool{dir: t.TempDir(), testdata: testenv.SharedTestdata(t), models: modelsForTest(t)}
	enrolled, err := enrolledSchool(s.testdata, s.models)
	if err != nil {
		t.Fatalf("the enrolled school: %v", err)
	}
	if err := copyTree(filepath.Join(enrolled, "state"), filepath.Join(s.dir, "state")); err != nil {
		t.Fatal(err)
	}
	return s
}

// judge is a detector of the test's own (the given dlib detector on the
// photo enlarged twice) and everyone enrolled in cfg's store: the judge of
// what a published output shows.
func (s *faceSchool) judge(t *testing.T, cfg *config.Config, detector string) (*dlib.Recognizer, []detect.Person) {
	t.Helper()
	judge, err := dlib.New(dlib.Config{ModelsDir: s.models, Detector: detector, MaxSide: 2048, Upsample: 2, Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	store, err := openStore(cfg)
	if err != nil {
		judge.Close()
		t.Fatal(err)
	}
	return judge, store.Snapshot().People()
}

// config is the school's configuration with one target (named target, on
// the website channel) and the given policy; everything else is the default.
func (s *faceSchool) config(t *testing.T, target, policy string) *config.Config {
	t.Helper()
	p, err := writeSchoolConfig(s.dir, s.models, target, policy)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(p)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// batchGroups runs a batch over copies of the group photos and returns the
// report's items by input name.
func (s *faceSchool) batchGroups(t *testing.T, cfg *config.Config) map[string]pipeline.Item {
	t.Helper()
	in := filepath.Join(s.dir, "batch-"+cfg.TargetNames()[0])
	groups, _ := filepath.Glob(filepath.Join(s.testdata, "faces", "groups", "*.jpg"))
	if len(groups) != 5 {
		testenv.Require(t, false, "5 group photos in %s, found %d", s.testdata, len(groups))
	}
	files := map[string]string{}
	for _, g := range groups {
		files[filepath.Base(g)] = g
	}
	_, list := batchInto(t, cfg, in, files)
	items := map[string]pipeline.Item{}
	for _, it := range list {
		items[it.Input] = it
	}
	return items
}

func decodeFile(t *testing.T, path string) *image.NRGBA {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	img, _, err := decode.Decode(context.Background(), data, decode.DefaultLimits(), 0)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// detail is the mean absolute difference of horizontally adjacent pixels
// (green) inside r: a sharp face has a lot, a blurred one little.
func detail(img *image.NRGBA, r image.Rectangle) float64 {
	r = r.Intersect(img.Bounds())
	var sum float64
	n := 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X-1; x++ {
			sum += math.Abs(float64(img.NRGBAAt(x, y).G) - float64(img.NRGBAAt(x+1, y).G))
			n++
		}
	}
	return sum / float64(max(n, 1))
}

// TestFacesEndToEnd is issue 3's acceptance test: eight people enrolled,
// seven with consent for the website and sheldon without; a batch over the
// group photos (the group run, school_test.go: its website target); then detection and descriptors on the published files,
// with a stronger detector than the pipeline's (HOG and CNN on the photo
// enlarged twice), as the judge.
func TestFacesEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("runs dlib's CNN detector on every photo")
	}
	s, cfg, all := groupSchool(t)
	gt := loadGroundTruth(t)
	items := itemsOn(all, "website")

	judge, people := s.judge(t, cfg, dlib.HOGCNN)
	defer judge.Close()
	var sheldon detect.Person
	for _, p := range people {
		if p.ID == "sheldon" {
			sheldon = p
		}
	}
	mc := matchConfig(cfg)
	ctx := context.Background()
	closestSheldon := math.Inf(1)
	// Issue 18: the consented faces of the ground truth that the judge
	// still finds in the output and recognises as themselves.
	consented, shownConsented := 0, 0

	for _, im := range gt.Images {
		name := filepath.Base(im.File)
		it, ok := items[name]
		if !ok || it.Outcome != pipeline.Published {
			t.Errorf("%s: %+v, want published", name, it)
			continue
		}
		in := decodeFile(t, filepath.Join(s.testdata, "faces", im.File))
		out := decodeFile(t, filepath.Join(cfg.Targets["website"].Path, it.Output))
		if in.Bounds() != out.Bounds() {
			t.Fatalf("%s: output %v, input %v", name, out.Bounds(), in.Bounds())
		}
		inFaces, err := judge.Detect(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		outFaces, err := judge.Detect(ctx, out)
		if err != nil {
			t.Fatal(err)
		}

		// 1. No face in any output is within the threshold of sheldon.
		for _, f := range outFaces {
			m := detect.MatchFaces([]detect.Face{f}, []detect.Person{sheldon}, mc)[0]
			if d := m.Nearest[0].Distance; d <= mc.Threshold {
				t.Errorf("%s: a published face at %v is %.2f from sheldon, who has no consent", name, f.Rect, d)
			} else {
				closestSheldon = math.Min(closestSheldon, d)
			}
		}
		// 2. Everyone with consent recognised in the input is still
		// recognisable in the output.
		// Recognisable: the nearest person within the threshold (the
		// margin, 0.30 since the children's measurements, is a rule for
		// showing, not for whether a face can be told).
		outMatch := map[string]bool{}
		for _, m := range detect.MatchFaces(outFaces, people, detect.MatchConfig{Threshold: mc.Threshold}) {
			outMatch[m.ID] = m.ID != ""
		}
		for _, m := range detect.MatchFaces(inFaces, people, mc) {
			if m.ID != "" && m.ID != "sheldon" && !outMatch[m.ID] {
				t.Errorf("%s: %s (consent) recognised in the input but not in the output", name, m.ID)
			}
		}
		// 2b. How many of the consented faces are published recognisably.
		c, shown := consentedShown(im.Faces, outFaces, people)
		consented += c
		shownConsented += shown
		// 3. Unknown faces are redacted under the consent policy: the
		// judge no longer finds a face there, and the detail is gone.
		for _, f := range im.Faces {
			box := image.Rect(f.Box[0], f.Box[1], f.Box[2], f.Box[3])
			if f.Who != "unknown" || f.Pose == "away" {
				continue
			}
			for _, of := range outFaces {
				if iou(of.Rect, box) > 0.3 {
					t.Errorf("%s: the unknown face at %v is still a face in the output (%v)", name, box, of.Rect)
				}
			}
			if before, after := detail(in, box), detail(out, box); after > 0.6*before {
				t.Errorf("%s: the unknown face at %v is not redacted (detail %.1f -> %.1f)", name, box, before, after)
			}
		}
		// 4. The photo stays a photo: away from every face, most pixels
		// match the input's within re-encoding tolerance. The finder's
		// boxes that are not faces are blurred too (a 20 px floor on a
		// photo published at its own size has the model look at it 3x
		// enlarged, where it sees faces in hands and folds); the share of
		// pixels they change is logged and bounded here.
		var masks []image.Rectangle
		for _, f := range im.Faces {
			masks = append(masks, mask.Region(image.Rect(f.Box[0], f.Box[1], f.Box[2], f.Box[3]), 1.8, in.Bounds()))
		}
		for _, f := range inFaces {
			masks = append(masks, mask.Region(f.Rect, 1.8, in.Bounds()))
		}
		changed, n := 0, 0
		for y := 0; y < in.Bounds().Dy(); y++ {
			for x := 0; x < in.Bounds().Dx(); x++ {
				p := image.Pt(x, y)
				masked := false
				for _, m := range masks {
					masked = masked || p.In(m)
				}
				if !masked {
					if math.Abs(float64(in.NRGBAAt(x, y).G)-float64(out.NRGBAAt(x, y).G)) > 12 {
						changed++
					}
					n++
				}
			}
		}
		share := float64(changed) / float64(n)
		t.Logf("%s: %.1f %% of the pixels away from the faces changed by more than 12 levels", name, 100*share)
		if share > 0.25 {
			t.Errorf("%s: %.1f %% of the pixels away from the faces changed", name, 100*share)
		}
		t.Logf("%s: %d faces in, %d found by the judge in the output; report: %+v", name, len(inFaces), len(outFaces), it.Faces)
	}
	t.Logf("closest published face to sheldon: %.2f (threshold %.2f)", closestSheldon, mc.Threshold)
	// Outside a group folder the margin of the whole school applies
	// (TestConsentedShownInClassFolder has the class as context).
	t.Logf("consented faces shown recognisably, judged from the outputs: %d of %d", shownConsented, consented)
	if consented != 17 || shownConsented < 8 {
		t.Errorf("consented faces shown: %d of %d, want at least 8 of 17", shownConsented, consented)
	}

	// Under the objections policy, unknown faces stay; sheldon still goes.
	ocfg := s.config(t, "objections", "objections")
	oitems := s.batchGroups(t, ocfg)
	for _, im := range gt.Images {
		name := filepath.Base(im.File)
		it := oitems[name]
		if it.Outcome != pipeline.Published {
			t.Errorf("objections: %s: %+v", name, it)
			continue
		}
		in := decodeFile(t, filepath.Join(s.testdata, "faces", im.File))
		out := decodeFile(t, filepath.Join(ocfg.Targets["objections"].Path, it.Output))
		for _, f := range im.Faces {
			box := image.Rect(f.Box[0], f.Box[1], f.Box[2], f.Box[3])
			before, after := detail(in, box), detail(out, box)
			switch {
			case f.Who == "sheldon" && after > 0.5*before:
				t.Errorf("objections: %s: sheldon at %v not redacted", name, box)
			case f.Who == "unknown" && f.Pose != "away" && after > 0.5*before:
				// The only unknown face is a blurred one cut by the edge,
				// which dlib cannot align: nobody can tell whether it is a
				// pupil without consent, so it is redacted under every
				// policy.
				t.Errorf("objections: %s: the unknown face at %v that cannot be described was not redacted (detail %.1f -> %.1f)", name, box, before, after)
			}
		}
	}
}

func iou(a, b image.Rectangle) float64 { return analyze.IoU(a, b) }

// gtFace is one face of the ground truth.
type gtFace = struct {
	Who  string `json:"who"`
	Box  [4]int `json:"box"`
	Pose string `json:"pose"`
}

// consentedShown counts the consented faces of the ground truth (everyone
// named but sheldon) and how many of them the judge recognises in the
// output: it finds a face there whose nearest enrolled person is the right
// one, within dlib's own same-person distance.
func consentedShown(faces []gtFace, outFaces []detect.Face, people []detect.Person) (consented, shown int) {
	for _, g := range faces {
		if g.Who == "unknown" || g.Who == "sheldon" {
			continue
		}
		consented++
		box := image.Rect(g.Box[0], g.Box[1], g.Box[2], g.Box[3])
		for _, of := range outFaces {
			if !sameGTFace(of.Rect, box) {
				continue
			}
			m := detect.MatchFaces([]detect.Face{of}, people, detect.MatchConfig{})[0]
			if len(m.Nearest) > 0 && m.Nearest[0].ID == g.Who && m.Nearest[0].Distance <= judgeSamePerson {
				shown++
				break
			}
		}
	}
	return consented, shown
}

// judgeSamePerson is dlib's own cut-off for one person (its README: 0.6),
// which the judge uses to say a published face is recognisably someone.
const judgeSamePerson = 0.6
