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
// One photo for one target: a run publishes to its Destinations (a
// configured target with its channel, output size and rules), and seven
// types each describe one photo for one destination at a stage of its way:
//
//   - Delivery (job.go): the photo's part for that target while the steps
//     run: the decisions per face, the redacted image, the output, the
//     error that ended it.
//   - ParkedTarget (approval.go): what an output that waits for approval
//     shows, as the approval step hands it to Approvals.Park.
//   - approval.Target: how the approval store keeps a waiting output, with
//     the direction's answer.
//   - Publication (ledger.go): what the publication ledger is told before
//     and after the output is sent: the channel, the pupils it shows, who
//     approved it.
//   - journal.Delivery: the journal's durable note of the output's name and
//     the target's confirmation and reference (recovery and takedown read
//     it).
//   - Item (report.go): the outcome, as reports, status and the log give it.
//   - review.Target: the coordinator's review record of the outcome, with
//     each face's decision.
//
// Invariant: an input is wiped only after its outcome is durable (confirmed by
// the target, or moved aside with a reason file), and a step that fails makes
// the photo not publish. A stop rolls the photo in hand back (only its own
// time limit holds it), and nothing is written through a link.
package pipeline
