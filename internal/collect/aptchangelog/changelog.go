package aptchangelog

import (
	"bufio"
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

const (
	// maxChangelogLine bounds one line of a changelog; the rest of a
	// longer line is read in pieces of this size, each searched for CVE
	// ids on its own (an id cut by a piece boundary is lost, which only
	// garbage risks: real lines are under 200 bytes).
	maxChangelogLine = 64 << 10
	// maxEntries bounds the entries of one changelog. The longest real
	// ones (the kernel's, trimmed by debhelper) have a few hundred.
	maxEntries = 50_000
	// maxCVEs bounds the distinct CVE ids of one changelog. The kernel's
	// names a few thousand.
	maxCVEs = 100_000
	// maxCVELen bounds a CVE id ("CVE-2026-84782" is 14 bytes); a longer
	// run of digits is not an id.
	maxCVELen = 24
	// maxHeader bounds an entry's first line; real ones are under 200
	// bytes, and a longer line is text.
	maxHeader = 4096
)

// ErrChangelogTooLarge is returned when a changelog exceeds one of the
// parser's bounds.
var ErrChangelogTooLarge = errors.New("changelog exceeds the parser's bounds")

// Entry is one entry of a Debian changelog: its header line
// "package (version) distributions; urgency=u" and the CVE ids its text
// names.
type Entry struct {
	Package string
	// Version is the version of the header, exactly as written.
	Version       string
	Distributions string
	// Urgency is the value of urgency= in the header, lower case.
	Urgency string
	// CVEs are the CVE ids named in the entry's text (not its header), in
	// order of first mention, each once.
	CVEs []string
	// Line is the header's line number, from 1.
	Line int
}

var (
	// headerRE is a changelog entry's first line, as dpkg-parsechangelog
	// reads it: a package name at the start of the line, the version in
	// parentheses, distributions, then ";" and key=value options.
	headerRE = regexp.MustCompile(`^([a-z0-9][a-z0-9+.-]*)[ \t]+\(([^ \t()]+)\)[ \t]*([^;]*);(.*)$`)
	cveRE    = regexp.MustCompile(`CVE-[0-9]{4}-[0-9]{4,}`)
)

// ParseChangelog reads a Debian changelog (debian/changelog, installed as
// /usr/share/doc/PKG/changelog.Debian.gz) and returns its entries, newest
// first as written. Text before the first entry is ignored, and so is
// everything from a line starting "Local variables:" or "Old Changelog:"
// on, where dpkg-parsechangelog stops too: what follows is in older
// formats.
//
// It reads r as a stream, lines of at most maxChangelogLine bytes, and
// gives up with ErrChangelogTooLarge (and the entries read so far) past
// maxEntries entries or maxCVEs distinct CVE ids. A reader error is
// returned with the entries read before it.
func ParseChangelog(r io.Reader) ([]Entry, error) {
	br := bufio.NewReaderSize(r, maxChangelogLine)
	var (
		entries  []Entry
		cur      *Entry
		seen     map[string]bool // the ids of the current entry
		distinct = map[string]struct{}{}
		lineNo   int
		midLine  bool // the previous piece did not end its line
	)
	for {
		piece, err := br.ReadSlice('\n')
		if len(piece) > 0 {
			atStart := !midLine
			midLine = piece[len(piece)-1] != '\n'
			if atStart {
				lineNo++
			}
			line := bytes.TrimRight(piece, "\r\n")
			switch {
			case atStart && (bytes.HasPrefix(line, []byte("Local variables:")) || bytes.HasPrefix(line, []byte("Old Changelog:"))):
				return entries, nil
			case atStart && len(line) > 0 && len(line) <= maxHeader && (line[0] >= 'a' && line[0] <= 'z' || line[0] >= '0' && line[0] <= '9') &&
				bytes.IndexByte(line, '(') > 0 && bytes.IndexByte(line, ';') > 0:
				if e, ok := parseHeader(line); ok {
					if len(entries) == maxEntries {
						return entries, fmt.Errorf("%w: more than %d entries", ErrChangelogTooLarge, maxEntries)
					}
					e.Line = lineNo
					entries = append(entries, e)
					cur, seen = &entries[len(entries)-1], map[string]bool{}
					continue
				}
				fallthrough
			default:
				if cur == nil || !bytes.Contains(line, []byte("CVE-")) {
					break
				}
				for _, id := range cveRE.FindAll(line, -1) {
					if len(id) > maxCVELen || seen[string(id)] {
						continue
					}
					s := string(id)
					if _, ok := distinct[s]; !ok {
						if len(distinct) == maxCVEs {
							return entries, fmt.Errorf("%w: more than %d CVE ids", ErrChangelogTooLarge, maxCVEs)
						}
						distinct[s] = struct{}{}
					}
					seen[s] = true
					cur.CVEs = append(cur.CVEs, s)
				}
			}
		}
		switch {
		case err == nil, errors.Is(err, bufio.ErrBufferFull):
		case errors.Is(err, io.EOF):
			return entries, nil
		default:
			return entries, err
		}
	}
}

// parseHeader parses an entry's first line.
func parseHeader(line []byte) (Entry, bool) {
	m := headerRE.FindSubmatch(line)
	if m == nil {
		return Entry{}, false
	}
	e := Entry{
		Package:       string(m[1]),
		Version:       string(m[2]),
		Distributions: strings.Join(strings.Fields(string(m[3])), " "),
	}
	for opt := range strings.SplitSeq(string(m[4]), ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(opt), "=")
		if ok && strings.EqualFold(k, "urgency") {
			// "medium (HIGH for ...)" was once common; keep the word.
			v, _, _ = strings.Cut(strings.TrimSpace(v), " ")
			e.Urgency = strings.ToLower(v)
		}
	}
	return e, true
}

// cveKey orders CVE ids by year and then number.
func cveKey(id string) (year, num int64) {
	rest, _ := strings.CutPrefix(id, "CVE-")
	y, n, _ := strings.Cut(rest, "-")
	year, _ = strconv.ParseInt(y, 10, 64)
	num, _ = strconv.ParseInt(n, 10, 64)
	return year, num
}

// sortCVEs sorts ids by year and number (CVE-2026-4878 before
// CVE-2026-35189) and removes duplicates.
func sortCVEs(ids []string) []string {
	slices.SortFunc(ids, func(a, b string) int {
		ya, na := cveKey(a)
		yb, nb := cveKey(b)
		return cmp.Or(cmp.Compare(ya, yb), cmp.Compare(na, nb), strings.Compare(a, b))
	})
	return slices.Compact(ids)
}
