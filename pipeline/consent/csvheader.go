package consent

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The header of a consent export: which of the file's columns is which.

// Column names: the keys of consent.columns in the configuration, and how
// problems name a column besides the file's own header.
const (
	colID        = "id"
	colFirstName = "first_name"
	colInfix     = "infix"
	colLastName  = "last_name"
	colGroup     = "group"
	colRole      = "role"
	colConfirmed = "confirmed_on"
)

// columnNames lists every column a consent export can have, as
// consent.columns names them.
func columnNames() []string {
	return append([]string{colID, colFirstName, colInfix, colLastName, colGroup, colRole, colConfirmed}, Channels()...)
}

// requiredColumns must be in every export. Of the channel columns one is
// enough: a channel without a column is no consent for that channel (said
// once, as a warning).
var requiredColumns = []string{colID, colFirstName, colLastName, colConfirmed}

// nameColumn: a column whose values are names, never shown in a message.
func nameColumn(c string) bool { return c == colFirstName || c == colInfix || c == colLastName }

// alias is what a normalised header means, and how strongly: when two
// headers mean the same column, the lower rank wins ("Roepnaam" over
// "Voornamen", "Leerlingnummer" over a bare "ID"); two of one rank are a
// problem.
type alias struct {
	col  string
	rank int
}

// headerAliases maps a normalised header (normHeader) to its column. The
// names are those of the Dutch administration systems' exports: ParnasSys
// and ESIS (Leerlingnummer, Roepnaam, Tussenvoegsel, Achternaam, Groep),
// Magister (Stamnummer/Stamnr, Roepnaam, Tussenv., Klas), and English ones.
var headerAliases = map[string]alias{}

func init() {
	add := func(col string, rank int, names ...string) {
		for _, n := range names {
			headerAliases[normHeader(n)] = alias{col, rank}
		}
	}
	add(colID, 0, colID, "pupil_id", "pupilid", "student_id", "studentid", "student_number", "leerlingnummer", "leerling_nummer",
		"leerlingnr", "leerling_nr", "leerling_id", "leerlingid", "llnr", "ll_nr", "stamnummer", "stamnr", "stam_nr",
		"staff_id", "personeelsnummer", "personeelsnr", "person_id", "persoon_id", "persoonsnummer")
	add(colID, 1, "id", "nummer", "nr")
	add(colFirstName, 0, colFirstName, "firstname", "given_name", "roepnaam", "preferred_name")
	add(colFirstName, 1, "voornaam", "voornamen")
	add(colInfix, 0, colInfix, "tussenvoegsel", "tussenvoegsels", "tussenv", "voorvoegsel", "voorvoegsels", "prefix")
	add(colLastName, 0, colLastName, "lastname", "surname", "family_name", "achternaam")
	add(colGroup, 0, colGroup, "class", "groep", "klas", "stamgroep", "groepsnaam", "basisgroep", "stamklas")
	add(colGroup, 1, "jaargroep")
	add(colRole, 0, colRole, "rol")
	add(ChannelWebsite, 0, ChannelWebsite, "site", "schoolwebsite", "school_website", "internet")
	add(ChannelSocialMedia, 0, ChannelSocialMedia, "socialmedia", "sociale_media", "socialemedia", "social", "sociale_netwerken",
		"facebook", "instagram", "facebook_instagram")
	add(ChannelNewsletter, 0, ChannelNewsletter, "nieuwsbrief", "nieuwsbrieven", "schoolkrant")
	add(ChannelParentPortal, 0, ChannelParentPortal, "parentportal", "ouderportaal", "ouder_portaal", "portal", "parro",
		"social_schools", "ouderapp", "ouder_app", "klasbord")
	add(colConfirmed, 0, colConfirmed, "confirmed", "confirmation_date", "bevestigd_op", "bevestigd", "datum_bevestigd",
		"datum_bevestiging", "bevestigingsdatum", "toestemmingsdatum", "datum_toestemming", "toestemming_datum",
		"toestemming_gegeven_op", "gegeven_op", "ingevuld_op", "datum_ingevuld", "datum_akkoord", "akkoord_op")
	add(colConfirmed, 1, "date", "datum", "gewijzigd_op", "laatst_gewijzigd", "datum_gewijzigd")
}

