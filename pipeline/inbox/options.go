package inbox

import (
	"time"

	"github.com/photoguard/photoguard/internal/keyerr"
)

// Options say when a file in the inbox is taken and how often the daemon
// looks without being told. The configuration's `watch:` section composes
// them (watch.settle, watch.rescan, watch.give_up).
type Options struct {
	// Settle is how long a file's size and modification time must stay
	// unchanged before it is taken (sync clients write in pieces).
	Settle time.Duration
	// Rescan is the period of the daemon's full scan, which runs even
	// without file events (network and FUSE folders send none).
	Rescan time.Duration
	// GiveUp is how long a file that has settled but does not decode
	// completely is given to finish before it is quarantined as truncated
	// (the pipeline's decode step asks it).
	GiveUp time.Duration
}

// DefaultOptions are the defaults (config/default.yaml states the same; a
// test keeps them equal).
func DefaultOptions() Options {
	return Options{Settle: 3 * time.Second, Rescan: time.Minute, GiveUp: 10 * time.Minute}
}

// Ranges of the options.
const (
	MinSettle, MaxSettle = 0, time.Hour
	MinRescan, MaxRescan = time.Second, 24 * time.Hour
)

// Validate returns every option out of range, or nil: a keyerr.Errors
// whose keys are the options' names as the configuration spells them below
// `watch:` (settle, rescan, give_up).
func (o Options) Validate() error {
	var errs keyerr.Errors
	between := func(name string, v, lo, hi time.Duration) {
		if v < lo || v > hi {
			errs.Add(name, "%s is out of range (%s to %s)", v, lo, hi)
		}
	}
	between("settle", o.Settle, MinSettle, MaxSettle)
	between("rescan", o.Rescan, MinRescan, MaxRescan)
	if o.GiveUp < o.Settle {
		errs.Add("give_up", "%s is shorter than watch.settle (%s)", o.GiveUp, o.Settle)
	}
	return errs.Err()
}
