// Package debian reads the Debian security tracker's data into the
// normalised advisory model: the tracker's per-package JSON export
// (ParseTracker) and its DSA and DLA announcement lists (ParseList).
//
// Both name releases by codename; advisories need the OSV ecosystem
// "Debian:<number>", so a fixed table translates them. A codename the
// table does not know (a release newer than this code, a suite such as
// "sid") is never guessed at: its entries are skipped and counted in
// Stats.Skipped, so an importer can say what it left out.
//
// Release numbers follow what a host reports: from etch (4.0) on, Debian's
// os-release and debian_version lead with an integer major ("Debian:4",
// "Debian:12"); older releases keep Debian's two-part numbers ("Debian:3.1"
// for sarge), since collapsing them to the major would merge woody and
// sarge. No supported host runs those; they are kept so record counts
// match the feed.
//
// Statuses map onto the advisory model as follows (the tracker's own words
// are kept in VendorStatus):
//
//   - fixed in a version: StatusAffected, range introduced "0", fixed V;
//   - not affected (JSON: resolved with fixed_version "0"; lists:
//     <not-affected>): StatusNotAffected;
//   - open, <unfixed>, no-dsa, postponed, undetermined: StatusUnfixed;
//   - ignored, end-of-life: StatusWillNotFix.
package debian

import (
	"regexp"
	"strings"

	"github.com/kensa-dev/kensa/internal/advisory"
)

// Stats says what a parse read and what it deliberately left out.
type Stats struct {
	// Advisories is the number of advisories emitted.
	Advisories int
	// Affected is the number of Affected entries across them.
	Affected int
	// Skipped counts release entries read but not turned into an Affected,
	// by reason: "release sid" (unstable has no release number), "unknown
	// release duke", "invalid version", "unknown status removed",
	// "malformed id".
	Skipped map[string]int
}

func (s *Stats) skip(reason string) {
	if s.Skipped == nil {
		s.Skipped = map[string]int{}
	}
	s.Skipped[reason]++
}

// releases maps Debian codenames to the number OSV and a host's os-release
// use for them, oldest first; the order sorts Affected entries.
var releases = []struct{ codename, number string }{
	{"buzz", "1.1"},
	{"rex", "1.2"},
	{"bo", "1.3"},
	{"hamm", "2.0"},
	{"slink", "2.1"},
	{"potato", "2.2"},
	{"woody", "3.0"},
	{"sarge", "3.1"},
	{"etch", "4"},
	{"lenny", "5"},
	{"squeeze", "6"},
	{"wheezy", "7"},
	{"jessie", "8"},
	{"stretch", "9"},
	{"buster", "10"},
	{"bullseye", "11"},
	{"bookworm", "12"},
	{"trixie", "13"},
	{"forky", "14"},
}

// ecosystem returns "Debian:<number>" and the release's position in the
// table for a codename, or records why it cannot.
func ecosystem(codename string, st *Stats) (string, int, bool) {
	for i, r := range releases {
		if r.codename == codename {
			return "Debian:" + r.number, i, true
		}
	}
	if codename == "sid" {
		st.skip("release sid")
	} else {
		st.skip("unknown release " + clip(codename, 40))
	}
	return "", 0, false
}

// versionRe accepts a Debian version as dpkg does in practice: an optional
// numeric epoch, then an upstream part starting with a digit, then the
// characters policy allows. The one real entry it refuses (DSA-423 names a
// package where the version belongs) would otherwise be a fix no installed
// version ever reaches.
var versionRe = regexp.MustCompile(`^([0-9]+:)?[0-9][A-Za-z0-9.+~:-]*$`)

func validVersion(v string) bool { return len(v) <= 256 && versionRe.MatchString(v) }

// fixedRanges is the one range of a version-fixed entry.
func fixedRanges(v string) []advisory.Range {
	return []advisory.Range{{
		Type:   advisory.RangeEcosystem,
		Events: []advisory.Event{{Introduced: "0"}, {Fixed: v}},
	}}
}

// urgencyRe matches the tracker's urgencies: the plain words, with one or
// two trailing asterisks when the tracker derived the urgency rather than
// a person setting it.
var urgencyRe = regexp.MustCompile(`^(unimportant|low|medium|high)\*{0,2}$`)

// urgencySeverity rates an Affected entry by its Debian urgency; "not yet
// assigned" rates nothing, and "end-of-life" is a status, not a rating.
func urgencySeverity(u string) []advisory.Severity {
	if u == "" || u == "not yet assigned" || u == "end-of-life" {
		return nil
	}
	return []advisory.Severity{{Source: advisory.SourceVendor, Type: "debian-urgency", Value: u}}
}

const trackerURL = "https://security-tracker.debian.org/tracker/"

// clip bounds a string taken from the input before it becomes part of a
// message or a map key.
func clip(s string, n int) string {
	if len(s) > n {
		s = s[:n] + "…"
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}
