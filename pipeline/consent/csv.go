package consent

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// MaxCSVSize bounds a consent CSV (a school's export is a few hundred KB).
const MaxCSVSize = 32 << 20

// maxListedProblems bounds how many problems a CSVError lists.
const maxListedProblems = 200

// Problem is one thing wrong in a consent CSV. Messages name the line and the
// column, never the content of a name cell.
type Problem struct {
	Line   int    // 1-based line in the file (0: the file as a whole)
	Column string // canonical column name, or "" for the row or file
	Msg    string
}

func (p Problem) String() string {
	var b strings.Builder
	if p.Line > 0 {
		fmt.Fprintf(&b, "line %d: ", p.Line)
	}
	if p.Column != "" {
		fmt.Fprintf(&b, "column %s: ", p.Column)
	}
	b.WriteString(p.Msg)
	return b.String()
}

// CSVError rejects a consent CSV as a whole and lists every problem found.
type CSVError struct {
	Problems []Problem
	// More counts problems found beyond those listed.
	More int
}

func (e *CSVError) Error() string {
	var b strings.Builder
	n := len(e.Problems) + e.More
	fmt.Fprintf(&b, "registry: consent CSV rejected, nothing imported: %d problem", n)
	if n != 1 {
		b.WriteString("s")
	}
	for _, p := range e.Problems {
		b.WriteString("\n  ")
		b.WriteString(p.String())
	}
	if e.More > 0 {
		fmt.Fprintf(&b, "\n  ... and %d more", e.More)
	}
	return b.String()
}

// Is makes errors.Is(err, ErrInvalid) true for a CSVError.
func (e *CSVError) Is(target error) bool { return target == ErrInvalid }

// Canonical column names.
const (
	colID        = "pupil_id"
	colFirstName = "first_name"
	colInfix     = "tussenvoegsel"
	colLastName  = "last_name"
	colGroup     = "group"
	colRole      = "role"
	colConfirmed = "confirmed_on"
)

// headerAliases maps a normalised header (lower case, runs of spaces, '-',
// '.' and '/' as one '_') to its canonical column.
var headerAliases = map[string]string{}

func init() {
	add := func(canon string, names ...string) {
		headerAliases[canon] = canon
		for _, n := range names {
			headerAliases[n] = canon
		}
	}
	add(colID, "id", "pupilid", "student_id", "studentid", "leerlingnummer", "leerling_nummer", "leerling_id", "leerlingid",
		"llnr", "ll_nr", "staff_id", "personeelsnummer", "person_id", "persoon_id")
	add(colFirstName, "firstname", "given_name", "voornaam", "roepnaam")
	add(colInfix, "tussenvoegsels", "infix", "voorvoegsel", "prefix")
	add(colLastName, "lastname", "surname", "family_name", "achternaam")
	add(colGroup, "class", "groep", "klas", "stamgroep", "groepsnaam")
	add(colRole, "rol")
	add(ChannelWebsite, "site")
	add(ChannelSocialMedia, "socialmedia", "sociale_media", "socialemedia", "social")
	add(ChannelNewsletter, "nieuwsbrief")
	add(ChannelParentPortal, "parentportal", "ouderportaal", "ouder_portaal", "portal")
	add(colConfirmed, "confirmed", "confirmation_date", "date", "bevestigd_op", "bevestigd", "datum", "datum_bevestigd",
		"datum_bevestiging", "bevestigingsdatum", "toestemmingsdatum", "datum_toestemming", "toestemming_datum")
}

var requiredColumns = []string{colID, colFirstName, colLastName,
	ChannelWebsite, ChannelSocialMedia, ChannelNewsletter, ChannelParentPortal, colConfirmed}

func normHeader(h string) string {
	h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
	var b strings.Builder
	sep := false
	for _, r := range h {
		if r == ' ' || r == '-' || r == '.' || r == '/' || r == '_' || r == '\t' {
			sep = true
			continue
		}
		if sep && b.Len() > 0 {
			b.WriteByte('_')
		}
		sep = false
		b.WriteRune(r)
	}
	return b.String()
}

