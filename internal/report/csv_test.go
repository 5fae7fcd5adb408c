package report

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"

	"github.com/kensa-dev/kensa/internal/finding"
)

func TestWriteCSVGolden(t *testing.T) {
	for _, name := range []string{"full", "runtime", "clean"} {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := WriteCSV(&buf, testReports()[name]()); err != nil {
				t.Fatal(err)
			}
			golden(t, "csv_"+name, buf.String())
		})
	}
}

// Every finding is one row, whatever its text holds (commas, quotes,
// newlines), and reads back as it was written.
func TestWriteCSVRows(t *testing.T) {
	r := fullReport()
	var buf bytes.Buffer
	if err := WriteCSV(&buf, r); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != len(r.Findings)+1 {
		t.Fatalf("%d rows for %d findings", len(rows), len(r.Findings))
	}
	ids := map[string]bool{}
	for _, row := range rows[1:] {
		if len(row) != len(CSVColumns) {
			t.Fatalf("row of %d cells: %q", len(row), row)
		}
		ids[row[0]] = true
	}
	for _, f := range r.Findings {
		if !ids[f.ID] {
			t.Errorf("finding %s has no row", f.ID)
		}
	}
}

// Host and feed text must not run as a spreadsheet formula.
func TestWriteCSVNeutralizesFormulas(t *testing.T) {
	r := cleanReport()
	r.Findings = []finding.Finding{{
		ID: strings.Repeat("a", 32), RulesPackage: "runtime", RuleID: "unused-listening-port", Severity: finding.Informational,
		Title: "=HYPERLINK(\"http://evil\",\"x\")", Evidence: []string{"+cmd|' /C calc'!A0", "plain, \"quoted\"\nnewline"},
		Attributes: map[string]string{"target": "@SUM(1+1)"}, Recommendation: "-2+3",
	}}
	var buf bytes.Buffer
	if err := WriteCSV(&buf, r); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	for _, cell := range rows[1] {
		if cell != "" && strings.ContainsRune("=+-@", rune(cell[0])) {
			t.Errorf("cell %q would run as a formula", cell)
		}
	}
	if got := rows[1][14]; got != "'+cmd|' /C calc'!A0 | plain, \"quoted\"\nnewline" {
		t.Errorf("evidence cell = %q", got)
	}
}
