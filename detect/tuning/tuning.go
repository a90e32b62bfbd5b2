// Package tuning computes what `photoguard tune` shows: the school's own
// trade-off between wrong matches and missed matches per threshold and
// margin, a recommended setting with the amount of data it rests on, the
// closest pairs of different pupils, each pupil's spread of references, and
// warnings about the enrolled pupils; the look-alike test and the labelled table
// (labelled.go, with the rule which labelled photos can be used), and the
// page (page.go: html/template, no script, images as data: URLs).
//
// Invariant: it works on pupil ids and descriptors in memory and returns ids,
// counts and distances only (Page adds only the thumbnails it is given); it never loosens the margin below
// MinRecommendedMargin, which was measured on children, whatever the
// school's own data says.
package tuning

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"time"

	"github.com/photoguard/photoguard/detect"
)

// Pupil is an enrolled person with dated references.
type Pupil struct {
	ID         string
	References []Reference
	// Group is the pupil's group in the consent store ("" for staff).
	Group string
}

// Reference is one enrolled descriptor, when it was added (zero: unknown)
// and where it came from ("portrait", "review", "" unknown).
type Reference struct {
	Descriptor detect.Descriptor
	AddedAt    time.Time
	Source     string
}

// Input is what the analysis works on.
type Input struct {
	Pupils []Pupil
	// Samples are labelled faces that are not enrollment photos (tune
	// --labelled DIR); Label "" is someone who is not enrolled.
	Samples []detect.Sample
	// Match is the configured rule (threshold, margin, minimum face).
	Match detect.MatchConfig
	Now   time.Time
	// ReferenceAge is the age after which a reference no longer shows
	// anyone (pipeline.FaceOptions.ReferenceAge; <= 0: none fades).
	ReferenceAge time.Duration
	// GroupMargin is the margin of a photo in a group folder once
	// GroupMinOutside pupils are enrolled outside the group (pipeline's
	// DefaultGroupMargin and GroupMinOutside); 0: not analysed.
	GroupMargin     float64
	GroupMinOutside int
}

// GroupRow is one group of the consent store as the class-as-context rule sees
// it: how many of its pupils and how many outside it are enrolled, whether
// its photos get the group margin, and the look-alike test at the
// margin they get (each reference of a pupil of the group tried as a child
// who is not enrolled, in a photo of the group: shown as a classmate is
// wrong).
type GroupRow struct {
	Group    string  `json:"group"`
	Enrolled int     `json:"enrolled"`
	Outside  int     `json:"enrolled_outside"`
	Applies  bool    `json:"group_margin_applies"`
	Margin   float64 `json:"margin"`
	Probes   int     `json:"probes"`
	Wrong    int     `json:"wrong"`
}

// Thresholds and Margins are the grid the trade-off is computed on.
var (
	Thresholds = func() []float64 {
		var ts []float64
		for t := 30; t <= 60; t += 2 {
			ts = append(ts, float64(t)/100)
		}
		return ts
	}()
	Margins = []float64{0.10, 0.20, 0.30, 0.40}
)

// MinRecommendedMargin is the smallest margin tune recommends: at 0.30 a
// child who is not enrolled was shown as one of 25 classmates in 0 of 18,700
// tries; at 0.20 in 0.07%, at 0.10 in 2.0% (detect/MEASUREMENTS-children.md).
// A school's own enrolled pupils are too few to show rates like these.
const MinRecommendedMargin = 0.30

// MaxRecommendedThreshold is the largest threshold tune recommends (dlib's
// own adult cut-off is 0.6; children are mixed up more easily).
const MaxRecommendedThreshold = 0.55

// MinProbes is the least data a recommendation is made on.
const MinProbes = 30

// Point is what one setting does to the probes.
type Point struct {
	Threshold float64 `json:"threshold"`
	Margin    float64 `json:"margin"`
	// Wrong: faces matched to another pupil, or unknown faces matched to
	// a pupil (a child shown under someone else's consent), of Probes.
	Wrong  int `json:"wrong"`
	Probes int `json:"probes"`
	// Missed: faces of an enrolled pupil not matched to them (redacted
	// although they may be shown), of Own.
	Missed int `json:"missed"`
	Own    int `json:"own"`
}

// WrongRate and MissedRate are the point's rates (0 without probes).
func (p Point) WrongRate() float64  { return rate(p.Wrong, p.Probes) }
func (p Point) MissedRate() float64 { return rate(p.Missed, p.Own) }

