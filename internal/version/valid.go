package version

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
)

// semantic compares whatever string it is given: "1:" is a Debian version
// of epoch 1, "(devel)" a Go version below 0.0.0, "not-a-version" a PyPI
// "legacy" version older than every real one. A scanner must not decide
// that a package is vulnerable from such a guess, so each ecosystem's
// strings are first checked against the rules of that ecosystem's own
// tool, and a string it would refuse is an error.

// family is the version syntax of each ecosystem semantic knows by name.
var family = map[string]func(string) error{
	"Debian": checkDpkg,
	"Ubuntu": checkDpkg,

	"Red Hat":     checkRPM,
	"AlmaLinux":   checkRPM,
	"Rocky Linux": checkRPM,
	"Mageia":      checkRPM,
	"openEuler":   checkRPM,
	"openSUSE":    checkRPM,
	"SUSE":        checkRPM,

	"Alpine":                       checkApk,
	"Alpaquita":                    checkApk,
	"BellSoft Hardened Containers": checkApk,
	"Chainguard":                   checkApk,
	"MinimOS":                      checkApk,
	"Wolfi":                        checkApk,

	"PyPI": checkPEP440,

	"Go":  checkSemver,
	"npm": checkSemver,
}

// maxLen bounds a version string. No package version comes near it (the
// longest seen are around 100 bytes), and semantic is quadratic in the
// length of some strings: a 64 KiB Go or npm version takes seconds to
// parse, a 1 MiB one minutes. A version read from a scanned host must not
// be able to stall the scan.
const maxLen = 1024