func canonicalColumn(h string) (string, bool) {
	n := normHeader(h)
	if c, ok := headerAliases[n]; ok {
		return c, true
	}
	// "toestemming website", "consent_newsletter", "website_consent"
	for _, affix := range []string{"toestemming_", "consent_"} {
		if c, ok := headerAliases[strings.TrimPrefix(n, affix)]; ok && strings.HasPrefix(n, affix) && KnownChannel(c) {
			return c, true
		}
	}
	for _, affix := range []string{"_toestemming", "_consent"} {
		if c, ok := headerAliases[strings.TrimSuffix(n, affix)]; ok && strings.HasSuffix(n, affix) && KnownChannel(c) {
			return c, true
		}
	}
	return "", false
}

// ParseConsentCSV parses a consent export from the school administration
// system (ParnasSys, Esis, Magister style): one row per person with an id,
// names, group, a yes/no column per channel and the date consent was
// confirmed. Dutch and English headers, ',' ';' or tab as delimiter, a BOM,
// UTF-16 and Windows-1252 (old Excel) are accepted; see the package tests
// for every variant. An empty consent cell is no. A date is required when a
// row says yes anywhere, and may not lie after now.
//
// Any problem rejects the whole file: the error is a *CSVError listing every
// problem with its line number.
func ParseConsentCSV(r io.Reader, now time.Time) ([]Person, error) {
	raw, err := io.ReadAll(io.LimitReader(r, MaxCSVSize+1))
	if err != nil {
		return nil, fmt.Errorf("registry: reading consent CSV: %w", err)
	}
	if len(raw) > MaxCSVSize {
		return nil, &CSVError{Problems: []Problem{{Msg: fmt.Sprintf("file is larger than %d MB", MaxCSVSize>>20)}}}
	}
	text := decodeText(raw)

	delim := detectDelimiter(text)
	cr := csv.NewReader(strings.NewReader(text))
	cr.Comma = delim
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = false

	var problems []Problem
	more := 0
	report := func(line int, col, msg string) {
		if len(problems) < maxListedProblems {
			problems = append(problems, Problem{Line: line, Column: col, Msg: msg})
		} else {
			more++
		}
	}
	fail := func() error { return &CSVError{Problems: problems, More: more} }

	// Header: the first record.
	var header []string
	headerLine := 1
	for header == nil {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			report(0, "", "the file is empty")
			return nil, fail()
		}
		if err != nil {
			report(parseErrLine(err, 1), "", "header: "+csvErrMsg(err))
			return nil, fail()
		}
		if allEmpty(rec) {
			continue
		}
		header = rec
		headerLine, _ = cr.FieldPos(0)
	}
	colIndex := map[string]int{}
	for i, h := range header {
		c, ok := canonicalColumn(h)
		if !ok {
			continue // other columns of the export (birth date, address, ...) are ignored
		}
		if j, dup := colIndex[c]; dup {
			report(headerLine, c, fmt.Sprintf("columns %d and %d both mean %s", j+1, i+1, c))
			continue
		}
		colIndex[c] = i
	}
	for _, c := range requiredColumns {
		if _, ok := colIndex[c]; !ok {
			report(headerLine, c, "missing column ("+acceptedNames(c)+")")
		}
	}
	if len(problems) > 0 {
		return nil, fail()
	}

	today := civilDate(now)
	var people []Person
	seen := map[string]int{}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			report(parseErrLine(err, 0), "", csvErrMsg(err))
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				continue // the reader goes on after the bad record: list later problems too
			}
			break
		}
		line, _ := cr.FieldPos(0)
		if allEmpty(rec) {
			continue // Excel writes ";;;;;;" for empty rows
		}
		if len(rec) < len(header) {
			report(line, "", fmt.Sprintf("%d fields, the header has %d", len(rec), len(header)))
			continue
		}
		if !allEmpty(rec[len(header):]) {
			report(line, "", fmt.Sprintf("%d fields, the header has %d", len(rec), len(header)))
			continue
		}
		get := func(c string) string {
			i, ok := colIndex[c]
			if !ok {
				return ""
			}
			return strings.TrimSpace(rec[i])
		}
		p := Person{Role: RolePupil, Consent: make(map[string]ChannelConsent, 4)}
		rowOK := true
		bad := func(col, msg string) { report(line, col, msg); rowOK = false }

		p.ID = get(colID)
		switch {
		case p.ID == "":
			bad(colID, "empty id")
		case !validID(p.ID):
			bad(colID, "id must be 1 to 64 letters, digits, '.', '_' or '-'")
		default:
			if first, dup := seen[p.ID]; dup {
				bad(colID, fmt.Sprintf("duplicate id (also on line %d)", first))
			} else {
				seen[p.ID] = line
			}
		}
		p.FirstName, p.Infix, p.LastName, p.Group = get(colFirstName), get(colInfix), get(colLastName), get(colGroup)
		if p.FirstName == "" {
			bad(colFirstName, "empty first name")
		}
		for _, f := range []struct{ col, v string }{{colFirstName, p.FirstName}, {colInfix, p.Infix}, {colLastName, p.LastName}, {colGroup, p.Group}} {
			if len(f.v) > 200 {
				bad(f.col, "longer than 200 bytes")
			} else if strings.ContainsFunc(f.v, unicode.IsControl) {
				bad(f.col, "contains a control character")
			}
		}
		if v := get(colRole); v != "" {
			role, ok := parseRole(v)
			if !ok {
				bad(colRole, "not a role (leerling/pupil or personeel/staff)")
			}
			p.Role = role
		}
		anyYes := false
		for _, ch := range Channels() {
			v := get(ch)
			if v == "" {
				p.Consent[ch] = ChannelConsent{Given: false}
				continue
			}
			yes, ok := parseYesNo(v)
			if !ok {
				bad(ch, "not yes/no (yes/no, ja/nee, j/n, 1/0, true/false, waar/onwaar)")
				continue
			}
			anyYes = anyYes || yes
			p.Consent[ch] = ChannelConsent{Given: yes}
		}
		var date time.Time
		if v := get(colConfirmed); v != "" {
			d, err := parseCSVDate(v)
			switch {
			case err != nil:
				bad(colConfirmed, err.Error())
			case d.After(today):
				bad(colConfirmed, fmt.Sprintf("date %s is in the future", d.Format(dateLayout)))
			default:
				date = d
			}
		} else if anyYes {
			bad(colConfirmed, "no date, but consent is given (a yes needs the date it was confirmed)")
		}
		if !rowOK {
			continue
		}
		for ch, c := range p.Consent {
			if c.Given || !date.IsZero() {
				c.ConfirmedOn = date
				p.Consent[ch] = c
			}
		}
		if len(people) >= MaxPeople {
			report(line, "", fmt.Sprintf("more than %d people", MaxPeople))
			break
		}
		people = append(people, p)
	}
	if len(problems) > 0 {
		return nil, fail()
	}
	if len(people) == 0 {
		report(0, "", "no rows after the header")
		return nil, fail()
	}
	return people, nil
}

