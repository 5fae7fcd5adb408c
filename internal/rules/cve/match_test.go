package cve

import (
	"testing"

	"github.com/kensa-dev/kensa/internal/advisory"
)

func rng(typ string, evs ...advisory.Event) advisory.Range {
	return advisory.Range{Type: typ, Events: evs}
}

func in(v string) advisory.Event  { return advisory.Event{Introduced: v} }
func fix(v string) advisory.Event { return advisory.Event{Fixed: v} }
func last(v string) advisory.Event {
	return advisory.Event{LastAffected: v}
}
func limit(v string) advisory.Event { return advisory.Event{Limit: v} }

// TestEvaluateOSVSemantics pins the OSV schema's evaluation of ranges,
// each case a real shape from the feeds.
func TestEvaluateOSVSemantics(t *testing.T) {
	for _, c := range []struct {
		name      string
		eco       string
		af        advisory.Affected
		installed string
		vuln      bool
		fix       string
		fixed     string
	}{
		// GO-2024-2687: two branches of stdlib.
		{"go branch 1.21", "Go", advisory.Affected{Ranges: []advisory.Range{rng("SEMVER", in("0"), fix("1.21.9"), in("1.22.0-0"), fix("1.22.2"))}}, "v1.21.5", true, "fixed", "1.21.9"},
		{"go branch 1.22", "Go", advisory.Affected{Ranges: []advisory.Range{rng("SEMVER", in("0"), fix("1.21.9"), in("1.22.0-0"), fix("1.22.2"))}}, "v1.22.1", true, "fixed", "1.22.2"},
		{"go fixed in 1.21", "Go", advisory.Affected{Ranges: []advisory.Range{rng("SEMVER", in("0"), fix("1.21.9"), in("1.22.0-0"), fix("1.22.2"))}}, "v1.21.10", false, "", ""},
		{"go after all fixes", "Go", advisory.Affected{Ranges: []advisory.Range{rng("SEMVER", in("0"), fix("1.21.9"), in("1.22.0-0"), fix("1.22.2"))}}, "v1.26.8", false, "", ""},
		{"events unsorted", "Go", advisory.Affected{Ranges: []advisory.Range{rng("SEMVER", in("1.22.0-0"), fix("1.22.2"), in("0"), fix("1.21.9"))}}, "v1.22.1", true, "fixed", "1.22.2"},
		// dpkg: a security backport is the fix of its release.
		{"debian backport", "Debian:12", advisory.Affected{Ranges: []advisory.Range{rng("ECOSYSTEM", in("0"), fix("3.0.11-1~deb12u2"))}}, "3.0.11-1~deb12u1", true, "fixed", "3.0.11-1~deb12u2"},
		{"debian at fix", "Debian:12", advisory.Affected{Ranges: []advisory.Range{rng("ECOSYSTEM", in("0"), fix("3.0.11-1~deb12u2"))}}, "3.0.11-1~deb12u2", false, "", ""},
		{"debian binNMU above fix", "Debian:12", advisory.Affected{Ranges: []advisory.Range{rng("ECOSYSTEM", in("0"), fix("5.2.15-2"))}}, "5.2.15-2+b8", false, "", ""},
		{"introduced later", "PyPI", advisory.Affected{Ranges: []advisory.Range{rng("ECOSYSTEM", in("3.1"), fix("41.0.6"))}}, "2.9", false, "", ""},
		{"introduced inclusive", "PyPI", advisory.Affected{Ranges: []advisory.Range{rng("ECOSYSTEM", in("3.1"), fix("41.0.6"))}}, "3.1", true, "fixed", "41.0.6"},
		{"last_affected inclusive", "npm", advisory.Affected{Ranges: []advisory.Range{rng("SEMVER", in("0"), last("1.2.3"))}}, "1.2.3", true, "unfixed", ""},
		{"after last_affected", "npm", advisory.Affected{Ranges: []advisory.Range{rng("SEMVER", in("0"), last("1.2.3"))}}, "1.2.4", false, "", ""},
		{"no fix at all", "PyPI", advisory.Affected{Ranges: []advisory.Range{rng("ECOSYSTEM", in("0"))}}, "9.9", true, "unfixed", ""},
		{"below limit", "Go", advisory.Affected{Ranges: []advisory.Range{rng("SEMVER", in("0"), limit("2.0.0"))}}, "1.5.0", true, "unfixed", ""},
		{"at limit", "Go", advisory.Affected{Ranges: []advisory.Range{rng("SEMVER", in("0"), limit("2.0.0"))}}, "2.0.0", false, "", ""},
		{"versions list", "PyPI", advisory.Affected{Versions: []string{"1.0", "1.1"}}, "1.1", true, "unfixed", ""},
		{"versions list normalised", "PyPI", advisory.Affected{Versions: []string{"1.0", "1.1"}}, "1.1.0", true, "unfixed", ""},
		{"versions list miss", "PyPI", advisory.Affected{Versions: []string{"1.0", "1.1"}}, "1.2", false, "", ""},
		{"range fix beats list", "PyPI", advisory.Affected{Ranges: []advisory.Range{rng("ECOSYSTEM", in("0"), fix("23.3"))}, Versions: []string{"23.2.1"}}, "23.2.1", true, "fixed", "23.3"},
		// rpm with epoch: the module build of AlmaLinux 8.
		{"rpm epoch", "AlmaLinux:8", advisory.Affected{Ranges: []advisory.Range{rng("ECOSYSTEM", in("0"), fix("1:0.1.15-2.git2d0b8a3.module_el8.5.0+119+9a9ec082"))}}, "1:0.1.15-1.module_el8.4.0+2496+12421f43", true, "fixed", "1:0.1.15-2.git2d0b8a3.module_el8.5.0+119+9a9ec082"},
		{"rpm missing epoch is 0", "AlmaLinux:8", advisory.Affected{Ranges: []advisory.Range{rng("ECOSYSTEM", in("0"), fix("1:1.0-1.el8"))}}, "2.0-1.el8", true, "fixed", "1:1.0-1.el8"},
		// Vendor statuses hold whatever the version.
		{"unfixed status", "Ubuntu:20.04:LTS", advisory.Affected{Status: advisory.StatusUnfixed, VendorStatus: "needed"}, "1.0-1", true, "unfixed", ""},
		{"will not fix", "Ubuntu:20.04:LTS", advisory.Affected{Status: advisory.StatusWillNotFix, VendorStatus: "ignored"}, "1.0-1", true, "will_not_fix", ""},
		{"not affected", "Ubuntu:20.04:LTS", advisory.Affected{Status: advisory.StatusNotAffected, VendorStatus: "not-affected (code not present)"}, "1.0-1", false, "", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			if c.af.Status == "" {
				c.af.Status = advisory.StatusAffected
			}
			v, err := evaluate(c.eco, &c.af, c.installed)
			if err != nil {
				t.Fatal(err)
			}
			if v.vulnerable != c.vuln || v.fix != c.fix || v.fixed != c.fixed {
				t.Errorf("got vulnerable=%v fix=%q fixed=%q (%s; %s), want %v %q %q", v.vulnerable, v.fix, v.fixed, v.matched, v.comparison, c.vuln, c.fix, c.fixed)
			}
			if v.vulnerable && v.matched == "" {
				t.Error("a match must say what matched")
			}
		})
	}
}

