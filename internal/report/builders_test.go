package report

import (
	"net/netip"
	"strings"
	"time"

	"github.com/kensa-dev/kensa/internal/finding"
	"github.com/kensa-dev/kensa/internal/host"
	"github.com/kensa-dev/kensa/internal/observe"
	"github.com/kensa-dev/kensa/internal/suppress"
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
		"not_built":        notBuiltReport,
		"unknown_os":       unknownOSReport,
		"runtime":          runtimeReport,
		"suppressed":       suppressedReport,
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
		Vulnerability: &finding.Vulnerability{
			ID: vuln, Ecosystem: eco, Package: pkg, InstalledVersion: version, SourcePackage: source,
			Fix: finding.FixAvailable, FixedVersion: fixed, SeveritySource: "vendor (debian-urgency: medium in " + vuln + ")",
			Confidence: finding.ConfidenceHigh,
			Provenance: []finding.Provenance{{Method: "feed", Feed: "osv/" + eco, Record: vuln, Ecosystem: eco,
				Matched: "ECOSYSTEM range introduced 0, fixed " + fixed, Comparison: version + " < fixed " + fixed}},
		},
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
			Family: "debian", ID: "debian", Release: "12",
			PrettyName: "Debian GNU/Linux 12 (bookworm)", EOL: "2028-06-30",
		},
		Kernel: "6.1.0-31-amd64",
	}
}

func testTool() Tool { return Tool{Name: "kensa", Version: "0.1.0", Commit: "47afc3d"} }

