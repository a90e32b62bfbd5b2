package consent

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/photoguard/photoguard/pipeline/audit"
	"github.com/photoguard/photoguard/pipeline/internal/fsync"
)

// ErrTooManyRemovals: an import would remove more people than
// ImportOptions.MaxRemove allows without AllowRemove. Nothing was changed;
// the report that comes with it lists them.
var ErrTooManyRemovals = errors.New("consent store: the import would remove more people than allowed without --allow-remove")

// ImportOptions say how an import may change the store.
type ImportOptions struct {
	// Scope, if set, replaces only the people of those roles (so that a
	// pupil export does not remove staff); every imported person must then
	// have one of them.
	Scope []Role
	// MaxRemove is the most people the import may remove (with their
	// enrolled descriptors) unless AllowRemove is set: an export of the
	// wrong group, or a half one, must not empty the store (rclone's
	// --max-delete). 0 allows no removal without AllowRemove.
	MaxRemove   int
	AllowRemove bool
}

// ImportReport says what an import changed (or, from DiffImport or a
// refused import, would change), by pupil id and counts: never names.
type ImportReport struct {
	// People is the number of people in the store after the import.
	People int
	// Added, Updated, Unchanged and Removed count people.
	Added, Updated, Unchanged, Removed int
	// ReferencesRemoved counts the descriptors deleted with removed people
	// (a pupil who left must not stay as biometric data); PeopleUnenrolled
	// counts the removed people who had any.
	ReferencesRemoved int
	PeopleUnenrolled  int
	// RevocationsKept counts channels that stay revoked because the import
	// says yes without a confirmation date after the revocation.
	RevocationsKept int
	// RemovedPeople lists the removed people, sorted by id.
	RemovedPeople []Removal
	// Withdrawals are the channels of people who stay whose consent was
	// valid before the import and is not after it: photos already
	// published there may have to be taken down.
	Withdrawals []Withdrawal
	// Backup is the copy of the store file as it was before the import
	// (empty when there was none, or nothing was written).
	Backup string
}

// Removal is one person an import removes.
type Removal struct {
	ID   string
	Role Role
	// References is the number of enrolled descriptors deleted with them.
	References int
}

// Withdrawal is one pupil's consent for one channel that is no longer
// valid: what a takedown of published photos starts from.
type Withdrawal struct {
	ID, Channel string
}

// ImportConsent replaces the store's people with people, atomically:
// people who are not in the list (within opt.Scope) are removed, with their
// enrolled descriptors, but only up to opt.MaxRemove unless
// opt.AllowRemove (ErrTooManyRemovals, with the report listing them).
// Enrolled references and revocations of people who stay are kept; a
// revocation ends only when the import says yes with a confirmation date
// after the day of the revocation. The Revoked fields of the given people
// are ignored. Before the store file is replaced, the previous one is kept
// as a dated backup beside it (ImportReport.Backup; see PruneBackups).
// An invalid list, or an empty one, changes nothing.
func (s *Store) ImportConsent(people []Person, opt ImportOptions) (ImportReport, error) {
	var rep ImportReport
	err := s.update(func(st *state) (bool, error) {
		var err error
		rep, err = s.applyImport(st, people, opt)
		// An import that changes nothing is not written, so the daemon
		// does not reload for it.
		changed := err == nil && rep.Added+rep.Updated+rep.Removed > 0
		if changed {
			rep.Backup, err = s.backup(s.now())
		}
		return changed, err
	})
	if err != nil {
		if errors.Is(err, ErrTooManyRemovals) {
			return rep, err
		}
		return ImportReport{}, err
	}
	return rep, s.auditImport(rep)
}

// DiffImport reports what ImportConsent would do, without writing. An
// import that would be refused for its removals returns the report with
// ErrTooManyRemovals.
func (s *Store) DiffImport(people []Person, opt ImportOptions) (ImportReport, error) {
	cur, err := s.readFile()
	if err != nil {
		return ImportReport{}, err
	}
	return s.applyImport(cur, people, opt)
}

