package approval

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/photoguard/photoguard/pipeline"
	"github.com/photoguard/photoguard/pipeline/audit"
	"github.com/photoguard/photoguard/pipeline/consent"
	"github.com/photoguard/photoguard/pipeline/internal/fsync"
	"github.com/photoguard/photoguard/pipeline/state"
)

// Folder is the store's folder below state_dir.
const Folder = state.Approval

const (
	metaFile     = "waiting.json"
	originalFile = "original.sealed"
	stagingDir   = "staging"
	lockFile     = ".lock"
)

// States of one target of a photo. Waiting and Approved are open (the
// original is kept); the others are answers that end it.
const (
	Waiting   = "waiting"
	Approved  = "approved" // approved, not published yet
	Published = "published"
	Rejected  = "rejected"
	Expired   = "expired"
	// NotPublished: approved, but the pipeline did not publish it when it
	// was decided again (held, or refused by a rule); Reason says why.
	NotPublished = "not-published"
)

// Photo is one photo in the store.
type Photo struct {
	SHA256 string `json:"sha256"`
	// Group is the first folder of its path below the inbox ("" when it
	// was at the top).
	Group string `json:"group,omitempty"`
	// At is when it started to wait.
	At      time.Time          `json:"at"`
	Targets map[string]*Target `json:"targets"`
}

// Target is what waits for one target, and its answer.
type Target struct {
	Channel string `json:"channel"`
	State   string `json:"state"`
	// Output is the name it is published under.
	Output                 string   `json:"output,omitempty"`
	Faces, Shown, Redacted int      `json:"-"`
	Pupils                 []string `json:"pupils,omitempty"`
	// By and AnsweredAt: who answered (the operating-system user, or
	// "photoguard" for an expiry) and when; Reason the reason of a
	// rejection or why an approved photo was not published.
	By         string    `json:"by,omitempty"`
	AnsweredAt time.Time `json:"answered_at,omitzero"`
	Reason     string    `json:"reason,omitempty"`
}

// targetJSON is Target as stored (the counts under their own names).
type targetJSON struct {
	*targetAlias
	Faces    int `json:"faces"`
	Shown    int `json:"shown"`
	Redacted int `json:"redacted"`
}

type targetAlias Target

// MarshalJSON writes the counts too.
func (t *Target) MarshalJSON() ([]byte, error) {
	return json.Marshal(targetJSON{(*targetAlias)(t), t.Faces, t.Shown, t.Redacted})
}

// UnmarshalJSON reads what MarshalJSON wrote.
func (t *Target) UnmarshalJSON(b []byte) error {
	v := targetJSON{targetAlias: (*targetAlias)(t)}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	t.Faces, t.Shown, t.Redacted = v.Faces, v.Shown, v.Redacted
	return nil
}

// Open reports whether the target still needs something done: an answer,
// or the publication it was approved for.
func (t *Target) Open() bool { return t.State == Waiting || t.State == Approved }

// Short is the short hash people see.
func (p *Photo) Short() string { return p.SHA256[:12] }

// Open reports whether any target of the photo is still open.
func (p *Photo) Open() bool {
	for _, t := range p.Targets {
		if t.Open() {
			return true
		}
	}
	return false
}

// Names are the photo's targets in order.
func (p *Photo) Names() []string {
	var ns []string
	for n := range p.Targets {
		ns = append(ns, n)
	}
	sort.Strings(ns)
	return ns
}

// Store is one state folder's photos waiting for approval. It implements
// pipeline.Approvals.
type Store struct {
	dir   string
	key   consent.Key
	audit pipeline.Auditor
	// Now is the clock (tests replace it).
	Now func() time.Time
	// Hook, if set, is called at each step of an answer (tests stop the
	// process there).
	Hook func(step, sha string)
}

var _ pipeline.Approvals = (*Store)(nil)

// Open returns the store of stateDir (creating its folder, 0700), sealing
// with key and recording answers in aud (nil: nowhere).
func Open(stateDir string, key consent.Key, aud pipeline.Auditor) (*Store, error) {
	dir := filepath.Join(stateDir, Folder)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("approval: %w", err)
	}
	st, err := os.Lstat(dir)
	if err != nil {
		return nil, fmt.Errorf("approval: %w", err)
	}
	if !st.IsDir() || st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("approval: %s must be a folder only the service user can open (chmod 700 %s)", dir, dir)
	}
	return &Store{dir: dir, key: key, audit: aud, Now: time.Now}, nil
}

