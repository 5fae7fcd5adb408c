package suppress

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kensa-dev/kensa/internal/finding"
)

// vuln is a vulnerability finding as the CVE rules package makes one:
// of an OS package without location, of a Go binary with one.
func vuln(id, pkg, src, location string, aliases ...string) finding.Finding {
	rule := "cve/Debian"
	if location != "" {
		rule = "cve/Go"
	}
	return finding.Finding{
		ID:           finding.Fingerprint(finding.Subject{Host: "m1", RulesPackage: finding.PackageCVE, RuleID: rule, Target: pkg, VulnerabilityID: id}),
		RulesPackage: finding.PackageCVE,
		RuleID:       rule,
		Severity:     finding.High,
		Title:        id + " in " + pkg,
		Vulnerability: &finding.Vulnerability{
			ID: id, Aliases: aliases, Ecosystem: "Debian:12", Package: pkg, InstalledVersion: "1.0",
			SourcePackage: src, Location: location,
		},
		Attributes: map[string]string{
			"vulnerability_id": id, "aliases": strings.Join(aliases, ","), "package_name": pkg,
			"package_version": "1.0", "source_package": src, "ecosystem": "Debian:12",
			"location": cmp.Or(location, "/var/lib/dpkg/status"),
		},
	}
}

// other is a finding of another rules package, with its attributes.
func other(pkg, rule string, attrs map[string]string) finding.Finding {
	return finding.Finding{
		ID:           finding.Fingerprint(finding.Subject{Host: "m1", RulesPackage: pkg, RuleID: rule, Target: attrs["target"]}),
		RulesPackage: pkg, RuleID: rule, Severity: finding.Medium, Title: rule, Attributes: attrs,
	}
}

// rule returns r with a reason and an owner, as every loaded rule has.
func rule(r Rule) Rule {
	r.Reason, r.Owner = "accepted", "sec@example.com"
	return r
}

func date(s string) *time.Time {
	t, err := time.Parse(dateLayout, s)
	if err != nil {
		panic(err)
	}
	return &t
}

var now = time.Date(2025, 6, 15, 12, 0, 0, 0, time.UTC)

