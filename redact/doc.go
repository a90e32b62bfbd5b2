// Package redact turns untrusted image bytes into clean pixels and clean
// pixels into a clean JPEG: safe decode (limits from the header, orientation,
// HEIC), face redaction and a fresh encode that is verified segment by segment.
//
// Invariant: an output of this package contains only re-encoded pixels, never
// a byte of the input's metadata.
package redact
