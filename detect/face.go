package detect

import (
	"image"
	"math"
	"sort"
)

// DescriptorLen is the length of dlib's face descriptor.
const DescriptorLen = 128

// Descriptor is dlib's 128-D face descriptor. Two descriptors of the same
// person are close in Euclidean distance (dlib's usual cut-off for adults is
// 0.6). It is biometric data: never log it, never write it outside the
// consent store.
type Descriptor [DescriptorLen]float32

// Face is one face found in an image, in the coordinates of that image.
type Face struct {
	// Rect is the detector's box around the face.
	Rect image.Rectangle
	// Descriptor is computed from the aligned face chip.
	Descriptor Descriptor
	// Detector names the detector that found the face ("hog", "cnn",
	// "yunet", ...).
	Detector string
	// Score is the finder's confidence, when it gives one (0 otherwise).
	Score float32
	// NoDescriptor is set when no descriptor could be computed (a face
	// too small, turned or covered for the recogniser's landmarks): such a
	// face is never matched and always redacted, whatever the policy.
	NoDescriptor bool
}

// LowScore: a face the finder found with a score below this is "found at a
// low score" on the review page and in explain (small, turned, blurred or in
// shadow, or sometimes not a face at all; redacted like any face nobody is
// matched to). Clear faces score 0.8-0.95 with YuNet.
const LowScore = 0.5

// Distance is the plain Euclidean distance between two descriptors. (go-face's
// ClassifyThreshold compares squared distances; this does not.)
func Distance(a, b *Descriptor) float64 {
	var sum float64
	for i := range a {
		d := float64(a[i]) - float64(b[i])
		sum += d * d
	}
	return math.Sqrt(sum)
}

// SortFaces orders faces left to right, then top to bottom (reports and
// tests rely on a stable order).
func SortFaces(faces []Face) {
	sort.SliceStable(faces, func(i, j int) bool {
		p, q := faces[i].Rect.Min, faces[j].Rect.Min
		if p.X != q.X {
			return p.X < q.X
		}
		return p.Y < q.Y
	})
}
