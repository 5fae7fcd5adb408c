// Package reporttest builds the Kensa reports the renderers' tests and
// benchmarks share: each is a valid report (the sarif package's
// TestFixturesAreValidReports checks them against the schema), written to
// look like what a scan of a Debian 12 host produces, so that every
// format is tested on the same findings.
package reporttest

import (
	"fmt"
	"strings"
	"time"

	"github.com/kensa-dev/kensa/internal/finding"
	"github.com/kensa-dev/kensa/internal/report"
)

// MachineID is the fixtures' host.
const MachineID = "6b0c8e1f2a3d4c5b9e8f7a6b5c4d3e2f"

// Start is when the fixtures' scans started.
var Start = time.Date(2025, 4, 2, 8, 30, 0, 0, time.UTC)

// Base is a live Debian 12 host with nothing evaluated yet.
func Base() *report.Report {
	return &report.Report{
		SchemaVersion: report.SchemaVersion,
		Tool:          report.Tool{Name: "kensa", Version: "0.4.0", Commit: "9c1d2e3"},
		Host: report.Host{
			Hostname: "db-02", MachineID: MachineID, Root: "/", Live: true,
			OS:     report.OS{Family: "debian", ID: "debian", Release: "12", PrettyName: "Debian GNU/Linux 12 (bookworm)", EOL: "2028-06-30"},
			Kernel: "6.1.0-28-amd64",
		},
		StartedAt:  Start,
		FinishedAt: Start.Add(7*time.Second + 250*time.Millisecond),
	}
}

// Fingerprint is the finding id of the fixtures' host.
func Fingerprint(pkg, rule, target, vuln string) string {
	return finding.Fingerprint(finding.Subject{Host: MachineID, RulesPackage: pkg, RuleID: rule, Target: target, VulnerabilityID: vuln})
}

func score(s float64) *float64 { return &s }

// osVuln is a vulnerability finding on a Debian binary package.
func osVuln(id, pkg, src, installed, fixed string, sev finding.Severity, sc *float64, sevSource, vector string, aliases, refs []string) finding.Finding {
	fix := finding.FixUnfixed
	if fixed != "" {
		fix = finding.FixAvailable
	}
	title := id + " in " + pkg + " " + installed
	rec := "No fixed version has been released for " + pkg + " in Debian:12. Assess the exposure and watch for an update."
	matched := "vendor status open: no fix released"
	comparison := ""
	if fixed != "" {
		rec = "Upgrade " + pkg + " to " + fixed + " or later: `sudo apt-get update && sudo apt-get install --only-upgrade " + pkg + "`."
		matched = "ECOSYSTEM range introduced 0, fixed " + fixed + " (source package " + src + ")"
		comparison = installed + " < fixed " + fixed
	}
	record := "DEBIAN-" + id
	prov := finding.Provenance{Method: "feed", Feed: "osv/Debian", Record: record, Ecosystem: "Debian:12", Matched: matched, Comparison: comparison}
	evidence := []string{"installed: " + pkg + " " + installed + " (amd64), source package " + src + " " + installed,
		"feed: " + record + " (osv/Debian): " + matched}
	if comparison != "" {
		evidence[1] += "; " + comparison
	}
	return finding.Finding{
		ID:           Fingerprint(finding.PackageCVE, "cve/Debian", pkg, id),
		RulesPackage: finding.PackageCVE, RuleID: "cve/Debian", Severity: sev, Score: sc,
		Title:          title,
		Description:    descriptions[id],
		Recommendation: rec,
		Evidence:       evidence,
		Attributes: map[string]string{
			"vulnerability_id": id, "aliases": strings.Join(aliases, ","), "package_name": pkg, "package_version": installed,
			"source_package": src, "fixed_version": fixed, "ecosystem": "Debian:12", "location": "/var/lib/dpkg/status",
		},
		Vulnerability: &finding.Vulnerability{
			ID: id, Aliases: aliases, Ecosystem: "Debian:12", Package: pkg, InstalledVersion: installed,
			SourcePackage: src, SourceVersion: installed, Fix: fix, FixedVersion: fixed,
			SeveritySource: sevSource, CVSS: vector, Confidence: finding.ConfidenceHigh, References: refs,
			Provenance: []finding.Provenance{prov},
		},
	}
}

