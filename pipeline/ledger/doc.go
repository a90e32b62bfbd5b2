// Package ledger is the publication ledger: for every output photoguard
// published, on which target, under which name and reference, from which
// input content, on which channel and with which pupils visible in it, and
// every takedown of it. It answers "which published photos show pupil X"
// and carries out takedowns (Takedowner).
//
// Invariant: an entry names pupils by id only and photos by content hash
// and output name; it never holds a name, a descriptor or an input path.
// The ledger is only ever appended to: state_dir/ledger/ledger.jsonl (0600,
// in a 0700 folder), opened with O_APPEND|O_NOFOLLOW, one write of one
// line per entry, fsynced before the call returns, under an flock so that
// the daemon and the CLI can write at the same time. Every output is
// announced before it is sent, so a crash in between leaves an entry that
// a takedown can act on.
//
// The file is plain JSON lines (pupil ids and hashes, no names): the
// consent store's sealing (pipeline/consent) is not exported, and the state
// folder is the service user's alone.
package ledger
