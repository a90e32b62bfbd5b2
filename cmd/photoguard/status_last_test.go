package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/photoguard/photoguard/pipeline/status"
)

// A finished photo's record keeps no input path: status names it by the
// short hash that takedown and retry take, never by an empty name.
func TestStatusNamesFinishedPhotosByHash(t *testing.T) {
	sha := "69a2f5949b21" + strings.Repeat("0", 52)
	s := &status.Status{Last: []status.Record{{Updated: time.Now(), State: "done", Outcome: "published", SHA256: sha,
		Outputs: []string{"website:20261201-69a2f5949b21.jpg"}}}}
	var out bytes.Buffer
	writeStatus(&out, s)
	if !strings.Contains(out.String(), "published   69a2f5949b21 -> website:20261201-69a2f5949b21.jpg") {
		t.Errorf("status:\n%s", out.String())
	}
}