var descriptions = map[string]string{
	"CVE-2023-38545": "This flaw makes curl overflow a heap based buffer in the SOCKS5 proxy handshake. When curl is asked to pass along the host name to the SOCKS5 proxy, a slow handshake can copy a too long host name into the target buffer.",
	"CVE-2024-2511":  "Issue summary: Some non-default TLS server configurations can cause unbounded memory growth when processing TLSv1.3 sessions.\nImpact summary: An attacker may trigger a Denial of Service.",
	"GO-2024-2687":   "An attacker may cause an HTTP/2 endpoint to read arbitrary amounts of header data by sending an excessive number of CONTINUATION frames.",
	"CVE-2021-44228": "Apache Log4j2 JNDI features used in configuration, log messages, and parameters do not protect against attacker controlled LDAP and other JNDI related endpoints.",
}

// CVEEvaluated is CVE with every package and scope evaluated and its
// findings replaced by fs: the report of a host where the CVE package
// looked everywhere, as a run whose findings are new, recurring or fixed
// needs.
func CVEEvaluated(fs []finding.Finding) *report.Report {
	r := CVE()
	for i := range r.Coverage {
		r.Coverage[i].Status = report.Evaluated
	}
	r.Findings = fs
	r.Summary = report.Summarize(r)
	return r
}

