package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kensa-dev/kensa/internal/apiclient"
	"github.com/kensa-dev/kensa/internal/apiclient/apitest"
	"github.com/kensa-dev/kensa/internal/auth"
	"github.com/kensa-dev/kensa/internal/finding"
	"github.com/kensa-dev/kensa/internal/fleet"
	"github.com/kensa-dev/kensa/internal/report"
	"github.com/kensa-dev/kensa/internal/report/reporttest"
)

// against runs kensa with args against server s, with a token.
func against(t *testing.T, s *apitest.Server, token string, args ...string) (int, string, string) {
	t.Helper()
	return run(t, append(args, "--server", s.URL, "--token", token, "--ca", s.CAFile)...)
}

// mustOK runs a client command that must succeed.
func mustOK(t *testing.T, s *apitest.Server, token string, args ...string) string {
	t.Helper()
	code, out, stderr := against(t, s, token, args...)
	if code != ExitOK {
		t.Fatalf("%q: exit %d: %s", args, code, stderr)
	}
	return out
}

func decode(t *testing.T, out string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(out), v); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
}

// Targets and templates: create prints the id and nothing else on stdout;
// list, preview and their JSON say what the server holds; what agents
// report reaches the terminal without its control characters; what the
// server would refuse is a usage error before any request.
func TestClientTargetsTemplates(t *testing.T) {
	s := apitest.Start(t)
	op := s.Tokens[auth.Operator]
	db := s.AddAgent("db-1\x1b[2J\x1b]0;owned\x07", fleet.Tags{"env": "prod"}, true)
	s.AddAgent("db-2", fleet.Tags{"env": "prod"}, false)
	s.AddAgent("web-1", fleet.Tags{"env": "dev"}, true)

	out := mustOK(t, s, op, "target", "create", "--name", "prod", "--tag", "env=prod")
	tgt := strings.TrimSpace(out)
	if !strings.HasPrefix(tgt, "tgt-") || strings.Count(out, "\n") != 1 {
		t.Fatalf("target create printed %q", out)
	}
	all := strings.TrimSpace(mustOK(t, s, op, "target", "create", "--name", "everything", "--all"))

	var targets struct{ Targets []fleet.Target }
	decode(t, mustOK(t, s, s.Tokens[auth.Viewer], "target", "list", "--format", "json"), &targets)
	if len(targets.Targets) != 2 || targets.Targets[0].ID == targets.Targets[1].ID {
		t.Fatalf("target list: %+v", targets)
	}
	for _, x := range targets.Targets {
		if x.ID == tgt && x.Selector["env"] != "prod" || x.ID == all && !x.All {
			t.Errorf("target %+v", x)
		}
	}
	table := mustOK(t, s, op, "target", "list")
	if !strings.Contains(table, "SELECTS") || !strings.Contains(table, "env=prod") || !strings.Contains(table, "every agent") {
		t.Errorf("target list table:\n%s", table)
	}

	var preview struct{ Agents []fleet.Agent }
	decode(t, mustOK(t, s, op, "target", "preview", tgt, "--format", "json"), &preview)
	if len(preview.Agents) != 2 {
		t.Fatalf("preview: %+v", preview)
	}
	code, table, stderr := against(t, s, op, "target", "preview", tgt)
	if code != ExitOK || !strings.Contains(table, db.ID) || !strings.Contains(table, "HEALTHY") || !strings.Contains(table, "NO_HEARTBEAT") ||
		!strings.Contains(stderr, "2 agent(s) selected, 1 healthy") {
		t.Errorf("preview table: %d\n%s%s", code, table, stderr)
	}
	if strings.ContainsAny(table, "\x1b\x07") || !strings.Contains(table, "db-1\uFFFD[2J") {
		t.Errorf("a hostile hostname reached the terminal as it is: %q", table)
	}

	out = mustOK(t, s, op, "template", "create", "--name", "nightly", "--target", tgt, "--packages", "cve,cis,best-practices,runtime",
		"--duration", "20s", "--attribute", "ticket=SEC-9", "--attribute", "team=db")
	tpl := strings.TrimSpace(out)
	if !strings.HasPrefix(tpl, "tpl-") {
		t.Fatalf("template create printed %q", out)
	}
	var templates struct{ Templates []apiclient.Template }
	decode(t, mustOK(t, s, op, "template", "list", "--format", "json"), &templates)
	if len(templates.Templates) != 1 || templates.Templates[0].ID != tpl || templates.Templates[0].Duration != "20s" ||
		len(templates.Templates[0].Packages) != 4 || templates.Templates[0].Attributes["team"] != "db" {
		t.Fatalf("template list: %+v", templates)
	}
	if table := mustOK(t, s, op, "template", "list"); !strings.Contains(table, "cve,cis,best-practices,runtime") || !strings.Contains(table, "team=db,ticket=SEC-9") {
		t.Errorf("template list table:\n%s", table)
	}

	for _, args := range [][]string{
		{"target", "create", "--tag", "env=prod"},
		{"target", "create", "--name", "x"},
		{"target", "create", "--name", "x", "--tag", "env=prod", "--all"},
		{"target", "create", "--name", "x", "--tag", "no-equals"},
		{"target", "list", "--format", "yaml"},
		{"target", "preview"},
		{"template", "create", "--name", "x", "--target", tgt, "--packages", "cve,nonsense", "--duration", "20s"},
		{"template", "create", "--name", "x", "--target", tgt, "--packages", "cve", "--duration", "1s"},
		{"template", "create", "--name", "x", "--target", tgt, "--packages", "cve"},
		{"template", "create", "--name", "x", "--packages", "cve", "--duration", "20s"},
		{"template", "create", "--name", "x", "--target", tgt, "--packages", "cve", "--duration", "20s", "--attribute", "=v"},
	} {
		if code, out, stderr := against(t, s, op, args...); code != ExitUsage || out != "" || !strings.Contains(stderr, "kensa:") {
			t.Errorf("%q: exit %d, stdout %q, stderr %q", args, code, out, stderr)
		}
	}
	// The server's own refusal: a template of a target that is not there.
	code, out, stderr = against(t, s, op, "template", "create", "--name", "x", "--target", "tgt-none", "--packages", "cve", "--duration", "20s")
	if code != ExitError || out != "" || !strings.Contains(stderr, "HTTP 422: target tgt-none not found") {
		t.Errorf("template of a missing target: %d %q %q", code, out, stderr)
	}
}

