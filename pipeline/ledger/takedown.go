package ledger

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
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
	"github.com/photoguard/photoguard/pipeline/target"
)

// Objector records that a person must be redacted in one photo
// (pipeline/consent's Store implements it).
type Objector interface {
	Object(photoSHA256, id, note string) error
}

// Takedowner carries out takedown requests.
type Takedowner struct {
	Ledger *Ledger
	// StateDir is where the ledger is read from.
	StateDir string
	// Journal, when set, is told which deliveries were taken down, so that
	// a re-delivered copy is published again (with the objections
	// applied); it is also where outputs published before the ledger
	// existed are found.
	Journal *journal.Journal
	// Target opens the configured target of that name; an error means the
	// output must be removed by hand.
	Target func(name string) (target.Target, error)
	// Objections records the objections (nil only in a dry run).
	Objections Objector
	// Key checks the ledger's seals (nil: not checked).
	Key []byte
	// NotInStore reports whether an Objector error means the id is not
	// in the consent store (nil: never).
	NotInStore func(error) bool
	Audit      core.Auditor
	Now        func() time.Time
}

// Request is what a coordinator asks for.
type Request struct {
	// Pupil: without Photos, every live output in which this pupil is
	// visible; with Photos, those photos whoever is visible in them. The
	// pupil's objection is recorded for each photo.
	Pupil string
	// Channel limits the takedown to targets of this channel.
	Channel string
	// Photos name photos: a published file, an output name, the short hash
	// (any unambiguous prefix of the content hash) or an original file.
	Photos []string
	DryRun bool
}

// Removal is one output's fate.
type Removal struct {
	*Record
	// Problem is why it could not be removed ("" when it was).
	Problem string
}

// Result is what a takedown did (or, in a dry run, would do).
type Result struct {
	// Selected are the outputs the request names; Removed those that were
	// removed; Manual those that must be removed by hand.
	Selected []*Record
	Removed  []*Record
	Manual   []Removal
	// Objected are "sha256 id" pairs whose objection is now recorded;
	// Unknown ids that are not in the consent store (they cannot be recognised,
	// so the consent policy redacts them anyway).
	Objected []Objection
	Unknown  []string
	// Republish is how many removed outputs a re-delivered copy would be
	// published to again (with the objections applied); the others stay
	// "published" in the journal so that a copy is not published again.
	Republish int
	// Warnings are problems that did not stop the takedown (the audit log
	// could not be written).
	Warnings []string
	// Ledger is what reading the ledger found: lines it skipped mean
	// photos the takedown may not have reached (Ledger.Problem()).
	Ledger *Reading
	// Leftovers are the temporary uploads of the photos taken down that may
	// be at a target (an upload that landed after photoguard gave up on
	// it); Swept is what removing them did (nil in a dry run).
	Leftovers []*Leftover
	Swept     *Swept
}

// Objection is one recorded objection.
type Objection struct {
	SHA256, ID string
}

// AmbiguousError is a hash prefix that names more than one photo.
type AmbiguousError struct {
	Prefix     string
	Candidates []string // "short-hash  output names"
}

func (e *AmbiguousError) Error() string {
	return fmt.Sprintf("%s names %d photos; give more of the hash:\n  %s", e.Prefix, len(e.Candidates), strings.Join(e.Candidates, "\n  "))
}

// NotFoundError is a photo the ledger and the journal do not know as
// published.
type NotFoundError struct{ What, Why string }

func (e *NotFoundError) Error() string { return e.What + ": " + e.Why }