// normHeader lower-cases h and joins its words with '_': runs of spaces,
// '-', '.', '/' and '_' are one separator.
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

// consentFiller are the words around a channel in the consent columns of
// real exports ("Foto's op de website", "Toestemming social media",
// "Beeldmateriaal in de nieuwsbrief (ja/nee)", "Mag op website").
var consentFiller = map[string]bool{
	"foto": true, "fotos": true, "fotos_en_videos": true, "video": true, "videos": true, "beeldmateriaal": true, "beeld": true,
	"beelden": true, "toestemming": true, "consent": true, "photo": true, "photos": true, "pictures": true, "images": true,
	"mag": true, "mogen": true, "op": true, "de": true, "het": true, "in": true, "een": true, "voor": true, "via": true,
	"publicatie": true, "publiceren": true, "plaatsen": true, "plaatsing": true, "gebruik": true, "van": true, "en": true,
	"on": true, "the": true, "for": true, "ja": true, "nee": true, "yes": true, "no": true, "j": true, "n": true,
	"leerling": true, "kind": true,
}

// channelOf reads a consent column's header: its words without the filler
// must be the name of one channel.
func channelOf(h string) (string, bool) {
	h = strings.NewReplacer("'", "", "’", "", "`", "").Replace(strings.ToLower(h))
	var words []string
	for _, w := range strings.FieldsFunc(h, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
		if !consentFiller[w] {
			words = append(words, w)
		}
	}
	if len(words) == 0 {
		return "", false
	}
	a, ok := headerAliases[strings.Join(words, "_")]
	if !ok || !KnownChannel(a.col) {
		return "", false
	}
	return a.col, true
}

// aliasOf says what a header means by photoguard's own names.
func aliasOf(h string) (alias, bool) {
	if a, ok := headerAliases[normHeader(h)]; ok {
		return a, true
	}
	if ch, ok := channelOf(h); ok {
		return alias{ch, 0}, true
	}
	return alias{}, false
}

// columns is the header as understood: the position of each column.
type columns struct {
	header []string       // the file's own header fields
	line   int            // its line
	index  map[string]int // column name -> field index
	// noColumn are the channels without a column: no consent for them.
	noColumn []string
}

// fieldName is the file's own name of field i, as a problem shows it.
func (c *columns) fieldName(i int) string {
	if i < 0 || i >= len(c.header) {
		return ""
	}
	return strings.TrimSpace(strings.TrimPrefix(c.header[i], "\ufeff"))
}

// CheckColumns checks a column mapping (consent.columns): every key must be
// one of columnNames, every header non-empty, and no header named for two
// columns.
func CheckColumns(mapping map[string]string) error {
	by := map[string]string{}
	for _, k := range slices.Sorted(maps.Keys(mapping)) {
		if !slices.Contains(columnNames(), k) {
			return fmt.Errorf("%q is not a column (%s)", k, strings.Join(columnNames(), ", "))
		}
		h := normHeader(mapping[k])
		if h == "" {
			return fmt.Errorf("%s: the export's header for it is empty", k)
		}
		if other, dup := by[h]; dup {
			return fmt.Errorf("%s and %s both name the header %q", other, k, mapping[k])
		}
		by[h] = k
	}
	return nil
}