func (s *Store) hook(step, sha string) {
	if s.Hook != nil {
		s.Hook(step, sha)
	}
}

// lock serialises changes across processes (the daemon parks while a
// coordinator answers). Call the returned function to unlock.
func (s *Store) lock() (func(), error) {
	unlock, err := fsync.Lock(filepath.Join(s.dir, lockFile))
	if err != nil {
		return nil, fmt.Errorf("approval: lock: %w", err)
	}
	return unlock, nil
}

func validSHA(s string) bool {
	if len(s) != 64 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil && strings.ToLower(s) == s
}

func (s *Store) photoDir(sha string) string { return filepath.Join(s.dir, sha) }

// sealLabel binds a sealed original to its photo.
func sealLabel(sha string) string { return "photoguard waiting original " + sha }

// Park implements pipeline.Approvals: the original is sealed and written
// first, what waits after, so that a photo listed always has its original.
func (s *Store) Park(w pipeline.Parked) error {
	if !validSHA(w.SHA256) {
		return fmt.Errorf("approval: bad hash %q", w.SHA256)
	}
	unlock, err := s.lock()
	if err != nil {
		return err
	}
	defer unlock()
	dir := s.photoDir(w.SHA256)
	if err := privateDir(dir); err != nil {
		return err
	}
	blob := make([]byte, 4, 4+len(w.Rel)+len(w.Data))
	binary.BigEndian.PutUint32(blob, uint32(len(w.Rel)))
	blob = append(append(blob, w.Rel...), w.Data...)
	sealed, err := consent.Seal(s.key, sealLabel(w.SHA256), blob)
	clear(blob)
	if err != nil {
		return fmt.Errorf("approval: %w", err)
	}
	if err := write(dir, originalFile, sealed); err != nil {
		return err
	}
	ph, err := s.read(w.SHA256)
	if errors.Is(err, fs.ErrNotExist) {
		ph, err = &Photo{SHA256: w.SHA256, Group: group(w.Rel), At: w.At.UTC(), Targets: map[string]*Target{}}, nil
	}
	if err != nil {
		return err
	}
	for _, t := range w.Targets {
		if old := ph.Targets[t.Name]; old != nil && (old.State == Approved || old.State == Published) {
			continue // approved already: approve publishes (or published) it
		}
		ph.Targets[t.Name] = &Target{Channel: t.Channel, State: Waiting, Output: t.Output, Faces: t.Faces,
			Shown: t.Shown, Redacted: t.Redacted, Pupils: append([]string(nil), t.Pupils...)}
	}
	if !ph.Open() {
		ph.At = w.At.UTC()
	}
	return s.put(ph)
}

// group is the first folder of a path below the inbox.
func group(rel string) string {
	if dir, _, ok := strings.Cut(path.Clean(rel), "/"); ok {
		return dir
	}
	return ""
}

// List returns every photo of the store (open or answered), oldest first.
func (s *Store) List() ([]*Photo, error) {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, fmt.Errorf("approval: %w", err)
	}
	var out []*Photo
	var errs []error
	for _, e := range entries {
		if !e.IsDir() || !validSHA(e.Name()) {
			continue
		}
		ph, err := s.read(e.Name())
		if errors.Is(err, fs.ErrNotExist) {
			continue // an original whose listing was not written (purged later)
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, ph)
	}
	sort.Slice(out, func(a, b int) bool { return out[a].At.Before(out[b].At) })
	return out, errors.Join(errs...)
}

// Get returns the photo with content hash sha.
func (s *Store) Get(sha string) (*Photo, error) {
	if !validSHA(sha) {
		return nil, fmt.Errorf("approval: bad hash %q", sha)
	}
	return s.read(sha)
}

func (s *Store) read(sha string) (*Photo, error) {
	data, err := fsync.ReadRegular(filepath.Join(s.photoDir(sha), metaFile), 1<<20)
	if err != nil {
		return nil, err
	}
	var ph Photo
	if err := json.Unmarshal(data, &ph); err != nil || ph.SHA256 != sha {
		return nil, fmt.Errorf("approval: the record of photo %s is damaged", sha[:12])
	}
	if ph.Targets == nil {
		ph.Targets = map[string]*Target{}
	}
	return &ph, nil
}

