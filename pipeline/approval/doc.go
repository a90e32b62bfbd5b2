// Package approval keeps the photos that wait for the direction's approval
// before they go to an external channel (a target with approval: direction),
// and answers them: approve puts a photo through the pipeline's one code path
// again, for the approved target alone; reject and expiry send nothing.
//
// Invariant: a waiting original is kept only sealed with the consent store's
// key (consent.Seal; its path below the inbox, which may hold a child's
// name, inside the seal), in state_dir/approval/<sha256>/, and only while a
// target still waits for an answer or for its approved publication; it is
// decrypted only into the staging folder inside state_dir for the one
// Process that publishes it, and removed from there afterwards. Every answer
// is written before it is acted on, so a crash at any point is finished by
// running the same answer again (approve and reject are idempotent), and
// concurrent runs (the daemon parking photos, approve, reject, expiry) change
// the store under one lock.
//
// # Layout
//
//	state_dir/approval/                 0700
//	  .lock                             the store's lock (flock)
//	  <sha256>/                         0700, one photo
//	    waiting.json                    what waits, per target (ids, counts, answers; no name, no path)
//	    original.sealed                 the original with its path below the inbox, sealed
//	  staging/<short>/<path>            the decrypted original while approve publishes it
package approval