func TestMatchers(t *testing.T) {
	curl := vuln("CVE-2023-38545", "curl", "", "", "DSA-5523-1", "GHSA-xxxx-yyyy-zzzz")
	libssl := vuln("CVE-2024-2511", "libssl3", "openssl", "")
	goBin := vuln("GO-2024-2687", "stdlib", "", "/opt/app/testdata/bin/server")
	cis := other(finding.PackageCIS, "cis-5.2.10", map[string]string{"target": "sshd", "cis_id": "5.2.10"})
	shadow := other(finding.PackageCIS, "cis-7.1.5", map[string]string{"target": "/etc/shadow"})
	dep := other(finding.PackageRuntime, "software-without-dep", map[string]string{"target": "/opt/vendor/bin/agent", "path": "/opt/vendor/bin/agent", "package": "vendor-agent"})
	root := other(finding.PackageRuntime, "root-process-insecure-permissions", map[string]string{"target": "x", "exe": "/usr/sbin/cron", "path": "/usr/lib/libfoo.so", "writable": "/srv/shared/lib"})
	telnet := other(finding.PackageRuntime, "insecure-server-protocol", map[string]string{"target": "tcp 0.0.0.0:23", "exe": "/usr/sbin/in.telnetd", "local": "0.0.0.0:23"})
	eol := other(finding.PackageCVE, "os-end-of-life", map[string]string{"target": "debian 10", "eol": "2024-06-30"})

	for _, tc := range []struct {
		name string
		r    Rule
		f    finding.Finding
		want bool
	}{
		// vulnerability: the id or an alias, exactly, any case.
		{"vuln id", Rule{Vulnerability: "CVE-2023-38545"}, curl, true},
		{"vuln id lower case", Rule{Vulnerability: "cve-2023-38545"}, curl, true},
		{"vuln alias DSA", Rule{Vulnerability: "DSA-5523-1"}, curl, true},
		{"vuln alias GHSA", Rule{Vulnerability: "ghsa-xxxx-yyyy-zzzz"}, curl, true},
		{"vuln other id", Rule{Vulnerability: "CVE-2023-38546"}, curl, false},
		{"vuln prefix is not a match", Rule{Vulnerability: "CVE-2023-3854"}, curl, false},
		{"vuln on a config finding", Rule{Vulnerability: "CVE-2023-38545"}, cis, false},
		{"vuln in attributes only", Rule{Vulnerability: "DSA-5523-1"}, func() finding.Finding { f := curl; f.Vulnerability = nil; return f }(), true},
		{"vuln alias in vulnerability only", Rule{Vulnerability: "DSA-5523-1"}, func() finding.Finding { f := curl; f.Attributes = nil; return f }(), true},
		// rule: glob over the rule id.
		{"rule exact", Rule{Rule: "cis-5.2.10"}, cis, true},
		{"rule glob", Rule{Rule: "cis-5.2.*"}, cis, true},
		{"rule glob other section", Rule{Rule: "cis-5.3.*"}, cis, false},
		{"rule cve/*", Rule{Rule: "cve/*"}, libssl, true},
		{"rule cve/* on os-end-of-life", Rule{Rule: "cve/*"}, eol, false},
		{"rule case", Rule{Rule: "CVE/debian"}, libssl, true},
		// package: binary or source package of a vulnerability, the
		// owning package of a runtime finding.
		{"package binary", Rule{Package: "libssl3"}, libssl, true},
		{"package source", Rule{Package: "openssl"}, libssl, true},
		{"package source in vulnerability only", Rule{Package: "openssl"}, func() finding.Finding { f := libssl; f.Attributes = nil; return f }(), true},
		{"package source in attributes only", Rule{Package: "openssl"}, func() finding.Finding { f := libssl; f.Vulnerability = nil; return f }(), true},
		{"package glob", Rule{Package: "libssl*"}, libssl, true},
		{"package other", Rule{Package: "curl"}, libssl, false},
		{"package runtime", Rule{Package: "vendor-*"}, dep, true},
		{"package on a config finding", Rule{Package: "*"}, cis, false},
		{"package is not the target", Rule{Package: "sshd"}, cis, false},
		// path: location, path, exe, writable, a path target.
		{"path location", Rule{Path: "/opt/**/testdata/**"}, goBin, true},
		{"path location star", Rule{Path: "/opt/*/testdata/bin/*"}, goBin, true},
		{"path star stays in a segment", Rule{Path: "/opt/*"}, goBin, false},
		{"path dpkg status", Rule{Path: "/var/lib/dpkg/status"}, libssl, true},
		{"path target", Rule{Path: "/etc/shadow"}, shadow, true},
		{"path target not a path", Rule{Path: "**"}, cis, false},
		{"path attribute", Rule{Path: "/opt/vendor/**"}, dep, true},
		{"path exe", Rule{Path: "/usr/sbin/cron"}, root, true},
		{"path mapped file", Rule{Path: "/usr/lib/*.so"}, root, true},
		{"path writable", Rule{Path: "/srv/**"}, root, true},
		{"path telnetd", Rule{Path: "**/in.telnetd"}, telnet, true},
		{"path case matters", Rule{Path: "/ETC/shadow"}, shadow, false},
		{"path other", Rule{Path: "/home/**"}, root, false},
		// host: host name or machine id.
		{"host name", Rule{Rule: "*", Host: "web-*"}, cis, true},
		{"host machine id", Rule{Rule: "*", Host: "0123abcd*"}, cis, true},
		{"host case", Rule{Rule: "*", Host: "WEB-01.example.com"}, cis, true},
		{"host other", Rule{Rule: "*", Host: "db-*"}, cis, false},
		// rules_package.
		{"rules_package", Rule{Rule: "*", RulesPackage: "cis"}, cis, true},
		{"rules_package case", Rule{Rule: "*", RulesPackage: "CIS"}, cis, true},
		{"rules_package other", Rule{Rule: "*", RulesPackage: "runtime"}, cis, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &File{Rules: []Rule{rule(tc.r)}}
			if err := f.Rules[0].Validate(); err != nil {
				t.Fatalf("rule invalid: %v", err)
			}
			out := f.Apply("web-01.example.com", "0123abcdef", []finding.Finding{tc.f}, now)
			if got := len(out.Suppressed) == 1; got != tc.want {
				t.Errorf("suppressed = %v, want %v", got, tc.want)
			}
			if len(out.Kept)+len(out.Suppressed) != 1 {
				t.Errorf("kept %d + suppressed %d, want 1 in all", len(out.Kept), len(out.Suppressed))
			}
		})
	}
}

// TestAnd: every field a rule sets must match; one mismatch keeps the
// finding.
func TestAnd(t *testing.T) {
	libssl := vuln("CVE-2024-2511", "libssl3", "openssl", "")
	full := Rule{Vulnerability: "CVE-2024-2511", Rule: "cve/*", Package: "openssl", Host: "web-*", Path: "/var/lib/**", RulesPackage: "cve"}
	f := &File{Rules: []Rule{rule(full)}}
	if out := f.Apply("web-01", "", []finding.Finding{libssl}, now); len(out.Suppressed) != 1 {
		t.Fatalf("all fields match: not suppressed")
	}
	for _, spoil := range []func(*Rule){
		func(r *Rule) { r.Vulnerability = "CVE-2024-0001" },
		func(r *Rule) { r.Rule = "cis-*" },
		func(r *Rule) { r.Package = "curl" },
		func(r *Rule) { r.Host = "db-*" },
		func(r *Rule) { r.Path = "/opt/**" },
		func(r *Rule) { r.RulesPackage = "runtime" },
	} {
		r := full
		spoil(&r)
		f := &File{Rules: []Rule{rule(r)}}
		out := f.Apply("web-01", "", []finding.Finding{libssl}, now)
		if len(out.Suppressed) != 0 || len(out.Kept) != 1 {
			t.Errorf("%s: suppressed although one field does not match", r.String())
		}
		if len(out.Unused) != 1 {
			t.Errorf("%s: not listed as unused", r.String())
		}
	}
}

