package detect

import (
	"fmt"
	"log/slog"
	"math"
	"sort"
	"strings"
	"time"
	"unicode"
)

// Person is an enrolled person as the matcher sees them: an id (never a
// name) and their reference descriptors.
type Person struct {
	ID          string
	Descriptors []Descriptor
	// Added are the dates the Descriptors were enrolled, in their order
	// (zero: unknown; nil: all unknown). Age moves those older than the
	// reference age limit to Stale.
	Added []time.Time
	// Stale are references too old to show anyone by (children's faces
	// change): they can never make a confident match, but they still count
	// as this person for the margin and under the objections policy, so an
	// old reference only ever redacts more.
	Stale []Descriptor
	// Group is the person's group in the consent store ("groep 5"); "" (staff)
	// belongs to every group.
	Group string
	// Negatives are faces the coordinator said are NOT this person
	// (`photoguard correct --not`): a face within NegativeRadius of one of
	// them is never matched to this person. They are not references of
	// anyone; the person still counts for the margin.
	Negatives []Descriptor
}

// Format prints a Person without descriptors (they are biometric data): its
// id and how many references and negatives it has, whatever the verb.
func (p Person) Format(f fmt.State, _ rune) {
	fmt.Fprintf(f, "detect.Person{ID:%s Group:%q Descriptors:[%d redacted] Stale:[%d redacted] Negatives:[%d redacted]}", p.ID, p.Group, len(p.Descriptors), len(p.Stale), len(p.Negatives))
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
	// consent need not be here, they are in the consent store and so already
	// compared. Nil means no background set. No setting fills it yet: it
	// is measured in MEASUREMENTS-children.md.
	Background []Descriptor
	// Combine is how a person's references make one distance: CombineMean
	// (the distance to the mean of their references; the default, "") or
	// CombineBest (the nearest reference). The mean kept more consented
	// faces where a school's pupils are enrolled around the class, and
	// gives a look-alike one chance per pupil, not one per reference
	// (MEASUREMENTS-children.md §7).
	Combine string
	// Group is the group of the photo being matched (its inbox folder), ""
	// when it has none. With a group, a face is shown only as a pupil of
	// that group (or staff); the margin is still measured against everyone
	// enrolled, so a look-alike elsewhere in the school blocks the match.
	// The pipeline sets it per photo.
	Group string
}

// How a person's references make one distance (MatchConfig.Combine).
const (
	CombineBest = "best"
	CombineMean = "mean"
)

// Why a face is not a confident match.
//
// They are the categories reports count; Match.Detail adds what was measured.
const (
	WhyNoPeople     = "nobody enrolled"
	WhyTooSmall     = "too small to recognise"
	WhyUnknown      = "unknown face"
	WhyAmbiguous    = "ambiguous: another person is nearly as close"
	WhyMatchedTwice = "the same person matched twice in this photo"
	WhyBackground   = "ambiguous: as close to a child who is not enrolled"
	// WhyOtherGroup: the face is confidently a pupil of another group than
	// the photo's folder; a class photo shows its own class.
	WhyOtherGroup = "a pupil of another group than this photo's folder"
	// WhyStale: the nearest person has only references older than the
	// reference age limit.
	WhyStale = "only old references: enroll again"
	// WhyNotDescribed: the face was found, but the recogniser could not
	// describe it (too small, turned or covered): nobody can be told from
	// it, so it is redacted under every policy.
	WhyNotDescribed = "found, but not clear enough to recognise"
	// WhyCorrected: the face would match P, but the coordinator said that
	// this face is not P (a negative of P lies within NegativeRadius).
	WhyCorrected = "corrected: marked as not this person"
)

// Candidate is an enrolled person and their distance to a face (the
// smallest over their references, or to their mean: MatchConfig.Combine).
type Candidate struct {
	ID       string
	Distance float64
	// Stale is set when the distance is to references older than the age
	// limit (the person has no others): such a candidate is never matched.
	Stale bool
}

// Match is what the matcher concluded about one face.
type Match struct {
	// ID is the confidently matched person, "" when there is none.
	ID string
	// Why explains an empty ID (one of the Why constants).
	Why string
	// Detail says what was measured, in words a coordinator can check
	// ("next person 0.15 further, 0.30 needed"); "" when there is nothing
	// to add.
	Detail string
	// Nearest are all enrolled people by distance, nearest first, for
	// `photoguard explain` and for the objection-list policy.
	Nearest []Candidate
}

// Confident reports whether the face was matched to someone.
func (m Match) Confident() bool { return m.ID != "" }

// Reason is Why with its Detail, for the review page and explain.
func (m Match) Reason() string {
	if m.Detail == "" {
		return m.Why
	}
	return m.Why + " (" + m.Detail + ")"
}

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

// SameGroup reports whether two group names are the same group: letters and
// digits compared without case, so "Groep 5", "groep-5" and "groep5" are one.
func SameGroup(a, b string) bool {
	return a != "" && normGroup(a) == normGroup(b)
}

