package cve_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kensa-dev/kensa/internal/advisory"
	"github.com/kensa-dev/kensa/internal/assess"
	"github.com/kensa-dev/kensa/internal/collect/dpkg"
	"github.com/kensa-dev/kensa/internal/collect/kernel"
	"github.com/kensa-dev/kensa/internal/collect/osrelease"
	"github.com/kensa-dev/kensa/internal/finding"
	"github.com/kensa-dev/kensa/internal/host"
	"github.com/kensa-dev/kensa/internal/report"
	"github.com/kensa-dev/kensa/internal/rules/cve"
	"github.com/kensa-dev/kensa/internal/testfixture"
	"github.com/kensa-dev/kensa/internal/vulndb"
)

var now = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

// newStore is a real store file holding advs as one source, "test".
func newStore(t *testing.T, advs ...*advisory.Advisory) *vulndb.Store {
	t.Helper()
	ctx := context.Background()
	s, err := vulndb.Open(ctx, filepath.Join(t.TempDir(), "vulndb.sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	_, err = s.ReplaceSource(ctx, vulndb.SourceMeta{Origin: "test"}, func(w *vulndb.Writer) (advisory.Feed, error) {
		for _, a := range advs {
			if err := w.Add(ctx, a); err != nil {
				return advisory.Feed{}, err
			}
		}
		return advisory.Feed{Name: "test", Format: "osv", Generated: now.Add(-24 * time.Hour)}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func fixedAt(eco, pkg, fixed string) advisory.Affected {
	return advisory.Affected{Ecosystem: eco, Package: pkg, Status: advisory.StatusAffected,
		Ranges: []advisory.Range{{Type: advisory.RangeEcosystem, Events: []advisory.Event{{Introduced: "0"}, {Fixed: fixed}}}}}
}

func sec(id string, aliases []string, af ...advisory.Affected) *advisory.Advisory {
	return &advisory.Advisory{ID: id, Kind: advisory.KindSecurity, Aliases: aliases, Summary: id + " summary", Affected: af}
}

func evaluate(t *testing.T, inv *host.Inventory, s cve.Store, opts cve.Options) *cve.Outcome {
	t.Helper()
	opts.Now = func() time.Time { return now }
	out, err := cve.Evaluate(context.Background(), inv, s, opts)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// vulns lists the vulnerability findings as "package vuln fix fixed".
func vulns(out *cve.Outcome) []string {
	var s []string
	for _, f := range out.Findings {
		if v := f.Vulnerability; v != nil {
			s = append(s, strings.TrimSpace(v.Package+" "+v.ID+" "+v.Fix+" "+v.FixedVersion))
		}
	}
	slices.Sort(s)
	return s
}

func coverage(out *cve.Outcome, scope string) report.Coverage {
	for _, c := range out.Coverage {
		if c.Scope == scope {
			return c
		}
	}
	return report.Coverage{Status: "absent"}
}

func debian12() *host.OSRelease {
	return &host.OSRelease{Family: "debian", ID: "debian", Release: "12", Major: "12", PrettyName: "Debian GNU/Linux 12 (bookworm)"}
}

func dpkgPkg(name, version, src, srcVersion string) host.Package {
	return host.Package{Manager: "dpkg", Name: name, Version: version, Arch: "amd64", SourceName: src, SourceVersion: srcVersion,
		Ecosystem: "Debian:12", Source: "/var/lib/dpkg/status"}
}

// Distro advisories are keyed on the source package: a CVE in openssl is
// reported on every installed binary package built from it, each once,
// with the source named.
func TestSourcePackageMatching(t *testing.T) {
	s := newStore(t, sec("DSA-5678-1", []string{"CVE-2024-2511", "CVE-2024-4603"}, fixedAt("Debian:12", "openssl", "3.0.13-1~deb12u1")))
	inv := &host.Inventory{Identity: host.Identity{MachineID: "m1", Live: true}, OS: debian12(), Packages: []host.Package{
		dpkgPkg("libssl3", "3.0.11-1~deb12u2", "openssl", "3.0.11-1~deb12u2"),
		dpkgPkg("openssl", "3.0.11-1~deb12u2", "openssl", "3.0.11-1~deb12u2"),
		dpkgPkg("libssl-dev", "3.0.13-1~deb12u1", "openssl", "3.0.13-1~deb12u1"), // already fixed
		dpkgPkg("curl", "7.88.1-10+deb12u5", "curl", "7.88.1-10+deb12u5"),
	}}
	out := evaluate(t, inv, s, cve.Options{})
	want := []string{
		"libssl3 CVE-2024-2511 fixed 3.0.13-1~deb12u1", "libssl3 CVE-2024-4603 fixed 3.0.13-1~deb12u1",
		"openssl CVE-2024-2511 fixed 3.0.13-1~deb12u1", "openssl CVE-2024-4603 fixed 3.0.13-1~deb12u1",
	}
	if got := vulns(out); !slices.Equal(got, want) {
		t.Errorf("findings:\n got %q\nwant %q", got, want)
	}
	f := out.Findings[0]
	v := f.Vulnerability
	if f.RuleID != "cve/Debian" || v.SourcePackage != "openssl" || v.Confidence != finding.ConfidenceHigh ||
		!slices.Contains(v.Aliases, "DSA-5678-1") || len(v.Provenance) != 1 || v.Provenance[0].Feed != "test" || v.Provenance[0].Record != "DSA-5678-1" ||
		!strings.Contains(v.Provenance[0].Matched, "source package openssl") {
		t.Errorf("finding detail = %+v", v)
	}
	if !strings.Contains(f.Recommendation, "apt-get install --only-upgrade "+v.Package) {
		t.Errorf("recommendation %q", f.Recommendation)
	}
	if c := coverage(out, "Debian:12"); c.Status != report.Evaluated {
		t.Errorf("coverage %+v", c)
	}
	// The fingerprint holds no version: the same finding after an upgrade
	// that does not fix it.
	if f.ID != finding.Fingerprint(finding.Subject{Host: "m1", RulesPackage: "cve", RuleID: "cve/Debian", Target: v.Package, VulnerabilityID: v.ID}) {
		t.Error("fingerprint is not the documented subject")
	}
}

// writeRoot writes files into a fixture root.
func writeRoot(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for name, body := range files {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func stanza(name, version, source string) string {
	s := "Package: " + name + "\nStatus: install ok installed\nArchitecture: amd64\nVersion: " + version + "\n"
	if source != "" {
		s += "Source: " + source + "\n"
	}
	return s + "Description: test\n\n"
}

// Kernel truth on a fixture root: only the running kernel's package is
// matched; headers, linux-libc-dev, tools built from the kernel's source
// (bpftool), the metapackage and a newer image waiting for a reboot are
// not; the reboot is its own finding.
func TestKernelTruth(t *testing.T) {
	status := stanza("linux-image-6.1.0-18-amd64", "6.1.76-1", "linux-signed-amd64 (6.1.76+1)") +
		stanza("linux-image-6.1.0-20-amd64", "6.1.85-1", "linux-signed-amd64 (6.1.85+1)") +
		stanza("linux-image-amd64", "6.1.85-1", "linux-signed-amd64 (6.1.85+1)") +
		stanza("linux-headers-6.1.0-18-amd64", "6.1.76-1", "linux") +
		stanza("linux-libc-dev", "6.1.76-1", "linux") +
		stanza("bpftool", "7.1.0+6.1.76-1", "linux (6.1.76-1)")
	osRelease := "ID=debian\nVERSION_ID=\"12\"\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n"
	s := newStore(t, sec("DSA-5900-1", []string{"CVE-2024-26581"}, fixedAt("Debian:12", "linux", "6.1.80-1")))
	collectors := []func() *host.Inventory{}
	_ = collectors
	for _, c := range []struct {
		name, running string
		want          []string
		kernelScope   string
		reboot        bool
	}{
		{"running old kernel", "6.1.0-18-amd64",
			[]string{"linux-image-6.1.0-18-amd64 CVE-2024-26581 fixed 6.1.80-1"}, report.Evaluated, true},
		{"running new kernel", "6.1.0-20-amd64", nil, report.Evaluated, false},
		{"kernel no package owns", "6.18.44-fc-v669", nil, report.NotEvaluated, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			root := writeRoot(t, map[string]string{"etc/os-release": osRelease, "var/lib/dpkg/status": status, "proc/sys/kernel/osrelease": c.running + "\n"})
			inv := testfixture.Collect(t, root, osrelease.New(), dpkg.New(), kernel.New())
			out := evaluate(t, inv, s, cve.Options{})
			if got := vulns(out); !slices.Equal(got, c.want) {
				t.Errorf("findings:\n got %q\nwant %q", got, c.want)
			}
			if cov := coverage(out, "kernel"); cov.Status != c.kernelScope {
				t.Errorf("kernel coverage %+v, want %s", cov, c.kernelScope)
			}
			reboot := false
			for _, f := range out.Findings {
				if f.RuleID == cve.RuleRebootRequired {
					reboot = true
				}
			}
			if reboot != c.reboot {
				t.Errorf("reboot finding = %v, want %v", reboot, c.reboot)
			}
		})
	}
	t.Run("image without proc", func(t *testing.T) {
		root := writeRoot(t, map[string]string{"etc/os-release": osRelease, "var/lib/dpkg/status": status})
		inv := testfixture.Collect(t, root, osrelease.New(), dpkg.New(), kernel.New())
		out := evaluate(t, inv, s, cve.Options{})
		if got := vulns(out); len(got) != 0 {
			t.Errorf("findings %q", got)
		}
		if cov := coverage(out, "kernel"); cov.Status != report.NotEvaluated || !strings.Contains(cov.Reason, "no running kernel") {
			t.Errorf("kernel coverage %+v", cov)
		}
	})
}

func alma8() *host.OSRelease {
	return &host.OSRelease{Family: "rhel", ID: "almalinux", Release: "8.8", Major: "8"}
}

// A module erratum applies only to packages of its module stream, and a
// modular package takes only module errata.
func TestModuleStreams(t *testing.T) {
	mod := func(id, stream, fixed string) *advisory.Advisory {
		af := fixedAt("AlmaLinux:8", "nodejs", fixed)
		af.BinaryKeyed, af.Modular, af.ModuleStreams = true, true, []string{stream}
		return sec(id, []string{"CVE-2023-000" + id[len(id)-1:]}, af)
	}
	plain := fixedAt("AlmaLinux:8", "nodejs", "1:10.24.0-1.el8")
	plain.BinaryKeyed = true
	s := newStore(t,
		mod("ALSA-2023:1", "nodejs:18", "1:18.18.2-1.module_el8.8.0+3681+f4e1a7d7"),
		mod("ALSA-2023:2", "nodejs:20", "1:20.9.0-1.module_el8.8.0+3682+a1b2c3d4"),
		sec("ALSA-2023:3", []string{"CVE-2023-0003"}, plain),
	)
	rpm := func(version, label string) *host.Inventory {
		return &host.Inventory{OS: alma8(), Packages: []host.Package{{Manager: "rpm", Name: "nodejs", Version: version, Arch: "x86_64",
			SourceName: "nodejs", SourceVersion: version, ModularityLabel: label, Ecosystem: "AlmaLinux:8", Source: "/var/lib/rpm/rpmdb.sqlite"}}}
	}
	out := evaluate(t, rpm("1:18.14.2-2.module_el8.7.0+3370+b4c5d5e6", "nodejs:18:8070020230306:9b3bbb69"), s, cve.Options{})
	if got := vulns(out); !slices.Equal(got, []string{"nodejs CVE-2023-0001 fixed 1:18.18.2-1.module_el8.8.0+3681+f4e1a7d7"}) {
		t.Errorf("modular nodejs:18 findings %q", got)
	}
	out = evaluate(t, rpm("1:10.21.0-3.el8", ""), s, cve.Options{})
	if got := vulns(out); !slices.Equal(got, []string{"nodejs CVE-2023-0003 fixed 1:10.24.0-1.el8"}) {
		t.Errorf("non-modular nodejs findings %q", got)
	}
}

// A RHEL host without a Red Hat feed is matched against AlmaLinux data,
// at medium confidence, and the coverage says so. The rebuild's own mark
// (".alma.1") is not a newer release of the RHEL package.
func TestSiblingDistro(t *testing.T) {
	af := fixedAt("AlmaLinux:9", "openssl", "1:3.0.7-27.el9_4.alma.1")
	af.BinaryKeyed = true
	s := newStore(t, sec("ALSA-2024:1234", []string{"CVE-2024-0727"}, af))
	inv := func(version string) *host.Inventory {
		return &host.Inventory{OS: &host.OSRelease{Family: "rhel", ID: "rhel", Release: "9.4", Major: "9"}, Packages: []host.Package{{Manager: "rpm", Name: "openssl",
			Version: version, SourceName: "openssl", SourceVersion: version, Ecosystem: "Red Hat:enterprise_linux:9"}}}
	}
	out := evaluate(t, inv("1:3.0.7-25.el9"), s, cve.Options{})
	if len(out.Findings) != 1 || out.Findings[0].Vulnerability.Confidence != finding.ConfidenceMedium || out.Findings[0].Vulnerability.Provenance[0].Method != "sibling-feed" {
		t.Fatalf("findings %+v", out.Findings)
	}
	if c := coverage(out, "Red Hat:enterprise_linux:9"); c.Status != report.Partial || !strings.Contains(c.Reason, "sibling") {
		t.Errorf("coverage %+v", c)
	}
	if out := evaluate(t, inv("1:3.0.7-27.el9_4"), s, cve.Options{}); len(out.Findings) != 0 {
		t.Errorf("the RHEL build of the fix was reported vulnerable: %q", vulns(out))
	}
}

// An Ubuntu fix published only in Ubuntu Pro says so, and a vendor
// status without a fix is reported as unfixed without an upgrade.
func TestUbuntuProAndUnfixed(t *testing.T) {
	pro := fixedAt("Ubuntu:Pro:18.04:LTS", "curl", "7.58.0-2ubuntu3.24+esm1")
	pro.Repository = "esm-infra"
	needed := advisory.Affected{Ecosystem: "Ubuntu:18.04:LTS", Package: "zlib", Status: advisory.StatusUnfixed, VendorStatus: "needed"}
	s := newStore(t, sec("CVE-2023-38545", nil, pro), sec("CVE-2022-37434", nil, needed))
	inv := &host.Inventory{OS: &host.OSRelease{Family: "debian", ID: "ubuntu", Release: "18.04", Major: "18.04"}, Packages: []host.Package{
		{Manager: "dpkg", Name: "curl", Version: "7.58.0-2ubuntu3.16", SourceName: "curl", SourceVersion: "7.58.0-2ubuntu3.16", Ecosystem: "Ubuntu:18.04:LTS"},
		{Manager: "dpkg", Name: "zlib1g", Version: "1:1.2.11.dfsg-0ubuntu2", SourceName: "zlib", SourceVersion: "1:1.2.11.dfsg-0ubuntu2", Ecosystem: "Ubuntu:18.04:LTS"},
	}}
	out := evaluate(t, inv, s, cve.Options{})
	want := []string{"curl CVE-2023-38545 fixed 7.58.0-2ubuntu3.24+esm1", "zlib1g CVE-2022-37434 unfixed"}
	if got := vulns(out); !slices.Equal(got, want) {
		t.Fatalf("findings %q, want %q", got, want)
	}
	for _, f := range out.Findings {
		switch f.Vulnerability.Package {
		case "curl":
			if f.Vulnerability.FixRepository != "esm-infra" || !strings.Contains(f.Recommendation, "Ubuntu Pro") {
				t.Errorf("curl: %+v %q", f.Vulnerability, f.Recommendation)
			}
		case "zlib1g":
			if strings.Contains(f.Recommendation, "apt-get") || f.Vulnerability.FixedVersion != "" {
				t.Errorf("an unfixed vulnerability must not suggest an upgrade: %q", f.Recommendation)
			}
		}
	}
	out = evaluate(t, inv, s, cve.Options{IgnoreUnfixed: true})
	if got := vulns(out); len(got) != 1 || out.IgnoredUnfixed != 1 {
		t.Errorf("--ignore-unfixed: %q, ignored %d", got, out.IgnoredUnfixed)
	}
}

// Known exploited vulnerabilities are marked and listed first.
func TestKnownExploited(t *testing.T) {
	ctx := context.Background()
	s := newStore(t,
		sec("GO-2024-2687", []string{"CVE-2023-45288"}, advisory.Affected{Ecosystem: "Go", Package: "stdlib", Status: advisory.StatusAffected,
			Ranges: []advisory.Range{{Type: "SEMVER", Events: []advisory.Event{{Introduced: "0"}, {Fixed: "1.21.9"}}}}}),
		sec("GO-2021-0113", []string{"CVE-2021-38561"}, advisory.Affected{Ecosystem: "Go", Package: "golang.org/x/text", Status: advisory.StatusAffected,
			Ranges: []advisory.Range{{Type: "SEMVER", Events: []advisory.Event{{Introduced: "0"}, {Fixed: "0.3.7"}}}}}),
	)
	if _, err := s.ReplaceExploited(ctx, vulndb.SourceMeta{Origin: "test"}, now, []advisory.Exploited{{CVE: "CVE-2021-38561", DateAdded: "2025-01-02", DueDate: "2025-01-23", RequiredAction: "Apply updates."}}); err != nil {
		t.Fatal(err)
	}
	inv := &host.Inventory{Software: []host.Software{
		{Ecosystem: "Go", Name: "stdlib", Version: "v1.21.5", Kind: host.KindGoStdlib, Location: "/usr/local/bin/app"},
		{Ecosystem: "Go", Name: "golang.org/x/text", Version: "v0.3.6", Kind: host.KindGoModule, Location: "/usr/local/bin/app"},
		{Ecosystem: "Go", Name: "example.com/app", Version: "(devel)", Kind: host.KindGoMain, Location: "/usr/local/bin/app"},
	}}
	out := evaluate(t, inv, s, cve.Options{})
	if len(out.Findings) != 2 || out.Findings[0].Vulnerability.KnownExploited == nil || out.Findings[0].Vulnerability.ID != "CVE-2021-38561" {
		t.Fatalf("the known exploited finding must come first: %q", vulns(out))
	}
	if c := coverage(out, "Go"); c.Status != report.Partial || !strings.Contains(c.Reason, "development build") {
		t.Errorf("a (devel) main module cannot be matched and must be said: %+v", c)
	}
	r := &report.Report{Findings: out.Findings}
	if report.ExitCode(r, report.ExitPolicy{FailOnKEV: true}) != report.ExitFindings || report.ExitCode(r, report.ExitPolicy{}) != report.ExitOK {
		t.Error("--fail-on-kev")
	}
	std := out.Findings[1]
	if !strings.Contains(std.Recommendation, "Go 1.21.9") || std.Severity != finding.Unrated || !strings.HasPrefix(std.Vulnerability.SeveritySource, "none") {
		t.Errorf("stdlib finding: %q %s %q", std.Recommendation, std.Severity, std.Vulnerability.SeveritySource)
	}
}

// Without a store nothing is matched and the coverage says why; a Debian
// host's pending updates still report the CVEs their changelogs fix.
func TestNoFeedAndChangelogs(t *testing.T) {
	inv := &host.Inventory{OS: debian12(), Packages: []host.Package{dpkgPkg("libssl3", "3.0.11-1~deb12u2", "openssl", "3.0.11-1~deb12u2")}}
	out := evaluate(t, inv, nil, cve.Options{DBPath: "/nowhere/vulndb.sqlite", DBError: vulndb.ErrNotFound})
	if c := coverage(out, "Debian:12"); c.Status != report.NotEvaluated || !strings.Contains(c.Reason, "kensa db update") {
		t.Errorf("coverage %+v", c)
	}
	if len(vulns(out)) != 0 {
		t.Error("findings without data")
	}
	inv.Updates = &host.Updates{Method: "apt-changelog", Pending: []host.PendingUpdate{
		{Name: "libssl3", Arch: "amd64", Installed: "3.0.11-1~deb12u2", Candidate: "3.0.15-1~deb12u1", Suite: "bookworm-security",
			FixedCVEs: []string{"CVE-2024-5535", "CVE-2024-9143"}, Changelog: "read"},
	}}
	s := newStore(t, sec("GO-1", nil, fixedAt("Go", "x", "1.0"))) // a store without Debian data
	out = evaluate(t, inv, s, cve.Options{})
	if got := vulns(out); !slices.Equal(got, []string{"libssl3 CVE-2024-5535 fixed 3.0.15-1~deb12u1", "libssl3 CVE-2024-9143 fixed 3.0.15-1~deb12u1"}) {
		t.Errorf("changelog findings %q", got)
	}
	if c := coverage(out, "Debian:12"); c.Status != report.Partial || !strings.Contains(c.Reason, "apt-changelog") {
		t.Errorf("coverage %+v", c)
	}
	if v := out.Findings[0].Vulnerability; v.Confidence != finding.ConfidenceMedium || v.Provenance[0].Method != "changelog" {
		t.Errorf("%+v", v)
	}
}

// An end-of-life release is a high finding, and every report the CVE
// package makes validates against the report schema.
func TestEndOfLifeAndReportValidates(t *testing.T) {
	o := debian12()
	o.ID, o.Release, o.Major = "debian", "9", "9"
	o.EOL = &host.EndOfLife{Date: "2022-06-30", Reached: true, Note: "end of Debian LTS"}
	s := newStore(t, sec("CVE-2024-1", nil, fixedAt("Debian:9", "openssl", "1.1.0l-1~deb9u9")))
	inv := &host.Inventory{Identity: host.Identity{Hostname: "h", Root: "/", Live: true}, OS: o,
		Packages: []host.Package{{Manager: "dpkg", Name: "libssl1.1", Version: "1.1.0l-1~deb9u1", SourceName: "openssl", SourceVersion: "1.1.0l-1~deb9u1", Ecosystem: "Debian:9", Source: "/var/lib/dpkg/status"}}}
	r, err := assess.Evaluate(context.Background(), inv, assess.Options{Packages: []string{"cve"}, VulnDB: s, Clock: func() time.Time { return now }, Tool: report.Tool{Name: "kensa", Version: "test"}})
	if err != nil {
		t.Fatal(err)
	}
	r.StartedAt, r.FinishedAt = now, now
	var buf bytes.Buffer
	if err := report.WriteJSON(&buf, r); err != nil {
		t.Fatal(err)
	}
	if err := report.Validate(buf.Bytes()); err != nil {
		t.Fatal(err)
	}
	if err := report.Check(r); err != nil {
		t.Fatal(err)
	}
	var eol *finding.Finding
	for i := range r.Findings {
		if r.Findings[i].RuleID == cve.RuleEndOfLife {
			eol = &r.Findings[i]
		}
	}
	if eol == nil || eol.Severity != finding.High {
		t.Fatalf("no high end-of-life finding in %+v", r.Findings)
	}
	if len(r.Feeds) != 1 || r.Feeds[0].Name != "test" || r.Feeds[0].AgeHours != 24 || r.Feeds[0].Stale {
		t.Errorf("feeds %+v", r.Feeds)
	}
}

// An advisory of the Go toolchain names the commands it affects: a
// vulnerability in cmd/go is reported on the go binary, not on gofmt.
func TestGoToolchainCommands(t *testing.T) {
	af := advisory.Affected{Ecosystem: "Go", Package: "toolchain", Status: advisory.StatusAffected, Commands: []string{"cmd/go"},
		Ranges: []advisory.Range{{Type: "SEMVER", Events: []advisory.Event{{Introduced: "0"}, {Fixed: "1.27.1"}}}}}
	s := newStore(t, sec("GO-2026-6601", nil, af))
	tool := func(cmd string) host.Software {
		return host.Software{Ecosystem: "Go", Name: "toolchain", Version: "v1.26.8", Kind: host.KindGoMain,
			PURL: "pkg:golang/toolchain@v1.26.8#" + cmd, Location: "/usr/local/go/bin/" + strings.TrimPrefix(cmd, "cmd/")}
	}
	inv := &host.Inventory{Software: []host.Software{tool("cmd/go"), tool("cmd/gofmt")}}
	out := evaluate(t, inv, s, cve.Options{})
	if len(out.Findings) != 1 || out.Findings[0].Vulnerability.Location != "/usr/local/go/bin/go" {
		t.Errorf("findings %+v", vulns(out))
	}
}

// A host past its end of life scanned without a database still gets its
// end-of-life finding, in a report that is consistent: the lifecycle
// scope is evaluated, the packages are not.
func TestEndOfLifeWithoutDatabase(t *testing.T) {
	o := &host.OSRelease{Family: "debian", ID: "ubuntu", Release: "20.04", Major: "20.04",
		EOL: &host.EndOfLife{Date: "2025-05-31", Reached: true}}
	inv := &host.Inventory{Identity: host.Identity{Hostname: "h", Root: "/"}, OS: o, Packages: []host.Package{
		{Manager: "dpkg", Name: "bash", Version: "5.0-6ubuntu1", Ecosystem: "Ubuntu:20.04:LTS", Source: "/var/lib/dpkg/status"}}}
	r, err := assess.Evaluate(context.Background(), inv, assess.Options{Packages: []string{"cve"}, DBError: vulndb.ErrNotFound,
		Clock: func() time.Time { return now }, Tool: report.Tool{Name: "kensa", Version: "test"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := report.Check(r); err != nil {
		t.Fatal(err)
	}
	if len(r.Findings) != 1 || r.Findings[0].RuleID != cve.RuleEndOfLife {
		t.Errorf("findings %+v", r.Findings)
	}
}

// Records that alias each other without a CVE make one finding; an
// advisory fixing two CVEs makes two findings, neither listing the other
// CVE as an alias.
func TestVulnerabilityIdentity(t *testing.T) {
	s := newStore(t,
		sec("PYSEC-2022-9", []string{"GHSA-aaaa-bbbb-cccc"}, fixedAt("PyPI", "foo", "2.0")),
		sec("GHSA-aaaa-bbbb-cccc", []string{"PYSEC-2022-9"}, fixedAt("PyPI", "foo", "2.0")),
		sec("PYSEC-2024-1", []string{"CVE-2024-3333", "CVE-2024-4444"}, fixedAt("PyPI", "bar", "1.1")),
	)
	inv := &host.Inventory{Software: []host.Software{
		{Ecosystem: "PyPI", Name: "foo", Version: "1.0", Kind: host.KindPythonDist, Location: "/s/foo-1.0.dist-info/METADATA"},
		{Ecosystem: "PyPI", Name: "bar", Version: "1.0", Kind: host.KindPythonDist, Location: "/s/bar-1.0.dist-info/METADATA"},
	}}
	out := evaluate(t, inv, s, cve.Options{})
	want := []string{"bar CVE-2024-3333 fixed 1.1", "bar CVE-2024-4444 fixed 1.1", "foo GHSA-aaaa-bbbb-cccc fixed 2.0"}
	if got := vulns(out); !slices.Equal(got, want) {
		t.Fatalf("findings %q, want %q", got, want)
	}
	for _, f := range out.Findings {
		for _, al := range f.Vulnerability.Aliases {
			if strings.HasPrefix(al, "CVE-") {
				t.Errorf("%s lists %s as an alias", f.Vulnerability.ID, al)
			}
		}
		if f.Vulnerability.ID == "GHSA-aaaa-bbbb-cccc" && (len(f.Vulnerability.Provenance) != 2 || !slices.Equal(f.Vulnerability.Aliases, []string{"PYSEC-2022-9"})) {
			t.Errorf("merged finding %+v", f.Vulnerability)
		}
	}
}

// Amazon Linux 2 Extras errata: a kernel topic's fix says nothing about
// another kernel line; other topics (docker) match their packages.
func TestAmazonExtras(t *testing.T) {
	k510 := fixedAt("Amazon Linux:2", "kernel", "5.10.210-201.852.amzn2")
	k510.BinaryKeyed, k510.Repository = true, "kernel-5.10"
	dock := fixedAt("Amazon Linux:2", "docker", "25.0.3-1.amzn2.0.1")
	dock.BinaryKeyed, dock.Repository = true, "docker"
	s := newStore(t, sec("ALAS2KERNEL-5.10-2024-045", []string{"CVE-2024-1086"}, k510), sec("ALAS2DOCKER-2024-001", []string{"CVE-2024-21626"}, dock))
	rpm := func(name, version string) host.Package {
		return host.Package{Manager: "rpm", Name: name, Version: version, Arch: "x86_64", SourceName: name, SourceVersion: version, Ecosystem: "Amazon Linux:2"}
	}
	inv := &host.Inventory{OS: &host.OSRelease{Family: "rhel", ID: "amzn", Release: "2", Major: "2"},
		Kernel:   &host.Kernel{Running: "4.14.336-257.562.amzn2.x86_64", Installed: []host.InstalledKernel{{Package: "kernel", Version: "4.14.336-257.562.amzn2", Release: "4.14.336-257.562.amzn2.x86_64"}}},
		Packages: []host.Package{rpm("kernel", "4.14.336-257.562.amzn2"), rpm("docker", "20.10.25-1.amzn2.0.4")}}
	out := evaluate(t, inv, s, cve.Options{})
	if got := vulns(out); !slices.Equal(got, []string{"docker CVE-2024-21626 fixed 25.0.3-1.amzn2.0.1"}) {
		t.Errorf("findings %q", got)
	}
	if !strings.Contains(out.Findings[0].Recommendation, "yum") {
		t.Errorf("Amazon Linux 2 uses yum: %q", out.Findings[0].Recommendation)
	}
}
