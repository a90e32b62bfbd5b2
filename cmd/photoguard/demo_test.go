package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/photoguard/photoguard/redact/testenv"
)

// The README's first command ends in `photoguard demo`: it must run through
// and find no metadata in what it published.
func TestDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("enrolls eight people and runs a batch with face detection")
	}
	td := testenv.SharedTestdata(t)
	t.Setenv("PHOTOGUARD_MODELS_DIR", modelsForTest(t))
	dir := t.TempDir()
	var out, errb bytes.Buffer
	if err := runDemo(context.Background(), &out, &errb, dir, td); err != nil {
		t.Fatalf("demo: %v\n%s\n%s", err, out.String(), errb.String())
	}
	for _, want := range []string{"8 in the consent store", "sheldon: enrolled from 5 photos", "0 with any metadata",
		"rejected    groep-5/zwemles/", "quarantined groep-5/verslag.jpg"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("demo output lacks %q:\n%s", want, out.String())
		}
	}
	previews, _ := filepath.Glob(filepath.Join(dir, "previews", "*.png"))
	if len(previews) != 5 {
		t.Errorf("%d previews", len(previews))
	}
}
