// Package track follows faces through a video: it links the face boxes
// found on sampled frames into tracks (Link), gives every track a box on
// every frame from before its first sighting to after its last (At:
// interpolated between sightings, held a few frames beyond the ends), and
// decides whom a track is from the matches of its sightings (Vote).
//
// Invariant: a track that is not confidently one person in enough of its
// sightings, and never anyone else, is nobody (Vote returns ""); every
// frame between a track's first and last sighting, and Extend frames
// beyond (Before frames before, when more), has a box. Pure Go, no I/O.
package track
