// Package status gathers what `photoguard status` shows: whether the
// service runs (the run lock), what waits in the inbox (counted by the
// inbox's own walk, so by the rules the service takes files by), the
// consent store's summary (given by the caller), the photos in progress
// and the last outcomes from the journal, and the photos in state_dir's
// held, quarantine and rejected folders. Status is also the JSON of
// `status --json`: its field names are an interface for monitoring.
//
// Invariant: Collect changes nothing in the inbox, the journal's records,
// the store or the aside folders (it removes, moves and rewrites nothing;
// it opens the journal as an owner while it lists it, as it did in cmd)
// and names pupils nowhere; it
// holds input paths below the inbox, which may hold children's names, so
// a Status is for the coordinator, like the batch report.
package status
