package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"github.com/google/go-cmp/cmp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kensa-dev/kensa/internal/finding"
	"github.com/kensa-dev/kensa/internal/host"
)

func mustJSON(t *testing.T, r *Report) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteJSON(&buf, r); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestBuildersValidate(t *testing.T) {
	for name, build := range testReports() {
		t.Run(name, func(t *testing.T) {
			if err := Validate(mustJSON(t, build())); err != nil {
				t.Fatalf("report from builder %s is invalid: %v", name, err)
			}
		})
	}
}

// TestSchemaRejects proves the schema is not vacuous: each mutation of a
// valid document must make it invalid.
func TestSchemaRejects(t *testing.T) {
	// findings[0] of the canonical full report is the high CVE finding.
	tests := []struct {
		name   string
		mutate func(doc map[string]any)
		want   string // a fragment of the error
	}{
		{"missing host", func(d map[string]any) { delete(d, "host") }, "host"},
		{"missing summary", func(d map[string]any) { delete(d, "summary") }, "summary"},
		{"missing finding title", func(d map[string]any) { delete(finding0(d), "title") }, "title"},
		{"unknown top-level field", func(d map[string]any) { d["extra"] = 1 }, "extra"},
		{"unknown finding field", func(d map[string]any) { finding0(d)["cvss"] = "9.8" }, "cvss"},
		{"bad severity", func(d map[string]any) { finding0(d)["severity"] = "critical" }, "/findings/0/severity"},
		{"bad rules package", func(d map[string]any) { finding0(d)["rules_package"] = "stig" }, "/findings/0/rules_package"},
		{"cve finding without vulnerability_id", func(d map[string]any) {
			delete(finding0(d)["attributes"].(map[string]any), "vulnerability_id")
		}, "vulnerability_id"},
		{"cve finding with empty vulnerability_id", func(d map[string]any) {
			finding0(d)["attributes"].(map[string]any)["vulnerability_id"] = ""
		}, "vulnerability_id"},
		{"cve finding without fixed_version", func(d map[string]any) {
			delete(finding0(d)["attributes"].(map[string]any), "fixed_version")
		}, "fixed_version"},
		{"attribute that is not a string", func(d map[string]any) {
			finding0(d)["attributes"].(map[string]any)["aliases"] = []any{"DSA-5523-1"}
		}, "aliases"},
		{"finding id not a fingerprint", func(d map[string]any) { finding0(d)["id"] = "CVE-2023-38545" }, "/findings/0/id"},
		{"score above 10", func(d map[string]any) { finding0(d)["score"] = 11 }, "score"},
		{"schema_version 2.0", func(d map[string]any) { d["schema_version"] = "2.0" }, "schema_version"},
		{"started_at not a date-time", func(d map[string]any) { d["started_at"] = "yesterday" }, "started_at"},
		{"findings null", func(d map[string]any) { d["findings"] = nil }, "findings"},
		{"coverage status unknown", func(d map[string]any) { coverage(d, 0)["status"] = "done" }, "status"},
		{"not_evaluated without reason", func(d map[string]any) {
			for i := range d["coverage"].([]any) {
				if c := coverage(d, i); c["status"] == NotEvaluated {
					delete(c, "reason")
				}
			}
		}, "reason"},
		{"no coverage", func(d map[string]any) { d["coverage"] = []any{} }, "coverage"},
		{"rules package without a * coverage entry", func(d map[string]any) {
			var kept []any
			for _, c := range d["coverage"].([]any) {
				if c := c.(map[string]any); c["package"] != "cve" || c["scope"] != "*" {
					kept = append(kept, c)
				}
			}
			d["coverage"] = kept
		}, `rules package cve has scopes but no "*" entry`},
		{"not_run holds an unknown package", func(d map[string]any) {
			d["summary"].(map[string]any)["not_run"] = []any{"stig"}
		}, "not_run"},
		{"failed collector without reason", func(d map[string]any) {
			for _, c := range d["collectors"].([]any) {
				if c := c.(map[string]any); c["status"] == host.StatusFailed {
					delete(c, "reason")
				}
			}
		}, "reason"},
		{"result status unknown", func(d map[string]any) {
			d["results"].([]any)[0].(map[string]any)["status"] = "skipped"
		}, "status"},
		{"inventory without users", func(d map[string]any) {
			delete(d["inventory"].(map[string]any), "users")
		}, "users"},
		{"inventory with a zero count", func(d map[string]any) {
			d["inventory"].(map[string]any)["packages"].(map[string]any)["rpm"] = 0
		}, "/inventory/packages/rpm"},
		{"component of an unknown type", func(d map[string]any) {
			d["inventory"].(map[string]any)["components"] = []any{map[string]any{"type": "binary", "name": "x", "version": "1"}}
		}, "/inventory/components/0/type"},
		{"component without a name", func(d map[string]any) {
			d["inventory"].(map[string]any)["components"] = []any{map[string]any{"type": "software", "version": "1"}}
		}, "name"},
		{"inventory with an unknown field", func(d map[string]any) {
			d["inventory"].(map[string]any)["groups"] = 3
		}, "groups"},
		{"discovery without roots", func(d map[string]any) {
			delete(d["discovery"].(map[string]any), "roots")
		}, "roots"},
		{"discovery limit without a name", func(d map[string]any) {
			delete(d["discovery"].(map[string]any)["limits_hit"].([]any)[0].(map[string]any), "limit")
		}, "limit"},
		{"discovery skip without a reason", func(d map[string]any) {
			d["discovery"].(map[string]any)["skipped"].([]any)[0].(map[string]any)["reason"] = ""
		}, "/discovery/skipped/0/reason"},
		{"summary without a severity", func(d map[string]any) {
			delete(d["summary"].(map[string]any)["by_severity"].(map[string]any), "unrated")
		}, "unrated"},
	}
	valid := mustJSON(t, fullReport())
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var doc map[string]any
			if err := json.Unmarshal(valid, &doc); err != nil {
				t.Fatal(err)
			}
			tt.mutate(doc)
			b, err := json.Marshal(doc)
			if err != nil {
				t.Fatal(err)
			}
			err = Validate(b)
			if err == nil {
				t.Fatal("Validate accepted the mutated document")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error does not mention %q:\n%v", tt.want, err)
			}
		})
	}
}