// CVE has vulnerability findings: one CVE in two packages (rated by
// CVSS, fixed), a vendor-rated unfixed one, an unrated Go advisory in a
// binary, a known exploited CVE in a JAR nested in a WAR, and the
// package's host-wide kernel-reboot-required finding. The PyPI scope was
// not evaluated, and one advisory could not be evaluated.
func CVE() *report.Report {
	r := Base()
	r.Feeds = []report.Feed{
		{Name: "kev", Format: "kev", Records: 1290, UpdatedAt: Start.Add(-3 * time.Hour), DataTime: Start.Add(-20 * time.Hour), AgeHours: 20, AgeBasis: "data"},
		{Name: "osv/Debian", Format: "osv", Records: 51302, UpdatedAt: Start.Add(-5 * time.Hour), DataTime: Start.Add(-6 * time.Hour), AgeHours: 6, AgeBasis: "data"},
		{Name: "osv/Go", Format: "osv", Records: 2301, UpdatedAt: Start.Add(-5 * time.Hour), DataTime: Start.Add(-9 * time.Hour), AgeHours: 9, AgeBasis: "data"},
		{Name: "osv/Maven", Format: "osv", Records: 5120, UpdatedAt: Start.Add(-9 * time.Hour), AgeHours: 9, AgeBasis: "import: the feed does not date its data"},
	}
	r.Coverage = []report.Coverage{
		{Package: "cve", Scope: "*", Status: report.Partial, Reason: "4 of 5 scopes fully evaluated; PyPI not evaluated"},
		{Package: "cve", Scope: "Debian:12", Status: report.Evaluated, Reason: "402 packages matched against Debian:12"},
		{Package: "cve", Scope: "Go", Status: report.Evaluated},
		{Package: "cve", Scope: "Maven", Status: report.Evaluated},
		{Package: "cve", Scope: "PyPI", Status: report.NotEvaluated, Reason: "no advisories for PyPI in the vulnerability database: import or update a feed for it (kensa db update)"},
		{Package: "cve", Scope: "kernel", Status: report.Evaluated, Reason: "running kernel 6.1.0-28-amd64 is package linux-image-6.1.0-28-amd64 6.1.119-1"},
	}
	cvss := "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"
	curlRefs := []string{"https://security-tracker.debian.org/tracker/CVE-2023-38545", "https://curl.se/docs/CVE-2023-38545.html"}
	libcurl := osVuln("CVE-2023-38545", "libcurl4", "curl", "7.88.1-10+deb12u3", "7.88.1-10+deb12u4", finding.High, score(9.8),
		"CVSS_V3 base score 9.8 from DEBIAN-CVE-2023-38545", cvss, []string{"DEBIAN-CVE-2023-38545", "DSA-5525-1"}, curlRefs)
	curl := osVuln("CVE-2023-38545", "curl", "curl", "7.88.1-10+deb12u3", "7.88.1-10+deb12u4", finding.High, score(9.8),
		"CVSS_V3 base score 9.8 from DEBIAN-CVE-2023-38545", cvss, []string{"DEBIAN-CVE-2023-38545", "DSA-5525-1"}, curlRefs)
	ssl := osVuln("CVE-2024-2511", "libssl3", "openssl", "3.0.11-1~deb12u2", "", finding.Medium, nil,
		"vendor (debian-urgency: medium in CVE-2024-2511)", "", nil, []string{"https://security-tracker.debian.org/tracker/CVE-2024-2511"})
	ssl.Vulnerability.Provenance[0].Feed, ssl.Vulnerability.Provenance[0].Record = "debian-tracker", "CVE-2024-2511"

	goVuln := finding.Finding{
		ID:           Fingerprint("cve", "cve/Go", "Go:stdlib@/usr/local/bin/exporter", "GO-2024-2687"),
		RulesPackage: "cve", RuleID: "cve/Go", Severity: finding.Unrated,
		Title:          "GO-2024-2687 in stdlib 1.21.5: HTTP/2 CONTINUATION flood in net/http",
		Description:    descriptions["GO-2024-2687"],
		Recommendation: "Rebuild /usr/local/bin/exporter with Go 1.21.9 or later (the standard library is compiled into the binary).",
		Evidence: []string{"installed: stdlib 1.21.5 in /usr/local/bin/exporter (Go binary)",
			"feed: GO-2024-2687 (osv/Go): SEMVER range introduced 0, fixed 1.21.9; 1.21.5 < fixed 1.21.9"},
		Attributes: map[string]string{
			"vulnerability_id": "GO-2024-2687", "aliases": "CVE-2023-45288,GHSA-4v7x-pqxf-cx7m", "package_name": "stdlib", "package_version": "1.21.5",
			"source_package": "", "fixed_version": "1.21.9", "ecosystem": "Go", "location": "/usr/local/bin/exporter",
		},
		Vulnerability: &finding.Vulnerability{
			ID: "GO-2024-2687", Aliases: []string{"CVE-2023-45288", "GHSA-4v7x-pqxf-cx7m"}, Ecosystem: "Go", Package: "stdlib", InstalledVersion: "1.21.5",
			Location: "/usr/local/bin/exporter", Fix: finding.FixAvailable, FixedVersion: "1.21.9",
			SeveritySource: "none: no vendor rating or CVSS vector in the matched records", Confidence: finding.ConfidenceHigh,
			References: []string{"not a url", "https://pkg.go.dev/vuln/GO-2024-2687"},
			Provenance: []finding.Provenance{{Method: "feed", Feed: "osv/Go", Record: "GO-2024-2687", Ecosystem: "Go", Matched: "SEMVER range introduced 0, fixed 1.21.9", Comparison: "1.21.5 < fixed 1.21.9"}},
		},
	}

	jar := "/opt/shop/shop-1.4.war!/WEB-INF/lib/log4j-core-2.14.1.jar"
	log4j := finding.Finding{
		ID:           Fingerprint("cve", "cve/Maven", "Maven:org.apache.logging.log4j:log4j-core@/opt/shop/shop.war!/WEB-INF/lib/log4j-core.jar", "CVE-2021-44228"),
		RulesPackage: "cve", RuleID: "cve/Maven", Severity: finding.High, Score: score(10),
		Title:          "CVE-2021-44228 in org.apache.logging.log4j:log4j-core 2.14.1: Remote code injection in Log4j",
		Description:    descriptions["CVE-2021-44228"],
		Recommendation: "Upgrade org.apache.logging.log4j:log4j-core to 2.15.0 or later in " + jar + " and redeploy it.",
		Evidence: []string{"installed: org.apache.logging.log4j:log4j-core 2.14.1 in " + jar,
			"feed: GHSA-jfh8-c2jp-5v3q (osv/Maven): ECOSYSTEM range introduced 2.0-beta9, fixed 2.15.0; 2.14.1 < fixed 2.15.0",
			"CISA Known Exploited Vulnerabilities: added 2021-12-10"},
		Attributes: map[string]string{
			"vulnerability_id": "CVE-2021-44228", "aliases": "GHSA-jfh8-c2jp-5v3q", "package_name": "org.apache.logging.log4j:log4j-core", "package_version": "2.14.1",
			"source_package": "", "fixed_version": "2.15.0", "ecosystem": "Maven", "location": jar,
		},
		Vulnerability: &finding.Vulnerability{
			ID: "CVE-2021-44228", Aliases: []string{"GHSA-jfh8-c2jp-5v3q"}, Ecosystem: "Maven", Package: "org.apache.logging.log4j:log4j-core", InstalledVersion: "2.14.1",
			Location: jar, Fix: finding.FixAvailable, FixedVersion: "2.15.0",
			SeveritySource: "CVSS_V3 base score 10.0 from GHSA-jfh8-c2jp-5v3q", CVSS: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", Confidence: finding.ConfidenceHigh,
			KnownExploited: &finding.KnownExploited{DateAdded: "2021-12-10", DueDate: "2021-12-24", RequiredAction: "For all affected software assets, apply updates per vendor instructions.", Ransomware: "Known"},
			References:     []string{"https://github.com/advisories/GHSA-jfh8-c2jp-5v3q"},
			Provenance:     []finding.Provenance{{Method: "feed", Feed: "osv/Maven", Record: "GHSA-jfh8-c2jp-5v3q", Ecosystem: "Maven", Matched: "ECOSYSTEM range introduced 2.0-beta9, fixed 2.15.0", Comparison: "2.14.1 < fixed 2.15.0"}},
		},
	}

	reboot := finding.Finding{
		ID:           Fingerprint("cve", "kernel-reboot-required", "kernel", ""),
		RulesPackage: "cve", RuleID: "kernel-reboot-required", Severity: finding.Medium,
		Title:          "A newer kernel is installed but the host runs 6.1.0-28-amd64",
		Description:    "The running kernel is older than the newest installed one: the fixes of the newer kernel do not apply until the host reboots.",
		Recommendation: "Reboot the host into the newest installed kernel.",
		Evidence:       []string{"running: 6.1.0-28-amd64", "installed: linux-image-6.1.0-31-amd64 6.1.128-1"},
		Attributes:     map[string]string{"target": "kernel 6.1.0-28-amd64"},
	}
	r.Findings = []finding.Finding{reboot, ssl, goVuln, curl, log4j, libcurl}
	r.Inventory = Inventory()
	r.Results = []finding.Result{
		{RulesPackage: "cve", RuleID: "os-end-of-life", Target: "debian 12", Status: finding.StatusPass},
		{RulesPackage: "cve", RuleID: "kernel-reboot-required", Target: "6.1.0-28-amd64", Status: finding.StatusFail},
		{RulesPackage: "cve", RuleID: "DSA-5600-1", Target: "libgnutls30", Status: finding.StatusError,
			Reason: "DSA-5600-1 in debian/DSA: unreadable version \"3.7.9-2+deb12u2:\""},
	}
	r.Summary = report.Summarize(r)
	return r
}