// kensa run start --wait of a run no agent can be assessed in: the id on
// stdout, the run's states and its exclusions on stderr, exit 1 with the
// reason. kensa run show --format json is the server's run document.
func TestClientRunStartWaitFails(t *testing.T) {
	s := apitest.Start(t)
	op := s.Tokens[auth.Operator]
	silent := s.AddAgent("db-9", fleet.Tags{"env": "prod"}, false)
	tpl := s.Template("prod", fleet.Tags{"env": "prod"}, "cve", "cis")
	s.RunEngine()

	code, out, stderr := against(t, s, op, "run", "start", tpl, "--wait", "--interval", "10ms", "--timeout", "1m")
	id := strings.TrimSpace(out)
	if code != ExitError || !strings.HasPrefix(id, "run-") {
		t.Fatalf("run start --wait: exit %d, stdout %q, stderr %s", code, out, stderr)
	}
	for _, want := range []string{"run " + id + ": FAILED", "excluded: db-9 (" + silent.ID + "): AGENT_UNHEALTHY", "kensa: run " + id + " failed: no agent can be assessed"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}

	var doc map[string]any
	decode(t, mustOK(t, s, s.Tokens[auth.Viewer], "run", "show", id, "--format", "json"), &doc)
	if doc["state"] != "FAILED" || doc["template_id"] != tpl {
		t.Errorf("run show: %v", doc)
	}
	hist, _ := doc["history"].([]any)
	excl, _ := doc["exclusions"].([]any)
	if len(hist) != 2 || len(excl) != 1 || excl[0].(map[string]any)["reason"] != "AGENT_UNHEALTHY" || doc["agents"] == nil {
		t.Errorf("run show: history %v, exclusions %v", hist, excl)
	}
	table := mustOK(t, s, op, "run", "show", id)
	for _, want := range []string{"State:     FAILED: no agent can be assessed", "History:", "CREATED", "Exclusions:", "AGENT_UNHEALTHY", "(all)"} {
		if !strings.Contains(table, want) {
			t.Errorf("run show table lacks %q:\n%s", want, table)
		}
	}
	// kensa run wait of a run that is over: its state on stdout, the
	// same exit.
	code, out, stderr = against(t, s, op, "run", "wait", id)
	if code != ExitError || out != "FAILED\n" || !strings.Contains(stderr, "failed") {
		t.Errorf("run wait: %d %q %q", code, out, stderr)
	}
}

