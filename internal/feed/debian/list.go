package debian

import (
	"bufio"
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/kensa-dev/kensa/internal/advisory"
)

// The tracker's data/DSA/list and data/DLA/list hold one entry per
// announcement, newest first:
//
//	[29 Mar 2023] DSA-5380-1 xorg-server - security update
//		{CVE-2023-1393}
//		[bullseye] - xorg-server 2:1.20.11-1+deb11u6
//		NOTE: …
//
// The real files (2002 onwards) also hold every older form this parser
// accepts: ids without a revision ("DSA-541"), headers without a title or
// with "--" for "-", continuation lines indented with spaces (or spaces and
// a tab) instead of a tab, several spaces between package and version, a
// trailing space, a status in angle brackets instead of a version
// (<not-affected>, <unfixed>, <end-of-life>), and a parenthesised note
// after either: a free-text reason, "bug #N" references and an urgency,
// separated by ";" ("(bug #332524; medium)").
var (
	headerRe = regexp.MustCompile(`^\[([0-9]{1,2} [A-Z][a-z]{2} [0-9]{4})\] ([A-Z]+)-([0-9]+(?:-[0-9]+)?)(?:[ \t]+(.*))?$`)
	// [release] - package version-or-<status> (note)
	releaseRe = regexp.MustCompile(`^\[([a-z][a-z0-9-]*)\] - ([^ \t]+)[ \t]+(<[a-z-]+>|[^ \t<(]+)(?:[ \t]*\((.*)\))?$`)
	cveRe     = regexp.MustCompile(`^(CVE-[0-9]{4}-[0-9]{4,19}|TEMP-[0-9]{7}-[0-9A-Fa-f]{6})$`)
	bugRefRe  = regexp.MustCompile(`^bug #?([0-9]{1,10})$`)
)

// maxLine bounds one line; the longest real line is under 2 KiB.
const maxLine = 1 << 20

// listStatus maps the angle-bracket words of a release line to a status.
// A word not here (<removed>, <itp>) is skipped and counted, not guessed.
var listStatus = map[string]string{
	"not-affected": advisory.StatusNotAffected,
	"unfixed":      advisory.StatusUnfixed,
	"no-dsa":       advisory.StatusUnfixed,
	"postponed":    advisory.StatusUnfixed,
	"undetermined": advisory.StatusUnfixed,
	"end-of-life":  advisory.StatusWillNotFix,
	"ignored":      advisory.StatusWillNotFix,
}

// ParseList reads a DSA or DLA list (kind "DSA" or "DLA") and calls emit
// with one advisory per announcement, in file order. See ParseListStats.
func ParseList(r io.Reader, kind string, emit func(*advisory.Advisory) error) (advisory.Feed, error) {
	feed, _, err := ParseListStats(r, kind, emit)
	return feed, err
}

