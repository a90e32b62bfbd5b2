package encode_test

import (
	"testing"

	"github.com/photoguard/photoguard/redact/encode"
	"github.com/photoguard/photoguard/redact/fixture"
	"github.com/photoguard/photoguard/redact/inspect"
)

// Whatever VerifyClean accepts carries nothing that Scan would report.
func FuzzVerifyClean(f *testing.F) {
	fixture.AddSeeds(f, f.TempDir())
	if out, err := encode.JPEG(fixture.Pattern(32, 24), 80); err == nil {
		f.Add(out)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if encode.VerifyClean(data) != nil {
			return
		}
		r, err := inspect.Scan(data)
		if err != nil || len(r.Findings) > 0 {
			t.Fatalf("VerifyClean accepted a file with %v (%v)", r.Findings, err)
		}
	})
}
