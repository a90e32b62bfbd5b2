package consent

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/photoguard/photoguard/pipeline/audit"
	"github.com/photoguard/photoguard/pipeline/internal/fsync"
)

const (
	dataDirName  = "registry"
	dataFileName = "registry.db"
	lockFileName = "registry.lock"

	// maxReferences is the most references one person can have.
	maxReferences = 32
	// MaxPeople bounds the store (a big school has about 1,500).
	MaxPeople = 20000
	// maxNote bounds an objection note.
	maxNote = 2000
)

// The store's entries in the state folder (pipeline/state lists them with
// the rest of the layout).
const (
	// Folder holds the store file, its lock, the corrections and the
	// backups made before an import.
	Folder = dataDirName
	// KeyFile is the store's key (unless $PHOTOGUARD_KEY is set).
	KeyFile = keyFileName
	// SeenFile records the newest generation of the store seen.
	SeenFile = seenFileName
)

// Option configures a Store.
type Option func(*options)

type options struct {
	yearMonth   time.Month
	yearDay     int
	now         func() time.Time
	lockTimeout time.Duration
	audit       *audit.Log
	backupAge   time.Duration
	readOnly    bool
}

// WithSchoolYearStart sets the first day of the school year (default
// 1 August, the Dutch school year). Consent confirmed before the start of
// the current school year is no consent.
func WithSchoolYearStart(month time.Month, day int) Option {
	return func(o *options) { o.yearMonth, o.yearDay = month, day }
}

// WithClock sets the clock used for revocation, enrollment and objection
// dates and for List (default time.Now).
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// WithLockTimeout sets how long a write waits for another process holding
// the lock (default 30s).
func WithLockTimeout(d time.Duration) Option { return func(o *options) { o.lockTimeout = d } }

// WithAudit records imports, revocations and enrollments in the audit log
// (pupil ids and counts only). A nil log records nothing.
func WithAudit(l *audit.Log) Option { return func(o *options) { o.audit = l } }

// ReadOnly opens the store for reading only: nothing is created (a missing
// folder is an empty store), no lock file is taken (readers need none), the
// generation record is not seeded, and a change is refused with
// ErrReadOnly. What only computes a change (DiffImport, a dry run of
// RestoreBackup or AcceptRestore) works as with a writable store. A dry run
// and the commands that only read the state folder open it so.
func ReadOnly() Option { return func(o *options) { o.readOnly = true } }

// WithBackupAge sets how long the backups made before an import are kept
// (default DefaultBackupAge; at least a day).
func WithBackupAge(d time.Duration) Option {
	return func(o *options) { o.backupAge = max(d, 24*time.Hour) }
}

// Store is the store on disk plus the last snapshot read from it. It is
// safe for concurrent use, and several processes may open the same state
// directory at once.
type Store struct {
	dir, path, lockPath string
	seenPath            string // the generation record (seen.go)
	key                 Key
	opt                 options
	// high is the newest generation this Store has read or written: a
	// running daemon refuses an older file even without the record.
	high atomic.Uint64

	writeMu sync.Mutex // serialises this Store's writes (flock does it across processes)
	loadMu  sync.Mutex // orders snapshot replacement, so an older read never replaces a newer one
	snap    atomic.Pointer[Snapshot]
}

// Exists reports whether stateDir holds a store file, or the generation
// record of one (a store that was removed is not "no store yet"),
// without opening it (and without creating a key).
func Exists(stateDir string) bool {
	for _, p := range []string{filepath.Join(stateDir, dataDirName, dataFileName), filepath.Join(stateDir, seenFileName)} {
		if _, err := os.Stat(p); err == nil {
			return true
		}
	}
	return false
}

// Open opens (or creates, empty) the store in stateDir/registry with the
// given key (see LoadKey). A wrong key, a damaged file, or a file or
// directory that group or others can access is an error.
func Open(stateDir string, key Key, opts ...Option) (*Store, error) {
	s, err := openUnchecked(stateDir, key, opts)
	if err != nil {
		return nil, err
	}
	st, err := s.readFile()
	if err != nil {
		return nil, err
	}
	s.setState(st)
	s.seedSeen(st)
	return s, nil
}

