package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/photoguard/photoguard/pipeline"
	"github.com/photoguard/photoguard/pipeline/ledger"
)

// TestRevokeListsPublishedPhotos: `consent revoke` lists, from the
// publication ledger, the photos already published on that channel in which
// the pupil is visible (and only those), with the takedown command; it
// deletes nothing.
func TestRevokeListsPublishedPhotos(t *testing.T) {
	dir := t.TempDir()
	cfg := websiteConfig(t, dir, filepath.Join(dir, "no-models"))
	if err := os.MkdirAll(cfg.StateDir, 0o700); err != nil {
		t.Fatal(err)
	}
	csv := filepath.Join(dir, "consent.csv")
	if err := os.WriteFile(csv, []byte(demoConsent(time.Now())), 0o600); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := consentImport(&out, cfg, csv, false, ""); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	led, err := ledger.Open(cfg.StateDir, nil)
	if err != nil {
		t.Fatal(err)
	}
	publish := func(sha, target, channel string, pupils ...string) string {
		sha += strings.Repeat("0", 64-len(sha))
		name := pipeline.OutputName(time.Now(), sha)
		p := pipeline.Publication{SHA256: sha, Target: target, Channel: channel, Name: name, Ref: name, Pupils: pupils}
		if err := led.Publishing(p); err != nil {
			t.Fatal(err)
		}
		if err := led.Published(p); err != nil {
			t.Fatal(err)
		}
		return name
	}
	both := publish("aa01", "website", "website", "amy", "raj")
	portal := publish("bb02", "portal", "parent_portal", "amy")
	other := publish("cc03", "website", "website", "raj")

	out.Reset()
	if err := consentRevoke(&out, cfg, "amy", "website"); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	got := out.String()
	if !strings.Contains(got, both) || !strings.Contains(got, "aa0100000000") {
		t.Errorf("the photo on the website showing amy is not listed:\n%s", got)
	}
	if strings.Contains(got, portal) || strings.Contains(got, other) {
		t.Errorf("photos of another channel or without amy are listed:\n%s", got)
	}
	if !strings.Contains(got, "photoguard takedown --pupil amy --channel website") {
		t.Errorf("no takedown command:\n%s", got)
	}
	recs, _, err := ledger.Records(cfg.StateDir, nil, nil)
	if err != nil || len(ledger.Select(recs, ledger.Query{})) != 3 {
		t.Errorf("revoke changed the ledger: %v", err)
	}

	out.Reset()
	if err := consentRevoke(&out, cfg, "raj", "parent_portal"); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "raj on parent_portal: no published photo shows them") {
		t.Errorf("revoke without published photos:\n%s", out.String())
	}
}
