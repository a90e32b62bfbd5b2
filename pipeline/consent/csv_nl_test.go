package consent

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func parseWith(t *testing.T, text string, columns map[string]string) (*CSVFile, error) {
	t.Helper()
	return ParseConsentCSV(strings.NewReader(text), CSVOptions{Now: csvNow, Columns: columns,
		SchoolYearStart: SchoolYearStart(csvNow, 8, 1)})
}

// A Magister export as Excel saves it when asked for ';': a "sep=;" first
// line, Stamnr, Roepnaam beside Voornamen (Roepnaam wins), Tussenv., Klas,
// "Foto's op de website"-style consent columns and a column it ignores.
func TestParseMagisterExport(t *testing.T) {
	f, err := os.Open(filepath.Join("..", "..", "testdata", "registry", "consent-export-magister.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	file, err := ParseConsentCSV(f, CSVOptions{Now: csvNow})
	if err != nil {
		t.Fatalf("Magister export rejected: %v", err)
	}
	if len(file.People) != 4 {
		t.Fatalf("%d people, want 4", len(file.People))
	}
	daan := file.People[1]
	if daan.ID != "20232" || daan.FirstName != "Daan" || daan.Infix != "van" || daan.Group != "1A" {
		t.Errorf("20232 read as %q %q %q %q", daan.ID, daan.FirstName, daan.Infix, daan.Group)
	}
	want := map[string]bool{ChannelWebsite: false, ChannelSocialMedia: false, ChannelNewsletter: true, ChannelParentPortal: true}
	for ch, yes := range want {
		if c := daan.Consent[ch]; c.Given != yes || !c.ConfirmedOn.Equal(day("2025-09-03")) {
			t.Errorf("20232 %s = %+v, want %v on 2025-09-03", ch, c, yes)
		}
	}
	// 20245 said yes on 12-06-2025: last school year. A warning by id.
	if len(file.Warnings) != 1 || file.Warnings[0].ID != "20245" || file.Warnings[0].Line != 5 ||
		!strings.Contains(file.Warnings[0].Msg, "before this school year began (2025-08-01): it counts as no consent") {
		t.Errorf("warnings %v", file.Warnings)
	}
	for _, w := range file.Warnings {
		if strings.Contains(w.String(), "Zoë") || strings.Contains(w.String(), "Vries") {
			t.Errorf("warning names a pupil: %s", w)
		}
	}
}

func TestParseDutchHeaders(t *testing.T) {
	cases := map[string]string{
		"parnassys":  "Leerlingnummer;Roepnaam;Tussenvoegsel;Achternaam;Groep;Toestemming website;Toestemming social media;Nieuwsbrief;Ouderportaal;Datum toestemming",
		"esis":       "Leerlingnummer;Voornaam;Voorvoegsel;Achternaam;Groep;Foto's en video's op de website;Foto’s op sociale media;Foto's in de nieuwsbrief (ja/nee);Beeldmateriaal ouderportaal;Bevestigd op",
		"magister":   "Stamnummer;Roepnaam;Tussenv;Achternaam;Stamklas;Mag op website;Mag op Facebook;Mag in nieuwsbrief;Parro;Toestemming gegeven op",
		"excel sep":  "sep=;\nStamnr;Roepnaam;Achternaam;Klas;Website;Social media;Nieuwsbrief;Ouderportaal;Datum",
		"quoted sep": "\"sep=;\"\r\nStamnr;Roepnaam;Achternaam;Klas;Website;Social media;Nieuwsbrief;Ouderportaal;Datum",
	}
	for name, header := range cases {
		t.Run(name, func(t *testing.T) {
			n := strings.Count(header[strings.LastIndexByte(header, '\n')+1:], ";") + 1
			vals := []string{"1001", "Sanne", "Bakker", "g3", "ja", "nee", "ja", "nee", "02-09-2025"}
			if n == 10 {
				vals = []string{"1001", "Sanne", "", "Bakker", "g3", "ja", "nee", "ja", "nee", "02-09-2025"}
			}
			f, err := parseWith(t, header+"\n"+strings.Join(vals, ";")+"\n", nil)
			if err != nil {
				t.Fatal(err)
			}
			p := f.People[0]
			if p.ID != "1001" || p.FirstName != "Sanne" || p.LastName != "Bakker" || p.Group != "g3" ||
				!p.Consent[ChannelWebsite].Given || p.Consent[ChannelSocialMedia].Given || !p.Consent[ChannelNewsletter].Given ||
				p.Consent[ChannelParentPortal].Given || !p.Consent[ChannelWebsite].ConfirmedOn.Equal(day("2025-09-02")) {
				t.Errorf("read as %+v %+v", p.ID, p.Consent)
			}
		})
	}
}

// Line numbers stay the file's own after Excel's "sep=" line.
func TestParseExcelSepLineNumbers(t *testing.T) {
	_, err := parseWith(t, "sep=,\n"+enHeader+"\n1,A,B,g,yes,no,huh,no,2025-09-01\n", nil)
	var ce *CSVError
	if !errors.As(err, &ce) || len(ce.Problems) != 1 || ce.Problems[0].Line != 3 {
		t.Fatalf("%v, want one problem on line 3", err)
	}
}

// consent.columns names the columns of an export photoguard does not know;
// a mapped column wins over one that only its name suggests.
func TestParseColumnMapping(t *testing.T) {
	header := "Nummer leerling;ID;Roepnaam;Achternaam;Mag op website;Mag op Facebook;Mag in nieuwsbrief;Mag in de app;Getekend"
	rowText := "\n1001;77;Sanne;Bakker;ja;nee;ja;ja;02-09-2025\n"
	mapping := map[string]string{"id": "Nummer leerling", "parent_portal": "mag in de app", "confirmed_on": "Getekend"}
	f, err := parseWith(t, header+rowText, mapping)
	if err != nil {
		t.Fatal(err)
	}
	if p := f.People[0]; p.ID != "1001" || !p.Consent[ChannelParentPortal].Given || p.Consent[ChannelSocialMedia].Given {
		t.Errorf("mapped export read as %s %+v", p.ID, p.Consent)
	}

	// Without the mapping: the problems quote the file's own header.
	_, err = parseWith(t, header+rowText, nil)
	var ce *CSVError
	if !errors.As(err, &ce) {
		t.Fatalf("unmapped export: %v", err)
	}
	msg := ce.Error()
	for _, want := range []string{`missing column confirmed_on: none of "Nummer leerling", "ID", "Roepnaam"`, "or name it in consent.columns"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q:\n%s", want, msg)
		}
	}

	// A mapping to a header the file lacks, and an unknown key.
	_, err = parseWith(t, header+rowText, map[string]string{"id": "Leerlingnr", "parent_portal": "Mag in de app", "confirmed_on": "Getekend"})
	if err == nil || !strings.Contains(err.Error(), `consent.columns maps id to "Leerlingnr", but the header has no such column (it has "Nummer leerling", "ID"`) {
		t.Errorf("mapping to a missing header: %v", err)
	}
	if _, err := parseWith(t, header+rowText, map[string]string{"pupil": "ID"}); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), `"pupil" is not a column`) {
		t.Errorf("unknown mapping key: %v", err)
	}
	if err := CheckColumns(map[string]string{"website": "Mag op website", "social_media": "mag op  Website"}); err == nil ||
		!strings.Contains(err.Error(), "social_media and website both name the header") {
		t.Errorf("one header for two columns: %v", err)
	}
}