func rate(n, of int) float64 {
	if of == 0 {
		return 0
	}
	return float64(n) / float64(of)
}

// Curve is the trade-off at one margin, one point per threshold.
type Curve struct {
	Margin float64 `json:"margin"`
	Points []Point `json:"points"`
}

// Basis says how much data the curves rest on.
type Basis struct {
	Pupils int `json:"pupils"`
	// References is the number of reference descriptors.
	References int `json:"references"`
	// OthersProbes: references tried as a child who is not enrolled
	// (matched against everyone else); OwnProbes: references tried against
	// their own pupil's other references (pupils with two or more).
	OthersProbes int `json:"others_probes"`
	OwnProbes    int `json:"own_probes"`
	// Labelled and LabelledUnknown count the labelled faces used.
	Labelled        int `json:"labelled"`
	LabelledUnknown int `json:"labelled_unknown"`
}

// Setting is a threshold and margin.
type Setting struct {
	Threshold float64 `json:"threshold"`
	Margin    float64 `json:"margin"`
}

// Recommendation is the suggested setting and why.
type Recommendation struct {
	Setting
	// OK is false when there is too little data or no setting on the grid
	// is free of wrong matches; Why says which.
	OK  bool   `json:"ok"`
	Why string `json:"why"`
	// At is the point of the recommended setting.
	At Point `json:"at"`
	// ThresholdFrom and ThresholdTo are the thresholds (at Margin, up to
	// MaxRecommendedThreshold) that give the same result as Threshold on
	// this data: a tie, in which no value is better than another.
	// Threshold is the strictest of them.
	ThresholdFrom float64 `json:"threshold_from"`
	ThresholdTo   float64 `json:"threshold_to"`
}

// Tie reports whether more than one threshold gives the recommended result.
func (r Recommendation) Tie() bool { return r.ThresholdTo > r.ThresholdFrom+1e-9 }

// Pair is two different pupils and their closest references.
type Pair struct {
	A, B     string
	Distance float64
}

// Spread is one pupil's references: how far apart they lie.
type Spread struct {
	ID         string  `json:"id"`
	References int     `json:"references"`
	Max        float64 `json:"max"`    // the largest distance between two of them
	Median     float64 `json:"median"` // of the pairwise distances
	// Oldest and Newest are when the oldest and newest references of a
	// known date were added (zero: none has a date).
	Oldest time.Time `json:"oldest"`
	Newest time.Time `json:"newest"`
	// Portrait, Review and UnknownSource count the references by source;
	// UnknownDate those without a date (enrolled before dates were kept).
	Portrait      int `json:"portrait"`
	Review        int `json:"review"`
	UnknownSource int `json:"unknown_source"`
	UnknownDate   int `json:"unknown_date"`
	// Faded are the references older than the reference age: they no
	// longer show the pupil (they still keep look-alikes apart).
	Faded int `json:"faded"`
}

// Warning kinds.
const (
	FewReferences   = "fewer than three references"
	OldReferences   = "references older than a school year"
	CloserPupils    = "two pupils closer than the threshold"
	SpreadOut       = "references spread out"
	AllFaded        = "every reference too old to show the pupil"
	NoSchool        = "groups without the school around them"
	GroupLookAlikes = "look-alikes within a group"
)

// Warning is one thing the coordinator should act on.
type Warning struct {
	Kind string   `json:"kind"`
	IDs  []string `json:"ids"`
	Text string   `json:"text"`
}

// Report is the whole analysis.
type Report struct {
	Current     Setting        `json:"current"`
	Recommended Recommendation `json:"recommended"`
	Curves      []Curve        `json:"curves"`
	Basis       Basis          `json:"basis"`
	LookAlikes  []Pair         `json:"look_alikes"`
	Spreads     []Spread       `json:"spreads"`
	Groups      []GroupRow     `json:"groups,omitempty"`
	Warnings    []Warning      `json:"warnings"`
}

// Curve returns the curve at margin m (nil when not computed).
func (r *Report) Curve(m float64) *Curve {
	for i := range r.Curves {
		if math.Abs(r.Curves[i].Margin-m) < 0.005 {
			return &r.Curves[i]
		}
	}
	return nil
}

// probe is one face tried: the candidates it has (nearest first) and who it
// is ("" for nobody enrolled among the candidates).
type probe struct {
	cands []detect.Candidate
	want  string
}