func finding0(d map[string]any) map[string]any {
	return d["findings"].([]any)[0].(map[string]any)
}

func coverage(d map[string]any, i int) map[string]any {
	return d["coverage"].([]any)[i].(map[string]any)
}

// TestCheckRejects covers the consistency rules the schema cannot express.
func TestCheckRejects(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(r *Report)
		want   string
	}{
		{"package-wide evaluated hides a gap", func(r *Report) {
			for i := range r.Coverage {
				if r.Coverage[i].Package == "cve" && r.Coverage[i].Scope == "*" {
					r.Coverage[i] = Coverage{Package: "cve", Scope: "*", Status: Evaluated}
				}
			}
		}, "cve/* is evaluated but cve/lang/npm is not_evaluated"},
		{"package-wide partial with every scope evaluated", func(r *Report) {
			for i := range r.Coverage {
				if r.Coverage[i].Package == "cve" && r.Coverage[i].Scope != "*" {
					r.Coverage[i] = Coverage{Package: "cve", Scope: r.Coverage[i].Scope, Status: Evaluated}
				}
			}
		}, "cve/* is partial but every scope of cve is evaluated"},
		{"package-wide partial with every scope not_evaluated", func(r *Report) {
			for i := range r.Coverage {
				if r.Coverage[i].Package == "cve" && r.Coverage[i].Scope != "*" {
					r.Coverage[i].Status, r.Coverage[i].Reason = NotEvaluated, "no feed"
				}
			}
		}, "cve/* is partial but every scope of cve is not_evaluated"},
		{"package-wide not_evaluated with an evaluated scope", func(r *Report) {
			for i := range r.Coverage {
				if r.Coverage[i].Package == "cve" && r.Coverage[i].Scope == "*" {
					r.Coverage[i].Status = NotEvaluated
				}
			}
		}, "cve/* is not_evaluated but cve/Go is evaluated"},
		{"duplicate coverage entry", func(r *Report) {
			r.Coverage = append(r.Coverage, Coverage{Package: "cis", Scope: "*", Status: Evaluated})
		}, "cis/* appears more than once"},
		{"duplicate finding id", func(r *Report) {
			r.Findings = append(r.Findings, r.Findings[0])
		}, "appears more than once"},
		{"finding of a package not evaluated", func(r *Report) {
			r.Findings = append(r.Findings, ruleFinding("runtime", "rt-listener", finding.Medium, "tcp/23",
				"telnet is listening", "Stop telnetd."))
		}, "runtime/* is not_evaluated"},
		{"rules package without a * entry", func(r *Report) {
			r.Coverage = slices.DeleteFunc(r.Coverage, func(c Coverage) bool { return c.Package == "cve" && c.Scope == "*" })
		}, `rules package cve has scopes but no "*" entry`},
		{"finding of a package that did not run", func(r *Report) {
			r.Coverage = slices.DeleteFunc(r.Coverage, func(c Coverage) bool { return c.Package == "cis" })
		}, "coverage has no cis entry"},
		{"summary disagrees", func(r *Report) { r.Summary.BySeverity["high"] = 7 }, "summary"},
		{"finished before started", func(r *Report) { r.FinishedAt = r.StartedAt.Add(-time.Second) }, "before started_at"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := fullReport()
			tt.mutate(r)
			err := Check(r)
			if err == nil {
				t.Fatal("Check accepted the report")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error does not mention %q:\n%v", tt.want, err)
			}
			// Validate runs Check too, after the schema. WriteJSON
			// recomputes the summary, so that case only shows in Check.
			if tt.name != "summary disagrees" {
				if err := Validate(mustJSON(t, r)); err == nil {
					t.Error("Validate accepted the report")
				}
			}
		})
	}
	if err := Check(fullReport()); err != nil {
		t.Errorf("Check(fullReport()) = %v", err)
	}
}

