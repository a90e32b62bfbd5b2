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
// "zwemles" and "gym", the file "gymnasium.jpg" does not. Spaces, hyphens,
// underscores (anything not a letter or digit) between words count alike,
// and words in a row match a category spelt as one word or as several: "zwem
// les", "zwem-les" and "zwem_les" are "zwemles", and "changing room",
// "changing-room" and "changingroom" are the same category.
type Categories struct {
	rules []string // each category's words, joined
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
		c.rules = append(c.rules, strings.Join(words, ""))
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

// containsRun reports whether some words in a row, joined, are joined (a
// category's words joined): whole words, however they were separated.
func containsRun(words []string, joined string) bool {
	for i := range words {
		acc := ""
		for _, w := range words[i:] {
			acc += w
			if acc == joined {
				return true
			}
			if !strings.HasPrefix(joined, acc) {
				break
			}
		}
	}
	return false
}
