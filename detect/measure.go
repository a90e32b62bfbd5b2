package detect

import (
	"math"
	"math/rand/v2"
	"sort"
	"strconv"
)

// The measurements behind the matching defaults (MEASUREMENTS-children.md):
// how often a child who is not enrolled would be shown as an enrolled one,
// and how many consented faces stay visible. The rule measured is Judge and
// MatchFaces themselves, not a copy of them.

// Child is one child's face in a measurement set, one photo per child, so
// that every two faces are two different children.
type Child struct {
	Descriptor Descriptor
	// Band is the age band, Group the dataset's ethnicity label: the
	// results are broken down by them.
	Band, Group string
}

// ChildSet is a set of children with their pairwise distances, computed
// once.
type ChildSet struct {
	Children []Child
	dist     [][]float32
}

// NewChildSet computes the pairwise distances (n²/2 distances: about a
// second for a thousand children).
func NewChildSet(children []Child) *ChildSet {
	n := len(children)
	s := &ChildSet{Children: children, dist: make([][]float32, n)}
	for i := range s.dist {
		s.dist[i] = make([]float32, n)
	}
	for i := 0; i < n; i++ {
		for j := i + 1; j < n; j++ {
			d := float32(Distance(&children[i].Descriptor, &children[j].Descriptor))
			s.dist[i][j], s.dist[j][i] = d, d
		}
	}
	return s
}

// Subset is the set of the children for which keep is true, distances
// reused.
func (s *ChildSet) Subset(keep func(Child) bool) *ChildSet {
	var idx []int
	for i, c := range s.Children {
		if keep(c) {
			idx = append(idx, i)
		}
	}
	out := &ChildSet{dist: make([][]float32, len(idx))}
	for a, i := range idx {
		out.Children = append(out.Children, s.Children[i])
		out.dist[a] = make([]float32, len(idx))
		for b, j := range idx {
			out.dist[a][b] = s.dist[i][j]
		}
	}
	return out
}

// FalseShowOptions describe one school as the measurement draws it.
type FalseShowOptions struct {
	// Shown children are enrolled with consent: a face matched to one of
	// them is shown (the class of the photo).
	Shown int
	// Enrolled is the number of children enrolled in all (at least
	// Shown): the others are enrolled but may not be shown in this
	// photo (no consent, or another group when photos are scoped by
	// group), so a face matched to them is redacted, and they take part in
	// the margin rule. 0 means Shown.
	Enrolled int
	// Background is the number of other children's descriptors in the
	// open-set background set (MatchConfig.Background), drawn from the
	// children not enrolled; they are never probes.
	Background int
	// Draws is the number of schools drawn, Seed makes them reproducible.
	Draws int
	Seed  uint64
	// Match is the rule; its Background field is ignored (the background
	// comes from the set).
	Match MatchConfig
	// Band, when set, draws the Shown children from that age band only
	// (the rest of the enrolled and the background from everyone) and
	// counts only the probes of that band: a class of one age in a school
	// of all ages.
	Band string
}

// Count is a number of probes and how many of them were falsely shown.
type Count struct{ Probes, Shown int }

// Rate is Shown/Probes (0 without probes).
func (c Count) Rate() float64 {
	if c.Probes == 0 {
		return 0
	}
	return float64(c.Shown) / float64(c.Probes)
}

// FalseShowResult is the false-show rate over the draws: every child of
// the set who is neither enrolled nor in the background is a probe, and is
// falsely shown when the rule matches them confidently to a child of the
// Shown set.
type FalseShowResult struct {
	PerDraw []Count
	// Mean is the mean of the draws' rates, Worst the largest.
	Mean, Worst float64
	// ByBand and ByGroup add up the draws by the probe's labels.
	ByBand, ByGroup map[string]Count
}

