package inbox

import (
	"context"
	"fmt"
)

// Processor takes entries of the inbox to their outcome. The loops call it
// from several workers at once, never twice at once for the same entry.
type Processor interface {
	// Process takes one entry to its outcome (Done, or Kept when it was
	// left in place on purpose), or leaves it where it is and says why
	// (NotReady, Busy, Retry, with the error).
	Process(ctx context.Context, e Entry) (Status, error)
	// GiveUp ends an entry that a batch cannot finish (still being
	// written when its patience ran out, failing after its retries): it
	// stays where it is, and why says what happened.
	GiveUp(e Entry, why error)
	// Warn is told of what deserves a warning about an entry: the first
	// passing failure of a streak, a folder entry that cannot be read. The
	// Processor logs it, naming the entry as its own logs do.
	Warn(e Entry, msg string, err error)
}

// Status says how an entry left the Processor.
type Status int

const (
	// Done: the entry has its outcome and is gone from the inbox (or a dry
	// run said what its outcome would be).
	Done Status = iota
	// Kept: the entry has its outcome and was left in place on purpose
	// (inputs are kept): it is not taken again while it is unchanged.
	Kept
	// NotReady: still being written (or replaced while it was read); it is
	// taken again once it has settled anew.
	NotReady
	// Busy: another worker or process is working on the same content; a
	// batch waits for it without limit.
	Busy
	// Retry: a passing failure (the target is down, the disk is full); the
	// entry is taken again after a backoff, and a batch gives up on it
	// after BatchOptions.Retries.
	Retry
)

func (s Status) String() string {
	switch s {
	case Done:
		return "done"
	case Kept:
		return "kept"
	case NotReady:
		return "not ready"
	case Busy:
		return "busy"
	case Retry:
		return "retry"
	}
	return fmt.Sprintf("status(%d)", int(s))
}

// finished reports whether the entry has its outcome.
func (s Status) finished() bool { return s == Done || s == Kept }
