// Package pipeline runs one photo through its phases and steps for both the
// daemon and batch runs: pipeline/inbox finds the files and says when each
// is ready, and hands them to the pipeline through Intake. Process takes a
// photo through three phases, and the transform phase is the step list:
//
//  1. intake: read (the whole file once, hashed), claim (in the journal; a
//     duplicate, a busy or an unreadable input ends here);
//  2. transform: categorise, decode, detect, decide, individual, prepare,
//     redact, encode, verify, verify-faces, approval (approval.go: a photo
//     for a target that needs approval waits, its original kept, instead of
//     being published);
//  3. commit: publish (to each target, the journal written before and
//     after), settle (wipe the input, or move it aside with a reason).
//
// A video (video.go, video_faces.go, video_output.go) takes the same
// phases: intake reads it once, hashed, and keeps it open for ffmpeg; its
// transform is categorise, probe, detect (faces on sampled frames, linked
// into tracks), decide (per track), prepare, render (every frame redacted,
// encoded), verify.
//
// A dry run and `explain` (Explain) replace the commit by one that writes
// nothing (process.go: dryRun, noCommit). Recover (recover.go) finishes what
// a dead process left half done.
//
// Invariant: an input is wiped only after its outcome is durable (confirmed by
// the target, or moved aside with a reason file), and a step that fails makes
// the photo not publish. A stop rolls the photo in hand back (only its own
// time limit holds it), and nothing is written through a link.
package pipeline
