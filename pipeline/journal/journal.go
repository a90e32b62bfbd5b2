// Package journal records, per input content hash, how far photoguard got
// with it, so that after a crash every input ends in exactly one outcome and
// content that was published is never published again.
//
// Storage: one small JSON file per content hash under state_dir/journal,
// replaced atomically (fsync.WriteFile: temporary file, fsync, rename, fsync
// of the folder).
// Chosen over an embedded database because several processes use it at once
// (the daemon, a batch run, `photoguard status`), because a record is only
// ever read and written whole, and because an ICT coordinator can read it
// with `cat` when something needs explaining. Read-modify-write is serialised
// across processes by an flock on journal/.lock.
//
// Every process that claims records holds an exclusive flock on its own file
// in journal/owners/ for as long as it lives. A record whose owner's lock can
// be taken belongs to a process that died: it is an orphan, and the pipeline
// finishes or rolls it back.
package journal

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/photoguard/photoguard/pipeline/internal/fsync"
)

// State is how far an input got.
type State string

const (
	// Claimed: an owner is processing the input; nothing has left yet.
	Claimed State = "claimed"
	// Publishing: output names are chosen and the targets are being written.
	Publishing State = "publishing"
	// Published: every target confirmed; the input is not wiped yet.
	Published State = "published"
	// MovingAside: the input is being moved to rejected/, quarantine/ or held/.
	MovingAside State = "moving-aside"
	// Done: the outcome is durable and the input is wiped, moved aside, or
	// kept on purpose.
	Done State = "done"
)

// Delivery is one target's part of a record.
type Delivery struct {
	Name      string `json:"name"`
	Published bool   `json:"published"`
	// Ref is the target's own reference to the file (Target.Publish), which
	// a takedown gives to Target.Remove; empty in records written before it
	// existed (then the name is the reference).
	Ref string    `json:"ref,omitempty"`
	At  time.Time `json:"at,omitzero"`
	// TakenDown is when the photo was removed from the target on request
	// (then Published is false again).
	TakenDown time.Time `json:"taken_down,omitzero"`
}

