// Package version compares package versions by the rules of their
// ecosystem: dpkg for Debian and Ubuntu (epoch, "~" before anything, "+"),
// rpm for the RHEL family and Amazon Linux (epoch, tilde, caret, release),
// apk for Alpine ("_alpha" ... "_p", "-rN"), SemVer for Go and npm, PEP 440
// for PyPI, Maven's ComparableVersion for Maven.
//
// The comparisons are osv-scalibr's semantic package, the implementation
// OSV itself uses to decide whether a version falls in a range, so a match
// here agrees with OSV's own tools. This package adds what Kensa needs
// around it: every ecosystem name Kensa produces (including distros OSV
// does not publish, such as "Amazon Linux:2023"), the "v" prefix of Go
// module versions, and parsed versions that are compared many times.
package version

import (
	"errors"
	"fmt"
	"strings"

	"github.com/google/osv-scalibr/semantic"
)

// ErrUnsupported is returned for an ecosystem without version rules.
var ErrUnsupported = errors.New("no version rules for this ecosystem")

// scheme maps the base name of an ecosystem ("Debian" of "Debian:12") to
// the name semantic knows. Distros that OSV does not publish but whose
// package format it knows compare as that format.
var scheme = map[string]string{
	"Amazon Linux": "Red Hat",
	"CentOS":       "Red Hat",
	"Oracle Linux": "Red Hat",
	"Fedora":       "Red Hat",
}

// Base returns the ecosystem without its release: "Ubuntu" for
// "Ubuntu:Pro:18.04:LTS", "Rocky Linux" for "Rocky Linux:9".
func Base(ecosystem string) string {
	base, _, _ := strings.Cut(ecosystem, ":")
	return base
}

// Version is a parsed version of one ecosystem.
type Version struct {
	ecosystem string
	raw       string
	v         semantic.Version
}

// Parse parses s as a version of ecosystem.
func Parse(ecosystem, s string) (Version, error) {
	base := Base(ecosystem)
	name := base
	if n, ok := scheme[base]; ok {
		name = n
	}
	if base == "Go" {
		s = strings.TrimPrefix(s, "v")
	}
	v, err := semantic.Parse(s, name)
	if errors.Is(err, semantic.ErrUnsupportedEcosystem) {
		return Version{}, fmt.Errorf("%w: %q", ErrUnsupported, ecosystem)
	}
	if err != nil {
		return Version{}, fmt.Errorf("%s version %q: %w", base, s, err)
	}
	return Version{ecosystem: name, raw: s, v: v}, nil
}

// String returns the version as it was parsed.
func (v Version) String() string { return v.raw }

// Compare returns -1, 0 or +1 as v is older than, equal to or newer than
// other, which is parsed by v's ecosystem rules.
func (v Version) Compare(other string) (int, error) {
	if v.v == nil {
		return 0, errors.New("compare: zero version")
	}
	if v.ecosystem == "Go" {
		other = strings.TrimPrefix(other, "v")
	}
	c, err := v.v.CompareStr(other)
	if err != nil {
		return 0, fmt.Errorf("compare %q with %q: %w", v.raw, other, err)
	}
	return c, nil
}

// Compare compares two versions of ecosystem: -1 when a is older than b,
// 0 when they are equal, +1 when a is newer.
func Compare(ecosystem, a, b string) (int, error) {
	v, err := Parse(ecosystem, a)
	if err != nil {
		return 0, err
	}
	return v.Compare(b)
}
