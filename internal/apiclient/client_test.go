package apiclient_test

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kensa-dev/kensa/internal/apiclient"
	"github.com/kensa-dev/kensa/internal/apiclient/apitest"
	"github.com/kensa-dev/kensa/internal/auth"
	"github.com/kensa-dev/kensa/internal/finding"
	"github.com/kensa-dev/kensa/internal/fleet"
	"github.com/kensa-dev/kensa/internal/pki"
	"github.com/kensa-dev/kensa/internal/report"
	"github.com/kensa-dev/kensa/internal/report/reporttest"
)

func client(t *testing.T, s *apitest.Server, token string) *apiclient.Client {
	t.Helper()
	c, err := apiclient.New(s.URL, token, pki.ClientTLSConfig(s.CAPool))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// Targets, templates, tokens and agents through the API, over TLS
// verified with the server's CA: what is created is what is listed and
// shown, and a revoked token is refused at once.
func TestObjects(t *testing.T) {
	s := apitest.Start(t)
	ctx := context.Background()
	admin := client(t, s, s.Tokens[auth.Admin])
	db := s.AddAgent("db-1", fleet.Tags{"env": "prod"}, true)
	s.AddAgent("web-1", fleet.Tags{"env": "dev"}, true)

	if v, err := admin.Health(ctx); err != nil || v == "" {
		t.Fatalf("health: %q %v", v, err)
	}
	tgt, err := admin.CreateTarget(ctx, apiclient.TargetRequest{Name: "prod", Tags: fleet.Tags{"env": "prod"}})
	if err != nil || tgt.ID == "" || tgt.Selector["env"] != "prod" {
		t.Fatalf("create target: %+v %v", tgt, err)
	}
	if ts, err := admin.ListTargets(ctx); err != nil || len(ts) != 1 || ts[0].ID != tgt.ID {
		t.Errorf("list targets: %+v %v", ts, err)
	}
	if got, err := admin.GetTarget(ctx, tgt.ID); err != nil || got.Name != "prod" {
		t.Errorf("get target: %+v %v", got, err)
	}
	agents, err := admin.PreviewTarget(ctx, tgt.ID)
	if err != nil || len(agents) != 1 || agents[0].ID != db.ID || agents[0].Health != fleet.Healthy {
		t.Errorf("preview: %+v %v", agents, err)
	}

	tpl, err := admin.CreateTemplate(ctx, apiclient.TemplateRequest{Name: "nightly", TargetID: tgt.ID, Packages: []string{"cve", "cis"},
		Duration: "20s", Attributes: map[string]string{"ticket": "SEC-1"}})
	if err != nil || tpl.ID == "" || tpl.Duration != "20s" || tpl.Attributes["ticket"] != "SEC-1" {
		t.Fatalf("create template: %+v %v", tpl, err)
	}
	if ts, err := admin.ListTemplates(ctx); err != nil || len(ts) != 1 || ts[0].Duration != "20s" {
		t.Errorf("list templates: %+v %v", ts, err)
	}
	if got, err := admin.GetTemplate(ctx, tpl.ID); err != nil || got.TargetID != tgt.ID {
		t.Errorf("get template: %+v %v", got, err)
	}

	secret, rec, err := admin.CreateToken(ctx, apiclient.TokenRequest{Role: auth.Viewer, Name: "dash"})
	if err != nil || rec.Role != auth.Viewer || !strings.HasPrefix(secret, "kensa_api_") {
		t.Fatalf("create token: %q %+v %v", secret, rec, err)
	}
	join, jrec, err := admin.CreateJoinToken(ctx, apiclient.JoinTokenRequest{MaxUses: 1, ExpiresIn: "1h"})
	if err != nil || jrec.Kind != auth.KindJoin || jrec.MaxUses != 1 || !strings.HasPrefix(join, "kensa_join_") {
		t.Fatalf("create join token: %+v %v", jrec, err)
	}
	toks, err := admin.ListTokens(ctx)
	if err != nil || len(toks) != 5 {
		t.Errorf("list tokens: %d %v", len(toks), err)
	}
	viewer := client(t, s, secret)
	if _, err := viewer.ListAgents(ctx); err != nil {
		t.Fatalf("the new viewer token: %v", err)
	}
	if r, err := admin.RevokeToken(ctx, rec.ID); err != nil || !r.Revoked {
		t.Fatalf("revoke token: %+v %v", r, err)
	}
	if _, err := viewer.ListAgents(ctx); apiclient.StatusOf(err) != 401 {
		t.Errorf("a revoked token: %v", err)
	}

	all, err := admin.ListAgents(ctx)
	if err != nil || len(all) != 2 {
		t.Errorf("list agents: %+v %v", all, err)
	}
	if a, err := admin.RevokeAgent(ctx, db.ID); err != nil || !a.Revoked || a.Health != fleet.Unhealthy || a.Reason != fleet.ReasonRevoked {
		t.Errorf("revoke agent: %+v %v", a, err)
	}
	if a, err := admin.GetAgent(ctx, db.ID); err != nil || !a.Revoked {
		t.Errorf("get agent: %+v %v", a, err)
	}
}

// The server's refusals arrive as *APIError with its status and its own
// explanation; the client refuses what would leak a token.
func TestErrors(t *testing.T) {
	s := apitest.Start(t)
	ctx := context.Background()

	_, err := client(t, s, s.Tokens[auth.Viewer]).CreateTarget(ctx, apiclient.TargetRequest{Name: "x", All: true})
	var ae *apiclient.APIError
	if !errors.As(err, &ae) || ae.Status != 403 || !strings.HasPrefix(err.Error(), "HTTP 403: ") || !strings.Contains(ae.Detail, "operator role") {
		t.Errorf("viewer creating a target: %v", err)
	}
	_, err = client(t, s, "kensa_api_aaaaaaaaaaaaa_bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb").ListTargets(ctx)
	if apiclient.StatusOf(err) != 401 || !strings.Contains(err.Error(), "authentication required") {
		t.Errorf("an unknown token: %v", err)
	}
	op := client(t, s, s.Tokens[auth.Operator])
	for _, id := range []string{"tgt-none", "a/../b", "a?b#c", "%2e"} {
		if _, err := op.GetTarget(ctx, id); apiclient.StatusOf(err) != 404 || !strings.Contains(err.Error(), "target not found") {
			t.Errorf("target %q, which is not there: %v", id, err)
		}
	}
	// A validation failure says where.
	_, err = op.CreateTarget(ctx, apiclient.TargetRequest{Name: ""})
	if apiclient.StatusOf(err) != 422 || !strings.Contains(err.Error(), "body.name") {
		t.Errorf("an empty name: %v", err)
	}
	tgt, _ := op.CreateTarget(ctx, apiclient.TargetRequest{Name: "all", All: true})
	_, err = op.CreateTemplate(ctx, apiclient.TemplateRequest{Name: "t", TargetID: tgt.ID, Packages: []string{"cve"}, Duration: "1s"})
	if apiclient.StatusOf(err) != 422 || !strings.Contains(err.Error(), "duration 1s") {
		t.Errorf("a duration out of bounds: %v", err)
	}

	for _, u := range []string{"http://127.0.0.1:1", "ftp://x", "https://", "https://u:p@host", "https://host/?q=1"} {
		if _, err := apiclient.New(u, "t", nil); err == nil {
			t.Errorf("New(%q): no error", u)
		}
	}
	if _, err := apiclient.New(s.URL, "", nil); err == nil {
		t.Error("New without a token: no error")
	}
	// A trailing /api/v1 in the URL is the same server.
	c, err := apiclient.New(s.URL+"/api/v1/", s.Tokens[auth.Viewer], pki.ClientTLSConfig(s.CAPool))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.ListTargets(ctx); err != nil {
		t.Errorf("a URL ending in /api/v1: %v", err)
	}
	// Without the server's CA, the system's roots do not know it.
	sys, _ := apiclient.New(s.URL, s.Tokens[auth.Viewer], nil)
	var cv *tls.CertificateVerificationError
	if _, err := sys.ListTargets(ctx); !errors.As(err, &cv) {
		t.Errorf("without the CA: %T %v", err, err)
	}
	// The context is respected.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := op.ListTargets(cctx); !errors.Is(err, context.Canceled) {
		t.Errorf("a canceled context: %v", err)
	}
}

