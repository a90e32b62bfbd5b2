package detect

import (
	"strings"
	"testing"
)

func TestMatchConfigValidate(t *testing.T) {
	for _, c := range []struct {
		cfg  MatchConfig
		want string // "" = valid
	}{
		{MatchConfig{Threshold: 0.5, Margin: 0.3, MinFacePx: 60}, ""},
		{MatchConfig{Threshold: MinThreshold, Margin: MinMargin, MinFacePx: MinMinFacePx}, ""},
		{MatchConfig{Threshold: MaxThreshold, Margin: MaxMargin, MinFacePx: MaxMinFacePx}, ""},
		{MatchConfig{Threshold: 0.61, Margin: 0.3, MinFacePx: 60}, "threshold 0.61 is out of range"},
		{MatchConfig{Threshold: 0.5, Margin: -0.1, MinFacePx: 60}, "margin -0.1 is out of range"},
		{MatchConfig{Threshold: 0.5, Margin: 0.3, MinFacePx: 19}, "min face 19 px is out of range"},
		{MatchConfig{}, "threshold 0 is out of range"},
	} {
		err := c.cfg.Validate()
		if (c.want == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", c.cfg, err, c.want)
		}
	}
}

func TestPolicyValidate(t *testing.T) {
	for _, p := range Policies() {
		if err := p.Validate(); err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}
	if err := Policy("everyone").Validate(); err == nil || err.Error() != `"everyone" is not one of consent, objections` {
		t.Errorf("unknown policy: %v", err)
	}
}
