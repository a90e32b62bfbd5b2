package yunet

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/photoguard/photoguard/detect/internal/facetest"
)

// TestMeasureRules sweeps the finder's score and size rules over the
// shared sets, from one run of the planned views per photo (MEASUREMENTS.md).
// Columns: threshold, least width (x the smallest face), least first-look
// score of a large box, crowd faces of 20 px found, crowd boxes matching no
// annotation, eye-boxed faces found, boxes matching no face there (photos),
// boxes on the photos without a person (photos):
//
//	PHOTOGUARD_MEASURE=1 go test ./detect/yunet -run TestMeasureRules -v
func TestMeasureRules(t *testing.T) {
	if os.Getenv("PHOTOGUARD_MEASURE") == "" {
		t.Skip("set PHOTOGUARD_MEASURE=1")
	}
	d := sharedDetector(t)
	type photo struct {
		gt    []facetest.GT
		cands []fbox
	}
	load := func(dir string, names []string, truth map[string][]facetest.GT) []photo {
		var out []photo
		for _, n := range names {
			img := loadNRGBA(t, filepath.Join(dir, n))
			c, err := d.candidates(context.Background(), img, 20, nil)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, photo{truth[n], c})
		}
		return out
	}
	cdir, cn, ct := facetest.CrowdTruth(t)
	crowds := load(cdir, cn, ct)
	var eye []photo
	for _, s := range facetest.EyeBoxedSets(t) {
		eye = append(eye, load(s.Dir, s.Names, s.Truth)...)
	}
	nf := facetest.NoFaces(t)
	none := load(nf.Dir, nf.Names, nf.Truth)
	for _, thr := range []float64{0.1, 0.15, 0.2} {
		for _, minW := range []float64{0.6, 0.8} {
			for _, large := range []float64{0.5, 0.55, 0.6} {
				rule := func(c []fbox) []fbox {
					var out []fbox
					for _, b := range c {
						if b.score < thr || b.w() < minW*20 || (b.w() > LargeFaces*20 && b.best[0] < large) {
							continue
						}
						out = append(out, b)
					}
					return out
				}
				count := func(ps []photo) (found, total, fp, photosFP int) {
					for _, p := range ps {
						kept := rule(p.cands)
						rs := make([]Box, len(kept))
						for i, k := range kept {
							rs[i] = k.box()
						}
						hit := facetest.Hits(p.gt, rects(rs))
						r := facetest.Recall(p.gt, hit, []int{20})
						found += r[0].Found
						total += r[0].Total
						f := facetest.FalsePositives(p.gt, rects(rs))
						fp += f
						if f > 0 {
							photosFP++
						}
					}
					return
				}
				cf, ctot, cfp, _ := count(crowds)
				ef, etot, efp, ephot := count(eye)
				_, _, nfp, nphot := count(none)
				facetest.Report(t, "| %.2f | %.1f | %.2f | %d/%d (%.1f%%) | %d | %d/%d | %d (%d photos) | %d (%d photos) |",
					thr, minW, large, cf, ctot, 100*float64(cf)/float64(ctot), cfp, ef, etot, efp, ephot, nfp, nphot)
			}
		}
	}
}
