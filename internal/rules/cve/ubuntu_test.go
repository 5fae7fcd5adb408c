package cve_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kensa-dev/kensa/internal/collect"
	"github.com/kensa-dev/kensa/internal/collect/dpkg"
	"github.com/kensa-dev/kensa/internal/collect/osrelease"
	"github.com/kensa-dev/kensa/internal/finding"
	"github.com/kensa-dev/kensa/internal/hostfs"
	"github.com/kensa-dev/kensa/internal/report"
	"github.com/kensa-dev/kensa/internal/rules/cve"
	"github.com/kensa-dev/kensa/internal/testfixture"
	"github.com/kensa-dev/kensa/internal/vulndb"
)

// focalTime is the focal database's own timestamp (metadata.timestamp
// 1631863298): the scan is dated when the data was, so Ubuntu 20.04 is
// not yet past its end of life and the feed is not stale.
var focalTime = time.Unix(1631863298, 0).UTC()

// ubuntuPriority maps the tracker's priorities to Kensa's severities, as
// severity.go's vendorScales does; any other word ("untriaged") is no
// rating, and the cvescan data carries no CVSS vector, so it is unrated.
var ubuntuPriority = map[string]finding.Severity{
	"critical": finding.High, "high": finding.High, "medium": finding.Medium, "low": finding.Low, "negligible": finding.Informational,
}

func prioritySeverity(p string) finding.Severity {
	if s, ok := ubuntuPriority[p]; ok {
		return s
	}
	return finding.Unrated
}