func acceptedNames(canon string) string {
	var names []string
	for n, c := range headerAliases {
		if c == canon && n != canon {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	if len(names) == 0 {
		return "expected " + canon
	}
	return "expected " + canon + " or " + strings.Join(names, ", ")
}

func allEmpty(rec []string) bool {
	for _, f := range rec {
		if strings.TrimSpace(f) != "" {
			return false
		}
	}
	return true
}

// parseErrLine finds the line of a csv error.
func parseErrLine(err error, def int) int {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		if pe.StartLine > 0 {
			return pe.StartLine
		}
		return pe.Line
	}
	return def
}

// csvErrMsg describes a csv syntax error without quoting the content.
func csvErrMsg(err error) string {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		if pe.StartLine > 0 && pe.StartLine != pe.Line {
			return fmt.Sprintf("%v (quoted field runs on to line %d)", pe.Err, pe.Line)
		}
		return fmt.Sprintf("%v (column %d)", pe.Err, pe.Column)
	}
	return err.Error()
}

func parseYesNo(v string) (yes, ok bool) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "yes", "y", "ja", "j", "1", "true", "waar":
		return true, true
	case "no", "n", "nee", "0", "false", "onwaar":
		return false, true
	}
	return false, false
}

func parseRole(v string) (Role, bool) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "pupil", "leerling", "student":
		return RolePupil, true
	case "staff", "personeel", "medewerker", "leerkracht", "teacher":
		return RoleStaff, true
	}
	return "", false
}

