package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/kensa-dev/kensa/internal/finding"
)

// TestCompare: a finding gone from a package the new report evaluated
// fully is fixed; gone from a partly evaluated package, it is not checked
// again, with the reason; one only in the new report is new.
func TestCompare(t *testing.T) {
	old := fullReport()
	nw := fullReport()
	nw.StartedAt = old.StartedAt.Add(24 * 3600e9)
	byRule := func(r *Report, pkg string) int {
		for i, f := range r.Findings {
			if f.RulesPackage == pkg {
				return i
			}
		}
		t.Fatalf("no %s finding in the test report", pkg)
		return -1
	}
	cisGone := nw.Findings[byRule(nw, "cis")]
	nw.Findings = append(nw.Findings[:byRule(nw, "cis")], nw.Findings[byRule(nw, "cis")+1:]...)
	cveGone := nw.Findings[byRule(nw, "cve")]
	nw.Findings = append(nw.Findings[:byRule(nw, "cve")], nw.Findings[byRule(nw, "cve")+1:]...)
	added := finding.Finding{ID: strings.Repeat("b", 32), RulesPackage: "cis", RuleID: "cis-9.9", Severity: finding.Low, Title: "new one"}
	nw.Findings = append(nw.Findings, added)

	d := Compare(old, nw)
	ids := func(fs []finding.Finding) []string {
		var out []string
		for _, f := range fs {
			out = append(out, f.ID)
		}
		return out
	}
	if got := ids(d.New); len(got) != 1 || got[0] != added.ID {
		t.Errorf("new = %v", got)
	}
	if got := ids(d.Fixed); len(got) != 1 || got[0] != cisGone.ID {
		t.Errorf("fixed = %v, want the cis finding (cis is evaluated in the new report)", got)
	}
	if got := ids(d.Unverified); len(got) != 1 || got[0] != cveGone.ID || !strings.Contains(d.Reason[cveGone.ID], "cve package is partial") {
		t.Errorf("unverified = %v (%q), want the cve finding: cve is partial", got, d.Reason)
	}
	if len(d.Unchanged) != len(old.Findings)-2 || len(d.Warnings) != 0 {
		t.Errorf("unchanged %d of %d, warnings %v", len(d.Unchanged), len(old.Findings), d.Warnings)
	}

	// The package did not run at all in the new report.
	nw.Coverage = []Coverage{{Package: "cis", Scope: "*", Status: Evaluated}}
	if d := Compare(old, nw); !strings.Contains(d.Reason[cveGone.ID], "did not run") {
		t.Errorf("reason %q", d.Reason[cveGone.ID])
	}
	// Another host: every fingerprint differs, and the diff says why.
	nw.Host.MachineID = "another"
	if d := Compare(old, nw); len(d.Warnings) == 0 || !strings.Contains(d.Warnings[0], "different hosts") {
		t.Errorf("warnings %v", d.Warnings)
	}
}

func TestWriteDiff(t *testing.T) {
	old, nw := fullReport(), cleanReport()
	d := Compare(old, nw)
	var buf bytes.Buffer
	if err := WriteDiffText(&buf, d); err != nil {
		t.Fatal(err)
	}
	golden(t, "diff_full_to_clean", buf.String())
	buf.Reset()
	if err := WriteDiffJSON(&buf, d); err != nil {
		t.Fatal(err)
	}
	var back DiffJSON
	if err := json.Unmarshal(buf.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if len(back.Fixed)+len(back.Unverified) != len(old.Findings) || back.New == nil || back.Unchanged == nil {
		t.Errorf("json diff: %d fixed, %d unverified of %d; new %v", len(back.Fixed), len(back.Unverified), len(old.Findings), back.New)
	}
}