// Record is everything the journal knows of one input content.
type Record struct {
	SHA256 string `json:"sha256"`
	// Input is the absolute path the content was read from; Size and MTime
	// are what it had then (a file changed since is a new input, not this one).
	Input string    `json:"input"`
	Rel   string    `json:"rel"`
	Size  int64     `json:"size"`
	MTime time.Time `json:"mtime"`

	State   State  `json:"state"`
	Outcome string `json:"outcome,omitempty"`
	Reason  string `json:"reason,omitempty"`
	// Aside is where the input was (or is being) moved for a non-published outcome.
	Aside string `json:"aside,omitempty"`
	// KeepInput is set when the run that claimed the input was told not to
	// wipe it (--keep-inputs); recovery honours it.
	KeepInput bool `json:"keep_input,omitempty"`
	// Kept is set when the input was not wiped (on purpose, or because
	// removing it failed).
	Kept bool `json:"kept,omitempty"`

	// Targets are all the targets the input is meant for, fixed at claim
	// time: it is published only when every one of them confirmed.
	Targets    []string             `json:"targets,omitempty"`
	Deliveries map[string]*Delivery `json:"deliveries,omitempty"`

	Owner     string    `json:"owner"`
	ClaimedAt time.Time `json:"claimed_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Folder is the journal's folder in the state folder.
const Folder = "journal"

// Journal is one state directory's journal, opened by one process.
type Journal struct {
	dir   string
	owner string
	own   *os.File
}

// Open opens (creating) the journal under stateDir/journal and registers
// this process as an owner.
func Open(stateDir string) (*Journal, error) {
	dir := filepath.Join(stateDir, Folder)
	if err := os.MkdirAll(filepath.Join(dir, "owners"), 0o700); err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	var rnd [6]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return nil, err
	}
	owner := fmt.Sprintf("%d-%s", os.Getpid(), hex.EncodeToString(rnd[:]))
	f, err := os.OpenFile(filepath.Join(dir, "owners", owner+".lock"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("journal: owner lock: %w", err)
	}
	j := &Journal{dir: dir, owner: owner, own: f}
	j.cleanOwners()
	return j, nil
}

// ReadOnly returns the journal under stateDir for Get and List only: it
// creates nothing and claims nothing (a dry run asks it what a run would
// find). Its Close does nothing.
func ReadOnly(stateDir string) *Journal {
	return &Journal{dir: filepath.Join(stateDir, Folder)}
}

// Owner is this process's owner id.
func (j *Journal) Owner() string { return j.owner }

// Close releases this process's owner lock. Records it still holds become
// orphans for the next process to recover.
func (j *Journal) Close() error {
	if j.own == nil {
		return nil
	}
	name := j.own.Name()
	err := j.own.Close()
	j.own = nil
	_ = os.Remove(name)
	return err
}

// cleanOwners removes lock files of dead owners that no record names.
func (j *Journal) cleanOwners() {
	entries, err := os.ReadDir(filepath.Join(j.dir, "owners"))
	if err != nil {
		return
	}
	for _, e := range entries {
		owner := strings.TrimSuffix(e.Name(), ".lock")
		if owner != j.owner && !j.Alive(owner) {
			// A record still naming it reads as dead either way.
			_ = os.Remove(filepath.Join(j.dir, "owners", e.Name()))
		}
	}
}

// Alive reports whether owner is a live process (this one included).
func (j *Journal) Alive(owner string) bool {
	if owner == j.owner {
		return true
	}
	f, err := os.OpenFile(filepath.Join(j.dir, "owners", owner+".lock"), os.O_RDWR, 0)
	if err != nil {
		return false
	}
	defer f.Close()
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		return true // someone holds it
	}
	_ = unix.Flock(int(f.Fd()), unix.LOCK_UN)
	return false
}

// Lock serialises read-modify-write of records across processes. Call the
// returned function to unlock.
func (j *Journal) Lock() (func(), error) {
	f, err := os.OpenFile(filepath.Join(j.dir, ".lock"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("journal: lock: %w", err)
	}
	return func() { _ = unix.Flock(int(f.Fd()), unix.LOCK_UN); f.Close() }, nil
}

func (j *Journal) path(sha string) string { return filepath.Join(j.dir, sha+".json") }

// ErrNotFound is returned by Get for content the journal has never seen.
var ErrNotFound = errors.New("journal: no record")

// Get reads the record of sha.
func (j *Journal) Get(sha string) (*Record, error) {
	if !validSHA(sha) {
		return nil, fmt.Errorf("journal: bad hash %q", sha)
	}
	data, err := os.ReadFile(j.path(sha))
	if errors.Is(err, os.ErrNotExist) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	var r Record
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("journal: record %s is damaged: %w", sha[:12], err)
	}
	return &r, nil
}

// Put writes r durably, replacing any earlier record of the same content.
func (j *Journal) Put(r *Record) error {
	if !validSHA(r.SHA256) {
		return fmt.Errorf("journal: bad hash %q", r.SHA256)
	}
	r.UpdatedAt = time.Now().UTC()
	data, err := json.MarshalIndent(stored(r), "", "  ")
	if err != nil {
		return err
	}
	return writeAtomic(j.dir, r.SHA256+".json", data)
}

// stored is what Put writes of r: a finished record keeps no input path
// (a path may hold a child's name; the content hash is what identifies the
// photo from then on). (issue 12)
func stored(r *Record) *Record {
	if r.State != Done {
		return r
	}
	c := *r
	c.Input, c.Rel = "", ""
	return &c
}

// Delete removes the record of sha (a claim rolled back).
func (j *Journal) Delete(sha string) error {
	if !validSHA(sha) {
		return fmt.Errorf("journal: bad hash %q", sha)
	}
	if err := os.Remove(j.path(sha)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("journal: %w", err)
	}
	return syncDir(j.dir)
}

// List returns every record, oldest update first. Damaged records are
// reported in the error but do not stop the listing.
func (j *Journal) List() ([]*Record, error) {
	entries, err := os.ReadDir(j.dir)
	if err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	var recs []*Record
	var errs []error
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, ".json") || !validSHA(strings.TrimSuffix(name, ".json")) {
			continue
		}
		r, err := j.Get(strings.TrimSuffix(name, ".json"))
		if err != nil {
			errs = append(errs, err)
			continue
		}
		recs = append(recs, r)
	}
	sort.Slice(recs, func(a, b int) bool { return recs[a].UpdatedAt.Before(recs[b].UpdatedAt) })
	return recs, errors.Join(errs...)
}

// Prune removes records that are done and older than keep. They only serve
// to recognise re-delivered content.
func (j *Journal) Prune(keep time.Duration) (int, error) {
	recs, err := j.PruneBefore(time.Now().Add(-keep), false)
	return len(recs), err
}

// PruneBefore removes the records that are done and were last updated
// before cutoff, and returns them (a dry run only returns them, without
// the lock: it writes nothing, and records are replaced whole). (issue 12)
func (j *Journal) PruneBefore(cutoff time.Time, dryRun bool) ([]*Record, error) {
	if !dryRun {
		unlock, err := j.Lock()
		if err != nil {
			return nil, err
		}
		defer unlock()
	}
	recs, err := j.List()
	var out []*Record
	for _, r := range recs {
		if r.State == Done && r.UpdatedAt.Before(cutoff) {
			if dryRun || j.Delete(r.SHA256) == nil {
				out = append(out, r)
			}
		}
	}
	return out, err
}

func validSHA(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// writeAtomic writes dir/name whole or not at all (fsync.WriteFile: a
// temporary file, fsync, rename, fsync of dir).
func writeAtomic(dir, name string, data []byte) error {
	if err := fsync.WriteFile(dir, name, data, 0o600, nil, nil); err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	return nil
}

func syncDir(dir string) error { return fsync.Dir(dir) }
