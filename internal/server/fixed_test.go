package server

import (
	"bytes"
	"context"
	"encoding/json"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kensa-dev/kensa/internal/auth"
	"github.com/kensa-dev/kensa/internal/finding"
	"github.com/kensa-dev/kensa/internal/fleet"
	"github.com/kensa-dev/kensa/internal/host"
	"github.com/kensa-dev/kensa/internal/observe"
	"github.com/kensa-dev/kensa/internal/report"
	"github.com/kensa-dev/kensa/internal/report/reporttest"
)

// coverageReport is a report whose coverage has a "*" entry of each
// package given, with its status, and these findings.
func coverageReport(cov map[string]string, fs ...finding.Finding) *report.Report {
	r := reporttest.Base()
	for pkg, status := range cov {
		r.Coverage = append(r.Coverage, report.Coverage{Package: pkg, Scope: "*", Status: status, Reason: "test"})
	}
	r.Findings = fs
	r.Summary = report.Summarize(r)
	return r
}

func testFinding(id, pkg string, sev finding.Severity) finding.Finding {
	return finding.Finding{ID: id, RulesPackage: pkg, RuleID: pkg + "-" + id, Severity: sev, Title: "title " + id,
		Evidence: []string{"e"}, Attributes: map[string]string{"target": id}}
}

// findingIDs lists views as status/run/id.
func findingIDs(vs []findingView) []string {
	out := []string{}
	for _, v := range vs {
		out = append(out, v.Status+"/"+v.RunID+"/"+v.Finding.ID)
	}
	return out
}

// status=fixed lists, under the run, the previous run's findings that the
// run did not find in a rules package its report says it evaluated
// completely; a package evaluated in part fixes nothing. New and
// recurring filter the run's own findings. status=fixed needs run.
func TestFixedFindingsAPI(t *testing.T) {
	f := newFixture(t)
	f.seed(healthy("a1", fleet.Tags{"env": "prod"}))
	var next *report.Report
	cfg := f.engine.cfg
	cfg.Evaluate = func(context.Context, *host.Inventory, *observe.Observations, error, []string) (*report.Report, error) {
		return next, nil
	}
	e := NewEngine(cfg)
	f1 := testFinding("f1", "cis", finding.High)
	f2 := testFinding("f2", "cis", finding.Medium)
	f3 := testFinding("f3", "cve", finding.High)
	f4 := testFinding("f4", "cis", finding.High)

	next = coverageReport(map[string]string{"cis": report.Evaluated, "cve": report.Evaluated}, f1, f2, f3, f4)
	f.evaluated(e, "r1")
	f.advance(time.Hour)
	next = coverageReport(map[string]string{"cis": report.Evaluated, "cve": report.NotEvaluated}, f1)
	f.evaluated(e, "r2")
	f.advance(time.Hour)
	next = coverageReport(map[string]string{"cis": report.Partial, "cve": report.Evaluated})
	f.evaluated(e, "r3")

	check := func(query string, want ...string) []findingView {
		t.Helper()
		got := f.findings(query)
		if want == nil {
			want = []string{}
		}
		if diff := cmp.Diff(want, findingIDs(got)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", query, diff)
		}
		return got
	}
	fixed := check("run=r2&status=fixed", "fixed/r2/f2", "fixed/r2/f4")
	for _, v := range fixed {
		if v.PreviousRun != "r1" || v.AgentID != "a1" || v.FirstRun != "r1" || v.Finding.Title != "title "+v.Finding.ID ||
			v.FirstSeen != "2026-11-27T12:00:00Z" || v.LastSeen != "2026-11-27T12:00:00Z" || v.Suppressed {
			t.Errorf("a fixed finding: %+v", v)
		}
	}
	check("run=r2&status=fixed&severity=high", "fixed/r2/f4")
	check("run=r2&status=fixed&agent=a1&package=cis&rule=cis-f2", "fixed/r2/f2")
	check("run=r2&status=fixed&agent=a2")
	check("run=r2&status=fixed&suppressed=only")
	check("run=r2&status=fixed&attribute=target=f4", "fixed/r2/f4")
	check("run=r2&status=fixed&tag=env=dev")
	// cis partial in r3: f1, gone from r3, is not fixed.
	check("run=r3&status=fixed")
	check("run=r1&status=fixed")
	check("run=nope&status=fixed")

	check("run=r1&status=new", "new/r1/f1", "new/r1/f2", "new/r1/f3", "new/r1/f4")
	check("run=r2&status=new")
	check("run=r2&status=recurring", "recurring/r2/f1")
	check("status=recurring", "recurring/r2/f1")
	check("run=r2", "recurring/r2/f1")

	// Pages of one.
	var paged []string
	q := url.Values{"run": {"r2"}, "status": {"fixed"}, "limit": {"1"}}
	var firstCursor string
	for range 5 {
		code, body := f.do("GET", "/api/v1/findings?"+q.Encode(), f.tokens[auth.Viewer], nil)
		if code != 200 {
			t.Fatalf("page: %d %v", code, body)
		}
		b, _ := json.Marshal(body["findings"])
		var page []findingView
		json.Unmarshal(b, &page)
		paged = append(paged, findingIDs(page)...)
		next, _ := body["next"].(string)
		if next == "" {
			break
		}
		if firstCursor == "" {
			firstCursor = next
		}
		q.Set("after", next)
	}
	if diff := cmp.Diff([]string{"fixed/r2/f2", "fixed/r2/f4"}, paged); diff != "" {
		t.Errorf("pages of one (-want +got):\n%s", diff)
	}

	for _, bad := range []string{"status=fixed", "status=fixed&agent=a1", "status=gone", "run=r3&status=fixed&after=" + firstCursor,
		"run=r2&status=fixed&after=" + encodeCursor("r2")} {
		code, body := f.do("GET", "/api/v1/findings?"+bad, f.tokens[auth.Viewer], nil)
		if code != 422 {
			t.Errorf("%s: %d %v, want 422", bad, code, body)
		}
		if bad == "status=fixed" && !strings.Contains(body["detail"].(string), "needs run") {
			t.Errorf("%s: %v", bad, body)
		}
	}

	// The OpenAPI document lists the statuses.
	_, doc := f.do("GET", "/api/v1/openapi.json", f.tokens[auth.Viewer], nil)
	b, _ := json.Marshal(doc["paths"].(map[string]any)["/api/v1/findings"])
	if !bytes.Contains(b, []byte(`"enum":["new","recurring","fixed"]`)) {
		t.Errorf("the findings operation does not list the statuses: %s", b)
	}
}