// Config has configuration findings whose evidence names files and
// lines, one whose evidence does not start with a path, a rule that errored
// and rules that passed, under a tailoring.
func Config() *report.Report {
	r := Base()
	r.Coverage = []report.Coverage{
		{Package: "cis", Scope: "*", Status: report.Evaluated},
		{Package: "cis", Scope: "debian:12", Status: report.Evaluated, Reason: "5 rules: 1 pass, 3 fail, 1 not applicable, 0 error"},
		{Package: "best-practices", Scope: "*", Status: report.Partial, Reason: "debian:12 partial"},
		{Package: "best-practices", Scope: "debian:12", Status: report.Partial, Reason: "4 rules: 1 pass, 2 fail, 0 not applicable, 1 error"},
	}
	r.Tailoring = &report.Tailoring{
		File: "/etc/kensa/tailoring.yaml", SHA256: "3f5a0c9d2b1e4f6a8c7d9e0b1a2c3d4e5f60718293a4b5c6d7e8f9a0b1c2d3e4",
		Title: "db servers", Changes: []string{"cis-1.1.2.2.4: disabled: /dev/shm is mounted by systemd"},
	}
	cisFinding := func(rule string, sev finding.Severity, title, target string, evidence ...string) finding.Finding {
		return finding.Finding{
			ID: Fingerprint("cis", rule, target, ""), RulesPackage: "cis", RuleID: rule, Severity: sev,
			Title: title, Description: "Rule " + rule + " of the CIS Debian Linux 12 Benchmark. " + title + ".", Recommendation: "Follow the remediation of " + rule + ".",
			Evidence: evidence, Attributes: map[string]string{"target": target, "cis_id": rule[len("cis-"):], "cis_level": "1"},
		}
	}
	r.Findings = []finding.Finding{
		cisFinding("cis-5.1.20", finding.Medium, "SSH root login is permitted", "sshd",
			"/etc/ssh/sshd_config:32: PermitRootLogin yes"),
		cisFinding("cis-7.2.5", finding.High, "Accounts other than root have uid 0", "/etc/passwd",
			"/etc/passwd:3: toor has uid 0", "/etc/passwd:19: backup2 has uid 0", "/etc/passwd:3: toor has uid 0"),
		cisFinding("cis-1.1.2.3.3", finding.Low, "nosuid is not set on /home", "/home",
			"/etc/fstab:11: UUID=5d1c /home ext4 defaults 0 2", "/etc/fstab.d/*.conf: no line"),
		{
			ID: Fingerprint("best-practices", "bp-sshd-weak-ciphers", "sshd", ""), RulesPackage: "best-practices", RuleID: "bp-sshd-weak-ciphers", Severity: finding.Medium,
			Title: "sshd offers CBC ciphers", Description: "CBC mode ciphers are open to plaintext recovery attacks.",
			Recommendation: "Remove the CBC ciphers from Ciphers in /etc/ssh/sshd_config.",
			Evidence:       []string{"sshd: Ciphers aes128-cbc,aes256-ctr (/etc/ssh/sshd_config:41); want no CBC cipher"},
			Attributes:     map[string]string{"target": "sshd"},
		},
		{
			ID: Fingerprint("best-practices", "bp-login-banner", "/etc/issue.net", ""), RulesPackage: "best-practices", RuleID: "bp-login-banner", Severity: finding.Informational,
			Title: "The remote login banner names the OS", Description: "A banner naming the OS and its version helps an attacker pick exploits.",
			Recommendation: "Remove \\r, \\s, \\v and the OS name from /etc/issue.net.",
			Evidence:       []string{"/etc/issue.net: Debian GNU/Linux 12 \\n \\l"},
			Attributes:     map[string]string{"target": "/etc/issue.net"},
		},
	}
	r.Results = []finding.Result{
		{RulesPackage: "cis", RuleID: "cis-5.1.20", Target: "sshd", Status: finding.StatusFail},
		{RulesPackage: "cis", RuleID: "cis-7.2.5", Target: "/etc/passwd", Status: finding.StatusFail},
		{RulesPackage: "cis", RuleID: "cis-1.1.2.3.3", Target: "/home", Status: finding.StatusFail},
		{RulesPackage: "cis", RuleID: "cis-1.1.2.2.4", Target: "/dev/shm", Status: finding.StatusNotApplicable, Reason: "disabled by tailoring: /dev/shm is mounted by systemd"},
		{RulesPackage: "cis", RuleID: "cis-5.1.9", Target: "sshd", Status: finding.StatusPass},
		{RulesPackage: "best-practices", RuleID: "bp-sshd-weak-ciphers", Target: "sshd", Status: finding.StatusFail},
		{RulesPackage: "best-practices", RuleID: "bp-login-banner", Target: "/etc/issue.net", Status: finding.StatusFail},
		{RulesPackage: "best-practices", RuleID: "bp-world-writable", Status: finding.StatusPass},
		{RulesPackage: "best-practices", RuleID: "bp-rsyslog-remote", Target: "rsyslog", Status: finding.StatusError, Reason: "unreadable: /etc/rsyslog.conf: permission denied"},
	}
	r.Summary = report.Summarize(r)
	return r
}

