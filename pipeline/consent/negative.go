package consent

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"sort"
	"time"

	"github.com/photoguard/photoguard/detect"
)

// Negatives are the coordinator's corrections "this face is not ID"
// (`photoguard correct PHOTO --face N --not ID`): the descriptor of the face
// that was wrongly matched, kept per pupil id so that the matcher never
// matches that face to that pupil again (detect.Person.Negatives).
//
// A negative is a descriptor of somebody's face, so it is kept like the
// references: in its own authenticated-encrypted file beside the store's,
// state_dir/registry/negatives.db (0600), sealed with the store's key
// under its own magic, written under the store's lock. Negatives of an
// id that is no longer in the store are dropped on the next write and
// never returned.
const negativesFileName = "negatives.db"

// negMagic starts the negatives file: the store file's layout under another
// magic, so that neither file can stand in for the other.
const negMagic = "PGNEG\x00\x00\x00"

// MaxNegatives is the most negatives one id keeps; the oldest go first.
const MaxNegatives = 256

// Negative is one "not this person" correction.
type Negative struct {
	Descriptor detect.Descriptor
	// PhotoSHA256 is the content hash of the photo the face was in.
	PhotoSHA256 string
	AddedAt     time.Time
	// Model is the face model that made Descriptor (as Reference.Model).
	Model string
}

// Format prints a Negative without its descriptor.
func (n Negative) Format(f fmt.State, _ rune) {
	fmt.Fprintf(f, "consent.Negative{PhotoSHA256:%s Model:%s Descriptor:[redacted]}", n.PhotoSHA256, n.Model)
}

// AddNegative records that the face with descriptor n.Descriptor is not id.
// id must be in the store. Adding the same photo's face for the same id
// and model again replaces the earlier one.
func (s *Store) AddNegative(id string, n Negative) error {
	sha, ok := normSHA256(n.PhotoSHA256)
	if !ok {
		return fmt.Errorf("%w: negative: PhotoSHA256 is not a hex SHA-256", ErrInvalid)
	}
	r := Reference{Descriptor: n.Descriptor, SourceSHA256: sha, AddedAt: n.AddedAt, Model: n.Model}
	if !validDescriptor(&r) {
		return fmt.Errorf("%w: negative: descriptor is zero or not finite", ErrInvalid)
	}
	if r.AddedAt.IsZero() {
		r.AddedAt = s.now()
	}
	r.AddedAt = r.AddedAt.UTC()

	return s.update(func(reg *state) (bool, error) {
		// Under the store's lock, against the store as it is now; the
		// people and their consent do not change.
		return false, s.addNegative(reg, id, r)
	})
}

func (s *Store) addNegative(reg *state, id string, r Reference) error {
	if s.opt.readOnly {
		return ErrReadOnly
	}
	if _, ok := reg.people[id]; !ok {
		return fmt.Errorf("%w: id %s", ErrNotInStore, safeID(id))
	}
	st, err := s.readNegatives()
	if err != nil {
		return err
	}
	for pid := range st.people {
		if _, ok := reg.people[pid]; !ok {
			delete(st.people, pid) // left the school: their corrections go with them
		}
	}
	p := st.people[id]
	if p == nil {
		p = &personRec{Person: Person{ID: id, Role: RolePupil}}
		st.people[id] = p
	}
	kept := p.refs[:0:0]
	for _, old := range p.refs {
		if old.SourceSHA256 != r.SourceSHA256 || old.Model != r.Model {
			kept = append(kept, old)
		}
	}
	p.refs = append(kept, r)
	if len(p.refs) > MaxNegatives {
		sort.SliceStable(p.refs, func(a, b int) bool { return p.refs[a].AddedAt.Before(p.refs[b].AddedAt) })
		p.refs = p.refs[len(p.refs)-MaxNegatives:]
	}
	data, err := sealAs(s.key, negMagic, st, st.generation+1)
	if err != nil {
		return err
	}
	if err := writePrivate(s.dir, negativesFileName, data, nil); err != nil {
		return fmt.Errorf("consent store: writing the corrections: %w", err)
	}
	return nil
}

// Negatives returns every id's negatives, for ids that are in the store
// now. No negatives file is no negatives; a damaged one is an error (the
// caller holds photos: a correction that cannot be read must not be lost
// silently).
func (s *Store) Negatives() (map[string][]Negative, error) {
	st, err := s.readNegatives()
	if err != nil {
		return nil, err
	}
	snap := s.Snapshot()
	out := map[string][]Negative{}
	for id, p := range st.people {
		if _, ok := snap.Person(id); !ok {
			continue
		}
		for _, r := range p.refs {
			out[id] = append(out[id], Negative{Descriptor: r.Descriptor, PhotoSHA256: r.SourceSHA256, AddedAt: r.AddedAt, Model: r.Model})
		}
	}
	return out, nil
}

func (s *Store) readNegatives() (*state, error) {
	path := filepath.Join(s.dir, negativesFileName)
	data, err := readPrivate(path, maxFileSize)
	if errors.Is(err, fs.ErrNotExist) {
		return newState(), nil
	}
	if err != nil {
		return nil, err
	}
	st, _, err := openAs(s.key, negMagic, data)
	if err != nil {
		return nil, fmt.Errorf("%w (the corrections file %s)", err, path)
	}
	return st, nil
}

// Corrected is the pipeline's view of consent: a snapshot of the store
// with the coordinator's corrections of one face model on each person
// (detect.Person.Negatives). Corrections that cannot be read make Err set,
// so that photos are held as with an unreadable store: a wrong match
// that was corrected must not come back.
type Corrected struct {
	*Snapshot
	negs map[string][]detect.Descriptor
	err  error
}

// CurrentCorrected is Current with the negatives made with model applied.
func (s *Store) CurrentCorrected(model string) Corrected {
	c := Corrected{Snapshot: s.Current()}
	negs, err := s.Negatives()
	if err != nil {
		c.err = fmt.Errorf("the corrections (correct --not) cannot be read: %w", err)
		return c
	}
	c.negs = map[string][]detect.Descriptor{}
	for id, ns := range negs {
		for _, n := range ns {
			if n.Model == model {
				c.negs[id] = append(c.negs[id], n.Descriptor)
			}
		}
	}
	return c
}

// People are the snapshot's people with their negatives.
func (c Corrected) People() []detect.Person {
	people := c.Snapshot.People()
	for i := range people {
		people[i].Negatives = c.negs[people[i].ID]
	}
	return people
}

// Err is the snapshot's error, or why the corrections cannot be read.
func (c Corrected) Err() error {
	if c.err != nil {
		return c.err
	}
	return c.Snapshot.Err()
}
