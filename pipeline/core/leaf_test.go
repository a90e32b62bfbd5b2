package core

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/photoguard/photoguard/"

// cgoModules are the modules that link C libraries (libjpeg, libheif, dlib,
// onnxruntime).
var cgoModules = []string{"github.com/viam-labs/go-libjpeg", "github.com/strukturag/libheif",
	"github.com/Kagami/go-face", "github.com/yalue/onnxruntime_go"}

// TestReadersBuildWithoutCgo walks the imports (test files left out) of the
// packages that only read the state folder, and of core itself: none may
// reach a file with import "C" or a module that links a C library, which
// package pipeline (through redact) does.
func TestReadersBuildWithoutCgo(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	var walk func(pkg string, via []string)
	walk = func(pkg string, via []string) {
		if seen[pkg] {
			return
		}
		seen[pkg] = true
		dir := filepath.Join(root, strings.TrimPrefix(pkg, module))
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatalf("%s: %v", pkg, err)
		}
		for _, e := range entries {
			name := e.Name()
			if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
				continue
			}
			f, err := parser.ParseFile(token.NewFileSet(), filepath.Join(dir, name), nil, parser.ImportsOnly)
			if err != nil {
				t.Fatal(err)
			}
			for _, im := range f.Imports {
				path, _ := strconv.Unquote(im.Path.Value)
				chain := strings.Join(append(via, pkg), " -> ")
				switch {
				case path == "C":
					t.Errorf("%s uses cgo (%s)", chain, name)
				case strings.HasPrefix(path, module):
					walk(path, append(via, pkg))
				default:
					for _, m := range cgoModules {
						if strings.HasPrefix(path, m) {
							t.Errorf("%s -> %s links a C library", chain, path)
						}
					}
				}
			}
		}
	}
	for _, p := range []string{"pipeline/core", "pipeline/state", "pipeline/status", "pipeline/retention", "pipeline/held", "pipeline/ledger"} {
		walk(module+p, nil)
	}
	if !seen[module+"pipeline/journal"] {
		t.Fatal("the walk did not reach pipeline/journal: it reads no imports")
	}
}
