package consent

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode"
)

// maxCSVSize bounds a consent CSV (a school's export is a few hundred KB).
const maxCSVSize = 32 << 20

// maxListedProblems bounds how many problems a CSVError lists.
const maxListedProblems = 200

// Problem is one thing wrong in a consent CSV. It names the line, the
// column (by its number and the file's own header) and, where it cannot be
// personal data, the bad value; a name column's value is shown as "(name)".
type Problem struct {
	Line   int    // 1-based line in the file (0: the file as a whole)
	Field  int    // 1-based column number (0: the row or the file)
	Header string // the file's own header of that column
	Column string // photoguard's name of the column (columnNames), or ""
	Msg    string
}

func (p Problem) String() string {
	var b strings.Builder
	if p.Line > 0 {
		fmt.Fprintf(&b, "line %d", p.Line)
	}
	switch {
	case p.Field > 0 && p.Header != "":
		fmt.Fprintf(&b, ", column %d (%q)", p.Field, p.Header)
	case p.Field > 0:
		fmt.Fprintf(&b, ", column %d", p.Field)
	}
	if b.Len() > 0 {
		b.WriteString(": ")
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
	fmt.Fprintf(&b, "consent CSV rejected, nothing imported: %d problem", n)
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

// problems collects a file's problems, up to maxListedProblems.
type problems struct {
	list []Problem
	more int
}

func (p *problems) add(pr Problem) {
	if len(p.list) < maxListedProblems {
		p.list = append(p.list, pr)
	} else {
		p.more++
	}
}

func (p *problems) count() int { return len(p.list) + p.more }

func (p *problems) err() error { return &CSVError{Problems: p.list, More: p.more} }

// Warning is something in an export that is imported but deserves a look,
// by pupil id (never a name).
type Warning struct {
	Line int
	ID   string
	Msg  string
}

func (w Warning) String() string {
	if w.ID == "" {
		return fmt.Sprintf("line %d: %s", w.Line, w.Msg) // about the file, not a row
	}
	return fmt.Sprintf("line %d, %s: %s", w.Line, w.ID, w.Msg)
}

// CSVOptions say how to read a consent export.
type CSVOptions struct {
	// Now is today: a confirmation date after it is refused.
	Now time.Time
	// SchoolYearStart is the first day of the school year Now is in
	// (Snapshot.SchoolYearStart); a yes confirmed before it counts as no
	// consent and is warned about. Zero: 1 August.
	SchoolYearStart time.Time
	// Columns maps column names (columnNames) to the export's own headers,
	// for exports whose headers photoguard does not know (consent.columns).
	Columns map[string]string
}

// CSVFile is a consent export as read.
type CSVFile struct {
	People   []Person
	Warnings []Warning
}

// ParseConsentCSV reads a consent export from the school administration
// system (ParnasSys, ESIS, Magister and others): one row per person with
// an id, names, group, a yes/no column per channel and the date consent was
// confirmed. Dutch and English headers, ',' ';' or tab as delimiter,
// Excel's "sep=;" first line, a BOM, UTF-16 and Windows-1252 (old Excel)
// are accepted; see the package tests for every variant. An empty consent
// cell is no. A date is required when a row says yes anywhere, and may not
// lie after Now.
//
// Any problem rejects the whole file: the error is a *CSVError listing every
// problem by line and column.
func ParseConsentCSV(r io.Reader, opt CSVOptions) (*CSVFile, error) {
	if err := CheckColumns(opt.Columns); err != nil {
		return nil, fmt.Errorf("%w: consent.columns: %v", ErrInvalid, err)
	}
	if opt.SchoolYearStart.IsZero() {
		opt.SchoolYearStart = SchoolYearStart(opt.Now, time.August, 1)
	}
	raw, err := io.ReadAll(io.LimitReader(r, maxCSVSize+1))
	if err != nil {
		return nil, fmt.Errorf("consent CSV: reading: %w", err)
	}
	var p problems
	if len(raw) > maxCSVSize {
		p.add(Problem{Msg: fmt.Sprintf("file is larger than %d MB", maxCSVSize>>20)})
		return nil, p.err()
	}
	recs, lines := readRecords(decodeText(raw), &p)
	if len(recs) == 0 {
		if p.count() == 0 {
			p.add(Problem{Msg: "the file is empty"})
		}
		return nil, p.err()
	}
	cols, ok := mapHeader(recs[0], lines[0], opt.Columns, &p)
	if !ok {
		return nil, p.err()
	}
	rp := rowParser{cols: cols, opt: opt, p: &p, seen: map[string]int{}, names: nameWords(recs[1:], cols)}
	var people []Person
	for i, rec := range recs[1:] {
		person, ok := rp.parse(rec, lines[i+1])
		if !ok {
			continue
		}
		if len(people) >= MaxPeople {
			p.add(Problem{Line: lines[i+1], Msg: fmt.Sprintf("more than %d people", MaxPeople)})
			break
		}
		people = append(people, person)
	}
	if p.count() > 0 {
		return nil, p.err()
	}
	if len(people) == 0 {
		p.add(Problem{Msg: "no rows after the header"})
		return nil, p.err()
	}
	var warnings []Warning
	for _, ch := range cols.noColumn {
		warnings = append(warnings, Warning{Line: lines[0], Msg: fmt.Sprintf(
			"no column for %s: nobody in this file has consent for %s (add the column, or name it in consent.columns)", ch, ch)})
	}
	return &CSVFile{People: people, Warnings: append(warnings, rp.warnings()...)}, nil
}

// readRecords splits the text into its non-empty records and their lines.
// Syntax errors are problems; the reader goes on after them, so that later
// problems are listed too.
func readRecords(text string, p *problems) (recs [][]string, lines []int) {
	text = macLineEnds(text)
	delim := ','
	if rest, d, ok := excelSep(text); ok {
		text, delim = rest, d
	} else {
		delim = detectDelimiter(text)
	}
	cr := csv.NewReader(strings.NewReader(text))
	cr.Comma = delim
	cr.FieldsPerRecord = -1
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return recs, lines
		}
		if err != nil {
			p.add(Problem{Line: parseErrLine(err), Msg: csvErrMsg(err, recs == nil)})
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				continue
			}
			return recs, lines
		}
		if allEmpty(rec) {
			continue // Excel writes ";;;;;;" for empty rows
		}
		line, _ := cr.FieldPos(0)
		recs = append(recs, rec)
		lines = append(lines, line)
	}
}

