package display

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Escape returns s with every character that could change what a terminal
// or a page shows written as a visible escape: \n, \r, \t, \xNN for other
// control characters (C0, DEL and C1), \uNNNN for bidirectional controls
// and other invisible format characters (Unicode category Cf: zero-width
// spaces and joiners, the BOM), and \xNN for each byte of invalid UTF-8.
// A backslash is left as it is. Text without such characters is returned
// unchanged.
func Escape(s string) string {
	if clean(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f || r >= 0x80 && r < 0xa0:
			fmt.Fprintf(&b, `\x%02x`, r)
		case unsafe(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// Lines is Escape for a message of several lines: each line is escaped,
// the line breaks between them are kept.
func Lines(s string) string {
	if clean(strings.ReplaceAll(s, "\n", "")) {
		return s
	}
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = Escape(l)
	}
	return strings.Join(lines, "\n")
}

// Safe reports whether s is shown as it is (Escape(s) == s).
func Safe(s string) bool { return clean(s) }

func clean(s string) bool {
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 || r < 0x20 || r == 0x7f || r >= 0x80 && r < 0xa0 || unsafe(r) {
			return false
		}
		i += n
	}
	return true
}

// unsafe is true for the invisible characters that change what is shown:
// bidirectional controls, and every other format character (Cf), the line
// and paragraph separators, and the replacement character (a name that
// held invalid text).
func unsafe(r rune) bool {
	switch {
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069, r == 0x200e, r == 0x200f, r == 0x061c:
		return true
	case r == 0x2028 || r == 0x2029 || r == utf8.RuneError:
		return true
	}
	return unicode.Is(unicode.Cf, r)
}
