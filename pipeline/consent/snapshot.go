package consent

import (
	"sort"
	"time"

	"github.com/photoguard/photoguard/detect"
)

// Snapshot is an immutable copy of the consent store, taken once per photo
// so that one photo is decided against one consistent view: it is what the
// pipeline asks (pipeline.Consent). Its methods return copies. A nil
// Snapshot, or one whose Err is set, holds nobody: every consent check says
// no.
type Snapshot struct {
	st         *state
	opt        options
	err        error
	objections map[string][]string // photo SHA-256 -> sorted ids
}

func newSnapshot(st *state, opt options) *Snapshot {
	s := &Snapshot{st: st, opt: opt, objections: make(map[string][]string)}
	for _, o := range st.objections {
		s.objections[o.PhotoSHA256] = append(s.objections[o.PhotoSHA256], o.ID)
	}
	for k, ids := range s.objections {
		sort.Strings(ids)
		s.objections[k] = ids
	}
	return s
}

// Err is the error of the last failed reload; such a snapshot is empty.
func (s *Snapshot) Err() error {
	if s == nil {
		return ErrCorrupt
	}
	return s.err
}

// Generation is the file generation the snapshot was read from (0: no file
// yet).
func (s *Snapshot) Generation() uint64 {
	if s == nil {
		return 0
	}
	return s.st.generation
}

// Len is the number of people in the store.
func (s *Snapshot) Len() int {
	if s == nil {
		return 0
	}
	return len(s.st.people)
}

// SchoolYearStart is the first day (midnight UTC) of the school year that
// now falls in, by the Store's school-year start (default 1 August).
func (s *Snapshot) SchoolYearStart(now time.Time) time.Time {
	m, d := time.August, 1
	if s != nil {
		m, d = s.opt.yearMonth, s.opt.yearDay
	}
	return SchoolYearStart(now, m, d)
}

// SchoolYearStart returns the first day (midnight UTC) of the school year
// that now (its calendar date in its own location) falls in, for a school
// year that starts on month/day.
func SchoolYearStart(now time.Time, month time.Month, day int) time.Time {
	y, m, d := now.Date()
	if m < month || (m == month && d < day) {
		y--
	}
	return time.Date(y, month, day, 0, 0, 0, 0, time.UTC)
}

// Consent reports whether person id may be shown recognisably on channel at
// time now, and why not: "no consent for CHANNEL", or another of the Reason
// constants. Valid consent was given, confirmed in the current school year,
// not revoked, and not dated in the future; anything else, including an
// unknown id or channel, is no. It is the pipeline's question
// (pipeline.Consent).
func (s *Snapshot) Consent(id, channel string, now time.Time) (ok bool, why string) {
	ok, why = s.status(id, channel, now)
	if why == ReasonNoConsent {
		why = ReasonNoConsent + " for " + channel
	}
	return ok, why
}

// status is Consent with the bare reason codes.
func (s *Snapshot) status(id, channel string, now time.Time) (ok bool, why string) {
	if s == nil || s.err != nil {
		return false, ReasonUnavailable
	}
	if !KnownChannel(channel) {
		return false, ReasonUnknownChannel
	}
	p, found := s.st.people[id]
	if !found {
		return false, ReasonNotInStore
	}
	c, found := p.Consent[channel]
	switch {
	case !found:
		return false, ReasonNoConsent
	case c.Revoked:
		return false, ReasonRevoked
	case !c.Given || c.ConfirmedOn.IsZero():
		return false, ReasonNoConsent
	}
	today := civilDate(now)
	if c.ConfirmedOn.After(today) {
		return false, ReasonFutureDate
	}
	if c.ConfirmedOn.Before(s.SchoolYearStart(now)) {
		return false, ReasonEarlierYear
	}
	return true, ReasonConsent
}

// People returns every enrolled person (at least one reference) with their
// descriptors, sorted by id, for the matcher. It includes people without
// consent: the matcher must know them to redact them. The result is a copy.
func (s *Snapshot) People() []detect.Person {
	if s == nil || s.err != nil {
		return nil
	}
	var out []detect.Person
	for _, id := range sortedIDs(s.st.people) {
		p := s.st.people[id]
		if len(p.refs) == 0 {
			continue
		}
		e := detect.Person{ID: id, Descriptors: make([]detect.Descriptor, len(p.refs)), Added: make([]time.Time, len(p.refs))}
		for i, r := range p.refs {
			e.Descriptors[i] = r.Descriptor
			e.Added[i] = r.AddedAt
		}
		if p.Role == RolePupil {
			// Staff belong to every group (detect.Person.Group "").
			e.Group = p.Group
		}
		out = append(out, e)
	}
	return out
}

// Models counts the references of everyone per model id (Reference.Model;
// "" for references whose model is unknown).
func (s *Snapshot) Models() map[string]int {
	if s == nil || s.err != nil {
		return nil
	}
	out := map[string]int{}
	for _, p := range s.st.people {
		for _, r := range p.refs {
			out[r.Model]++
		}
	}
	return out
}

// Person returns a copy of one store row (with names: show it only to
// the ICT coordinator).
func (s *Snapshot) Person(id string) (Person, bool) {
	if s == nil || s.err != nil {
		return Person{}, false
	}
	p, ok := s.st.people[id]
	if !ok {
		return Person{}, false
	}
	return p.Person.clone(), true
}

// References returns a copy of the references of id.
func (s *Snapshot) References(id string) []Reference {
	if s == nil || s.err != nil {
		return nil
	}
	p, ok := s.st.people[id]
	if !ok {
		return nil
	}
	return append([]Reference(nil), p.refs...)
}

// Objections returns the ids (sorted) who objected to the photo with
// content hash photoSHA256: they are redacted in it whatever the store
// says.
func (s *Snapshot) Objections(photoSHA256 string) []string {
	if s == nil {
		return nil
	}
	sha, ok := normSHA256(photoSHA256)
	if !ok {
		return nil
	}
	return append([]string(nil), s.objections[sha]...)
}

// AllObjections returns a copy of every objection record.
func (s *Snapshot) AllObjections() []Objection {
	if s == nil {
		return nil
	}
	out := make([]Objection, len(s.st.objections))
	for i, o := range s.st.objections {
		out[i] = o
		if o.Takedown != nil {
			td := *o.Takedown
			td.Targets = append([]string(nil), td.Targets...)
			out[i].Takedown = &td
		}
	}
	return out
}
