package detect

import (
	"fmt"
	"log/slog"
	"math"
	"sort"
)

// Person is an enrolled person as the matcher sees them: an id (never a
// name) and their reference descriptors.
type Person struct {
	ID          string
	Descriptors []Descriptor
	// Negatives are faces the coordinator said are NOT this person
	// (`photoguard correct --not`): a face within NegativeRadius of one of
	// them is never matched to this person. They are not references of
	// anyone; the person still counts for the margin.
	Negatives []Descriptor
}

// Format prints a Person without descriptors (they are biometric data): its
// id and how many references and negatives it has, whatever the verb.
func (p Person) Format(f fmt.State, _ rune) {
	fmt.Fprintf(f, "detect.Person{ID:%s Descriptors:[%d redacted] Negatives:[%d redacted]}", p.ID, len(p.Descriptors), len(p.Negatives))
}

// LogValue logs a Person by id only.
func (p Person) LogValue() slog.Value {
	return slog.GroupValue(slog.String("id", p.ID), slog.Int("references", len(p.Descriptors)))
}

// NegativeRadius is how close a face must be to a negative of P for the
// correction to apply: the same face seen again (another copy, the photo
// shrunk or re-encoded) moved by 0.15 (median) and 0.24 (max) in
// detect/dlib/MEASUREMENTS.md §3, while two photos of one person are 0.3 to
// 0.5 apart. So the correction covers that face, not every face of a
// look-alike.
const NegativeRadius = 0.3

// MatchConfig are the rules a confident match must pass.
type MatchConfig struct {
	// Threshold is the largest Euclidean distance at which a face can be
	// this person (dlib uses 0.6 for adults; children are mixed up more
	// easily, so photoguard's default is stricter).
	Threshold float64
	// Margin is how much further the second-nearest person must be.
	Margin float64
	// MinFacePx is the narrowest face (in pixels of the analysed image)
	// that is matched at all; smaller faces are unknown.
	MinFacePx int
	// Background are descriptors of other children who are not enrolled
	// (the open-set rule): a face is matched to P only when every one of
	// them is also at least Margin further from it than P is. They play
	// the part of people nobody may be matched to; enrolled people without
	// consent need not be here, they are in the register and so already
	// compared. Nil means no background set. No setting fills it yet: it
	// is measured in MEASUREMENTS-children.md.
	Background []Descriptor
}

// Why a face is not a confident match.
const (
	WhyNoPeople     = "nobody enrolled"
	WhyTooSmall     = "too small to recognise"
	WhyUnknown      = "unknown face"
	WhyAmbiguous    = "ambiguous: two people are about as close"
	WhyMatchedTwice = "the same person matched twice in this photo"
	WhyBackground   = "ambiguous: as close to a child who is not enrolled"
	// WhyNotDescribed: the face was found, but the recogniser could not
	// describe it (too small, turned or covered): nobody can be told from
	// it, so it is redacted under every policy.
	WhyNotDescribed = "found, but not clear enough to recognise"
	// WhyCorrected: the face would match P, but the coordinator said that
	// this face is not P (a negative of P lies within NegativeRadius).
	WhyCorrected = "corrected: marked as not this person"
)

// Candidate is an enrolled person and their distance to a face (the
// smallest over their references).
type Candidate struct {
	ID       string
	Distance float64
}

// Match is what the matcher concluded about one face.
type Match struct {
	// ID is the confidently matched person, "" when there is none.
	ID string
	// Why explains an empty ID.
	Why string
	// Nearest are all enrolled people by distance, nearest first, for
	// `photoguard explain` and for the objection-list policy.
	Nearest []Candidate
}

// Confident reports whether the face was matched to someone.
func (m Match) Confident() bool { return m.ID != "" }