// TestUbuntuFocalBaseFixture matches the Ubuntu 20.04 base fixture's
// package database against Canonical's focal cvescan database and
// compares every finding with the expected file, which the independent
// oracle scripts/oracle/ubuntu_cvescan.py computed from the same two
// files (with the real dpkg comparing versions). A line is
// "package, CVE, fix, fixed version, Ubuntu priority"; the priority is
// compared as the severity Kensa derives from it.
func TestUbuntuFocalBaseFixture(t *testing.T) {
	root := testfixture.Shared(t, "fixtures", "pkgdb", "dpkg", "ubuntu-20.04-base")
	dbFile := testfixture.Shared(t, "vulndata", "native", "ubuntu", "ubuntu-vuln-db-focal.json.bz2")
	ctx := context.Background()

	fsys, err := hostfs.Open(root)
	if err != nil {
		t.Fatal(err)
	}
	inv := testfixture.CollectEnv(t, &collect.Env{FS: fsys, Clock: func() time.Time { return focalTime }}, osrelease.New(), dpkg.New())
	if inv.OS == nil || inv.OS.Ecosystem() != "Ubuntu:20.04:LTS" {
		t.Fatalf("os = %+v, want the Ubuntu:20.04:LTS ecosystem", inv.OS)
	}
	// 327 paragraphs, one of them "deinstall ok config-files".
	if len(inv.Packages) != 326 {
		t.Fatalf("%d installed packages, want 326", len(inv.Packages))
	}

	store, err := vulndb.Open(ctx, filepath.Join(t.TempDir(), "v.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	res, err := store.Import(ctx, dbFile, vulndb.SourceMeta{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Sources) != 1 || res.Sources[0].Name != "ubuntu-cvescan/focal" {
		t.Fatalf("imported sources %+v, want ubuntu-cvescan/focal", res.Sources)
	}

	out, err := cve.Evaluate(ctx, inv, store, cve.Options{Now: func() time.Time { return focalTime }})
	if err != nil {
		t.Fatal(err)
	}

	// Every finding is a vulnerability finding: no end of life in 2021,
	// no kernel in a package database.
	got := map[string]bool{}
	byKey := map[string]*finding.Finding{}
	for i := range out.Findings {
		f := &out.Findings[i]
		v := f.Vulnerability
		if v == nil {
			t.Errorf("unexpected finding %s: %s", f.RuleID, f.Title)
			continue
		}
		fixed := v.FixedVersion
		if fixed == "" {
			fixed = "-"
		}
		line := strings.Join([]string{v.Package, v.ID, v.Fix, fixed, string(f.Severity)}, "\t")
		k := v.Package + " " + v.ID
		if byKey[k] != nil {
			t.Errorf("two findings for %s", k)
		}
		byKey[k] = f
		got[line] = true
	}

	want := readExpected(t, filepath.Join("testdata", "ubuntu-20.04-base-focal.expected"))
	var missing, extra []string
	for line := range want {
		if !got[line] {
			missing = append(missing, line)
		}
	}
	for line := range got {
		if !want[line] {
			extra = append(extra, line)
		}
	}
	if len(missing)+len(extra) > 0 {
		slices.Sort(missing)
		slices.Sort(extra)
		var b strings.Builder
		fmt.Fprintf(&b, "findings differ from the oracle's (package, CVE, fix, fixed version, severity): %d missing, %d extra\n", len(missing), len(extra))
		for _, l := range missing {
			b.WriteString("  missing: " + strings.ReplaceAll(l, "\t", "  ") + "\n")
		}
		for _, l := range extra {
			b.WriteString("  extra:   " + strings.ReplaceAll(l, "\t", "  ") + "\n")
		}
		t.Error(b.String())
	}

	// The count and the severity histogram, pinned.
	if len(out.Findings) != 200 {
		t.Errorf("%d findings, want 200", len(out.Findings))
	}
	hist := map[finding.Severity]int{}
	fixes := map[string]int{}
	for _, f := range out.Findings {
		hist[f.Severity]++
		if f.Vulnerability != nil {
			fixes[f.Vulnerability.Fix]++
		}
	}
	wantHist := map[finding.Severity]int{finding.High: 1, finding.Medium: 48, finding.Low: 128, finding.Informational: 23}
	for _, s := range finding.Severities() {
		if hist[s] != wantHist[s] {
			t.Errorf("%d %s findings, want %d", hist[s], s, wantHist[s])
		}
	}
	if fixes[finding.FixAvailable] != 21 || fixes[finding.FixUnfixed] != 179 || fixes[finding.FixWillNotFix] != 0 {
		t.Errorf("fix split %v, want fixed 21, unfixed 179, will_not_fix 0", fixes)
	}

	// Released and fixed: CVE-2021-33910 (systemd, released in
	// 245.4-4ubuntu3.10). libudev1 was left at 245.4-4ubuntu3.2 while
	// the systemd binary is at 245.4-4ubuntu3.17: each binary is matched
	// at its own source version.
	if f := byKey["libudev1 CVE-2021-33910"]; f == nil {
		t.Error("no finding for libudev1 CVE-2021-33910")
	} else {
		v := f.Vulnerability
		if v.Fix != finding.FixAvailable || v.FixedVersion != "245.4-4ubuntu3.10" || v.FixRepository != "" {
			t.Errorf("libudev1 CVE-2021-33910: fix %q %q repository %q, want fixed 245.4-4ubuntu3.10 in the archive", v.Fix, v.FixedVersion, v.FixRepository)
		}
		if f.Severity != finding.High || !strings.Contains(v.SeveritySource, "ubuntu-priority: high") {
			t.Errorf("libudev1 CVE-2021-33910: severity %s from %q, want high from the Ubuntu priority", f.Severity, v.SeveritySource)
		}
		if v.SourcePackage != "systemd" || v.SourceVersion != "245.4-4ubuntu3.2" || v.InstalledVersion != "245.4-4ubuntu3.2" || v.Ecosystem != "Ubuntu:20.04:LTS" {
			t.Errorf("libudev1 CVE-2021-33910: %+v", v)
		}
		if len(v.Provenance) != 1 {
			t.Fatalf("libudev1 CVE-2021-33910: provenance %+v, want one record", v.Provenance)
		}
		p := v.Provenance[0]
		if p.Method != "feed" || p.Feed != "ubuntu-cvescan/focal" || p.Record != "CVE-2021-33910" || p.Ecosystem != "Ubuntu:20.04:LTS" ||
			!strings.Contains(p.Matched, "source package systemd") || !strings.Contains(p.Comparison, "245.4-4ubuntu3.2 < fixed 245.4-4ubuntu3.10") {
			t.Errorf("libudev1 CVE-2021-33910: provenance %+v", p)
		}
		if !strings.Contains(f.Recommendation, "245.4-4ubuntu3.10") || !strings.Contains(f.Recommendation, "--only-upgrade libudev1") {
			t.Errorf("libudev1 CVE-2021-33910: recommendation %q", f.Recommendation)
		}
	}
	if f := byKey["systemd CVE-2021-33910"]; f != nil {
		t.Errorf("systemd 245.4-4ubuntu3.17 is past the fix of CVE-2021-33910, yet: %s", f.Title)
	}

	// Needed: CVE-2021-3770 in vim has no fix in focal; the finding says
	// so and does not tell the reader to upgrade. Deferred (wget,
	// CVE-2021-31879) is unfixed too.
	for _, k := range []string{"vim CVE-2021-3770", "wget CVE-2021-31879"} {
		f := byKey[k]
		if f == nil {
			t.Errorf("no finding for %s", k)
			continue
		}
		v := f.Vulnerability
		if v.Fix != finding.FixUnfixed || v.FixedVersion != "" || f.Severity != finding.Medium {
			t.Errorf("%s: fix %q fixed %q severity %s, want unfixed, no fixed version, medium", k, v.Fix, v.FixedVersion, f.Severity)
		}
		rec := strings.ToLower(f.Recommendation)
		if strings.Contains(rec, "upgrade") || strings.Contains(rec, "apt-get") || !strings.Contains(rec, "no fixed version") {
			t.Errorf("%s: recommendation suggests an upgrade or does not say there is no fix: %q", k, f.Recommendation)
		}
		if len(v.Provenance) != 1 || v.Provenance[0].Feed != "ubuntu-cvescan/focal" || !strings.Contains(v.Provenance[0].Matched, "vendor status") {
			t.Errorf("%s: provenance %+v", k, v.Provenance)
		}
	}
	if p := byKey["vim CVE-2021-3770"].Vulnerability.Provenance; len(p) == 1 && !strings.HasPrefix(p[0].Matched, "vendor status needed") {
		t.Errorf("vim CVE-2021-3770: matched %q, want the vendor status needed", p[0].Matched)
	}

	// Not affected: glibc is "not-affected (2.31-0ubuntu9)" for
	// CVE-2020-1751, and libc6 2.31-0ubuntu9 is installed. Released at
	// exactly the installed version: sudo 1.8.31-1ubuntu1.2 and
	// CVE-2021-3156 (Baron Samedit). Neither is a finding.
	for _, k := range []string{"libc6 CVE-2020-1751", "libc-bin CVE-2020-1751", "locales CVE-2020-1751", "sudo CVE-2021-3156"} {
		if f := byKey[k]; f != nil {
			t.Errorf("%s: not affected, yet: %s", k, f.Title)
		}
	}

	// Coverage: the release was evaluated against its own feed.
	var cov *report.Coverage
	for i := range out.Coverage {
		if out.Coverage[i].Scope == "Ubuntu:20.04:LTS" {
			cov = &out.Coverage[i]
		}
	}
	if cov == nil || cov.Status != report.Evaluated || cov.Package != finding.PackageCVE {
		t.Errorf("coverage of Ubuntu:20.04:LTS: %+v, want evaluated; all: %+v", cov, out.Coverage)
	} else if !strings.Contains(cov.Reason, "326 packages matched") {
		t.Errorf("coverage reason %q, want 326 packages matched", cov.Reason)
	}
	var feeds []string
	for _, f := range out.Feeds {
		feeds = append(feeds, f.Name)
		if f.Name == "ubuntu-cvescan/focal" && f.Stale {
			t.Errorf("feed %+v is stale at its own date", f)
		}
	}
	if !slices.Contains(feeds, "ubuntu-cvescan/focal") {
		t.Errorf("feeds %v, want ubuntu-cvescan/focal", feeds)
	}
}

// readExpected reads the oracle's lines, with the priority column turned
// into the severity Kensa should derive from it.
func readExpected(t *testing.T, path string) map[string]bool {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]bool{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		cols := strings.Split(sc.Text(), "\t")
		if len(cols) != 5 {
			t.Fatalf("%s:%d: %d columns, want 5", path, n, len(cols))
		}
		cols[4] = string(prioritySeverity(cols[4]))
		out[strings.Join(cols, "\t")] = true
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(out) == 0 {
		t.Fatalf("%s is empty", path)
	}
	return out
}
