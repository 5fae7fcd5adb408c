package report

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// The string helpers of the package, each defined once: ordering (the
// canonical JSON), and making text safe and narrow for a terminal (the
// table).

// compareNatural is the report's "natural" order of names: runs of ASCII
// digits compare as numbers, so CIS rule 1.2.10 follows 1.2.9 and Debian:9
// precedes Debian:12; everything else compares byte by byte. Ties between
// spellings of the same number ("a01", "a1") are broken by plain byte order,
// so the order is total and sorting is deterministic.
//
// It is the same idea as kernel.CompareRelease (collect/kernel), which
// orders kernel releases; the report does not import it because the report
// must not depend on collectors, and because it needs the total order (the
// tie-break) that a version comparison does not.
func compareNatural(a, b string) int {
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		if isDigit(a[i]) && isDigit(b[j]) {
			si, sj := i, j
			for i < len(a) && isDigit(a[i]) {
				i++
			}
			for j < len(b) && isDigit(b[j]) {
				j++
			}
			na := strings.TrimLeft(a[si:i], "0")
			nb := strings.TrimLeft(b[sj:j], "0")
			if len(na) != len(nb) {
				return len(na) - len(nb)
			}
			if c := strings.Compare(na, nb); c != 0 {
				return c
			}
			continue
		}
		if a[i] != b[j] {
			return int(a[i]) - int(b[j])
		}
		i++
		j++
	}
	if c := (len(a) - i) - (len(b) - j); c != 0 {
		return c
	}
	return strings.Compare(a, b)
}

// allDigits reports whether s is a non-empty run of ASCII digits.
func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return s != ""
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// clean makes s safe and single-line for a terminal (SafeText).
func clean(s string) string { return SafeText(s, false) }

// SafeText makes a string read from the scanned host safe to show: every
// renderer escapes its own syntax (markup, CSV cells, JSON), but what it
// leaves alone can still mislead a reader: control characters (escape
// sequences, which drive a terminal, and which a copy and paste carries
// into one), bidirectional overrides (which reorder what is displayed, as
// in "Trojan Source") and invalid UTF-8. Those become U+FFFD, visibly.
// Tabs and line breaks become spaces, unless keepBreaks keeps the line
// breaks of free text (a CR LF is one break; a lone CR is dropped).
func SafeText(s string, keepBreaks bool) string {
	ok := true
	for _, r := range s {
		if r == utf8.RuneError || unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) {
			ok = false
			break
		}
	}
	if ok {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case r == '\n' && keepBreaks:
			b.WriteByte('\n')
		case r == '\r' && keepBreaks:
		case r == '\t' || r == '\n' || r == '\r':
			b.WriteByte(' ')
		case r == utf8.RuneError || unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r):
			b.WriteRune('\uFFFD')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// runeLen is the width of s in terminal columns, counting every rune as
// one column (as text/tabwriter does).
func runeLen(s string) int { return utf8.RuneCountInString(s) }

// truncate shortens s to n runes, marking the cut with "…". It is the
// package's only truncation; n <= 0 means no limit.
func truncate(s string, n int) string {
	if n <= 0 || runeLen(s) <= n {
		return s
	}
	rs := []rune(s)
	return string(rs[:n-1]) + "…"
}

// wrapCells lays out the words of cells (each keeping its colour) in
// lines: the first at most first runes long, the others at most rest, words
// joined by one space; a word longer than a line is split (see breakAt).
// Adjacent words of one colour are merged into one cell. It never returns
// no line.
func wrapCells(cells []cell, first, rest int) [][]cell {
	first, rest = max(first, 1), max(rest, 1)
	var lines [][]cell
	var cur []cell
	n, room := 0, first
	flush := func() {
		lines = append(lines, cur)
		cur, n, room = nil, 0, rest
	}
	add := func(w cell) {
		if len(cur) > 0 && cur[len(cur)-1].code == w.code {
			cur[len(cur)-1].text += " " + w.text
		} else {
			cur = append(cur, w)
		}
	}
	for _, c := range cells {
		for _, w := range strings.Fields(c.text) {
			wl := runeLen(w)
			if len(cur) > 0 && n+1+wl <= room {
				add(cell{w, c.code})
				n += 1 + wl
				continue
			}
			if len(cur) > 0 {
				flush()
			}
			rs := []rune(w)
			for len(rs) > room {
				cut := breakAt(rs, room)
				add(cell{string(rs[:cut]), c.code})
				rs = rs[cut:]
				flush()
			}
			add(cell{string(rs), c.code})
			n = len(rs)
		}
	}
	if len(cur) > 0 || len(lines) == 0 {
		lines = append(lines, cur)
	}
	return lines
}

// breakAt is where a word too long for a line of room runes is split:
// before the last "/" that leaves at least half a line, so that paths
// break between their elements, else at room.
func breakAt(word []rune, room int) int {
	for i := room - 1; i > room/2; i-- {
		if word[i] == '/' {
			return i
		}
	}
	return room
}

// wrap breaks s into lines of at most n runes at spaces (see wrapCells).
// n <= 0, or s short enough, gives s as its only line.
func wrap(s string, n int) []string {
	if n <= 0 || runeLen(s) <= n {
		return []string{s}
	}
	var out []string
	for _, line := range wrapCells([]cell{{text: s}}, n, n) {
		text := ""
		if len(line) > 0 { // one colour: at most one cell a line
			text = line[0].text
		}
		out = append(out, text)
	}
	return out
}
