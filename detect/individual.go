package detect

import "image"

// DefaultIndividualShare is individual.min_share's default: a shown face
// whose box is a quarter of the photo's shorter side or more makes the photo
// a portrait of that pupil.
const DefaultIndividualShare = 0.25

// Individual says whether a photo shows one person recognisable on their own
// (the schools' protocols keep such photos to the closed parent portal):
// exactly one face is shown, or one shown face dominates, its box (the
// larger of its sides) at least minShare of the photo's shorter side. shown
// are the boxes of the faces the channel shows, bounds the photo's, in the
// same coordinates. A photo with no face shown is no portrait.
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
	for _, r := range shown {
		if FaceShare(r, bounds) >= minShare {
			return true
		}
	}
	return false
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
