package cli

import (
	"encoding/csv"
	"encoding/json"
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
		{[]string{"pdf"}, nil, "not built yet"},
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