// Run carries out req: it records the objections, removes each output from
// its target, and records each removal (or why it failed) in the ledger,
// the journal and the audit log. A dry run only selects.
func (t *Takedowner) Run(ctx context.Context, req Request) (*Result, error) {
	if req.Pupil == "" && len(req.Photos) == 0 {
		return nil, errors.New("name the photos (a published file, its output name or its short hash) or --pupil ID")
	}
	if req.Pupil != "" && !validID(req.Pupil) {
		// Perhaps a name typed by mistake: it must not reach the ledger.
		return nil, errors.New("--pupil: not a pupil id (letters, digits, '.', '_' and '-', as in the consent store)")
	}
	recs, rd, err := Records(t.StateDir, t.Key, t.Journal)
	if err != nil {
		return nil, err
	}
	sel, err := selectRecords(recs, req)
	if err != nil {
		return &Result{Ledger: rd}, err
	}
	res := &Result{Selected: sel, Ledger: rd, Leftovers: selectLeftovers(rd.Entries, req, sel)}
	if req.DryRun {
		return res, nil
	}
	if len(res.Leftovers) > 0 {
		keys := map[string]bool{}
		for _, l := range res.Leftovers {
			keys[l.Target+"\x00"+l.Temp] = true
		}
		sw := &Sweeper{Ledger: t.Ledger, StateDir: t.StateDir, Key: t.Key, Target: t.Target, Now: t.Now}
		swept, err := sw.Sweep(ctx, func(l *Leftover) bool { return keys[l.Target+"\x00"+l.Temp] })
		if err != nil {
			return res, err
		}
		res.Swept = swept
	}
	if len(sel) == 0 {
		return res, nil
	}
	covered, err := t.object(sel, req, res)
	if err != nil {
		return res, err
	}
	targets := map[string]target.Target{}
	for _, r := range sel {
		problem := t.remove(ctx, r, targets)
		e := Entry{Kind: TakenDown, SHA256: r.SHA256, Target: r.Target, Channel: r.Channel, Name: r.Name, Ref: r.Ref,
			Removed: problem == "", Problem: problem}
		if req.Pupil != "" {
			e.Pupils = []string{req.Pupil}
		}
		if err := t.Ledger.Append(e); err != nil {
			return res, err
		}
		if problem != "" {
			res.Manual = append(res.Manual, Removal{Record: r, Problem: problem})
			continue
		}
		r.TakenDownAt = t.now()
		res.Removed = append(res.Removed, r)
		t.record(audit.Event{Kind: audit.Delete, SHA256: r.SHA256, Photo: r.Short(), Target: r.Target, Ref: r.Ref,
			Channel: r.Channel, Pupils: r.Pupils, Detail: "removed on a takedown request"}, res)
		again, err := t.markJournal(r, covered[r.key()])
		if err != nil {
			return res, err
		}
		if again {
			res.Republish++
		}
	}
	detail := "by photo"
	var pupils []string
	if req.Pupil != "" {
		detail, pupils = "by pupil", []string{req.Pupil}
	}
	if len(res.Manual) > 0 {
		detail += fmt.Sprintf("; %d to remove by hand", len(res.Manual))
	}
	t.record(audit.Event{Kind: audit.Takedown, Channel: req.Channel, Pupils: pupils, Count: len(res.Removed), Detail: detail}, res)
	return res, nil
}

// Records are the records of stateDir's ledger, with the outputs journal
// (if not nil) knows as published that the ledger does not: published
// before it existed (Legacy; who is in them is not known). The Reading says
// which lines were skipped (key checks the seals; nil: not checked).
func Records(stateDir string, key []byte, j *journal.Journal) ([]*Record, *Reading, error) {
	rd, err := Read(stateDir, key)
	if err != nil {
		return nil, nil, err
	}
	recs := Fold(rd.Entries)
	if j == nil {
		return recs, rd, nil
	}
	known := map[string]bool{}
	for _, r := range recs {
		known[r.key()] = true
	}
	jrecs, err := j.List()
	if err != nil && len(jrecs) == 0 && !errors.Is(err, fs.ErrNotExist) {
		return nil, rd, err
	}
	for _, jr := range jrecs {
		for target, d := range jr.Deliveries {
			r := &Record{Publication: core.Publication{SHA256: jr.SHA256, Target: target, Name: d.Name, Ref: d.Ref},
				At: d.At, Confirmed: true, Legacy: true}
			if !d.Published || !d.TakenDown.IsZero() || known[r.key()] {
				continue
			}
			recs = append(recs, r)
		}
	}
	return recs, rd, nil
}

// selectRecords picks the live outputs req names.
func selectRecords(recs []*Record, req Request) ([]*Record, error) {
	var live []*Record
	for _, r := range recs {
		if r.Live() && (req.Channel == "" || r.Channel == req.Channel || r.Legacy && r.Channel == "") {
			live = append(live, r)
		}
	}
	shas := map[string]bool{}
	for _, p := range req.Photos {
		sha, err := resolve(live, recs, p)
		if err != nil {
			return nil, err
		}
		shas[sha] = true
	}
	var out []*Record
	for _, r := range live {
		if len(shas) > 0 && !shas[r.SHA256] {
			continue
		}
		// Named photos go whole (a parent may recognise a child the
		// matcher did not); by pupil alone, those in which they are
		// visible.
		if len(shas) == 0 && !r.Shows(req.Pupil) {
			continue
		}
		out = append(out, r)
	}
	sort.SliceStable(out, func(a, b int) bool {
		if out[a].SHA256 != out[b].SHA256 {
			return out[a].SHA256 < out[b].SHA256
		}
		return out[a].Target < out[b].Target
	})
	return out, nil
}

