package consent

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// csvNow is "today" for the CSV tests: school year 2025/26.
var csvNow = time.Date(2025, 10, 15, 14, 0, 0, 0, time.FixedZone("CEST", 2*3600))

func day(s string) time.Time {
	t, err := time.Parse(dateLayout, s)
	if err != nil {
		panic(err)
	}
	return t
}

// parsePeople reads an export as of csvNow without a column mapping.
func parsePeople(r io.Reader) ([]Person, error) {
	f, err := ParseConsentCSV(r, CSVOptions{Now: csvNow})
	if err != nil {
		return nil, err
	}
	return f.People, nil
}

func mustParse(t *testing.T, csvText string) []Person {
	t.Helper()
	people, err := parsePeople(strings.NewReader(csvText))
	if err != nil {
		t.Fatalf("ParseConsentCSV: %v", err)
	}
	return people
}

func parseErr(t *testing.T, csvText string) *CSVError {
	t.Helper()
	people, err := parsePeople(strings.NewReader(csvText))
	if err == nil {
		t.Fatalf("ParseConsentCSV accepted a bad file, gave %d people", len(people))
	}
	if people != nil {
		t.Errorf("rejected file still returned %d people", len(people))
	}
	var ce *CSVError
	if !errors.As(err, &ce) {
		t.Fatalf("error is %T, want *CSVError: %v", err, err)
	}
	if !errors.Is(err, ErrInvalid) {
		t.Errorf("errors.Is(err, ErrInvalid) = false")
	}
	return ce
}

const enHeader = "pupil_id,first_name,last_name,group,website,social_media,newsletter,parent_portal,confirmed_on"

