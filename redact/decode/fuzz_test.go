package decode_test

import (
	"testing"

	"github.com/photoguard/photoguard/redact/decode"
	"github.com/photoguard/photoguard/redact/fixture"
)

// Sniff and Probe never panic, and every error they return is an
// InputError.
func FuzzSniffProbe(f *testing.F) {
	fixture.AddSeeds(f, f.TempDir())
	f.Fuzz(func(t *testing.T, data []byte) {
		format, err := decode.Sniff(data)
		if (format == "") == (err == nil) || err != nil && !decode.IsInputError(err) {
			t.Fatalf("Sniff: %q %v", format, err)
		}
		src, err := decode.Probe(data)
		if err != nil && !decode.IsInputError(err) {
			t.Fatalf("Probe: %v is not an InputError", err)
		}
		if err == nil && (src.Format != format || src.Orientation < 1 || src.Orientation > 8) {
			t.Fatalf("Probe: %+v for a %q", src, format)
		}
	})
}