// macLineEnds turns the line ends of a file saved with carriage returns
// only (Excel's "CSV (Macintosh)", old Mac editors) into newlines: without
// a single newline in the file, every CR ends a line. (A CR before a
// newline is the ordinary CRLF, which the CSV reader takes.)
func macLineEnds(text string) string {
	if strings.Contains(text, "\n") || !strings.Contains(text, "\r") {
		return text
	}
	return strings.ReplaceAll(text, "\r", "\n")
}

// rowParser reads the rows after the header.
type rowParser struct {
	cols  *columns
	opt   CSVOptions
	p     *problems
	seen  map[string]int  // id -> line
	names map[string]bool // every word of every name cell, lower case

	early     []Warning // consent confirmed before the school year
	ambiguous []Warning // dates that could be month first
	dayFirst  bool      // some '/' date can only be day first
}

// parse reads one row; ok is false when it has a problem.
func (rp *rowParser) parse(rec []string, line int) (Person, bool) {
	c := rp.cols
	if n := len(c.header); len(rec) < n || !allEmpty(rec[n:]) {
		rp.p.add(Problem{Line: line, Msg: fmt.Sprintf("%d fields, the header has %d", len(rec), n)})
		return Person{}, false
	}
	ok := true
	bad := func(col, msg string) {
		i := c.index[col]
		rp.p.add(Problem{Line: line, Field: i + 1, Header: c.fieldName(i), Column: col, Msg: msg})
		ok = false
	}
	get := func(col string) string {
		if i, found := c.index[col]; found {
			return strings.TrimSpace(rec[i])
		}
		return ""
	}
	p := Person{Role: RolePupil, Consent: make(map[string]ChannelConsent, 4)}
	p.ID = get(colID)
	switch {
	case p.ID == "":
		bad(colID, "empty id")
	case !validID(p.ID):
		bad(colID, "id must be 1 to 64 letters, digits, '.', '_' or '-' (the value is not shown: it may be a name)")
	default:
		if first, dup := rp.seen[p.ID]; dup {
			bad(colID, fmt.Sprintf("duplicate id %s (also on line %d)", p.ID, first))
		} else {
			rp.seen[p.ID] = line
		}
	}
	p.FirstName, p.Infix, p.LastName, p.Group = get(colFirstName), get(colInfix), get(colLastName), get(colGroup)
	if p.FirstName == "" {
		bad(colFirstName, "empty first name")
	}
	for _, f := range []struct{ col, v string }{{colFirstName, p.FirstName}, {colInfix, p.Infix}, {colLastName, p.LastName}, {colGroup, p.Group}} {
		if len(f.v) > 200 {
			bad(f.col, rp.shown(f.col, f.v)+" is longer than 200 bytes")
		} else if strings.ContainsFunc(f.v, unicode.IsControl) {
			bad(f.col, rp.shown(f.col, f.v)+" contains a control character")
		}
	}
	if v := get(colRole); v != "" {
		role, known := parseRole(v)
		if !known {
			bad(colRole, rp.shown(colRole, v)+" is not a role (leerling/pupil or personeel/staff)")
		}
		p.Role = role
	}
	anyYes := false
	for _, ch := range Channels() {
		v := get(ch)
		yes, known := parseYesNo(v)
		if !known {
			bad(ch, rp.shown(ch, v)+" is not yes/no (yes/no, ja/nee, j/n, 1/0, true/false, waar/onwaar)")
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
		case d.t.After(civilDate(rp.opt.Now)):
			bad(colConfirmed, fmt.Sprintf("%q is in the future", v))
		default:
			date = d.t
			rp.noteDate(line, p.ID, v, d, anyYes)
		}
	} else if anyYes {
		bad(colConfirmed, "no date, but consent is given (a yes needs the date it was confirmed)")
	}
	if !ok {
		return Person{}, false
	}
	for ch, cc := range p.Consent {
		if cc.Given || !date.IsZero() {
			cc.ConfirmedOn = date
			p.Consent[ch] = cc
		}
	}
	return p, true
}