func TestParseExampleExport(t *testing.T) {
	f, err := os.Open(filepath.Join("..", "..", "testdata", "registry", "consent-export-nl.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	people, err := parsePeople(f)
	if err != nil {
		t.Fatalf("example export rejected: %v", err)
	}
	if len(people) != 12 {
		t.Fatalf("got %d people, want 12", len(people))
	}
	byID := map[string]Person{}
	for _, p := range people {
		byID[p.ID] = p
	}
	zoe := byID["100245"]
	if zoe.FirstName != "Zoë" || zoe.Infix != "de" || zoe.LastName != "Vries" || zoe.Group != "groep 5" || zoe.Role != RolePupil {
		t.Errorf("100245 parsed wrong: %q %q %q %q %q", zoe.FirstName, zoe.Infix, zoe.LastName, zoe.Group, zoe.Role)
	}
	if c := zoe.Consent[ChannelSocialMedia]; !c.Given || !c.ConfirmedOn.Equal(day("2025-09-01")) {
		t.Errorf("100245 social media = %+v", c)
	}
	if c := byID["100246"].Consent[ChannelWebsite]; !c.Given || !c.ConfirmedOn.Equal(day("2025-09-04")) {
		t.Errorf("100246 (D-M-YYYY date, 'Ja') website = %+v", c)
	}
	if c := byID["100246"].Consent[ChannelSocialMedia]; c.Given {
		t.Errorf("100246 'Nee' parsed as yes")
	}
	lotte := byID["100247"]
	for _, ch := range Channels() {
		if c := lotte.Consent[ch]; c.Given || !c.ConfirmedOn.IsZero() {
			t.Errorf("100247 (empty cells) %s = %+v, want no consent without date", ch, c)
		}
	}
	if p, ok := byID["100282"]; !ok || p.FirstName != "Lucas" || p.LastName != "de Graaf" || p.Infix != "" {
		t.Errorf("padded row: ok=%v first=%q last=%q", ok, p.FirstName, p.LastName)
	}
	if p := byID["P-017"]; p.Role != RoleStaff || p.Group != "" {
		t.Errorf("P-017 role=%q group=%q, want staff without group", p.Role, p.Group)
	}
	if p := byID["100265"]; p.LastName != "Öztürk" || !p.Consent[ChannelWebsite].Given {
		t.Errorf("100265 'JA' or UTF-8 name lost")
	}
}

// row builds one CSV line.
func row(delim string, fields ...string) string { return strings.Join(fields, delim) + "\n" }

func TestParseHeaderVariants(t *testing.T) {
	std := []string{"1001", "Sanne", "Bakker", "groep 3", "ja", "nee", "ja", "nee", "2025-09-02"}
	tests := []struct {
		name   string
		header []string
		delim  string
		prefix string
	}{
		{"english comma", strings.Split(enHeader, ","), ",", ""},
		{"dutch semicolon", []string{"leerlingnummer", "voornaam", "achternaam", "groep", "website", "sociale_media", "nieuwsbrief", "ouderportaal", "bevestigd_op"}, ";", ""},
		{"leerling_id datum", []string{"leerling_id", "voornaam", "achternaam", "groep", "website", "social_media", "nieuwsbrief", "ouderportaal", "datum"}, ";", ""},
		{"case and spaces", []string{"  Pupil ID ", "First Name", "LAST NAME", " Group", "WebSite", "Social Media", "NewsLetter", "Parent Portal", " Confirmed On "}, ",", ""},
		{"excel labels", []string{"Leerling-nummer", "Roepnaam", "Achternaam", "Klas", "Toestemming website", "Toestemming sociale media", "Toestemming nieuwsbrief", "Toestemming ouderportaal", "Datum bevestigd"}, ";", ""},
		{"quoted headers", []string{`"pupil_id"`, `"first_name"`, `"last_name"`, `"group"`, `"website"`, `"social_media"`, `"newsletter"`, `"parent_portal"`, `"confirmed_on"`}, ",", ""},
		{"utf-8 bom", strings.Split(enHeader, ","), ";", "\ufeff"},
		{"tab", strings.Split(enHeader, ","), "\t", ""},
		{"suffix consent", []string{"student_id", "firstname", "surname", "class", "website_consent", "social_media_consent", "newsletter_consent", "parent_portal_consent", "date"}, ",", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			text := tc.prefix + row(tc.delim, tc.header...) + row(tc.delim, std...)
			people := mustParse(t, text)
			if len(people) != 1 {
				t.Fatalf("got %d people", len(people))
			}
			p := people[0]
			if p.ID != "1001" || p.FirstName != "Sanne" || p.LastName != "Bakker" || p.Group != "groep 3" || p.Role != RolePupil {
				t.Errorf("got %q %q %q %q %q", p.ID, p.FirstName, p.LastName, p.Group, p.Role)
			}
			want := map[string]bool{ChannelWebsite: true, ChannelSocialMedia: false, ChannelNewsletter: true, ChannelParentPortal: false}
			for ch, w := range want {
				c := p.Consent[ch]
				if c.Given != w || !c.ConfirmedOn.Equal(day("2025-09-02")) {
					t.Errorf("%s = %+v, want given=%v on 2025-09-02", ch, c, w)
				}
			}
		})
	}
}

func TestParseOptionalColumns(t *testing.T) {
	text := "leerlingnummer;voornaam;tussenvoegsel;achternaam;groep;rol;website;sociale media;nieuwsbrief;ouderportaal;datum\n" +
		"1;Daan;van;Dijk;groep 3;leerling;ja;ja;ja;ja;01-09-2025\n" +
		"2;Karin;;Meijer;;personeel;ja;ja;ja;ja;01-09-2025\n" +
		"3;Kees;van der;Berg;;Staff;ja;ja;ja;ja;01-09-2025\n" +
		"4;Iris;;Bos;groep 4;PUPIL;ja;ja;ja;ja;01-09-2025\n" +
		"5;Tim;;Kok;groep 4;;ja;ja;ja;ja;01-09-2025\n"
	people := mustParse(t, text)
	want := []struct {
		infix string
		role  Role
	}{{"van", RolePupil}, {"", RoleStaff}, {"van der", RoleStaff}, {"", RolePupil}, {"", RolePupil}}
	for i, w := range want {
		if people[i].Infix != w.infix || people[i].Role != w.role {
			t.Errorf("row %d: infix %q role %q, want %q %q", i+1, people[i].Infix, people[i].Role, w.infix, w.role)
		}
	}
}

func TestParseValueVariants(t *testing.T) {
	yes := []string{"yes", "YES", "Yes", "ja", "Ja", "JA", "j", "J", "y", "1", "true", "TRUE", "waar", "Waar", " ja "}
	no := []string{"no", "NO", "nee", "Nee", "n", "N", "0", "false", "False", "onwaar", "ONWAAR", ""}
	bad := []string{"x", "2", "misschien", "yes please", "ok", "-", "nee?"}
	for _, v := range yes {
		p := mustParse(t, enHeader+"\n1,A,B,g,"+v+",no,no,no,2025-09-01\n")[0]
		if !p.Consent[ChannelWebsite].Given {
			t.Errorf("%q parsed as no", v)
		}
	}
	for _, v := range no {
		p := mustParse(t, enHeader+"\n1,A,B,g,"+v+",no,no,no,2025-09-01\n")[0]
		if p.Consent[ChannelWebsite].Given {
			t.Errorf("%q parsed as yes", v)
		}
	}
	for _, v := range bad {
		ce := parseErr(t, enHeader+"\n1,A,B,g,yes,"+v+",no,no,2025-09-01\n")
		if len(ce.Problems) != 1 || ce.Problems[0].Line != 2 || ce.Problems[0].Column != ChannelSocialMedia {
			t.Errorf("%q: problems %v, want one on line 2 column social_media", v, ce.Problems)
		}
	}
}

func TestParseDateVariants(t *testing.T) {
	good := map[string]string{
		"2025-09-01":      "2025-09-01",
		"01-09-2025":      "2025-09-01",
		"1-9-2025":        "2025-09-01",
		"01/09/2025":      "2025-09-01",
		"2025/09/01":      "2025-09-01",
		"01.09.2025":      "2025-09-01",
		"2025-9-1":        "2025-09-01",
		"15-10-2025":      "2025-10-15", // today
		"01-09-2025 0:00": "2025-09-01",
		"29-02-2024":      "2024-02-29",
		" 2025-09-01 ":    "2025-09-01",
	}
	for in, want := range good {
		p := mustParse(t, enHeader+"\n1,A,B,g,yes,no,no,no,"+in+"\n")[0]
		if got := p.Consent[ChannelWebsite].ConfirmedOn; !got.Equal(day(want)) {
			t.Errorf("%q -> %v, want %s", in, got, want)
		}
	}
	bad := []string{"2025-13-01", "31-02-2025", "29-02-2025", "01-09-25", "2025-09", "sept 1 2025", "01-09/2025", "00-09-2025",
		"16-10-2025" /* tomorrow */, "2030-01-01", "01-01-1999", "20250901"}
	for _, in := range bad {
		ce := parseErr(t, enHeader+"\n1,A,B,g,yes,no,no,no,"+in+"\n")
		if len(ce.Problems) != 1 || ce.Problems[0].Line != 2 || ce.Problems[0].Column != colConfirmed {
			t.Errorf("%q: problems %v, want one on line 2 column confirmed_on", in, ce.Problems)
		}
	}
}

func TestParseMalformed(t *testing.T) {
	type want struct {
		line int
		col  string
		msg  string
	}
	tests := []struct {
		name string
		text string
		want []want
	}{
		{"no consent column", "pupil_id,first_name,last_name,group,confirmed_on\n1,A,B,g,2025-09-01\n",
			[]want{{1, "", "no consent column"}}},
		{"missing id column", "voornaam;achternaam;website;sociale media;nieuwsbrief;ouderportaal;datum\nA;B;ja;ja;ja;ja;01-09-2025\n",
			[]want{{1, colID, "missing column"}}},
		{"two missing columns", "pupil_id,first_name,last_name,website,social_media\n1,A,B,yes,no\n",
			[]want{{1, colConfirmed, "missing"}}},
		{"duplicate header", "pupil_id,leerlingnummer,first_name,last_name,group,website,social_media,newsletter,parent_portal,confirmed_on\n",
			[]want{{1, colID, "both mean"}}},
		{"bad value", enHeader + "\n1,A,B,g,yes,no,no,no,2025-09-01\n2,C,D,g,yes,no,maybe,no,2025-09-01\n",
			[]want{{3, ChannelNewsletter, "not yes/no"}}},
		{"bad date", enHeader + "\n1,A,B,g,yes,no,no,no,2025-02-30\n",
			[]want{{2, colConfirmed, "no such day"}}},
		{"future date", enHeader + "\n1,A,B,g,yes,no,no,no,2025-09-01\n2,C,D,g,yes,no,no,no,2026-01-01\n",
			[]want{{3, colConfirmed, "in the future"}}},
		{"yes without date", enHeader + "\n1,A,B,g,no,no,yes,no,\n",
			[]want{{2, colConfirmed, "no date"}}},
		{"duplicate id", enHeader + "\n7,A,B,g,yes,no,no,no,2025-09-01\n8,C,D,g,yes,no,no,no,2025-09-01\n7,E,F,g,no,no,no,no,2025-09-01\n",
			[]want{{4, colID, "duplicate id 7 (also on line 2)"}}},
		{"empty id", enHeader + "\n1,A,B,g,yes,no,no,no,2025-09-01\n ,C,D,g,yes,no,no,no,2025-09-01\n",
			[]want{{3, colID, "empty id"}}},
		{"invalid id", enHeader + "\n1 2,A,B,g,yes,no,no,no,2025-09-01\n",
			[]want{{2, colID, "id must be"}}},
		{"empty first name", enHeader + "\n1,,B,g,yes,no,no,no,2025-09-01\n",
			[]want{{2, colFirstName, "empty first name"}}},
		{"bad role", "pupil_id,first_name,last_name,group,role,website,social_media,newsletter,parent_portal,confirmed_on\n1,A,B,g,ouder,yes,no,no,no,2025-09-01\n",
			[]want{{2, colRole, "not a role"}}},
		{"too few fields", enHeader + "\n1,A,B,g,yes,no,no\n",
			[]want{{2, "", "7 fields, the header has 9"}}},
		{"too many fields", enHeader + "\n1,A,B,g,yes,no,no,no,2025-09-01,extra\n",
			[]want{{2, "", "10 fields, the header has 9"}}},
		{"bare quote", enHeader + "\n1,A,B\"x,g,yes,no,no,no,2025-09-01\n2,C,D,g,yes,no,no,no,2025-13-01\n",
			[]want{{2, "", "bare \""}, {3, colConfirmed, "not a date"}}},
		{"empty file", "", []want{{0, "", "empty"}}},
		{"only bom and blank lines", "\ufeff\n\n", []want{{0, "", "empty"}}},
		{"header only", enHeader + "\n", []want{{0, "", "no rows"}}},
		{"line numbers count blank lines", enHeader + "\n\n1,A,B,g,yes,no,no,no,2025-09-01\n\n\n2,C,D,g,ja,ja,huh,no,2025-09-01\n",
			[]want{{6, ChannelNewsletter, "not yes/no"}}},
		{"line numbers count quoted newlines", enHeader + ",opmerking\n1,A,B,g,yes,no,no,no,2025-09-01,\"two\nlines\"\n2,C,D,g,yes,no,no,no,x,\n",
			[]want{{4, colConfirmed, "not a date"}}},
		{"newline in a name", enHeader + "\n1,\"A\nB\",C,g,yes,no,no,no,2025-09-01\n",
			[]want{{2, colFirstName, "control character"}}},
		{"control character", enHeader + "\n1,A\x07,B,g,yes,no,no,no,2025-09-01\n",
			[]want{{2, colFirstName, "control character"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ce := parseErr(t, tc.text)
			if len(ce.Problems) != len(tc.want) {
				t.Fatalf("got %d problems, want %d:\n%v", len(ce.Problems), len(tc.want), ce)
			}
			for i, w := range tc.want {
				p := ce.Problems[i]
				if p.Line != w.line || p.Column != w.col || !strings.Contains(p.Msg, w.msg) {
					t.Errorf("problem %d = {line %d, column %q, %q}, want {line %d, column %q, ~%q}", i, p.Line, p.Column, p.Msg, w.line, w.col, w.msg)
				}
			}
			if msg := ce.Error(); !strings.Contains(msg, "nothing imported") {
				t.Errorf("error does not say nothing was imported: %s", msg)
			}
		})
	}
}

func TestParseListsEveryProblem(t *testing.T) {
	text := enHeader + "\n" +
		"1,Sanne,Bakker,g3,ja,nee,ja,ja,2025-09-01\n" +
		"2,Daan,Dijk,g3,ja,nee,misschien,ja,2025-09-01\n" + // line 3: bad value
		"3,Zoe,Vries,g5,ja,ja,ja,ja,31-09-2025\n" + // line 4: bad date
		"1,Finn,Berg,g5,ja,ja,ja,ja,2025-09-01\n" // line 5: duplicate id
	ce := parseErr(t, text)
	if len(ce.Problems) != 3 {
		t.Fatalf("got %d problems, want 3:\n%v", len(ce.Problems), ce)
	}
	for i, line := range []int{3, 4, 5} {
		if ce.Problems[i].Line != line {
			t.Errorf("problem %d on line %d, want %d", i, ce.Problems[i].Line, line)
		}
		if !strings.Contains(ce.Error(), "line "+string(rune('0'+line))+", column ") {
			t.Errorf("message lacks line %d:\n%s", line, ce.Error())
		}
	}
	if !strings.Contains(ce.Error(), "3 problems") {
		t.Errorf("message does not count 3 problems:\n%s", ce.Error())
	}
}

func TestParseProblemCap(t *testing.T) {
	var b strings.Builder
	b.WriteString(enHeader + "\n")
	for i := 0; i < maxListedProblems+50; i++ {
		b.WriteString("1,A,B,g,yes,no,no,no,bad\n")
	}
	ce := parseErr(t, b.String())
	if len(ce.Problems) != maxListedProblems || ce.More == 0 {
		t.Errorf("listed %d, more %d", len(ce.Problems), ce.More)
	}
}

// TestParseErrorsNameNoNames: problem messages point at lines and columns;
// they never repeat a name, even when a row is shifted so that a name lands
// in a date or consent column.
func TestParseErrorsNameNoNames(t *testing.T) {
	text := enHeader + "\n" +
		"1,Wilhelmina,Oosterhuis,g3,Wilhelmina,nee,ja,ja,2025-09-01\n" +
		"2,Bartholomeus,Vanderkerkhof,g3,ja,nee,ja,ja,Vanderkerkhof\n" +
		"3,Cornelia,Zwanenburg,g3,ja,nee,ja,Zwanenburg\n" +
		"4,Wilhelmina,Oosterhuis\",g3,ja,nee,ja,ja,2025-09-01\n" +
		"Hendrikus Jansen,Hendrikus,Jansen,g3,ja,nee,ja,ja,2025-09-01\n" +
		"5,Gerarda,Kloosterboer,g3,ja,nee,ja,ja,\n"
	ce := parseErr(t, text)
	msg := ce.Error()
	for _, name := range []string{"Wilhelmina", "Oosterhuis", "Bartholomeus", "Vanderkerkhof", "Cornelia", "Zwanenburg", "Hendrikus", "Jansen", "Gerarda", "Kloosterboer"} {
		if strings.Contains(msg, name) {
			t.Errorf("error contains the name %q:\n%s", name, msg)
		}
	}
	if len(ce.Problems) < 5 {
		t.Errorf("expected at least 5 problems, got:\n%s", msg)
	}
}

func TestParseEncodings(t *testing.T) {
	// Windows-1252, as Excel's plain "CSV" export writes it: ë is 0xEB.
	cp := []byte("leerlingnummer;voornaam;achternaam;groep;website;sociale media;nieuwsbrief;ouderportaal;datum\r\n" +
		"1;Zo\xeb;\x8ckinderen;groep 5;ja;ja;ja;ja;01-09-2025\r\n")
	people, err := parsePeople(strings.NewReader(string(cp)))
	if err != nil {
		t.Fatal(err)
	}
	if people[0].FirstName != "Zoë" || people[0].LastName != "Œkinderen" {
		t.Errorf("windows-1252: got %q %q", people[0].FirstName, people[0].LastName)
	}
	// UTF-16LE with BOM and tabs: Excel's "Unicode text".
	text := "pupil_id\tfirst_name\tlast_name\tgroup\twebsite\tsocial_media\tnewsletter\tparent_portal\tconfirmed_on\r\n" +
		"1\tAnaïs\tDijk\tg\tja\tnee\tja\tja\t2025-09-01\r\n"
	var u16 []byte
	u16 = append(u16, 0xFF, 0xFE)
	for _, r := range text {
		u16 = append(u16, byte(r), byte(r>>8))
	}
	people, err = parsePeople(strings.NewReader(string(u16)))
	if err != nil {
		t.Fatal(err)
	}
	if people[0].FirstName != "Anaïs" || !people[0].Consent[ChannelWebsite].Given {
		t.Errorf("utf-16: got %q", people[0].FirstName)
	}
}

func TestParseIgnoresExtraColumnsAndEmptyRows(t *testing.T) {
	text := "pupil_id;geboortedatum;first_name;last_name;group;website;social_media;newsletter;parent_portal;confirmed_on;adres\n" +
		";;;;;;;;;;\n" +
		"1;01-01-2017;A;B;g;ja;nee;ja;ja;01-09-2025;Dorpsstraat 1\n" +
		"2;01-01-2017;C;D;g;ja;nee;ja;ja;01-09-2025;\n" +
		"3;01-01-2017;E;F;g;ja;nee;ja;ja;01-09-2025;;;\n"
	if n := len(mustParse(t, text)); n != 3 {
		t.Errorf("got %d people, want 3", n)
	}
}
