package core

import (
	"time"

	"github.com/photoguard/photoguard/pipeline/audit"
)

// Outcome is how an input ended for one target.
type Outcome string

const (
	Published   Outcome = "published"
	Rejected    Outcome = "rejected"
	Quarantined Outcome = "quarantined"
	Held        Outcome = "held"
	// Waiting: checked and ready, waiting for the direction's approval
	// (approval.go); the original is kept, sealed, until it is answered.
	Waiting Outcome = "waiting"
)

// The folders under state_dir inputs that were not published are moved to,
// each with a reason file.
const (
	RejectedFolder   = "rejected"
	QuarantineFolder = "quarantine"
	HeldFolder       = "held"
)

// VideoWorkFolder is the folder under state_dir a video's frames are worked
// on in (removed after).
const VideoWorkFolder = "video-work"

// AsideFolder is the folder under state_dir an outcome's inputs are moved to.
func AsideFolder(o Outcome) string {
	switch o {
	case Rejected:
		return RejectedFolder
	case Quarantined:
		return QuarantineFolder
	}
	return HeldFolder
}

// Item is one input's result for one target. It is meant for the ICT
// coordinator: it names the input (whose name may hold a child's name) and is
// not for publication.
type Item struct {
	Input     string  `json:"input"`
	SHA256    string  `json:"sha256,omitempty"`
	Outcome   Outcome `json:"outcome"`
	Reason    string  `json:"reason,omitempty"`
	Output    string  `json:"output,omitempty"`
	Target    string  `json:"target"`
	Duplicate bool    `json:"duplicate,omitempty"`
	// Kept is set when the input was left where it was (not wiped, not moved).
	Kept bool `json:"kept,omitempty"`
	// Aside is where the input was moved (rejected/, quarantine/, held/).
	Aside string `json:"aside,omitempty"`
	// Faces summarises what was done to the faces in the photo.
	Faces *FaceSummary `json:"faces,omitempty"`
}

// FaceSummary counts faces by what happened to them, with reasons by pupil
// id (never names, never descriptors).
type FaceSummary struct {
	Found    int            `json:"found"`
	Shown    int            `json:"shown"`
	Redacted int            `json:"redacted"`
	Reasons  map[string]int `json:"reasons,omitempty"`
	// ShownIDs and RedactedIDs are pupil ids of confident matches.
	ShownIDs    []string `json:"shown_ids,omitempty"`
	RedactedIDs []string `json:"redacted_ids,omitempty"`
	// FloorPx is the coverage floor the analysis kept: faces down to this
	// width in the published photo were looked for.
	FloorPx float64 `json:"floor_px,omitempty"`
	// PublishedSide is the long side the photo was published at; Smaller
	// is set when that is less than output.max_side and the photo itself
	// (published smaller so that the floor holds).
	PublishedSide int  `json:"published_side,omitempty"`
	Smaller       bool `json:"smaller,omitempty"`
	// Normalized is set when a contrast-normalised copy was analysed too.
	Normalized bool `json:"normalized,omitempty"`
	// DetectMs and CheckMs are the wall time of the analysis and of the
	// check of the output.
	DetectMs int64 `json:"detect_ms,omitempty"`
	CheckMs  int64 `json:"check_ms,omitempty"`
	// Passes are the analysis's passes in order.
	Passes []PassSummary `json:"passes,omitempty"`
}

// PassSummary is one pass of the analysis.
type PassSummary struct {
	Name      string  `json:"name"`
	MinFacePx float64 `json:"min_face_px,omitempty"`
	Found     int     `json:"found"`
	Ms        int64   `json:"ms"`
}

// Publication is one output on one target, as the publication ledger keeps
// it: the pupil ids visible in it (never names, never descriptors), never
// the input's path.
type Publication struct {
	// SHA256 is the input's content hash; Name the output name (which holds
	// the short hash people see).
	SHA256  string
	Target  string
	Channel string
	Name    string
	// Ref is the target's own reference (Target.Publish); empty before the
	// target confirmed.
	Ref string
	// Pupils are the ids of the people the channel shows in this output.
	Pupils []string
	// Approved is who approved the publication and when (a target with
	// approval: direction), nil otherwise.
	Approved *Approval
	// Temp is the temporary name the target uploads under first (a
	// TempNamer's), "" for other targets.
	Temp string
}

// Auditor is the audit log as the pipeline uses it (pipeline/audit's *Log
// implements it; a nil *audit.Log records nothing).
type Auditor interface {
	Record(e audit.Event) error
}

// AsideFolders are the folders under state_dir that inputs that were not
// published are moved to, with their reason files.
func AsideFolders() []string {
	return []string{AsideFolder(Rejected), AsideFolder(Quarantined), AsideFolder(Held)}
}

// Approval says who approved a photo for a destination, and when: the
// publication ledger keeps it with the publication.
type Approval struct {
	By string
	At time.Time
}