func (s *Store) put(ph *Photo) error {
	data, err := json.MarshalIndent(ph, "", "  ")
	if err != nil {
		return err
	}
	return write(s.photoDir(ph.SHA256), metaFile, append(data, '\n'))
}

// Original returns the original of sha and its path below the inbox,
// checked against the hash.
func (s *Store) Original(sha string) (rel string, data []byte, err error) {
	sealed, err := fsync.ReadRegular(filepath.Join(s.photoDir(sha), originalFile), 1<<30)
	if err != nil {
		return "", nil, fmt.Errorf("approval: the original of %s: %w", sha[:12], err)
	}
	blob, err := consent.Unseal(s.key, sealLabel(sha), sealed)
	if err != nil {
		return "", nil, fmt.Errorf("approval: the original of %s: %w", sha[:12], err)
	}
	if len(blob) < 4 || int(binary.BigEndian.Uint32(blob)) > len(blob)-4 {
		return "", nil, fmt.Errorf("approval: the original of %s is damaged", sha[:12])
	}
	n := int(binary.BigEndian.Uint32(blob))
	rel, data = string(blob[4:4+n]), blob[4+n:]
	if sum := sha256.Sum256(data); hex.EncodeToString(sum[:]) != sha {
		return "", nil, fmt.Errorf("approval: the original of %s does not have its hash", sha[:12])
	}
	return rel, data, nil
}

// update changes the photo sha under the lock; fn returns an error to
// change nothing. Once no target is open, the original is removed.
func (s *Store) update(sha string, fn func(*Photo) error) (*Photo, error) {
	unlock, err := s.lock()
	if err != nil {
		return nil, err
	}
	defer unlock()
	ph, err := s.read(sha)
	if err != nil {
		return nil, err
	}
	if err := fn(ph); err != nil {
		return ph, err
	}
	if err := s.put(ph); err != nil {
		return ph, err
	}
	return ph, s.dropOriginal(ph)
}

// dropOriginal removes the sealed original of a photo no target is open
// for (safe to repeat).
func (s *Store) dropOriginal(ph *Photo) error {
	if ph.Open() {
		return nil
	}
	p := filepath.Join(s.photoDir(ph.SHA256), originalFile)
	if _, err := os.Lstat(p); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err := os.Remove(p); err != nil {
		return fmt.Errorf("approval: %w", err)
	}
	s.record(audit.Event{Kind: audit.Wipe, SHA256: ph.SHA256, Photo: ph.Short(), Detail: "the kept original of a photo that waited for approval, every target answered"})
	return fsync.Dir(s.photoDir(ph.SHA256))
}

func (s *Store) record(e audit.Event) {
	if s.audit == nil {
		return
	}
	if e.Time.IsZero() {
		e.Time = s.Now()
	}
	_ = s.audit.Record(e) // the answer itself is in waiting.json
}

// privateDir makes dir (0700) unless it exists, and refuses a link.
func privateDir(dir string) error {
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("approval: %w", err)
	}
	st, err := os.Lstat(dir)
	if err != nil {
		return fmt.Errorf("approval: %w", err)
	}
	if !st.IsDir() {
		return fmt.Errorf("approval: %s is a link or not a folder; photoguard does not write through it", dir)
	}
	return nil
}

func write(dir, name string, data []byte) error {
	err := fsync.WriteFile(dir, name, data, 0o600, func(st fs.FileInfo) bool { return st.Mode().IsRegular() }, nil)
	if err != nil {
		return fmt.Errorf("approval: writing %s: %w", filepath.Join(dir, name), err)
	}
	return nil
}

// LockAnswers makes this process the only one answering (approve, reject,
// expiry); it waits for another to finish. Call the returned function to
// unlock. The daemon's parking does not wait for it.
func (s *Store) LockAnswers() (func(), error) {
	unlock, err := fsync.Lock(filepath.Join(s.dir, ".answer.lock"))
	if err != nil {
		return nil, fmt.Errorf("approval: lock: %w", err)
	}
	return unlock, nil
}

// CountWaiting counts the photos of stateDir with a target still open, without
// the key (`photoguard status`); a missing store is none.
func CountWaiting(stateDir string) (int, error) {
	s := &Store{dir: filepath.Join(stateDir, Folder)}
	if _, err := os.Lstat(s.dir); errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	photos, err := s.List()
	n := 0
	for _, ph := range photos {
		if ph.Open() {
			n++
		}
	}
	return n, err
}