// Analyse computes the report.
func Analyse(in Input) Report {
	rep := Report{Current: Setting{Threshold: in.Match.Threshold, Margin: in.Match.Margin}}
	probes, basis := buildProbes(in)
	rep.Basis = basis
	margins := append([]float64(nil), Margins...)
	if !containsNear(margins, in.Match.Margin) {
		margins = append(margins, in.Match.Margin)
		sort.Float64s(margins)
	}
	thresholds := append([]float64(nil), Thresholds...)
	if !containsNear(thresholds, in.Match.Threshold) {
		thresholds = append(thresholds, in.Match.Threshold)
		sort.Float64s(thresholds)
	}
	for _, m := range margins {
		c := Curve{Margin: m}
		for _, t := range thresholds {
			c.Points = append(c.Points, evaluate(probes, t, m, in.Match.MinFacePx))
		}
		rep.Curves = append(rep.Curves, c)
	}
	rep.Recommended = recommend(rep.Curves, basis)
	rep.LookAlikes = lookAlikes(in.Pupils, 10)
	rep.Spreads = spreads(in.Pupils, in.Now, in.ReferenceAge)
	rep.Groups = groups(in)
	rep.Warnings = warnings(in, rep.LookAlikes, rep.Spreads, rep.Groups)
	return rep
}

// groups analyses the class as context, group by group.
func groups(in Input) []GroupRow {
	if in.GroupMargin <= 0 {
		return nil
	}
	byGroup := map[string][]int{}
	enrolled := 0
	for i, p := range in.Pupils {
		if p.Group != "" && len(p.References) > 0 {
			byGroup[p.Group] = append(byGroup[p.Group], i)
			enrolled++
		}
	}
	var out []GroupRow
	for g, members := range byGroup {
		r := GroupRow{Group: g, Enrolled: len(members), Outside: enrolled - len(members), Margin: in.Match.Margin}
		if r.Outside >= in.GroupMinOutside && in.GroupMargin < in.Match.Margin {
			r.Applies, r.Margin = true, in.GroupMargin
		}
		mc := in.Match
		mc.Margin = r.Margin
		for _, i := range members {
			for k := range in.Pupils[i].References {
				d := &in.Pupils[i].References[k].Descriptor
				var cands []detect.Candidate
				for j, q := range in.Pupils {
					if j == i || len(q.References) == 0 {
						continue
					}
					refs := make([]detect.Descriptor, len(q.References))
					for n := range q.References {
						refs[n] = q.References[n].Descriptor
					}
					cands = append(cands, detect.Candidate{ID: strconv.Itoa(j), Distance: detect.PersonDistance(d, refs, mc.Combine)})
				}
				sortCands(cands)
				r.Probes++
				id, _ := detect.Judge(cands, math.Inf(1), mc.MinFacePx, mc)
				if j, err := strconv.Atoi(id); err == nil && id != "" && in.Pupils[j].Group == g {
					r.Wrong++
				}
			}
		}
		out = append(out, r)
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Group < out[b].Group })
	return out
}

func containsNear(vs []float64, v float64) bool {
	for _, x := range vs {
		if math.Abs(x-v) < 0.005 {
			return true
		}
	}
	return false
}

// buildProbes computes every probe's candidates once:
//   - each reference of each pupil, matched against everyone else (as a
//     child who is not enrolled: any match is wrong);
//   - each reference of a pupil with two or more, matched against everyone
//     with the pupil's other references (it should match the pupil);
//   - each labelled sample against everyone.
func buildProbes(in Input) ([]probe, Basis) {
	var b Basis
	people := make([]detect.Person, len(in.Pupils))
	for i, p := range in.Pupils {
		people[i] = detect.Person{ID: p.ID}
		for _, r := range p.References {
			people[i].Descriptors = append(people[i].Descriptors, r.Descriptor)
		}
		if len(p.References) > 0 {
			b.Pupils++
		}
		b.References += len(p.References)
	}
	var probes []probe
	combine := in.Match.Combine
	for i, p := range in.Pupils {
		for k := range p.References {
			d := &p.References[k].Descriptor
			var others []detect.Candidate
			own := math.Inf(1)
			for j, q := range people {
				if j == i {
					// The pupil's own other references, this one left out.
					rest := append(append([]detect.Descriptor(nil), q.Descriptors[:k]...), q.Descriptors[k+1:]...)
					own = detect.PersonDistance(d, rest, combine)
					continue
				}
				best := detect.PersonDistance(d, q.Descriptors, combine)
				if len(q.Descriptors) > 0 {
					others = append(others, detect.Candidate{ID: q.ID, Distance: best})
				}
			}
			sortCands(others)
			probes = append(probes, probe{cands: others})
			b.OthersProbes++
			if len(p.References) > 1 {
				withOwn := append([]detect.Candidate{{ID: p.ID, Distance: own}}, others...)
				sortCands(withOwn)
				probes = append(probes, probe{cands: withOwn, want: p.ID})
				b.OwnProbes++
			}
		}
	}
	for _, s := range in.Samples {
		var cands []detect.Candidate
		for _, q := range people {
			best := detect.PersonDistance(&s.Face.Descriptor, q.Descriptors, combine)
			if len(q.Descriptors) > 0 {
				cands = append(cands, detect.Candidate{ID: q.ID, Distance: best})
			}
		}
		sortCands(cands)
		probes = append(probes, probe{cands: cands, want: s.Label})
		if s.Label == "" {
			b.LabelledUnknown++
		} else {
			b.Labelled++
		}
	}
	return probes, b
}