func validatePeople(people []Person, scope []Role) error {
	if len(people) == 0 {
		return fmt.Errorf("%w: the import has no people; refusing to empty the consent store", ErrInvalid)
	}
	if len(people) > MaxPeople {
		return fmt.Errorf("%w: %d people, at most %d", ErrInvalid, len(people), MaxPeople)
	}
	for _, r := range scope {
		if !r.valid() {
			return fmt.Errorf("%w: unknown role %q in scope", ErrInvalid, r)
		}
	}
	seen := make(map[string]int, len(people))
	for i, p := range people {
		if !validID(p.ID) {
			return fmt.Errorf("%w: person #%d has an invalid id", ErrInvalid, i+1)
		}
		if j, dup := seen[p.ID]; dup {
			return fmt.Errorf("%w: id %s appears twice (#%d and #%d)", ErrInvalid, p.ID, j+1, i+1)
		}
		seen[p.ID] = i
		if !p.Role.valid() {
			return fmt.Errorf("%w: id %s has role %q", ErrInvalid, p.ID, p.Role)
		}
		if len(scope) > 0 && !hasRole(scope, p.Role) {
			return fmt.Errorf("%w: id %s is %s, outside the import scope", ErrInvalid, p.ID, p.Role)
		}
		for ch, c := range p.Consent {
			if !KnownChannel(ch) {
				return fmt.Errorf("%w: id %s: channel %q", ErrUnknownChannel, p.ID, ch)
			}
			if c.Given && c.ConfirmedOn.IsZero() {
				return fmt.Errorf("%w: id %s: consent for %s without a confirmation date", ErrInvalid, p.ID, ch)
			}
		}
	}
	return nil
}

func hasRole(rs []Role, r Role) bool {
	for _, x := range rs {
		if x == r {
			return true
		}
	}
	return false
}

// applyImport applies the import to st and reports it; with
// ErrTooManyRemovals (or any error) st must not be written.
func (s *Store) applyImport(st *state, people []Person, opt ImportOptions) (ImportReport, error) {
	var rep ImportReport
	if err := validatePeople(people, opt.Scope); err != nil {
		return rep, err
	}
	now := s.now()
	before := newSnapshot(st.clone(), s.opt)
	inScope := func(r Role) bool { return len(opt.Scope) == 0 || hasRole(opt.Scope, r) }
	incoming := make(map[string]bool, len(people))
	for _, p := range people {
		incoming[p.ID] = true
	}
	for _, id := range sortedIDs(st.people) {
		old := st.people[id]
		if incoming[id] || !inScope(old.Role) {
			continue
		}
		rep.Removed++
		rep.RemovedPeople = append(rep.RemovedPeople, Removal{ID: id, Role: old.Role, References: len(old.refs)})
		if n := len(old.refs); n > 0 {
			rep.ReferencesRemoved += n
			rep.PeopleUnenrolled++
		}
		delete(st.people, id)
	}
	for _, p := range people {
		np := Person{ID: p.ID, FirstName: p.FirstName, Infix: p.Infix, LastName: p.LastName, Group: p.Group, Role: p.Role,
			Consent: make(map[string]ChannelConsent, len(p.Consent))}
		for ch, c := range p.Consent {
			np.Consent[ch] = ChannelConsent{Given: c.Given, ConfirmedOn: civilDate(c.ConfirmedOn)}
		}
		old, ok := st.people[p.ID]
		if !ok {
			rep.Added++
			st.people[p.ID] = &personRec{Person: np}
			continue
		}
		for ch, oc := range old.Consent {
			if !oc.Revoked {
				continue
			}
			nc := np.Consent[ch]
			if nc.Given && nc.ConfirmedOn.After(oc.RevokedOn) {
				continue // a newer yes ends the revocation
			}
			if nc.Given {
				rep.RevocationsKept++
			}
			np.Consent[ch] = ChannelConsent{Given: false, ConfirmedOn: nc.ConfirmedOn, Revoked: true, RevokedOn: oc.RevokedOn}
		}
		if samePerson(old.Person, np) {
			rep.Unchanged++
		} else {
			rep.Updated++
		}
		st.people[p.ID] = &personRec{Person: np, refs: old.refs}
	}
	after := newSnapshot(st, s.opt)
	for _, id := range sortedIDs(st.people) {
		for _, ch := range Channels() {
			was, _ := before.status(id, ch, now)
			is, _ := after.status(id, ch, now)
			if was && !is {
				rep.Withdrawals = append(rep.Withdrawals, Withdrawal{ID: id, Channel: ch})
			}
		}
	}
	rep.People = len(st.people)
	if rep.Removed > opt.MaxRemove && !opt.AllowRemove {
		return rep, fmt.Errorf("%w: it removes %d, at most %d without it (consent.max_remove)", ErrTooManyRemovals, rep.Removed, opt.MaxRemove)
	}
	return rep, nil
}

