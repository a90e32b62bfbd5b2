package detect

import (
	"image"
	"math"
	"sort"
)

// Sample is a face whose identity is known: Label is the enrolled person it
// shows, or "" for someone who is not enrolled.
type Sample struct {
	Label string
	Face  Face
}

// TradeOffRow is what one threshold would do to the samples.
type TradeOffRow struct {
	Threshold float64
	// Correct: enrolled faces matched to themselves (shown when they have
	// consent).
	Correct int
	// Missed: enrolled faces not matched (redacted even with consent: safe,
	// but the school loses the photo of a child who may be shown).
	Missed int
	// False: faces matched to the wrong person, or unknown faces matched to
	// someone (a child shown under someone else's consent: the risk).
	False int
	// Enrolled and Unknown count the samples of each kind.
	Enrolled, Unknown int
}

// TradeOff runs the matcher over labelled samples for each threshold (with
// the given margin and minimum face size), one photo per sample so that the
// matched-twice rule does not apply.
func TradeOff(samples []Sample, people []Person, cfg MatchConfig, thresholds []float64) []TradeOffRow {
	rows := make([]TradeOffRow, len(thresholds))
	for i, t := range thresholds {
		c := cfg
		c.Threshold = t
		row := TradeOffRow{Threshold: t}
		for _, s := range samples {
			m := MatchFaces([]Face{s.Face}, people, c)[0]
			if s.Label == "" {
				row.Unknown++
				if m.ID != "" {
					row.False++
				}
				continue
			}
			row.Enrolled++
			switch m.ID {
			case s.Label:
				row.Correct++
			case "":
				row.Missed++
			default:
				row.False++
			}
		}
		rows[i] = row
	}
	return rows
}

// Distances summarises same-person and different-person distances over the
// samples: for each enrolled sample, its distance to its own person, and to
// the nearest other person; for unknown samples, to the nearest person.
type Distances struct {
	Same, Other Stats
}

// Stats are order statistics of distances.
type Stats struct {
	N                         int
	Min, P5, Median, P95, Max float64
}

// SampleDistances computes the distance distributions.
func SampleDistances(samples []Sample, people []Person) Distances {
	var same, other []float64
	for _, s := range samples {
		cands := nearest(&s.Face.Descriptor, people, CombineBest)
		for _, c := range cands {
			if c.ID == s.Label {
				same = append(same, c.Distance)
				break
			}
		}
		for _, c := range cands {
			if c.ID != s.Label {
				other = append(other, c.Distance)
				break
			}
		}
	}
	return Distances{Same: stats(same), Other: stats(other)}
}

func stats(v []float64) Stats {
	if len(v) == 0 {
		return Stats{}
	}
	sort.Float64s(v)
	q := func(p float64) float64 {
		i := int(math.Round(p * float64(len(v)-1)))
		return v[i]
	}
	return Stats{N: len(v), Min: v[0], P5: q(0.05), Median: q(0.5), P95: q(0.95), Max: v[len(v)-1]}
}

// SafestThreshold is the largest threshold with no false match, or 0 when
// even the smallest has one.
func SafestThreshold(rows []TradeOffRow) float64 {
	best := 0.0
	for _, r := range rows {
		if r.False == 0 && r.Threshold > best {
			best = r.Threshold
		}
	}
	return best
}

// LeaveOneOut measures the false-show rate on the enrolled people themselves: each
// enrolled person in turn is taken as someone who is not enrolled, and each
// of their reference descriptors is matched (one face per photo, at the
// minimum face size) against everyone else with the full rule. Probes
// counts the references tried, Shown those confidently matched to someone
// else: a child who is not enrolled and resembles the enrolled ones as much
// as they resemble each other would be shown as one of them at about this
// rate. It needs no labelled photos, only the consent store's references.
func LeaveOneOut(people []Person, cfg MatchConfig) Count {
	var c Count
	others := make([]Person, 0, len(people))
	for i, p := range people {
		others = append(others[:0], people[:i]...)
		others = append(others, people[i+1:]...)
		for _, d := range p.Descriptors {
			f := Face{Rect: image.Rect(0, 0, cfg.MinFacePx, cfg.MinFacePx), Descriptor: d}
			c.Probes++
			if MatchFaces([]Face{f}, others, cfg)[0].Confident() {
				c.Shown++
			}
		}
	}
	return c
}
