package ledger

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/photoguard/photoguard/pipeline/core"
	"github.com/photoguard/photoguard/pipeline/internal/fsync"
)

// Dir is the ledger's folder under state_dir, FileName its file there.
const (
	Dir      = "ledger"
	FileName = "ledger.jsonl"
)

// Kinds of entry.
const (
	// Announced: the output is about to be sent to its target.
	Announced = "publishing"
	// Confirmed: the target confirmed the output (with its reference).
	Confirmed = "published"
	// Withdrawn: the target did not take the output; nothing is there.
	Withdrawn = "withdrawn"
	// TakenDown: a takedown removed the output (Removed) or could not
	// (Problem says why; it must be removed by hand).
	TakenDown = "takedown"
	// TempGone: the temporary upload Temp was removed and confirmed gone
	// long enough after its last attempt that no late upload can follow.
	TempGone = "temp-gone"
)

// Entry is one line of the ledger.
type Entry struct {
	Time    time.Time `json:"time"`
	Kind    string    `json:"kind"`
	SHA256  string    `json:"sha256"`
	Target  string    `json:"target"`
	Channel string    `json:"channel,omitempty"`
	Name    string    `json:"name"`
	Ref     string    `json:"ref,omitempty"`
	// Pupils: for an announcement, the ids visible in the output; for a
	// takedown, the ids it was asked for (empty: the whole photo).
	Pupils []string `json:"pupils,omitempty"`
	// ApprovedBy and ApprovedAt: who approved the publication (the
	// operating-system user who ran `photoguard approve`) and when.
	ApprovedBy string    `json:"approved_by,omitempty"`
	ApprovedAt time.Time `json:"approved_at,omitzero"`
	// Removed and Problem are a takedown's result.
	Removed bool   `json:"removed,omitempty"`
	Problem string `json:"problem,omitempty"`
	// Temp is the temporary name the target uploads the output under
	// first (WebDAV): recorded with the announcement, before the upload,
	// and kept as a leftover until an entry of kind TempGone.
	Temp string `json:"temp,omitempty"`
}

// Ledger appends to one state folder's ledger.
type Ledger struct {
	dir  string
	seal []byte // the key of the lines' seals; nil: lines are not sealed
	now  func() time.Time
	mu   sync.Mutex
}

// Open returns the ledger of stateDir, creating its folder (0700). Each
// line is sealed with sealKey (an HMAC-SHA256 key; the consent store's
// consent.Key.LedgerSealKey); nil writes lines without a seal (tests).
func Open(stateDir string, sealKey []byte) (*Ledger, error) {
	dir := filepath.Join(stateDir, Dir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("ledger: %w", err)
	}
	st, err := os.Lstat(dir)
	if err != nil {
		return nil, fmt.Errorf("ledger: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("ledger: %s is not a folder", dir)
	}
	if st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("ledger: %s has mode %04o; run: chmod 700 %s", dir, st.Mode().Perm(), dir)
	}
	return &Ledger{dir: dir, seal: sealKey, now: time.Now}, nil
}

// SetClock replaces the clock (tests).
func (l *Ledger) SetClock(now func() time.Time) { l.now = now }

// Publishing, Published and Withdrawn implement pipeline.Ledger.
func (l *Ledger) Publishing(p core.Publication) error { return l.Append(entryOf(Announced, p)) }
func (l *Ledger) Published(p core.Publication) error  { return l.Append(entryOf(Confirmed, p)) }
func (l *Ledger) Withdrawn(p core.Publication) error  { return l.Append(entryOf(Withdrawn, p)) }

func entryOf(kind string, p core.Publication) Entry {
	e := Entry{Kind: kind, SHA256: p.SHA256, Target: p.Target, Channel: p.Channel, Name: p.Name, Ref: p.Ref,
		Pupils: append([]string(nil), p.Pupils...), Temp: p.Temp}
	if a := p.Approved; a != nil {
		e.ApprovedBy, e.ApprovedAt = a.By, a.At.UTC()
	}
	return e
}

// Append writes e as one line and fsyncs it (Time is set when zero).
func (l *Ledger) Append(e Entry) error {
	if e.Kind == "" || e.SHA256 == "" || e.Target == "" {
		return errors.New("ledger: entry without a kind, hash or target")
	}
	e.Time = cmp.Or(e.Time, l.now()).UTC()
	line, err := json.Marshal(e)
	if err == nil {
		err = l.appendLine(append(sealLine(l.seal, line), '\n'))
	}
	if err != nil {
		return fmt.Errorf("ledger: %w", err)
	}
	return nil
}

