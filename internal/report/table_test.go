package report

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kensa-dev/kensa/internal/finding"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func renderTable(t *testing.T, r *Report, opt TableOptions) string {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteTable(&buf, r, opt); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// golden compares got with testdata/name.golden, or rewrites it under
// -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s differs (-want +got); run go test -update if the change is intended:\n%s", path, diff)
	}
}

func TestWriteTableGolden(t *testing.T) {
	tests := []struct {
		name  string
		build func() *Report
		opt   TableOptions
	}{
		{"table_full", fullReport, TableOptions{}},
		{"table_full_color", fullReport, TableOptions{Color: true}},
		{"table_full_width80", fullReport, TableOptions{Width: 80}},
		{"table_empty_incomplete", emptyIncompleteReport, TableOptions{}},
		{"table_empty_incomplete_color", emptyIncompleteReport, TableOptions{Color: true}},
		{"table_clean", cleanReport, TableOptions{}},
		{"table_cve_only", cveOnlyReport, TableOptions{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			golden(t, tt.name, renderTable(t, tt.build(), tt.opt))
		})
	}
}

var ansi = regexp.MustCompile("\x1b\\[[0-9;]*m")

// TestColorOnlyAddsColor: the coloured table is the plain table plus
// escape sequences, so colour never breaks the column alignment.
func TestColorOnlyAddsColor(t *testing.T) {
	for name, build := range testReports() {
		for _, width := range []int{0, 80} {
			plain := renderTable(t, build(), TableOptions{Width: width})
			color := renderTable(t, build(), TableOptions{Color: true, Width: width})
			if strings.Contains(plain, "\x1b") {
				t.Errorf("%s: colour off but output holds an escape", name)
			}
			if !strings.Contains(color, "\x1b[") {
				t.Errorf("%s: colour on but output has no colour", name)
			}
			if diff := cmp.Diff(plain, ansi.ReplaceAllString(color, "")); diff != "" {
				t.Errorf("%s width %d: colour changed more than colour (-plain +stripped):\n%s", name, width, diff)
			}
		}
	}
}

func TestTableSaysIncomplete(t *testing.T) {
	out := renderTable(t, emptyIncompleteReport(), TableOptions{})
	want := "No findings, but the assessment is incomplete: 4 scopes were not evaluated"
	if !strings.Contains(out, want) {
		t.Errorf("output lacks %q:\n%s", want, out)
	}
	for _, reason := range []string{"no vulnerability feed loaded: run kensa db update", "no feed for Alpine 3.18", "no CIS benchmark for alpine 3.18", "an image has no running system"} {
		if !strings.Contains(out, reason) {
			t.Errorf("output lacks the reason %q", reason)
		}
	}

	// One partial scope only.
	r := cleanReport()
	r.Coverage = append(r.Coverage, Coverage{Package: "cve", Scope: "Go", Status: Partial, Reason: "3 binaries unreadable"})
	r.Coverage[0].Status, r.Coverage[0].Reason = Partial, "Go partial"
	out = renderTable(t, r, TableOptions{})
	if want := "No findings, but the assessment is incomplete: 2 scopes were only partially evaluated"; !strings.Contains(out, want) {
		t.Errorf("output lacks %q:\n%s", want, out)
	}

	// A report without any coverage is not clean either.
	r = cleanReport()
	r.Coverage = nil
	out = renderTable(t, r, TableOptions{})
	if want := "No findings, but the assessment is incomplete: nothing was evaluated"; !strings.Contains(out, want) {
		t.Errorf("output lacks %q:\n%s", want, out)
	}
	if strings.Contains(out, "No findings.") {
		t.Errorf("says clean:\n%s", out)
	}
}

// TestTableNotRun: packages left out with --packages are named, so a
// narrowed scan does not read as a full one.
func TestTableNotRun(t *testing.T) {
	out := renderTable(t, cveOnlyReport(), TableOptions{})
	for _, want := range []string{
		"Not run (not requested, so not evaluated): cis, best-practices, runtime",
		"No findings. Every scope of the rules packages run was evaluated. Rules packages not run: cis, best-practices, runtime.",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestTableClean(t *testing.T) {
	out := renderTable(t, cleanReport(), TableOptions{})
	if !strings.Contains(out, "No findings. Every rules package and scope was evaluated.") {
		t.Errorf("clean report not said clean:\n%s", out)
	}
}

func TestTableWidth(t *testing.T) {
	out := renderTable(t, fullReport(), TableOptions{Width: 80})
	inFindings := false
	for _, line := range strings.Split(out, "\n") {
		switch {
		case strings.HasPrefix(line, "FINDINGS"):
			inFindings = true
		case strings.HasPrefix(line, "COVERAGE"):
			inFindings = false
		}
		if inFindings && len([]rune(line)) > 80 {
			t.Errorf("findings line longer than 80: %q", line)
		}
	}
}

// TestTableSanitises: strings from a scanned root cannot drive the
// terminal.
func TestTableSanitises(t *testing.T) {
	r := fullReport()
	evil := "pkg\x1b]0;owned\x07\x1b[2J\n\tname\u202e\xff"
	r.Host.Hostname = evil
	r.Findings = append(r.Findings, finding.Finding{
		ID: strings.Repeat("a", 32), RulesPackage: "cis", RuleID: "x", Severity: finding.Low,
		Title: evil, Recommendation: "r", Evidence: []string{evil}, Attributes: map[string]string{"target": evil},
	})
	r.Coverage = append(r.Coverage, Coverage{Package: "cis", Scope: evil, Status: NotEvaluated, Reason: evil})
	out := renderTable(t, r, TableOptions{})
	for _, bad := range []string{"\x1b", "\x07", "\u202e", "\xff", "\t"} {
		if strings.Contains(out, bad) {
			t.Errorf("output holds %q", bad)
		}
	}
	if strings.Count(out, "name") < 3 || strings.Contains(out, "\nname") {
		t.Errorf("newlines in values were not flattened:\n%s", out)
	}
}