// Runtime has the runtime package's findings: a cleartext client
// (located at its executable), a binary without DEP (its path), and a
// listener whose owner could not be read (no file at all).
func Runtime() *report.Report {
	r := Base()
	r.Coverage = []report.Coverage{
		{Package: "runtime", Scope: "*", Status: report.Partial, Reason: "observation partial"},
		{Package: "runtime", Scope: "observation", Status: report.Partial, Reason: "1 process in other mount namespaces (containers): their code was not analysed"},
	}
	telnet := "/usr/bin/telnet telnet 192.0.2.7:23"
	agent := "/opt/vendor/bin/agent"
	r.Findings = []finding.Finding{
		{
			ID: Fingerprint("runtime", "insecure-client-login", telnet, ""), RulesPackage: "runtime", RuleID: "insecure-client-login", Severity: finding.Medium,
			Title:          "Cleartext telnet client: /usr/bin/telnet connected to 192.0.2.7:23",
			Description:    "A process logged in to a remote host over a protocol that sends credentials in clear text. Anyone on the path can read them.",
			Recommendation: "Use SSH instead of telnet.",
			Evidence:       []string{"pid 4711 /usr/bin/telnet (uid 1000) connected to 192.0.2.7:23 (telnet) once"},
			Attributes:     map[string]string{"target": telnet, "protocol": "telnet", "remote": "192.0.2.7:23", "exe": "/usr/bin/telnet", "comm": "telnet"},
		},
		{
			ID: Fingerprint("runtime", "software-without-dep", agent, ""), RulesPackage: "runtime", RuleID: "software-without-dep", Severity: finding.Medium,
			Title:          "Third-party software runs without DEP: " + agent,
			Description:    "The program's stack or data can be executed, which turns a memory corruption bug into code execution.",
			Recommendation: "Ask the vendor for a build linked with -z noexecstack.",
			Evidence:       []string{agent + ": third-party (no package owns it)", "elfsec: PT_GNU_STACK is executable", "pid 900 (uid 0) runs it"},
			Attributes:     map[string]string{"target": agent, "path": agent, "origin": "third-party", "package": ""},
		},
		{
			ID: Fingerprint("runtime", "unused-listening-port", "tcp 0.0.0.0:8080", ""), RulesPackage: "runtime", RuleID: "unused-listening-port", Severity: finding.Informational,
			Title:          "Unused listening port: tcp 0.0.0.0:8080 (owner unknown)",
			Description:    "A port listened on all addresses for the whole window and received no connection. An unused service is attack surface.",
			Recommendation: "Stop the service, or bind it to the addresses that use it.",
			Evidence:       []string{"tcp 0.0.0.0:8080 listened from the window's start to its end; 0 inbound connections"},
			Attributes:     map[string]string{"target": "tcp 0.0.0.0:8080", "proto": "tcp", "local": "0.0.0.0:8080", "exe": "", "comm": ""},
		},
	}
	r.Results = []finding.Result{
		{RulesPackage: "runtime", RuleID: "insecure-client-login", Status: finding.StatusFail, Reason: "1 outbound connection to a cleartext login port"},
		{RulesPackage: "runtime", RuleID: "insecure-client-general", Status: finding.StatusPass, Reason: "no cleartext client connection"},
		{RulesPackage: "runtime", RuleID: "software-without-dep", Status: finding.StatusFail, Reason: "14 files used by 9 processes examined: 1 without DEP, 13 with, 0 not applicable"},
		{RulesPackage: "runtime", RuleID: "unused-listening-port", Status: finding.StatusFail},
		{RulesPackage: "runtime", RuleID: "root-process-insecure-permissions", Status: finding.StatusPass},
	}
	r.Summary = report.Summarize(r)
	return r
}

