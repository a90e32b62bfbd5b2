// Package audit keeps the audit log: an append-only JSON-lines file under
// state_dir of everything photoguard did that a school may have to account
// for (outcomes, publications, deletions, wipes, consent imports and
// revocations, takedowns, corrections, purges).
//
// Invariant: an event names pupils by id only and photos by content hash;
// it never holds a name, a descriptor or an input path (Event has no field
// that could carry one, and Detail is for fixed wording and counts; Note is
// a rejection's reason in the direction's words, who are asked to name no
// pupil there). The log
// is only ever appended to (O_APPEND, never through a link), each event is
// one write of one line, and the file is rotated by size under a lock so
// that the daemon and the CLI can write at the same time.
package audit

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// FileName is the current log under state_dir; rotated files are
// FileName + ".1" (newest) to FileName + "." + Keep.
const FileName = "audit.jsonl"

// LockFile is what a Record holds while it appends (and rotates).
const LockFile = "audit.lock"

// Kinds of event.
const (
	Outcome       = "outcome"        // a photo's outcome (published, rejected, quarantined, held)
	Publish       = "publish"        // one output reached one target
	Delete        = "delete"         // one output was removed from one target
	Wipe          = "wipe"           // an input (or a kept original) was deleted locally
	ConsentImport = "consent-import" // the school's consent register was imported into the consent store
	ConsentRevoke = "consent-revoke" // consent was withdrawn
	Takedown      = "takedown"       // a takedown request was carried out
	Correction    = "correction"     // a reviewed correction (enroll --from, correct --not)
	Enroll        = "enroll"         // references added or removed
	Purge         = "purge"          // retention removed something
	Approval      = "approval"       // the direction approved or rejected a photo for a target, or it expired
)

// Event is one line of the log. Fields are ids, hashes, counts and fixed
// wording only.
type Event struct {
	Time    time.Time `json:"time"`
	Kind    string    `json:"event"`
	SHA256  string    `json:"sha256,omitempty"` // the input's content hash
	Photo   string    `json:"photo,omitempty"`  // the short hash people see
	Target  string    `json:"target,omitempty"`
	Ref     string    `json:"ref,omitempty"` // the target's reference (output name, media id)
	Channel string    `json:"channel,omitempty"`
	Outcome string    `json:"outcome,omitempty"`
	Pupils  []string  `json:"pupils,omitempty"` // pupil ids, never names
	Count   int       `json:"count,omitempty"`
	Detail  string    `json:"detail,omitempty"` // fixed wording: never a name or a path
	// By is the operating-system account that answered an approval; Note
	// the reason the direction gave for a rejection, in their own words
	// (the README asks them to name no pupil there).
	By     string `json:"by,omitempty"`
	Note   string `json:"note,omitempty"`
	DryRun bool   `json:"dry_run,omitempty"`
}

// Log appends events to state_dir/audit.jsonl.
type Log struct {
	dir      string
	maxBytes int64
	keep     int
	now      func() time.Time
	mu       sync.Mutex
}

