package redact_test

import (
	"context"
	"testing"
	"time"

	"github.com/photoguard/photoguard/redact/decode"
	"github.com/photoguard/photoguard/redact/encode"
	"github.com/photoguard/photoguard/redact/fixture"
	"github.com/photoguard/photoguard/redact/inspect"
)

// fuzzLimits keep each decode small and fast.
var fuzzLimits = decode.Limits{MaxFileBytes: 1 << 20, MaxSide: 1024, MaxPixels: 1 << 20, Timeout: 10 * time.Second}

// The whole sanitize step on arbitrary bytes: it never panics, it fails
// only with InputError, and whatever it outputs passes VerifyClean, has no
// metadata and fits maxSide.
func FuzzSanitize(f *testing.F) {
	fixture.AddSeeds(f, f.TempDir())
	f.Fuzz(func(t *testing.T, data []byte) {
		img, _, err := decode.Decode(context.Background(), data, fuzzLimits, 64)
		if err != nil {
			if !decode.IsInputError(err) {
				t.Fatalf("Decode: %v is not an InputError", err)
			}
			return
		}
		b := img.Bounds()
		if b.Empty() || b.Dx() > 64 || b.Dy() > 64 || b.Min.X != 0 || b.Min.Y != 0 {
			t.Fatalf("Decode returned bounds %v", b)
		}
		out, err := encode.JPEG(img, 80)
		if err != nil {
			t.Fatalf("EncodeJPEG: %v", err)
		}
		if err := encode.VerifyClean(out); err != nil {
			t.Fatalf("VerifyClean: %v", err)
		}
		if r, err := inspect.Scan(out); err != nil || len(r.Findings) > 0 {
			t.Fatalf("output carries %v (%v)", r.Findings, err)
		}
	})
}
