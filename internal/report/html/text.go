package html

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/kensa-dev/kensa/internal/report"
)

// line makes a string read from the scanned host safe to show on one
// line. html/template escapes markup; what it leaves alone is what can
// still mislead a reader: control characters (escape sequences, which a
// copy and paste carries into a terminal), bidirectional overrides (which
// reorder what is displayed, as in "Trojan Source") and invalid UTF-8.
// Those become U+FFFD, visibly; tabs and line breaks become spaces.
func line(s string) string { return sanitise(s, false) }

// para is line for free text (descriptions), keeping its line breaks:
// the stylesheet shows them (white-space: pre-line).
func para(s string) string { return sanitise(s, true) }

func sanitise(s string, keepBreaks bool) string { return report.SafeText(s, keepBreaks) }

// shorten cuts s to n runes, marking the cut with "…"; for labels of a
// fixed width (chart axes), whose full text is shown elsewhere.
func shorten(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// orDash shows an empty value as a dash, so an empty cell is not read as
// a rendering fault.
func orDash(s string) string {
	if s == "" {
		return "–"
	}
	return s
}

func plural(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}

func was(n int) string {
	if n == 1 {
		return "was"
	}
	return "were"
}

// title capitalises the first letter of a status or severity word for a
// label ("not_applicable" becomes "Not applicable").
func title(s string) string {
	s = strings.ReplaceAll(s, "_", " ")
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 {
		return s
	}
	return string(unicode.ToUpper(r)) + s[n:]
}