// fullReport has findings of several severities in three rules packages,
// a partial CVE package (a failed and a partial collector), runtime not
// evaluated, a stale feed, and discovery limits hit.
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
			{Package: "runtime", Scope: "observation", Status: NotEvaluated, Reason: "no observation window: --duration not given"},
			{Package: "cve", Scope: "lang/npm", Status: NotEvaluated, Reason: "collector failed: walk usr/lib/node_modules: too many levels of symbolic links"},
			{Package: "cve", Scope: "lang/python", Status: Partial, Reason: "collector met 2 error(s); some packages may be missing"},
			{Package: "cve", Scope: "PyPI", Status: Evaluated},
			{Package: "cve", Scope: "Go", Status: Evaluated},
			{Package: "cve", Scope: "Debian:12", Status: Evaluated},
			{Package: "cve", Scope: "*", Status: Partial, Reason: "lang/npm not evaluated, lang/python partial"},
			{Package: "cis", Scope: "*", Status: Evaluated},
			{Package: "cis", Scope: "debian:12", Status: Evaluated},
			{Package: "best-practices", Scope: "*", Status: Evaluated},
			{Package: "best-practices", Scope: "debian:12", Status: Evaluated},
		},
		Collectors: []host.CollectorRun{
			{Name: "os/release", Status: host.StatusOK, Items: 1, DurationMS: 0.4},
			{Name: "os/users", Status: host.StatusOK, Items: 61, DurationMS: 0.9},
			{Name: "pkg/dpkg", Status: host.StatusOK, Items: 715, DurationMS: 35.2},
			{Name: "pkg/rpm", Status: host.StatusSkipped, Reason: "no rpm database found in /var/lib/rpm, /usr/lib/sysimage/rpm", DurationMS: 0.1},
			{Name: "pkg/apk", Status: host.StatusSkipped, Reason: "no apk database (/lib/apk/db/installed)", DurationMS: 0.1},
			{Name: "os/kernel", Status: host.StatusOK, Items: 2, DurationMS: 1.3},
			{Name: "software/discover", Status: host.StatusOK, Items: 88, DurationMS: 310.4},
			{Name: "lang/go", Status: host.StatusOK, Items: 3, DurationMS: 120.7},
			{Name: "lang/python", Status: host.StatusPartial, Errors: []string{"/usr/lib/python3/dist-packages/broken.dist-info/METADATA: truncated header"}, ErrorCount: 2, Items: 57, DurationMS: 48},
			{Name: "lang/npm", Status: host.StatusFailed, Reason: "walk usr/lib/node_modules: too many levels of symbolic links", DurationMS: 2.5},
			{Name: "lang/java", Status: host.StatusOK, Items: 0, DurationMS: 3.1},
		},
		Inventory: &Inventory{
			Packages: map[string]int{"dpkg": 715},
			Software: map[string]int{"Go": 3, "PyPI": 57},
			Users:    24,
		},
		Discovery: &host.Discovery{
			Roots:        []string{"/usr/local", "/opt", "/srv", "/usr/bin", "/usr/sbin", "/usr/lib/python3", "/usr/lib/node_modules", "/home/deploy/.local"},
			Skipped:      []host.SkippedPath{{Path: "/home/deploy/.cache", Reason: "cache directory (pip, go-build and others)"}, {Path: "/home/deploy/.m2", Reason: "Maven local repository (package cache)"}},
			LimitsHit:    []host.LimitHit{{Limit: "max_file_size", Path: "/srv/app/bundle.war", Value: 268435456}},
			FilesVisited: 48213,
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
// evaluated: the case that must never read as "clean". It is an image of
// an Alpine release past its end of life.
func emptyIncompleteReport() *Report {
	r := &Report{
		SchemaVersion: SchemaVersion,
		Tool:          Tool{Name: "kensa", Version: "0.1.0"},
		Host: Host{
			Hostname: "build-7",
			Root:     "/mnt/image",
			Live:     false,
			OS:       OS{Family: "alpine", ID: "alpine", Release: "3.17", PrettyName: "Alpine Linux v3.17", EOL: "2024-11-22", EOLReached: true},
		},
		StartedAt:  testStart,
		FinishedAt: testStart.Add(800 * time.Millisecond),
		Feeds:      []Feed{},
		Coverage: []Coverage{
			{Package: "cve", Scope: "*", Status: NotEvaluated, Reason: "no vulnerability feed loaded: run kensa db update"},
			{Package: "cve", Scope: "Alpine:v3.17", Status: NotEvaluated, Reason: "no vulnerability feed loaded: run kensa db update"},
			{Package: "cis", Scope: "*", Status: NotEvaluated, Reason: "no CIS benchmark for alpine 3.17"},
			{Package: "cis", Scope: "alpine:3.17", Status: NotEvaluated, Reason: "no CIS benchmark for alpine 3.17"},
			{Package: "best-practices", Scope: "*", Status: Evaluated},
			{Package: "best-practices", Scope: "alpine:3.17", Status: Evaluated},
			{Package: "runtime", Scope: "*", Status: NotEvaluated, Reason: "an image has no running system"},
			{Package: "runtime", Scope: "observation", Status: NotEvaluated, Reason: "runtime behavior is observed on a running system; /mnt/image is an image (--root)"},
		},
		Collectors: []host.CollectorRun{
			{Name: "os/release", Status: host.StatusOK, Items: 1, DurationMS: 0.3},
			{Name: "pkg/apk", Status: host.StatusOK, Items: 14, DurationMS: 2},
		},
		Inventory: &Inventory{Packages: map[string]int{"apk": 14}, Software: map[string]int{}, Users: 12},
		Discovery: &host.Discovery{Roots: []string{"/usr/local", "/opt", "/usr/bin", "/bin"}, FilesVisited: 312},
		Results: []finding.Result{
			{RulesPackage: "best-practices", RuleID: "bp-world-writable", Status: finding.StatusPass},
		},
		Findings: []finding.Finding{},
	}
	r.Summary = Summarize(r)
	return r
}

// cleanReport has no findings and every scope evaluated. It has no
// inventory or discovery, as a report of schema 1.0 does not.
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
			{Package: "cis", Scope: "debian:12", Status: Evaluated},
			{Package: "best-practices", Scope: "*", Status: Evaluated},
			{Package: "best-practices", Scope: "debian:12", Status: Evaluated},
			{Package: "runtime", Scope: "*", Status: Evaluated},
			{Package: "runtime", Scope: "observation", Status: Evaluated},
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

// notBuiltNote is the reason assess gives for the rules packages this
// version lacks (assess.notBuilt).
const notBuiltNote = "not implemented yet in this version of Kensa: nothing was checked"

// notBuiltReport is what assess.Evaluate makes today of a live Ubuntu 22.04
// LTS host: every rules package and scope not_evaluated because no rules
// package is built yet, with its inventory and a discovery that hit many
// limits.
func notBuiltReport() *Report {
	r := &Report{
		SchemaVersion: SchemaVersion,
		Tool:          testTool(),
		Host: Host{
			Hostname:  "ci-runner-3",
			MachineID: "0b9d3e6f1a2c4e5d8f7a6b5c4d3e2f10",
			Root:      "/",
			Live:      true,
			OS:        OS{Family: "debian", ID: "ubuntu", Release: "22.04", PrettyName: "Ubuntu 22.04.5 LTS", EOL: "2027-06-01"},
			Kernel:    "5.15.0-126-generic",
		},
		StartedAt:  testStart,
		FinishedAt: testStart.Add(3*time.Minute + 12*time.Second),
		Feeds:      []Feed{},
		Collectors: []host.CollectorRun{
			{Name: "os/release", Status: host.StatusOK, Items: 1, DurationMS: 0.5},
			{Name: "os/users", Status: host.StatusOK, Items: 70, DurationMS: 1.1},
			{Name: "pkg/dpkg", Status: host.StatusOK, Items: 715, DurationMS: 61.8},
			{Name: "pkg/rpm", Status: host.StatusSkipped, Reason: "no rpm database found in /var/lib/rpm, /usr/lib/sysimage/rpm", DurationMS: 0.1},
			{Name: "pkg/apk", Status: host.StatusSkipped, Reason: "no apk database (/lib/apk/db/installed)", DurationMS: 0.1},
			{Name: "os/kernel", Status: host.StatusOK, Items: 3, DurationMS: 2.2},
			{Name: "software/discover", Status: host.StatusOK, Items: 1893, DurationMS: 24410.7},
			{Name: "lang/go", Status: host.StatusOK, Items: 656, DurationMS: 91245.3},
			{Name: "lang/python", Status: host.StatusOK, Items: 135, DurationMS: 803.4},
			{Name: "lang/npm", Status: host.StatusOK, Items: 145, DurationMS: 412.9},
			{Name: "lang/java", Status: host.StatusOK, Items: 71, DurationMS: 5120.6},
		},
		Inventory: &Inventory{
			Packages: map[string]int{"dpkg": 715},
			Software: map[string]int{"Go": 656, "PyPI": 135, "npm": 145, "Maven": 71},
			Users:    24,
		},
		Discovery: &host.Discovery{
			Roots: []string{
				"/usr/local", "/opt", "/srv", "/usr/bin", "/usr/sbin", "/bin", "/sbin", "/usr/libexec",
				"/usr/lib/python3", "/usr/share/java", "/usr/lib/node_modules",
				"/home/ci/.local", "/home/ci/go/bin", "/root/.local",
			},
			Skipped: []host.SkippedPath{
				{Path: "/home/ci/.cache", Reason: "cache directory (pip, go-build and others)"},
				{Path: "/home/ci/.m2", Reason: "Maven local repository (package cache)"},
				{Path: "/home/ci/.npm", Reason: "npm cache"},
				{Path: "/home/ci/go/pkg/mod", Reason: "Go module cache"},
				{Path: "/home/ci/.gradle", Reason: "Gradle cache"},
				{Path: "/opt/src/.git", Reason: "version control data"},
				{Path: "/proc/4121/exe", Reason: "pseudo file system"},
				{Path: "/root/.cache", Reason: "cache directory (pip, go-build and others)"},
				{Path: "/srv/app/.git", Reason: "version control data"},
				{Path: "/usr/local/go/src", Reason: "Go toolchain sources (GOROOT)"},
				{Path: "/usr/local/go/test", Reason: "Go toolchain sources (GOROOT)"},
				{Path: "/usr/local/go/misc", Reason: "Go toolchain sources (GOROOT)"},
			},
			LimitsHit: []host.LimitHit{
				{Limit: "max_depth", Path: "/usr/lib/node_modules/npm/node_modules/a/node_modules/b/node_modules/c/node_modules/d/node_modules/e", Value: 16},
				{Limit: "max_depth", Path: "/opt/build/node_modules/x/node_modules/y/node_modules/z/node_modules/w/node_modules/v/node_modules/u", Value: 16},
				{Limit: "max_file_size", Path: "/opt/jenkins/jenkins.war", Value: 268435456},
				{Limit: "java_nesting_depth", Path: "/opt/app/app.ear!/lib/a.war!/WEB-INF/lib/b.jar", Value: 3},
				{Limit: "java_nested_archives", Path: "/usr/share/java/fat.jar", Value: 1000},
				{Limit: "max_files", Path: "/home/ci/.local", Value: 200000},
				{Limit: "timeout", Path: "/usr/local/bin/tool", Value: 120000},
			},
			FilesVisited: 182340,
		},
		Results:  []finding.Result{},
		Findings: []finding.Finding{},
	}
	for _, p := range finding.Packages() {
		r.Coverage = append(r.Coverage, Coverage{Package: p, Scope: "*", Status: NotEvaluated, Reason: "the " + p + " rules package is " + notBuiltNote})
		var scopes []string
		switch p {
		case finding.PackageCVE:
			scopes = []string{"Ubuntu:22.04:LTS", "Go", "Maven", "PyPI", "npm"}
		case finding.PackageCIS, finding.PackageBestPractices:
			scopes = []string{"ubuntu:22.04"}
		case finding.PackageRuntime:
			scopes = []string{"observation"}
		}
		for _, s := range scopes {
			r.Coverage = append(r.Coverage, Coverage{Package: p, Scope: s, Status: NotEvaluated, Reason: notBuiltNote})
		}
	}
	r.Summary = Summarize(r)
	return r
}

// unknownOSReport is an image whose OS could not be identified: its
// packages get the scope "pkg/<manager>", benchmarks the scope "os". Its
// Python collector met an error: a partial scope under a package that did
// not run, which stays not_evaluated.
func unknownOSReport() *Report {
	r := &Report{
		SchemaVersion: SchemaVersion,
		Tool:          Tool{Name: "kensa", Version: "0.1.0"},
		Host:          Host{Root: "/mnt/unknown", OS: OS{Family: "unknown", ID: "unknown"}},
		StartedAt:     testStart,
		FinishedAt:    testStart.Add(2 * time.Second),
		Feeds:         []Feed{},
		Coverage: []Coverage{
			{Package: "cve", Scope: "*", Status: NotEvaluated, Reason: "the cve rules package is " + notBuiltNote},
			{Package: "cve", Scope: "pkg/dpkg", Status: NotEvaluated, Reason: "the OS could not be identified, so no advisories can be selected for its packages"},
			{Package: "cve", Scope: "PyPI", Status: NotEvaluated, Reason: notBuiltNote},
			{Package: "cve", Scope: "lang/python", Status: Partial, Reason: "collector met 1 error(s); some packages may be missing"},
			{Package: "cis", Scope: "*", Status: NotEvaluated, Reason: "the cis rules package is " + notBuiltNote},
			{Package: "cis", Scope: "os", Status: NotEvaluated, Reason: "the operating system could not be identified"},
		},
		Collectors: []host.CollectorRun{
			{Name: "os/release", Status: host.StatusFailed, Reason: "no OS release file could be read (etc/os-release, usr/lib/os-release, debian_version, redhat-release, system-release, alpine-release)", DurationMS: 0.2},
			{Name: "pkg/dpkg", Status: host.StatusOK, Items: 88, DurationMS: 9},
			{Name: "lang/python", Status: host.StatusPartial, Items: 4, ErrorCount: 1, Errors: []string{"/usr/lib/python3/site-packages/x.dist-info/METADATA: truncated header"}, DurationMS: 3},
		},
		Inventory: &Inventory{Packages: map[string]int{"dpkg": 88}, Software: map[string]int{"PyPI": 4}},
		Discovery: &host.Discovery{Roots: []string{"/usr/local", "/usr/lib/python3"}, FilesVisited: 901},
		Results:   []finding.Result{},
		Findings:  []finding.Finding{},
	}
	r.Summary = Summarize(r)
	return r
}

// runtimeReport is a --packages runtime scan of a live host whose window
// was ended early, with one finding, the observation it was judged on, a
// method that had to fall back, and a note.
func runtimeReport() *Report {
	start := testStart.Add(time.Second)
	end := start.Add(40 * time.Second)
	r := cleanReport()
	r.Coverage = []Coverage{
		{Package: "runtime", Scope: "*", Status: Partial, Reason: "observation partial"},
		{Package: "runtime", Scope: "observation", Status: Partial, Reason: "1 process(es) run in other mount namespaces (containers): their executables and libraries were not analysed"},
	}
	r.Results = []finding.Result{{RulesPackage: "runtime", RuleID: "insecure-client-login", Status: finding.StatusFail, Reason: "1 outbound connection to a cleartext login port"}}
	r.Findings = []finding.Finding{{
		ID:           finding.Fingerprint(finding.Subject{Host: testMachineID, RulesPackage: "runtime", RuleID: "insecure-client-login", Target: "/usr/bin/telnet telnet 192.0.2.7:23"}),
		RulesPackage: "runtime", RuleID: "insecure-client-login", Severity: finding.Medium,
		Title:          "Cleartext telnet client: /usr/bin/telnet connected to 192.0.2.7:23",
		Description:    "A process logged in to a remote host over a protocol that sends credentials in clear text.",
		Recommendation: "Use SSH instead of telnet.",
		Evidence:       []string{"pid 4711 /usr/bin/telnet (uid 1000) connected to 192.0.2.7:23 (telnet) once"},
		Attributes:     map[string]string{"protocol": "telnet", "remote": "192.0.2.7:23", "exe": "/usr/bin/telnet"},
	}}
	r.Observation = &observe.Observations{
		Method:     observe.MethodNetlink,
		Fallbacks:  []observe.Fallback{{Method: observe.MethodEBPF, Reason: "no BTF: /sys/kernel/btf/vmlinux is missing"}},
		BlindSpots: observe.BlindSpots(observe.MethodNetlink),
		Window:     observe.Window{Requested: time.Minute, Start: start, End: end, StoppedEarly: true},
		Stats:      observe.Stats{Events: 12},
		Connections: []observe.Connection{{PID: 4711, Comm: "telnet", Exe: "/usr/bin/telnet", UID: 1000,
			Local: netip.MustParseAddrPort("192.0.2.1:0"), Remote: netip.MustParseAddrPort("192.0.2.7:23"),
			Direction: observe.Outbound, Count: 1, First: start.Add(time.Second), Last: start.Add(time.Second)}},
		Listeners: []observe.Listener{{Proto: observe.TCP, Local: netip.MustParseAddrPort("0.0.0.0:22"), PID: 612, Comm: "sshd", Exe: "/usr/sbin/sshd",
			FirstSeen: start, LastSeen: end, WholeWindow: true, Inbound: 3}},
		Processes: []observe.Process{
			{PID: 612, PPID: 1, Comm: "sshd", Exe: "/usr/sbin/sshd", Cmdline: []string{"sshd: /usr/sbin/sshd -D"}, Running: true, Objects: []string{"/usr/sbin/sshd"}},
			{PID: 4711, PPID: 900, UID: 1000, Comm: "telnet", Exe: "/usr/bin/telnet", StartedInWindow: true},
			{PID: 5000, PPID: 4990, Comm: "nginx", Exe: "/usr/sbin/nginx", Running: true, OtherMountNS: true},
		},
		Binaries: []observe.Binary{
			{Path: "/usr/bin/telnet", Origin: observe.FromPackage, Package: "inetutils-telnet", Chain: []observe.PathElem{{Path: "/", Mode: 0o755, Dir: true}, {Path: "/usr", Mode: 0o755, Dir: true}, {Path: "/usr/bin", Mode: 0o755, Dir: true}, {Path: "/usr/bin/telnet", Mode: 0o755}}},
			{Path: "/usr/sbin/sshd", Origin: observe.FromPackage, Package: "openssh-server"},
		},
		Notes: []string{"1 process(es) run in other mount namespaces (containers): their executables and libraries were not analysed"},
	}
	r.Summary = Summarize(r)
	return r
}

// suppressedReport is the full report with a suppression file applied:
// one finding suppressed until a date, one rule expired, one unused.
func suppressedReport() *Report {
	r := fullReport()
	day := func(s string) *time.Time { t, _ := time.Parse(time.DateOnly, s); return &t }
	f := &suppress.File{Path: ".kensa-ignore.yaml", SHA256: strings.Repeat("ab", 32), Rules: []suppress.Rule{
		{Vulnerability: "CVE-2023-38545", Package: "libcurl4", Reason: "SOCKS5 proxies are not used on this host", Owner: "secops@example.com", Expires: day("2025-06-30"), Line: 3},
		{Rule: "bp-password-aging", Reason: "old exception", Owner: "ops", Expires: day("2025-01-31"), Line: 9},
		{Rule: "cis-9.*", Reason: "no such rule any more", Owner: "ops", Line: 14},
	}}
	ApplySuppressions(r, f, testStart)
	return r
}
