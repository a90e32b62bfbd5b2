package dlib

// The children's false-show measurement (MEASUREMENTS-children.md in
// detect/): how often a child who is not enrolled would be shown as an
// enrolled one, on the shared children's photos, and how many consented
// adults' faces stay visible in the group photos, for the rules of
// detect.Judge. Full tables:
//
//	PHOTOGUARD_MEASURE=1 go test ./detect/dlib -run TestMeasureChildren -v -timeout 30m
//
// scripts/bench.sh runs it too; CI runs TestChildrenFalseShowSampled on a
// sample.

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"testing"

	"github.com/photoguard/photoguard/config"
	"github.com/photoguard/photoguard/detect"
	"github.com/photoguard/photoguard/internal/testchildren"
)

// Age bands of the measurement (the children README's).
func ageBand(age int) string {
	switch {
	case age < 8:
		return "under 8"
	case age <= 12:
		return "8-12"
	}
	return "over 12"
}

var ageBands = []string{"under 8", "8-12", "over 12"}

func childSet(cs []childFace) *detect.ChildSet {
	var out []detect.Child
	for _, c := range cs {
		out = append(out, detect.Child{Descriptor: c.D, Band: ageBand(c.Age), Group: c.Race})
	}
	return detect.NewChildSet(out)
}

// adultPhotos are the group photos' faces labelled for detect.Adults ("" for
// the unknown face and any detection that is no ground-truth face), and the
// enrolled adults.
func adultPhotos(a adultFaces) ([][]detect.Sample, []detect.Person) {
	var people []detect.Person
	for _, who := range identityNames {
		if len(a.Refs[who]) > 0 {
			people = append(people, detect.Person{ID: who, Descriptors: a.Refs[who]})
		}
	}
	var photos [][]detect.Sample
	last := ""
	for _, g := range a.Group {
		if g.Photo != last {
			photos = append(photos, nil)
			last = g.Photo
		}
		label := g.Who
		if label == "unknown" {
			label = ""
		}
		photos[len(photos)-1] = append(photos[len(photos)-1], detect.Sample{Label: label, Face: g.Face})
	}
	return photos, people
}

// backgroundOf is n children's descriptors drawn with seed, for the adults'
// measurement (the adults are no children, so any children will do).
func backgroundOf(cs []childFace, n int, seed uint64) []detect.Descriptor {
	perm := rand.New(rand.NewPCG(seed, 0)).Perm(len(cs))
	var out []detect.Descriptor
	for _, i := range perm[:min(n, len(cs))] {
		out = append(out, cs[i].D)
	}
	return out
}

// The measured school sizes.
const (
	classSize  = 25
	schoolSize = 100
	draws      = 20
	seed       = 10
)

// variant is one way a school deploys the rule.
type variant struct {
	label string
	// register: children enrolled in all (the class of classSize may be
	// shown; the others are the rest of the school: group scoping).
	register int
	// background: other children's descriptors in the open-set set.
	background int
}

var variants = []variant{
	{"class only enrolled", 0, 0},
	{"group scoping, school of 300 enrolled", 300, 0},
	{"background of 300 other children", 0, 300},
}

func pctf(v float64) string { return strconv.FormatFloat(100*v, 'f', 2, 64) + "%" }

func falseShow(s *detect.ChildSet, shown, register, background int, m detect.MatchConfig) detect.FalseShowResult {
	return s.FalseShow(detect.FalseShowOptions{Shown: shown, Enrolled: register, Background: background,
		Draws: draws, Seed: seed, Match: m})
}

// schoolOf is the variant's register size for a school of n shown
// children (scoping makes sense only for the class).
func (v variant) registerFor(shown int) int { return max(v.register, shown) }

// mc is defaults with another threshold and margin.
func mc(def detect.MatchConfig, th, mg float64) detect.MatchConfig {
	def.Threshold, def.Margin = th, mg
	return def
}

func bandSet(set *detect.ChildSet, band string) *detect.ChildSet {
	if band == "all" {
		return set
	}
	return set.Subset(func(ch detect.Child) bool { return ch.Band == band })
}

