package consent

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// A date read from a consent export.
type csvDate struct {
	t time.Time
	// ambiguous: written day, month, year with '/' where both could be the
	// month (09/01/2026): read as 9 January, but an American export means
	// 1 September.
	ambiguous bool
	// dayOver12: a '/' date whose first part can only be a day (13/09/2025):
	// the file writes day first.
	dayOver12 bool
}

// parseCSVDate accepts YYYY-MM-DD and DD-MM-YYYY with '-', '/' or '.',
// single-digit days and months, and a trailing time that Excel may add
// ("01-09-2025 0:00"). Two-digit years are refused as ambiguous; a
// DD/MM/YYYY date that could be MM/DD/YYYY is read day first and marked.
// Errors quote the value only when it is made of digits and separators.
func parseCSVDate(v string) (csvDate, error) {
	s := strings.TrimSpace(v)
	if i := strings.IndexAny(s, " T"); i > 0 && isTimeOfDay(s[i+1:]) {
		s = s[:i]
	}
	if !isDateChars(s) {
		return csvDate{}, errors.New("not a date (use YYYY-MM-DD or DD-MM-YYYY)")
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
		return csvDate{}, fmt.Errorf("%s is not a date (use YYYY-MM-DD or DD-MM-YYYY)", quoted)
	}
	var ys, ms, ds string
	dayFirst := false
	switch {
	case len(parts[0]) == 4 && len(parts[1]) <= 2 && len(parts[2]) <= 2:
		ys, ms, ds = parts[0], parts[1], parts[2]
	case len(parts[2]) == 4 && len(parts[0]) <= 2 && len(parts[1]) <= 2:
		ds, ms, ys = parts[0], parts[1], parts[2]
		dayFirst = true
	default:
		return csvDate{}, fmt.Errorf("%s is not a date (use YYYY-MM-DD or DD-MM-YYYY)", quoted)
	}
	y, e1 := strconv.Atoi(ys)
	m, e2 := strconv.Atoi(ms)
	d, e3 := strconv.Atoi(ds)
	if e1 != nil || e2 != nil || e3 != nil || m < 1 || d < 1 {
		return csvDate{}, fmt.Errorf("%s is not a date", quoted)
	}
	if m > 12 {
		return csvDate{}, fmt.Errorf("%s is not a date (there is no month %d; dates are read day first)", quoted, m)
	}
	t := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
	if t.Day() != d {
		return csvDate{}, fmt.Errorf("%s is not a date (no such day)", quoted)
	}
	if y < 2000 {
		return csvDate{}, fmt.Errorf("%s is before 2000", quoted)
	}
	slash := dayFirst && sep == "/"
	return csvDate{t: t, ambiguous: slash && d <= 12 && d != m, dayOver12: slash && d > 12}, nil
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
