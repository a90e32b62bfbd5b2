// Package analyze plans and runs the face analysis of one photo. It decides
// which detection pass looks at which scale of the original's pixels so that
// every face at least CoveragePx wide in the published photo is seen by every
// finder at or above that finder's measured floor, runs the passes, merges
// what they found, has the recogniser describe the faces large enough to be
// matched, and says which floor it reached.
//
// Invariant: an Analysis states the floor the passes actually kept. When the
// floor cannot be kept at the asked publication size within the budgets, the
// Analysis says so by a smaller PublishSide (the photo is published smaller),
// never by looking more coarsely than it reports.
//
// A FocusFinder's second look limited to regions (FindFocus) keeps the
// floor only where it looked: a video does so between frames it looks at
// everywhere, and holds each track over the frames before its first
// sighting since the last of those.
//
// The package is pure Go: the detectors it drives are interfaces it owns
// (Finder, Recognizer), implemented by detect/yunet and detect/dlib.
package analyze