func meanWorst(r detect.FalseShowResult) string { return pctf(r.Mean) + " / " + pctf(r.Worst) }

// adultsRow is the adults' consented-kept share and leaks, at the rule's
// minimum face size and at 40 px.
func adultsRow(photos [][]detect.Sample, people []detect.Person, m detect.MatchConfig) []string {
	a := detect.Adults(photos, people, m)
	m.MinFacePx = 40
	a40 := detect.Adults(photos, people, m)
	return []string{fmt.Sprintf("%d/%d (%.0f%%)", a.Kept, a.Consented, 100*a.KeptRate()), strconv.Itoa(a.Leaks),
		fmt.Sprintf("%.0f%%", 100*a40.KeptRate()), strconv.Itoa(a40.Leaks)}
}

// TestMeasureChildren prints the tables of MEASUREMENTS-children.md.
func TestMeasureChildren(t *testing.T) {
	measureOnly(t)
	c := sharedDescriptors(t)
	set := childSet(c.Children)
	photos, people := adultPhotos(c.Adults)
	def := defaultMatch(t)
	refs, faces := 0, 0
	for _, p := range people {
		refs += len(p.Descriptors)
	}
	for _, ph := range photos {
		faces += len(ph)
	}
	t.Logf("%d children, %d adults enrolled from %d crops, %d faces found in %d group photos; defaults: threshold %.2f, margin %.2f, min_face_px %d",
		len(set.Children), len(people), refs, faces, len(photos), def.Threshold, def.Margin, def.MinFacePx)

	// 1. Pairs of different children closer than a distance.
	var rows [][]string
	for _, band := range append([]string{"all"}, ageBands...) {
		sub := bandSet(set, band)
		var d []float64
		for i := range sub.Children {
			for j := i + 1; j < len(sub.Children); j++ {
				d = append(d, detect.Distance(&sub.Children[i].Descriptor, &sub.Children[j].Descriptor))
			}
		}
		sort.Float64s(d)
		row := []string{band, strconv.Itoa(len(sub.Children)), fmt.Sprintf("%.3f", d[0]), fmt.Sprintf("%.3f", d[len(d)/2])}
		for _, th := range []float64{0.35, 0.40, 0.45, 0.50} {
			k, _ := slices.BinarySearch(d, th)
			row = append(row, pctf(float64(k)/float64(len(d))))
		}
		rows = append(rows, row)
	}
	fmt.Println("\n1. Pairs of different children")
	table(t, []string{"children", "n", "min", "median", "< 0.35", "< 0.40", "< 0.45", "< 0.50"}, rows)

	// 2. The trade-off, classes drawn from all children.
	rows = nil
	for _, v := range variants {
		for _, th := range []float64{0.40, 0.45, 0.50, 0.55} {
			for _, mg := range []float64{0.10, 0.15, 0.20, 0.25, 0.30} {
				m := mc(def, th, mg)
				cl := falseShow(set, classSize, v.registerFor(classSize), v.background, m)
				sc := falseShow(set, schoolSize, v.registerFor(schoolSize), v.background, m)
				am := m
				if v.background > 0 {
					am.Background = backgroundOf(c.Children, v.background, seed)
				}
				row := []string{v.label, fmt.Sprintf("%.2f", th), fmt.Sprintf("%.2f", mg), meanWorst(cl), meanWorst(sc)}
				for _, n := range []int{classSize, schoolSize} {
					r := falseShow(set, n, v.registerFor(n), v.background, m)
					worst := 0.0
					for _, b := range ageBands {
						worst = max(worst, r.ByBand[b].Rate())
					}
					row = append(row, pctf(worst))
				}
				rows = append(rows, append(row, adultsRow(photos, people, am)...))
			}
		}
	}
	fmt.Println("\n2. Trade-off (classes drawn from all children; false shows mean / worst of 20 draws)")
	table(t, []string{"variant", "threshold", "margin", "class of 25", "100 enrolled", "worst band, 25", "worst band, 100",
		"adults kept", "leaks", "kept at 40 px", "leaks"}, rows)

	// 3. Age bands: classes drawn from one band (a class is of one age).
	rows = nil
	for _, cd := range []struct{ th, mg float64 }{{0.50, 0.10}, {0.50, 0.15}, {0.50, 0.20}, {0.50, 0.25}, {0.50, 0.27}, {0.50, 0.28}, {0.50, 0.30}, {0.50, 0.35}} {
		m := mc(def, cd.th, cd.mg)
		row := []string{fmt.Sprintf("%.2f / %.2f", cd.th, cd.mg)}
		for _, band := range ageBands {
			sub := bandSet(set, band)
			row = append(row, meanWorst(falseShow(sub, classSize, classSize, 0, m)), meanWorst(falseShow(sub, schoolSize, schoolSize, 0, m)))
		}
		rows = append(rows, row)
	}
	fmt.Println("\n3. Classes of one age band (false shows mean / worst of 20 draws)")
	table(t, []string{"threshold / margin", "under 8: 25", "under 8: 100", "8-12: 25", "8-12: 100", "over 12: 25", "over 12: 100"}, rows)

	// 4. At the defaults, by the probe's labels (classes drawn from all).
	rows = nil
	cl := falseShow(set, classSize, classSize, 0, def)
	sc := falseShow(set, schoolSize, schoolSize, 0, def)
	old := falseShow(set, classSize, classSize, 0, mc(def, 0.50, 0.10))
	var keys []string
	keys = append(keys, ageBands...)
	keys = append(keys, testchildren.Races...)
	for _, k := range keys {
		get := func(r detect.FalseShowResult) detect.Count {
			if cnt, ok := r.ByBand[k]; ok {
				return cnt
			}
			return r.ByGroup[k]
		}
		a, b, o := get(cl), get(sc), get(old)
		rows = append(rows, []string{k, fmt.Sprintf("%d of %d (%s)", a.Shown, a.Probes, pctf(a.Rate())),
			fmt.Sprintf("%d of %d (%s)", b.Shown, b.Probes, pctf(b.Rate())), pctf(o.Rate())})
	}
	fmt.Printf("\n4. At the defaults (%.2f / %.2f), by the probe's label, over the 20 draws\n", def.Threshold, def.Margin)
	table(t, []string{"probes", "class of 25", "100 enrolled", "class of 25 at 0.50 / 0.10"}, rows)

	// 4b. Classes of one ethnicity label (the class and the probes alike;
	// 100 enrolled only where the label has at least 150 children).
	rows = nil
	for _, race := range testchildren.Races {
		sub := set.Subset(func(ch detect.Child) bool { return ch.Group == race })
		var d []float64
		for i := range sub.Children {
			for j := i + 1; j < len(sub.Children); j++ {
				d = append(d, detect.Distance(&sub.Children[i].Descriptor, &sub.Children[j].Descriptor))
			}
		}
		sort.Float64s(d)
		k, _ := slices.BinarySearch(d, 0.50)
		row := []string{race, strconv.Itoa(len(sub.Children)), fmt.Sprintf("%.3f", d[len(d)/2]), pctf(float64(k) / float64(len(d)))}
		for _, mg := range []float64{0.10, 0.20, def.Margin} {
			m := mc(def, def.Threshold, mg)
			cell := meanWorst(falseShow(sub, classSize, classSize, 0, m))
			if len(sub.Children) >= 150 {
				cell += "; 100: " + meanWorst(falseShow(sub, schoolSize, schoolSize, 0, m))
			}
			row = append(row, cell)
		}
		rows = append(rows, row)
	}
	fmt.Printf("\n4b. Classes of one ethnicity label (threshold %.2f; false shows mean / worst, class of 25, and 100 enrolled where possible)\n", def.Threshold)
	table(t, []string{"label", "children", "median pair", "pairs < 0.50", "margin 0.10", "margin 0.20", fmt.Sprintf("margin %.2f (default)", def.Margin)}, rows)

	// 5. What the margin costs consented children: a consented child whose
	// reference has a classmate's reference within the margin is never
	// shown, whatever the photo (the classmate is at most margin further
	// from any photo of them than they are).
	rows = nil
	for _, mg := range []float64{0.10, 0.15, 0.20, 0.25, 0.27, 0.28, 0.30} {
		row := []string{fmt.Sprintf("%.2f", mg)}
		for _, band := range ageBands {
			sub := bandSet(set, band)
			for _, g := range []float64{0, 0.40} {
				row = append(row, pctf(blocked(sub, classSize, mg, g)))
			}
		}
		rows = append(rows, row)
	}
	// The estimate's model checked on the adults: for each named group
	// face x of P at distance g from P's nearest reference r, and each
	// other person Q, the distance from x to Q against sqrt(d(r, Q)² + g²).
	var ratio []float64
	for _, photo := range photos {
		for _, s := range photo {
			if s.Label == "" {
				continue
			}
			var own detect.Person
			for _, p := range people {
				if p.ID == s.Label {
					own = p
				}
			}
			g, r := 9.0, own.Descriptors[0]
			for _, d := range own.Descriptors {
				if v := detect.Distance(&s.Face.Descriptor, &d); v < g {
					g, r = v, d
				}
			}
			for _, q := range people {
				if q.ID == s.Label {
					continue
				}
				actual, dq := 9.0, 9.0
				for _, d := range q.Descriptors {
					actual = min(actual, detect.Distance(&s.Face.Descriptor, &d))
					dq = min(dq, detect.Distance(&r, &d))
				}
				ratio = append(ratio, actual/math.Sqrt(dq*dq+g*g))
			}
		}
	}
	t.Logf("model check on the adults (distance to another person / model): %s", summarize(ratio))
	fmt.Println("\n5. Consented children of a class of 25 (one band) never shown because of the margin: a classmate nearer than the margin (certain), and the estimate for a photo 0.40 from the reference")
	table(t, []string{"margin", "under 8: certain", "estimate at 0.40", "8-12: certain", "estimate at 0.40", "over 12: certain", "estimate at 0.40"}, rows)

	// 6. Group scoping for a class of one age in a school of all ages: the
	// class of 25 from one band may be shown, 275 other pupils of any age
	// are enrolled; probes of the class's band.
	rows = nil
	for _, mg := range []float64{0.10, 0.15, 0.20, 0.25, 0.30} {
		row := []string{fmt.Sprintf("%.2f / %.2f", def.Threshold, mg)}
		for _, band := range ageBands {
			r := set.FalseShow(detect.FalseShowOptions{Shown: classSize, Enrolled: 300, Draws: draws, Seed: seed,
				Match: mc(def, def.Threshold, mg), Band: band})
			row = append(row, meanWorst(r))
		}
		rows = append(rows, row)
	}
	fmt.Println("\n6. Group scoping: a class of 25 of one age band among 300 enrolled pupils of all ages (false shows mean / worst)")
	table(t, []string{"threshold / margin", "under 8", "8-12", "over 12"}, rows)
}

