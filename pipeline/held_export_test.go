package pipeline

import (
	"testing"

	"github.com/photoguard/photoguard/detect"
)

// What the external tests of pipeline/held (held_test.go) use of this
// package's fakes: a pipeline over a temporary inbox, state folder and a
// dir target behind a target that refuses until told otherwise.

// HeldEnv is env for the external tests.
type HeldEnv struct {
	*env
	target *flaky
}

// NewHeldEnv is a pipeline whose one target (website) refuses every photo
// (a permanent error) until Accept.
func NewHeldEnv(t *testing.T) *HeldEnv {
	e := newEnv(t)
	fl := &flaky{Target: e.target, err: permErr{errorString("403 forbidden")}}
	o := e.p.opt
	o.Destinations = []*Destination{{Name: "website", Channel: "website", Target: fl}}
	e.build(o)
	return &HeldEnv{env: e, target: fl}
}

type errorString string

func (s errorString) Error() string { return string(s) }

// Pipeline is the pipeline; State the state folder; Outputs what is at the
// target.
func (e *HeldEnv) Pipeline() *Pipeline { return e.p }
func (e *HeldEnv) State() string       { return e.state }
func (e *HeldEnv) Outputs() []string   { return e.outputs() }

// Write puts a photo (of seed) at rel below the inbox.
func (e *HeldEnv) Write(rel string, seed int) string { return e.write(rel, photo(e.t, seed)) }

// Batch runs a batch over the inbox.
func (e *HeldEnv) Batch() map[string][]Item { return e.batch() }

// Accept makes the target take photos; Down makes it fail as a target that
// is not reachable (a passing error).
func (e *HeldEnv) Accept() { e.setErr(nil) }
func (e *HeldEnv) Refuse() { e.setErr(permErr{errorString("403 forbidden")}) }
func (e *HeldEnv) Down()   { e.setErr(errorString("connection refused")) }

func (e *HeldEnv) setErr(err error) {
	e.target.mu.Lock()
	e.target.err = err
	e.target.mu.Unlock()
}

// Flag makes category a flagged category (a new configuration).
func (e *HeldEnv) Flag(category string) {
	o := e.p.opt
	o.Categories = detect.NewCategories([]string{category})
	e.build(o)
}