// kensa run start without --wait, list, a wait that times out, stop with
// and without evaluating.
func TestClientRunStopListWait(t *testing.T) {
	s := apitest.Start(t)
	op := s.Tokens[auth.Operator]
	s.AddAgent("db-1", fleet.Tags{"env": "prod"}, true)
	tpl := s.Template("prod", fleet.Tags{"env": "prod"}, "cve")
	ctx := t.Context()

	first := strings.TrimSpace(mustOK(t, s, op, "run", "start", tpl))
	if err := s.Engine.Step(ctx); err != nil {
		t.Fatal(err)
	}
	var runs struct{ Runs []apiclient.Run }
	decode(t, mustOK(t, s, op, "run", "list", "--state", "start_data_collection_pending", "--format", "json"), &runs)
	if len(runs.Runs) != 1 || runs.Runs[0].ID != first || len(runs.Runs[0].Agents) != 1 {
		t.Fatalf("run list: %+v", runs)
	}
	if table := mustOK(t, s, op, "run", "list"); !strings.Contains(table, first) || !strings.Contains(table, "START_DATA_COLLECTION_PENDING") {
		t.Errorf("run list table:\n%s", table)
	}

	// The run waits for its agent, which never comes.
	code, out, stderr := against(t, s, op, "run", "wait", first, "--timeout", "100ms", "--interval", "10ms")
	if code != ExitError || out != "" || !strings.Contains(stderr, "is still START_DATA_COLLECTION_PENDING after 100ms") {
		t.Errorf("run wait --timeout: %d %q %q", code, out, stderr)
	}

	code, out, stderr = against(t, s, op, "run", "stop", first, "--no-evaluate")
	if code != ExitOK || out != "" || !strings.Contains(stderr, "CANCELED (stopped by token") {
		t.Errorf("run stop --no-evaluate: %d %q %q", code, out, stderr)
	}
	code, _, stderr = against(t, s, op, "run", "stop", first)
	if code != ExitError || !strings.Contains(stderr, "HTTP 409") || !strings.Contains(stderr, "CANCELED") {
		t.Errorf("stopping a canceled run: %d %q", code, stderr)
	}

	// Stopped evaluating: what was collected (nothing) is evaluated, and
	// the run fails for it.
	second := strings.TrimSpace(mustOK(t, s, op, "run", "start", tpl))
	if err := s.Engine.Step(ctx); err != nil {
		t.Fatal(err)
	}
	code, _, stderr = against(t, s, op, "run", "stop", second)
	if code != ExitOK || !strings.Contains(stderr, "DATA_COLLECTED (stopped by token") {
		t.Errorf("run stop: %d %q", code, stderr)
	}
	if err := s.Engine.Step(ctx); err != nil {
		t.Fatal(err)
	}
	code, out, _ = against(t, s, op, "run", "wait", second)
	if code != ExitError || out != "FAILED\n" {
		t.Errorf("wait after stop: %d %q", code, out)
	}
	if code, _, stderr := against(t, s, op, "run", "list", "--state", "DONE"); code != ExitUsage || !strings.Contains(stderr, "COMPLETED_WITH_ERRORS") {
		t.Errorf("run list --state DONE: %d %q", code, stderr)
	}
}

