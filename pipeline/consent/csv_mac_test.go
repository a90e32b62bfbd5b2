package consent

import (
	"errors"
	"strings"
	"testing"
)

// Issue 19: a register saved as Excel's "CSV (Macintosh)" ends its lines
// with CR only. It is read like any other; and a file whose first "line"
// holds rows of data never has its names quoted in a problem.
func TestMacLineEnds(t *testing.T) {
	rows := []string{
		"Leerlingnummer;Roepnaam;Achternaam;Groep;Website;Sociale media;Nieuwsbrief;Ouderportaal;Datum toestemming",
		"1001;Sanne;Bakker;groep 5;ja;nee;ja;ja;02-09-2025",
		"1002;Daan;Visser;groep 5;nee;nee;ja;nee;02-09-2025",
	}
	f, err := parseWith(t, strings.Join(rows, "\r")+"\r", nil)
	if err != nil {
		t.Fatalf("CR-only register: %v", err)
	}
	if len(f.People) != 2 || f.People[1].ID != "1002" || !f.People[0].Consent[ChannelWebsite].Given || f.People[1].Consent[ChannelWebsite].Given {
		t.Errorf("CR-only register read as %+v", f.People)
	}
	// CRLF still works, and a CR inside a quoted cell of a CRLF file stays.
	if f, err := parseWith(t, strings.Join(rows, "\r\n")+"\r\n", nil); err != nil || len(f.People) != 2 {
		t.Errorf("CRLF register: %v", err)
	}

	// A CR-only file with a column missing: the problem names the header's
	// columns, never a pupil's name.
	bad := strings.Replace(strings.Join(rows, "\r"), "Datum toestemming", "Getekend", 1)
	_, err = parseWith(t, bad, nil)
	var ce *CSVError
	if !errors.As(err, &ce) || !strings.Contains(ce.Error(), "missing column confirmed_on") {
		t.Fatalf("CR-only register without a date column: %v", err)
	}
	for _, name := range []string{"Sanne", "Bakker", "Daan", "Visser"} {
		if strings.Contains(ce.Error(), name) {
			t.Errorf("the problem quotes the name %q:\n%s", name, ce.Error())
		}
	}
}

// A header field that holds a line break or is very long is not a column
// name (a header line that swallowed rows of data): it is counted, never
// quoted.
func TestQuotedListHidesDataFields(t *testing.T) {
	got := quotedList([]string{"Leerlingnummer", "Datum\rSanne", strings.Repeat("Bakker ", 20), "Website"})
	if got != `"Leerlingnummer", "Website", and 2 fields not shown (they may hold names)` {
		t.Errorf("quotedList: %s", got)
	}
}

// A register without one of the four channel columns is imported: the
// channel is no consent for everyone, said once as a warning (not per row).
func TestMissingChannelColumnIsNoConsent(t *testing.T) {
	text := "pupil_id,first_name,last_name,group,website,social_media,newsletter,confirmed_on\n" +
		"1,A,B,g,yes,no,yes,2025-09-01\n2,C,D,g,yes,no,no,2025-09-01\n"
	f, err := parseWith(t, text, nil)
	if err != nil {
		t.Fatalf("register without parent_portal: %v", err)
	}
	for _, p := range f.People {
		if p.Consent[ChannelParentPortal].Given || !p.Consent[ChannelWebsite].Given {
			t.Errorf("%s: %+v", p.ID, p.Consent)
		}
	}
	n := 0
	for _, w := range f.Warnings {
		if strings.Contains(w.String(), "no column for parent_portal") {
			n++
			if w.String() != "line 1: no column for parent_portal: nobody in this file has consent for parent_portal (add the column, or name it in consent.columns)" {
				t.Errorf("warning: %s", w)
			}
		}
	}
	if n != 1 {
		t.Errorf("%d warnings about parent_portal, want 1: %v", n, f.Warnings)
	}
}