// TestHostNeedsIdentity: a host pattern never matches a host with
// neither a name nor a machine id, not even "*".
func TestHostNeedsIdentity(t *testing.T) {
	f := &File{Rules: []Rule{rule(Rule{Rule: "*", Host: "*"})}}
	cis := other(finding.PackageCIS, "cis-1", map[string]string{"target": "x"})
	if out := f.Apply("", "", []finding.Finding{cis}, now); len(out.Suppressed) != 0 {
		t.Error("host * matched a host without identity")
	}
	if out := f.Apply("", "abc", []finding.Finding{cis}, now); len(out.Suppressed) != 1 {
		t.Error("host * did not match a host with only a machine id")
	}
}

// TestExpiry: the expiry day applies to its end in UTC; from 00:00 UTC
// the next day the rule is expired and applies to nothing.
func TestExpiry(t *testing.T) {
	cis := other(finding.PackageCIS, "cis-1.1", map[string]string{"target": "x"})
	r := rule(Rule{Rule: "cis-1.1", Expires: date("2025-06-30"), Line: 7})
	f := &File{Rules: []Rule{r}}
	for _, tc := range []struct {
		now     time.Time
		expired bool
	}{
		{time.Date(2025, 6, 29, 0, 0, 0, 0, time.UTC), false},
		{time.Date(2025, 6, 30, 0, 0, 0, 0, time.UTC), false},
		{time.Date(2025, 6, 30, 23, 59, 59, 999999999, time.UTC), false},
		{time.Date(2025, 7, 1, 0, 0, 0, 0, time.UTC), true},
		{time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), true},
		// 01:30 on 1 July in UTC+2 is 23:30 on 30 June UTC: applies.
		{time.Date(2025, 7, 1, 1, 30, 0, 0, time.FixedZone("CEST", 2*3600)), false},
		// 21:00 on 30 June in UTC-4 is 01:00 on 1 July UTC: expired.
		{time.Date(2025, 6, 30, 21, 0, 0, 0, time.FixedZone("EDT", -4*3600)), true},
	} {
		out := f.Apply("h", "", []finding.Finding{cis}, tc.now)
		if got := r.Expired(tc.now); got != tc.expired {
			t.Errorf("%v: Expired = %v, want %v", tc.now, got, tc.expired)
		}
		if tc.expired {
			if len(out.Kept) != 1 || len(out.Suppressed) != 0 || len(out.Expired) != 1 || len(out.Unused) != 0 {
				t.Errorf("%v: expired rule: kept %d suppressed %d expired %d unused %d, want 1 0 1 0",
					tc.now, len(out.Kept), len(out.Suppressed), len(out.Expired), len(out.Unused))
			}
			if len(out.Expired) == 1 && out.Expired[0].Line != 7 {
				t.Errorf("expired rule line %d, want 7", out.Expired[0].Line)
			}
		} else if len(out.Suppressed) != 1 || len(out.Expired) != 0 {
			t.Errorf("%v: rule in force: suppressed %d expired %d, want 1 0", tc.now, len(out.Suppressed), len(out.Expired))
		}
	}
	if got := r.ExpiresDate(); got != "2025-06-30" {
		t.Errorf("ExpiresDate = %q", got)
	}
	if got := rule(Rule{Rule: "x"}).ExpiresDate(); got != "" {
		t.Errorf("ExpiresDate without expiry = %q", got)
	}
}

