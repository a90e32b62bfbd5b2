package detect

import (
	"path"
	"strings"
	"unicode"
)

// Categories decides whether a photo belongs to a category staff flagged
// (swimming lessons, gym), from the folders on its path and the words in its
// file name. Matching is on whole words, case-insensitive: the folder
// "Zwemles groep 5" and the file "IMG_0001 gym.jpg" match the categories
// "zwemles" and "gym", the file "gymnasium.jpg" does not. A category of
// several words ("changing room") matches those words in a row.
type Categories struct {
	rules [][]string
	names []string
}

// NewCategories builds the rules from category names (as in the config's
// categories.reject).
func NewCategories(names []string) *Categories {
	c := &Categories{}
	for _, n := range names {
		words := Words(n)
		if len(words) == 0 {
			continue
		}
		c.rules = append(c.rules, words)
		c.names = append(c.names, strings.ToLower(strings.TrimSpace(n)))
	}
	return c
}

// Match returns the first category that the slash-separated path relative to
// the inbox, or one of the extra keywords, belongs to.
func (c *Categories) Match(rel string, keywords ...string) (string, bool) {
	var parts []string
	dir, file := path.Split(path.Clean("/" + rel))
	for _, d := range strings.Split(dir, "/") {
		if d != "" {
			parts = append(parts, d)
		}
	}
	// The extension is not a word of the name.
	parts = append(parts, strings.TrimSuffix(file, path.Ext(file)))
	parts = append(parts, keywords...)
	for _, p := range parts {
		words := Words(p)
		for i, rule := range c.rules {
			if containsRun(words, rule) {
				return c.names[i], true
			}
		}
	}
	return "", false
}

// Words splits s into lower-case words at anything that is not a letter or a
// digit, and between letters and digits ("zwemles2024" is "zwemles", "2024").
func Words(s string) []string {
	var words []string
	var cur []rune
	flush := func() {
		if len(cur) > 0 {
			words = append(words, string(cur))
			cur = cur[:0]
		}
	}
	prevDigit := false
	for _, r := range strings.ToLower(s) {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			isDigit := unicode.IsDigit(r)
			if len(cur) > 0 && isDigit != prevDigit {
				flush()
			}
			cur = append(cur, r)
			prevDigit = isDigit
		default:
			flush()
		}
	}
	flush()
	return words
}

func containsRun(words, run []string) bool {
	for i := 0; i+len(run) <= len(words); i++ {
		match := true
		for j := range run {
			if words[i+j] != run[j] {
				match = false
				break
			}
		}
		if match {
			return true
		}
	}
	return false
}
