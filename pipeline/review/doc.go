// Package review keeps the coordinator's record of what photoguard decided
// about each photo, made when the photo was settled (the daemon wipes
// inputs, so it cannot be made later): per photo a JSON record and two
// kinds of small JPEG preview, and the page `photoguard review` makes of
// them (BuildPage: one self-contained HTML file, its only script pinned by
// hash in its Content-Security-Policy, images inline as data: URLs).
//
// Invariant: a record names pupils by id only and holds distances, never a
// name or a face descriptor; every file is written 0600 (folders 0700)
// inside state_dir/review through fsync.WriteFile, never through a link.
// The previews show children's faces unredacted: they never leave the
// state folder except into a page the coordinator asks for, which names
// pupils by id unless PageOptions.Names is given.
//
// # Layout
//
//	state_dir/review/                     0700
//	state_dir/review/2026-12-01/          0700, one folder per day (local date of processing)
//	  <short>.json                        the record (short = first 12 hex digits of the content hash)
//	  <short>-in.jpg                      the input at most 480 px, every face boxed and numbered 1..N
//	  <short>-out-<k>.jpg                 the published output of target k (0-based, as in the record), at most 320 px
//	                                      (1024 px when it waits for approval: the direction's page shows it)
//	  <short>-face-<N>.jpg                face N with room around it, at the analysis's resolution (at most 400 px),
//	                                      for enroll --from / correct once the input is wiped
//	  review.html                         `photoguard review`'s page when no --out is given
//
// A photo processed twice on one day has one record (the last). Retention
// (removing day folders older than 30 days) is not done here.
package review
