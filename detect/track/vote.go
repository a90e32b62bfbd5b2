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

// Pick says which sightings of a track are described for the vote: a
// few, the larger the better, spread over the track (describing a face
// costs about 40 ms; a video has hundreds of sightings per face).
type Pick struct {
	// MinWidth is the narrowest sighting worth describing (narrower ones
	// are never matched).
	MinWidth float64
	// First: the track's sightings are described until First of them
	// were (the vote needs several), trying at most twice as many.
	First int
	// Every: after those, a sighting at least Every frames after the last
	// one tried.
	Every int
	// Grow: and a sighting at least Grow times as wide as the widest
	// described so far (the face came closer: a better look).
	Grow float64
}

// Picked is what a track's sightings described so far were.
type Picked struct {
	// Described counts the sightings described, Tried those tried (a
	// turned face is tried and not described).
	Described, Tried int
	// Last is the frame of the last sighting tried, Widest the width of
	// the widest described.
	Last, Widest int
}

// Want reports whether to describe a sighting w pixels wide on frame f of
// a track whose sightings described so far are so.
func (p Pick) Want(f, w int, so Picked) bool {
	switch {
	case float64(w) < p.MinWidth:
		return false
	case so.Described < p.First && so.Tried < 2*p.First:
		return true
	case so.Tried > 0 && f-so.Last >= p.Every:
		return true
	}
	return so.Described > 0 && float64(w) >= p.Grow*float64(so.Widest)
}

// Add records a sighting w pixels wide on frame f tried, and whether it was
// described.
func (so *Picked) Add(f, w int, described bool) {
	so.Tried++
	so.Last = f
	if described {
		so.Described++
		so.Widest = max(so.Widest, w)
	}
}