// Clean is an image with no findings, whose assessment has gaps: a
// scope and the runtime package not evaluated, a stale feed, unfixed
// vulnerabilities left out on request, and rules that passed.
func Clean() *report.Report {
	r := Base()
	r.Host.Hostname, r.Host.Root, r.Host.Live, r.Host.Kernel = "", "/mnt/images/web", false, ""
	r.Feeds = []report.Feed{{Name: "osv/Debian", Format: "osv", Records: 50110, UpdatedAt: Start.Add(-400 * time.Hour), DataTime: Start.Add(-410 * time.Hour), AgeHours: 410, AgeBasis: "data", Stale: true}}
	r.Coverage = []report.Coverage{
		{Package: "cve", Scope: "*", Status: report.Partial, Reason: "2 of 3 scopes fully evaluated; npm not evaluated"},
		{Package: "cve", Scope: "Debian:12", Status: report.Evaluated, Reason: "388 packages matched against Debian:12"},
		{Package: "cve", Scope: "lifecycle", Status: report.Evaluated},
		{Package: "cve", Scope: "npm", Status: report.NotEvaluated, Reason: "no advisories for npm in the vulnerability database: import or update a feed for it (kensa db update)"},
		{Package: "cis", Scope: "*", Status: report.Evaluated},
		{Package: "cis", Scope: "debian:12", Status: report.Evaluated},
		{Package: "runtime", Scope: "*", Status: report.NotEvaluated, Reason: "an image has no running system"},
		{Package: "runtime", Scope: "observation", Status: report.NotEvaluated, Reason: "runtime behavior is observed on a running system; /mnt/images/web is an image (--root)"},
	}
	r.IgnoredUnfixed = 3
	r.Results = []finding.Result{
		{RulesPackage: "cve", RuleID: "os-end-of-life", Target: "debian 12", Status: finding.StatusPass},
		{RulesPackage: "cis", RuleID: "cis-5.1.20", Target: "sshd", Status: finding.StatusPass},
		{RulesPackage: "cis", RuleID: "cis-7.2.5", Target: "/etc/passwd", Status: finding.StatusPass},
	}
	r.Summary = report.Summarize(r)
	return r
}

