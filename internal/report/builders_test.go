package report

import (
	"time"

	"github.com/kensa-dev/kensa/internal/finding"
	"github.com/kensa-dev/kensa/internal/host"
)

// The builders below make the reports the tests render and validate. Every
// builder is listed in testReports, and TestBuildersValidate checks each
// one against the schema, so the renderers are never tested on reports the
// contract forbids.

var (
	testStart = time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)
	testEnd   = testStart.Add(42*time.Second + 500*time.Millisecond)
)

func testReports() map[string]func() *Report {
	return map[string]func() *Report{
		"full":             fullReport,
		"empty_incomplete": emptyIncompleteReport,
		"clean":            cleanReport,
		"cve_only":         cveOnlyReport,
	}
}

func score(v float64) *float64 { return &v }

const testMachineID = "4f1c2a9e8b7d4c3fa1e2d3c4b5a69788"

// cveFinding builds a CVE finding the way the cve rules package is meant
// to: the id from the Subject, which holds no version.
func cveFinding(sev finding.Severity, sc *float64, vuln, aliases, pkg, version, source, fixed, eco, location, title string) finding.Finding {
	// docs/report.md, "Fingerprint": an OS package is named alone; other
	// software by ecosystem, name and the (version-free) file it is in.
	target := pkg
	if source == "" {
		target = eco + ":" + pkg + "@" + location
	}
	return finding.Finding{
		ID: finding.Fingerprint(finding.Subject{
			Host: testMachineID, RulesPackage: finding.PackageCVE, RuleID: "cve/" + eco,
			Target: target, VulnerabilityID: vuln,
		}),
		RulesPackage:   finding.PackageCVE,
		RuleID:         "cve/" + eco,
		Severity:       sev,
		Score:          sc,
		Title:          title,
		Description:    title + ".",
		Recommendation: "Upgrade " + pkg + " to " + fixed + " or later.",
		Evidence:       []string{pkg + " " + version + " is installed (" + location + ")"},
		Attributes: map[string]string{
			"vulnerability_id": vuln,
			"aliases":          aliases,
			"package_name":     pkg,
			"package_version":  version,
			"source_package":   source,
			"fixed_version":    fixed,
			"ecosystem":        eco,
			"location":         location,
		},
	}
}

func ruleFinding(pkg, rule string, sev finding.Severity, target, title, rec string, evidence ...string) finding.Finding {
	return finding.Finding{
		ID: finding.Fingerprint(finding.Subject{
			Host: testMachineID, RulesPackage: pkg, RuleID: rule, Target: target,
		}),
		RulesPackage:   pkg,
		RuleID:         rule,
		Severity:       sev,
		Title:          title,
		Description:    title + ".",
		Recommendation: rec,
		Evidence:       evidence,
		Attributes:     map[string]string{"target": target},
	}
}

func testHost() Host {
	return Host{
		Hostname:  "web-01",
		MachineID: testMachineID,
		Root:      "/",
		Live:      true,
		OS: OS{
			Family: "debian", ID: "debian", Release: "12.9",
			PrettyName: "Debian GNU/Linux 12 (bookworm)", EOL: "2026-06-10",
		},
		Kernel: "6.1.0-31-amd64",
	}
}

func testTool() Tool { return Tool{Name: "kensa", Version: "0.1.0", Commit: "47afc3d"} }

