package pipeline

import "github.com/photoguard/photoguard/pipeline/core"

// The pipeline's vocabulary lives in the cgo-free leaf pipeline/core, so
// that the packages that only read the state folder build without cgo; these
// aliases keep the names callers know.
type (
	Outcome     = core.Outcome
	Item        = core.Item
	FaceSummary = core.FaceSummary
	PassSummary = core.PassSummary
	Publication = core.Publication
	Approval    = core.Approval
	Auditor     = core.Auditor
)

// The outcomes (core.Outcome).
const (
	Published   = core.Published
	Rejected    = core.Rejected
	Quarantined = core.Quarantined
	Held        = core.Held
	Waiting     = core.Waiting
)

// asideFolder is the folder under state_dir an outcome's inputs are moved to.
func asideFolder(o Outcome) string { return core.AsideFolder(o) }

// AsideFolders are the folders under state_dir that inputs that were not
// published are moved to, with their reason files.
func AsideFolders() []string { return core.AsideFolders() }