func sortCands(c []detect.Candidate) {
	sort.SliceStable(c, func(a, b int) bool { return c[a].Distance < c[b].Distance })
}

// evaluate applies the match rule at (t, m) to every probe. Probes are
// taken at the minimum face size: the rule's size check passes.
func evaluate(probes []probe, t, m float64, minFace int) Point {
	cfg := detect.MatchConfig{Threshold: t, Margin: m, MinFacePx: minFace}
	pt := Point{Threshold: t, Margin: m}
	for _, p := range probes {
		id, _ := detect.Judge(p.cands, math.Inf(1), minFace, cfg)
		pt.Probes++
		if id != "" && id != p.want {
			pt.Wrong++
		}
		if p.want != "" {
			pt.Own++
			if id == "" {
				pt.Missed++
			}
		}
	}
	return pt
}

// recommend picks, among settings with margin at least
// MinRecommendedMargin and threshold at most MaxRecommendedThreshold, one
// with no wrong match and the fewest missed (ties: the stricter, with the
// range of thresholds that tie).
func recommend(curves []Curve, b Basis) Recommendation {
	var best *Point
	var bestCurve []Point
	bestIndex := 0
	for _, c := range curves {
		if c.Margin < MinRecommendedMargin-1e-9 {
			continue
		}
		for i := range c.Points {
			p := &c.Points[i]
			if p.Threshold > MaxRecommendedThreshold+1e-9 || p.Wrong > 0 {
				continue
			}
			if best == nil || p.Missed < best.Missed ||
				p.Missed == best.Missed && (p.Margin > best.Margin || p.Margin == best.Margin && p.Threshold < best.Threshold) {
				best, bestCurve, bestIndex = p, c.Points, i
			}
		}
	}
	probes := b.OthersProbes + b.OwnProbes + b.Labelled + b.LabelledUnknown
	switch {
	case probes < MinProbes || b.Pupils < 3:
		return Recommendation{Why: "too little data for a recommendation: keep the defaults and enroll more pupils (at least three references each)"}
	case best == nil:
		return Recommendation{Why: "every setting tried matches some face to the wrong pupil: look at the closest pairs below, add references, keep the defaults"}
	}
	r := Recommendation{Setting: Setting{Threshold: best.Threshold, Margin: best.Margin}, OK: true, At: *best,
		Why:           "no wrong match and the fewest missed matches on this data, at a margin no looser than measured safe on children",
		ThresholdFrom: best.Threshold, ThresholdTo: best.Threshold}
	// The neighbours on the same curve with the same result are a tie.
	same := func(p Point) bool {
		return p.Wrong == best.Wrong && p.Missed == best.Missed && p.Threshold <= MaxRecommendedThreshold+1e-9
	}
	for i := bestIndex - 1; i >= 0 && same(bestCurve[i]); i-- {
		r.ThresholdFrom = bestCurve[i].Threshold
	}
	for i := bestIndex + 1; i < len(bestCurve) && same(bestCurve[i]); i++ {
		r.ThresholdTo = bestCurve[i].Threshold
	}
	return r
}