// noteDate keeps the warnings a good date may deserve.
func (rp *rowParser) noteDate(line int, id, v string, d csvDate, anyYes bool) {
	if d.dayOver12 {
		rp.dayFirst = true
	}
	if d.ambiguous {
		rp.ambiguous = append(rp.ambiguous, Warning{Line: line, ID: id, Msg: fmt.Sprintf(
			"the date %q is read as %s (day/month/year); if the export writes month/day/year it means %s: check the export's date format",
			strings.TrimSpace(v), d.t.Format("2 January 2006"), time.Date(d.t.Year(), time.Month(d.t.Day()), int(d.t.Month()), 0, 0, 0, 0, time.UTC).Format("2 January 2006"))})
	}
	if start := rp.opt.SchoolYearStart; anyYes && d.t.Before(start) {
		rp.early = append(rp.early, Warning{Line: line, ID: id, Msg: fmt.Sprintf(
			"consent confirmed on %s, before this school year began (%s): it counts as no consent until it is confirmed again",
			d.t.Format(dateLayout), start.Format(dateLayout))})
	}
}

// warnings are the file's warnings in line order: a date that could be
// month first is not ambiguous when another date of the file can only be
// day first.
func (rp *rowParser) warnings() []Warning {
	out := append([]Warning(nil), rp.early...)
	if !rp.dayFirst {
		out = append(out, rp.ambiguous...)
	}
	for i := 1; i < len(out); i++ { // insertion sort: few warnings, stable
		for j := i; j > 0 && out[j].Line < out[j-1].Line; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// shown is how a bad value appears in a problem: never a name. Name
// columns show "(name)"; any other value that holds a word of a name cell
// of the file (a shifted row puts names in other columns) shows "(a
// name?)", and a long one only its length.
func (rp *rowParser) shown(col, v string) string {
	v = strings.TrimSpace(v)
	switch {
	case nameColumn(col):
		return "(name)"
	case v == "":
		return "the empty value"
	case rp.hasName(v):
		return "(a name?)"
	case len(v) > 24:
		return fmt.Sprintf("a value of %d characters", len(v))
	}
	return fmt.Sprintf("%q", v)
}

func (rp *rowParser) hasName(v string) bool {
	for _, w := range words(v) {
		if rp.names[w] {
			return true
		}
	}
	return false
}

// nameWords collects the lower-case words of every name cell.
func nameWords(recs [][]string, c *columns) map[string]bool {
	out := map[string]bool{}
	for _, rec := range recs {
		for _, col := range []string{colFirstName, colInfix, colLastName} {
			if i, ok := c.index[col]; ok && i < len(rec) {
				for _, w := range words(rec[i]) {
					out[w] = true
				}
			}
		}
	}
	return out
}

func words(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
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
func parseErrLine(err error) int {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		if pe.StartLine > 0 {
			return pe.StartLine
		}
		return pe.Line
	}
	return 0
}

// csvErrMsg describes a csv syntax error without quoting the content.
func csvErrMsg(err error, header bool) string {
	prefix := ""
	if header {
		prefix = "header: "
	}
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		if pe.StartLine > 0 && pe.StartLine != pe.Line {
			return fmt.Sprintf("%s%v (quoted field runs on to line %d)", prefix, pe.Err, pe.Line)
		}
		return fmt.Sprintf("%s%v (column %d)", prefix, pe.Err, pe.Column)
	}
	return prefix + err.Error()
}

func parseYesNo(v string) (yes, ok bool) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "yes", "y", "ja", "j", "1", "true", "waar":
		return true, true
	case "no", "n", "nee", "0", "false", "onwaar", "":
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