// selectLeftovers are the leftovers a takedown removes: by pupil, those in
// which the pupil is visible (on the channel asked for); by photo, those of
// the photos selected.
func selectLeftovers(entries []Entry, req Request, sel []*Record) []*Leftover {
	shas := map[string]bool{}
	for _, r := range sel {
		shas[r.SHA256] = true
	}
	var out []*Leftover
	for _, l := range Leftovers(entries) {
		switch {
		case req.Channel != "" && l.Channel != req.Channel:
		case len(req.Photos) > 0 && shas[l.SHA256]:
			out = append(out, l)
		case len(req.Photos) == 0 && l.Shows(req.Pupil):
			out = append(out, l)
		}
	}
	return out
}

// outputName is the shape of an output name: date, short hash, extension.
var outputName = regexp.MustCompile(`^[0-9]{8}-([0-9a-f]{12})(\.jpg)?$`)

// minPrefix is the shortest hash prefix accepted.
const minPrefix = 6

// resolve finds the content hash that photo names: a published file (by its
// name), an output name, a hash prefix, or an original file (by its
// content). live are the outputs that are up; all every output known.
func resolve(live, all []*Record, photo string) (string, error) {
	base := filepath.Base(photo)
	for _, r := range all {
		if r.Name == base || strings.TrimSuffix(r.Name, filepath.Ext(r.Name)) == base {
			return requireLive(live, r.SHA256, photo)
		}
	}
	if m := outputName.FindStringSubmatch(strings.ToLower(base)); m != nil {
		return byPrefix(live, all, m[1], photo)
	}
	if st, err := os.Stat(photo); err == nil && st.Mode().IsRegular() {
		data, err := os.ReadFile(photo)
		if err != nil {
			return "", err
		}
		sum := sha256.Sum256(data)
		sha := hex.EncodeToString(sum[:])
		if _, err := requireLive(live, sha, photo); err != nil {
			return "", &NotFoundError{What: photo, Why: "neither its name nor its content is a published photo (give the published file, its output name or the short hash from photoguard status)"}
		}
		return sha, nil
	}
	p := strings.ToLower(strings.TrimSpace(photo))
	if validHex(p) {
		return byPrefix(live, all, p, photo)
	}
	return "", &NotFoundError{What: photo, Why: "not a file, an output name (DATE-HASH.jpg) or a hash"}
}

// live1 checks that sha has a live output.
func requireLive(live []*Record, sha, what string) (string, error) {
	for _, r := range live {
		if r.SHA256 == sha {
			return sha, nil
		}
	}
	return "", &NotFoundError{What: what, Why: "already taken down, or not published on that channel"}
}

func byPrefix(live, all []*Record, prefix, what string) (string, error) {
	if len(prefix) < minPrefix {
		return "", &NotFoundError{What: what, Why: fmt.Sprintf("give at least %d characters of the hash", minPrefix)}
	}
	names := map[string][]string{}
	var shas []string
	for _, r := range all {
		if !strings.HasPrefix(r.SHA256, prefix) {
			continue
		}
		if names[r.SHA256] == nil {
			shas = append(shas, r.SHA256)
		}
		names[r.SHA256] = append(names[r.SHA256], r.Target+":"+r.Name)
	}
	switch len(shas) {
	case 0:
		return "", &NotFoundError{What: what, Why: "no published photo has this hash"}
	case 1:
		return requireLive(live, shas[0], what)
	}
	sort.Strings(shas)
	e := &AmbiguousError{Prefix: prefix}
	for _, s := range shas {
		n := names[s]
		sort.Strings(n)
		e.Candidates = append(e.Candidates, s[:16]+"  "+strings.Join(n, " "))
	}
	return "", e
}