// Inventory is the CVE report's inventory: the Debian packages and the
// software its findings are about, and a few more.
func Inventory() *report.Inventory {
	deb := func(name, src, version, arch string) report.Component {
		purl := "pkg:deb/debian/" + name + "@" + version + "?arch=" + arch + "&distro=debian-12"
		if src != name {
			purl += "&upstream=" + src
		}
		return report.Component{Type: report.ComponentOSPackage, Manager: "dpkg", Ecosystem: "Debian:12",
			Name: name, Version: version, Arch: arch, PURL: purl, SourceName: src}
	}
	sw := func(eco, name, version, purl, kind, location string) report.Component {
		return report.Component{Type: report.ComponentSoftware, Ecosystem: eco, Name: name, Version: version, PURL: purl, Kind: kind, Location: location}
	}
	jar := "/opt/shop/shop-1.4.war!/WEB-INF/lib/log4j-core-2.14.1.jar"
	return &report.Inventory{
		Packages: map[string]int{"dpkg": 5},
		Software: map[string]int{"Go": 3, "Maven": 1, "PyPI": 1},
		Users:    24,
		Components: []report.Component{
			deb("bash", "bash", "5.2.15-2+b7", "amd64"),
			deb("curl", "curl", "7.88.1-10+deb12u3", "amd64"),
			deb("libcurl4", "curl", "7.88.1-10+deb12u3", "amd64"),
			deb("libssl3", "openssl", "3.0.11-1~deb12u2", "amd64"),
			deb("tzdata", "tzdata", "2024a-0+deb12u1", "all"),
			sw("Go", "exporter", "v0.9.2", "pkg:golang/exporter@v0.9.2", "go-main", "/usr/local/bin/exporter"),
			sw("Go", "golang.org/x/net", "v0.19.0", "pkg:golang/golang.org/x/net@v0.19.0", "go-module", "/usr/local/bin/exporter"),
			sw("Go", "stdlib", "1.21.5", "pkg:golang/stdlib@1.21.5", "go-stdlib", "/usr/local/bin/exporter"),
			sw("Maven", "org.apache.logging.log4j:log4j-core", "2.14.1", "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1", "java-archive", jar),
			{Type: report.ComponentSoftware, Ecosystem: "PyPI", Name: "PyYAML", Version: "6.0", PURL: "pkg:pypi/pyyaml@6.0", Kind: "python-dist",
				Location: "/usr/lib/python3/dist-packages/PyYAML-6.0.dist-info/METADATA", OwnedBy: "python3-yaml"},
		},
	}
}

