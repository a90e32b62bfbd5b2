package state

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sync"

	"github.com/photoguard/photoguard/pipeline/audit"
	"github.com/photoguard/photoguard/pipeline/consent"
	"github.com/photoguard/photoguard/pipeline/journal"
	"github.com/photoguard/photoguard/pipeline/ledger"
)

// Mode is how a command opens the state folder.
type Mode int

const (
	// ReadOnly reads what is there and creates, writes and locks nothing:
	// the commands that list or show (status, published, pending, ledger
	// check).
	ReadOnly Mode = iota + 1
	// DryRun reads as a write would and writes nothing: a command's
	// --dry-run, and what decides without recording (explain, demo's
	// preview, enroll --from's look at a photo).
	DryRun
	// Write creates what is missing (the folder, 0700; the key on first
	// use) and records. The commands that change something open the folder
	// so, beside the service: the journal, the consent store, the ledger,
	// the approvals and the retries each lock what they change.
	Write
	// Service is Write holding the run lock for as long as the house is
	// open: one service (photoguard run) per state folder; a second is
	// refused with an error naming the folder and the first one's pid.
	Service
)

func (m Mode) String() string {
	switch m {
	case ReadOnly:
		return "read-only"
	case DryRun:
		return "dry run"
	case Write:
		return "write"
	case Service:
		return "service"
	}
	return fmt.Sprintf("Mode(%d)", int(m))
}

// Writes reports whether a house opened in m may write.
func (m Mode) Writes() bool { return m == Write || m == Service }

// Options are what the configuration says about the state folder.
type Options struct {
	// Consent are the consent store's options (school year, backup age);
	// the house adds its audit log, and ReadOnly unless it writes.
	Consent []consent.Option
}

// House is an opened state folder. What it opens is opened on first use,
// in its mode, once; Close closes all of it. Safe for concurrent use.
type House struct {
	// Dir is the state folder.
	Dir  string
	Mode Mode

	opt    Options
	mu     sync.Mutex
	unlock func()

	key     *consent.Key
	journal *journal.Journal
	store   *consent.Store
	ledger  *ledger.Ledger
	audit   *audit.Log
}

// Open opens the state folder dir in mode. Write creates it (0700) when it
// is missing; the other modes leave a missing folder missing (it reads as
// empty).
func Open(dir string, mode Mode, o Options) (*House, error) {
	if dir == "" {
		return nil, errors.New("state_dir is empty")
	}
	if mode < ReadOnly || mode > Service {
		return nil, fmt.Errorf("state: %v is not a mode", mode)
	}
	h := &House{Dir: dir, Mode: mode, opt: o}
	if !mode.Writes() {
		return h, nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("state_dir: %w", err)
	}
	if mode == Service {
		unlock, err := LockRun(dir)
		if err != nil {
			return nil, err
		}
		h.unlock = unlock
	}
	return h, nil
}

// Close closes what the house opened (the journal's owner lock) and
// releases the run lock.
func (h *House) Close() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	var errs []error
	if h.journal != nil {
		errs = append(errs, h.journal.Close())
	}
	if h.unlock != nil {
		h.unlock()
		h.unlock = nil
	}
	return errors.Join(errs...)
}

// Key is the consent store's key. Write loads it, making it on first use;
// the other modes only read it: none yet is an error matching
// fs.ErrNotExist.
func (h *House) Key() (consent.Key, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.keyLocked()
}

func (h *House) keyLocked() (consent.Key, error) {
	if h.key != nil {
		return *h.key, nil
	}
	var k consent.Key
	var err error
	if h.Mode.Writes() {
		k, err = consent.LoadKey(h.Dir)
	} else {
		k, err = consent.ExistingKey(h.Dir)
	}
	if errors.Is(err, fs.ErrNotExist) {
		return k, err
	}
	if err != nil {
		return k, fmt.Errorf("consent store key: %w", err)
	}
	h.key = &k
	return k, nil
}

