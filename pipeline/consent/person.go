package consent

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/photoguard/photoguard/detect"
)

// Channels a photo can be published to. Consent is given per channel.
const (
	ChannelWebsite      = "website"
	ChannelSocialMedia  = "social_media"
	ChannelNewsletter   = "newsletter"
	ChannelParentPortal = "parent_portal"
)

// Channels lists every channel, in the order the store shows them.
func Channels() []string {
	return []string{ChannelWebsite, ChannelSocialMedia, ChannelNewsletter, ChannelParentPortal}
}

// KnownChannel reports whether ch is one of Channels.
func KnownChannel(ch string) bool {
	switch ch {
	case ChannelWebsite, ChannelSocialMedia, ChannelNewsletter, ChannelParentPortal:
		return true
	}
	return false
}

// Role tells pupils from staff. Both need a row in the store before they
// can be enrolled.
type Role string

// Roles.
const (
	RolePupil Role = "pupil"
	RoleStaff Role = "staff"
)

func (r Role) valid() bool { return r == RolePupil || r == RoleStaff }

// Reason codes returned by Snapshot.Consent as why.
const (
	ReasonConsent        = "consent"
	ReasonNoConsent      = "no consent"
	ReasonEarlierYear    = "consent from an earlier school year"
	ReasonRevoked        = "revoked"
	ReasonNotInStore     = "not in the consent store"
	ReasonUnknownChannel = "unknown channel"
	ReasonFutureDate     = "consent dated in the future"
	ReasonUnavailable    = "consent store unavailable"
)

// ChannelConsent is the state of one person's consent for one channel.
// ConfirmedOn and RevokedOn are calendar dates (midnight UTC).
type ChannelConsent struct {
	// Given is the yes/no of the last import (false after a revocation).
	Given bool
	// ConfirmedOn is the date the consent answer was confirmed, from the
	// import. Zero when the import had no date (allowed only for "no").
	ConfirmedOn time.Time
	// Revoked is set by Store.Revoke and stays until an import says yes with
	// a ConfirmedOn after RevokedOn.
	Revoked   bool
	RevokedOn time.Time
}

// Person is one row of the consent store. Its String, GoString, Format,
// LogValue and MarshalJSON redact the names, so an accidental log line or
// debug print shows only the id, role and group.
type Person struct {
	// ID is the pupil number from the administration system, or a staff id.
	// Letters, digits, '.', '_' and '-' only, at most 64 characters.
	ID string
	// FirstName, Infix (tussenvoegsel) and LastName: personal data.
	FirstName string
	Infix     string
	LastName  string
	Group     string
	Role      Role
	// Consent per channel (keys from Channels). A missing channel is no
	// consent.
	Consent map[string]ChannelConsent
}

func (p Person) redacted() string {
	return fmt.Sprintf("consent.Person{ID:%q Role:%s Group:%q Name:[redacted]}", p.ID, p.Role, p.Group)
}

// String redacts the names.
func (p Person) String() string { return p.redacted() }

// GoString redacts the names (for %#v).
func (p Person) GoString() string { return p.redacted() }

// Format redacts the names for every verb (%v, %+v, %#v, %s, %d, %x, ...).
func (p Person) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, p.redacted()) }

// LogValue redacts the names for log/slog.
func (p Person) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("id", p.ID),
		slog.String("role", string(p.Role)),
		slog.String("group", p.Group),
	)
}

// MarshalJSON redacts the names, so a Person put into a JSON log or API
// response by mistake leaks nothing. The store uses its own record type.
func (p Person) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		ID    string `json:"id"`
		Role  Role   `json:"role"`
		Group string `json:"group"`
		Name  string `json:"name"`
	}{p.ID, p.Role, p.Group, "[redacted]"})
}

func (p Person) clone() Person {
	q := p
	q.Consent = make(map[string]ChannelConsent, len(p.Consent))
	for k, v := range p.Consent {
		q.Consent[k] = v
	}
	return q
}

// Reference is one enrolled face descriptor of a person, with the SHA-256
// (hex) of the reference photo it came from and the id of the face model
// that computed it. References are de-duplicated by SourceSHA256 per model.
type Reference struct {
	Descriptor   detect.Descriptor
	SourceSHA256 string
	// AddedAt is when the reference was enrolled: its age decides when it
	// fades out (detect.Age). Zero: unknown (never fades).
	AddedAt time.Time
	// Source is where the face came from: SourcePortrait (enroll from
	// photos) or SourceReview (a face confirmed on the review page, enroll
	// --from); "" for references enrolled before sources were recorded.
	Source string
	// Model identifies the models that made Descriptor (detect/dlib's
	// ModelID); descriptors of different models cannot be compared. Empty
	// means unknown, which matches no model.
	Model string
}

// Where a reference came from (Reference.Source).
const (
	SourcePortrait = "portrait"
	SourceReview   = "review"
)

// Format prints a Reference without its descriptor.
func (r Reference) Format(f fmt.State, _ rune) {
	fmt.Fprintf(f, "consent.Reference{SourceSHA256:%s Model:%s Descriptor:[redacted]}", r.SourceSHA256, r.Model)
}

// LogValue prints a Reference without its descriptor.
func (r Reference) LogValue() slog.Value {
	return slog.GroupValue(slog.String("source_sha256", r.SourceSHA256), slog.String("model", r.Model))
}

// ChannelStatus is one channel of a List entry: the stored state and whether
// it is valid now.
type ChannelStatus struct {
	ChannelConsent
	Valid bool
	Why   string
}

// Entry is one line of the store as shown to the ICT coordinator
// (photoguard enroll --list, consent list): no last name, no descriptors.
type Entry struct {
	ID         string
	FirstName  string
	Group      string
	Role       Role
	References int
	Consent    map[string]ChannelStatus
}

// LogValue leaves the first name out of logs.
func (e Entry) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("id", e.ID),
		slog.String("role", string(e.Role)),
		slog.String("group", e.Group),
		slog.Int("references", e.References),
	)
}

// Objection says that person ID must be redacted in the photo with content
// hash PhotoSHA256, whatever the store says.
type Objection struct {
	PhotoSHA256 string
	ID          string
	// Note is free text from the coordinator (may be personal data; never
	// logged by this package).
	Note string
	At   time.Time
	// Takedown records a request to remove an already-published copy. Not
	// acted on yet; kept so the data model can record it.
	Takedown *Takedown
}

// Takedown is a request to remove a published photo from its targets.
type Takedown struct {
	RequestedAt time.Time
	Targets     []string
	CompletedAt time.Time
}

// validID reports whether id is a usable store id: 1..64 characters of
// letters, digits, '.', '_' and '-'. That keeps ids safe to put in log
// lines, file names and error strings.
func validID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, c := range id {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '.', c == '_', c == '-':
		default:
			return false
		}
	}
	return true
}

// normSHA256 lower-cases a hex SHA-256 and reports whether it is one.
func normSHA256(s string) (string, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	if len(s) != 64 {
		return "", false
	}
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return "", false
		}
	}
	return s, true
}

// civilDate returns t's calendar date (in t's location) as midnight UTC.
func civilDate(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}
