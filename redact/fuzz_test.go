package redact_test

import (
	"context"
	"testing"
	"time"

	"github.com/photoguard/photoguard/redact"
	"github.com/photoguard/photoguard/redact/fixture"
	"github.com/photoguard/photoguard/redact/inspect"
	"github.com/photoguard/photoguard/redact/testenv"
)

func fuzzSeeds(f *testing.F) {
	for _, c := range append(append(fixture.Dirty(), fixture.Orientations()...), fixture.Bad()...) {
		f.Add(c.Data)
	}
	if testenv.HasTool("heif-enc") {
		if cs, err := fixture.HEIC(f.TempDir()); err == nil {
			for _, c := range cs {
				f.Add(c.Data)
			}
		}
	}
}

// Sniff and Probe never panic, and every error they return is an
// InputError.
func FuzzSniffProbe(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		format, err := redact.Sniff(data)
		if (format == "") == (err == nil) || err != nil && !redact.IsInputError(err) {
			t.Fatalf("Sniff: %q %v", format, err)
		}
		src, err := redact.Probe(data)
		if err != nil && !redact.IsInputError(err) {
			t.Fatalf("Probe: %v is not an InputError", err)
		}
		if err == nil && (src.Format != format || src.Orientation < 1 || src.Orientation > 8) {
			t.Fatalf("Probe: %+v for a %q", src, format)
		}
	})
}

// fuzzLimits keep each decode small and fast.
var fuzzLimits = redact.Limits{MaxFileBytes: 1 << 20, MaxSide: 1024, MaxPixels: 1 << 20, Timeout: 10 * time.Second}

// The whole sanitize step on arbitrary bytes: it never panics, it fails
// only with InputError, and whatever it outputs passes VerifyClean, has no
// metadata and fits maxSide.
func FuzzSanitize(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		img, _, err := redact.Decode(context.Background(), data, fuzzLimits, 64)
		if err != nil {
			if !redact.IsInputError(err) {
				t.Fatalf("Decode: %v is not an InputError", err)
			}
			return
		}
		b := img.Bounds()
		if b.Empty() || b.Dx() > 64 || b.Dy() > 64 || b.Min.X != 0 || b.Min.Y != 0 {
			t.Fatalf("Decode returned bounds %v", b)
		}
		out, err := redact.EncodeJPEG(img, 80)
		if err != nil {
			t.Fatalf("EncodeJPEG: %v", err)
		}
		if err := redact.VerifyClean(out); err != nil {
			t.Fatalf("VerifyClean: %v", err)
		}
		if r, err := inspect.Scan(out); err != nil || len(r.Findings) > 0 {
			t.Fatalf("output carries %v (%v)", r.Findings, err)
		}
	})
}

// Whatever VerifyClean accepts carries nothing that Scan would report.
func FuzzVerifyClean(f *testing.F) {
	fuzzSeeds(f)
	if out, err := redact.EncodeJPEG(fixture.Pattern(32, 24), 80); err == nil {
		f.Add(out)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if redact.VerifyClean(data) != nil {
			return
		}
		r, err := inspect.Scan(data)
		if err != nil || len(r.Findings) > 0 {
			t.Fatalf("VerifyClean accepted a file with %v (%v)", r.Findings, err)
		}
	})
}
