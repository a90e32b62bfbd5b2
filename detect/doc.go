// Package detect holds the pure-Go side of face handling: the face and
// descriptor types, the matcher that decides who a face is, and the category
// rules. The cgo binding to dlib lives in detect/dlib and nowhere else.
//
// Invariant: a face is a confident match only when every rule (threshold,
// margin, size, uniqueness) says so and the coordinator has not said that
// this face is not that person (a negative within NegativeRadius); anything
// else is unknown.
package detect