// check reports why s is not a version of the ecosystem semantic calls
// name, or nil. Ecosystems without a check here only refuse an empty
// string.
func check(name, s string) error {
	if len(s) > maxLen {
		return fmt.Errorf("longer than %d bytes", maxLen)
	}
	if f := family[name]; f != nil {
		return f(s)
	}
	if strings.TrimSpace(s) == "" {
		return errors.New("empty version")
	}
	return nil
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func isAlpha(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

// checkDpkg accepts exactly what `dpkg --compare-versions` takes without
// an error or a warning (dpkg's parseversion() in lib/dpkg/parsehelp.c,
// and deb-version(7)): [epoch:]upstream[-revision], blanks only around
// it, an epoch that is a non-negative int, an upstream version that starts
// with a digit and holds only alphanumerics and . + - ~ :, a revision of
// alphanumerics and . + ~. dpkg compares a version it only warns about,
// but such a string ("<unfixed>", "abc") is not a package version, and
// dpkg-deb refuses to build a package with one.
func checkDpkg(s string) error {
	s = strings.Trim(s, " \t")
	if s == "" {
		return errors.New("empty version")
	}
	if strings.ContainsAny(s, " \t") {
		return errors.New("embedded blank")
	}
	rest := s
	if i := strings.IndexByte(s, ':'); i >= 0 {
		// dpkg reads the epoch with strtol: an optional sign, digits.
		n, err := strconv.ParseInt(s[:i], 10, 64)
		switch {
		case errors.Is(err, strconv.ErrRange) || err == nil && n > math.MaxInt32:
			return errors.New("epoch too big")
		case err != nil:
			return errors.New("epoch is empty or not a number")
		case n < 0:
			return errors.New("epoch is negative")
		}
		rest = s[i+1:]
		if rest == "" {
			return errors.New("nothing after the epoch's colon")
		}
	}
	upstream, revision := rest, ""
	if i := strings.LastIndexByte(rest, '-'); i >= 0 {
		upstream, revision = rest[:i], rest[i+1:]
		if revision == "" {
			return errors.New("empty revision after '-'")
		}
	}
	if upstream == "" {
		return errors.New("empty upstream version")
	}
	if !isDigit(upstream[0]) {
		return errors.New("upstream version does not start with a digit")
	}
	for i := 0; i < len(upstream); i++ {
		if c := upstream[i]; !isDigit(c) && !isAlpha(c) && !strings.ContainsRune(".-+~:", rune(c)) {
			return fmt.Errorf("character %q not allowed in an upstream version", c)
		}
	}
	for i := 0; i < len(revision); i++ {
		if c := revision[i]; !isDigit(c) && !isAlpha(c) && !strings.ContainsRune(".+~", rune(c)) {
			return fmt.Errorf("character %q not allowed in a Debian revision", c)
		}
	}
	return nil
}

// checkRPM accepts [epoch:]version[-release] as rpmbuild makes them: a
// numeric epoch, and a version and a release that are not empty and hold
// only alphanumerics and . _ + ~ ^ (rpmbuild refuses a '-' in either).
// rpm itself splits at the last '-' where semantic splits at the first, so
// "1.0-2-3" would compare differently; no package has such a version.
func checkRPM(s string) error {
	if s == "" {
		return errors.New("empty version")
	}
	evr := s
	if i := strings.IndexByte(s, ':'); i >= 0 {
		epoch := s[:i]
		if epoch == "" {
			return errors.New("empty epoch")
		}
		for j := 0; j < len(epoch); j++ {
			if !isDigit(epoch[j]) {
				return errors.New("epoch is not a number")
			}
		}
		evr = s[i+1:]
	}
	version, release, hasRelease := strings.Cut(evr, "-")
	if version == "" {
		return errors.New("empty version")
	}
	if hasRelease && release == "" {
		return errors.New("empty release after '-'")
	}
	for _, part := range []string{version, release} {
		for j := 0; j < len(part); j++ {
			if c := part[j]; !isDigit(c) && !isAlpha(c) && !strings.ContainsRune("._+~^", rune(c)) {
				return fmt.Errorf("character %q not allowed in an rpm version or release", c)
			}
		}
	}
	return nil
}

// apkVersion is the version syntax documented in apk-tools' apk-package(5):
// number{.number}...{letter}{_suffix{number}}...{~hash}{-r#}, the letter a
// single lower-case letter, the suffixes alpha, beta, pre, rc, cvs, svn,
// git, hg and p, the hash lower-case hexadecimal digits.
var apkVersion = regexp.MustCompile(`^[0-9]+(\.[0-9]+)*[a-z]?(_(alpha|beta|pre|rc|cvs|svn|git|hg|p)[0-9]*)*(~[0-9a-f]+)?(-r[0-9]+)?$`)

// checkApk accepts what `apk version -c` calls valid.
func checkApk(s string) error {
	if !apkVersion.MatchString(s) {
		return errors.New("not of the form number{.number}{letter}{_suffix{number}}{~hash}{-r#}")
	}
	return nil
}

// pep440 is the version scheme of PEP 440 ("Version specifiers",
// Appendix B) with the normalisations it allows: surrounding whitespace, a
// leading "v", the separators - _ . before and inside the pre-release,
// post-release and development parts, the spellings alpha, beta, c, pre,
// preview, rev and r, and the implicit post-release "1.0-1". It is matched
// against the lower-cased string, as semantic does.
var pep440 = regexp.MustCompile(`^\s*v?` +
	`([0-9]+!)?` + // epoch
	`[0-9]+(\.[0-9]+)*` + // release
	`([-_.]?(a|b|c|rc|alpha|beta|pre|preview)[-_.]?[0-9]*)?` + // pre-release
	`(-[0-9]+|[-_.]?(post|rev|r)[-_.]?[0-9]*)?` + // post-release
	`([-_.]?dev[-_.]?[0-9]*)?` + // development release
	`(\+[a-z0-9]+([-_.][a-z0-9]+)*)?` + // local version
	`\s*$`)

// checkPEP440 accepts what pip's packaging.version.Version parses. Any
// other string is what semantic, like setuptools once did, would take as a
// "legacy" version sorted before every real one.
func checkPEP440(s string) error {
	if !pep440.MatchString(strings.ToLower(s)) {
		return errors.New("not a PEP 440 version")
	}
	return nil
}

// semverCore is a SemVer 2.0 version (its "v" dropped before this check)
// with one to three numbers in the core, as OSV writes the Go standard
// library ("0", "1.22").
var semverCore = regexp.MustCompile(`^[0-9]+(\.[0-9]+){0,2}(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?(\+[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$`)

// checkSemver accepts a SemVer version, less one pathological shape:
// semantic reads a pre-release identifier such as "-1" as the number -1,
// where SemVer has it an alphanumeric identifier ordered after every
// number, so "1.0.0--1" would sort before "1.0.0-0". No published version
// has one; refusing it is better than ordering it wrongly.
func checkSemver(s string) error {
	if !semverCore.MatchString(s) {
		return errors.New("not a semantic version")
	}
	pre, _, _ := strings.Cut(s, "+")
	if _, pre, ok := strings.Cut(pre, "-"); ok {
		for id := range strings.SplitSeq(pre, ".") {
			if len(id) > 1 && id[0] == '-' && strings.Trim(id[1:], "0123456789") == "" {
				return fmt.Errorf("pre-release identifier %q would be compared as a negative number", id)
			}
		}
	}
	return nil
}