func samePerson(a, b Person) bool {
	if a.ID != b.ID || a.FirstName != b.FirstName || a.Infix != b.Infix || a.LastName != b.LastName ||
		a.Group != b.Group || a.Role != b.Role {
		return false
	}
	for _, ch := range Channels() {
		if !sameConsent(a.Consent[ch], b.Consent[ch]) {
			return false
		}
	}
	return true
}

// auditImport records an import in the audit log: the counts, and by pupil
// id who was removed (with how many references) and whose consent for a
// channel was withdrawn.
func (s *Store) auditImport(rep ImportReport) error {
	var removed []string
	for _, r := range rep.RemovedPeople {
		removed = append(removed, r.ID)
	}
	events := []audit.Event{{Kind: audit.ConsentImport, Count: rep.People, Pupils: removed,
		Detail: fmt.Sprintf("imported: %d added, %d updated, %d unchanged, %d removed with %d enrolled references",
			rep.Added, rep.Updated, rep.Unchanged, rep.Removed, rep.ReferencesRemoved)}}
	for _, r := range rep.RemovedPeople {
		if r.References > 0 {
			events = append(events, audit.Event{Kind: audit.ConsentImport, Pupils: []string{r.ID}, Count: r.References,
				Detail: "removed by the import with their enrolled references"})
		}
	}
	for _, w := range rep.Withdrawals {
		events = append(events, audit.Event{Kind: audit.ConsentImport, Pupils: []string{w.ID}, Channel: w.Channel,
			Detail: "consent withdrawn by the import"})
	}
	return s.record(events...)
}

// record appends events to the audit log (WithAudit), after the change
// they describe was saved.
func (s *Store) record(events ...audit.Event) error {
	for _, e := range events {
		if err := s.opt.audit.Record(e); err != nil {
			return fmt.Errorf("the change was saved, but: %w", err)
		}
	}
	return nil
}

// Backups of the store file, made before an import replaces it.
const (
	backupPrefix = "registry.db.before-import-"
	backupLayout = "2006-01-02T150405Z"
	// DefaultBackupAge is how long a backup is kept by default: a backup
	// holds the descriptors of pupils who left, so it must not stay.
	DefaultBackupAge = 30 * 24 * time.Hour
)

// backup copies the store file as it is (encrypted, its generation
// unchanged) to registry/registry.db.before-import-DATE (0600). Call it
// under the lock. Without a file there is nothing to keep.
func (s *Store) backup(now time.Time) (string, error) {
	if s.opt.readOnly {
		return "", ErrReadOnly
	}
	data, err := readPrivate(s.path, maxFileSize)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	name := backupPrefix + now.UTC().Format(backupLayout)
	for i := 2; ; i++ {
		err = writePrivate(s.dir, name, data, func(fs.FileInfo) bool { return false })
		if !errors.Is(err, fsync.ErrInTheWay) || i > 100 {
			break
		}
		name = fmt.Sprintf("%s%s-%d", backupPrefix, now.UTC().Format(backupLayout), i)
	}
	if err != nil {
		return "", fmt.Errorf("consent store: keeping the previous store before the import: %w", err)
	}
	return filepath.Join(s.dir, name), nil
}

