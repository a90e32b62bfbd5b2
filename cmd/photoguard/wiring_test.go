package main

import (
	"testing"
	"time"

	"github.com/photoguard/photoguard/config"
	"github.com/photoguard/photoguard/redact/decode"
)

// The limits settings reach the decoder in its units (megabytes to bytes),
// the same for the pipeline and for enroll (both take decodeLimits).
func TestDecodeLimits(t *testing.T) {
	got := decodeLimits(config.Limits{MaxFileMB: 30, MaxSide: 12000, MaxPixels: 60_000_000, DecodeTimeout: 20 * time.Second})
	want := decode.Limits{MaxFileBytes: 30 << 20, MaxSide: 12000, MaxPixels: 60_000_000, Timeout: 20 * time.Second}
	if got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
}
