// Package consent is photoguard's consent store: the people and their
// consent per channel imported from the school's administration system
// (ParseConsentCSV), the enrolled reference descriptors per person, and the
// per-photo objections. A Snapshot of it is what the pipeline asks about
// each photo (pipeline.Consent).
//
// Invariant: names, consent and descriptors exist on disk only inside
// authenticated-encrypted files (AES-256-GCM: the store file, its backups,
// and the generation record's copy of consent and objections) that only the
// service user can read, written whole through fsync.WriteFile, and they
// never appear in an error string, a log line or the audit log (ids and
// counts only); a face whose consent cannot be proven for the current
// school year is "no consent"; a store older than the newest one seen is
// never used until the coordinator accepts it; an import never removes more
// people than it was allowed to.
//
// # Layout
//
//	state_dir/registry.key        the key (base64, 0600), unless PHOTOGUARD_KEY is set
//	state_dir/registry.seen       the generation record (0600, encrypted): see Restores
//	state_dir/registry/           0700
//	state_dir/registry/registry.db      the encrypted store (0600)
//	state_dir/registry/registry.db.before-import-DATE
//	                                    the store file as it was before an
//	                                    import (0600; pruned after
//	                                    WithBackupAge, default 30 days)
//	state_dir/registry/registry.lock    flock(2) target for writers (0600)
//
// The names say "registry" because existing installations have these files.
//
// The key lives outside the data directory so that copying the data
// directory (a backup, a support bundle) does not copy the key with it.
//
// # Format
//
// One file holds everything: a 44-byte plaintext header (magic, format
// version, algorithm, a key id, a generation number and the GCM nonce)
// followed by the AES-256-GCM ciphertext of a JSON document. The whole header
// is the GCM additional data, so the generation cannot be changed without
// detection. The key id (an HKDF output of the key, not the key) lets a wrong
// key be reported as "wrong key" rather than as damage. The AES key itself is
// derived from the 32-byte master key with HKDF-SHA256, so the same master key
// can later protect other files without reusing a key.
//
// Why one file and not a database or a file per person: a school has at most
// some 1,500 people with a few 128-float descriptors each, a few megabytes at
// most, which is read whole in milliseconds. One file gives one atomic unit
// (fsync.WriteFile: a temp file, fsync, rename, fsync the directory), so an
// import that replaces the people and removes the descriptors of pupils who
// left is all-or-nothing, and there is exactly one ciphertext to
// authenticate. JSON (with descriptors as base64 of their little-endian float32 bytes) is
// self-describing and carries its own schema number, so a later version can
// read and migrate it without depending on Go types, as gob would.
//
// # Concurrency
//
// Writers (enroll, consent import, revoke, object) take an exclusive flock on
// registry.lock around read-modify-write: they re-read the file under the
// lock, apply their change, and write generation+1, so no update is lost
// between processes. Readers need no lock, because rename is atomic: an open
// file is always a complete generation. The daemon notices a change cheaply
// with Store.Changed, which reads only the header (generation and nonce), and
// reads it again; Store.Current does both, once per photo. If a
// reload fails (damaged file, wrong key) the Store serves an empty snapshot
// with Err set, so every photo is held until the store can be read again:
// fail closed.
//
// # Restores
//
// A backup of registry/ put back is an older generation: it silently brings
// back consent revoked since, and drops objections. So every write also
// records its generation, with that generation's consent and objections (ids
// only: no names, no descriptors), in state_dir/registry.seen, outside
// registry/ so that a restore of registry/ does not roll it back. A store
// older than that record (or than what the Store itself read before; a
// missing store counts as generation 0) is refused with ErrRolledBack,
// by Open, every reload and every write. AcceptRestore is the coordinator's
// deliberate acceptance: it reports, by id, the consent and objections that
// differ from the record, writes the restored store as a generation above
// every one seen, and re-applies nothing. The record is sealed like the
// store but under its own magic, so one cannot stand in for the other.
//
// # Consent
//
// Consent is valid only when it was given and confirmed on or after the start
// of the current school year (1 August by default, see WithSchoolYearStart),
// was not revoked, and is not dated in the future. A person without a consent
// row, an unknown channel and an unreadable store all mean "no consent".
// A revocation stays until an import says yes with a confirmation date after
// the day of the revocation.
//
// # Import
//
// An import replaces the people in the store (or, with a role scope, the
// pupils or the staff) in one write: people missing from the export are
// removed together with their enrolled descriptors, because a pupil who left
// must not stay as biometric data. An import that would remove more than
// ImportOptions.MaxRemove people is refused (ErrTooManyRemovals) and lists
// them, unless it is allowed to; before it replaces the file, the previous
// file is kept as a dated backup (0600, encrypted as it was, pruned after
// the backup age). Consent that was valid and is not after an import or a
// revocation is reported as a Withdrawal, for the takedown of what is
// already published. Imports, revocations and enrollments are recorded in
// the audit log (WithAudit) by id and counts. Enrollment requires a row in
// the store, so every descriptor belongs to someone the school's own
// administration lists.
package consent