// TestUnusedExpired: the lists hold the right rules in file order, and
// the first rule in force claims a finding several match.
func TestUnusedExpired(t *testing.T) {
	curl := vuln("CVE-2023-38545", "curl", "", "")
	libssl := vuln("CVE-2024-2511", "libssl3", "openssl", "")
	cis := other(finding.PackageCIS, "cis-5.2.10", map[string]string{"target": "sshd"})
	f := &File{Rules: []Rule{
		rule(Rule{Line: 1, Vulnerability: "CVE-2023-38545", Expires: date("2025-01-01")}), // expired: curl comes back
		rule(Rule{Line: 2, Package: "openssl"}),                                           // takes libssl
		rule(Rule{Line: 3, Rule: "cve/*"}),                                                // takes curl; also matches libssl
		rule(Rule{Line: 4, Rule: "cis-9.*"}),                                              // unused
		rule(Rule{Line: 5, Rule: "cis-*", Expires: date("2025-06-01")}),                   // expired, would match cis
		rule(Rule{Line: 6, Rule: "cis-5.*", Expires: date("2025-12-31")}),                 // in force: takes cis
		rule(Rule{Line: 7, Host: "db-*", Rule: "*"}),                                      // unused: other host
	}}
	in := []finding.Finding{curl, libssl, cis}
	out := f.Apply("web-01", "", in, now)
	if len(out.Kept) != 0 {
		t.Errorf("kept %v, want none", titles(out.Kept))
	}
	var got []string
	for _, s := range out.Suppressed {
		got = append(got, fmt.Sprintf("%s by %d", s.Finding.Title, s.Rule.Line))
	}
	want := []string{"CVE-2023-38545 in curl by 3", "CVE-2024-2511 in libssl3 by 2", "cis-5.2.10 by 6"}
	if !slices.Equal(got, want) {
		t.Errorf("suppressed %q, want %q", got, want)
	}
	if got := lines(out.Expired); !slices.Equal(got, []int{1, 5}) {
		t.Errorf("expired lines %v, want [1 5]", got)
	}
	if got := lines(out.Unused); !slices.Equal(got, []int{4, 7}) {
		t.Errorf("unused lines %v, want [4 7]", got)
	}
	// The Rule of a Suppressed points into the file, with its reason.
	if s := out.Suppressed[0]; s.Rule != &f.Rules[2] || s.Rule.Reason != "accepted" {
		t.Errorf("Suppressed.Rule = %p %+v, want &f.Rules[2]", s.Rule, s.Rule)
	}
}

func lines(rs []Rule) []int {
	var out []int
	for _, r := range rs {
		out = append(out, r.Line)
	}
	return out
}

func titles(fs []finding.Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Title)
	}
	return out
}

func TestNilFile(t *testing.T) {
	var f *File
	in := []finding.Finding{vuln("CVE-1", "a", "", ""), vuln("CVE-2", "b", "", "")}
	out := f.Apply("h", "m", in, now)
	if len(out.Kept) != 2 || len(out.Suppressed)+len(out.Expired)+len(out.Unused) != 0 {
		t.Errorf("nil file: %+v", out)
	}
	out.Kept[0].Title = "changed"
	if in[0].Title == "changed" {
		t.Error("Kept shares the caller's backing array")
	}
}

// TestInvalidHandBuiltRule: a rule that fails Validate matches nothing
// and shows in Unused, instead of matching everything.
func TestInvalidHandBuiltRule(t *testing.T) {
	for _, r := range []Rule{
		{Reason: "r", Owner: "o"},                         // no matcher at all
		{Rule: "cis-[", Reason: "r", Owner: "o"},          // bad glob
		{Rule: "*", Reason: "r", Owner: "o", Path: "etc"}, // relative path
	} {
		if r.Validate() == nil {
			t.Errorf("%+v: Validate accepted it", r)
		}
		f := &File{Rules: []Rule{r}}
		out := f.Apply("h", "", []finding.Finding{other(finding.PackageCIS, "cis-1", map[string]string{"target": "/etc"})}, now)
		if len(out.Kept) != 1 || len(out.Unused) != 1 {
			t.Errorf("%+v: kept %d unused %d, want 1 1", r, len(out.Kept), len(out.Unused))
		}
	}
}

func TestParse(t *testing.T) {
	src := `# comment
version: 1
suppressions:
  - vulnerability: " CVE-2023-38545 "
    package: curl
    reason: not reachable
    owner: sec@example.com
    expires: 2025-06-30

  - {rule: "cis-5.2.*", host: "web-*", rules_package: cis, path: /etc/ssh/**, reason: r, owner: o}
`
	rules, err := parse([]byte(src), "input")
	if err != nil {
		t.Fatal(err)
	}
	want := []Rule{
		{Vulnerability: "CVE-2023-38545", Package: "curl", Reason: "not reachable", Owner: "sec@example.com", Expires: date("2025-06-30"), Line: 4},
		{Rule: "cis-5.2.*", Host: "web-*", RulesPackage: "cis", Path: "/etc/ssh/**", Reason: "r", Owner: "o", Line: 10},
	}
	if len(rules) != len(want) {
		t.Fatalf("%d rules, want %d", len(rules), len(want))
	}
	for i := range want {
		g, w := rules[i], want[i]
		if g.ExpiresDate() != w.ExpiresDate() {
			t.Errorf("rule %d: expires %q, want %q", i, g.ExpiresDate(), w.ExpiresDate())
		}
		g.Expires, w.Expires = nil, nil
		if g != w {
			t.Errorf("rule %d:\n got %+v\nwant %+v", i, g, w)
		}
	}
	if s := rules[0].String(); s != "line 4: vulnerability CVE-2023-38545, package curl" {
		t.Errorf("String = %q", s)
	}

	// An empty list, or none, is a file that suppresses nothing.
	for _, src := range []string{"version: 1\n", "version: 1\nsuppressions: []\n", "version: 1\nsuppressions:\n"} {
		rules, err := parse([]byte(src), "input")
		if err != nil || len(rules) != 0 {
			t.Errorf("%q: %v, %d rules", src, err, len(rules))
		}
	}
}