// lookAlikes are the n closest pairs of different pupils.
func lookAlikes(pupils []Pupil, n int) []Pair {
	var pairs []Pair
	for i := range pupils {
		for j := i + 1; j < len(pupils); j++ {
			best := math.Inf(1)
			for a := range pupils[i].References {
				for b := range pupils[j].References {
					best = math.Min(best, detect.Distance(&pupils[i].References[a].Descriptor, &pupils[j].References[b].Descriptor))
				}
			}
			if !math.IsInf(best, 1) {
				pairs = append(pairs, Pair{A: pupils[i].ID, B: pupils[j].ID, Distance: best})
			}
		}
	}
	sort.SliceStable(pairs, func(a, b int) bool { return pairs[a].Distance < pairs[b].Distance })
	if len(pairs) > n {
		pairs = pairs[:n]
	}
	return pairs
}

func spreads(pupils []Pupil, now time.Time, maxAge time.Duration) []Spread {
	var out []Spread
	for _, p := range pupils {
		s := Spread{ID: p.ID, References: len(p.References)}
		var ds []float64
		for a := range p.References {
			r := &p.References[a]
			switch r.Source {
			case "portrait":
				s.Portrait++
			case "review":
				s.Review++
			default:
				s.UnknownSource++
			}
			if r.AddedAt.IsZero() {
				s.UnknownDate++
			} else {
				if s.Oldest.IsZero() || r.AddedAt.Before(s.Oldest) {
					s.Oldest = r.AddedAt
				}
				if r.AddedAt.After(s.Newest) {
					s.Newest = r.AddedAt
				}
				if maxAge > 0 && r.AddedAt.Before(now.Add(-maxAge)) {
					s.Faded++
				}
			}
			for b := a + 1; b < len(p.References); b++ {
				ds = append(ds, detect.Distance(&p.References[a].Descriptor, &p.References[b].Descriptor))
			}
		}
		if len(ds) > 0 {
			sort.Float64s(ds)
			s.Max, s.Median = ds[len(ds)-1], ds[len(ds)/2]
		}
		out = append(out, s)
	}
	sort.SliceStable(out, func(a, b int) bool { return out[a].Max > out[b].Max })
	return out
}

func warnings(in Input, pairs []Pair, sp []Spread, gs []GroupRow) []Warning {
	var few, old, spread, faded []string
	yearAgo := in.Now.AddDate(-1, 0, 0)
	for _, s := range sp {
		if s.Faded > 0 && s.Faded == s.References {
			faded = append(faded, s.ID)
		}
		if s.References < 3 {
			few = append(few, s.ID)
		}
		if !s.Oldest.IsZero() && s.Oldest.Before(yearAgo) {
			old = append(old, s.ID)
		}
		if s.Max > in.Match.Threshold {
			spread = append(spread, s.ID)
		}
	}
	var out []Warning
	add := func(kind string, ids []string, text string) {
		if len(ids) > 0 {
			sort.Strings(ids)
			out = append(out, Warning{Kind: kind, IDs: ids, Text: text})
		}
	}
	add(FewReferences, few, "one or two reference photos do not cover how a child looks from day to day: enroll three or more (portraits from this school year, different days)")
	add(OldReferences, old, "children's faces change within a year: enroll this year's photos; old references make missed and wrong matches likelier")
	add(AllFaded, faded, "every reference is older than the reference age (about two school years): these pupils are never shown until they are enrolled again (this year's portrait, or enroll --from a reviewed photo)")
	var noSchool, groupWrong []string
	for _, g := range gs {
		if !g.Applies {
			noSchool = append(noSchool, g.Group)
		}
		if g.Wrong > 0 {
			groupWrong = append(groupWrong, g.Group)
		}
	}
	add(NoSchool, noSchool, fmt.Sprintf("fewer than %d pupils are enrolled outside these groups, so photos in their folders are matched with faces.margin, not the group margin %.2f: enroll the school's other pupils too (with or without consent; a face matched to them is blurred) to show more consented children safely", in.GroupMinOutside, in.GroupMargin))
	add(GroupLookAlikes, groupWrong, "a reference of a pupil of these groups, tried as a child who is not enrolled, was shown as a classmate at the margin the group's photos get: check the look-alikes below and add references (enroll --from)")
	add(SpreadOut, spread, "their references lie further apart than the threshold: one may be of someone else, or the child changed; replace them with new photos")
	for _, p := range pairs {
		if p.Distance <= in.Match.Threshold {
			add(CloserPupils, []string{p.A, p.B}, "these two pupils (siblings or twins?) are closer than the threshold: a photo of one may be matched to the other; the margin decides, so keep it at 0.30 or more and check their photos on the review page")
		}
	}
	return out
}
