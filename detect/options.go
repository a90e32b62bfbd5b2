package detect

import (
	"fmt"
	"strings"
)

// The ranges of the match rules (faces.threshold, faces.margin,
// faces.min_face_px). Beyond them the rules protect nothing or match nobody
// (MEASUREMENTS-children.md).
const (
	MinThreshold, MaxThreshold = 0.2, 0.6
	MinMargin, MaxMargin       = 0.0, 0.5
	MinMinFacePx, MaxMinFacePx = 20, 400
)

// Validate checks the match rules against their ranges.
func (c MatchConfig) Validate() error {
	var errs []string
	if !(c.Threshold >= MinThreshold && c.Threshold <= MaxThreshold) {
		errs = append(errs, fmt.Sprintf("threshold %v is out of range (%v to %v)", c.Threshold, MinThreshold, MaxThreshold))
	}
	if !(c.Margin >= MinMargin && c.Margin <= MaxMargin) {
		errs = append(errs, fmt.Sprintf("margin %v is out of range (%v to %v)", c.Margin, MinMargin, MaxMargin))
	}
	if c.MinFacePx < MinMinFacePx || c.MinFacePx > MaxMinFacePx {
		errs = append(errs, fmt.Sprintf("min face %d px is out of range (%d to %d)", c.MinFacePx, MinMinFacePx, MaxMinFacePx))
	}
	if c.Combine != "" && c.Combine != CombineBest && c.Combine != CombineMean {
		errs = append(errs, fmt.Sprintf("references %q is not %s or %s", c.Combine, CombineBest, CombineMean))
	}
	if len(errs) > 0 {
		return fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return nil
}

// Policies lists every policy.
func Policies() []Policy { return []Policy{PolicyConsent, PolicyObjections} }

// Validate reports a policy that is not one of Policies.
func (p Policy) Validate() error {
	var names []string
	for _, q := range Policies() {
		if p == q {
			return nil
		}
		names = append(names, string(q))
	}
	return fmt.Errorf("%q is not one of %s", string(p), strings.Join(names, ", "))
}
