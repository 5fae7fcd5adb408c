package apiclient_test

import (
	"context"
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

// Suppressions through the client: created, listed, shown and deleted;
// what the server refuses comes back as a 422 with its reasons; a run
// evaluated with a suppression in force stores the findings it matched
// apart, which the finding list shows only when asked, and every new
// filter (tag, attribute, time range) reaches the server.
func TestSuppressionsAndFilters(t *testing.T) {
	s := apitest.Start(t)
	ctx := context.Background()
	op, viewer := client(t, s, s.Tokens[auth.Operator]), client(t, s, s.Tokens[auth.Viewer])

	sup, err := op.CreateSuppression(ctx, apiclient.SuppressionRequest{Vulnerability: "CVE-2023-38545", Package: "curl",
		Reason: "SOCKS5 proxies are not used", Owner: "security@example.com", Expires: time.Now().UTC().AddDate(0, 1, 0).Format(time.DateOnly)})
	if err != nil || !strings.HasPrefix(sup.ID, "sup-") || sup.Package != "curl" || sup.Expired || sup.CreatedBy == "" || sup.Created.IsZero() {
		t.Fatalf("create: %+v %v", sup, err)
	}
	_, err = op.CreateSuppression(ctx, apiclient.SuppressionRequest{Vulnerability: "CVE-*", Reason: "r", Owner: "o"})
	if apiclient.StatusOf(err) != 422 || !strings.Contains(err.Error(), "one id, not a pattern") {
		t.Errorf("a pattern as vulnerability: %v", err)
	}
	if _, err := viewer.CreateSuppression(ctx, apiclient.SuppressionRequest{Rule: "x", Reason: "r", Owner: "o"}); apiclient.StatusOf(err) != 403 {
		t.Errorf("a viewer creating: %v", err)
	}
	list, err := viewer.ListSuppressions(ctx)
	if err != nil || len(list) != 1 || list[0].ID != sup.ID || list[0].Reason != sup.Reason {
		t.Fatalf("list: %+v %v", list, err)
	}
	if got, err := viewer.GetSuppression(ctx, sup.ID); err != nil || got.Owner != "security@example.com" {
		t.Errorf("get: %+v %v", got, err)
	}

	a1 := s.AddAgent("db-1", fleet.Tags{"env": "prod", "role": "db"}, true)
	a2 := s.AddAgent("web-1", fleet.Tags{"env": "prod", "role": "web"}, true)
	tpl := s.Template("prod", fleet.Tags{"env": "prod"}, "cve")
	r := s.FinishedRun(tpl, fleet.RunCompleted, map[string]*report.Report{a1.ID: reporttest.CVE(), a2.ID: reporttest.Config()})
	cve := len(reporttest.CVE().Findings)

	standing, err := viewer.ListAllFindings(ctx, apiclient.FindingFilter{Run: r.ID, Agent: a1.ID})
	// curl and libcurl4 (built from curl) have CVE-2023-38545.
	if err != nil || len(standing) != cve-2 {
		t.Fatalf("the findings that stand: %d %v, want %d", len(standing), err, cve-2)
	}
	only, err := viewer.ListAllFindings(ctx, apiclient.FindingFilter{Run: r.ID, Suppressed: apiclient.SuppressedOnly})
	if err != nil || len(only) != 2 || !only[0].Suppressed || only[0].Suppression == nil || only[0].Suppression.ID != sup.ID ||
		only[0].Suppression.Reason != sup.Reason || only[1].Finding.Attributes["vulnerability_id"] != "CVE-2023-38545" {
		t.Fatalf("only suppressed: %+v %v", only, err)
	}
	both, err := viewer.ListAllFindings(ctx, apiclient.FindingFilter{Run: r.ID, Agent: a1.ID, Suppressed: apiclient.SuppressedInclude})
	if err != nil || len(both) != cve {
		t.Errorf("suppressed included: %d %v", len(both), err)
	}

	byTag, err := viewer.ListAllFindings(ctx, apiclient.FindingFilter{Run: r.ID, Tags: map[string]string{"env": "prod", "role": "web"}})
	if err != nil || len(byTag) != len(reporttest.Config().Findings) {
		t.Errorf("tags env=prod, role=web: %d %v", len(byTag), err)
	}
	for _, f := range byTag {
		if f.AgentID != a2.ID {
			t.Errorf("a finding of another agent: %+v", f)
		}
	}
	byAttr, err := viewer.ListAllFindings(ctx, apiclient.FindingFilter{Attributes: map[string]string{"package_name": "libssl3"}, Severities: []finding.Severity{finding.High, finding.Medium}})
	if err != nil || len(byAttr) != 1 || byAttr[0].Finding.Attributes["package_name"] != "libssl3" {
		t.Errorf("attribute package_name=libssl3: %+v %v", byAttr, err)
	}
	seen := standing[0].LastSeen
	if got, err := viewer.ListAllFindings(ctx, apiclient.FindingFilter{Agent: a1.ID, Since: seen, Until: seen.Add(time.Microsecond)}); err != nil || len(got) != cve-2 {
		t.Errorf("since..until around the last sighting: %d %v", len(got), err)
	}
	if got, err := viewer.ListAllFindings(ctx, apiclient.FindingFilter{Agent: a1.ID, Since: seen.Add(time.Microsecond)}); err != nil || len(got) != 0 {
		t.Errorf("since after the last sighting: %d %v", len(got), err)
	}
	if _, err := viewer.ListFindings(ctx, apiclient.FindingFilter{Suppressed: "all"}, ""); apiclient.StatusOf(err) != 422 {
		t.Errorf("suppressed=all: %v", err)
	}

	if err := viewer.DeleteSuppression(ctx, sup.ID); apiclient.StatusOf(err) != 403 {
		t.Errorf("a viewer deleting: %v", err)
	}
	if err := op.DeleteSuppression(ctx, sup.ID); err != nil {
		t.Fatal(err)
	}
	if err := op.DeleteSuppression(ctx, sup.ID); apiclient.StatusOf(err) != 404 {
		t.Errorf("deleting twice: %v", err)
	}
	if list, err := viewer.ListSuppressions(ctx); err != nil || len(list) != 0 {
		t.Errorf("after the delete: %+v %v", list, err)
	}
}