// fullReport has findings of several severities in three rules packages,
// a partial CVE package, a failed and a partial collector and a stale feed.
func fullReport() *Report {
	r := &Report{
		SchemaVersion: SchemaVersion,
		Tool:          testTool(),
		Host:          testHost(),
		StartedAt:     testStart,
		FinishedAt:    testEnd,
		Feeds: []Feed{
			{Name: "osv/Debian", Records: 51234, UpdatedAt: testStart.Add(-13 * time.Hour), AgeHours: 13, Stale: false},
			{Name: "osv/Go", Records: 4021, UpdatedAt: testStart.Add(-200 * time.Hour), AgeHours: 200, Stale: true},
		},
		Coverage: []Coverage{
			{Package: "runtime", Scope: "*", Status: NotEvaluated, Reason: "no observation window: --duration not given"},
			{Package: "cve", Scope: "npm", Status: NotEvaluated, Reason: "collector sw/npm failed"},
			{Package: "cve", Scope: "Go", Status: Evaluated},
			{Package: "cve", Scope: "Debian:12", Status: Evaluated},
			{Package: "cve", Scope: "*", Status: Partial, Reason: "1 of 3 ecosystems not evaluated"},
			{Package: "cis", Scope: "*", Status: Evaluated},
			{Package: "best-practices", Scope: "*", Status: Evaluated},
		},
		Collectors: []host.CollectorRun{
			{Name: "os/release", Status: host.StatusOK, Items: 1, DurationMS: 0.4},
			{Name: "pkg/dpkg", Status: host.StatusOK, Items: 412, DurationMS: 35.2},
			{Name: "pkg/rpm", Status: host.StatusSkipped, Reason: "no rpm database", DurationMS: 0.1},
			{Name: "sw/gobinary", Status: host.StatusOK, Items: 3, DurationMS: 120.7},
			{Name: "sw/npm", Status: host.StatusFailed, Reason: "walk usr/lib/node_modules: too many levels of symbolic links", DurationMS: 2.5},
			{Name: "sw/python", Status: host.StatusPartial, Errors: []string{"usr/lib/python3/dist-packages/broken.dist-info/METADATA: truncated header"}, ErrorCount: 2, Items: 57, DurationMS: 48},
		},
		Results: []finding.Result{
			{RulesPackage: "cis", RuleID: "cis-5.2.10", Target: "/etc/ssh/sshd_config", Status: finding.StatusFail},
			{RulesPackage: "cis", RuleID: "cis-5.2.9", Target: "/etc/ssh/sshd_config", Status: finding.StatusPass},
			{RulesPackage: "cis", RuleID: "cis-1.1.2", Status: finding.StatusNotApplicable, Reason: "no separate /tmp partition rule on a container root"},
			{RulesPackage: "best-practices", RuleID: "bp-world-writable", Target: "/srv/upload", Status: finding.StatusFail},
			{RulesPackage: "best-practices", RuleID: "bp-password-aging", Target: "deploy", Status: finding.StatusFail},
			{RulesPackage: "best-practices", RuleID: "bp-sysctl", Status: finding.StatusError, Reason: "read proc/sys/net/ipv4/ip_forward: permission denied"},
			{RulesPackage: "cve", RuleID: "cve/Debian", Target: "libcurl4", Status: finding.StatusFail},
			{RulesPackage: "cve", RuleID: "cve/Debian", Target: "libssl3", Status: finding.StatusFail},
			{RulesPackage: "cve", RuleID: "cve/Go", Target: "stdlib", Status: finding.StatusFail},
		},
		Findings: []finding.Finding{
			ruleFinding("best-practices", "bp-password-aging", finding.Informational, "deploy",
				"Password of deploy never expires", "Set a maximum password age with chage -M.",
				"deploy: max_days empty in /etc/shadow"),
			cveFinding(finding.Low, score(3.7), "CVE-2024-2511", "DSA-5678-1",
				"libssl3", "3.0.11-1~deb12u2", "openssl", "3.0.13-1~deb12u1", "Debian", "/var/lib/dpkg/status",
				"openssl: unbounded memory growth with session handling in TLSv1.3"),
			ruleFinding("cis", "cis-5.2.10", finding.Medium, "/etc/ssh/sshd_config",
				"SSH root login is permitted", "Set PermitRootLogin no in /etc/ssh/sshd_config and reload sshd.",
				"/etc/ssh/sshd_config:32: PermitRootLogin yes"),
			cveFinding(finding.High, score(9.8), "CVE-2023-38545", "DSA-5523-1",
				"libcurl4", "7.88.1-10+deb12u1", "curl", "7.88.1-10+deb12u4", "Debian", "/var/lib/dpkg/status",
				"curl: heap based buffer overflow in the SOCKS5 proxy handshake"),
			cveFinding(finding.Unrated, nil, "GO-2024-2687", "CVE-2023-45288",
				"stdlib", "go1.21.0", "", "1.21.9", "Go", "/usr/local/bin/app",
				"net/http: HTTP/2 CONTINUATION flood"),
			ruleFinding("best-practices", "bp-world-writable", finding.Low, "/srv/upload",
				"World-writable directory without the sticky bit", "Remove o+w from /srv/upload or set the sticky bit.",
				"/srv/upload mode 0777 owner root:root"),
		},
	}
	r.Summary = Summarize(r)
	return r
}

