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
// module versions, parsed versions that are compared many times, and a
// check of each string against its ecosystem's syntax (valid.go): semantic
// orders any string, "1:" and "(devel)" included, where a scanner needs an
// error. The tests compare the results with dpkg, rpm, Maven, npm's semver
// and pip's packaging (oracle_test.go).
package version

import (
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/google/osv-scalibr/semantic"
)

// ErrUnsupported is returned for an ecosystem without version rules.
var ErrUnsupported = errors.New("no version rules for this ecosystem")

// ErrInvalid is returned for a string that is not a version of the
// ecosystem: one its own tool (dpkg, rpm, apk, pip) would refuse, or
// that makes semantic panic.
var ErrInvalid = errors.New("invalid version")

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

// Parse parses s as a version of ecosystem. A string that the ecosystem's
// own tool would refuse (see valid.go) is an error wrapping ErrInvalid
// rather than a version compared by guesswork.
func Parse(ecosystem, s string) (Version, error) {
	base := Base(ecosystem)
	name := base
	if n, ok := scheme[base]; ok {
		name = n
	}
	v, err := parse(name, s)
	if errors.Is(err, semantic.ErrUnsupportedEcosystem) {
		return Version{}, fmt.Errorf("%w: %q", ErrUnsupported, ecosystem)
	}
	if err != nil {
		return Version{}, fmt.Errorf("%s version %q: %w", base, s, err)
	}
	return Version{ecosystem: name, raw: s, v: v}, nil
}

// parse checks s by the rules of the ecosystem semantic calls name and
// parses it. A panic in semantic is turned into an error: a hostile
// version string from a scanned host must not stop a scan.
func parse(name, s string) (v semantic.Version, err error) {
	defer func() {
		if r := recover(); r != nil {
			v, err = nil, fmt.Errorf("%w: comparator panicked: %v", ErrInvalid, r)
		}
	}()
	if name == "Go" || name == "npm" {
		// A Go module version has a "v", OSV's Go and npm versions have
		// none, and npm takes "v1.2.3" for 1.2.3.
		s = strings.TrimPrefix(s, "v")
	}
	if err := supported(name); err != nil {
		return nil, err
	}
	// Check first: semantic must not see a string too long for it.
	if err = check(name, s); err == nil {
		v, err = semantic.Parse(s, name)
	}
	if err != nil {
		if !errors.Is(err, ErrInvalid) {
			err = fmt.Errorf("%w: %w", ErrInvalid, err)
		}
		return nil, err
	}
	return v, nil
}

// known caches the names semantic has rules for.
var known sync.Map

// supported returns semantic's ErrUnsupportedEcosystem for a name it has
// no rules for. semantic only tells when parsing: ask it with "0", which
// every ecosystem takes.
func supported(name string) error {
	if _, ok := known.Load(name); ok {
		return nil
	}
	if _, err := semantic.Parse("0", name); errors.Is(err, semantic.ErrUnsupportedEcosystem) {
		return err
	}
	known.Store(name, true)
	return nil
}

// String returns the version as it was given to Parse.
func (v Version) String() string { return v.raw }

// Ecosystem returns the name of the rules v was parsed with.
func (v Version) Ecosystem() string { return v.ecosystem }

// Compare returns -1, 0 or +1 as v is older than, equal to or newer than
// other, which is parsed by v's ecosystem rules.
func (v Version) Compare(other string) (c int, err error) {
	if v.v == nil {
		return 0, errors.New("compare: zero version")
	}
	w, err := parse(v.ecosystem, other)
	if err != nil {
		return 0, fmt.Errorf("compare %q with %q: %w", v.raw, other, err)
	}
	defer func() {
		if r := recover(); r != nil {
			c, err = 0, fmt.Errorf("compare %q with %q: %w: comparator panicked: %v", v.raw, other, ErrInvalid, r)
		}
	}()
	c, err = v.v.Compare(w)
	if err != nil {
		return 0, fmt.Errorf("compare %q with %q: %w: %w", v.raw, other, ErrInvalid, err)
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