// mapHeader finds the columns in the header: first those that mapping
// (consent.columns) names, then the ones it recognises by name. Problems
// quote the file's own header; when nothing in the first line is a known
// column, it may be a row of data (the header missing), so nothing of it
// is quoted.
func mapHeader(header []string, line int, mapping map[string]string, p *problems) (*columns, bool) {
	c := &columns{header: header, line: line, index: map[string]int{}}
	n := p.count()
	explicit := map[string]bool{}
	for _, col := range slices.Sorted(maps.Keys(mapping)) {
		want := normHeader(mapping[col])
		found := -1
		for i, h := range header {
			if normHeader(h) != want {
				continue
			}
			if found >= 0 {
				p.add(Problem{Line: line, Field: i + 1, Header: c.fieldName(i), Column: col,
					Msg: fmt.Sprintf("consent.columns maps %s to %q, and columns %d and %d both have that name", col, mapping[col], found+1, i+1)})
			}
			found = i
		}
		if found < 0 {
			p.add(Problem{Line: line, Column: col, Msg: fmt.Sprintf("consent.columns maps %s to %q, but the header has no such column (it has %s)",
				col, mapping[col], quotedList(header))})
			continue
		}
		c.index[col], explicit[col] = found, true
	}
	rank := map[string]int{}
	for i, h := range header {
		a, ok := aliasOf(h)
		if !ok || explicit[a.col] || slices.Contains(mapValues(c.index, explicit), i) {
			continue // other columns of the export (birth date, address, ...) are ignored
		}
		j, dup := c.index[a.col]
		switch {
		case !dup || a.rank < rank[a.col]:
			c.index[a.col], rank[a.col] = i, a.rank
		case a.rank == rank[a.col]:
			p.add(Problem{Line: line, Field: i + 1, Header: c.fieldName(i), Column: a.col,
				Msg: fmt.Sprintf("columns %d (%q) and %d (%q) both mean %s; say which one in consent.columns", j+1, c.fieldName(j), i+1, c.fieldName(i), a.col)})
		}
	}
	if len(c.index) == 0 {
		p.add(Problem{Line: line, Msg: "this is not a header: none of its fields is a column photoguard knows (is the header line missing?)"})
		return nil, false
	}
	for _, col := range requiredColumns {
		if _, ok := c.index[col]; !ok {
			p.add(Problem{Line: line, Column: col, Msg: fmt.Sprintf("missing column %s: none of %s means it (%s); or name it in consent.columns",
				col, quotedList(header), acceptedNames(col))})
		}
	}
	for _, ch := range Channels() {
		if _, ok := c.index[ch]; !ok {
			c.noColumn = append(c.noColumn, ch)
		}
	}
	if len(c.noColumn) == len(Channels()) {
		p.add(Problem{Line: line, Msg: fmt.Sprintf("no consent column: none of %s means %s (%s); or name them in consent.columns",
			quotedList(header), strings.Join(Channels(), ", "), acceptedNames(ChannelWebsite))})
	}
	return c, p.count() == n
}

// mapValues are the field indexes of the explicitly mapped columns.
func mapValues(index map[string]int, explicit map[string]bool) []int {
	var out []int
	for col, i := range index {
		if explicit[col] {
			out = append(out, i)
		}
	}
	return out
}

// quotedList quotes the header's fields for a problem. Only fields that
// look like a column name are quoted: a field with a line break or a
// control character, or longer than maxQuotedHeader, is a sign that the
// "header" holds rows of data (names), and is counted, not shown.
func quotedList(header []string) string {
	var q []string
	hidden := 0
	for _, h := range header {
		h = strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))
		switch {
		case h == "":
		case utf8.RuneCountInString(h) > maxQuotedHeader || strings.ContainsFunc(h, unicode.IsControl):
			hidden++
		default:
			q = append(q, fmt.Sprintf("%q", h))
		}
	}
	if hidden > 0 {
		q = append(q, fmt.Sprintf("and %d fields not shown (they may hold names)", hidden))
	}
	return strings.Join(q, ", ")
}

// maxQuotedHeader is the longest header field a problem quotes.
const maxQuotedHeader = 100

func acceptedNames(col string) string {
	var names []string
	for n, a := range headerAliases {
		if a.col == col && n != col {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	if KnownChannel(col) {
		names = append(names, "or \"Foto's op de "+col+"\"-style")
	}
	return "photoguard knows " + col + " as " + strings.Join(names, ", ")
}