// object records the objections the takedown implies: the pupil asked for,
// or, for a takedown of whole photos, every pupil visible in them. It
// returns, per output, whether every pupil visible in it is now objected to
// (only then may a re-delivered copy be published again).
func (t *Takedowner) object(sel []*Record, req Request, res *Result) (map[string]bool, error) {
	want := map[Objection]bool{}
	var order []Objection
	for _, r := range sel {
		for _, id := range objectors(r, req) {
			o := Objection{SHA256: r.SHA256, ID: id}
			if !want[o] {
				want[o] = true
				order = append(order, o)
			}
		}
	}
	unknown := map[string]bool{}
	done := map[Objection]bool{}
	for _, o := range order {
		err := t.Objections.Object(o.SHA256, o.ID, "takedown")
		switch {
		case err == nil:
			done[o] = true
			res.Objected = append(res.Objected, o)
		case t.NotInStore != nil && t.NotInStore(err):
			if !unknown[o.ID] {
				unknown[o.ID] = true
				res.Unknown = append(res.Unknown, o.ID)
			}
		default:
			return nil, fmt.Errorf("recording the objection of %s to photo %s (nothing was removed): %w", o.ID, short(o.SHA256), err)
		}
	}
	if req.Pupil != "" && unknown[req.Pupil] && !anyShows(sel, req.Pupil) {
		// Not in the consent store and not seen in these photos: a wrong id.
		return nil, fmt.Errorf("%s is not in the consent store and not visible in these photos; check the id (nothing was removed)", req.Pupil)
	}
	covered := map[string]bool{}
	for _, r := range sel {
		ok := !r.Legacy
		for _, id := range objectors(r, req) {
			ok = ok && done[Objection{SHA256: r.SHA256, ID: id}]
		}
		covered[r.key()] = ok
	}
	return covered, nil
}

func anyShows(recs []*Record, id string) bool {
	for _, r := range recs {
		if r.Shows(id) {
			return true
		}
	}
	return false
}

// validID is the consent store's id rule: 1 to 64 letters, digits, '.', '_'
// and '-'.
func validID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	return strings.Trim(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == ""
}

// objectors are the ids whose objection to r's photo a takedown records:
// the pupil asked for, or every pupil visible in it.
func objectors(r *Record, req Request) []string {
	if req.Pupil != "" {
		return []string{req.Pupil}
	}
	return r.Pupils
}

// remove takes r off its target; it returns why it could not ("" when it
// did). An output that was only announced is looked up by name first.
func (t *Takedowner) remove(ctx context.Context, r *Record, targets map[string]target.Target) string {
	tg := targets[r.Target]
	if tg == nil {
		var err error
		if t.Target != nil {
			tg, err = t.Target(r.Target)
		} else {
			err = errors.New("no targets configured")
		}
		if err != nil {
			return fmt.Sprintf("target %s cannot be opened: %v", r.Target, err)
		}
		targets[r.Target] = tg
	}
	ref := r.Ref
	if ref == "" && !r.Confirmed {
		got, ok, err := tg.Exists(ctx, r.Name)
		if err != nil {
			return fmt.Sprintf("asking target %s for %s: %v", r.Target, r.Name, err)
		}
		if !ok {
			return "" // never arrived: nothing to remove
		}
		ref = got
	}
	if ref == "" {
		ref = r.Name // records written before targets returned references
	}
	if err := tg.Remove(ctx, ref); err != nil {
		return fmt.Sprintf("target %s: %v", r.Target, err)
	}
	r.Ref = ref
	return ""
}

// markJournal records in the journal that r's delivery was taken down.
// When every pupil visible in it is now objected to, the delivery no longer
// counts as published, so that a re-delivered copy is published again with
// them redacted; otherwise it stays published (a copy is a duplicate and is
// not published again). It returns whether the delivery may be published
// again.
func (t *Takedowner) markJournal(r *Record, republish bool) (bool, error) {
	if t.Journal == nil {
		return false, nil
	}
	unlock, err := t.Journal.Lock()
	if err != nil {
		return false, err
	}
	defer unlock()
	rec, err := t.Journal.Get(r.SHA256)
	if errors.Is(err, journal.ErrNotFound) {
		return false, nil // retention removed it: a copy is a new photo
	}
	if err != nil {
		return false, err
	}
	d := rec.Deliveries[r.Target]
	if d == nil || d.Name != r.Name || rec.State != journal.Done {
		return false, nil
	}
	d.TakenDown = t.now().UTC()
	d.Published = d.Published && !republish
	if err := t.Journal.Put(rec); err != nil {
		return false, err
	}
	return republish, nil
}

// record writes e to the audit log; a failure is a warning (the ledger has
// the takedown).
func (t *Takedowner) record(e audit.Event, res *Result) {
	if t.Audit == nil {
		return
	}
	e.Time = t.now()
	if err := t.Audit.Record(e); err != nil {
		res.Warnings = append(res.Warnings, err.Error())
	}
}

func (t *Takedowner) now() time.Time {
	if t.Now != nil {
		return t.Now()
	}
	return time.Now()
}
