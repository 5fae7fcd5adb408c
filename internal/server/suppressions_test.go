package server

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/kensa-dev/kensa/internal/agentapi"
	"github.com/kensa-dev/kensa/internal/auth"
	"github.com/kensa-dev/kensa/internal/fleet"
	"github.com/kensa-dev/kensa/internal/host"
	"github.com/kensa-dev/kensa/internal/observe"
	"github.com/kensa-dev/kensa/internal/report"
	"github.com/kensa-dev/kensa/internal/report/reporttest"
	"github.com/kensa-dev/kensa/internal/store"
)

// Suppressions through the API: an operator creates them, checked as a
// suppression file's entries are (422 with every reason); a viewer lists
// them, each saying whether it has expired; an operator deletes them.
func TestSuppressionsAPI(t *testing.T) {
	f := newFixture(t)
	op, viewer := f.tokens[auth.Operator], f.tokens[auth.Viewer]

	code, created := f.do("POST", "/api/v1/suppressions", op, map[string]any{"vulnerability": " CVE-2023-38545 ", "package": "curl",
		"reason": "SOCKS5 proxies are not used", "owner": "security@example.com", "expires": "2026-11-27"})
	if code != 200 || created["id"] == nil || created["vulnerability"] != "CVE-2023-38545" || created["expires"] != "2026-11-27" ||
		created["expired"] != false || created["created_by"] == "" || created["created"] == nil {
		t.Fatalf("create: %d %v", code, created)
	}
	id := created["id"].(string)
	_, tokenID, _, _ := auth.Parse(op)
	if created["created_by"] != tokenID {
		t.Errorf("created_by %v, want the operator's token %s", created["created_by"], tokenID)
	}
	if code, _ := f.do("POST", "/api/v1/suppressions", viewer, map[string]any{"rule": "x", "reason": "r", "owner": "o"}); code != 403 {
		t.Errorf("a viewer creating a suppression: %d", code)
	}
	for _, tc := range []struct {
		body map[string]any
		want []string
	}{
		{map[string]any{"host": "db-*", "reason": "r", "owner": "o"}, []string{"no vulnerability, rule, package or path"}},
		{map[string]any{"vulnerability": "CVE-2023-*", "path": "opt/x", "rules_package": "kernel", "reason": "r", "owner": "o"},
			[]string{"one id, not a pattern", "path \"opt/x\": absolute", "rules_package \"kernel\""}},
		{map[string]any{"rule": "cis-[5", "reason": "r", "owner": "o"}, []string{"rule:"}},
		{map[string]any{"rule": "cve/*", "reason": "  ", "owner": "o"}, []string{"no reason"}},
		{map[string]any{"rule": "cve/*", "reason": "r"}, []string{"owner"}},
		{map[string]any{"rule": "cve/*", "reason": "r", "owner": "o", "expires": "2026-02-30"}, []string{"want a date, YYYY-MM-DD"}},
		{map[string]any{"rule": "cve/*", "reason": "r", "owner": "o", "expires": "2026-11-26"}, []string{"the day has passed"}},
	} {
		code, body := f.do("POST", "/api/v1/suppressions", op, tc.body)
		msg := fmt.Sprint(body["detail"], body["errors"])
		if code != 422 {
			t.Errorf("%v: %d, want 422", tc.body, code)
		}
		for _, w := range tc.want {
			if !strings.Contains(msg, w) {
				t.Errorf("%v: %s lacks %q", tc.body, msg, w)
			}
		}
	}

	code, second := f.do("POST", "/api/v1/suppressions", op, map[string]any{"rule": "cis-5.2.*", "host": "db-*", "reason": "r", "owner": "platform"})
	if code != 200 {
		t.Fatalf("second: %d %v", code, second)
	}
	// The expiry's day is the last it applies: the next day, expired.
	f.advance(24 * time.Hour)
	code, list := f.do("GET", "/api/v1/suppressions", viewer, nil)
	sups, _ := list["suppressions"].([]any)
	if code != 200 || len(sups) != 2 {
		t.Fatalf("list: %d %v", code, list)
	}
	first, other := sups[0].(map[string]any), sups[1].(map[string]any)
	if first["id"] != id || first["expired"] != true || other["expired"] != false || other["expires"] != nil {
		t.Errorf("list, oldest first, with expiry: %v", sups)
	}
	if code, got := f.do("GET", "/api/v1/suppressions/"+id, viewer, nil); code != 200 || got["owner"] != "security@example.com" {
		t.Errorf("get: %d %v", code, got)
	}
	if code, _ := f.do("DELETE", "/api/v1/suppressions/"+id, viewer, nil); code != 403 {
		t.Errorf("a viewer deleting: %d", code)
	}
	if code, _ := f.do("DELETE", "/api/v1/suppressions/"+id, op, nil); code != 204 {
		t.Errorf("delete: %d", code)
	}
	if code, _ := f.do("DELETE", "/api/v1/suppressions/"+id, op, nil); code != 404 {
		t.Errorf("delete again: %d", code)
	}
	if code, _ := f.do("GET", "/api/v1/suppressions/"+id, viewer, nil); code != 404 {
		t.Errorf("get a deleted suppression: %d", code)
	}
	_, list = f.do("GET", "/api/v1/suppressions", viewer, nil)
	if sups, _ := list["suppressions"].([]any); len(sups) != 1 {
		t.Errorf("after the delete: %v", list)
	}
}

