package track

import "fmt"

// Label is what the matcher concluded of one sighting of a track.
type Label struct {
	// ID is the person the sighting is a confident match to ("": none).
	ID string
	// Near lists everyone else the sighting was close to (within the
	// threshold and margin): a sighting near someone else speaks against
	// the track being ID.
	Near []string
	// Described is false when the sighting could not be described (too
	// small, turned): it says nothing for or against anyone.
	Described bool
}

// Rule is how many sightings must agree for a track to be someone.
type Rule struct {
	// MinFrames is the least number of sightings confidently matched to
	// the person.
	MinFrames int
	// MinShare is the least share of the described sightings that must
	// be confident matches to the person.
	MinShare float64
}

// Vote says whom a track is: the one person its sightings confidently
// matched in at least MinFrames sightings and MinShare of the described
// ones (not counting those close to that person alone), when no sighting
// matched or came near anyone else. Otherwise the
// track is nobody (""), with the reason.
func Vote(labels []Label, rule Rule) (id, why string) {
	count := map[string]int{}
	described := 0
	for _, l := range labels {
		if !l.Described {
			continue
		}
		described++
		if l.ID != "" {
			count[l.ID]++
		}
	}
	if len(count) == 0 {
		if described == 0 {
			return "", "never described (too small or turned in every frame it was analysed in)"
		}
		return "", "not recognised"
	}
	if len(count) > 1 {
		return "", "matched to different people in different frames"
	}
	for k := range count {
		id = k
	}
	for _, l := range labels {
		for _, n := range l.Near {
			if n != id {
				return "", "close to someone else in some frames"
			}
		}
	}
	if count[id] < rule.MinFrames {
		return "", fmt.Sprintf("recognised in %d analysed frames, fewer than %d", count[id], rule.MinFrames)
	}
	// A sighting close to the person alone (not confident only for the
	// margin) speaks neither for nor against them; one close to nobody
	// (an unknown face) speaks against.
	counted := described
	for _, l := range labels {
		if l.Described && l.ID == "" && len(l.Near) > 0 {
			counted--
		}
	}
	if share := float64(count[id]) / float64(counted); share < rule.MinShare {
		return "", fmt.Sprintf("recognised in %d of %d analysed frames, less than %.0f%%", count[id], counted, rule.MinShare*100)
	}
	return id, ""
}