// blocked is the share of the enrolled children of classes of n (drawn as
// FalseShow draws them) who cannot be shown under margin mg: with g = 0,
// those with a classmate's reference within mg of theirs (then every photo
// of them fails the margin: by the triangle inequality the classmate is at
// most g+mg from a photo g from their reference); with g > 0, the estimate
// for a photo at distance g from the reference in a random direction (in
// 128 dimensions nearly orthogonal to the classmates', so the classmate is
// at sqrt(d² + g²)).
func blocked(s *detect.ChildSet, n int, mg, g float64) float64 {
	var total, out int
	for draw := 0; draw < draws; draw++ {
		perm := rand.New(rand.NewPCG(seed, uint64(draw))).Perm(len(s.Children))
		class := perm[:n]
		for _, p := range class {
			total++
			for _, q := range class {
				if q == p {
					continue
				}
				d := detect.Distance(&s.Children[p].Descriptor, &s.Children[q].Descriptor)
				if g == 0 && d < mg || g > 0 && d*d+g*g < (g+mg)*(g+mg) {
					out++
					break
				}
			}
		}
	}
	return float64(out) / float64(total)
}

// defaultMatch is the matching rule of the default configuration.
func defaultMatch(t testing.TB) detect.MatchConfig {
	t.Helper()
	cfg, err := config.Parse(nil, "/", nil)
	if err != nil {
		t.Fatal(err)
	}
	f := cfg.Faces
	return detect.MatchConfig{Threshold: f.Threshold, Margin: f.Margin, MinFacePx: f.MinFacePx}
}

