package pipeline

import (
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/photoguard/photoguard/detect"
	"github.com/photoguard/photoguard/redact/mask"
)

// TestStaleModelsHoldEveryPhoto: while the consent store holds references
// made with other face model files than the detectors' (a school replaced a
// model file), every photo is held, whatever it shows and whatever the
// policy, with a reason that says what to do; once everyone is enrolled
// again the next photo is decided as usual. The view is taken per photo.
func TestStaleModelsHoldEveryPhoto(t *testing.T) {
	people := []detect.Person{{ID: "anna", Descriptors: []detect.Descriptor{unit(0)}}}
	consent := map[string]map[string]bool{"anna": {"website": true}}
	var mu sync.Mutex
	cur := &fakeConsent{people: people, consent: consent, models: map[string]int{"new": 1, "old": 2}}
	view := func() Consent { mu.Lock(); defer mu.Unlock(); return cur }
	for _, policy := range []detect.Policy{detect.PolicyConsent, detect.PolicyObjections} {
		t.Run(string(policy), func(t *testing.T) {
			mu.Lock()
			cur = &fakeConsent{people: people, consent: consent, models: map[string]int{"new": 1, "old": 2}}
			mu.Unlock()
			e := newEnv(t, func(o *Options) {
				o.Faces = &FaceOptions{
					Analyzer: classFaces(),
					Model:    "new",
					Consent:  view,
					Match:    detect.MatchConfig{Threshold: 0.5, Margin: 0.06, MinFacePx: 20},
					Policy:   policy,
					Redact:   mask.DefaultOptions(),
				}
			})
			for _, name := range []string{"a.jpg", "b.jpg"} {
				e.write(name, classPhoto(t))
			}
			e.write("c.jpg", photo(t, 3)) // no faces at all: held too
			items := e.batch()
			for _, name := range []string{"a.jpg", "b.jpg", "c.jpg"} {
				it := one(t, items, name)
				if it.Outcome != Held || !strings.Contains(it.Reason, "2 enrolled references") ||
					!strings.Contains(it.Reason, "enroll everyone again") {
					t.Errorf("%s: %s %q, want held: enroll everyone again", name, it.Outcome, it.Reason)
				}
				if !exists(filepath.Join(it.Aside, name)) {
					t.Errorf("%s: not kept in held/", name)
				}
			}
			if out := e.outputs(); len(out) != 0 {
				t.Fatalf("published %v while the store holds other models' references", out)
			}

			// Everyone enrolled again with the model in use: the next
			// photo goes through.
			mu.Lock()
			cur = &fakeConsent{people: people, consent: consent, models: map[string]int{"new": 3}}
			mu.Unlock()
			e.write("d.jpg", classPhoto(t))
			if it := one(t, e.batch(), "d.jpg"); it.Outcome != Published {
				t.Errorf("after enrolling again: %s %q", it.Outcome, it.Reason)
			}
		})
	}
}

func TestStaleModels(t *testing.T) {
	cases := []struct {
		models map[string]int
		model  string
		want   string // "" no error
	}{
		{nil, "m1", ""},
		{map[string]int{"m1": 4}, "m1", ""},
		{map[string]int{"m1": 4, "m0": 1}, "m1", "1 enrolled reference in the consent store was made"},
		{map[string]int{"": 3}, "m1", "3 enrolled references"}, // unknown model matches none
		{map[string]int{"m0": 2}, "", "2 enrolled references"},
	}
	for _, c := range cases {
		err := StaleModels(&fakeConsent{models: c.models}, c.model)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%v with model %q: %v", c.models, c.model, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%v with model %q: %v, want %q", c.models, c.model, err, c.want)
		}
	}
}
