// Package vsdlib holds only a measurement: BlazeFace (detect/blazeface) and
// dlib's HOG detector (detect/dlib) side by side on the same crowd photos,
// in one run, to show what each finds that the other misses.
//
// Invariant: no code outside its test; it links both detectors only there.
package vsdlib