// openUnchecked makes the Store without reading the store.
func openUnchecked(stateDir string, key Key, opts []Option) (*Store, error) {
	if !key.set {
		return nil, fmt.Errorf("%w: no key given (use LoadKey)", ErrBadKey)
	}
	if stateDir == "" {
		return nil, errors.New("consent store: state_dir is empty")
	}
	o := options{yearMonth: time.August, yearDay: 1, now: time.Now, lockTimeout: 30 * time.Second, backupAge: DefaultBackupAge}
	for _, f := range opts {
		f(&o)
	}
	if o.yearMonth < time.January || o.yearMonth > time.December || o.yearDay < 1 ||
		time.Date(2001, o.yearMonth, o.yearDay, 0, 0, 0, 0, time.UTC).Day() != o.yearDay {
		return nil, fmt.Errorf("%w: school year start %s %d is not a date", ErrInvalid, o.yearMonth, o.yearDay)
	}
	dir := filepath.Join(stateDir, dataDirName)
	check := ensureDir
	if o.readOnly {
		check = checkDir
	}
	if err := check(stateDir, false); err != nil {
		return nil, err
	}
	if err := check(dir, true); err != nil {
		return nil, err
	}
	return &Store{dir: dir, path: filepath.Join(dir, dataFileName), lockPath: filepath.Join(dir, lockFileName),
		seenPath: filepath.Join(stateDir, seenFileName), key: key, opt: o}, nil
}

