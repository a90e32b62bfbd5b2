package consent

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
)

// seenFileName is the generation record inside state_dir: the highest
// generation of the store this state folder has seen, with the consent
// and objections of that generation, encrypted with the store's key. It
// lives beside the key, outside registry/, so that restoring a backup of
// registry/ does not roll it back: an older store file is then refused
// (ErrRolledBack) until the coordinator accepts it with AcceptRestore.
const seenFileName = "registry.seen"

// acceptRestoreCommand is what the coordinator runs to accept a restored
// store on purpose; error messages name it.
const acceptRestoreCommand = "photoguard consent accept-restore"

// seen is the generation record as read: the generation and, of that
// generation, what a restore could silently undo (consent and objections;
// no names, no descriptors).
type seen struct {
	generation uint64
	st         *state
}

// readSeen reads the generation record; (nil, nil) when there is none.
func (s *Store) readSeen() (*seen, error) {
	data, err := readPrivate(s.seenPath, 16<<20)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	st, _, err := openAs(s.key, seenMagic, data)
	if err != nil {
		return nil, fmt.Errorf("%w (the generation record %s; if the consent store was restored on purpose, run %s)",
			err, s.seenPath, acceptRestoreCommand)
	}
	return &seen{generation: st.generation, st: st}, nil
}

// readPrivate reads a file that only the service user may access.
func readPrivate(path string, max int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		return nil, fmt.Errorf("consent store: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("consent store: %w", err)
	}
	if err := checkFileMode(path, fi); err != nil {
		return nil, err
	}
	if fi.Size() > max {
		return nil, fmt.Errorf("%w: %s is %d bytes, more than a consent store can be", ErrCorrupt, path, fi.Size())
	}
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, fmt.Errorf("consent store: reading %s: %w", path, err)
	}
	return data, nil
}

// writeSeen records st (just written as its generation) as the newest
// generation seen. Call it under the store lock.
func (s *Store) writeSeen(st *state) error {
	if s.opt.readOnly {
		return ErrReadOnly
	}
	rec := newState()
	for id, p := range st.people {
		rec.people[id] = &personRec{Person: Person{ID: id, Role: p.Role, Consent: p.Consent}}
	}
	rec.objections = st.objections
	data, err := sealAs(s.key, seenMagic, rec, st.generation)
	if err != nil {
		return err
	}
	if err := writePrivate(filepath.Dir(s.seenPath), filepath.Base(s.seenPath), data, nil); err != nil {
		return fmt.Errorf("consent store: recording the generation: %w", err)
	}
	s.raiseHigh(st.generation)
	return nil
}

func (s *Store) raiseHigh(gen uint64) {
	for {
		cur := s.high.Load()
		if gen <= cur || s.high.CompareAndSwap(cur, gen) {
			return
		}
	}
}

// highWater is the newest generation this state folder (the generation
// record) or this Store has seen. Take it before reading the store: a
// write in between then only makes the store newer than it.
func (s *Store) highWater() (uint64, error) {
	rec, err := s.readSeen()
	if err != nil {
		return 0, err
	}
	high := s.high.Load()
	if rec != nil {
		high = max(high, rec.generation)
	}
	return high, nil
}

// checkGeneration refuses a store older than high (highWater): a
// restored backup, a file put back or removed.
func (s *Store) checkGeneration(st *state, high uint64) error {
	if st.generation >= high {
		return nil
	}
	what := fmt.Sprintf("is generation %d", st.generation)
	if st.generation == 0 {
		what = "is missing" // removed: as much a roll-back as an old copy
	}
	return fmt.Errorf("%w: %s %s, but generation %d was seen (%s); "+
		"if you restored a backup on purpose, run %s: it lists the consent and objections that differ, then accepts it",
		ErrRolledBack, s.path, what, high, s.seenPath, acceptRestoreCommand)
}

// ConsentChange is a channel of one person whose consent in a restored
// store differs from the last state seen.
type ConsentChange struct {
	ID, Channel    string
	Seen, Restored ChannelConsent
}