func TestParseSameColumnTwice(t *testing.T) {
	header := "Leerlingnummer;Roepnaam;Achternaam;Website;Foto's op de website;Social media;Nieuwsbrief;Ouderportaal;Datum"
	rowText := "\n1001;Sanne;Bakker;nee;ja;nee;ja;ja;02-09-2025\n"
	_, err := parseWith(t, header+rowText, nil)
	if err == nil || !strings.Contains(err.Error(), `columns 4 ("Website") and 5 ("Foto's op de website") both mean website; say which one in consent.columns`) {
		t.Fatalf("two website columns: %v", err)
	}
	f, err := parseWith(t, header+rowText, map[string]string{"website": "Foto's op de website"})
	if err != nil || !f.People[0].Consent[ChannelWebsite].Given {
		t.Errorf("mapped: %v", err)
	}
}

// Problems name the line, the column's number and the file's own header,
// and quote the bad value unless it may be a name.
func TestParseProblemsQuoteTheFile(t *testing.T) {
	header := "Leerlingnummer;Roepnaam;Achternaam;Groep;Foto's op de website;Social media;Nieuwsbrief;Ouderportaal;Datum toestemming"
	text := header + "\n" +
		"1001;Sanne;Bakker;g3;misschien;nee;ja;ja;02-09-2025\n" +
		"1002;Daan\x07;Dijk;g3;ja;nee;ja;ja;31-09-2025\n" +
		"1003;Wilhelmina;Oosterhuis;g3;ja;Oosterhuis;ja;ja;02-09-2025\n"
	_, err := parseWith(t, text, nil)
	if err == nil {
		t.Fatal("accepted")
	}
	msg := err.Error()
	for _, want := range []string{
		`line 2, column 5 ("Foto's op de website"): "misschien" is not yes/no`,
		`line 3, column 2 ("Roepnaam"): (name) contains a control character`,
		`line 3, column 9 ("Datum toestemming"): "31-09-2025" is not a date (no such day)`,
		`line 4, column 6 ("Social media"): (a name?) is not yes/no`,
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q:\n%s", want, msg)
		}
	}
	for _, name := range []string{"Daan", "Oosterhuis", "Wilhelmina"} {
		if strings.Contains(msg, name) {
			t.Errorf("message names %s:\n%s", name, msg)
		}
	}
}