// emptyIncompleteReport has no findings and several scopes that were not
// evaluated: the case that must never read as "clean".
func emptyIncompleteReport() *Report {
	r := &Report{
		SchemaVersion: SchemaVersion,
		Tool:          Tool{Name: "kensa", Version: "0.1.0"},
		Host: Host{
			Hostname: "build-7",
			Root:     "/mnt/image",
			Live:     false,
			OS:       OS{Family: "alpine", ID: "alpine", Release: "3.18.4", PrettyName: "Alpine Linux v3.18", EOL: "2025-05-09", EOLReached: true},
		},
		StartedAt:  testStart,
		FinishedAt: testStart.Add(800 * time.Millisecond),
		Feeds:      []Feed{},
		Coverage: []Coverage{
			{Package: "cve", Scope: "*", Status: NotEvaluated, Reason: "no vulnerability feed loaded: run kensa db update"},
			{Package: "cve", Scope: "Alpine:3.18", Status: NotEvaluated, Reason: "no feed for Alpine 3.18"},
			{Package: "cis", Scope: "*", Status: NotEvaluated, Reason: "no CIS benchmark for alpine 3.18"},
			{Package: "best-practices", Scope: "*", Status: Evaluated},
			{Package: "runtime", Scope: "*", Status: NotEvaluated, Reason: "an image has no running system"},
		},
		Collectors: []host.CollectorRun{
			{Name: "os/release", Status: host.StatusOK, Items: 1, DurationMS: 0.3},
			{Name: "pkg/apk", Status: host.StatusOK, Items: 14, DurationMS: 2},
		},
		Results: []finding.Result{
			{RulesPackage: "best-practices", RuleID: "bp-world-writable", Status: finding.StatusPass},
		},
		Findings: []finding.Finding{},
	}
	r.Summary = Summarize(r)
	return r
}

// cleanReport has no findings and every scope evaluated.
func cleanReport() *Report {
	r := &Report{
		SchemaVersion: SchemaVersion,
		Tool:          testTool(),
		Host:          testHost(),
		StartedAt:     testStart,
		FinishedAt:    testEnd,
		Feeds:         []Feed{{Name: "osv/Debian", Records: 51234, UpdatedAt: testStart.Add(-30 * time.Minute), AgeHours: 0.5}},
		Coverage: []Coverage{
			{Package: "cve", Scope: "*", Status: Evaluated},
			{Package: "cve", Scope: "Debian:12", Status: Evaluated},
			{Package: "cis", Scope: "*", Status: Evaluated},
			{Package: "best-practices", Scope: "*", Status: Evaluated},
			{Package: "runtime", Scope: "*", Status: Evaluated},
		},
		Collectors: []host.CollectorRun{{Name: "pkg/dpkg", Status: host.StatusOK, Items: 412, DurationMS: 35}},
		Results: []finding.Result{
			{RulesPackage: "cis", RuleID: "cis-5.2.10", Target: "/etc/ssh/sshd_config", Status: finding.StatusPass},
		},
		Findings: nil, // nil on purpose: WriteJSON must still write []
	}
	r.Summary = Summarize(r)
	return r
}

// cveOnlyReport is a scan narrowed with --packages cve: complete for what
// ran, with the other packages not run.
func cveOnlyReport() *Report {
	r := cleanReport()
	r.Coverage = []Coverage{
		{Package: "cve", Scope: "*", Status: Evaluated},
		{Package: "cve", Scope: "Debian:12", Status: Evaluated},
	}
	r.Results = []finding.Result{{RulesPackage: "cve", RuleID: "cve/Debian", Target: "libssl3", Status: finding.StatusPass}}
	r.Summary = Summarize(r)
	return r
}
