package consent

import (
	"errors"
	"testing"
	"time"
)

func TestSchoolYearStart(t *testing.T) {
	ams := time.FixedZone("CEST", 2*3600)
	tests := []struct {
		now        time.Time
		month      time.Month
		day        int
		wantStarts string
	}{
		{time.Date(2025, 10, 15, 12, 0, 0, 0, ams), time.August, 1, "2025-08-01"},
		{time.Date(2025, 8, 1, 0, 0, 0, 0, ams), time.August, 1, "2025-08-01"},
		{time.Date(2025, 7, 31, 23, 59, 0, 0, ams), time.August, 1, "2024-08-01"},
		{time.Date(2026, 1, 5, 9, 0, 0, 0, ams), time.August, 1, "2025-08-01"},
		{time.Date(2026, 7, 31, 9, 0, 0, 0, ams), time.August, 1, "2025-08-01"},
		// 00:30 in Amsterdam is still 31 July in UTC: the local date counts.
		{time.Date(2025, 8, 1, 0, 30, 0, 0, ams), time.August, 1, "2025-08-01"},
		{time.Date(2025, 8, 20, 0, 0, 0, 0, ams), time.September, 1, "2024-09-01"},
		{time.Date(2025, 9, 1, 0, 0, 0, 0, ams), time.September, 1, "2025-09-01"},
	}
	for _, tc := range tests {
		if got := SchoolYearStart(tc.now, tc.month, tc.day); !got.Equal(day(tc.wantStarts)) {
			t.Errorf("SchoolYearStart(%v, %v %d) = %v, want %s", tc.now, tc.month, tc.day, got, tc.wantStarts)
		}
	}
}

// snapOf builds a snapshot straight from rows, for table tests.
func snapOf(opt options, people ...Person) *Snapshot {
	st := newState()
	for _, p := range people {
		st.people[p.ID] = &personRec{Person: p.clone()}
	}
	return newSnapshot(st, opt)
}

var defaultOpts = options{yearMonth: time.August, yearDay: 1, now: time.Now}

func TestConsentValidity(t *testing.T) {
	ams := time.FixedZone("CEST", 2*3600)
	oct := time.Date(2025, 10, 15, 12, 0, 0, 0, ams)
	revoked := person("rev", "R", "R", false, "2025-09-01")
	c := revoked.Consent[ChannelWebsite]
	c.Revoked, c.RevokedOn = true, day("2025-10-01")
	revoked.Consent[ChannelWebsite] = c
	onlyWebsite := Person{ID: "web", FirstName: "W", Role: RolePupil, Consent: map[string]ChannelConsent{
		ChannelWebsite: {Given: true, ConfirmedOn: day("2025-09-01")}}}
	noDate := Person{ID: "nodate", FirstName: "N", Role: RolePupil, Consent: map[string]ChannelConsent{
		ChannelWebsite: {Given: true}}}
	snap := snapOf(defaultOpts,
		person("cur", "A", "A", true, "2025-09-01"),
		person("first-day", "A", "A", true, "2025-08-01"),
		person("last-day-before", "A", "A", true, "2025-07-31"),
		person("last-year", "A", "A", true, "2024-09-01"),
		person("said-no", "A", "A", false, "2025-09-01"),
		person("future", "A", "A", true, "2025-10-16"),
		person("today", "A", "A", true, "2025-10-15"),
		revoked, onlyWebsite, noDate,
	)
	tests := []struct {
		id, channel string
		now         time.Time
		ok          bool
		why         string
	}{
		{"cur", ChannelWebsite, oct, true, ReasonConsent},
		{"cur", ChannelParentPortal, oct, true, ReasonConsent},
		{"first-day", ChannelNewsletter, oct, true, ReasonConsent},
		{"last-day-before", ChannelNewsletter, oct, false, ReasonEarlierYear},
		{"last-year", ChannelWebsite, oct, false, ReasonEarlierYear},
		// The same consent was still valid in July 2025 ...
		{"last-year", ChannelWebsite, time.Date(2025, 7, 31, 23, 0, 0, 0, ams), true, ReasonConsent},
		// ... and not from the first minute of 1 August (local time).
		{"last-year", ChannelWebsite, time.Date(2025, 8, 1, 0, 1, 0, 0, ams), false, ReasonEarlierYear},
		{"cur", ChannelWebsite, time.Date(2026, 8, 1, 9, 0, 0, 0, ams), false, ReasonEarlierYear},
		{"said-no", ChannelWebsite, oct, false, ReasonNoConsent},
		{"future", ChannelWebsite, oct, false, ReasonFutureDate},
		{"today", ChannelWebsite, oct, true, ReasonConsent},
		{"rev", ChannelWebsite, oct, false, ReasonRevoked},
		{"rev", ChannelSocialMedia, oct, false, ReasonNoConsent},
		{"web", ChannelWebsite, oct, true, ReasonConsent},
		{"web", ChannelSocialMedia, oct, false, ReasonNoConsent}, // no row for the channel
		{"nodate", ChannelWebsite, oct, false, ReasonNoConsent},
		{"missing", ChannelWebsite, oct, false, ReasonNotInStore},
		{"", ChannelWebsite, oct, false, ReasonNotInStore},
		{"cur", "instagram", oct, false, ReasonUnknownChannel},
		{"cur", "", oct, false, ReasonUnknownChannel},
		{"cur", "Website", oct, false, ReasonUnknownChannel},
	}
	for _, tc := range tests {
		ok, why := snap.status(tc.id, tc.channel, tc.now)
		if ok != tc.ok || why != tc.why {
			t.Errorf("Consent(%q, %q, %v) = %v, %q; want %v, %q", tc.id, tc.channel, tc.now, ok, why, tc.ok, tc.why)
		}
	}
}