// All is one scan of every rules package: the findings, results and
// coverage of CVE, Config and Runtime together, with the CVE report's
// inventory and feeds.
func All() *report.Report {
	r := CVE()
	for _, o := range []*report.Report{Config(), Runtime()} {
		r.Coverage = append(r.Coverage, o.Coverage...)
		r.Findings = append(r.Findings, o.Findings...)
		r.Results = append(r.Results, o.Results...)
		if o.Tailoring != nil {
			r.Tailoring = o.Tailoring
		}
	}
	r.Summary = report.Summarize(r)
	return r
}

// Large is All grown to n findings (and as many components), for the
// renderers' benchmarks (bench/README.md: 50,000 findings). Each copy has
// its own id and a numbered title, so no renderer can merge them.
func Large(n int) *report.Report {
	r := All()
	base := r.Findings
	r.Findings = make([]finding.Finding, 0, n)
	for i := range n {
		f := base[i%len(base)]
		f.ID = fmt.Sprintf("%032x", i)
		f.Title = fmt.Sprintf("%s (%d)", f.Title, i)
		r.Findings = append(r.Findings, f)
	}
	comps := r.Inventory.Components
	r.Inventory.Components = make([]report.Component, 0, n)
	for i := range n {
		c := comps[i%len(comps)]
		c.Name = fmt.Sprintf("%s-%d", c.Name, i)
		r.Inventory.Components = append(r.Inventory.Components, c)
	}
	// The counts agree with the list, as SummarizeInventory makes them.
	r.Inventory.Packages, r.Inventory.Software = map[string]int{}, map[string]int{}
	for _, c := range r.Inventory.Components {
		if c.Type == report.ComponentOSPackage {
			r.Inventory.Packages[c.Manager]++
		} else {
			r.Inventory.Software[c.Ecosystem]++
		}
	}
	r.Summary = report.Summarize(r)
	return r
}

// Fixture is a named report builder.
type Fixture struct {
	Name  string
	Build func() *report.Report
}

// Fixtures are the reports of the renderers' golden tests, by name.
var Fixtures = []Fixture{
	{"cve", CVE},
	{"config", Config},
	{"runtime", Runtime},
	{"clean", Clean},
	{"all", All},
}
