// Package targettest holds the targets' test helpers: the conformance
// suite every target runs, reading what a server stored in its local
// folder, and checking that no temporary upload was left there.
package targettest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Reader reads name from the folder a test server stores in.
func Reader(dir string) func(string) ([]byte, error) {
	return func(name string) ([]byte, error) { return os.ReadFile(filepath.Join(dir, name)) }
}

// NoTemps fails t for every hidden entry (a temporary upload) left in dir.
func NoTemps(t testing.TB, dir string) {
	t.Helper()
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			t.Errorf("left behind: %s", e.Name())
		}
	}
}