// evaluated runs a run of the fixture's template on agent a1 through the
// engine, with an evaluator that finds what reporttest.CVE has found,
// and returns it once it ends.
func (f *fixture) evaluated(e *Engine, id string) fleet.Run {
	f.t.Helper()
	ctx := context.Background()
	// a1 has just sent a heartbeat, so that the run assesses it.
	if err := f.store.Heartbeat(ctx, "a1", store.Heartbeat{OS: "debian:12", Live: true, Health: fleet.Healthy, Reason: fleet.ReasonIdle, At: f.srv.cfg.Now()}); err != nil {
		f.t.Fatal(err)
	}
	f.start(id)
	step := func() {
		if err := e.Step(ctx); err != nil {
			f.t.Fatal(err)
		}
	}
	step()
	sum, blob, err := compress([]byte(`{}`))
	if err != nil {
		f.t.Fatal(err)
	}
	if err := f.store.PutBlob(ctx, sum, blob); err != nil {
		f.t.Fatal(err)
	}
	if _, err := f.store.PutUpload(ctx, store.Upload{RunID: id, AgentID: "a1", Kind: agentapi.KindInventory, Key: "k-" + id, SHA256: sum, Received: t0}); err != nil {
		f.t.Fatal(err)
	}
	if err := f.store.SetWork(ctx, id, "a1", []string{store.WorkPending}, store.WorkDone, "", t0); err != nil {
		f.t.Fatal(err)
	}
	step()
	r := f.run(id)
	if r.State != fleet.RunCompleted {
		f.t.Fatalf("run %s: %s %v", id, r.State, r.History)
	}
	return r
}

// findings lists findings through the API.
func (f *fixture) findings(query string) []findingView {
	f.t.Helper()
	code, body := f.do("GET", "/api/v1/findings?"+query, f.tokens[auth.Viewer], nil)
	if code != 200 {
		f.t.Fatalf("findings?%s: %d %v", query, code, body)
	}
	b, _ := json.Marshal(body["findings"])
	var out []findingView
	if err := json.Unmarshal(b, &out); err != nil {
		f.t.Fatal(err)
	}
	return out
}

