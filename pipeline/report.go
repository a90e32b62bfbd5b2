package pipeline

import (
	"encoding/json"
	"io"
	"sync"
	"time"
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
