package consent

import "errors"

// Error kinds. Ask with errors.Is; the messages carry ids, paths and counts,
// never names or descriptors.
var (
	// ErrBadKey: the key is not base64 of 32 bytes.
	ErrBadKey = errors.New("registry: bad key")
	// ErrNoKey: there is a register but no key to open it.
	ErrNoKey = errors.New("registry: key missing")
	// ErrWrongKey: the register was written with another key.
	ErrWrongKey = errors.New("registry: wrong key")
	// ErrCorrupt: the register file fails authentication or does not parse:
	// it was changed or damaged.
	ErrCorrupt = errors.New("registry: register file damaged or tampered with")
	// ErrRolledBack: the register file is older than the newest generation
	// this state folder has seen (a restored backup, a file put back): it
	// is refused until the coordinator accepts it (AcceptRestore).
	ErrRolledBack = errors.New("registry: the register file is older than the last one seen")
	// ErrVersion: the file was written by a newer photoguard.
	ErrVersion = errors.New("registry: unsupported register format")
	// ErrInsecure: a key file, data file or directory is readable or
	// writable by group or others.
	ErrInsecure = errors.New("registry: insecure permissions")
	// ErrLocked: another process held the register lock for too long.
	ErrLocked = errors.New("registry: register is locked by another process")
	// ErrNotInRegister: the id has no row in the consent register.
	ErrNotInRegister = errors.New("registry: not in register")
	// ErrNotEnrolled: the id has no enrolled references.
	ErrNotEnrolled = errors.New("consent store: no enrolled faces")
	// ErrUnknownChannel: the channel is not one of Channels().
	ErrUnknownChannel = errors.New("registry: unknown channel")
	// ErrInvalid: an argument (id, hash, descriptor, person) is not valid.
	ErrInvalid = errors.New("registry: invalid")
)