// The engine applies the stored suppressions when it evaluates an
// agent, as kensa scan applies a file: the matched findings leave the
// report's findings for its suppressed list and are stored apart, listed
// only when asked, with the suppression. A suppression created after a
// run leaves that run's findings as they were; an expired one applies no
// more, and the report says it expired.
func TestSuppressionAppliedAtEvaluation(t *testing.T) {
	f := newFixture(t)
	f.seed(healthy("a1", fleet.Tags{"env": "prod"}))
	cfg := f.engine.cfg
	cfg.Evaluate = func(context.Context, *host.Inventory, *observe.Observations, error, []string) (*report.Report, error) {
		return reporttest.CVE(), nil
	}
	e := NewEngine(cfg)
	op := f.tokens[auth.Operator]
	all := len(reporttest.CVE().Findings)

	code, sup := f.do("POST", "/api/v1/suppressions", op, map[string]any{"vulnerability": "CVE-2023-38545", "rules_package": "cve",
		"reason": "SOCKS5 proxies are not used", "owner": "security@example.com", "expires": "2026-11-27"})
	if code != 200 {
		t.Fatalf("create: %d %v", code, sup)
	}
	supID := sup["id"].(string)

	f.evaluated(e, "r1")
	standing := f.findings("run=r1")
	only := f.findings("run=r1&suppressed=only")
	both := f.findings("run=r1&suppressed=include")
	if len(standing) != all-2 || len(only) != 2 || len(both) != all {
		t.Fatalf("r1: %d standing, %d suppressed, %d in all; the report has %d", len(standing), len(only), len(both), all)
	}
	for _, v := range only {
		if !v.Suppressed || v.Suppression == nil || v.Suppression.ID != supID || v.Suppression.Reason != "SOCKS5 proxies are not used" ||
			v.Suppression.Owner != "security@example.com" || v.Finding.Attributes["vulnerability_id"] != "CVE-2023-38545" || v.Status != "new" {
			t.Errorf("a suppressed finding: %+v", v)
		}
	}
	for _, v := range standing {
		if v.Suppressed || v.Suppression != nil || v.Finding.Attributes["vulnerability_id"] == "CVE-2023-38545" {
			t.Errorf("a finding that stands: %+v", v)
		}
	}
	rep := f.report("r1")
	if len(rep.Suppressed) != 2 || len(rep.Findings) != all-2 || rep.Summary.Suppressed != 2 || rep.Suppressions == nil ||
		rep.Suppressions.File != serverSuppressions || rep.Suppressions.Rules != 1 || len(rep.Suppressions.Expired) != 0 ||
		rep.Suppressed[0].Reason != "SOCKS5 proxies are not used" || rep.Suppressed[0].Expires != "2026-11-27" ||
		!strings.HasPrefix(rep.Suppressed[0].Rule, "suppression "+supID+": vulnerability CVE-2023-38545") {
		t.Errorf("r1's report: %d findings, %d suppressed, %+v, %+v", len(rep.Findings), len(rep.Suppressed), rep.Suppressions, rep.Suppressed)
	}
	ws, _ := f.store.RunReports(context.Background(), "r1")
	if len(ws) != 1 || ws[0].Findings != all-2 {
		t.Errorf("the run's count of findings: %+v", ws)
	}

	// Created after r1: r1's stored findings are not rewritten.
	code, later := f.do("POST", "/api/v1/suppressions", op, map[string]any{"vulnerability": "CVE-2024-2511", "host": "db-*",
		"reason": "no TLS 1.3 sessions", "owner": "platform"})
	if code != 200 {
		t.Fatalf("create: %d %v", code, later)
	}
	if again := f.findings("run=r1"); len(again) != all-2 {
		t.Errorf("r1 after a later suppression: %d findings, want %d", len(again), all-2)
	}

	// The next day the first has expired: its findings stand again; the
	// later one applies.
	f.advance(24 * time.Hour)
	f.evaluated(e, "r2")
	standing = f.findings("run=r2")
	only = f.findings("run=r2&suppressed=only")
	if len(standing) != all-1 || len(only) != 1 || only[0].Suppression.ID != later["id"] || only[0].Finding.Attributes["vulnerability_id"] != "CVE-2024-2511" {
		t.Errorf("r2: %d standing, suppressed %+v", len(standing), only)
	}
	for _, v := range standing {
		if v.Finding.Attributes["vulnerability_id"] == "CVE-2023-38545" && v.Status != "recurring" {
			t.Errorf("a finding suppressed in r1 is recurring in r2: %+v", v)
		}
	}
	rep = f.report("r2")
	if len(rep.Suppressed) != 1 || rep.Suppressions == nil || rep.Suppressions.Rules != 2 || len(rep.Suppressions.Expired) != 1 ||
		!strings.Contains(rep.Suppressions.Expired[0], supID) || !strings.Contains(rep.Suppressions.Expired[0], "expired 2026-11-27") {
		t.Errorf("r2's report: %+v", rep.Suppressions)
	}
	_, list := f.do("GET", "/api/v1/suppressions", f.tokens[auth.Viewer], nil)
	if sups := list["suppressions"].([]any); sups[0].(map[string]any)["expired"] != true || sups[1].(map[string]any)["expired"] != false {
		t.Errorf("suppressions after the expiry: %v", sups)
	}
	// Deleted: the findings it matched keep it.
	if code, _ := f.do("DELETE", "/api/v1/suppressions/"+supID, op, nil); code != 204 {
		t.Fatalf("delete: %d", code)
	}
	if kept := f.findings("run=r1&suppressed=only"); len(kept) != 2 || kept[0].Suppression.ID != supID {
		t.Errorf("r1's suppressed findings after the suppression went: %+v", kept)
	}
}

// report fetches agent a1's report of a run through the API, and checks
// it is a valid Kensa report.
func (f *fixture) report(run string) *report.Report {
	f.t.Helper()
	req := httptest.NewRequest("GET", "/api/v1/runs/"+run+"/reports/a1", nil)
	req.Header.Set("Authorization", "Bearer "+f.tokens[auth.Viewer])
	rec := httptest.NewRecorder()
	f.srv.Handler().ServeHTTP(rec, req)
	if rec.Code != 200 {
		f.t.Fatalf("report of a1 in %s: %d %s", run, rec.Code, rec.Body)
	}
	rep, err := report.Parse(rec.Body.Bytes())
	if err != nil {
		f.t.Fatalf("report of a1 in %s: %v", run, err)
	}
	return rep
}