func TestEvaluateErrors(t *testing.T) {
	af := advisory.Affected{Status: advisory.StatusAffected, Ranges: []advisory.Range{rng("ECOSYSTEM", in("0"), fix("1.0"))}}
	if _, err := evaluate("Debian:12", &af, "1:"); err == nil {
		t.Error("an invalid installed version must be an error, not a verdict")
	}
	if _, err := evaluate("NoSuchEcosystem", &af, "1.0"); err == nil {
		t.Error("an unknown ecosystem must be an error")
	}
	bad := advisory.Affected{Status: "maybe"}
	if _, err := evaluate("Debian:12", &bad, "1.0"); err == nil {
		t.Error("an unknown status must be an error")
	}
}

func TestRating(t *testing.T) {
	for _, c := range []struct {
		name string
		sets []ratedSet
		want string
		src  string
	}{
		{"vendor first", []ratedSet{{"ALSA-1", []advisory.Severity{{Source: advisory.SourceCVSS, Type: "CVSS_V3", Value: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}, {Source: advisory.SourceVendor, Type: "redhat-severity", Value: "Moderate"}}}}, "medium", "vendor (redhat-severity: Moderate in ALSA-1)"},
		{"ubuntu negligible", []ratedSet{{"CVE-1", []advisory.Severity{{Source: advisory.SourceVendor, Type: "ubuntu-priority", Value: "negligible"}}}}, "informational", "vendor (ubuntu-priority: negligible in CVE-1)"},
		{"debian guessed urgency", []ratedSet{{"CVE-1", []advisory.Severity{{Source: advisory.SourceVendor, Type: "debian-urgency", Value: "low**"}}}}, "low", "vendor (debian-urgency: low** in CVE-1)"},
		{"untriaged falls to cvss", []ratedSet{{"CVE-1", []advisory.Severity{{Source: advisory.SourceVendor, Type: "ubuntu-priority", Value: "untriaged"}, {Source: advisory.SourceCVSS, Type: "CVSS_V3", Value: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}}}}, "high", "CVSS_V3 base score 9.8 from CVE-1"},
		{"cvss v4 preferred", []ratedSet{{"X", []advisory.Severity{{Source: advisory.SourceCVSS, Type: "CVSS_V3", Value: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}, {Source: advisory.SourceCVSS, Type: "CVSS_V4", Value: "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"}, {Source: advisory.SourceCVSS, Type: "CVSS_V3", Value: "CVSS:3.1/AV:L/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N"}}}}, "high", "CVSS_V4 base score 9.3"},
		{"bad vector skipped", []ratedSet{{"X", []advisory.Severity{{Source: advisory.SourceCVSS, Type: "CVSS_V3", Value: "CVSS:3.1/garbage"}}}}, "unrated", "none"},
		{"nothing", nil, "unrated", "none"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := rate(c.sets)
			if string(r.severity) != c.want || len(r.source) < len(c.src) || r.source[:len(c.src)] != c.src {
				t.Errorf("got %s (%s), want %s (%s...)", r.severity, r.source, c.want, c.src)
			}
		})
	}
}

