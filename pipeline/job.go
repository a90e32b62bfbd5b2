package pipeline

import (
	"context"
	"image"
	"time"

	"github.com/photoguard/photoguard/detect"
	"github.com/photoguard/photoguard/pipeline/journal"
	"github.com/photoguard/photoguard/redact/decode"
)

// Job is one input on its way through the steps.
type Job struct {
	// Root is the folder scanned; Path the input's absolute path; Rel its
	// slash-separated path below Root (what reports show).
	Root, Path, Rel string
	Size            int64
	MTime           time.Time

	// Data is the whole input, read once: what is hashed is what is decoded.
	Data   []byte
	SHA256 string
	Record *journal.Record

	Category string
	// Original is the decoded photo at the resolution faces are analysed
	// at (the original's pixels, up to Options.AnalysisMaxSide); Image is
	// it at the largest size it is published at. Faces are in Image's
	// coordinates (each delivery has them at its own size too).
	Original *image.NRGBA
	Image    *image.NRGBA
	Source   decode.Source
	Analysis *detect.Analysis
	Faces    []detect.Face
	// detectTook and checkTook time the analysis and the output check.
	detectTook, checkTook time.Duration
	// smaller is set when the photo is published smaller than asked, so
	// that the coverage floor holds.
	smaller bool
	// Matches are the matcher's conclusions, one per face.
	Matches []detect.Match
	// Group is the consent store's group the photo was matched in (its inbox
	// folder), "" for the whole school; Margin the margin it was matched
	// with (FaceOptions.GroupMargin in a group folder of a school).
	Group  string
	Margin float64
	// consent is the view of the consent store the decisions were made with.
	consent Consent

	Deliveries []*Delivery

	// video is set for a video (pipeline/video.go); noNote ends the job
	// without a note for the teacher (a Live Photo's moving part).
	video  *videoJob
	noNote bool
}

// Delivery is the part of a job that goes to one target.
type Delivery struct {
	Dest *Destination
	// Name is the neutral output name (date and short content hash).
	Name string
	// Decisions say, per face of the job, whether this channel shows it.
	Decisions []detect.Decision
	// Base is the photo at the size this destination publishes at (the
	// job's Image, or a smaller copy), unredacted; Faces are the job's
	// faces in its coordinates, FloorPx the coverage floor there.
	Base    *image.NRGBA
	Faces   []detect.Face
	FloorPx float64
	// smaller is set when Base is smaller than the destination asked, so
	// that the coverage floor holds.
	smaller bool
	// Image is what will be published (Base with every face the channel
	// may not show redacted), Output its encoding.
	Image  *image.NRGBA
	Output []byte
	// Published is set once the target confirmed. Waiting is set when the
	// delivery, checked and ready, waits for approval (approval.go).
	Published bool
	Waiting   bool
	// Err is this delivery's failure; a failed delivery takes no more steps.
	Err error
	// video is a video delivery's encoding (Output is its bytes).
	video *videoOutput
}

func (j *Job) live() []*Delivery {
	var ds []*Delivery
	for _, d := range j.Deliveries {
		if d.Err == nil && !d.Published && !d.Waiting {
			ds = append(ds, d)
		}
	}
	return ds
}

// Step is one stage of the transform phase. A step that returns an error stops the
// whole job (every delivery); a step that fails for one delivery sets that
// delivery's Err and goes on with the others.
type Step struct {
	Name string
	Run  func(ctx context.Context, j *Job) error
}
