// Package inbox is the folder teachers drop photos into, seen from
// photoguard: which entries are a teacher's files at all (the one set of
// skip rules, for the daemon, batch runs and `status` alike), when a file is
// completely written (settle), when a file that failed for a passing reason
// is due again (backoff), and the file watcher that hints at changes. Two
// short loops run a Processor over it: Batch (every file once, waiting for
// what is still being written) and Daemon (for as long as it runs).
//
// Invariant: the inbox never follows a link and never reads a file's
// content; an entry the skip rules leave out is never handed to a
// Processor, and the only thing it writes is the removal of photoguard's own
// interrupted temporary files. What becomes of an entry the Processor
// decides.
package inbox
