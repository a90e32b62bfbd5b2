package config

import (
	"strings"
	"testing"

	"github.com/photoguard/photoguard/pipeline/inbox"
)

// default.yaml states the inbox's own defaults, and the inbox's ranges are
// refused under the config's keys.
func TestWatchIsTheInboxOptions(t *testing.T) {
	cfg, err := Parse(nil, t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := cfg.Watch.Inbox(), inbox.DefaultOptions(); got != want {
		t.Errorf("default.yaml's watch: %+v, the inbox's defaults %+v", got, want)
	}
	for yaml, key := range map[string]string{
		"watch:\n  settle: 2h\n  give_up: 3h\n":  "watch.settle",
		"watch:\n  rescan: 100ms\n":              "watch.rescan",
		"watch:\n  settle: 1m\n  give_up: 10s\n": "watch.give_up",
	} {
		_, err := Parse([]byte(yaml), t.TempDir(), nil)
		if err == nil || !strings.Contains(err.Error(), key+":") {
			t.Errorf("%q: %v, want an error for %s", yaml, err, key)
		}
	}
}