// Options of a Log. Zero values take the defaults.
type Options struct {
	// MaxBytes rotates the log once it is larger (default 10 MiB).
	MaxBytes int64
	// Keep is how many rotated files are kept (default 5).
	Keep int
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Open returns the log of stateDir (the folder must exist). Nothing is
// written until the first Record.
func Open(stateDir string, o Options) (*Log, error) {
	fi, err := os.Lstat(stateDir)
	if err != nil {
		return nil, fmt.Errorf("audit log: %w", err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("audit log: %s is not a folder", stateDir)
	}
	if o.MaxBytes <= 0 {
		o.MaxBytes = 10 << 20
	}
	if o.Keep <= 0 {
		o.Keep = 5
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Log{dir: stateDir, maxBytes: o.MaxBytes, keep: o.Keep, now: o.Now}, nil
}

// Record appends e (Time is set when zero). A nil Log records nothing, so
// that callers without a state folder (tests, explain) need no checks.
func (l *Log) Record(e Event) error {
	if l == nil {
		return nil
	}
	if e.Kind == "" {
		return errors.New("audit log: event without a kind")
	}
	if e.Time.IsZero() {
		e.Time = l.now()
	}
	e.Time = e.Time.UTC()
	line, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("audit log: %w", err)
	}
	line = append(line, '\n')
	l.mu.Lock()
	defer l.mu.Unlock()
	unlock, err := l.lock()
	if err != nil {
		return err
	}
	defer unlock()
	if err := l.rotate(); err != nil {
		return err
	}
	f, err := os.OpenFile(filepath.Join(l.dir, FileName), os.O_WRONLY|os.O_APPEND|os.O_CREATE|syscall.O_NOFOLLOW, 0o600)
	if err != nil {
		return fmt.Errorf("audit log: %w", err)
	}
	if _, err := f.Write(line); err != nil {
		f.Close()
		return fmt.Errorf("audit log: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("audit log: %w", err)
	}
	return f.Close()
}

// lock takes an flock on state_dir/audit.lock (across processes).
func (l *Log) lock() (func(), error) {
	f, err := os.OpenFile(filepath.Join(l.dir, LockFile), os.O_RDWR|os.O_CREATE|syscall.O_NOFOLLOW, 0o600)
	if err != nil {
		return nil, fmt.Errorf("audit log: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("audit log: %w", err)
	}
	return func() { _ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN); f.Close() }, nil
}

// rotate renames the log away once it has grown past maxBytes.
func (l *Log) rotate() error {
	cur := filepath.Join(l.dir, FileName)
	fi, err := os.Lstat(cur)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("audit log: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("audit log: %s is not a regular file", cur)
	}
	if fi.Size() < l.maxBytes {
		return nil
	}
	_ = os.Remove(cur + "." + strconv.Itoa(l.keep))
	for i := l.keep - 1; i >= 1; i-- {
		from := cur + "." + strconv.Itoa(i)
		if _, err := os.Lstat(from); err == nil {
			if err := os.Rename(from, cur+"."+strconv.Itoa(i+1)); err != nil {
				return fmt.Errorf("audit log: rotating: %w", err)
			}
		}
	}
	if err := os.Rename(cur, cur+".1"); err != nil {
		return fmt.Errorf("audit log: rotating: %w", err)
	}
	return syncDir(l.dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// Read returns every event in stateDir's log, oldest first (rotated files
// included). A missing log is no error.
func Read(stateDir string) ([]Event, error) {
	matches, _ := filepath.Glob(filepath.Join(stateDir, FileName+".*"))
	var rotated []string
	for _, m := range matches {
		if _, err := strconv.Atoi(strings.TrimPrefix(filepath.Base(m), FileName+".")); err == nil {
			rotated = append(rotated, m)
		}
	}
	num := func(p string) int {
		n, _ := strconv.Atoi(strings.TrimPrefix(filepath.Base(p), FileName+"."))
		return n
	}
	sort.Slice(rotated, func(i, j int) bool { return num(rotated[i]) > num(rotated[j]) })
	var out []Event
	for _, p := range append(rotated, filepath.Join(stateDir, FileName)) {
		evs, err := readFile(p)
		if err != nil {
			return nil, err
		}
		out = append(out, evs...)
	}
	return out, nil
}

func readFile(p string) ([]Event, error) {
	f, err := os.OpenFile(p, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("audit log: %w", err)
	}
	defer f.Close()
	var out []Event
	r := bufio.NewReader(f)
	for n := 1; ; n++ {
		line, err := r.ReadBytes('\n')
		if len(line) > 0 && line[len(line)-1] == '\n' {
			var e Event
			if jerr := json.Unmarshal(line, &e); jerr != nil {
				return nil, fmt.Errorf("audit log: %s line %d: %w", filepath.Base(p), n, jerr)
			}
			out = append(out, e)
		}
		// A last line without a newline is a write cut short by a crash:
		// it is not an event.
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("audit log: %w", err)
		}
	}
}
