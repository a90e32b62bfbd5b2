package pipeline

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
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

// The glossary in doc.go names types that exist: seven, each "Name" of this
// package or "pkg.Name" of pipeline/pkg.
func TestDocGlossaryNamesRealTypes(t *testing.T) {
	src, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`(?m)^//   - (?:(\w+)\.)?([A-Z]\w*)`)
	entries := re.FindAllStringSubmatch(string(src), -1)
	if len(entries) != 7 {
		t.Fatalf("doc.go's glossary has %d entries, want the seven photo-per-target types", len(entries))
	}
	types := map[string]map[string]bool{}
	declared := func(dir string) map[string]bool {
		if types[dir] == nil {
			types[dir] = map[string]bool{}
			files, _ := filepath.Glob(filepath.Join(dir, "*.go"))
			for _, name := range files {
				if strings.HasSuffix(name, "_test.go") {
					continue
				}
				f, err := parser.ParseFile(token.NewFileSet(), name, nil, 0)
				if err != nil {
					t.Fatal(err)
				}
				for _, d := range f.Decls {
					if g, ok := d.(*ast.GenDecl); ok && g.Tok == token.TYPE {
						for _, s := range g.Specs {
							types[dir][s.(*ast.TypeSpec).Name.Name] = true
						}
					}
				}
			}
		}
		return types[dir]
	}
	for _, e := range entries {
		dir := "."
		if e[1] != "" {
			dir = e[1]
		}
		if !declared(dir)[e[2]] {
			t.Errorf("doc.go's glossary names %s, which pipeline/%s does not declare", strings.TrimPrefix(e[0], "//   - "), dir)
		}
	}
}