// LedgerKey is the key of the publication ledger's seals (derived from
// the consent store's key); nil when a house that does not write has no key
// yet (the ledger is then read unsealed: there can be no sealed lines).
func (h *House) LedgerKey() ([]byte, error) {
	k, err := h.Key()
	if errors.Is(err, fs.ErrNotExist) && !h.Mode.Writes() {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("the publication ledger's seals: %w", err)
	}
	return k.LedgerSealKey(), nil
}

// Audit is the audit log; nil (which records nothing) unless the house
// writes.
func (h *House) Audit() (*audit.Log, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.auditLocked()
}

func (h *House) auditLocked() (*audit.Log, error) {
	if !h.Mode.Writes() || h.audit != nil {
		return h.audit, nil
	}
	l, err := audit.Open(h.Dir, audit.Options{})
	if err != nil {
		return nil, err
	}
	h.audit = l
	return l, nil
}

// Journal is the journal: opened as an owner (claims, Close releases them)
// when the house writes; read-only otherwise (what was published already
// is a duplicate, not "would be published").
func (h *House) Journal() (*journal.Journal, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.journal != nil {
		return h.journal, nil
	}
	if !h.Mode.Writes() {
		h.journal = journal.ReadOnly(h.Dir)
		return h.journal, nil
	}
	j, err := journal.Open(h.Dir)
	if err != nil {
		return nil, err
	}
	h.journal = j
	return j, nil
}

// Store is the consent store, with the configuration's options and the
// house's audit log. A house that does not write opens it read-only
// (consent.ReadOnly); without a key and without a store it is empty.
func (h *House) Store() (*consent.Store, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.store != nil {
		return h.store, nil
	}
	key, err := h.keyLocked()
	if errors.Is(err, fs.ErrNotExist) && !consent.Exists(h.Dir) {
		// Nothing to read: an empty store, under a key nobody keeps.
		key, err = consent.NewKey()
	} else if errors.Is(err, fs.ErrNotExist) {
		err = fmt.Errorf("consent store key: %w", consent.NoKeyError(h.Dir))
	}
	if err != nil {
		return nil, err
	}
	opts, err := h.storeOptions()
	if err != nil {
		return nil, err
	}
	st, err := consent.Open(h.Dir, key, opts...)
	if err != nil {
		return nil, fmt.Errorf("consent store: %w", err)
	}
	h.store = st
	return st, nil
}

// Ledger is the publication ledger to record in; nil unless the house
// writes (ReadLedger reads it in every mode).
func (h *House) Ledger() (*ledger.Ledger, error) {
	if !h.Mode.Writes() {
		return nil, nil
	}
	key, err := h.LedgerKey()
	if err != nil {
		return nil, err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.ledger == nil {
		if h.ledger, err = ledger.Open(h.Dir, key); err != nil {
			return nil, err
		}
	}
	return h.ledger, nil
}

// AcceptRestore accepts the consent store as it is although it is older
// than the newest generation seen (a backup put back); a house that does
// not write only says what accepting would change.
func (h *House) AcceptRestore() (consent.RestoreDiff, error) {
	key, err := h.Key()
	if err != nil {
		return consent.RestoreDiff{}, err
	}
	h.mu.Lock()
	opts, err := h.storeOptions()
	h.mu.Unlock()
	if err != nil {
		return consent.RestoreDiff{}, err
	}
	return consent.AcceptRestore(h.Dir, key, !h.Mode.Writes(), opts...)
}

// storeOptions are the consent store's options in this house: the
// configuration's, the house's audit log, and ReadOnly unless the house
// writes. Call it with h.mu held.
func (h *House) storeOptions() ([]consent.Option, error) {
	aud, err := h.auditLocked()
	if err != nil {
		return nil, err
	}
	opts := append(append([]consent.Option{}, h.opt.Consent...), consent.WithAudit(aud))
	if !h.Mode.Writes() {
		opts = append(opts, consent.ReadOnly())
	}
	return opts, nil
}

// ReadLedger reads the publication ledger's entries (none when there is
// none), and the key its seals were checked with.
func (h *House) ReadLedger() (*ledger.Reading, []byte, error) {
	key, err := h.LedgerKey()
	if err != nil {
		return nil, nil, err
	}
	rd, err := ledger.Read(h.Dir, key)
	return rd, key, err
}
