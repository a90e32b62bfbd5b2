package main

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/photoguard/photoguard/config"
	"github.com/photoguard/photoguard/detect"
	"github.com/photoguard/photoguard/detect/dlib"
	"github.com/photoguard/photoguard/internal/testchildren"
	"github.com/photoguard/photoguard/pipeline"
	"github.com/photoguard/photoguard/pipeline/consent"
	"github.com/photoguard/photoguard/redact/testenv"
)

// schoolAround enrolls n children of the shared children's set as the rest
// of the school: pupils of groups 1-7 without consent, described as
// `enroll` describes a reference (one photo each, padded). It returns how
// many were enrolled.
func schoolAround(t *testing.T, cfg *config.Config, n int) int {
	t.Helper()
	children := testchildren.Dir(t)
	files := testchildren.Files(t)
	testenv.Require(t, len(files) >= 900, "the children's photos in %s: found %d", children, len(files))
	// Every k-th child, spread over all ages; a few give no single face.
	k := len(files) / (n + n/10)
	var ids []string
	var csv strings.Builder
	csv.WriteString("pupil_id,first_name,last_name,group,website,social_media,newsletter,parent_portal,confirmed_on\n")
	date := time.Now().Format("2006-01-02")
	for i := 0; i*k < len(files); i++ {
		id := fmt.Sprintf("kind%04d", i)
		ids = append(ids, id)
		fmt.Fprintf(&csv, "%s,Kind,Test,groep %d,no,no,no,no,%s\n", id, 1+i%7, date)
	}
	dir := t.TempDir()
	// The register of the whole school: the eight adults (groep 8) and the
	// children; importing it keeps the adults' rows.
	all := demoConsent(time.Now()) + strings.SplitN(csv.String(), "\n", 2)[1]
	p := filepath.Join(dir, "school.csv")
	if err := os.WriteFile(p, []byte(all), 0o600); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := consentImport(&out, cfg, p, false, ""); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	hog := *cfg
	hog.Faces.Detector = dlib.HOG
	// The faces are about 120 px wide: HOG finds them without enlarging.
	hog.Faces.Upsample = 1
	e, err := newEnroller(&hog)
	if err != nil {
		t.Fatal(err)
	}
	defer e.close()
	enrolled := 0
	for i, id := range ids {
		if enrolled == n {
			break
		}
		png := filepath.Join(dir, id+".png")
		childPhoto(t, filepath.Join(children, files[i*k]), png)
		data, err := os.ReadFile(png)
		if err != nil {
			t.Fatal(err)
		}
		faces, sha, err := e.Faces(context.Background(), data)
		if err != nil || len(faces) != 1 {
			continue
		}
		if err := e.store.Enroll(id, []consent.Reference{{Descriptor: faces[0].Descriptor, SourceSHA256: sha, Model: e.model, Source: consent.SourcePortrait}}); err != nil {
			t.Fatal(err)
		}
		enrolled++
	}
	return enrolled
}

// TestConsentedShownInClassFolder is issue 18's acceptance test for the
// useful side: the eight adults enrolled from their five crops each (seven
// with consent for the website, sheldon without) as groep 8 of a school
// whose other 200 pupils are enrolled too, the group photos dropped in
// inbox/groep 8/, a batch at the defaults; then the judge (dlib's HOG on the
// published photo enlarged twice, and the enrolled descriptors) counts the
// consented faces it still recognises in the outputs. At least 15 of the 17
// must be, and no face of sheldon.
func TestConsentedShownInClassFolder(t *testing.T) {
	if testing.Short() {
		t.Skip("enrolls 200 children and runs dlib over the group photos")
	}
	start := time.Now()
	s := newFaceSchool(t)
	cfg := s.config(t, "website", "consent")
	if n := schoolAround(t, cfg, pipeline.GroupMinOutside); n < pipeline.GroupMinOutside {
		t.Fatalf("only %d children enrolled as the rest of the school", n)
	}
	t.Logf("school enrolled in %v", time.Since(start).Round(time.Second))
	gt := loadGroundTruth(t)
	files := map[string]string{}
	for _, im := range gt.Images {
		files["groep 8/"+filepath.Base(im.File)] = filepath.Join(s.testdata, "faces", im.File)
	}
	_, list := batchInto(t, cfg, filepath.Join(s.dir, "class"), files)
	items := map[string]pipeline.Item{}
	for _, it := range list {
		items[it.Input] = it
	}
	judge, people := s.judge(t, cfg, dlib.HOG)
	defer judge.Close()
	var adults []detect.Person
	for _, p := range people {
		if !strings.HasPrefix(p.ID, "kind") {
			adults = append(adults, p)
		}
	}
	consented, shown := 0, 0
	closestSheldon := math.Inf(1)
	for _, im := range gt.Images {
		name := "groep 8/" + filepath.Base(im.File)
		it, ok := items[name]
		if !ok || it.Outcome != pipeline.Published {
			t.Errorf("%s: %+v, want published", name, it)
			continue
		}
		out := decodeFile(t, filepath.Join(cfg.Targets["website"].Path, it.Output))
		outFaces, err := judge.Detect(context.Background(), out)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range outFaces {
			for _, c := range detect.MatchFaces([]detect.Face{f}, people, detect.MatchConfig{})[0].Nearest {
				if c.ID == "sheldon" {
					closestSheldon = math.Min(closestSheldon, c.Distance)
				}
			}
		}
		c, n := consentedShown(im.Faces, outFaces, adults)
		consented += c
		shown += n
		t.Logf("%s: %v", name, it.Faces.Reasons)
	}
	t.Logf("consented faces shown recognisably, judged from the outputs: %d of %d; closest published face to sheldon %.2f; %v in all",
		shown, consented, closestSheldon, time.Since(start).Round(time.Second))
	if consented != 17 || shown < 15 {
		t.Errorf("consented faces shown: %d of %d, want at least 15 of 17 (issue 18)", shown, consented)
	}
	if closestSheldon <= matchConfig(cfg).Threshold {
		t.Errorf("a published face is %.2f from sheldon, who has no consent", closestSheldon)
	}
}