// The exit code says how a run ended: 0 COMPLETED, 4 (ExitIncomplete)
// COMPLETED_WITH_ERRORS, 1 FAILED or CANCELED.
func TestClientRunWaitExitCodes(t *testing.T) {
	s := apitest.Start(t)
	op := s.Tokens[auth.Operator]
	a := s.AddAgent("db-1", fleet.Tags{"env": "prod"}, true)
	tpl := s.Template("prod", fleet.Tags{"env": "prod"}, "cve")
	done := s.FinishedRun(tpl, fleet.RunCompleted, map[string]*report.Report{a.ID: reporttest.CVE()})
	partial := s.FinishedRun(tpl, fleet.RunCompletedWithErrors, map[string]*report.Report{a.ID: reporttest.CVE()})

	code, out, stderr := against(t, s, op, "run", "wait", done.ID)
	n := len(reporttest.CVE().Findings)
	if code != ExitOK || out != "COMPLETED\n" || !strings.Contains(stderr, "COMPLETED: "+itoa(n)+" finding(s) from 1 agent(s), 0 exclusion(s)") {
		t.Errorf("wait for a completed run: %d %q %q", code, out, stderr)
	}
	code, out, stderr = against(t, s, op, "run", "wait", partial.ID)
	if code != ExitIncomplete || out != "COMPLETED_WITH_ERRORS\n" || !strings.Contains(stderr, "completed with errors: 1 of 2 agents evaluated") {
		t.Errorf("wait for a run completed with errors: %d %q %q", code, out, stderr)
	}
	if code, _, stderr := against(t, s, op, "run", "wait", "run-none"); code != ExitError || !strings.Contains(stderr, "HTTP 404: run not found") {
		t.Errorf("wait for a run that is not there: %d %q", code, stderr)
	}
	canceled := apiclient.Run{Run: fleet.Run{ID: "run-x", State: fleet.RunCanceled, History: []fleet.Transition{{To: fleet.RunCreated}, {From: fleet.RunCreated, To: fleet.RunCanceled, Reason: "stopped"}}}}
	if err := runOutcome(canceled); err == nil || err.Error() != "run run-x was canceled: stopped" {
		t.Errorf("canceled: %v", err)
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

// kensa findings list fetches every page (more than the server's 1,000 a
// page), filters, and prints each finding as the report JSON has it with
// where and when it was seen.
func TestClientFindingsList(t *testing.T) {
	s := apitest.Start(t)
	viewer := s.Tokens[auth.Viewer]
	a1 := s.AddAgent("db-1", fleet.Tags{"env": "prod"}, true)
	a2 := s.AddAgent("db-2", fleet.Tags{"env": "prod"}, true)
	tpl := s.Template("prod", fleet.Tags{"env": "prod"}, "cve")
	cve := reporttest.CVE()
	r := s.FinishedRun(tpl, fleet.RunCompleted, map[string]*report.Report{a1.ID: reporttest.Large(1200), a2.ID: cve})

	var doc struct {
		Findings []map[string]json.RawMessage
	}
	decode(t, mustOK(t, s, viewer, "findings", "list", "--run", r.ID, "--format", "json"), &doc)
	if len(doc.Findings) != 1200+len(cve.Findings) {
		t.Fatalf("%d findings, want %d", len(doc.Findings), 1200+len(cve.Findings))
	}
	// Each object holds every field of the report's finding object, as
	// the report writes it, and where and when it was seen.
	var rep map[string]any
	var buf bytes.Buffer
	report.WriteJSON(&buf, cve)
	json.Unmarshal(buf.Bytes(), &rep)
	byID := map[string]map[string]json.RawMessage{}
	for _, f := range doc.Findings {
		var id, agent string
		json.Unmarshal(f["id"], &id)
		json.Unmarshal(f["agent_id"], &agent)
		if agent == a2.ID {
			byID[id] = f
		}
		for _, k := range []string{"run_id", "agent_id", "status", "first_seen", "last_seen", "first_run", "severity", "rules_package", "rule_id", "title"} {
			if f[k] == nil {
				t.Fatalf("finding without %s: %v", k, f)
			}
		}
	}
	for _, rf := range rep["findings"].([]any) {
		want := rf.(map[string]any)
		got := byID[want["id"].(string)]
		if got == nil {
			t.Fatalf("finding %s of the report not listed", want["id"])
		}
		for k, v := range want {
			var have any
			json.Unmarshal(got[k], &have)
			wb, _ := json.Marshal(v)
			hb, _ := json.Marshal(have)
			if !bytes.Equal(wb, hb) {
				t.Errorf("finding %s field %s: %s, report has %s", want["id"], k, hb, wb)
			}
		}
		if string(got["status"]) != `"new"` || string(got["run_id"]) != `"`+r.ID+`"` {
			t.Errorf("finding %s: status %s run %s", want["id"], got["status"], got["run_id"])
		}
	}

	var high struct{ Findings []findingRow }
	decode(t, mustOK(t, s, viewer, "findings", "list", "--run", r.ID, "--agent", a2.ID, "--severity", "high", "--package", "cve", "--format", "json"), &high)
	wantHigh := 0
	for _, f := range cve.Findings {
		if f.Severity == finding.High {
			wantHigh++
		}
	}
	if len(high.Findings) != wantHigh || wantHigh == 0 {
		t.Errorf("high findings of db-2: %d, want %d", len(high.Findings), wantHigh)
	}
	for _, f := range high.Findings {
		if f.Severity != finding.High || f.AgentID != a2.ID {
			t.Errorf("filtered: %+v", f)
		}
	}

	code, table, stderr := against(t, s, viewer, "findings", "list", "--run", r.ID, "--agent", a2.ID)
	lines := strings.Split(strings.TrimSpace(table), "\n")
	if code != ExitOK || len(lines) != len(cve.Findings)+1 || !strings.HasPrefix(lines[0], "SEVERITY") || !strings.HasPrefix(lines[1], "high") ||
		!strings.Contains(lines[1], "db-2") || !strings.Contains(stderr, itoa(len(cve.Findings))+" finding(s)") {
		t.Errorf("findings table: %d\n%s\n%s", code, table, stderr)
	}

	// The findings of a run that did not complete are said to be partial.
	partial := s.FinishedRun(tpl, fleet.RunCompletedWithErrors, map[string]*report.Report{a2.ID: cve})
	if code, _, stderr := against(t, s, viewer, "findings", "list", "--run", partial.ID); code != ExitOK || !strings.Contains(stderr, "may not cover every agent") {
		t.Errorf("findings of a partial run: %d %q", code, stderr)
	}
	for _, args := range [][]string{
		{"findings", "list", "--suppressed", "all"},
		{"findings", "list", "--tag", "noequals"},
		{"findings", "list", "--attribute", "=v"},
		{"findings", "list", "--attribute", "k=1", "--attribute", "k=2"},
		{"findings", "list", "--since", "yesterday"},
		{"findings", "list", "--since", "2026-11-27", "--until", "2026-11-27"},
		{"findings", "list", "--run", r.ID, "--severity", "catastrophic"},
		{"findings", "list", "--run", r.ID, "--package", "nonsense"},
		{"findings", "list", "--run", r.ID, "--format", "csv"},
	} {
		if code, out, _ := against(t, s, viewer, args...); code != ExitUsage || out != "" {
			t.Errorf("%q: exit %d, stdout %q", args, code, out)
		}
	}
}

// kensa report get fetches an agent's report and renders it with the
// local renderers; --agent is needed when the run has several.
func TestClientReportGet(t *testing.T) {
	s := apitest.Start(t)
	viewer := s.Tokens[auth.Viewer]
	a1 := s.AddAgent("db-1", fleet.Tags{"env": "prod"}, true)
	a2 := s.AddAgent("db-2", fleet.Tags{"env": "prod"}, true)
	tpl := s.Template("prod", fleet.Tags{"env": "prod"}, "cve")
	two := s.FinishedRun(tpl, fleet.RunCompleted, map[string]*report.Report{a1.ID: reporttest.Config(), a2.ID: reporttest.CVE()})
	one := s.FinishedRun(tpl, fleet.RunCompleted, map[string]*report.Report{a2.ID: reporttest.CVE()})

	code, out, stderr := against(t, s, viewer, "report", "get", two.ID, "--format", "json")
	if code != ExitUsage || out != "" || !strings.Contains(stderr, "give --agent, one of "+a1.ID+" (db-1), "+a2.ID+" (db-2)") {
		t.Errorf("two agents without --agent: %d %q %q", code, out, stderr)
	}
	out = mustOK(t, s, viewer, "report", "get", two.ID, "--agent", a2.ID, "--format", "json")
	rep, err := report.Parse([]byte(out))
	if err != nil || len(rep.Findings) != len(reporttest.CVE().Findings) {
		t.Fatalf("report get --format json: %v", err)
	}
	html := filepath.Join(t.TempDir(), "r.html")
	mustOK(t, s, viewer, "report", "get", one.ID, "--format", "html", "-o", html)
	b, err := os.ReadFile(html)
	if err != nil || !bytes.Contains(b, []byte("<html")) || !bytes.Contains(b, []byte(reporttest.CVE().Findings[0].Title)) {
		t.Errorf("report get --format html: %v\n%.300s", err, b)
	}
	if table := mustOK(t, s, viewer, "report", "get", one.ID); !strings.Contains(table, reporttest.CVE().Findings[0].RuleID) {
		t.Errorf("report get (table):\n%s", table)
	}
	if code, _, stderr := against(t, s, viewer, "report", "get", one.ID, "--agent", a1.ID); code != ExitError || !strings.Contains(stderr, "HTTP 404: no report of agent") {
		t.Errorf("an agent without a report: %d %q", code, stderr)
	}
	if code, _, _ := against(t, s, viewer, "report", "get", one.ID, "--format", "xml"); code != ExitUsage {
		t.Errorf("--format xml: %d", code)
	}
	// kensa report itself still renders a file.
	path := filepath.Join(t.TempDir(), "r.json")
	os.WriteFile(path, []byte(out), 0o600)
	if code, _, stderr := run(t, "report", "--input", path, "--format", "csv"); code != ExitOK {
		t.Errorf("kensa report --input: %d %s", code, stderr)
	}
}

// What goes wrong says what to do: a wrong token, a role too low, no
// server or token, a server whose CA is not given; the environment
// stands in for the flags.
func TestClientErrors(t *testing.T) {
	s := apitest.Start(t)
	t.Setenv(envServer, "")
	t.Setenv(envToken, "")
	t.Setenv(envCA, "")

	code, out, stderr := against(t, s, "kensa_api_aaaaaaaaaaaaa_bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", "target", "list")
	if code != ExitError || out != "" || !strings.Contains(stderr, "the server refused the token (HTTP 401: authentication required") || !strings.Contains(stderr, "KENSA_TOKEN") {
		t.Errorf("wrong token: %d %q", code, stderr)
	}
	code, out, stderr = against(t, s, s.Tokens[auth.Viewer], "target", "create", "--name", "x", "--all")
	if code != ExitError || out != "" || !strings.Contains(stderr, "kensa: HTTP 403: this operation needs the operator role; the token has viewer") {
		t.Errorf("viewer creating a target: %d %q", code, stderr)
	}
	code, _, stderr = run(t, "target", "list", "--token", s.Tokens[auth.Viewer])
	if code != ExitUsage || !strings.Contains(stderr, "--server") || !strings.Contains(stderr, "KENSA_SERVER") {
		t.Errorf("no server: %d %q", code, stderr)
	}
	code, _, stderr = run(t, "run", "list", "--server", s.URL)
	if code != ExitUsage || !strings.Contains(stderr, "--token") || !strings.Contains(stderr, "KENSA_TOKEN") {
		t.Errorf("no token: %d %q", code, stderr)
	}
	code, _, stderr = run(t, "target", "list", "--server", s.URL, "--token", s.Tokens[auth.Viewer])
	if code != ExitError || !strings.Contains(stderr, "--ca FILE") || !strings.Contains(stderr, "certificate") {
		t.Errorf("no CA: %d %q", code, stderr)
	}
	notPEM := filepath.Join(t.TempDir(), "ca.crt")
	os.WriteFile(notPEM, []byte("not a certificate"), 0o600)
	for _, args := range [][]string{
		{"target", "list", "--server", s.URL, "--token", "t", "--ca", notPEM},
		{"target", "list", "--server", s.URL, "--token", "t", "--ca", filepath.Join(t.TempDir(), "missing")},
		{"target", "list", "--server", strings.Replace(s.URL, "https", "http", 1), "--token", "t"},
	} {
		if code, _, stderr := run(t, args...); code != ExitUsage {
			t.Errorf("%q: %d %q", args, code, stderr)
		}
	}

	t.Setenv(envServer, s.URL)
	t.Setenv(envToken, s.Tokens[auth.Viewer])
	t.Setenv(envCA, s.CAFile)
	if code, out, stderr := run(t, "target", "list", "--format", "json"); code != ExitOK || !strings.Contains(out, `"targets": []`) {
		t.Errorf("from the environment: %d %q %q", code, out, stderr)
	}
	// A flag wins over the environment.
	if code, _, _ := run(t, "target", "list", "--token", "kensa_api_aaaaaaaaaaaaa_bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"); code != ExitError {
		t.Errorf("--token over KENSA_TOKEN: %d", code)
	}
	// Help never shows the token from the environment.
	if _, out, _ := run(t, "target", "list", "--help"); strings.Contains(out, s.Tokens[auth.Viewer]) || !strings.Contains(out, "KENSA_TOKEN") {
		t.Errorf("help: %s", out)
	}
}

// kensa run reevaluate prints the new run's id; the new run's history
// says what it re-evaluates; a run that did not complete is refused.
func TestClientRunReevaluate(t *testing.T) {
	s := apitest.Start(t)
	op := s.Tokens[auth.Operator]
	a := s.AddAgent("db-1", fleet.Tags{"env": "prod"}, true)
	tpl := s.Template("prod", fleet.Tags{"env": "prod"}, "cve")
	done := s.FinishedRun(tpl, fleet.RunCompleted, map[string]*report.Report{a.ID: reporttest.CVE()})
	code, out, stderr := against(t, s, op, "run", "reevaluate", done.ID)
	id := strings.TrimSpace(out)
	if code != ExitOK || id == "" || id == done.ID {
		t.Fatalf("reevaluate: %d %q %q", code, out, stderr)
	}
	code, out, _ = against(t, s, s.Tokens[auth.Viewer], "run", "show", id, "--format", "json")
	var r fleet.Run
	if err := json.Unmarshal([]byte(out), &r); code != ExitOK || err != nil || len(r.History) == 0 || !strings.Contains(r.History[0].Reason, "re-evaluation of run "+done.ID) {
		t.Errorf("the new run: %d %v %+v", code, err, r.History)
	}
	if err := s.Store.CreateRun(context.Background(), fleet.NewRun("run-open", tpl, time.Now())); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := against(t, s, op, "run", "reevaluate", "run-open"); code != ExitError || !strings.Contains(stderr, "409") {
		t.Errorf("reevaluating a run that did not complete: %d %q", code, stderr)
	}
}

// kensa findings list --status: a run's new, recurring or fixed findings,
// the last with the run that found them; fixed needs --run.
func TestClientFindingsStatus(t *testing.T) {
	s := apitest.Start(t)
	viewer := s.Tokens[auth.Viewer]
	a1 := s.AddAgent("db-1", fleet.Tags{"env": "prod"}, true)
	tpl := s.Template("prod", fleet.Tags{"env": "prod"}, "cve")
	all := reporttest.CVE().Findings
	r1 := s.FinishedRun(tpl, fleet.RunCompleted, map[string]*report.Report{a1.ID: reporttest.CVEEvaluated(all)})
	r2 := s.FinishedRun(tpl, fleet.RunCompleted, map[string]*report.Report{a1.ID: reporttest.CVEEvaluated(all[1:])})

	var doc struct{ Findings []findingRow }
	decode(t, mustOK(t, s, viewer, "findings", "list", "--run", r2.ID, "--status", "fixed", "--format", "json"), &doc)
	if len(doc.Findings) != 1 || doc.Findings[0].ID != all[0].ID || doc.Findings[0].Status != "fixed" || doc.Findings[0].RunID != r2.ID ||
		doc.Findings[0].PreviousRun != r1.ID || doc.Findings[0].Title != all[0].Title {
		t.Errorf("fixed: %+v", doc.Findings)
	}
	code, table, stderr := against(t, s, viewer, "findings", "list", "--run", r2.ID, "--status", "fixed")
	lines := strings.Split(strings.TrimSpace(table), "\n")
	if code != ExitOK || len(lines) != 2 || !strings.Contains(lines[0], "STATUS") || !strings.Contains(lines[0], "PREVIOUS RUN") ||
		!strings.Contains(lines[1], " fixed ") || !strings.Contains(lines[1], r1.ID) || !strings.Contains(stderr, "1 fixed finding(s)") {
		t.Errorf("fixed table: %d\n%s\n%s", code, table, stderr)
	}
	var recurring, fresh struct{ Findings []findingRow }
	decode(t, mustOK(t, s, viewer, "findings", "list", "--run", r2.ID, "--status", "recurring", "--format", "json"), &recurring)
	if len(recurring.Findings) != len(all)-1 || recurring.Findings[0].Status != "recurring" || recurring.Findings[0].PreviousRun != "" {
		t.Errorf("recurring: %+v, want %d", recurring.Findings, len(all)-1)
	}
	decode(t, mustOK(t, s, viewer, "findings", "list", "--run", r2.ID, "--status", "new", "--format", "json"), &fresh)
	if len(fresh.Findings) != 0 {
		t.Errorf("new: %d", len(fresh.Findings))
	}
	code, table, _ = against(t, s, viewer, "findings", "list", "--run", r1.ID, "--status", "new")
	if lines := strings.Split(strings.TrimSpace(table), "\n"); code != ExitOK || len(lines) != len(all)+1 || !strings.Contains(lines[1], " new ") {
		t.Errorf("new table: %d\n%s", code, table)
	}
	for _, args := range [][]string{
		{"findings", "list", "--status", "fixed"},
		{"findings", "list", "--run", r2.ID, "--status", "gone"},
	} {
		if code, out, stderr := against(t, s, viewer, args...); code != ExitUsage || out != "" {
			t.Errorf("%q: exit %d, stdout %q, stderr %q", args, code, out, stderr)
		}
	}
	_, help, _ := run(t, "findings", "list", "--help")
	if !strings.Contains(help, "--status") || !strings.Contains(help, "evaluated completely") {
		t.Errorf("help says nothing of --status:\n%s", help)
	}
}