// appendLine appends one line under the ledger's lock (this process's and
// every other's), and fsyncs it; a new file's name is made durable too.
func (l *Ledger) appendLine(line []byte) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	unlock, err := lockDir(l.dir)
	if err != nil {
		return err
	}
	defer unlock()
	path := filepath.Join(l.dir, FileName)
	_, missing := os.Lstat(path)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE|syscall.O_NOFOLLOW, 0o600)
	if err != nil {
		return err
	}
	if _, err = f.Write(line); err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil && missing != nil {
		err = fsync.Dir(l.dir)
	}
	return err
}

// Record is what the ledger knows of one output now.
type Record struct {
	core.Publication
	// At is when the output was confirmed (or announced, while it is not).
	At time.Time
	// Confirmed is set once the target confirmed the output; an output
	// that is only announced may or may not be at the target (a crash in
	// between).
	Confirmed bool
	// TakenDownAt is when a takedown removed it; zero while it is up.
	TakenDownAt time.Time
	// Problem is why the last takedown could not remove it (remove it by
	// hand), "" when there was none or it succeeded.
	Problem string
	// Legacy is set for an output known only from the journal (published
	// before the ledger existed): which pupils it shows is not known.
	Legacy bool
}

// Live reports whether the output is (or may be) at its target.
func (r *Record) Live() bool { return r.TakenDownAt.IsZero() }

// Short is the short content hash people see (in status and output names).
func (r *Record) Short() string { return short(r.SHA256) }

// Shows reports whether pupil id is visible in the output.
func (r *Record) Shows(id string) bool {
	for _, p := range r.Pupils {
		if p == id {
			return true
		}
	}
	return false
}

func (r *Record) key() string { return r.SHA256 + "\x00" + r.Target + "\x00" + r.Name }

// Fold turns the entries (oldest first) into one record per output, in the
// order they were first seen.
func Fold(entries []Entry) []*Record {
	byKey := map[string]*Record{}
	var order []*Record
	// fresh starts the record of e's output over (a new publication of it).
	fresh := func(e Entry) *Record {
		r := &Record{Publication: core.Publication{SHA256: e.SHA256, Target: e.Target, Channel: e.Channel, Name: e.Name,
			Pupils: append([]string(nil), e.Pupils...)}, At: e.Time}
		if cur := byKey[r.key()]; cur != nil {
			*cur = *r
			return cur
		}
		byKey[r.key()] = r
		order = append(order, r)
		return r
	}
	for _, e := range entries {
		cur := byKey[(&Record{Publication: core.Publication{SHA256: e.SHA256, Target: e.Target, Name: e.Name}}).key()]
		switch e.Kind {
		case Announced:
			fresh(e)
		case Confirmed:
			if cur == nil || !cur.Live() {
				// Confirmed without an announcement seen: up, with the
				// pupils the entry names.
				cur = fresh(e)
			}
			cur.Confirmed, cur.At, cur.Ref = true, e.Time, e.Ref
		case Withdrawn:
			if cur != nil && !cur.Confirmed && cur.Live() {
				cur.TakenDownAt = e.Time // nothing is there
			}
		case TakenDown:
			if cur == nil {
				// An output known only from the journal (published
				// before the ledger existed).
				cur = fresh(Entry{SHA256: e.SHA256, Target: e.Target, Channel: e.Channel, Name: e.Name, Time: e.Time})
				cur.Ref, cur.Confirmed, cur.Legacy = e.Ref, true, true
			}
			if e.Removed {
				cur.TakenDownAt, cur.Problem = e.Time, ""
			} else {
				cur.Problem = e.Problem
			}
		}
	}
	// Outputs that never reached their target are not publications.
	out := order[:0]
	for _, r := range order {
		if r.Confirmed || r.Live() {
			out = append(out, r)
		}
	}
	return out
}

// Query selects records for `photoguard published`.
type Query struct {
	Pupil   string
	Channel string
	Since   time.Time
	// All includes outputs that were taken down.
	All bool
}

// Select returns the records that match q, newest first.
func Select(recs []*Record, q Query) []*Record {
	var out []*Record
	for _, r := range recs {
		switch {
		case !q.All && !r.Live(),
			q.Pupil != "" && !r.Shows(q.Pupil),
			q.Channel != "" && r.Channel != q.Channel,
			!q.Since.IsZero() && r.At.Before(q.Since):
			continue
		}
		out = append(out, r)
	}
	sort.SliceStable(out, func(a, b int) bool { return out[a].At.After(out[b].At) })
	return out
}

// short is the short content hash: the 12 hex characters of output names.
func short(sha string) string {
	if len(sha) < 12 {
		return sha
	}
	return sha[:12]
}

// validHex reports whether s is lower-case hex.
func validHex(s string) bool {
	if s == "" {
		return false
	}
	return strings.Trim(s, "0123456789abcdef") == ""
}
