// Package inspect parses untrusted image bytes without decoding pixels: a JPEG
// segment walker, a PNG chunk walker (CRC checked), an ISOBMFF/HEIF box walker
// and a small TIFF/EXIF reader, plus Scan, which reports the metadata a file
// carries (EXIF, GPS, thumbnails, MakerNotes, XMP, IPTC, ICC, comments, PNG
// text chunks, trailing bytes).
//
// Invariant: every parser here is bounded by its input (no allocation larger
// than a small multiple of len(data), no recursion without a depth limit), never
// panics on any input (each is fuzzed), and never copies pixel data.
package inspect
