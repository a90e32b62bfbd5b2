package display

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestEscape(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"groep-5/IMG_0001.JPG", "groep-5/IMG_0001.JPG"},
		{"Zoë Ã‡elik", "Zoë Ã‡elik"},
		{"李小龍", "李小龍"},
		{`back\slash`, `back\slash`},
		{"\x1b]0;pwned\x07\x1b[2J", `\x1b]0;pwned\x07\x1b[2J`},
		{"a\nb\rc\td", `a\nb\rc\td`},
		{"\u202egpj.exe", `\u202egpj.exe`},
		{"a\u2066b\u2069c\u200ed\u200fe\u061cf", `a\u2066b\u2069c\u200ed\u200fe\u061cf`},
		{"zero\u200bwidth\ufeff", `zero\u200bwidth\ufeff`},
		{"c1\u009bmore", `c1\x9bmore`},
		{"del\x7f", `del\x7f`},
		{"bad\xff\xfeutf8", `bad\xff\xfeutf8`},
		{"line\u2028sep", `line\u2028sep`},
	} {
		if got := Escape(c.in); got != c.want {
			t.Errorf("Escape(%q) = %q, want %q", c.in, got, c.want)
		}
		if Safe(c.in) != (c.in == c.want) {
			t.Errorf("Safe(%q) = %v", c.in, Safe(c.in))
		}
	}
}

// FuzzEscape: the result is valid UTF-8 without a control, bidi or format
// character, and the same for the same text only.
func FuzzEscape(f *testing.F) {
	f.Add("\x1b[31m\u202eabc\xff")
	f.Fuzz(func(t *testing.T, s string) {
		got := Escape(s)
		if !utf8.ValidString(got) {
			t.Fatalf("Escape(%q) = %q is not UTF-8", s, got)
		}
		if !Safe(got) {
			t.Fatalf("Escape(%q) = %q is not safe", s, got)
		}
		if Safe(s) && got != s {
			t.Fatalf("safe %q changed to %q", s, got)
		}
		if strings.ContainsRune(got, 0x1b) {
			t.Fatal("ESC survived")
		}
	})
}