// Runs through the API, findings a page at a time and all of them, and
// an agent's stored report.
func TestRunsFindingsReports(t *testing.T) {
	s := apitest.Start(t)
	ctx := context.Background()
	op := client(t, s, s.Tokens[auth.Operator])
	a1 := s.AddAgent("db-1", fleet.Tags{"env": "prod"}, true)
	a2 := s.AddAgent("db-2", fleet.Tags{"env": "prod"}, true)
	tpl := s.Template("prod", fleet.Tags{"env": "prod"}, "cve")
	done := s.FinishedRun(tpl, fleet.RunCompleted, map[string]*report.Report{a1.ID: reporttest.Large(1500), a2.ID: reporttest.CVE()})

	r, err := op.StartRun(ctx, tpl)
	if err != nil || r.State != fleet.RunCreated || r.TemplateID != tpl {
		t.Fatalf("start: %+v %v", r, err)
	}
	if err := s.Engine.Step(ctx); err != nil {
		t.Fatal(err)
	}
	r, err = op.GetRun(ctx, r.ID)
	if err != nil || r.State != fleet.RunStartDataCollectionPending || len(r.Agents) != 2 || len(r.History) != 2 {
		t.Fatalf("after planning: %+v %v", r, err)
	}
	if runs, err := op.ListRuns(ctx, fleet.RunStartDataCollectionPending); err != nil || len(runs) != 1 || runs[0].ID != r.ID {
		t.Errorf("list pending runs: %+v %v", runs, err)
	}
	if runs, err := op.ListRuns(ctx, ""); err != nil || len(runs) != 2 {
		t.Errorf("list runs: %d %v", len(runs), err)
	}
	r, err = op.StopRun(ctx, r.ID, false)
	if err != nil || r.State != fleet.RunCanceled || !strings.Contains(r.Reason(), "without evaluating") {
		t.Fatalf("stop: %+v %v", r, err)
	}
	if _, err := op.StopRun(ctx, r.ID, true); apiclient.StatusOf(err) != 409 {
		t.Errorf("stopping a canceled run: %v", err)
	}

	got, err := op.GetRun(ctx, done.ID)
	if err != nil || got.State != fleet.RunCompleted || len(got.Reported()) != 2 {
		t.Fatalf("finished run: %+v %v", got, err)
	}
	want := 1500 + len(reporttest.CVE().Findings)
	// Pages of 400: the cursor walks them all, each finding once.
	seen := map[string]bool{}
	after, pages := "", 0
	for {
		page, err := op.ListFindings(ctx, apiclient.FindingFilter{Run: done.ID, Limit: 400}, after)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, f := range page.Findings {
			key := f.AgentID + "/" + f.Finding.ID
			if seen[key] {
				t.Fatalf("finding %s twice", key)
			}
			seen[key] = true
			if f.Status != "new" || f.RunID != done.ID || f.FirstSeen.IsZero() {
				t.Fatalf("finding: %+v", f)
			}
		}
		if page.Next == "" {
			break
		}
		after = page.Next
	}
	if len(seen) != want || pages != (want+399)/400 {
		t.Errorf("%d findings in %d pages, want %d", len(seen), pages, want)
	}
	all, err := op.ListAllFindings(ctx, apiclient.FindingFilter{Run: done.ID})
	if err != nil || len(all) != want {
		t.Errorf("all findings: %d %v, want %d", len(all), err, want)
	}
	high, err := op.ListAllFindings(ctx, apiclient.FindingFilter{Run: done.ID, Agent: a2.ID, Severities: []finding.Severity{finding.High}})
	if err != nil || len(high) == 0 {
		t.Fatalf("high findings of db-2: %d %v", len(high), err)
	}
	for _, f := range high {
		if f.Finding.Severity != finding.High || f.AgentID != a2.ID {
			t.Errorf("filter: %+v", f)
		}
	}

	b, err := op.GetReport(ctx, done.ID, a2.ID)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := report.Parse(b)
	if err != nil || len(rep.Findings) != len(reporttest.CVE().Findings) {
		t.Errorf("report: %v", err)
	}
	if _, err := op.GetReport(ctx, done.ID, "agt-none"); apiclient.StatusOf(err) != 404 {
		t.Errorf("report of an agent not in the run: %v", err)
	}
}

