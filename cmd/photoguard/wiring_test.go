package main

import (
	"fmt"
	"reflect"
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

// The rules for external channels are part of the one mapping of the
// configuration onto the pipeline: per target the direction's approval and
// the individual rule, by the channel's defaults unless the target says
// otherwise (openResources opens the store of what waits when a target
// needs approval: needsApproval).
func TestDestinationsCarryTheChannelRules(t *testing.T) {
	dir := t.TempDir()
	cfg := writeConfig(t, dir, fmt.Sprintf("inbox: %[1]s/inbox\nstate_dir: %[1]s/state\nmodels_dir: %[1]s/models\ntargets:\n"+
		"  website:\n    type: dir\n    path: %[1]s/w\n    channel: website\n"+
		"  social:\n    type: dir\n    path: %[1]s/s\n    channel: social_media\n    approval: none\n"+
		"  portal:\n    type: dir\n    path: %[1]s/p\n    channel: parent_portal\n"+
		"  letter:\n    type: dir\n    path: %[1]s/l\n    channel: newsletter\n    individual: closed_only\n", dir))
	got := map[string]string{}
	for _, d := range destinations(cfg, cfg.TargetNames(), nil) {
		got[d.Name] = fmt.Sprintf("%s approval=%v closed_only=%v", d.Channel, d.Approval, d.ClosedOnly)
	}
	want := map[string]string{
		"website": "website approval=true closed_only=true",
		"social":  "social_media approval=false closed_only=true",
		"portal":  "parent_portal approval=false closed_only=false",
		"letter":  "newsletter approval=false closed_only=true",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v\nwant %v", got, want)
	}
	if !needsApproval(cfg) {
		t.Error("the website needs approval")
	}
	delete(cfg.Targets, "website")
	if needsApproval(cfg) {
		t.Error("no target left needs approval")
	}
}