// seedSeen records st as seen when the generation record is missing or
// older (a store written before there were records, or a crash between
// writing the store and the record). Best effort: a process that may
// not write the state folder still refuses older files for its lifetime.
func (s *Store) seedSeen(st *state) {
	if st.generation == 0 || s.opt.readOnly {
		return
	}
	if rec, err := s.readSeen(); err != nil || rec != nil && rec.generation >= st.generation {
		return
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	lk, err := lockFile(s.lockPath, s.dir, s.opt.lockTimeout)
	if err != nil {
		return
	}
	defer lk.unlock()
	if cur, err := s.readFile(); err == nil && cur.generation == st.generation {
		_ = s.writeSeen(cur)
	}
}

// Snapshot returns the store as last read. It never returns nil; after a
// failed reload it is empty and its Err is set, so every face is redacted.
func (s *Store) Snapshot() *Snapshot { return s.snap.Load() }

// Current returns the snapshot to decide one photo with: the file is read
// again first if it changed (one 44-byte read when it did not), so that a
// change by `consent import` or `enroll` in another process applies from
// the next photo. A failed reload gives a snapshot with Err set: every
// photo is held until the file can be read again.
func (s *Store) Current() *Snapshot {
	if s.Changed() {
		_ = s.reload() // on error the snapshot is empty with Err set
	}
	return s.Snapshot()
}

// Changed reports whether the file on disk differs from the current
// snapshot. It reads only the 44-byte header, so the daemon can call it per
// photo. Any doubt (unreadable file, failed last reload) counts as changed.
func (s *Store) Changed() bool {
	cur := s.snap.Load()
	if cur.err != nil {
		return true
	}
	f, err := os.Open(s.path)
	if errors.Is(err, fs.ErrNotExist) {
		return cur.st.generation != 0
	}
	if err != nil {
		return true
	}
	defer f.Close()
	b := make([]byte, headerLen)
	if _, err := io.ReadFull(f, b); err != nil {
		return true
	}
	h, err := parseHeader(b)
	if err != nil {
		return true
	}
	return h.generation != cur.st.generation || h.nonce != cur.st.nonce
}

// reload reads the store again if it Changed. On error the snapshot
// becomes empty with Err set (fail closed) and the error is returned; the
// next reload tries again.
func (s *Store) reload() error {
	s.loadMu.Lock()
	defer s.loadMu.Unlock()
	if !s.Changed() {
		return nil
	}
	st, err := s.readFile()
	if err != nil {
		s.snap.Store(&Snapshot{st: newState(), opt: s.opt, err: err})
		return err
	}
	s.setState(st)
	return nil
}

func (s *Store) setState(st *state) { s.snap.Store(newSnapshot(st, s.opt)) }

// readFile reads and decrypts the store, and refuses it when it is
// older than the newest generation seen (ErrRolledBack). Readers need no
// lock: rename is atomic.
func (s *Store) readFile() (*state, error) {
	high, err := s.highWater()
	if err != nil {
		return nil, err
	}
	st, err := s.readFileUnchecked()
	if err != nil {
		return nil, err
	}
	if err := s.checkGeneration(st, high); err != nil {
		return nil, err
	}
	s.raiseHigh(st.generation)
	return st, nil
}

// readFileUnchecked reads and decrypts the store; a missing file is an
// empty store at generation 0.
func (s *Store) readFileUnchecked() (*state, error) {
	data, err := readPrivate(s.path, maxFileSize)
	if errors.Is(err, fs.ErrNotExist) {
		return newState(), nil
	}
	if err != nil {
		return nil, err
	}
	st, _, err := open(s.key, data)
	if err != nil {
		return nil, fmt.Errorf("%w (%s)", err, s.path)
	}
	return st, nil
}

// update runs fn on a copy of the store read under the lock and, if fn
// reports a change, writes it as the next generation. fn's error aborts
// without writing anything.
func (s *Store) update(fn func(st *state) (changed bool, err error)) error {
	if s.opt.readOnly {
		return s.updateReadOnly(fn)
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	lk, err := lockFile(s.lockPath, s.dir, s.opt.lockTimeout)
	if err != nil {
		return err
	}
	defer lk.unlock()
	s.loadMu.Lock()
	defer s.loadMu.Unlock()
	s.removeStaleTemps()

	cur, err := s.readFile()
	if err != nil {
		return err
	}
	next := cur.clone()
	changed, err := fn(next)
	if err != nil {
		s.setState(cur)
		return err
	}
	if !changed {
		s.setState(cur)
		return nil
	}
	if len(next.people) > MaxPeople {
		return fmt.Errorf("%w: %d people, at most %d", ErrInvalid, len(next.people), MaxPeople)
	}
	gen := cur.generation + 1
	data, err := seal(s.key, next, gen)
	if err != nil {
		return err
	}
	if err := s.writeAtomic(data); err != nil {
		return err
	}
	h, _ := parseHeader(data)
	next.generation, next.nonce = gen, h.nonce
	s.setState(next)
	if err := s.writeSeen(next); err != nil {
		return fmt.Errorf("the change was saved, but: %w", err)
	}
	if _, err := s.PruneBackups(); err != nil {
		return fmt.Errorf("the change was saved, but: %w", err)
	}
	return nil
}

// updateReadOnly runs fn on a copy of the store as it is, without a lock,
// and refuses the change fn reports.
func (s *Store) updateReadOnly(fn func(st *state) (changed bool, err error)) error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	cur, err := s.readFile()
	if err != nil {
		return err
	}
	changed, err := fn(cur.clone())
	s.setState(cur)
	if err == nil && changed {
		err = ErrReadOnly
	}
	return err
}

// writeAtomic replaces the store file with data (0600, owned like its
// folder) through the one durable-write primitive.
func (s *Store) writeAtomic(data []byte) error {
	if s.opt.readOnly {
		return ErrReadOnly
	}
	return writePrivate(s.dir, dataFileName, data, nil)
}

// writePrivate writes dir/name whole or not at all (fsync.WriteFile), 0600
// and owned like dir. replace is WriteFile's: nil replaces what is there.
func writePrivate(dir, name string, data []byte, replace func(fs.FileInfo) bool) error {
	err := fsync.WriteFile(dir, name, data, 0o600, replace, func(f *os.File) error { return chownLikeDir(f, dir) })
	if err != nil && !errors.Is(err, fsync.ErrInTheWay) {
		return fmt.Errorf("consent store: writing %s: %w", filepath.Join(dir, name), err)
	}
	return err
}

// removeStaleTemps removes temp files left by a writer that crashed. It runs
// under the lock, when no other writer of the store's folder can be writing
// one; in state_dir, which other parts of photoguard write too, only old ones.
func (s *Store) removeStaleTemps() {
	fsync.RemoveTemps(s.dir, 0)
	fsync.RemoveTemps(filepath.Dir(s.seenPath), time.Hour)
}

func (s *Store) now() time.Time { return s.opt.now() }

// Revoke sets the consent of id for each channel to no, dated today, in one
// write. It stays revoked until an import says yes with a later
// confirmation date. Every channel revoked is a Withdrawal: photos already
// published there may have to be taken down.
func (s *Store) Revoke(id string, channels ...string) ([]Withdrawal, error) {
	if len(channels) == 0 {
		return nil, fmt.Errorf("%w: no channel to revoke", ErrInvalid)
	}
	for _, ch := range channels {
		if !KnownChannel(ch) {
			return nil, fmt.Errorf("%w: %q", ErrUnknownChannel, ch)
		}
	}
	today := civilDate(s.now())
	err := s.update(func(st *state) (bool, error) {
		p, ok := st.people[id]
		if !ok {
			return false, fmt.Errorf("%w: id %s", ErrNotInStore, safeID(id))
		}
		for _, ch := range channels {
			c := p.Consent[ch]
			c.Given = false
			c.Revoked = true
			if c.RevokedOn.Before(today) {
				c.RevokedOn = today
			}
			p.Consent[ch] = c
		}
		return true, nil
	})
	if err != nil {
		return nil, err
	}
	var out []Withdrawal
	var events []audit.Event
	for _, ch := range channels {
		out = append(out, Withdrawal{ID: id, Channel: ch})
		events = append(events, audit.Event{Kind: audit.ConsentRevoke, Pupils: []string{id}, Channel: ch, Detail: "consent revoked"})
	}
	return out, s.record(events...)
}

// Enroll adds reference descriptors to a person who is in the store.
// References are de-duplicated by SourceSHA256 among those of the same
// model (an existing one is kept); a zero AddedAt becomes now. References of
// the person made with another model than the new ones are removed: they
// cannot be compared with the new ones, and enrolling again is how a school
// moves to a new model. All refs must carry the same Model. Enrolling an id
// that is not in the store is an error: import consent first (staff
// too).
func (s *Store) Enroll(id string, refs []Reference) error {
	now := s.now()
	clean := make([]Reference, 0, len(refs))
	for i, r := range refs {
		sha, ok := normSHA256(r.SourceSHA256)
		if !ok {
			return fmt.Errorf("%w: reference #%d: SourceSHA256 is not a hex SHA-256", ErrInvalid, i+1)
		}
		if !validDescriptor(&r) {
			return fmt.Errorf("%w: reference #%d: descriptor is zero or not finite", ErrInvalid, i+1)
		}
		if r.Model != refs[0].Model {
			return fmt.Errorf("%w: reference #%d: made with model %q, reference #1 with %q", ErrInvalid, i+1, r.Model, refs[0].Model)
		}
		r.SourceSHA256 = sha
		if r.AddedAt.IsZero() {
			r.AddedAt = now
		}
		r.AddedAt = r.AddedAt.UTC()
		clean = append(clean, r)
	}
	added, replaced := 0, 0
	err := s.update(func(st *state) (bool, error) {
		added, replaced = 0, 0
		p, ok := st.people[id]
		if !ok {
			return false, fmt.Errorf("%w: id %s; import the consent export first (staff need a row too)", ErrNotInStore, safeID(id))
		}
		changed := false
		if len(clean) > 0 {
			kept := p.refs[:0:0]
			for _, r := range p.refs {
				if r.Model == clean[0].Model {
					kept = append(kept, r)
				}
			}
			replaced = len(p.refs) - len(kept)
			changed = replaced > 0
			p.refs = kept
		}
		have := make(map[string]bool, len(p.refs))
		for _, r := range p.refs {
			have[r.SourceSHA256] = true
		}
		for _, r := range clean {
			if have[r.SourceSHA256] {
				continue
			}
			have[r.SourceSHA256] = true
			p.refs = append(p.refs, r)
			added++
			changed = true
		}
		if len(p.refs) > maxReferences {
			return false, fmt.Errorf("%w: id %s would have %d references, at most %d", ErrInvalid, id, len(p.refs), maxReferences)
		}
		return changed, nil
	})
	if err != nil {
		return err
	}
	var events []audit.Event
	if added > 0 {
		events = append(events, audit.Event{Kind: audit.Enroll, Pupils: []string{id}, Count: added, Detail: "references added"})
	}
	if replaced > 0 {
		events = append(events, audit.Event{Kind: audit.Enroll, Pupils: []string{id}, Count: replaced, Detail: "references of other face model files removed"})
	}
	return s.record(events...)
}

func validDescriptor(r *Reference) bool {
	nonzero := false
	for _, f := range r.Descriptor {
		if math.IsNaN(float64(f)) || math.IsInf(float64(f), 0) {
			return false
		}
		if f != 0 {
			nonzero = true
		}
	}
	return nonzero
}

// Unenroll removes every reference of id and says how many there were. An
// id that is not in the store is ErrNotInStore; one without references
// is ErrNotEnrolled.
func (s *Store) Unenroll(id string) (int, error) {
	n := 0
	err := s.update(func(st *state) (bool, error) {
		p, ok := st.people[id]
		switch {
		case !ok:
			return false, fmt.Errorf("%w: id %s", ErrNotInStore, safeID(id))
		case len(p.refs) == 0:
			return false, fmt.Errorf("%w: id %s", ErrNotEnrolled, id)
		}
		n = len(p.refs)
		p.refs = nil
		return true, nil
	})
	if err != nil {
		return 0, err
	}
	return n, s.record(audit.Event{Kind: audit.Enroll, Pupils: []string{id}, Count: n, Detail: "references removed"})
}

// Forget removes id from the store with its references and objections
// (a request to erase between two imports). Note that the next import adds
// the person again if the export still has them.
func (s *Store) Forget(id string) error {
	return s.update(func(st *state) (bool, error) {
		if _, ok := st.people[id]; !ok {
			return false, fmt.Errorf("%w: id %s", ErrNotInStore, safeID(id))
		}
		delete(st.people, id)
		kept := st.objections[:0]
		for _, o := range st.objections {
			if o.ID != id {
				kept = append(kept, o)
			}
		}
		st.objections = kept
		return true, nil
	})
}

// Object records that id must be redacted in the photo with content hash
// photoSHA256 (hex), whatever the store says. The id must be in the
// store. Objecting twice keeps the first record.
func (s *Store) Object(photoSHA256, id, note string) error {
	sha, ok := normSHA256(photoSHA256)
	if !ok {
		return fmt.Errorf("%w: photo hash is not a hex SHA-256", ErrInvalid)
	}
	if len(note) > maxNote {
		return fmt.Errorf("%w: note longer than %d bytes", ErrInvalid, maxNote)
	}
	at := s.now().UTC()
	return s.update(func(st *state) (bool, error) {
		if _, ok := st.people[id]; !ok {
			return false, fmt.Errorf("%w: id %s", ErrNotInStore, safeID(id))
		}
		for _, o := range st.objections {
			if o.PhotoSHA256 == sha && o.ID == id {
				return false, nil
			}
		}
		st.objections = append(st.objections, Objection{PhotoSHA256: sha, ID: id, Note: note, At: at})
		return true, nil
	})
}

// RemoveObjection withdraws an objection. A missing one is not an error.
func (s *Store) RemoveObjection(photoSHA256, id string) error {
	sha, ok := normSHA256(photoSHA256)
	if !ok {
		return fmt.Errorf("%w: photo hash is not a hex SHA-256", ErrInvalid)
	}
	return s.update(func(st *state) (bool, error) {
		kept := st.objections[:0]
		for _, o := range st.objections {
			if o.PhotoSHA256 != sha || o.ID != id {
				kept = append(kept, o)
			}
		}
		changed := len(kept) != len(st.objections)
		st.objections = kept
		return changed, nil
	})
}

// List returns the store for the ICT coordinator: id, first name, group,
// role, number of references and consent per channel (valid today or why
// not). Never last names, never descriptors. It reloads first if the file
// changed, and is sorted by group, then id.
func (s *Store) List() ([]Entry, error) {
	if err := s.reload(); err != nil {
		return nil, err
	}
	snap := s.Snapshot()
	now := s.now()
	out := make([]Entry, 0, len(snap.st.people))
	for _, p := range snap.st.people {
		e := Entry{ID: p.ID, FirstName: p.FirstName, Group: p.Group, Role: p.Role, References: len(p.refs),
			Consent: make(map[string]ChannelStatus, 4)}
		for _, ch := range Channels() {
			ok, why := snap.status(p.ID, ch, now)
			e.Consent[ch] = ChannelStatus{ChannelConsent: p.Consent[ch], Valid: ok, Why: why}
		}
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Group != out[j].Group {
			return out[i].Group < out[j].Group
		}
		return out[i].ID < out[j].ID
	})
	return out, nil
}

// safeID returns id for an error message if it is a valid id, and a
// placeholder otherwise (an invalid "id" may be a name pasted by mistake).
func safeID(id string) string {
	if validID(id) {
		return id
	}
	return "(invalid id)"
}

func sortedIDs(m map[string]*personRec) []string {
	ids := make([]string, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}