// A run no agent can be assessed in fails at once, with its exclusions:
// WaitRun sees each state and returns the final one. A run that does
// not end returns the context's error with the run as last seen.
func TestWaitRun(t *testing.T) {
	s := apitest.Start(t)
	ctx := context.Background()
	op := client(t, s, s.Tokens[auth.Operator])
	s.AddAgent("silent", fleet.Tags{"env": "prod"}, false)
	tpl := s.Template("prod", fleet.Tags{"env": "prod"}, "cve")
	s.RunEngine()

	r, err := op.StartRun(ctx, tpl)
	if err != nil {
		t.Fatal(err)
	}
	var states []fleet.RunState
	wctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	r, err = op.WaitRun(wctx, r.ID, apiclient.WaitOptions{Interval: 5 * time.Millisecond, OnChange: func(r apiclient.Run) { states = append(states, r.State) }})
	if err != nil || r.State != fleet.RunFailed || len(r.Exclusions) != 1 || r.Exclusions[0].Reason != fleet.ExcludedUnhealthy {
		t.Fatalf("wait: %+v %v", r, err)
	}
	if len(states) == 0 || states[len(states)-1] != fleet.RunFailed {
		t.Errorf("states seen: %v", states)
	}

	s.AddAgent("db-1", fleet.Tags{"env": "dev"}, true)
	dev := s.Template("dev", fleet.Tags{"env": "dev"}, "cve")
	r, err = op.StartRun(ctx, dev)
	if err != nil {
		t.Fatal(err)
	}
	short, cancel2 := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel2()
	last, err := op.WaitRun(short, r.ID, apiclient.WaitOptions{Interval: 5 * time.Millisecond})
	if !errors.Is(err, context.DeadlineExceeded) || last.ID != r.ID || last.State.Final() {
		t.Errorf("a run that does not end: %+v %v", last, err)
	}
}