// TestCheckStarRule pins down the rule between a package's "*" entry and
// its scopes (checkStar), case by case: "*" evaluated iff every scope is;
// "*" not_evaluated only if no scope is evaluated; "*" partial only if
// some scope is not evaluated and not all of them are not_evaluated.
func TestCheckStarRule(t *testing.T) {
	const (
		E = Evaluated
		P = Partial
		N = NotEvaluated
	)
	tests := []struct {
		star   string
		scopes []string
		ok     bool
	}{
		// A package without scopes may say anything.
		{E, nil, true},
		{P, nil, true},
		{N, nil, true},
		// Every scope evaluated: the package is evaluated.
		{E, []string{E, E}, true},
		{P, []string{E, E}, false},
		{N, []string{E}, false},
		// Evaluated and not: the package is partial.
		{P, []string{E, N}, true},
		{P, []string{E, P}, true},
		{P, []string{E, P, N}, true},
		{E, []string{E, N}, false},
		{E, []string{E, P}, false},
		{N, []string{E, N}, false},
		{N, []string{E, P}, false},
		// Nothing evaluated, something partial: partial, or not_evaluated
		// when the package itself did not run (assess today: a partial
		// collector under a package not built yet).
		{P, []string{P}, true},
		{P, []string{P, N}, true},
		{N, []string{P}, true},
		{N, []string{P, N}, true},
		{E, []string{P}, false},
		// Every scope not_evaluated: the package is not_evaluated.
		{N, []string{N, N}, true},
		{P, []string{N, N}, false},
		{E, []string{N}, false},
	}
	for _, tt := range tests {
		r := cleanReport()
		r.Coverage = []Coverage{{Package: "cve", Scope: "*", Status: tt.star}}
		for i, st := range tt.scopes {
			r.Coverage = append(r.Coverage, Coverage{Package: "cve", Scope: fmt.Sprintf("scope%d", i), Status: st})
		}
		for i := range r.Coverage {
			if r.Coverage[i].Status != Evaluated {
				r.Coverage[i].Reason = "because"
			}
		}
		r.Results = nil
		r.Summary = Summarize(r)
		err := Check(r)
		if (err == nil) != tt.ok {
			t.Errorf("\"*\" %s with scopes %v: Check = %v, want ok = %v", tt.star, tt.scopes, err, tt.ok)
		}
		if verr := Validate(mustJSON(t, r)); (verr == nil) != tt.ok {
			t.Errorf("\"*\" %s with scopes %v: Validate = %v, want ok = %v", tt.star, tt.scopes, verr, tt.ok)
		}
	}
}

// TestSchemaEnumsMatchGo keeps the schema's enums and the Go constants the
// same list.
func TestSchemaEnumsMatchGo(t *testing.T) {
	var s struct {
		Defs map[string]struct {
			Enum       []string `json:"enum"`
			Properties map[string]struct {
				Enum []string `json:"enum"`
			} `json:"properties"`
		} `json:"$defs"`
	}
	if err := json.Unmarshal(Schema(), &s); err != nil {
		t.Fatal(err)
	}
	var sevs []string
	for _, v := range finding.Severities() {
		sevs = append(sevs, string(v))
	}
	check := func(what string, got, want []string) {
		t.Helper()
		if !slices.Equal(got, want) {
			t.Errorf("%s: schema has %v, Go has %v", what, got, want)
		}
	}
	check("severity", s.Defs["severity"].Enum, sevs)
	check("rules_package", s.Defs["rules_package"].Enum, finding.Packages())
	check("coverage status", s.Defs["coverage"].Properties["status"].Enum, []string{Evaluated, Partial, NotEvaluated})
	check("result status", s.Defs["result"].Properties["status"].Enum,
		[]string{finding.StatusPass, finding.StatusFail, finding.StatusNotApplicable, finding.StatusError})
	check("collector status", s.Defs["collector"].Properties["status"].Enum,
		[]string{host.StatusOK, host.StatusPartial, host.StatusFailed, host.StatusSkipped})
}

func TestSchemaVersionIsSupported(t *testing.T) {
	if err := checkVersion(SchemaVersion); err != nil {
		t.Fatalf("SchemaVersion %q: %v", SchemaVersion, err)
	}
}

func TestSchemaIsACopy(t *testing.T) {
	s := Schema()
	s[0] = 'X'
	if Schema()[0] == 'X' {
		t.Fatal("Schema returned the embedded bytes themselves")
	}
}

// Parse returns what ReadJSON reads, once the document is valid, and says
// first that a report of another major version is not supported.
func TestParse(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteJSON(&buf, fullReport()); err != nil {
		t.Fatal(err)
	}
	got, err := Parse(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	want, err := ReadJSON(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Parse and ReadJSON differ (-ReadJSON +Parse):\n%s", diff)
	}
	if _, err := Parse([]byte(`{"schema_version":"2.0","tool":{}}`)); err == nil || !strings.Contains(err.Error(), `schema_version "2.0" is not supported`) {
		t.Errorf("Parse of a 2.0 report: %v", err)
	}
	if _, err := Parse([]byte(`{"schema_version":"1.6"}`)); err == nil || !strings.Contains(err.Error(), "does not match schema") {
		t.Errorf("Parse of a bare head: %v", err)
	}
}
