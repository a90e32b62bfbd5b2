// Package mask makes faces unrecognisable (Redact: blur, pixelate or fill,
// over an ellipse or a box enlarged by the mask scale) and checks, from the
// pixels of a decoded output, that each face was redacted (CheckRedacted).
//
// Invariant: Redact changes pixels only inside the regions Region returns
// and keeps there nothing but a few cell averages of the face; the input
// image is never modified. Pure Go: no cgo in this package or its
// dependencies, so it builds and tests with CGO_ENABLED=0.
package mask
