package pipeline

import (
	"encoding/json"
	"io"
	"sync"
	"time"
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

// outcomeOf maps an error kind to the outcome it ends in.
func outcomeOf(k Kind) Outcome {
	switch k {
	case KindReject:
		return Rejected
	case KindQuarantine:
		return Quarantined
	}
	return Held
}

// asideFolder is the folder under state_dir an outcome's inputs are moved to.
func asideFolder(o Outcome) string {
	switch o {
	case Rejected:
		return "rejected"
	case Quarantined:
		return "quarantine"
	}
	return "held"
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

// Summary counts items by outcome.
type Summary struct {
	Inputs      int       `json:"inputs"`
	Published   int       `json:"published"`
	Rejected    int       `json:"rejected"`
	Quarantined int       `json:"quarantined"`
	Held        int       `json:"held"`
	Duplicates  int       `json:"duplicates"`
	Waiting     int       `json:"waiting,omitempty"`
	DryRun      bool      `json:"dry_run,omitempty"`
	Started     time.Time `json:"started"`
	Seconds     float64   `json:"seconds"`
}

// Report collects items as they finish. Safe for concurrent use.
type Report struct {
	mu      sync.Mutex
	Summary Summary `json:"summary"`
	Items   []Item  `json:"items"`
	inputs  map[string]bool
}

// NewReport starts a report.
func NewReport(dryRun bool) *Report {
	return &Report{Summary: Summary{Started: time.Now().UTC(), DryRun: dryRun}, Items: []Item{}, inputs: map[string]bool{}}
}

// Add records an item.
func (r *Report) Add(it Item) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.Items = append(r.Items, it)
	if !r.inputs[it.Input] {
		r.inputs[it.Input] = true
		r.Summary.Inputs++
	}
	switch it.Outcome {
	case Published:
		r.Summary.Published++
	case Rejected:
		r.Summary.Rejected++
	case Quarantined:
		r.Summary.Quarantined++
	case Held:
		r.Summary.Held++
	case Waiting:
		r.Summary.Waiting++
	}
	if it.Duplicate {
		r.Summary.Duplicates++
	}
}

// Finish stamps the duration.
func (r *Report) Finish() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.Summary.Seconds = time.Since(r.Summary.Started).Seconds()
}

// Clean reports whether every item was published or rejected by policy
// (batch exit status 0); otherwise something needs a look (status 2).
func (r *Report) Clean() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.Summary.Quarantined == 0 && r.Summary.Held == 0
}

// WriteJSON writes the report as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(struct {
		Summary Summary `json:"summary"`
		Items   []Item  `json:"items"`
	}{r.Summary, r.Items})
}
