package pipeline

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// The step order pipeline/doc.go gives is the code's: the phases of Process,
// the step list of the transform phase, and the boundaries of intake and
// commit (named p.hook calls).
func TestDocGivesTheRealStepOrder(t *testing.T) {
	src, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	// "//  1. intake: read (...), claim (...);" up to the next numbered line.
	text := strings.ReplaceAll(string(src), "\n//    ", " ")
	re := regexp.MustCompile(`(?m)^//  \d\. (\w+): (.*)$`)
	var phases []string
	parts := map[string][]string{}
	for _, m := range re.FindAllStringSubmatch(text, -1) {
		phases = append(phases, m[1])
		body := regexp.MustCompile(`\([^)]*\)`).ReplaceAllString(m[2], "")
		for _, w := range strings.Split(strings.TrimRight(body, ";."), ",") {
			parts[m[1]] = append(parts[m[1]], strings.TrimSpace(w))
		}
	}
	if !slices.Equal(phases, Phases()) {
		t.Fatalf("doc.go gives the phases %q, the code has %q", phases, Phases())
	}
	p, err := New(Options{Destinations: []*Destination{{Name: "x"}}, DryRun: true, Faces: noFaces(1)})
	if err != nil {
		t.Fatal(err)
	}
	if got := parts[PhaseTransform]; !slices.Equal(got, p.Steps()) {
		t.Errorf("doc.go gives the steps %q, the code has %q", got, p.Steps())
	}
	hooks := sourceHooks(t)
	for _, ph := range []string{PhaseIntake, PhaseCommit} {
		for _, name := range parts[ph] {
			if name != "settle" && !slices.Contains(hooks, name) {
				t.Errorf("doc.go names %q in %s; the code has no such boundary (%q)", name, ph, hooks)
			}
		}
	}
	if !slices.Equal(parts[PhaseIntake], []string{"read", "claim"}) || !slices.Equal(parts[PhaseCommit], []string{"publish", "settle"}) {
		t.Errorf("intake %q, commit %q", parts[PhaseIntake], parts[PhaseCommit])
	}
}
