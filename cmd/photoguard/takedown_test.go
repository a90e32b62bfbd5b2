package main

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// TestPhotoSHA256: takedown and object name a photo by its file or by --sha,
// never both or neither; a file that cannot be read is that error.
func TestPhotoSHA256(t *testing.T) {
	p := filepath.Join(t.TempDir(), "a.jpg")
	if err := os.WriteFile(p, []byte("abc"), 0o600); err != nil {
		t.Fatal(err)
	}
	const abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" // sha256("abc")
	if got, err := photoSHA256([]string{p}, "", "usage"); err != nil || got != abc {
		t.Errorf("file: %q, %v", got, err)
	}
	if got, err := photoSHA256(nil, " BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD\n", "usage"); err != nil || got != abc {
		t.Errorf("--sha: %q, %v", got, err)
	}
	for name, c := range map[string]struct {
		files []string
		sha   string
	}{"both": {[]string{p}, abc}, "neither": {nil, ""}, "two files": {[]string{p, p}, ""}} {
		if _, err := photoSHA256(c.files, c.sha, "usage"); err == nil || err.Error() != "usage" {
			t.Errorf("%s: %v, want the usage error", name, err)
		}
	}
	if _, err := photoSHA256([]string{p + ".missing"}, "", "usage"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}