func normGroup(g string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(g) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// GroupOf returns the consent store's spelling of group when some enrolled person
// belongs to it, "" otherwise (a folder that is no group: the whole school).
func GroupOf(people []Person, group string) string {
	if normGroup(group) == "" {
		return ""
	}
	for _, p := range people {
		if SameGroup(p.Group, group) {
			return p.Group
		}
	}
	return ""
}

// Age returns people with the references added before now-maxAge moved to
// Stale (maxAge <= 0: none are). References of unknown date stay: a store
// from before dates were kept must keep working.
func Age(people []Person, now time.Time, maxAge time.Duration) []Person {
	if maxAge <= 0 {
		return people
	}
	cut := now.Add(-maxAge)
	out := make([]Person, len(people))
	for i, p := range people {
		q := p
		q.Descriptors, q.Added, q.Stale = nil, nil, append([]Descriptor(nil), p.Stale...)
		for k, d := range p.Descriptors {
			var at time.Time
			if k < len(p.Added) {
				at = p.Added[k]
			}
			if !at.IsZero() && at.Before(cut) {
				q.Stale = append(q.Stale, d)
				continue
			}
			q.Descriptors = append(q.Descriptors, d)
			q.Added = append(q.Added, at)
		}
		out[i] = q
	}
	return out
}

func matchOne(f Face, people []Person, cfg MatchConfig) Match {
	if f.NoDescriptor {
		return Match{Why: WhyNotDescribed}
	}
	cands := nearest(&f.Descriptor, people, cfg.Combine)
	m := Match{Nearest: cands}
	bg := math.Inf(1)
	if len(cfg.Background) > 0 && len(cands) > 0 {
		bg = nearestOf(&f.Descriptor, cfg.Background)
	}
	m.ID, m.Why = Judge(cands, bg, f.Rect.Dx(), cfg)
	m.Detail = Detail(m.Why, cands, bg, f.Rect.Dx(), cfg)
	if m.ID != "" && negated(&f.Descriptor, people, m.ID) {
		// The reason says it all (the nearest people are listed beside it).
		m.ID, m.Why, m.Detail = "", WhyCorrected, ""
	}
	if m.ID != "" && cfg.Group != "" {
		for _, p := range people {
			if p.ID == m.ID && p.Group != "" && !SameGroup(p.Group, cfg.Group) {
				m.ID, m.Why = "", WhyOtherGroup
				m.Detail = fmt.Sprintf("nearest %s of %s, the photo is in %s", p.ID, p.Group, cfg.Group)
			}
		}
	}
	return m
}

// Detail says in numbers why Judge decided as it did (why is its answer):
// the measured distance or width against the rule's.
func Detail(why string, cands []Candidate, background float64, width int, cfg MatchConfig) string {
	switch why {
	case WhyTooSmall:
		return fmt.Sprintf("%d px wide, %d needed", width, cfg.MinFacePx)
	case WhyUnknown:
		if len(cands) > 0 {
			return fmt.Sprintf("nearest person %.2f away, at most %.2f matches", cands[0].Distance, cfg.Threshold)
		}
	case WhyAmbiguous:
		if len(cands) > 1 {
			return fmt.Sprintf("%.2f from the nearest person, next person %.2f further, %.2f needed",
				cands[0].Distance, cands[1].Distance-cands[0].Distance, cfg.Margin)
		}
	case WhyBackground:
		return fmt.Sprintf("a child who is not enrolled %.2f further, %.2f needed", background-cands[0].Distance, cfg.Margin)
	case WhyStale:
		return fmt.Sprintf("%.2f from %s, whose references are all older than the age limit", cands[0].Distance, cands[0].ID)
	case "":
		if len(cands) > 1 {
			return fmt.Sprintf("%.2f away (at most %.2f), next person %.2f further (%.2f needed)",
				cands[0].Distance, cfg.Threshold, cands[1].Distance-cands[0].Distance, cfg.Margin)
		}
		if len(cands) == 1 {
			return fmt.Sprintf("%.2f away (at most %.2f)", cands[0].Distance, cfg.Threshold)
		}
	}
	return ""
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
	case cands[0].Stale:
		return "", WhyStale
	}
	return cands[0].ID, ""
}

// PersonDistance is d's distance to a person with references refs under the
// rule combine (MatchConfig.Combine): what the matcher compares.
func PersonDistance(d *Descriptor, refs []Descriptor, combine string) float64 {
	if len(refs) == 0 {
		return math.Inf(1)
	}
	return combined(d, refs, combine)
}

// combined is d's distance to refs: to the nearest, or to their mean.
func combined(d *Descriptor, refs []Descriptor, combine string) float64 {
	if combine != CombineBest && len(refs) > 1 {
		m := Mean(refs)
		return Distance(d, &m)
	}
	best := math.Inf(1)
	for i := range refs {
		if dist := Distance(d, &refs[i]); dist < best {
			best = dist
		}
	}
	return best
}

// Mean is the mean of descriptors (the zero descriptor for none).
func Mean(ds []Descriptor) Descriptor {
	var sum [DescriptorLen]float64
	for i := range ds {
		for k, v := range ds[i] {
			sum[k] += float64(v)
		}
	}
	var m Descriptor
	if len(ds) == 0 {
		return m
	}
	for k := range m {
		m[k] = float32(sum[k] / float64(len(ds)))
	}
	return m
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

// nearest returns every person with their distance to d (combine: from
// their nearest reference, or from their mean), nearest first; a person with
// only stale references is there with Stale set. A NaN distance (a broken
// descriptor) sorts last and never matches.
func nearest(d *Descriptor, people []Person, combine string) []Candidate {
	cands := make([]Candidate, 0, len(people))
	for _, p := range people {
		refs, stale := p.Descriptors, false
		if len(refs) == 0 {
			refs, stale = p.Stale, true
		}
		if len(refs) == 0 {
			continue
		}
		cands = append(cands, Candidate{ID: p.ID, Distance: combined(d, refs, combine), Stale: stale})
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
