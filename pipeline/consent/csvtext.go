package consent

import (
	"bytes"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// The text of a consent export: encodings, Excel's "sep=" line and the
// delimiter.

// excelSep recognises the line Excel writes first when asked for a
// particular delimiter ("sep=;", sometimes quoted) and returns the
// delimiter; the line itself is blanked out, so that line numbers stay the
// file's own.
func excelSep(text string) (string, rune, bool) {
	end := strings.IndexAny(text, "\r\n")
	if end < 0 {
		end = len(text)
	}
	first := strings.Trim(strings.TrimSpace(text[:end]), `"`)
	if len(first) != 5 || !strings.EqualFold(first[:4], "sep=") {
		return text, 0, false
	}
	switch d := rune(first[4]); d {
	case ';', ',', '\t', '|':
		return text[end:], d, true
	}
	return text, 0, false
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