// FalseShow draws opt.Draws schools from the set and measures each. Probes
// are judged one per photo (the matched-twice rule never applies) and at
// the minimum face size.
func (s *ChildSet) FalseShow(opt FalseShowOptions) FalseShowResult {
	reg := max(opt.Enrolled, opt.Shown)
	res := FalseShowResult{ByBand: map[string]Count{}, ByGroup: map[string]Count{}}
	n := len(s.Children)
	if reg+opt.Background >= n || opt.Shown <= 0 {
		return res
	}
	cfg := opt.Match
	cfg.Background = nil
	var sum float64
	cands := make([]Candidate, reg)
	for draw := 0; draw < opt.Draws; draw++ {
		rng := rand.New(rand.NewPCG(opt.Seed, uint64(draw)))
		perm := rng.Perm(n)
		if opt.Band != "" {
			perm = bandFirst(perm, s.Children, opt.Band, opt.Shown)
			if perm == nil {
				return res
			}
		}
		enrolled, bg, probes := perm[:reg], perm[reg:reg+opt.Background], perm[reg+opt.Background:]
		var c Count
		for _, p := range probes {
			if opt.Band != "" && s.Children[p].Band != opt.Band {
				continue
			}
			row := s.dist[p]
			for k, e := range enrolled {
				cands[k] = Candidate{ID: idOf(k), Distance: float64(row[e])}
			}
			sortCandidates(cands)
			near := math.Inf(1)
			for _, b := range bg {
				near = min(near, float64(row[b]))
			}
			id, _ := Judge(cands, near, cfg.MinFacePx, cfg)
			shown := id != "" && indexOf(id) < opt.Shown
			c.Probes++
			band, group := res.ByBand[s.Children[p].Band], res.ByGroup[s.Children[p].Group]
			band.Probes++
			group.Probes++
			if shown {
				c.Shown++
				band.Shown++
				group.Shown++
			}
			res.ByBand[s.Children[p].Band], res.ByGroup[s.Children[p].Group] = band, group
		}
		res.PerDraw = append(res.PerDraw, c)
		sum += c.Rate()
		res.Worst = max(res.Worst, c.Rate())
	}
	if opt.Draws > 0 {
		res.Mean = sum / float64(opt.Draws)
	}
	return res
}

// bandFirst reorders perm so that its first k entries are the first k
// children of band in perm, the others keeping their order; nil when the
// band has fewer than k children.
func bandFirst(perm []int, children []Child, band string, k int) []int {
	var first, rest []int
	for _, i := range perm {
		if len(first) < k && children[i].Band == band {
			first = append(first, i)
		} else {
			rest = append(rest, i)
		}
	}
	if len(first) < k {
		return nil
	}
	return append(first, rest...)
}

// Enrolled children are known to Judge by their index in the draw.
func idOf(k int) string { return strconv.Itoa(k) }

func indexOf(id string) int {
	k, err := strconv.Atoi(id)
	if err != nil {
		return math.MaxInt
	}
	return k
}

func sortCandidates(c []Candidate) {
	sort.Slice(c, func(a, b int) bool { return c[a].Distance < c[b].Distance })
}

// AdultsResult counts what the consent policy does to the faces of group
// photos of enrolled adults, for every choice of the one person without
// consent.
type AdultsResult struct {
	// Consented faces are the faces found of people with consent; Kept of
	// them were shown as themselves.
	Consented, Kept int
	// Leaks are faces shown that must not be: the person without consent,
	// a face shown as someone else, an unknown face.
	Leaks int
	// Scenarios is the number of people tried as the one without consent.
	Scenarios int
}

// KeptRate is Kept/Consented.
func (r AdultsResult) KeptRate() float64 {
	if r.Consented == 0 {
		return 0
	}
	return float64(r.Kept) / float64(r.Consented)
}

// Adults runs MatchFaces and Decide (consent policy) over photos whose faces
// are labelled (Label "" for anyone not enrolled), once per enrolled person
// taken as the one without consent, everyone else consented.
func Adults(photos [][]Sample, people []Person, cfg MatchConfig) AdultsResult {
	var r AdultsResult
	for _, without := range people {
		r.Scenarios++
		consent := func(id string) (bool, string) { return id != without.ID, "no consent" }
		for _, photo := range photos {
			faces := make([]Face, len(photo))
			for i, s := range photo {
				faces[i] = s.Face
			}
			dec := Decide(MatchFaces(faces, people, cfg), PolicyConsent, cfg, consent, nil)
			for i, s := range photo {
				ok := s.Label != "" && s.Label != without.ID
				if ok {
					r.Consented++
				}
				switch {
				case !dec[i].Show:
				case ok && dec[i].ID == s.Label:
					r.Kept++
				default:
					r.Leaks++
				}
			}
		}
	}
	return r
}
