package config

import (
	"strings"
	"testing"
	"time"
)

// Issue 20: the external channels need the direction's approval and keep
// photos of one pupil out by default; a target may say otherwise; bad
// values name their key.
func TestApprovalDefaults(t *testing.T) {
	yaml := `inbox: /srv/in
state_dir: /srv/state
targets:
  site:
    path: /srv/site
    channel: website
  social:
    path: /srv/social
    channel: Social_Media
  news:
    path: /srv/news
    channel: newsletter
  portal:
    path: /srv/portal
    channel: parent_portal
  open-site:
    path: /srv/open
    channel: website
    approval: None
    individual: allowed
  strict-portal:
    path: /srv/strict
    channel: parent_portal
    approval: direction
    individual: closed_only
`
	cfg, err := Parse([]byte(yaml), "/", nil)
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string][2]string{
		"site": {"direction", "closed_only"}, "social": {"direction", "closed_only"},
		"news": {"none", "allowed"}, "portal": {"none", "allowed"},
		"open-site": {"none", "allowed"}, "strict-portal": {"direction", "closed_only"},
	} {
		if got := cfg.Targets[name]; got.Approval != want[0] || got.Individual != want[1] {
			t.Errorf("%s: approval %q, individual %q; want %q, %q", name, got.Approval, got.Individual, want[0], want[1])
		}
	}
	if cfg.Approval.Expire != 30*24*time.Hour || cfg.Individual.MinShare != 0.25 {
		t.Errorf("approval.expire %s, individual.min_share %v; want 720h, 0.25", cfg.Approval.Expire, cfg.Individual.MinShare)
	}
	for _, c := range []struct{ yaml, key string }{
		{"targets:\n  site:\n    path: /srv/site\n    channel: website\n    approval: teacher\n", "targets.site.approval"},
		{"targets:\n  site:\n    path: /srv/site\n    channel: website\n    individual: never\n", "targets.site.individual"},
		{"approval:\n  expire: 10m\n", "approval.expire"},
		{"individual:\n  min_share: 1.5\n", "individual.min_share"},
		{"individual:\n  min_share: 0\n", "individual.min_share"},
	} {
		_, err := Parse([]byte("inbox: /srv/in\nstate_dir: /srv/state\n"+c.yaml), "/", nil)
		if err == nil || !strings.Contains(err.Error(), c.key) {
			t.Errorf("%q: %v, want an error naming %s", c.yaml, err, c.key)
		}
	}
	// The example shows the keys.
	for _, key := range []string{"\napproval:\n", "  expire: 720h\n", "\nindividual:\n", "  min_share: 0.25\n", "#   approval ", "#   individual "} {
		if !strings.Contains(string(Example()), key) {
			t.Errorf("config example does not show %q", key)
		}
	}
}
