package inbox

import (
	"fmt"
	"strings"
	"time"
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

// OptionError is one option out of range. Option is its name as the
// configuration spells it below `watch:` (settle, rescan, give_up).
type OptionError struct {
	Option, Msg string
}

func (e *OptionError) Error() string { return e.Option + ": " + e.Msg }

// OptionErrors are all the problems Validate found.
type OptionErrors []*OptionError

func (es OptionErrors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Validate returns every option out of range (as OptionErrors), or nil.
func (o Options) Validate() error {
	var errs OptionErrors
	between := func(name string, v, lo, hi time.Duration) {
		if v < lo || v > hi {
			errs = append(errs, &OptionError{name, fmt.Sprintf("%s is out of range (%s to %s)", v, lo, hi)})
		}
	}
	between("settle", o.Settle, MinSettle, MaxSettle)
	between("rescan", o.Rescan, MinRescan, MaxRescan)
	if o.GiveUp < o.Settle {
		errs = append(errs, &OptionError{"give_up", fmt.Sprintf("%s is shorter than watch.settle (%s)", o.GiveUp, o.Settle)})
	}
	if len(errs) > 0 {
		return errs
	}
	return nil
}