// TestParseErrors: every problem is an error naming its line, and all of
// a file's problems are reported at once.
func TestParseErrors(t *testing.T) {
	const head = "version: 1\nsuppressions:\n"
	for _, tc := range []struct {
		name, src string
		want      []string
	}{
		{"unknown key", head + "  - rule: x\n    reason: r\n    owner: o\n    expiers: 2025-01-01\n", []string{`input:6:5: unknown field "expiers"`}},
		{"unknown top-level key", "version: 1\nsupressions: []\n", []string{`input:2:1: unknown field "supressions"`}},
		{"missing reason", head + "  - rule: x\n    owner: o\n", []string{"input:3: no reason"}},
		{"blank reason", head + "  - rule: x\n    reason: \"  \"\n    owner: o\n", []string{"input:3: no reason"}},
		{"missing owner", head + "  - rule: x\n    reason: r\n", []string{"input:3: no owner"}},
		{"no matcher", head + "  - host: web-*\n    rules_package: cis\n    reason: r\n    owner: o\n", []string{"input:3: no vulnerability, rule, package or path"}},
		{"bad date", head + "  - rule: x\n    reason: r\n    owner: o\n    expires: 30/06/2025\n", []string{`input:3: expires "30/06/2025": want a date, YYYY-MM-DD`}},
		{"impossible date", head + "  - rule: x\n    reason: r\n    owner: o\n    expires: 2025-02-30\n", []string{`input:3: expires "2025-02-30"`}},
		{"date with time", head + "  - rule: x\n    reason: r\n    owner: o\n    expires: 2025-06-30T10:00:00Z\n", []string{`input:3: expires "2025-06-30T10:00:00Z"`}},
		{"bad rule glob", head + "  - rule: \"cis-[5\"\n    reason: r\n    owner: o\n", []string{`input:3: rule: "cis-[5": unclosed [`}},
		{"bad package glob", head + "  - package: \"lib\\\\\"\n    reason: r\n    owner: o\n", []string{`input:3: package: "lib\\": ends with a lone \`}},
		{"bad host glob", head + "  - rule: x\n    host: \"[z-a]\"\n    reason: r\n    owner: o\n", []string{"input:3: host: \"[z-a]\": range z-a is backwards"}},
		{"bad path glob", head + "  - path: /opt/a**\n    reason: r\n    owner: o\n", []string{"input:3: path: \"/opt/a**\": ** must be a whole path segment"}},
		{"relative path", head + "  - path: opt/app\n    reason: r\n    owner: o\n", []string{`input:3: path "opt/app": absolute`}},
		{"vulnerability pattern", head + "  - vulnerability: CVE-2023-*\n    reason: r\n    owner: o\n", []string{`input:3: vulnerability "CVE-2023-*": one id, not a pattern`}},
		{"unknown rules package", head + "  - rule: x\n    rules_package: cvss\n    reason: r\n    owner: o\n", []string{`input:3: rules_package "cvss": want cve, cis, best-practices, runtime`}},
		{"not a mapping", head + "  - CVE-2023-38545\n", []string{"input:3: suppression 1: want a mapping"}},
		{"null item", head + "  - rule: x\n    reason: r\n    owner: o\n  - ~\n", []string{"input:6: suppression 2: want a mapping"}},
		{"anchor and alias", head + "  - &a {rule: z, reason: r, owner: o}\n  - *a\n", []string{"input:3: suppression 1: YAML anchors and aliases are not allowed", "input:4: suppression 2: YAML anchors"}},
		{"alias in a value", head + "  - {rule: x, reason: &r why, owner: o}\n  - {rule: y, reason: *r, owner: o}\n", []string{`input:4:24: could not find alias "r"`}},
		{"suppressions not a list", "version: 1\nsuppressions:\n  rule: x\n", []string{"input:3: suppressions: want a list"}},
		{"wrong type", head + "  - rule: [a, b]\n    reason: r\n    owner: o\n", []string{"input:3:11: cannot unmarshal"}},
		{"no version", "suppressions: []\n", []string{`input:1: no version: want "version: 1"`}},
		{"empty file", "", []string{"no version"}},
		{"other version", "version: 2\nsuppressions: []\n", []string{"input: version 2: this Kensa reads version 1"}},
		{"duplicate key", head + "  - rule: x\n    rule: y\n    reason: r\n    owner: o\n", []string{`input:4:5: mapping key "rule" already defined at [3:5]`}},
		{"not yaml", "version: 1\nsuppressions: [\n", []string{"input:"}},
		{"list at top", "- rule: x\n", []string{"input:1:1:"}},
		{"all errors at once", head +
			"  - rule: x\n    owner: o\n" + // line 3: no reason
			"  - rule: y\n    reason: r\n    owner: o\n" + // fine
			"  - path: rel\n    expires: soon\n", // line 8: path, expires, reason, owner
			[]string{"input:3: no reason", `input:8: expires "soon"`, `input:8: path "rel"`, "input:8: no reason", "input:8: no owner"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parse([]byte(tc.src), "input")
			if err == nil {
				t.Fatalf("no error, want %q", tc.want)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error:\n%v\nwant it to contain %q", err, w)
				}
			}
			if got, want := strings.Count(err.Error(), "\n")+1, len(tc.want); tc.name == "all errors at once" && got != want {
				t.Errorf("%d error lines, want %d:\n%v", got, want, err)
			}
		})
	}
}

// TestExampleFile: docs/examples/kensa-ignore.yaml loads, and does what
// its comments say.
func TestExampleFile(t *testing.T) {
	p := filepath.Join("..", "..", "docs", "examples", "kensa-ignore.yaml")
	f, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Rules) != 5 {
		t.Fatalf("%d rules, want 5", len(f.Rules))
	}
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	if f.Path != p || f.SHA256 != hex.EncodeToString(sum[:]) {
		t.Errorf("Path %q SHA256 %q", f.Path, f.SHA256)
	}
	// Each rule's Line is the line of its first key.
	srcLines := strings.Split(string(data), "\n")
	for _, r := range f.Rules {
		if l := srcLines[r.Line-1]; !strings.HasPrefix(strings.TrimSpace(l), "- ") {
			t.Errorf("%s: line is %q, not a list item", r.String(), l)
		}
	}
	at := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	in := []finding.Finding{
		vuln("CVE-2023-38545", "curl", "", ""),                                                                // rule 1
		vuln("CVE-2024-2511", "libssl3", "openssl", ""),                                                       // rule 2 on build hosts only
		other(finding.PackageCIS, "cis-1.1.2.1.4", nil),                                                       // rule 3
		other(finding.PackageRuntime, "software-without-dep", map[string]string{"path": "/opt/vendor/x/bin"}), // rule 4
		vuln("GO-2024-2687", "stdlib", "", "/src/kensa/internal/testdata/old-go"),                             // rule 5
		vuln("GO-2024-2688", "stdlib", "", "/usr/local/bin/app"),                                              // kept
	}
	build := f.Apply("build-07", "", in, at)
	if len(build.Kept) != 1 || build.Kept[0].Title != "GO-2024-2688 in stdlib" || len(build.Suppressed) != 5 {
		t.Errorf("on build-07: kept %q, %d suppressed", titles(build.Kept), len(build.Suppressed))
	}
	web := f.Apply("web-01", "", in, at)
	if got := titles(web.Kept); !slices.Equal(got, []string{"CVE-2024-2511 in libssl3", "GO-2024-2688 in stdlib"}) {
		t.Errorf("on web-01: kept %q", got)
	}
	if len(web.Unused) != 1 || web.Unused[0].Host != "build-*" {
		t.Errorf("on web-01: unused %v, want the build hosts' rule", web.Unused)
	}
	// After 2026-06-30 the curl suppression has expired and curl is back.
	later := f.Apply("build-07", "", in, time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC))
	if len(later.Expired) != 2 || later.Expired[0].Vulnerability != "CVE-2023-38545" || later.Kept[0].Title != "CVE-2023-38545 in curl" {
		t.Errorf("on 2026-07-01: expired %v, kept %q", later.Expired, titles(later.Kept))
	}
}

// TestDocExample: the example in docs/suppressions.md loads.
func TestDocExample(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "suppressions.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, block, ok := strings.Cut(string(doc), "```yaml\n")
	block, _, ok2 := strings.Cut(block, "```")
	if !ok || !ok2 {
		t.Fatal("no ```yaml block in docs/suppressions.md")
	}
	rules, err := parse([]byte(block), "docs/suppressions.md")
	if err != nil {
		t.Fatal(err)
	}
	if len(rules) != 3 || rules[0].ExpiresDate() != "2026-06-30" || rules[2].Path != "/opt/vendor/**" {
		t.Errorf("doc example read as %v", rules)
	}
}

func TestLoadDefault(t *testing.T) {
	dir := t.TempDir()
	f, err := LoadDefault(dir)
	if f != nil || err != nil {
		t.Fatalf("no file: %v, %v; want nil, nil", f, err)
	}
	src := "version: 1\nsuppressions:\n  - rule: x\n    reason: r\n    owner: o\n"
	p := filepath.Join(dir, DefaultName)
	if err := os.WriteFile(p, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err = LoadDefault(dir)
	if err != nil || f == nil || len(f.Rules) != 1 || f.Path != p {
		t.Fatalf("LoadDefault: %+v, %v", f, err)
	}
	// A broken default file is an error, not a file skipped.
	if err := os.WriteFile(p, []byte(src+"    typo: 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadDefault(dir); err == nil || !strings.Contains(err.Error(), p+":6:5: unknown field") {
		t.Errorf("broken default file: %v", err)
	}
	// Load errors name the file.
	if _, err := Load(filepath.Join(dir, "missing.yaml")); err == nil || !strings.Contains(err.Error(), "missing.yaml") {
		t.Errorf("missing file: %v", err)
	}
	if _, err := Load(dir); err == nil {
		t.Error("a directory loaded")
	}
	big := filepath.Join(dir, "big.yaml")
	if err := os.WriteFile(big, []byte("version: 1\n"+strings.Repeat("#", maxFileSize)), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(big); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("oversized file: %v", err)
	}
}

// TestNeverDrops: over random findings and rules, every finding comes
// back exactly once, in Kept or Suppressed, each list in input order; a
// suppressed finding is matched by its rule, which is in force and the
// first in force that matches; a kept one is matched by no rule in force.
func TestNeverDrops(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	pick := func(s ...string) string { return s[rng.IntN(len(s))] }
	var kept, suppressed, expired, unused int
	defer func() {
		// The generator must exercise every outcome, or the checks
		// above prove little.
		if kept == 0 || suppressed == 0 || expired == 0 || unused == 0 {
			t.Errorf("outcomes over all iterations: kept %d, suppressed %d, expired %d, unused %d; want each > 0", kept, suppressed, expired, unused)
		}
		t.Logf("kept %d, suppressed %d, expired rules %d, unused rules %d", kept, suppressed, expired, unused)
	}()
	for iter := range 300 {
		var in []finding.Finding
		for i := range rng.IntN(40) {
			var f finding.Finding
			switch rng.IntN(3) {
			case 0:
				f = vuln(pick("CVE-2023-1", "CVE-2024-2", "GO-2024-3"), pick("curl", "libssl3", "stdlib"), pick("", "openssl"), pick("", "/opt/a/b", "/usr/bin/x"), pick("DSA-1", "GHSA-a"))
			case 1:
				f = other(finding.PackageCIS, pick("cis-1.1", "cis-5.2.1", "cis-5.2.10"), map[string]string{"target": pick("sshd", "/etc/shadow", "/tmp")})
			default:
				f = other(finding.PackageRuntime, pick("software-without-dep", "unused-listening-port"), map[string]string{"target": "t", "path": pick("/opt/v/x", "/usr/sbin/y"), "package": pick("", "vendor")})
			}
			f.ID = fmt.Sprintf("%032x", i) // unique, to tell findings apart
			in = append(in, f)
		}
		file := &File{}
		for i := range rng.IntN(6) {
			r := Rule{Line: i + 1}
			for r.Vulnerability == "" && r.Rule == "" && r.Package == "" && r.Path == "" {
				if rng.IntN(3) == 0 {
					r.Vulnerability = pick("CVE-2023-1", "dsa-1", "GHSA-A", "CVE-9")
				}
				if rng.IntN(3) == 0 {
					r.Rule = pick("cve/*", "cis-5.*", "cis-1.1", "*", "software-*")
				}
				if rng.IntN(3) == 0 {
					r.Package = pick("openssl", "lib*", "vendor", "curl")
				}
				if rng.IntN(3) == 0 {
					r.Path = pick("/opt/**", "/etc/*", "**/x", "/usr/bin/x")
				}
			}
			if rng.IntN(3) == 0 {
				r.Host = pick("web-*", "db-*", "m-1")
			}
			if rng.IntN(4) == 0 {
				r.RulesPackage = pick(finding.Packages()...)
			}
			if rng.IntN(3) == 0 {
				r.Expires = date(pick("2025-01-01", "2025-06-15", "2025-06-14", "2030-01-01"))
			}
			file.Rules = append(file.Rules, rule(r))
		}
		host, machine := pick("web-1", "db-1"), pick("", "m-1")
		out := file.Apply(host, machine, in, now)
		kept, suppressed, expired, unused = kept+len(out.Kept), suppressed+len(out.Suppressed), expired+len(out.Expired), unused+len(out.Unused)

		// Every finding exactly once, each list in input order.
		var ki, si int
		for _, f := range in {
			switch {
			case ki < len(out.Kept) && out.Kept[ki].ID == f.ID:
				ki++
			case si < len(out.Suppressed) && out.Suppressed[si].Finding.ID == f.ID:
				si++
			default:
				t.Fatalf("iteration %d: finding %s lost or out of order", iter, f.ID)
			}
		}
		if ki != len(out.Kept) || si != len(out.Suppressed) {
			t.Fatalf("iteration %d: %d kept + %d suppressed from %d findings", iter, len(out.Kept), len(out.Suppressed), len(in))
		}
		// Expired and in-force rules partition the file.
		if len(out.Expired)+countInForce(file, now) != len(file.Rules) {
			t.Fatalf("iteration %d: expired %d of %d rules", iter, len(out.Expired), len(file.Rules))
		}
		// The file's verdict agrees with each rule's alone: the first
		// rule in force that suppresses a finding alone took it, and no
		// rule in force suppresses a kept finding alone.
		alone := func(r Rule, f finding.Finding) bool {
			one := &File{Rules: []Rule{r}}
			return len(one.Apply(host, machine, []finding.Finding{f}, now).Suppressed) == 1
		}
		firstAlone := func(f finding.Finding) *Rule {
			for i := range file.Rules {
				if alone(file.Rules[i], f) {
					return &file.Rules[i]
				}
			}
			return nil
		}
		for _, s := range out.Suppressed {
			if s.Rule.Expired(now) {
				t.Fatalf("iteration %d: suppressed by expired %s", iter, s.Rule.String())
			}
			if first := firstAlone(s.Finding); first != s.Rule {
				t.Fatalf("iteration %d: %s suppressed by %v, but the first rule to match alone is %v", iter, s.Finding.Title, s.Rule, first)
			}
		}
		for _, f := range out.Kept {
			if r := firstAlone(f); r != nil {
				t.Fatalf("iteration %d: %s kept, but %s suppresses it alone", iter, f.Title, r.String())
			}
		}
		for _, r := range file.Rules {
			used := slices.ContainsFunc(in, func(f finding.Finding) bool { return alone(r, f) })
			listed := slices.ContainsFunc(out.Unused, func(u Rule) bool { return u.Line == r.Line })
			if !r.Expired(now) && used == listed {
				t.Fatalf("iteration %d: %s matches some finding: %v, listed unused: %v", iter, r.String(), used, listed)
			}
		}
	}
}

func countInForce(f *File, now time.Time) int {
	n := 0
	for _, r := range f.Rules {
		if !r.Expired(now) {
			n++
		}
	}
	return n
}

// BenchmarkApply: a 50,000-finding report against 100 suppressions.
func BenchmarkApply(b *testing.B) {
	var in []finding.Finding
	for i := range 50000 {
		switch i % 3 {
		case 0:
			in = append(in, vuln(fmt.Sprintf("CVE-2024-%d", i), fmt.Sprintf("lib%d", i%500), "src", ""))
		case 1:
			in = append(in, other(finding.PackageCIS, fmt.Sprintf("cis-%d.%d", i%7, i%13), map[string]string{"target": "/etc/x"}))
		default:
			in = append(in, other(finding.PackageRuntime, "software-without-dep", map[string]string{"path": fmt.Sprintf("/opt/v%d/bin/a", i%50)}))
		}
	}
	f := &File{}
	for i := range 100 {
		switch i % 4 {
		case 0:
			f.Rules = append(f.Rules, rule(Rule{Vulnerability: fmt.Sprintf("CVE-2024-%d", i*7)}))
		case 1:
			f.Rules = append(f.Rules, rule(Rule{Rule: "cve/*", Package: fmt.Sprintf("lib%d*", i)}))
		case 2:
			f.Rules = append(f.Rules, rule(Rule{Rule: fmt.Sprintf("cis-%d.*", i%9), Host: "web-*"}))
		default:
			f.Rules = append(f.Rules, rule(Rule{Path: fmt.Sprintf("/opt/v%d/**", i)}))
		}
	}
	b.ResetTimer()
	for b.Loop() {
		f.Apply("web-1", "m", in, now)
	}
}

// A rule kept outside a file (a server's stored suppression) is named by
// its id, reads its expiry as a file does, and applies like any other.
func TestStoredRule(t *testing.T) {
	exp, err := ParseExpires(" 2026-06-30 ")
	if err != nil || exp == nil || !exp.Equal(time.Date(2026, 6, 30, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("ParseExpires: %v %v", exp, err)
	}
	if none, err := ParseExpires(""); none != nil || err != nil {
		t.Errorf("ParseExpires(\"\"): %v %v", none, err)
	}
	for _, bad := range []string{"2026-02-30", "30/06/2026", "2026-06-30T00:00:00Z"} {
		if _, err := ParseExpires(bad); err == nil || !strings.Contains(err.Error(), "YYYY-MM-DD") {
			t.Errorf("ParseExpires(%q): %v", bad, err)
		}
	}
	r := Rule{ID: "sup-7", Vulnerability: "CVE-2023-38545", Package: "curl", Reason: "r", Owner: "o", Expires: exp}
	if err := r.Validate(); err != nil {
		t.Fatal(err)
	}
	if got := r.String(); got != "suppression sup-7: vulnerability CVE-2023-38545, package curl" {
		t.Errorf("String: %q", got)
	}
	f := &File{Rules: []Rule{r}}
	fs := []finding.Finding{vuln("CVE-2023-38545", "curl", "curl", ""), vuln("CVE-2024-2511", "libssl3", "openssl", "")}
	out := f.Apply("h", "m", fs, time.Date(2026, 6, 30, 23, 59, 0, 0, time.UTC))
	if len(out.Suppressed) != 1 || out.Suppressed[0].Rule.ID != "sup-7" || len(out.Kept) != 1 {
		t.Errorf("in force: %+v", out)
	}
	out = f.Apply("h", "m", fs, time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC))
	if len(out.Suppressed) != 0 || len(out.Expired) != 1 {
		t.Errorf("expired: %+v", out)
	}
}
