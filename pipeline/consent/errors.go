package consent

import "errors"

// Error kinds. Ask with errors.Is; the messages carry ids, paths and counts,
// never names or descriptors.
var (
	// ErrBadKey: the key is not base64 of 32 bytes.
	ErrBadKey = errors.New("consent store: bad key")
	// ErrReadOnly: a change to a store opened with ReadOnly.
	ErrReadOnly = errors.New("consent store: opened read-only (a dry run, or a command that only reads); nothing was changed")
	// ErrNoKey: there is a store but no key to open it.
	ErrNoKey = errors.New("consent store: key missing")
	// ErrWrongKey: the store was written with another key.
	ErrWrongKey = errors.New("consent store: wrong key")
	// ErrCorrupt: the store file fails authentication or does not parse:
	// it was changed or damaged.
	ErrCorrupt = errors.New("consent store: the store file is damaged or was tampered with")
	// ErrRolledBack: the store file is older than the newest generation
	// this state folder has seen (a restored backup, a file put back): it
	// is refused until the coordinator accepts it (AcceptRestore).
	ErrRolledBack = errors.New("consent store: the store file is older than the last one seen")
	// ErrVersion: the file was written by a newer photoguard.
	ErrVersion = errors.New("consent store: unsupported store format")
	// ErrInsecure: a key file, data file or directory is readable or
	// writable by group or others.
	ErrInsecure = errors.New("consent store: insecure permissions")
	// ErrLocked: another process held the store lock for too long.
	ErrLocked = errors.New("consent store: locked by another process")
	// ErrNotInStore: the id has no row in the consent store.
	ErrNotInStore = errors.New("consent store: no such person (not in the imported consent export)")
	// ErrNotEnrolled: the id has no enrolled references.
	ErrNotEnrolled = errors.New("consent store: no enrolled faces")
	// ErrUnknownChannel: the channel is not one of Channels().
	ErrUnknownChannel = errors.New("consent store: unknown channel")
	// ErrInvalid: an argument (id, hash, descriptor, person) is not valid.
	ErrInvalid = errors.New("consent store: invalid")
)