// Targets of issue 10 at the default settings, and the share of them the
// sampled CI check allows (a safety margin: the sample is small).
const (
	targetMean     = 0.002 // class of 25 and 100 enrolled, every age band
	targetWorst    = 0.005 // worst of the 20 draws, class of 25
	ciSafety       = 0.75
	ciSampleEvery  = 5    // every 5th photo of the children folder
	ciMinAdultKept = 0.35 // measured 41% at the defaults: a regression guard
)

// TestChildrenFalseShowSampled is the CI version of TestMeasureChildren: a
// fixed fifth of the children (every 5th file), described afresh (about
// 40 s of one core), at the default settings.
func TestChildrenFalseShowSampled(t *testing.T) {
	if testing.Short() {
		t.Skip("describes about 200 photos")
	}
	files := testchildren.Files(t)
	var sample []string
	for i := 0; i < len(files); i += ciSampleEvery {
		sample = append(sample, files[i])
	}
	d := sharedDetector(t, Config{})
	cs, dropped := describeChildren(t, d, sample)
	if len(cs) < 150 || dropped > len(sample)/20 {
		t.Fatalf("%d of %d sample photos described (%d without exactly one face): the sample is not the one measured", len(cs), len(sample), dropped)
	}
	set := childSet(cs)
	def := defaultMatch(t)

	cl := falseShow(set, classSize, classSize, 0, def)
	sc := falseShow(set, schoolSize, schoolSize, 0, def)
	t.Logf("%d children; defaults %.2f / %.2f: class of 25 %s (worst %s), 100 enrolled %s (worst %s)",
		len(cs), def.Threshold, def.Margin, pctf(cl.Mean), pctf(cl.Worst), pctf(sc.Mean), pctf(sc.Worst))
	if cl.Mean > ciSafety*targetMean || cl.Worst > targetWorst {
		t.Errorf("class of 25: false-show rate %s, worst draw %s; target %s (CI allows %s), worst %s",
			pctf(cl.Mean), pctf(cl.Worst), pctf(targetMean), pctf(ciSafety*targetMean), pctf(targetWorst))
	}
	if sc.Mean > ciSafety*targetMean {
		t.Errorf("100 enrolled: false-show rate %s; target %s (CI allows %s)", pctf(sc.Mean), pctf(targetMean), pctf(ciSafety*targetMean))
	}
	for _, b := range ageBands {
		for _, r := range []detect.FalseShowResult{cl, sc} {
			if c := r.ByBand[b]; c.Probes == 0 || c.Rate() > targetMean {
				t.Errorf("age band %s: %d of %d probes falsely shown (%s); target %s", b, c.Shown, c.Probes, pctf(c.Rate()), pctf(targetMean))
			}
		}
	}
	// The measurement must be able to fail: the rule before issue 10
	// (margin 0.10) shows percents of the children on the same sample.
	if old := falseShow(set, classSize, classSize, 0, mc(def, 0.50, 0.10)); old.Mean < 0.005 {
		t.Errorf("the old rule 0.50 / 0.10 measures only %s on the sample: the sample does not see what the full set sees", pctf(old.Mean))
	}

	photos, people := adultPhotos(describeAdults(t, d))
	a := detect.Adults(photos, people, def)
	t.Logf("adults: %d of %d consented faces kept (%.0f%%), %d leaks", a.Kept, a.Consented, 100*a.KeptRate(), a.Leaks)
	if a.Leaks != 0 {
		t.Errorf("adults: %d faces shown that must not be", a.Leaks)
	}
	if a.KeptRate() < ciMinAdultKept || len(people) != len(identityNames) {
		t.Errorf("adults: %d people enrolled, %.0f%% of consented faces kept; want all %d and at least %.0f%%",
			len(people), 100*a.KeptRate(), len(identityNames), 100*ciMinAdultKept)
	}
}