// ParseListStats is ParseList that also says what it left out.
//
// Mapping: one Advisory per announcement, ID as written ("DSA-5000-1", or
// "DSA-541" for the early ones that had no revision), Kind security (the
// lists also announce regressions and tzdata updates, under the same ids),
// Published the date, Summary "package - title", Aliases the CVE ids,
// Details the NOTE lines, References the tracker's page for the id and any
// "bug #N". One Affected per release line, Ecosystem "Debian:<N>", Package
// the source package: a version V gives StatusAffected with range
// introduced "0", fixed V; a status word maps as the package doc says, and
// its note is kept in VendorStatus; an urgency in the note rates the entry.
// Release lines for sid or an unknown codename, an unknown status word or
// a version that is not one are skipped and counted.
//
// A line of no known form, a bad date, an id of the other kind or a
// repeated id is an error naming the line: the lists are maintained by
// hand and checked by the tracker's own tools, so an unknown form means
// the file is not what it claims. The lists do not say when they were
// produced; Feed.Generated is zero.
func ParseListStats(r io.Reader, kind string, emit func(*advisory.Advisory) error) (advisory.Feed, Stats, error) {
	var st Stats
	if kind != "DSA" && kind != "DLA" {
		return advisory.Feed{}, st, fmt.Errorf("debian: list kind %q: want DSA or DLA", clip(kind, 20))
	}
	feed := advisory.Feed{Name: "debian/" + kind, Format: "debian-list"}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxLine)
	var (
		cur  *advisory.Advisory
		rels []int
		seen = map[string]bool{}
		line int
	)
	flush := func() error {
		if cur == nil {
			return nil
		}
		a := cur
		cur = nil
		slices.Sort(a.Aliases)
		a.Aliases = slices.Compact(a.Aliases)
		a.Aliases = slices.DeleteFunc(a.Aliases, func(s string) bool { return s == a.ID })
		if len(a.Aliases) == 0 {
			a.Aliases = nil
		}
		st.Advisories++
		st.Affected += len(a.Affected)
		return emit(a)
	}
	fail := func(format string, args ...any) (advisory.Feed, Stats, error) {
		return feed, st, fmt.Errorf("debian: %s list line %d: %s", kind, line, fmt.Sprintf(format, args...))
	}
	for sc.Scan() {
		line++
		text := strings.TrimRight(sc.Text(), " \t\r")
		if text == "" {
			continue
		}
		if text[0] == '[' {
			m := headerRe.FindStringSubmatch(text)
			if m == nil {
				return fail("not an announcement header: %q", clip(text, 80))
			}
			if m[2] != kind {
				return fail("%s id in a %s list", clip(m[2], 20), kind)
			}
			date, err := time.Parse("2 Jan 2006", m[1])
			if err != nil {
				return fail("bad date %q", m[1])
			}
			id := kind + "-" + m[3]
			if seen[id] {
				return fail("%s repeated", id)
			}
			seen[id] = true
			if err := flush(); err != nil {
				return feed, st, err
			}
			cur = &advisory.Advisory{
				ID:         id,
				Kind:       advisory.KindSecurity,
				Published:  date,
				Summary:    listSummary(m[4]),
				References: []string{trackerURL + id},
				Affected:   []advisory.Affected{},
			}
			rels = rels[:0]
			continue
		}
		body := strings.TrimLeft(text, " \t")
		if body == text {
			return fail("unindented line %q", clip(text, 80))
		}
		if cur == nil {
			return fail("continuation line before the first header")
		}
		switch {
		case body[0] == '{':
			if body[len(body)-1] != '}' {
				return fail("unterminated id list")
			}
			for _, id := range strings.Fields(body[1 : len(body)-1]) {
				if !cveRe.MatchString(id) {
					st.skip("malformed id")
					continue
				}
				cur.Aliases = append(cur.Aliases, id)
			}
		case body[0] == '[':
			m := releaseRe.FindStringSubmatch(body)
			if m == nil {
				return fail("not a release line: %q", clip(body, 80))
			}
			eco, idx, ok := ecosystem(m[1], &st)
			if !ok {
				continue
			}
			aff, refs, ok := listAffected(m[3], m[4], &st)
			if !ok {
				continue
			}
			aff.Ecosystem, aff.Package = eco, m[2]
			for _, ref := range refs {
				if !slices.Contains(cur.References, ref) {
					cur.References = append(cur.References, ref)
				}
			}
			// Keep release order (oldest first) whatever the file's.
			at, _ := slices.BinarySearchFunc(rels, idx, func(e, t int) int { return cmp.Compare(e, t+1) })
			rels = slices.Insert(rels, at, idx)
			cur.Affected = slices.Insert(cur.Affected, at, aff)
		case strings.HasPrefix(body, "NOTE:"):
			note := strings.TrimSpace(strings.TrimPrefix(body, "NOTE:"))
			if cur.Details != "" {
				cur.Details += "\n"
			}
			cur.Details += strings.ToValidUTF8(note, "\uFFFD")
		default:
			return fail("unknown line %q", clip(body, 80))
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return feed, st, fmt.Errorf("debian: %s list line %d: longer than %d bytes", kind, line+1, maxLine)
		}
		return feed, st, fmt.Errorf("debian: %s list: %w", kind, err)
	}
	if len(seen) == 0 {
		// An empty download would otherwise replace the stored source
		// with nothing.
		return feed, st, fmt.Errorf("debian: %s list: no announcement header", kind)
	}
	return feed, st, flush()
}

// listSummary is "package - title" from the header's rest, with the
// early "--" separator normalised; a header without a title (early DSAs,
// "jessie end-of-life") is kept as written.
func listSummary(rest string) string {
	rest = strings.ToValidUTF8(strings.TrimSpace(rest), "\uFFFD")
	for _, sep := range []string{" -- ", " - "} {
		if pkg, title, ok := strings.Cut(rest, sep); ok {
			return strings.TrimSpace(pkg) + " - " + strings.TrimSpace(title)
		}
	}
	return rest
}

// listAffected maps a release line's version or status word and its note.
func listAffected(what, note string, st *Stats) (advisory.Affected, []string, bool) {
	var aff advisory.Affected
	var refs, words []string
	for item := range strings.SplitSeq(note, ";") {
		item = strings.TrimSpace(item)
		switch m := bugRefRe.FindStringSubmatch(item); {
		case item == "":
		case m != nil:
			refs = append(refs, "https://bugs.debian.org/"+m[1])
		case urgencyRe.MatchString(item) && aff.Severities == nil:
			aff.Severities = urgencySeverity(item)
		default:
			words = append(words, item)
		}
	}
	text := strings.ToValidUTF8(strings.Join(words, "; "), "\uFFFD")
	if w, ok := strings.CutPrefix(what, "<"); ok {
		w = strings.TrimSuffix(w, ">")
		status, known := listStatus[w]
		if !known {
			st.skip("unknown status " + clip(w, 40))
			return aff, nil, false
		}
		aff.Status, aff.VendorStatus = status, w
		if text != "" {
			aff.VendorStatus += ": " + text
		}
		return aff, refs, true
	}
	if !validVersion(what) {
		st.skip("invalid version")
		return aff, nil, false
	}
	aff.Status, aff.VendorStatus = advisory.StatusAffected, text
	aff.Ranges = fixedRanges(what)
	return aff, refs, true
}

// DetectList reports whether a file is a DSA or DLA list, and which, from
// its first non-blank line (the tracker names both files just "list").
func DetectList(name string, head []byte) (kind string, ok bool) {
	for ln := range bytes.SplitSeq(head, []byte("\n")) {
		ln = bytes.TrimRight(ln, " \t\r")
		if len(ln) == 0 {
			continue
		}
		m := headerRe.FindSubmatch(ln)
		if m == nil {
			return "", false
		}
		switch k := string(m[2]); k {
		case "DSA", "DLA":
			return k, true
		}
		return "", false
	}
	return "", false
}
