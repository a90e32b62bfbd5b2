package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/photoguard/photoguard/detect/tuning"
	"github.com/photoguard/photoguard/pipeline/consent"
)

func TestReferenceDates(t *testing.T) {
	now := time.Date(2026, 12, 8, 0, 0, 0, 0, time.UTC)
	at := func(y int) consent.Reference {
		return consent.Reference{AddedAt: time.Date(y, 9, 1, 0, 0, 0, 0, time.UTC)}
	}
	for _, c := range []struct {
		refs           []consent.Reference
		newest, oldest string
	}{
		{[]consent.Reference{at(2026), at(2025)}, "2026-09-01", "2025-09-01"},
		{[]consent.Reference{at(2023)}, "2023-09-01 (too old to show)", "2023-09-01 (too old to show)"},
		{[]consent.Reference{{}}, "unknown", "unknown"},
		{[]consent.Reference{at(2026), {}}, "2026-09-01", "unknown"},
	} {
		n, o := referenceDates(c.refs, now)
		if n != c.newest || o != c.oldest {
			t.Errorf("%v: %q, %q; want %q, %q", c.refs, n, o, c.newest, c.oldest)
		}
	}
	var out bytes.Buffer
	printReferences(&out, []tuning.Spread{{ID: "a", References: 3, Portrait: 2, Review: 1, Faded: 1, Oldest: at(2023).AddedAt}, {ID: "b", References: 1, UnknownSource: 1, UnknownDate: 1}})
	for _, want := range []string{"1 to 3 (median 3)", "2 from portraits, 1 confirmed on the review page, 1 of unknown source", "oldest 2023-09-01", "1 undated", "1 older than the reference age"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("tune's references line lacks %q:\n%s", want, out.String())
		}
	}
}
