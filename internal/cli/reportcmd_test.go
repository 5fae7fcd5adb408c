package cli

import (
	"encoding/csv"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kensa-dev/kensa/internal/finding"
	"github.com/kensa-dev/kensa/internal/report"
	"github.com/kensa-dev/kensa/internal/testfixture"
)

func TestOutputsPairing(t *testing.T) {
	for _, tt := range []struct {
		formats, paths []string
		want           string // an error fragment, or "" for success
	}{
		{nil, nil, ""},
		{[]string{"json"}, nil, ""},
		{[]string{"json", "csv"}, []string{"r.json", "r.csv"}, ""},
		{[]string{"json", "table"}, []string{"r.json", "-"}, ""},
		{[]string{"json", "csv"}, nil, "give one --output for each --format"},
		{[]string{"json", "csv"}, []string{"-", "-"}, "2 formats would go to stdout"},
		{[]string{"sarif"}, nil, ""},
		{[]string{"xml"}, nil, "unknown format"},
	} {
		outs, err := outputs(tt.formats, tt.paths)
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("outputs(%q, %q): %v", tt.formats, tt.paths, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("outputs(%q, %q) = %v, %v; want an error with %q", tt.formats, tt.paths, outs, err, tt.want)
		}
	}
}

func TestOutputFlagsResolve(t *testing.T) {
	for _, tt := range []struct {
		flags outputFlags
		want  string // an error fragment, or "" for success
	}{
		{outputFlags{kind: "findings"}, ""},
		{outputFlags{kind: "full", formats: []string{"json"}}, ""},
		{outputFlags{kind: "all"}, `--kind "all": want findings or full`},
		{outputFlags{kind: "findings", sbomVulnerabilities: true, formats: []string{"json"}}, "--sbom-vulnerabilities applies to --format cyclonedx"},
	} {
		_, err := tt.flags.resolve(io.Discard)
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%+v: %v", tt.flags, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%+v: %v; want an error with %q", tt.flags, err, tt.want)
		}
	}
	if o := (&outputFlags{kind: "full", sbomVulnerabilities: true}).options(); !o.full || !o.sbomVulnerabilities {
		t.Errorf("options() = %+v", o)
	}
}