func TestConsentSchoolYearParameter(t *testing.T) {
	opt := defaultOpts
	opt.yearMonth, opt.yearDay = time.September, 1
	snap := snapOf(opt, person("a", "A", "A", true, "2025-08-15"))
	if ok, _ := snap.Consent("a", ChannelWebsite, time.Date(2025, 8, 20, 12, 0, 0, 0, time.UTC)); !ok {
		t.Errorf("with a 1 September start, consent of 15 Aug is valid on 20 Aug")
	}
	if ok, why := snap.Consent("a", ChannelWebsite, time.Date(2025, 9, 1, 12, 0, 0, 0, time.UTC)); ok || why != ReasonEarlierYear {
		t.Errorf("with a 1 September start, consent of 15 Aug is void from 1 Sep: %v %q", ok, why)
	}
	def := snapOf(defaultOpts, person("a", "A", "A", true, "2025-08-15"))
	if ok, _ := def.Consent("a", ChannelWebsite, time.Date(2025, 9, 1, 12, 0, 0, 0, time.UTC)); !ok {
		t.Errorf("default 1 August start: consent of 15 Aug valid on 1 Sep")
	}

	dir := t.TempDir()
	if _, err := Open(dir, testKey(t), WithSchoolYearStart(time.February, 30)); err == nil {
		t.Errorf("Open accepted 30 February as school-year start")
	}
	s := openStore(t, dir, testKey(t), WithSchoolYearStart(time.September, 1))
	if got := s.Snapshot().SchoolYearStart(time.Date(2025, 8, 20, 0, 0, 0, 0, time.UTC)); !got.Equal(day("2024-09-01")) {
		t.Errorf("store option not used: %v", got)
	}
}

func TestNilAndFailedSnapshotSayNo(t *testing.T) {
	var nilSnap *Snapshot
	if ok, why := nilSnap.Consent("a", ChannelWebsite, testNow); ok || why != ReasonUnavailable {
		t.Errorf("nil snapshot: %v %q", ok, why)
	}
	if nilSnap.People() != nil || nilSnap.Objections(sha("x")) != nil {
		t.Errorf("nil snapshot returns people or objections")
	}
	failed := &Snapshot{st: newState(), opt: defaultOpts, err: ErrCorrupt}
	if ok, why := failed.Consent("a", ChannelWebsite, testNow); ok || why != ReasonUnavailable {
		t.Errorf("failed snapshot: %v %q", ok, why)
	}
}