// MatchFaces matches every face of one photo against the enrolled people.
// A face is a confident match for person P only when it is at least
// MinFacePx wide, its distance to P is at most Threshold, every other
// person is at least Margin further away, and no other face of the photo is
// also a confident match for P. Everything else is not a match.
func MatchFaces(faces []Face, people []Person, cfg MatchConfig) []Match {
	out := make([]Match, len(faces))
	for i, f := range faces {
		out[i] = matchOne(f, people, cfg)
	}
	// Nobody is in a photo twice: if two faces both match P, at least one
	// of them is someone else, and we cannot tell which.
	count := map[string]int{}
	for _, m := range out {
		if m.ID != "" {
			count[m.ID]++
		}
	}
	for i := range out {
		if out[i].ID != "" && count[out[i].ID] > 1 {
			out[i].ID, out[i].Why = "", WhyMatchedTwice
		}
	}
	return out
}

func matchOne(f Face, people []Person, cfg MatchConfig) Match {
	if f.NoDescriptor {
		return Match{Why: WhyNotDescribed}
	}
	cands := nearest(&f.Descriptor, people)
	m := Match{Nearest: cands}
	bg := math.Inf(1)
	if len(cfg.Background) > 0 && len(cands) > 0 {
		bg = nearestOf(&f.Descriptor, cfg.Background)
	}
	m.ID, m.Why = Judge(cands, bg, f.Rect.Dx(), cfg)
	if m.ID != "" && negated(&f.Descriptor, people, m.ID) {
		m.ID, m.Why = "", WhyCorrected
	}
	return m
}

// negated reports whether d lies within NegativeRadius of a negative of the
// person id (a NaN distance counts as within: fail closed).
func negated(d *Descriptor, people []Person, id string) bool {
	for _, p := range people {
		if p.ID != id {
			continue
		}
		for i := range p.Negatives {
			if v := Distance(d, &p.Negatives[i]); !(v > NegativeRadius) {
				return true
			}
		}
	}
	return false
}

// Judge is the rule for one face, given every enrolled person's distance to
// it (nearest first, as MatchFaces orders them), the distance to the
// nearest background descriptor (+Inf when there is none) and the face's
// width. It returns the confidently matched id, or "" and why not. It does
// not know the other faces of the photo (MatchFaces adds the matched-twice
// rule). The measurements call it directly with precomputed distances.
func Judge(cands []Candidate, background float64, width int, cfg MatchConfig) (id, why string) {
	switch {
	case len(cands) == 0:
		return "", WhyNoPeople
	case width < cfg.MinFacePx:
		return "", WhyTooSmall
	case !(cands[0].Distance <= cfg.Threshold):
		return "", WhyUnknown
	case len(cands) > 1 && !(cands[1].Distance-cands[0].Distance >= cfg.Margin):
		return "", WhyAmbiguous
	case !(background-cands[0].Distance >= cfg.Margin):
		// Also NaN: a broken background descriptor fails closed.
		return "", WhyBackground
	}
	return cands[0].ID, ""
}

// nearestOf is the smallest distance from d to any of ds (+Inf for none,
// NaN when any distance is NaN).
func nearestOf(d *Descriptor, ds []Descriptor) float64 {
	best := math.Inf(1)
	for i := range ds {
		v := Distance(d, &ds[i])
		if math.IsNaN(v) {
			return v
		}
		best = min(best, v)
	}
	return best
}

// nearest returns every person with their smallest distance to d, nearest
// first. A NaN distance (a broken descriptor) sorts last and never matches.
func nearest(d *Descriptor, people []Person) []Candidate {
	cands := make([]Candidate, 0, len(people))
	for _, p := range people {
		best := math.Inf(1)
		for i := range p.Descriptors {
			if dist := Distance(d, &p.Descriptors[i]); dist < best {
				best = dist
			}
		}
		if len(p.Descriptors) > 0 {
			cands = append(cands, Candidate{ID: p.ID, Distance: best})
		}
	}
	sort.SliceStable(cands, func(a, b int) bool {
		da, db := cands[a].Distance, cands[b].Distance
		if math.IsNaN(db) {
			return !math.IsNaN(da)
		}
		return da < db
	})
	return cands
}