// One scan writes several formats; kensa report renders the stored JSON
// again, identically; kensa diff compares two reports.
func TestScanFormatsReportAndDiff(t *testing.T) {
	root := testfixture.Shared(t, "fixtures", "pkgdb", "dpkg", "debian-12-this-host")
	dir := t.TempDir()
	js, cs := filepath.Join(dir, "r.json"), filepath.Join(dir, "r.csv")
	code, _, stderr := run(t, "scan", "--root", root, "--packages", "best-practices,cis", "-f", "json", "-o", js, "-f", "csv", "-o", cs)
	if code != ExitOK {
		t.Fatalf("scan: exit %d: %s", code, stderr)
	}
	r := readReport(t, js)
	if len(r.Findings) == 0 {
		t.Fatal("the fixture root should have configuration findings")
	}
	f, err := os.Open(cs)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(f).ReadAll()
	f.Close()
	if err != nil || len(rows) != len(r.Findings)+1 {
		t.Fatalf("csv: %d rows for %d findings (%v)", len(rows), len(r.Findings), err)
	}

	// kensa report: the same CSV from the stored JSON.
	code, out, stderr := run(t, "report", "--input", js, "--format", "csv")
	want, _ := os.ReadFile(cs)
	if code != ExitOK || out != string(want) {
		t.Errorf("report -f csv: exit %d (%s); differs from the scan's CSV", code, stderr)
	}
	code, full, _ := run(t, "report", "--input", js, "--kind", "full", "--color", "never")
	code2, brief, _ := run(t, "report", "--input", js, "--color", "never")
	if code != ExitOK || code2 != ExitOK || !strings.Contains(full, "RESULTS") || strings.Contains(brief, "RESULTS") {
		t.Errorf("--kind full should add the RESULTS section, findings should not")
	}
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"schema_version":"1.4"}`), 0o644)
	if code, _, stderr := run(t, "report", "--input", bad); code != ExitError || !strings.Contains(stderr, "not a valid Kensa report") {
		t.Errorf("invalid input: exit %d, %q", code, stderr)
	}

	// kensa diff: drop a finding from a copy (cis is fully evaluated on
	// this root? then it is fixed, else not checked again) and add one.
	nw := *r
	gone := nw.Findings[0]
	added := finding.Finding{ID: strings.Repeat("c", 32), RulesPackage: "cis", RuleID: "cis-0.0", Severity: finding.High,
		Title: "planted", Evidence: []string{}, Attributes: map[string]string{}, Recommendation: "none"}
	nw.Findings = append([]finding.Finding{added}, nw.Findings[1:]...)
	nw.Summary = report.Summarize(&nw)
	nj := filepath.Join(dir, "new.json")
	b, _ := json.Marshal(&nw)
	os.WriteFile(nj, b, 0o644)
	code, out, stderr = run(t, "diff", "--format", "json", "--fail-on", "high", js, nj)
	if code != ExitFindings {
		t.Fatalf("diff --fail-on high with a new high finding: exit %d (%s)", code, stderr)
	}
	var d report.DiffJSON
	if err := json.Unmarshal([]byte(out), &d); err != nil {
		t.Fatal(err)
	}
	goneListed := len(d.Fixed) == 1 && d.Fixed[0].ID == gone.ID || len(d.Unverified) == 1 && d.Unverified[0].Finding.ID == gone.ID
	if len(d.New) != 1 || d.New[0].ID != added.ID || !goneListed || len(d.Unchanged) != len(r.Findings)-1 {
		t.Errorf("diff: %d new, %d fixed, %d unverified, %d unchanged", len(d.New), len(d.Fixed), len(d.Unverified), len(d.Unchanged))
	}
	if code, _, _ := run(t, "diff", "--fail-on", "high", js, js); code != ExitOK {
		t.Errorf("diff of a report with itself: exit %d", code)
	}
	if code, _, _ := run(t, "diff", js); code != ExitUsage {
		t.Errorf("diff with one argument: exit %d", code)
	}
}

// Every format a scan writes, kensa report writes identically from the
// scan's JSON: each is a function of the report alone. The SBOMs list the
// fixture root's packages; a report without a component list (schema 1.5)
// is refused by the SBOM formats and still renders in the others.
func TestReportRendersWhatScanWrote(t *testing.T) {
	root := testfixture.Shared(t, "fixtures", "pkgdb", "dpkg", "debian-12-this-host")
	dir := t.TempDir()
	args := []string{"scan", "--root", root, "--packages", "best-practices", "-f", "json", "-o", filepath.Join(dir, "r.json")}
	for _, f := range formatNames {
		if f != "json" {
			args = append(args, "-f", f, "-o", filepath.Join(dir, "scan."+f))
		}
	}
	if code, _, stderr := run(t, args...); code != ExitOK {
		t.Fatalf("scan: exit %d: %s", code, stderr)
	}
	js := filepath.Join(dir, "r.json")
	for _, f := range formatNames {
		if f == "json" {
			continue
		}
		out := filepath.Join(dir, "report."+f)
		if code, _, stderr := run(t, "report", "-i", js, "-f", f, "-o", out); code != ExitOK {
			t.Errorf("report -f %s: exit %d: %s", f, code, stderr)
			continue
		}
		a, _ := os.ReadFile(filepath.Join(dir, "scan."+f))
		b, _ := os.ReadFile(out)
		if len(a) == 0 || string(a) != string(b) {
			t.Errorf("-f %s: kensa report wrote %d bytes that differ from the scan's %d", f, len(b), len(a))
		}
	}
	r := readReport(t, js)
	var bom struct {
		Components []struct{ Name string } `json:"components"`
	}
	b, _ := os.ReadFile(filepath.Join(dir, "scan.cyclonedx"))
	if err := json.Unmarshal(b, &bom); err != nil || len(bom.Components) == 0 || len(bom.Components) != len(r.Inventory.Components) {
		t.Errorf("cyclonedx: %d components for the report's %d (%v)", len(bom.Components), len(r.Inventory.Components), err)
	}

	// A 1.5 report: counts, no component list.
	r.SchemaVersion = "1.5"
	r.Inventory.Components = nil
	old := filepath.Join(dir, "old.json")
	b, _ = json.Marshal(r)
	os.WriteFile(old, b, 0o644)
	for _, f := range []string{"cyclonedx", "spdx"} {
		code, _, stderr := run(t, "report", "-i", old, "-f", f, "-o", filepath.Join(dir, "old."+f))
		if code != ExitError || !strings.Contains(stderr, "does not list every component") {
			t.Errorf("report -f %s of a 1.5 report: exit %d, %q", f, code, stderr)
		}
		if _, err := os.Stat(filepath.Join(dir, "old."+f)); !os.IsNotExist(err) {
			t.Errorf("report -f %s of a 1.5 report left an output file (%v)", f, err)
		}
	}
	if code, _, stderr := run(t, "report", "-i", old, "-f", "csv"); code != ExitOK {
		t.Errorf("report -f csv of a 1.5 report: exit %d: %s", code, stderr)
	}
}

// Suppressions: the matched finding moves to suppressed, with its reason;
// an expired rule warns and no longer applies; a broken file stops the
// scan before it runs; .kensa-ignore.yaml in the working directory is
// read by default.
func TestScanSuppressions(t *testing.T) {
	root := testfixture.Shared(t, "fixtures", "pkgdb", "dpkg", "debian-12-this-host")
	dir := t.TempDir()
	base := filepath.Join(dir, "base.json")
	if code, _, stderr := run(t, "scan", "--root", root, "--packages", "cis", "-f", "json", "-o", base, "--no-ignore-file"); code != ExitOK {
		t.Fatalf("scan: %s", stderr)
	}
	before := readReport(t, base)
	var target finding.Finding
	for _, f := range before.Findings {
		if f.RuleID == "cis-1.3.1.1" {
			target = f
		}
	}
	if target.ID == "" {
		t.Fatal("the fixture root should fail cis-1.3.1.1")
	}
	ign := filepath.Join(dir, "ignore.yaml")
	os.WriteFile(ign, []byte(`version: 1
