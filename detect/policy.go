package detect

import "fmt"

// Policy decides which faces a channel may show.
type Policy string

const (
	// PolicyConsent (the default) shows a face only when it is a confident
	// match to someone with valid consent for the channel and no objection
	// to this photo. Unknown, ambiguous and too-small faces are redacted.
	PolicyConsent Policy = "consent"
	// PolicyObjections redacts only faces that are, or may be, people
	// without consent (or with an objection to this photo); unknown faces
	// stay visible. It shows children who were never enrolled: a school
	// choosing it must enroll every child whose parents object.
	PolicyObjections Policy = "objections"
)

// Reasons in decisions (they go into reports, by count).
const (
	ReasonConsent        = "consent"
	ReasonObjection      = "objection to this photo"
	ReasonUnknownShown   = "unknown face (shown under the objections policy)"
	ReasonMaybeNoConsent = "may be a person without consent"
	ReasonNotConfident   = "not a confident match"
)

// ConsentFunc answers whether person id may be shown on the channel being
// decided; when not, why is a short reason ("no consent for website",
// "consent from an earlier school year", "revoked").
type ConsentFunc func(id string) (ok bool, why string)

// Decision is what happens to one face on one channel.
type Decision struct {
	Show bool
	// ID is the confidently matched person, if any (an id, never a name).
	ID string
	// Reason says why the face is shown or redacted.
	Reason string
}

// Decide applies the policy to the matches of one photo for one channel,
// made with the match settings mc (the objections policy redacts a face
// within mc.ObjectionRadius of someone who may not be shown). objected
// reports a per-photo objection by person id. Anything the rules do not
// positively allow is redacted.
func Decide(matches []Match, policy Policy, mc MatchConfig, consent ConsentFunc, objected func(id string) bool) []Decision {
	radius := mc.ObjectionRadius()
	out := make([]Decision, len(matches))
	for i, m := range matches {
		out[i] = decideOne(m, policy, radius, consent, objected)
	}
	return out
}

// ObjectionRadius is how near (Euclidean distance) a face that is not a
// confident match must be to someone who may not be shown for the
// objections policy to redact it: the threshold plus the margin, since a
// face just past the threshold is not someone else for sure.
func (c MatchConfig) ObjectionRadius() float64 { return c.Threshold + c.Margin }

func decideOne(m Match, policy Policy, radius float64, consent ConsentFunc, objected func(id string) bool) Decision {
	mayShow := func(id string) (bool, string) {
		if objected != nil && objected(id) {
			return false, ReasonObjection
		}
		ok, why := consent(id)
		if !ok {
			if why == "" {
				why = "no consent"
			}
			return false, why
		}
		return true, ReasonConsent
	}
	if m.Confident() {
		ok, why := mayShow(m.ID)
		return Decision{Show: ok, ID: m.ID, Reason: why}
	}
	switch policy {
	case PolicyObjections:
		if m.Why == WhyMatchedTwice || m.Why == WhyNotDescribed {
			return Decision{Reason: m.Why}
		}
		// Not confident, but within the objection radius of someone who
		// may not be shown: it may be them.
		for _, c := range m.Nearest {
			if c.Distance <= radius {
				if ok, _ := mayShow(c.ID); !ok {
					return Decision{Reason: ReasonMaybeNoConsent}
				}
			}
		}
		return Decision{Show: true, Reason: ReasonUnknownShown}
	case PolicyConsent:
		return Decision{Reason: m.Why}
	}
	// An unknown policy shows nothing.
	return Decision{Reason: fmt.Sprintf("unknown policy %q", policy)}
}
