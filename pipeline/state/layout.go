package state

import (
	"github.com/photoguard/photoguard/pipeline/audit"
	"github.com/photoguard/photoguard/pipeline/consent"
	"github.com/photoguard/photoguard/pipeline/core"
	"github.com/photoguard/photoguard/pipeline/held"
	"github.com/photoguard/photoguard/pipeline/journal"
	"github.com/photoguard/photoguard/pipeline/ledger"
)

// The entries of the state folder. The packages below this one (the
// journal, the consent store, the ledger, the audit log, held) keep the
// name of what they write, and these are those names; the packages above
// it (review, approval, the video work, retention, status, cmd) take theirs
// from here.
const (
	// KeyFile is the consent store's key (unless $PHOTOGUARD_KEY is set);
	// the ledger's seals are derived from it too.
	KeyFile = consent.KeyFile
	// Consent is the consent store's folder: the store, its lock, the
	// corrections and the backups made before an import.
	Consent = consent.Folder
	// ConsentSeen records the newest generation of the store seen.
	ConsentSeen = consent.SeenFile
	// Journal is how far each input got (per content hash).
	Journal = journal.Folder
	// Ledger is the publication ledger (and its leftovers: the temporary
	// uploads a target may still take, are entries in it).
	Ledger = ledger.Dir
	// Audit is the audit log (and its rotated files, Audit+".1" ...).
	Audit     = audit.FileName
	AuditLock = audit.LockFile
	// Review holds the review records of the photos processed.
	Review = "review"
	// Approval holds the photos waiting for the direction's approval.
	Approval = "approval"
	// Rejected, Quarantine and Held are the folders inputs that were not
	// published are moved to, with a reason file each.
	Rejected   = core.RejectedFolder
	Quarantine = core.QuarantineFolder
	Held       = core.HeldFolder
	// Retry is where a held photo is while it is retried; RetryLock what a
	// retry and a purge hold.
	Retry     = held.StagingFolder
	RetryLock = held.LockFile
	// VideoWork is where a video's frames are worked on (removed after).
	VideoWork = core.VideoWorkFolder
	// RunLock is what the service holds while it runs (LockRun).
	RunLock = runLock
)

// Entry is one entry of the state folder.
type Entry struct {
	Name string
	Dir  bool
	// What is what it holds, for a coordinator.
	What string
}

// Layout is every entry photoguard makes in the state folder. Nothing else
// is written there (but the rotated audit logs, Audit+".N").
func Layout() []Entry {
	return []Entry{
		{KeyFile, false, "the consent store's key (back it up)"},
		{Consent, true, "the consent store, its backups and corrections (encrypted)"},
		{ConsentSeen, false, "the newest generation of the consent store seen"},
		{Journal, true, "how far each photo got (one record per content hash)"},
		{Ledger, true, "the publication ledger: what is published where, and who is visible in it"},
		{Audit, false, "the audit log"},
		{AuditLock, false, "the lock of the audit log"},
		{Review, true, "review records of the photos processed"},
		{Approval, true, "photos waiting for the direction's approval (sealed)"},
		{Rejected, true, "inputs rejected by policy, with a reason file"},
		{Quarantine, true, "inputs that could not be read safely, with a reason file"},
		{Held, true, "inputs held for a person to look at, with a reason file"},
		{Retry, true, "a held photo while it is retried"},
		{RetryLock, false, "the lock of a retry"},
		{VideoWork, true, "a video's frames while it is worked on"},
		{RunLock, false, "the lock the service holds while it runs"},
	}
}
