package ledger

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/photoguard/photoguard/pipeline/target"
)

// A target that uploads under a temporary name first (WebDAV) may still
// receive an upload after photoguard gave up on it: a slow server answers
// nothing within the timeout, the upload is withdrawn, and the PUT lands
// minutes later as a complete, hidden copy of the output. The ledger keeps
// each such temporary name, recorded before the upload, as a leftover until
// a removal is confirmed long enough after the last attempt (Settle) that no
// late upload can follow; takedowns, purge and the service's periodic sweep
// remove leftovers.

// Defaults of a Sweeper.
const (
	// DefaultSettle is how long after its last attempt ended a temporary
	// upload must be found gone to be confirmed gone.
	DefaultSettle = time.Hour
	// DefaultInflight is how old an announcement without an end must be to
	// be taken for one a crash cut short (a call is bounded by minutes).
	DefaultInflight = 30 * time.Minute
)

// Leftover is a temporary upload that may be at its target.
type Leftover struct {
	Target, Temp    string
	SHA256, Channel string
	Name            string
	// Pupils are the ids visible in any attempt's output.
	Pupils []string
	// Announced is the last attempt's announcement; Ended when the last
	// attempt ended (zero: in flight, or cut short by a crash).
	Announced, Ended time.Time
	// Doubt is set when an attempt did not end well (withdrawn): the
	// upload may land any time.
	Doubt bool
}

// Shows reports whether pupil id is visible in the leftover.
func (l *Leftover) Shows(id string) bool {
	for _, p := range l.Pupils {
		if p == id {
			return true
		}
	}
	return false
}

// due reports whether the leftover is not an upload in progress now: its
// attempt ended, or its announcement is older than inflight (a crash).
func (l *Leftover) due(now time.Time, inflight time.Duration) bool {
	return !l.Ended.IsZero() || now.Sub(l.Announced) >= inflight
}

// settled reports whether a removal now confirms it gone.
func (l *Leftover) settled(now time.Time, settle time.Duration) bool {
	end := l.Ended
	if end.IsZero() {
		end = l.Announced
	}
	return now.Sub(end) >= settle
}

// Leftovers are the temporary uploads the entries (oldest first) leave
// that may be at their targets, oldest first.
func Leftovers(entries []Entry) []*Leftover {
	byKey := map[string]*Leftover{}
	tempOf := map[string]string{} // sha, target, name -> key
	var order []string
	for _, e := range entries {
		out := e.SHA256 + "\x00" + e.Target + "\x00" + e.Name
		key := ""
		if e.Temp != "" {
			key = e.Target + "\x00" + e.Temp
		} else {
			key = tempOf[out]
		}
		if key == "" {
			continue
		}
		cur := byKey[key]
		switch e.Kind {
		case Announced:
			if e.Temp == "" {
				continue
			}
			tempOf[out] = key
			if cur == nil {
				cur = &Leftover{Target: e.Target, Temp: e.Temp}
				byKey[key] = cur
				order = append(order, key)
			}
			cur.SHA256, cur.Channel, cur.Name, cur.Announced, cur.Ended = e.SHA256, e.Channel, e.Name, e.Time, time.Time{}
			cur.Pupils = union(cur.Pupils, e.Pupils)
		case Confirmed:
			if cur == nil {
				continue
			}
			cur.Ended = e.Time
			if !cur.Doubt {
				delete(byKey, key) // the rename took it
			}
		case Withdrawn:
			if cur == nil {
				continue
			}
			cur.Ended, cur.Doubt = e.Time, true
		case TempGone:
			delete(byKey, key)
		}
	}
	var out []*Leftover
	for _, k := range order {
		if l := byKey[k]; l != nil {
			out = append(out, l)
			delete(byKey, k) // once, if announced again after a TempGone
		}
	}
	return out
}

func union(a, b []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range append(append([]string(nil), a...), b...) {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	sort.Strings(out)
	return out
}

// Sweeper removes leftovers from their targets and records those confirmed
// gone. The service runs it periodically; purge runs it; a takedown runs it
// on the leftovers of what it takes down.
type Sweeper struct {
	Ledger   *Ledger
	StateDir string
	// Key checks the ledger's seals (nil: not checked).
	Key []byte
	// Target opens the configured target of that name.
	Target func(name string) (target.Target, error)
	// Settle and Inflight: DefaultSettle and DefaultInflight when 0.
	Settle, Inflight time.Duration
	Now              func() time.Time
}

// Swept is what a sweep did.
type Swept struct {
	// Removed are the leftovers removed now (or found gone); Confirmed
	// those of them recorded as gone for good.
	Removed, Confirmed []*Leftover
	// Problems say which could not be removed, and why.
	Problems []string
	// Waiting counts leftovers left for a later sweep (an upload in
	// progress).
	Waiting int
}

// Sweep removes every leftover that is not an upload in progress (all of
// them when only is nil; else those only returns true for).
func (s *Sweeper) Sweep(ctx context.Context, only func(*Leftover) bool) (*Swept, error) {
	rd, err := Read(s.StateDir, s.Key)
	if err != nil {
		return nil, err
	}
	now := s.now()
	res := &Swept{}
	targets := map[string]target.Target{}
	for _, l := range Leftovers(rd.Entries) {
		if only != nil && !only(l) {
			continue
		}
		if !l.due(now, s.inflight()) {
			res.Waiting++
			continue
		}
		tg := targets[l.Target]
		if tg == nil {
			if s.Target == nil {
				return res, errors.New("no targets")
			}
			if tg, err = s.Target(l.Target); err != nil {
				res.Problems = append(res.Problems, fmt.Sprintf("target %s cannot be opened: %v", l.Target, err))
				continue
			}
			targets[l.Target] = tg
		}
		rm, ok := tg.(target.TempRemover)
		if !ok {
			res.Problems = append(res.Problems, fmt.Sprintf("target %s cannot remove %s: remove it by hand", l.Target, l.Temp))
			continue
		}
		if err := rm.RemoveTemp(ctx, l.Temp); err != nil {
			res.Problems = append(res.Problems, fmt.Sprintf("target %s: %v", l.Target, err))
			continue
		}
		res.Removed = append(res.Removed, l)
		if !l.settled(now, s.settle()) {
			continue // a late upload may still land: the next sweep looks again
		}
		if s.Ledger != nil {
			if err := s.Ledger.Append(Entry{Kind: TempGone, SHA256: l.SHA256, Target: l.Target, Channel: l.Channel, Name: l.Name, Temp: l.Temp}); err != nil {
				return res, err
			}
		}
		res.Confirmed = append(res.Confirmed, l)
	}
	return res, nil
}

func (s *Sweeper) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Sweeper) settle() time.Duration {
	if s.Settle > 0 {
		return s.Settle
	}
	return DefaultSettle
}

func (s *Sweeper) inflight() time.Duration {
	if s.Inflight > 0 {
		return s.Inflight
	}
	return DefaultInflight
}