// Review cases: a fix that another matching range still covers is no fix;
// a branch closed by last_affected has no fix even if a later branch has.
func TestEvaluateFixOfTheBranch(t *testing.T) {
	for _, c := range []struct {
		name   string
		ranges []advisory.Range
		v      string
		fix    string
		fixed  string
	}{
		{"one range has no fix", []advisory.Range{rng("ECOSYSTEM", in("0")), rng("ECOSYSTEM", in("0"), fix("1.5"))}, "1.2", "unfixed", ""},
		{"newest of two fixes", []advisory.Range{rng("ECOSYSTEM", in("0"), fix("1.5")), rng("ECOSYSTEM", in("1.0"), fix("1.7"))}, "1.2", "fixed", "1.7"},
		{"last_affected branch", []advisory.Range{rng("ECOSYSTEM", in("0"), last("1.4"), in("2.0"), fix("2.3"))}, "1.2", "unfixed", ""},
		{"later branch", []advisory.Range{rng("ECOSYSTEM", in("0"), last("1.4"), in("2.0"), fix("2.3"))}, "2.1", "fixed", "2.3"},
	} {
		af := advisory.Affected{Status: advisory.StatusAffected, Ranges: c.ranges}
		v, err := evaluate("PyPI", &af, c.v)
		if err != nil || !v.vulnerable || v.fix != c.fix || v.fixed != c.fixed {
			t.Errorf("%s: %+v %v", c.name, v, err)
		}
	}
}