suppressions:
  - rule: cis-1.3.1.1
    reason: AppArmor is replaced by SELinux-like controls here (test)
    owner: secops@example.com
  - rule: cis-5.2.1
    reason: an old exception
    owner: ops
    expires: 2020-01-31
`), 0o644)
	out := filepath.Join(dir, "r.json")
	code, _, stderr := run(t, "scan", "--root", root, "--packages", "cis", "-f", "json", "-o", out, "--ignore-file", ign)
	if code != ExitOK {
		t.Fatalf("scan with --ignore-file: exit %d: %s", code, stderr)
	}
	if !strings.Contains(stderr, "suppression expired") || !strings.Contains(stderr, "cis-5.2.1") {
		t.Errorf("no warning for the expired rule: %q", stderr)
	}
	r := readReport(t, out)
	if len(r.Suppressed) != 1 || r.Suppressed[0].Finding.ID != target.ID || r.Suppressed[0].Owner != "secops@example.com" ||
		len(r.Findings) != len(before.Findings)-1 || r.Summary.Suppressed != 1 || r.Suppressions == nil || len(r.Suppressions.Expired) != 1 {
		t.Errorf("suppressed %+v, %d findings (was %d), summary %+v, file %+v", r.Suppressed, len(r.Findings), len(before.Findings), r.Summary, r.Suppressions)
	}

	// --fail-on judges the findings that stand: with every medium one
	// suppressed, the gate passes; without the file it fails.
	if code, _, _ := run(t, "scan", "--root", root, "--packages", "cis", "--fail-on", "medium", "-f", "json", "-o", out, "--no-ignore-file"); code != ExitFindings {
		t.Fatalf("--fail-on medium without suppressions: exit %d", code)
	}
	var rules []string
	for _, f := range before.Findings {
		if f.Severity.AtLeast(finding.Medium) {
			rules = append(rules, "  - rule: "+f.RuleID+"\n    reason: accepted\n    owner: secops\n")
		}
	}
	os.WriteFile(ign, []byte("version: 1\nsuppressions:\n"+strings.Join(rules, "")), 0o644)
	if code, _, stderr := run(t, "scan", "--root", root, "--packages", "cis", "--fail-on", "medium", "-f", "json", "-o", out, "--ignore-file", ign); code != ExitOK {
		t.Errorf("--fail-on medium with every medium finding suppressed: exit %d (%s)", code, stderr)
	}

	// A broken file: usage error before the scan.
	os.WriteFile(ign, []byte("version: 1\nsuppressions:\n  - rule: x\n    owner: me\n"), 0o644)
	if code, _, stderr := run(t, "scan", "--root", root, "--ignore-file", ign); code != ExitUsage || !strings.Contains(stderr, "reason") {
		t.Errorf("broken ignore file: exit %d, %q", code, stderr)
	}
	// The default file in the working directory is read; --no-ignore-file skips it.
	t.Chdir(dir)
	os.WriteFile(filepath.Join(dir, ".kensa-ignore.yaml"), []byte("version: 1\nsuppressions:\n  - rule: cis-1.3.1.1\n    reason: r\n    owner: o\n"), 0o644)
	if code, _, _ := run(t, "scan", "--root", root, "--packages", "cis", "-f", "json", "-o", out); code != ExitOK || len(readReport(t, out).Suppressed) != 1 {
		t.Errorf("default .kensa-ignore.yaml not applied (exit %d)", code)
	}
	if code, _, _ := run(t, "scan", "--root", root, "--packages", "cis", "-f", "json", "-o", out, "--no-ignore-file"); code != ExitOK || len(readReport(t, out).Suppressed) != 0 {
		t.Errorf("--no-ignore-file still applied the default file (exit %d)", code)
	}
}
