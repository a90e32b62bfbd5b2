package detect

import "time"

// Analysis is what the face analysis of one photo found and how finely it
// looked.
type Analysis struct {
	// Faces are in the coordinates of the image that was analysed.
	Faces []Face
	// FloorPx is the coverage floor reached: every detection pass that
	// must find all faces looked for faces down to this width, in pixels
	// of the photo as it is published at PublishSide.
	FloorPx float64
	// PublishSide is the longest side, in pixels, the photo may be
	// published at for FloorPx to hold: the side that was asked for, or
	// smaller when the floor could not be kept at that size within the
	// time and memory budgets.
	PublishSide int
	// Normalized is set when a contrast-normalised copy was analysed too
	// (a dark, backlit or washed-out photo).
	Normalized bool
	// Passes say what ran, in order.
	Passes []PassStat
}

// PassStat is one detection pass of an analysis.
type PassStat struct {
	// Name is the pass, for example "yunet", "hog" or "describe".
	Name string
	// MinFacePx is the smallest face width the pass looked for, in pixels
	// of the analysed image (0 for passes that look at given boxes).
	MinFacePx float64
	// Found is how many faces or boxes the pass returned.
	Found int
	// Took is the pass's wall time.
	Took time.Duration
}
