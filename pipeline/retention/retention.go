package retention

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/photoguard/photoguard/pipeline/audit"
	"github.com/photoguard/photoguard/pipeline/core"
	"github.com/photoguard/photoguard/pipeline/journal"
	"github.com/photoguard/photoguard/pipeline/state"
)

// Policy is how long each kind of thing is kept.
type Policy struct {
	// Originals: photos in rejected/, quarantine/ and held/.
	Originals time.Duration
	// Review: entries of state_dir/review/.
	Review time.Duration
	// Journal: records of finished photos.
	Journal time.Duration
}

// ReviewDir is the folder of review records under state_dir.
const ReviewDir = state.Review

// Removal is one thing purged (or, in a dry run, that would be).
type Removal struct {
	// Folder is "rejected", "quarantine", "held", "review" or "journal".
	Folder string
	// Name is the entry's name in its folder (DATE-HASH for a photo moved
	// aside; the short hash for a journal record).
	Name string
	// At is when it was put there; Why says why it goes.
	At  time.Time
	Why string
}

// Purger removes what is past its retention.
type Purger struct {
	StateDir string
	Policy   Policy
	// Journal is pruned, and tells which held photos were published since
	// (nil: neither).
	Journal *journal.Journal
	Audit   core.Auditor
	Now     func() time.Time
	// Lock, if set, is held while the aside folders are purged: the retry
	// lock (held.Retrier.Lock), so that a held photo is never purged while
	// a retry has it staged.
	Lock func() (unlock func(), err error)
}

// Run purges (or with dryRun lists) everything past its retention. Errors
// on single entries do not stop the others; they are joined in err.
func (p *Purger) Run(dryRun bool) ([]Removal, error) {
	now := time.Now()
	if p.Now != nil {
		now = p.Now()
	}
	published := p.published()
	var out []Removal
	var errs []error
	if p.Lock != nil && !dryRun {
		unlock, err := p.Lock()
		if err != nil {
			return nil, fmt.Errorf("retention: waiting for a retry to finish: %w", err)
		}
		defer unlock()
	}
	for _, folder := range core.AsideFolders() {
		rs, err := p.folder(folder, p.Policy.Originals, now, published, dryRun)
		out, errs = append(out, rs...), append(errs, err)
	}
	rs, err := p.folder(ReviewDir, p.Policy.Review, now, nil, dryRun)
	out, errs = append(out, rs...), append(errs, err)
	if p.Journal != nil {
		recs, err := p.Journal.PruneBefore(now.Add(-p.Policy.Journal), dryRun)
		errs = append(errs, err)
		for _, r := range recs {
			out = append(out, Removal{Folder: state.Journal, Name: r.SHA256[:12], At: r.UpdatedAt,
				Why: "finished " + days(p.Policy.Journal) + " ago or more"})
		}
		if len(recs) > 0 && !dryRun {
			errs = append(errs, p.record(audit.Event{Kind: audit.Purge, Count: len(recs), Detail: "journal records of finished photos past retention"}))
		}
	}
	return out, errors.Join(errs...)
}

// asideName is a photo moved aside: DATE-HASH (the short content hash).
var asideName = regexp.MustCompile(`^[0-9]{8}-([0-9a-f]{12})$`)

// folder purges the entries of state_dir/folder older than keep, and held
// photos whose content was published since (published: short hash -> when).
func (p *Purger) folder(folder string, keep time.Duration, now time.Time, published map[string]time.Time, dryRun bool) ([]Removal, error) {
	dir := filepath.Join(p.StateDir, folder)
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", folder, err)
	}
	var out []Removal
	var errs []error
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			continue // a write in progress (fsync temporaries)
		}
		path := filepath.Join(dir, e.Name())
		at, err := placedAt(path)
		if err != nil {
			errs = append(errs, named(folder, e.Name(), err))
			continue
		}
		r := Removal{Folder: folder, Name: e.Name(), At: at}
		m := asideName.FindStringSubmatch(e.Name())
		switch pub, ok := published[shortOf(m)]; {
		case now.Sub(at) >= keep:
			r.Why = "kept " + days(keep) + " (retention)"
		case folder == state.Held && ok && pub.After(at):
			r.Why = "published since it was held"
		default:
			continue
		}
		if !dryRun {
			if err := os.RemoveAll(path); err != nil {
				errs = append(errs, named(folder, e.Name(), err))
				continue
			}
			errs = append(errs, p.record(audit.Event{Kind: audit.Purge, Photo: shortOf(m), Detail: folder + ": " + r.Why}))
		}
		out = append(out, r)
	}
	sort.Slice(out, func(a, b int) bool { return out[a].At.Before(out[b].At) })
	return out, errors.Join(errs...)
}

// named is err for the entry name of folder, without the path of the file
// that failed inside it (an original's name may hold a child's name).
func named(folder, name string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return fmt.Errorf("%s/%s: %w", folder, name, err)
}

func shortOf(m []string) string {
	if len(m) < 2 {
		return ""
	}
	return m[1]
}

// placedAt is when an entry was put in its folder: the time of its reason
// file for a photo moved aside (written when it was moved), else the
// entry's own modification time. Links are not followed.
func placedAt(path string) (time.Time, error) {
	if st, err := os.Lstat(filepath.Join(path, "reason.txt")); err == nil && st.Mode().IsRegular() {
		return st.ModTime(), nil
	}
	st, err := os.Lstat(path)
	if err != nil {
		return time.Time{}, err
	}
	return st.ModTime(), nil
}

// published maps the short hash of each photo the journal records as
// published (done) to when.
func (p *Purger) published() map[string]time.Time {
	if p.Journal == nil {
		return nil
	}
	recs, _ := p.Journal.List()
	out := map[string]time.Time{}
	for _, r := range recs {
		if r.State == journal.Done && r.Outcome == string(core.Published) {
			out[r.SHA256[:12]] = r.UpdatedAt
		}
	}
	return out
}

func (p *Purger) record(e audit.Event) error {
	if p.Audit == nil {
		return nil
	}
	return p.Audit.Record(e)
}

// days says a duration in days ("30 days") or hours when shorter.
func days(d time.Duration) string {
	if d >= 48*time.Hour {
		return fmt.Sprintf("%d days", int(d.Hours()/24))
	}
	return d.String()
}
