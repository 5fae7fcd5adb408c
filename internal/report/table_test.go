package report

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kensa-dev/kensa/internal/finding"
	"github.com/kensa-dev/kensa/internal/host"
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
		{"table_not_built", notBuiltReport, TableOptions{}},
		{"table_not_built_width80", notBuiltReport, TableOptions{Width: 80}},
		{"table_unknown_os", unknownOSReport, TableOptions{}},
		{"table_runtime", runtimeReport, TableOptions{}},
		{"table_runtime_width80", runtimeReport, TableOptions{Width: 80}},
		{"table_suppressed", suppressedReport, TableOptions{}},
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
	want := "No findings, but the assessment is incomplete: 6 scopes were not evaluated"
	if !strings.Contains(out, want) {
		t.Errorf("output lacks %q:\n%s", want, out)
	}
	for _, reason := range []string{"no vulnerability feed loaded: run kensa db update", "no CIS benchmark for alpine 3.17", "an image has no running system", "/mnt/image is an image (--root)"} {
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

// TestTableWidth: with a width, every line of every report fits, in
// colour or not, and nothing that says why a scope was not evaluated is
// cut: reasons are wrapped.
func TestTableWidth(t *testing.T) {
	reports := testReports()
	reports["hostile"] = hostileReport
	for name, build := range reports {
		for _, width := range []int{60, 72, 80, 100, 132} {
			for _, color := range []bool{false, true} {
				out := ansi.ReplaceAllString(renderTable(t, build(), TableOptions{Width: width, Color: color}), "")
				for _, line := range strings.Split(out, "\n") {
					if n := len([]rune(line)); n > width {
						t.Errorf("%s, width %d, colour %v: line of %d runes: %q", name, width, color, n, line)
					}
				}
				coverage := sectionOf(out, "COVERAGE")
				if strings.Contains(coverage, "…") {
					t.Errorf("%s, width %d: coverage cut:\n%s", name, width, coverage)
				}
				for _, c := range build().Coverage {
					for _, w := range strings.Fields(clean(c.Reason)) {
						if runeLen(w) <= 16 && !strings.Contains(coverage, w) {
							t.Errorf("%s, width %d: reason %q of %s/%s lost %q:\n%s", name, width, c.Reason, c.Package, c.Scope, w, coverage)
						}
					}
				}
			}
		}
	}
	// Without a width nothing is wrapped.
	out := renderTable(t, notBuiltReport(), TableOptions{})
	long := "  cve             * (Go, Maven, PyPI, Ubuntu:22.04:LTS, npm)  not_evaluated  the cve rules package is not implemented yet in this version of Kensa: nothing was checked\n"
	if !strings.Contains(out, long) {
		t.Errorf("output without a width lacks the long line %q:\n%s", long, out)
	}
}

// sectionOf returns the lines of the table section whose title starts
// with title, up to the next blank line.
func sectionOf(out, title string) string {
	i := strings.Index(out, "\n"+title)
	if i < 0 {
		return ""
	}
	s := out[i+1:]
	if j := strings.Index(s, "\n\n"); j >= 0 {
		s = s[:j]
	}
	return s
}

// TestTableWidthCutsFindings: findings stay one line each, their rule,
// title and subject shortened with "…", the widest first.
func TestTableWidthCutsFindings(t *testing.T) {
	out := renderTable(t, fullReport(), TableOptions{Width: 80})
	want := "  HIGH      CVE-2023-38545  curl: heap based buffer …  libcurl4 7.88.1-10+deb12…\n"
	if !strings.Contains(out, want) {
		t.Errorf("output lacks %q:\n%s", want, out)
	}
	if n := strings.Count(sectionOf(out, "cve:"), "\n"); n != 4 {
		t.Errorf("the cve findings take %d lines, want 4 (title, headings, 3 findings):\n%s", n+1, out)
	}
}

func TestFitColumns(t *testing.T) {
	cols := []column{{fit: fitKeep}, {fit: fitCut, min: 12}, {fit: fitCut, min: 12}, {fit: fitWrap, min: 16}}
	tests := []struct {
		width []int
		room  int
		want  []int
	}{
		{[]int{8, 10, 20, 30}, 200, []int{8, 10, 20, 30}}, // fits: unchanged
		{[]int{8, 10, 14, 40}, 60, []int{8, 10, 14, 22}},  // the widest gives way first
		{[]int{8, 10, 40, 40}, 60, []int{8, 10, 18, 18}},  // shared evenly
		{[]int{8, 10, 40, 41}, 61, []int{8, 10, 19, 18}},  // the spare column goes left
		{[]int{8, 30, 40, 40}, 30, []int{8, 12, 12, 16}},  // floors: overflow
	}
	for _, tt := range tests {
		got := slices.Clone(tt.width)
		fitColumns(got, cols, tt.room)
		if !slices.Equal(got, tt.want) {
			t.Errorf("fitColumns(%v, room %d) = %v, want %v", tt.width, tt.room, got, tt.want)
		}
	}
}

func TestWrap(t *testing.T) {
	tests := []struct {
		s    string
		n    int
		want []string
	}{
		{"short", 10, []string{"short"}},
		{"short", 0, []string{"short"}},
		{"the quick brown fox", 9, []string{"the quick", "brown fox"}},
		{"a /very/long/path/without/spaces b", 8, []string{"a", "/very", "/long", "/path", "/without", "/spaces", "b"}},
		{"abcdefghij", 4, []string{"abcd", "efgh", "ij"}},
		{"ünïcödé wörds", 7, []string{"ünïcödé", "wörds"}},
		{"          ", 4, []string{""}},
	}
	for _, tt := range tests {
		if got := wrap(tt.s, tt.n); !slices.Equal(got, tt.want) {
			t.Errorf("wrap(%q, %d) = %q, want %q", tt.s, tt.n, got, tt.want)
		}
	}
	// Colours stay with their words; the first line may be narrower.
	lines := wrapCells([]cell{{"plain words", ""}, {"red words here", ansiRed}}, 11, 20)
	want := [][]cell{{{"plain words", ""}}, {{"red words here", ansiRed}}}
	if diff := cmp.Diff(want, lines, cmp.AllowUnexported(cell{})); diff != "" {
		t.Errorf("wrapCells (-want +got):\n%s", diff)
	}
}

// TestTableCoverageCompact: a package that did not run at all, all its
// scopes for the reason its "*" entry gives, is one row; where the
// reasons differ every entry keeps its row.
func TestTableCoverageCompact(t *testing.T) {
	out := renderTable(t, notBuiltReport(), TableOptions{})
	for _, want := range []string{
		"  cve             * (Go, Maven, PyPI, Ubuntu:22.04:LTS, npm)  not_evaluated  the cve rules package is not implemented yet",
		"  cis             * (ubuntu:22.04)                            not_evaluated  the cis rules package is not implemented yet",
		"  runtime         * (observation)                             not_evaluated  the runtime rules package",
		"COVERAGE: 12 of 12 scopes not fully evaluated",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if n := strings.Count(out, "not_evaluated"); n != 4 {
		t.Errorf("%d rows not_evaluated, want 4:\n%s", n, out)
	}

	out = renderTable(t, emptyIncompleteReport(), TableOptions{})
	for _, want := range []string{
		"  cve      * (Alpine:v3.17)  not_evaluated  no vulnerability feed loaded: run kensa db update\n",
		"  cis      * (alpine:3.17)   not_evaluated  no CIS benchmark for alpine 3.17\n",
		// The runtime scope has a reason of its own: two rows.
		"  runtime  *                 not_evaluated  an image has no running system\n",
		"  runtime  observation       not_evaluated  runtime behavior is observed on a running system; /mnt/image is an image (--root)\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}

	// A partial scope, or a scope with another reason, keeps every row.
	out = renderTable(t, unknownOSReport(), TableOptions{})
	for _, want := range []string{
		"  cve      *            not_evaluated  the cve rules package is not implemented yet",
		"  cve      PyPI         not_evaluated  not implemented yet",
		"  cve      lang/python  partial        collector met 1 error(s)",
		"  cve      pkg/dpkg     not_evaluated  the OS could not be identified",
		"  cis      *            not_evaluated",
		"  cis      os           not_evaluated",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestTableInventoryAndDiscovery(t *testing.T) {
	out := renderTable(t, notBuiltReport(), TableOptions{})
	for _, want := range []string{
		"INVENTORY\n  715 dpkg packages; 1007 components outside the package manager (Go 656, PyPI 135, npm 145, Maven 71); 24 users\n",
		"DISCOVERY: 14 roots searched, 182340 files visited, 12 paths skipped, 7 limits hit:\n",
		"  java_nested_archives=1000 at /usr/share/java/fat.jar\n",
		"  max_file_size=268435456 at /opt/jenkins/jenkins.war\n",
		"  and 2 more (see the JSON report)\n",
		"The search for software outside the package manager hit 7 limits: some may be missing (see DISCOVERY).",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "timeout=") {
		t.Errorf("more than %d limits listed:\n%s", maxLimitsShown, out)
	}

	out = renderTable(t, emptyIncompleteReport(), TableOptions{})
	for _, want := range []string{
		"  14 apk packages; no components outside the package manager; 12 users\n",
		"DISCOVERY: 4 roots searched, 312 files visited, 0 paths skipped, no limit hit\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "search for software outside the package manager hit") {
		t.Errorf("warns of limits none was hit:\n%s", out)
	}

	// A report without them (schema 1.0) has neither section.
	out = renderTable(t, cleanReport(), TableOptions{})
	if strings.Contains(out, "INVENTORY") || strings.Contains(out, "DISCOVERY") {
		t.Errorf("sections for absent inventory or discovery:\n%s", out)
	}
}

// hostileReport is the full report with strings from a hostile root:
// escape sequences, newlines, bidi overrides, invalid UTF-8 and very long
// values without spaces.
func hostileReport() *Report {
	r := fullReport()
	evil := "pkg\x1b]0;owned\x07\x1b[2J\n\tname\u202e\xff"
	long := strings.Repeat("/deep", 60)
	r.Host.Hostname = evil
	r.Findings = append(r.Findings, finding.Finding{
		ID: strings.Repeat("a", 32), RulesPackage: "cis", RuleID: "x" + long, Severity: finding.Low,
		Title: evil + long, Recommendation: "r", Evidence: []string{evil}, Attributes: map[string]string{"target": evil + long},
	})
	r.Coverage = append(r.Coverage,
		Coverage{Package: "cis", Scope: evil, Status: NotEvaluated, Reason: evil},
		Coverage{Package: "best-practices", Scope: long, Status: NotEvaluated, Reason: "unreadable" + long})
	r.Collectors = append(r.Collectors, host.CollectorRun{Name: evil + long, Status: host.StatusFailed, Reason: evil + long})
	r.Discovery.LimitsHit = append(r.Discovery.LimitsHit, host.LimitHit{Limit: evil, Path: long, Value: 1})
	r.Inventory.Software[evil] = 1
	r.Feeds = append(r.Feeds, Feed{Name: evil + long, Stale: true})
	return r
}

// TestTableSanitises: strings from a scanned root cannot drive the
// terminal.
func TestTableSanitises(t *testing.T) {
	for _, width := range []int{0, 60} {
		out := renderTable(t, hostileReport(), TableOptions{Width: width})
		for _, bad := range []string{"\x1b", "\x07", "\u202e", "\xff", "\t"} {
			if strings.Contains(out, bad) {
				t.Errorf("width %d: output holds %q", width, bad)
			}
		}
		if strings.Count(out, "name") < 3 || strings.Contains(out, "\nname") {
			t.Errorf("width %d: newlines in values were not flattened:\n%s", width, out)
		}
	}
}

// A tailored report says so in its header, with the file's hash and every
// change: a reader must know the results were made under a site policy.
func TestTableTailoring(t *testing.T) {
	r := cleanReport()
	r.Tailoring = &Tailoring{File: "site.yaml", SHA256: strings.Repeat("ab", 32), Title: "ACME",
		Changes: []string{"cis-1.1.2.1.4: disabled: build hosts", "cis-5.1.7: sshd_number.min = 30"}}
	out := renderTable(t, r, TableOptions{})
	if !strings.Contains(out, "Profile ACME (site.yaml), sha256 abababababa…, 2 change(s): cis-1.1.2.1.4: disabled: build hosts; cis-5.1.7: sshd_number.min = 30") {
		t.Errorf("no tailoring line:\n%s", out)
	}
	if out := renderTable(t, cleanReport(), TableOptions{}); strings.Contains(out, "Profile") {
		t.Errorf("a report without tailoring shows one:\n%s", out)
	}
}