func TestRevokeAndReimport(t *testing.T) {
	dir := t.TempDir()
	k := testKey(t)
	clock := time.Date(2025, 10, 1, 10, 0, 0, 0, time.UTC)
	s := openStore(t, dir, k, WithClock(func() time.Time { return clock }))
	mustImport(t, s, person("1", "A", "A", true, "2025-09-01"), person("2", "B", "B", true, "2025-09-01"))

	if _, err := s.Revoke("1", ChannelWebsite); err != nil {
		t.Fatal(err)
	}
	check := func(step, id, ch string, wantOK bool, wantWhy string) {
		t.Helper()
		if ok, why := s.Snapshot().status(id, ch, clock); ok != wantOK || why != wantWhy {
			t.Errorf("%s: Consent(%s, %s) = %v %q, want %v %q", step, id, ch, ok, why, wantOK, wantWhy)
		}
	}
	check("after revoke", "1", ChannelWebsite, false, ReasonRevoked)
	check("after revoke", "1", ChannelNewsletter, true, ReasonConsent)
	check("after revoke", "2", ChannelWebsite, true, ReasonConsent)

	// A second Store (another process) sees the revocation.
	other := openStore(t, dir, k)
	if ok, why := other.Snapshot().Consent("1", ChannelWebsite, clock); ok || why != ReasonRevoked {
		t.Errorf("other store: %v %q", ok, why)
	}

	// Re-importing the same export (yes, confirmed 1 Sep) does not undo it.
	clock = clock.Add(24 * time.Hour)
	rep := mustImport(t, s, person("1", "A", "A", true, "2025-09-01"), person("2", "B", "B", true, "2025-09-01"))
	if rep.RevocationsKept != 1 {
		t.Errorf("RevocationsKept = %d, want 1", rep.RevocationsKept)
	}
	check("same export again", "1", ChannelWebsite, false, ReasonRevoked)

	// Nor does a yes confirmed on the day of the revocation.
	mustImport(t, s, person("1", "A", "A", true, "2025-10-01"), person("2", "B", "B", true, "2025-09-01"))
	check("yes dated on the revocation day", "1", ChannelWebsite, false, ReasonRevoked)

	// An import saying no keeps it revoked, and a later old yes still does not resurrect it.
	mustImport(t, s, person("1", "A", "A", false, "2025-10-02"), person("2", "B", "B", true, "2025-09-01"))
	check("import says no", "1", ChannelWebsite, false, ReasonRevoked)

	// A yes confirmed after the revocation ends it.
	mustImport(t, s, person("1", "A", "A", true, "2025-10-02"), person("2", "B", "B", true, "2025-09-01"))
	check("newer yes", "1", ChannelWebsite, true, ReasonConsent)

	// Revoking again later moves the date on.
	clock = time.Date(2025, 11, 1, 9, 0, 0, 0, time.UTC)
	if _, err := s.Revoke("1", ChannelWebsite); err != nil {
		t.Fatal(err)
	}
	mustImport(t, s, person("1", "A", "A", true, "2025-10-20"), person("2", "B", "B", true, "2025-09-01"))
	check("yes older than the second revocation", "1", ChannelWebsite, false, ReasonRevoked)

	if _, err := s.Revoke("nobody", ChannelWebsite); !errors.Is(err, ErrNotInStore) {
		t.Errorf("Revoke unknown id: %v", err)
	}
	if _, err := s.Revoke("1", "tiktok"); !errors.Is(err, ErrUnknownChannel) {
		t.Errorf("Revoke unknown channel: %v", err)
	}
}

func TestExampleExportConsent(t *testing.T) {
	people := exampleExport(t)
	s := openStore(t, t.TempDir(), testKey(t))
	rep := mustImport(t, s, people...)
	if rep.Added != 12 || rep.People != 12 {
		t.Errorf("report %+v", rep)
	}
	snap := s.Snapshot()
	tests := []struct {
		id, ch string
		ok     bool
		why    string
	}{
		{"100231", ChannelWebsite, true, ReasonConsent},
		{"100231", ChannelSocialMedia, false, ReasonNoConsent},
		{"100247", ChannelNewsletter, false, ReasonNoConsent},
		{"100250", ChannelWebsite, false, ReasonEarlierYear},
		{"P-017", ChannelSocialMedia, true, ReasonConsent},
		{"100263", ChannelParentPortal, false, ReasonNoConsent},
		{"999999", ChannelWebsite, false, ReasonNotInStore},
	}
	for _, tc := range tests {
		if ok, why := snap.status(tc.id, tc.ch, csvNow); ok != tc.ok || why != tc.why {
			t.Errorf("Consent(%s, %s) = %v %q, want %v %q", tc.id, tc.ch, ok, why, tc.ok, tc.why)
		}
	}
}