// The coverage is read from the stored report (gzip-compressed JSON),
// wherever it is in the document; a damaged report is an error, a report
// without coverage evaluated nothing.
func TestReportCoverage(t *testing.T) {
	rep := reporttest.CVE()
	var buf bytes.Buffer
	if err := report.WriteJSON(&buf, rep); err != nil {
		t.Fatal(err)
	}
	_, blob, err := compress(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	cov, err := reportCoverage(blob)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(report.Canonical(rep).Coverage, cov); diff != "" || len(cov) == 0 {
		t.Errorf("coverage (-report +read):\n%s", diff)
	}
	// reporttest.CVE's cve package is partial (PyPI not evaluated).
	if got := evaluated(cov); len(got) != 0 {
		t.Errorf("evaluated: %v", got)
	}
	if got := evaluated([]report.Coverage{{Package: "cis", Scope: "*", Status: report.Partial}, {Package: "cis", Scope: "pkg/rpm", Status: report.Evaluated},
		{Package: "runtime", Scope: "*", Status: report.NotEvaluated}, {Package: "cve", Scope: "*", Status: report.Evaluated}}); !slices.Equal(got, []string{"cve"}) {
		t.Errorf("evaluated, one package whole: %v", got)
	}

	for doc, want := range map[string]int{
		`{"findings": [{"id": "x"}], "tool": {"name": "kensa"}, "coverage": [{"package": "cis", "scope": "*", "status": "evaluated"}]}`: 1,
		`{"schema_version": "1.6", "findings": []}`: 0,
	} {
		_, blob, _ := compress([]byte(doc))
		cov, err := reportCoverage(blob)
		if err != nil || len(cov) != want {
			t.Errorf("%s: %v, %v", doc, cov, err)
		}
	}
	_, truncated, _ := compress([]byte(`{"tool": {"name": "kensa"}, "coverage": [{"package": "cis"`))
	for _, damaged := range [][]byte{[]byte("not gzip"), truncated} {
		if _, err := reportCoverage(damaged); err == nil {
			t.Errorf("%q: no error", damaged)
		}
	}
	_, array, _ := compress([]byte(`["coverage"]`))
	if _, err := reportCoverage(array); err == nil {
		t.Error("an array read as a report")
	}
}
