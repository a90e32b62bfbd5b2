// Package decode turns untrusted bytes into upright 8-bit sRGB pixels: it
// sniffs the format from the content (never the name), checks the limits
// against the file size and the header before a pixel is decoded, decodes
// (JPEG with libjpeg-turbo, HEIC with libheif, PNG with the standard
// library) under recover and a deadline, and applies the orientation (EXIF,
// or the HEIF transforms), Display P3 to sRGB and alpha on white.
//
// Invariant: every failure caused by the input is an *InputError (the file is
// quarantined with its Reason) and nothing else is; no pixel buffer is
// allocated before the header passed the limits; what Decode returns is
// opaque, upright, with its bounds at the origin. The cgo bindings of this
// package are in jpeg.go (libjpeg-turbo) and heic.go (libheif) only.
package decode
