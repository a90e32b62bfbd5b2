// Package retention removes from state_dir what is kept only for a while:
// photos that were not published (rejected/, quarantine/, held/), review
// records (review/) and the journal records of finished photos.
//
// Invariant: only what is past its retention goes (judged by the time it
// was put there, never by a name a user chose), a held photo whose content
// was published since goes with it, nothing outside those folders is ever
// removed, links are removed as links (never followed), and a dry run
// removes nothing. Every removal is in the audit log, by short hash.
package retention
