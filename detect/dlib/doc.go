// Package dlib is the project's only cgo binding to dlib (through
// github.com/Kagami/go-face): it finds faces in an upright image and returns a
// 128-D descriptor for each, with boxes in the caller's image coordinates.
//
// Invariant: dlib only ever sees a bounded, freshly encoded 3-component JPEG
// made here from the caller's pixels, and every face any configured pass
// finds is returned exactly once (passes are merged by overlap).
//
// One go-face recognizer runs one detection at a time (it holds a mutex per
// network), so one recognizer is one worker; Config.Workers sets how many a
// Detector holds. C code cannot be interrupted: the context is checked before
// and between the passes, not during one. Defaults and their measurements:
// MEASUREMENTS.md.
//
// Building a binary for other machines: go-face compiles dlib's templates
// with -march=native; build with CXX="$PWD/scripts/portable-cxx.sh" (see that
// script).
package dlib
