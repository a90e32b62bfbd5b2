// Package pipeline runs one photo through the step list (ready, claim, read,
// categorise, decode, detect, decide, redact, encode, verify, publish, wipe)
// for both the daemon and batch runs: pipeline/inbox finds the files and
// says when each is ready, and hands them to the pipeline through Intake.
//
// Invariant: an input is wiped only after its outcome is durable (confirmed by
// the target, or moved aside with a reason file), and a step that fails makes
// the photo not publish. A stop rolls the photo in hand back (only its own
// time limit holds it), and nothing is written through a link.
package pipeline