// RestoreDiff says how a restored store differs from the last state this
// state folder saw, by pupil id (never names). Nothing of the last state is
// re-applied: a revocation or objection that the restore undid must be made
// again by hand.
type RestoreDiff struct {
	// Generation is the restored file's; Seen the newest seen (0: no record).
	Generation, Seen uint64
	// RolledBack is set when the file is older than what was seen, or the
	// record cannot be read: there is something to accept.
	RolledBack bool
	// Consent lists the channels whose consent differs.
	Consent []ConsentChange
	// PeopleGone are in the last state seen and not in the restored file;
	// PeopleBack the other way round.
	PeopleGone, PeopleBack []string
	// ObjectionsGone are objections of the last state seen that the
	// restored file lacks; ObjectionsBack the other way round.
	ObjectionsGone, ObjectionsBack []Objection
	// Accepted is the generation the restored store was written as.
	Accepted uint64
}

// AcceptRestore is the coordinator's deliberate acceptance of a store
// restored from a backup. It compares the store file with the last state
// seen and, unless dryRun, writes the restored store again as a
// generation above every one seen, and records it as seen. It re-applies
// nothing: the diff says what the restore undid. A store that is not
// older than what was seen is left alone (RolledBack false).
func AcceptRestore(stateDir string, key Key, dryRun bool, opts ...Option) (RestoreDiff, error) {
	s, err := openUnchecked(stateDir, key, opts)
	if err != nil {
		return RestoreDiff{}, err
	}
	var diff RestoreDiff
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	if !s.opt.readOnly {
		lk, err := lockFile(s.lockPath, s.dir, s.opt.lockTimeout)
		if err != nil {
			return diff, err
		}
		defer lk.unlock()
	}
	cur, err := s.readFileUnchecked()
	if err != nil {
		return diff, err
	}
	rec, err := s.readSeen()
	if err != nil && !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrWrongKey) {
		return diff, err
	}
	// A damaged record or one of another key is replaced: that is what
	// accepting means. Without one there is nothing to compare.
	diff.Generation = cur.generation
	if rec != nil {
		diff.Seen = rec.generation
		diff.RolledBack = cur.generation < rec.generation
		compareStates(&diff, rec.st, cur)
	} else {
		diff.RolledBack = err != nil
	}
	if !diff.RolledBack || dryRun {
		return diff, nil
	}
	gen := max(cur.generation, diff.Seen) + 1
	data, err := seal(s.key, cur, gen)
	if err != nil {
		return diff, err
	}
	if err := s.writeAtomic(data); err != nil {
		return diff, err
	}
	h, _ := parseHeader(data)
	cur.generation, cur.nonce = gen, h.nonce
	if err := s.writeSeen(cur); err != nil {
		return diff, err
	}
	diff.Accepted = gen
	return diff, nil
}

// compareStates fills diff with what differs between the last state seen
// and the restored one.
func compareStates(diff *RestoreDiff, last, restored *state) {
	for _, id := range sortedIDs(last.people) {
		r, ok := restored.people[id]
		if !ok {
			diff.PeopleGone = append(diff.PeopleGone, id)
			continue
		}
		l := last.people[id]
		for _, ch := range Channels() {
			if a, b := l.Consent[ch], r.Consent[ch]; !sameConsent(a, b) {
				diff.Consent = append(diff.Consent, ConsentChange{ID: id, Channel: ch, Seen: a, Restored: b})
			}
		}
	}
	for _, id := range sortedIDs(restored.people) {
		if _, ok := last.people[id]; !ok {
			diff.PeopleBack = append(diff.PeopleBack, id)
		}
	}
	diff.ObjectionsGone = missingObjections(last.objections, restored.objections)
	diff.ObjectionsBack = missingObjections(restored.objections, last.objections)
}

func sameConsent(a, b ChannelConsent) bool {
	return a.Given == b.Given && a.Revoked == b.Revoked && a.ConfirmedOn.Equal(b.ConfirmedOn) && a.RevokedOn.Equal(b.RevokedOn)
}

// missingObjections are the objections of a that b does not have (by photo
// and id), without their notes, sorted by id, then photo.
func missingObjections(a, b []Objection) []Objection {
	var out []Objection
	for _, o := range missingObjectionsFull(a, b) {
		out = append(out, Objection{PhotoSHA256: o.PhotoSHA256, ID: o.ID, At: o.At})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].ID != out[j].ID {
			return out[i].ID < out[j].ID
		}
		return out[i].PhotoSHA256 < out[j].PhotoSHA256
	})
	return out
}