// What answers in the server's place may not speak problem documents:
// the client says what it got, and WaitRun rides out a server that
// fails for a while (a restart) but not one that refuses.
func TestForeignAnswers(t *testing.T) {
	var calls atomic.Int64
	hs := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/api/v1/targets":
			w.WriteHeader(502)
			w.Write([]byte("<html>bad gateway</html>"))
		case r.URL.Path == "/api/v1/agents":
			http.Redirect(w, r, "https://elsewhere.example/", http.StatusFound)
		case r.URL.Path == "/api/v1/runs/run-1" && calls.Add(1) <= 2:
			w.WriteHeader(503)
		case r.URL.Path == "/api/v1/runs/run-1":
			json.NewEncoder(w).Encode(map[string]any{"id": "run-1", "state": "COMPLETED"})
		default:
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(404)
			w.Write([]byte(`{"title":"Not Found","status":404,"detail":"run not found"}`))
		}
	}))
	defer hs.Close()
	c, err := apiclient.New(hs.URL, "t", hs.Client().Transport.(*http.Transport).TLSClientConfig)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := c.ListTargets(ctx); err == nil || err.Error() != "HTTP 502: not a problem document: <html>bad gateway</html>" {
		t.Errorf("a proxy's page: %v", err)
	}
	if _, err := c.ListAgents(ctx); apiclient.StatusOf(err) != 302 {
		t.Errorf("a redirect is followed: %v", err)
	}
	var retries int
	r, err := c.WaitRun(ctx, "run-1", apiclient.WaitOptions{Interval: time.Millisecond, OnRetry: func(error) { retries++ }})
	if err != nil || r.State != fleet.RunCompleted || retries != 2 {
		t.Errorf("wait through two 503s: %+v %v, %d retries", r, err, retries)
	}
	if _, err := c.WaitRun(ctx, "run-2", apiclient.WaitOptions{Interval: time.Millisecond}); apiclient.StatusOf(err) != 404 {
		t.Errorf("wait for a run that is not there: %v", err)
	}
}

// The status filter: a run's new and recurring findings, and those it
// fixed (the previous run's, gone from a package evaluated whole), which
// need a run.
func TestFindingStatus(t *testing.T) {
	s := apitest.Start(t)
	ctx := context.Background()
	c := client(t, s, s.Tokens[auth.Viewer])
	a1 := s.AddAgent("db-1", fleet.Tags{"env": "prod"}, true)
	tpl := s.Template("prod", fleet.Tags{"env": "prod"}, "cve")
	all := reporttest.CVE().Findings
	r1 := s.FinishedRun(tpl, fleet.RunCompleted, map[string]*report.Report{a1.ID: reporttest.CVEEvaluated(all)})
	r2 := s.FinishedRun(tpl, fleet.RunCompleted, map[string]*report.Report{a1.ID: reporttest.CVEEvaluated(all[2:])})

	fixed, err := c.ListAllFindings(ctx, apiclient.FindingFilter{Run: r2.ID, Status: apiclient.StatusFixed})
	if err != nil || len(fixed) != 2 {
		t.Fatalf("fixed in r2: %+v %v", fixed, err)
	}
	for _, f := range fixed {
		if f.Status != apiclient.StatusFixed || f.RunID != r2.ID || f.PreviousRun != r1.ID || f.FirstRun != r1.ID || f.AgentID != a1.ID ||
			(f.Finding.ID != all[0].ID && f.Finding.ID != all[1].ID) {
			t.Errorf("a fixed finding: %+v", f)
		}
	}
	if got, err := c.ListAllFindings(ctx, apiclient.FindingFilter{Run: r2.ID, Status: apiclient.StatusNew}); err != nil || len(got) != 0 {
		t.Errorf("new in r2: %d %v", len(got), err)
	}
	got, err := c.ListAllFindings(ctx, apiclient.FindingFilter{Run: r2.ID, Status: apiclient.StatusRecurring})
	if err != nil || len(got) != len(all)-2 || got[0].Status != apiclient.StatusRecurring || got[0].PreviousRun != "" {
		t.Errorf("recurring in r2: %d %v", len(got), err)
	}
	if got, err := c.ListAllFindings(ctx, apiclient.FindingFilter{Run: r1.ID, Status: apiclient.StatusFixed}); err != nil || len(got) != 0 {
		t.Errorf("fixed in the first run: %d %v", len(got), err)
	}
	if _, err := c.ListFindings(ctx, apiclient.FindingFilter{Status: apiclient.StatusFixed}, ""); apiclient.StatusOf(err) != 422 {
		t.Errorf("fixed without a run: %v", err)
	}
}
