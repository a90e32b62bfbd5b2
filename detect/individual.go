package detect

import "image"

// DefaultIndividualShare is individual.min_share's default: a shown face
// whose box is a quarter of the photo's shorter side or more makes the photo
// a portrait of that pupil.
const DefaultIndividualShare = 0.25

// Dominates is how much larger than every other shown face a face must be
// to dominate a photo: a close group photo, where four to six faces are each
// a quarter of the photo's shorter side (the shared bbt4 and bbt5 with the
// finder's boxes, which reach from the hairline to the chin), is a group
// photo, not a portrait.
const Dominates = 1.5

// Individual says whether a photo shows one person recognisable on their own
// (the schools' protocols keep such photos to the closed parent portal):
// exactly one face is shown, or one shown face dominates: its box (the
// larger of its sides) is at least minShare of the photo's shorter side and
// at least Dominates times every other shown face's. shown are the boxes of
// the faces the channel shows, bounds the photo's, in the same coordinates.
// A photo with no face shown is no portrait.
func Individual(shown []image.Rectangle, bounds image.Rectangle, minShare float64) bool {
	switch len(shown) {
	case 0:
		return false
	case 1:
		return true
	}
	short := min(bounds.Dx(), bounds.Dy())
	if short <= 0 {
		return false
	}
	// The largest shown face and the next.
	first, second := 0.0, 0.0
	for _, r := range shown {
		s := FaceShare(r, bounds)
		switch {
		case s > first:
			first, second = s, first
		case s > second:
			second = s
		}
	}
	return first >= minShare && first >= Dominates*second
}

// FaceShare is the larger side of a face's box as a share of the photo's
// shorter side.
func FaceShare(face, bounds image.Rectangle) float64 {
	short := min(bounds.Dx(), bounds.Dy())
	if short <= 0 {
		return 0
	}
	return float64(max(face.Dx(), face.Dy())) / float64(short)
}