// Backups lists the backups in the store's folder, oldest first.
func (s *Store) Backups() []string {
	m, _ := filepath.Glob(filepath.Join(s.dir, backupPrefix+"*"))
	sort.Strings(m)
	return m
}

// PruneBackups removes the backups older than the Store's backup age
// (WithBackupAge, default DefaultBackupAge) and returns what it removed.
// Every write of the store prunes too.
func (s *Store) PruneBackups() ([]string, error) {
	if s.opt.readOnly {
		return nil, ErrReadOnly
	}
	var removed []string
	cutoff := s.now().Add(-s.opt.backupAge)
	for _, p := range s.Backups() {
		stamp := strings.TrimPrefix(filepath.Base(p), backupPrefix)
		if i := strings.LastIndexByte(stamp, '-'); i > len(backupLayout)-3 {
			stamp = stamp[:i] // a second backup in the same second: -2
		}
		t, err := time.Parse(backupLayout, stamp)
		if err != nil || !t.Before(cutoff) {
			continue
		}
		if err := os.Remove(p); err != nil {
			return removed, fmt.Errorf("consent store: removing an old backup: %w", err)
		}
		removed = append(removed, p)
	}
	return removed, nil
}

// RestoreBackup puts back the people, references and consent of a store
// file kept before an import (Backups), or of any copy of the store file
// made with the same key: the way to undo an import. It never brings back
// consent revoked since, nor drops an objection: revocations and
// objections of the current store are kept on top of the backup's. The
// current store is itself kept as a backup first, so that the restore can
// be undone the same way. The diff lists by id what changes (Seen: now;
// Restored: the backup). dryRun only lists.
func (s *Store) RestoreBackup(path string, dryRun bool) (RestoreDiff, string, error) {
	data, err := readPrivate(path, maxFileSize)
	if err != nil {
		return RestoreDiff{}, "", err
	}
	b, _, err := open(s.key, data)
	if err != nil {
		return RestoreDiff{}, "", fmt.Errorf("%w (%s)", err, path)
	}
	var diff RestoreDiff
	var kept string
	err = s.update(func(st *state) (bool, error) {
		restored := b.clone()
		for id, p := range restored.people {
			cur, ok := st.people[id]
			if !ok {
				continue
			}
			for ch, c := range cur.Consent {
				if c.Revoked && !p.Consent[ch].Revoked {
					p.Consent[ch] = ChannelConsent{Given: false, ConfirmedOn: p.Consent[ch].ConfirmedOn, Revoked: true, RevokedOn: c.RevokedOn}
				}
			}
		}
		restored.objections = append(restored.objections, missingObjectionsFull(st.objections, restored.objections)...)
		diff = RestoreDiff{Generation: b.generation, Seen: st.generation}
		compareStates(&diff, st, restored)
		if dryRun {
			return false, nil
		}
		var err error
		if kept, err = s.backup(s.now()); err != nil {
			return false, err
		}
		st.people, st.objections = restored.people, restored.objections
		return true, nil
	})
	if err != nil {
		return diff, kept, err
	}
	if !dryRun {
		diff.Accepted = s.Snapshot().Generation()
		err = s.record(audit.Event{Kind: audit.ConsentImport, Count: s.Snapshot().Len(), Pupils: diff.PeopleBack,
			Detail: "a backup of the consent store was put back"})
	}
	return diff, kept, err
}

// missingObjectionsFull are the objections of a (whole records) that b
// does not have.
func missingObjectionsFull(a, b []Objection) []Objection {
	have := map[[2]string]bool{}
	for _, o := range b {
		have[[2]string{o.PhotoSHA256, o.ID}] = true
	}
	var out []Objection
	for _, o := range a {
		if !have[[2]string{o.PhotoSHA256, o.ID}] {
			out = append(out, o)
		}
	}
	return out
}