// parseCSVDate accepts YYYY-MM-DD and DD-MM-YYYY with '-', '/' or '.',
// single-digit days and months, and a trailing time that Excel may add
// ("01-09-2025 0:00"). Two-digit years are refused as ambiguous.
func parseCSVDate(v string) (time.Time, error) {
	s := strings.TrimSpace(v)
	if i := strings.IndexAny(s, " T"); i > 0 && isTimeOfDay(s[i+1:]) {
		s = s[:i]
	}
	if !isDateChars(s) {
		return time.Time{}, errors.New("not a date (use YYYY-MM-DD or DD-MM-YYYY)")
	}
	quoted := fmt.Sprintf("%q", s) // only digits and separators: safe to show
	var sep string
	for _, c := range []string{"-", "/", "."} {
		if strings.Count(s, c) == 2 {
			sep = c
		}
	}
	parts := strings.Split(s, sep)
	if sep == "" || len(parts) != 3 {
		return time.Time{}, fmt.Errorf("%s is not a date (use YYYY-MM-DD or DD-MM-YYYY)", quoted)
	}
	var ys, ms, ds string
	switch {
	case len(parts[0]) == 4 && len(parts[1]) <= 2 && len(parts[2]) <= 2:
		ys, ms, ds = parts[0], parts[1], parts[2]
	case len(parts[2]) == 4 && len(parts[0]) <= 2 && len(parts[1]) <= 2:
		ds, ms, ys = parts[0], parts[1], parts[2]
	default:
		return time.Time{}, fmt.Errorf("%s is not a date (use YYYY-MM-DD or DD-MM-YYYY)", quoted)
	}
	y, e1 := strconv.Atoi(ys)
	m, e2 := strconv.Atoi(ms)
	d, e3 := strconv.Atoi(ds)
	if e1 != nil || e2 != nil || e3 != nil || m < 1 || m > 12 || d < 1 {
		return time.Time{}, fmt.Errorf("%s is not a date", quoted)
	}
	t := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
	if t.Day() != d {
		return time.Time{}, fmt.Errorf("%s is not a date (no such day)", quoted)
	}
	if y < 2000 {
		return time.Time{}, fmt.Errorf("%s is before 2000", quoted)
	}
	return t, nil
}

func isDateChars(s string) bool {
	if s == "" || len(s) > 10 {
		return false
	}
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c == '-' || c == '/' || c == '.') {
			return false
		}
	}
	return true
}

func isTimeOfDay(s string) bool {
	if s == "" || len(s) > 12 {
		return false
	}
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c == ':' || c == '.') {
			return false
		}
	}
	return strings.Contains(s, ":")
}

// detectDelimiter picks ';', ',' or tab by counting them (outside quotes) in
// the first non-empty line. Dutch Excel writes ';'.
func detectDelimiter(text string) rune {
	counts := map[rune]int{}
	inQuote := false
	seenText := false
	for _, r := range text {
		if r == '"' {
			inQuote = !inQuote
		}
		if inQuote {
			continue
		}
		if r == '\n' || r == '\r' {
			if seenText {
				break
			}
			continue
		}
		seenText = true
		if r == ';' || r == ',' || r == '\t' {
			counts[r]++
		}
	}
	best, n := ',', 0
	for _, r := range []rune{';', ',', '\t'} {
		if counts[r] > n {
			best, n = r, counts[r]
		}
	}
	return best
}

// decodeText turns the file into UTF-8: it drops a UTF-8 BOM, decodes UTF-16
// with a BOM, and reads anything that is not valid UTF-8 as Windows-1252
// (what Excel's plain "CSV" export writes), so "Zoë" survives either way.
func decodeText(b []byte) string {
	switch {
	case bytes.HasPrefix(b, []byte{0xEF, 0xBB, 0xBF}):
		b = b[3:]
	case bytes.HasPrefix(b, []byte{0xFF, 0xFE}), bytes.HasPrefix(b, []byte{0xFE, 0xFF}):
		le := b[0] == 0xFF
		b = b[2:]
		u := make([]uint16, len(b)/2)
		for i := range u {
			if le {
				u[i] = uint16(b[2*i]) | uint16(b[2*i+1])<<8
			} else {
				u[i] = uint16(b[2*i])<<8 | uint16(b[2*i+1])
			}
		}
		return string(utf16.Decode(u))
	}
	if utf8.Valid(b) {
		return string(b)
	}
	var sb strings.Builder
	sb.Grow(len(b) + len(b)/8)
	for _, c := range b {
		if c >= 0x80 && c < 0xA0 {
			sb.WriteRune(cp1252[c-0x80])
		} else {
			sb.WriteRune(rune(c))
		}
	}
	return sb.String()
}

// cp1252 maps bytes 0x80..0x9F of Windows-1252; the rest is Latin-1.
var cp1252 = [32]rune{
	'€', '\u0081', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\u008D', 'Ž', '\u008F',
	'\u0090', '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\u009D', 'ž', 'Ÿ',
}
