// Package encode turns pixels into the bytes photoguard publishes: a fresh
// baseline JPEG from libjpeg-turbo (JPEG), checked segment by segment
// against an allow-list (VerifyClean) before it is returned.
//
// Invariant: JPEG returns only bytes that VerifyClean accepts: SOI, a plain
// JFIF APP0, tables, one 8-bit 3-component frame, scans and EOI, nothing
// after it; no EXIF, XMP, ICC, IPTC, comment or trailer can be in them.
package encode
