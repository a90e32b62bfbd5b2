// Package redact is the home of the packages a photo's pixels pass through,
// split by the direction the bytes travel:
//
//   - decode: untrusted bytes to pixels (sniff, probe, limits from the
//     header, decode with libjpeg-turbo, libheif or the standard library's
//     PNG decoder, orientation, colour, resize);
//   - mask: pixels to redacted pixels, and the check that a face in the
//     output is redacted (pure Go: testable without libjpeg, libheif or cgo);
//   - encode: pixels to a clean JPEG (libjpeg-turbo), verified segment by
//     segment against an allow-list;
//   - inspect: the parsers of untrusted headers that decode and encode use
//     (and Scan, which reports the metadata a file carries).
//
// This package holds no code, only the tests of the whole path, input to
// published bytes: no fixture's metadata survives decode and encode.
//
// Invariant: a published file is encode's output: only re-encoded pixels,
// never a byte of the input's metadata.
package redact