// The finding list's tag, attribute, time range and suppressed filters:
// parsed, refused with 422 when malformed, and applied.
func TestFindingFilterParameters(t *testing.T) {
	f := newFixture(t)
	f.seed(healthy("a1", fleet.Tags{"env": "prod", "team": "db,ops"}))
	cfg := f.engine.cfg
	cfg.Evaluate = func(context.Context, *host.Inventory, *observe.Observations, error, []string) (*report.Report, error) {
		return reporttest.CVE(), nil
	}
	e := NewEngine(cfg)
	f.evaluated(e, "r1")
	all := len(reporttest.CVE().Findings)

	q := url.Values{"tag": {"env=prod", "team=db,ops"}}
	if got := f.findings(q.Encode()); len(got) != all {
		t.Errorf("tags env=prod and team=db,ops: %d, want %d", len(got), all)
	}
	if got := f.findings("tag=env=dev"); len(got) != 0 {
		t.Errorf("tag env=dev: %d", len(got))
	}
	q = url.Values{"attribute": {"package_name=curl", "vulnerability_id=CVE-2023-38545"}}
	if got := f.findings(q.Encode()); len(got) != 1 || got[0].Finding.Vulnerability.Package != "curl" {
		t.Errorf("attributes: %+v", got)
	}
	q = url.Values{"severity": {"high", "medium"}}
	bySev := f.findings(q.Encode())
	if comma := f.findings("severity=high,medium"); len(bySev) == 0 || len(comma) != len(bySev) {
		t.Errorf("severity repeated: %d; comma-separated: %d", len(bySev), len(comma))
	}
	q = url.Values{"severity": {"high"}}
	if high := f.findings(q.Encode()); len(high) >= len(bySev) {
		t.Errorf("severity=high (%d) and severity=high&severity=medium (%d): the second is not a union", len(high), len(bySev))
	}
	// Last seen at t0 (the fixture's clock).
	if got := f.findings("since=" + url.QueryEscape(t0.Format(time.RFC3339))); len(got) != all {
		t.Errorf("since t0: %d", len(got))
	}
	if got := f.findings("since=" + url.QueryEscape(t0.Add(time.Second).Format(time.RFC3339))); len(got) != 0 {
		t.Errorf("since t0+1s: %d", len(got))
	}
	if got := f.findings("until=" + url.QueryEscape(t0.Add(time.Nanosecond).Format(time.RFC3339Nano))); len(got) != all {
		t.Errorf("until t0+1ns: %d", len(got))
	}
	// Pages of one under several filters hold what one page holds.
	q = url.Values{"tag": {"env=prod"}, "attribute": {"ecosystem=Debian:12"}, "since": {t0.Format(time.RFC3339)}, "suppressed": {"include"}}
	whole := f.findings(q.Encode())
	var paged []findingView
	after := ""
	for range all + 2 {
		q.Set("limit", "1")
		if after != "" {
			q.Set("after", after)
		}
		_, body := f.do("GET", "/api/v1/findings?"+q.Encode(), f.tokens[auth.Viewer], nil)
		b, _ := json.Marshal(body["findings"])
		var page []findingView
		json.Unmarshal(b, &page)
		paged = append(paged, page...)
		next, _ := body["next"].(string)
		if next == "" {
			break
		}
		after = next
	}
	if len(whole) == 0 || len(paged) != len(whole) {
		t.Errorf("pages of one: %d findings, one page: %d", len(paged), len(whole))
	}
	for i := range min(len(paged), len(whole)) {
		if paged[i].Finding.ID != whole[i].Finding.ID {
			t.Errorf("page %d: %s, want %s", i, paged[i].Finding.ID, whole[i].Finding.ID)
		}
	}

	for _, bad := range []string{"tag=noequals", "tag=" + url.QueryEscape("bad key=x"), "tag=env=a&tag=env=b", "attribute==v",
		"attribute=k=1&attribute=k=2", "since=yesterday", "until=2026-11-27", "since=2026-11-27T12:00:00Z&until=2026-11-27T12:00:00Z",
		"suppressed=all", "severity=high,catastrophic"} {
		if code, _ := f.do("GET", "/api/v1/findings?"+bad, f.tokens[auth.Viewer], nil); code != 422 {
			t.Errorf("%s: %d, want 422", bad, code)
		}
	}
}