// A file without its header line: the first row is data, and nothing of it
// is shown.
func TestParseHeaderMissing(t *testing.T) {
	_, err := parseWith(t, "100231;Wilhelmina;;Oosterhuis;groep 3;ja;nee;ja;ja;02-09-2025\n100232;Daan;van;Dijk;groep 3;ja;ja;ja;ja;02-09-2025\n", nil)
	if err == nil || !strings.Contains(err.Error(), "line 1: this is not a header") || strings.Contains(err.Error(), "Wilhelmina") {
		t.Errorf("%v", err)
	}
}

// 02/09/2025 may be 9 February (month first, as American exports write):
// warned about by id, unless another date of the file can only be day
// first.
func TestParseAmbiguousDates(t *testing.T) {
	f, err := parseWith(t, enHeader+"\n1,A,B,g,yes,no,no,no,02/09/2025\n2,C,D,g,yes,no,no,no,10/10/2025\n3,E,F,g,yes,no,no,no,2025-09-03\n", nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Warnings) != 1 || f.Warnings[0].ID != "1" || !strings.Contains(f.Warnings[0].Msg, `"02/09/2025" is read as 2 September 2025 (day/month/year); if the export writes month/day/year it means 9 February 2025`) {
		t.Errorf("warnings %v", f.Warnings)
	}
	f, err = parseWith(t, enHeader+"\n1,A,B,g,yes,no,no,no,02/09/2025\n2,C,D,g,yes,no,no,no,13/09/2025\n", nil)
	if err != nil || len(f.Warnings) != 0 {
		t.Errorf("a file that is day first by its own dates: %v %v", f.Warnings, err)
	}
	// 09/01/2026 as of January 2026: 9 January is in the school year, 1
	// September is in the future; warned as ambiguous.
	f, err = ParseConsentCSV(strings.NewReader(enHeader+"\n1,A,B,g,yes,no,no,no,09/01/2026\n"),
		CSVOptions{Now: day("2026-01-20")})
	if err != nil || len(f.Warnings) != 1 || !strings.Contains(f.Warnings[0].String(), "line 2, 1: the date \"09/01/2026\" is read as 9 January 2026") {
		t.Errorf("09/01/2026: %v %v", f, err)
	}
}

// A yes confirmed before the school year began is imported (it is the
// export's truth) but counts as no consent: warned about per pupil id, and
// not for a no.
func TestParseWarnsEarlierSchoolYear(t *testing.T) {
	f, err := parseWith(t, enHeader+"\n1,A,B,g,yes,no,no,no,2025-06-12\n2,C,D,g,no,no,no,no,2025-06-12\n3,E,F,g,yes,no,no,no,2025-08-01\n", nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Warnings) != 1 || f.Warnings[0].ID != "1" || f.Warnings[0].Line != 2 {
		t.Errorf("warnings %v", f.Warnings)
	}
	s := openStore(t, t.TempDir(), testKey(t))
	mustImport(t, s, f.People...)
	if ok, why := s.Snapshot().Consent("1", ChannelWebsite, csvNow); ok || why != ReasonEarlierYear {
		t.Errorf("consent from June: %v %s", ok, why)
	}
}
