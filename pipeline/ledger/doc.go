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
// The file is JSON lines (pupil ids and hashes, no names), each sealed with
// an HMAC-SHA256 under a key derived from the consent store's key
// (consent.Key.LedgerSealKey), so that a changed line is found, not trusted.
// Reading skips and counts the lines it cannot read or trust (Reading) and
// never stops at them: a takedown reaches every photo a readable line
// names. Lines written before sealing carry no seal and are read. Repair
// rewrites the file with every trusted entry under the lock. Temporary
// upload names (Entry.Temp) are kept as leftovers until a removal is
// confirmed (Sweeper).
package ledger
