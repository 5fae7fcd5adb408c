package cli

import (
	"strings"
	"testing"
	"time"

	"github.com/kensa-dev/kensa/internal/apiclient"
	"github.com/kensa-dev/kensa/internal/apiclient/apitest"
	"github.com/kensa-dev/kensa/internal/auth"
	"github.com/kensa-dev/kensa/internal/fleet"
	"github.com/kensa-dev/kensa/internal/report"
	"github.com/kensa-dev/kensa/internal/report/reporttest"
)

// kensa suppression create prints the id alone; an entry a suppression
// file would refuse is a usage error before any request, and what only
// the server refuses (a day already past) comes back as its 422; list
// (table and JSON) says what is in force; delete deletes.
func TestClientSuppressions(t *testing.T) {
	s := apitest.Start(t)
	op, viewer := s.Tokens[auth.Operator], s.Tokens[auth.Viewer]
	expires := time.Now().UTC().AddDate(0, 0, 30).Format(time.DateOnly)

	out := mustOK(t, s, op, "suppression", "create", "--vulnerability", "CVE-2023-38545", "--package", "curl",
		"--reason", "SOCKS5 proxies are not used here", "--owner", "security@example.com", "--expires", expires)
	id := strings.TrimSpace(out)
	if !strings.HasPrefix(id, "sup-") || strings.Count(out, "\n") != 1 {
		t.Fatalf("suppression create printed %q", out)
	}
	second := strings.TrimSpace(mustOK(t, s, op, "suppression", "create", "--rule", "cis-*", "--rules-package", "cis", "--host", "db-*",
		"--reason", "hardening scheduled", "--owner", "platform"))

	for _, args := range [][]string{
		{"suppression", "create", "--host", "db-*", "--reason", "r", "--owner", "o"},
		{"suppression", "create", "--vulnerability", "CVE-2023-*", "--reason", "r", "--owner", "o"},
		{"suppression", "create", "--rule", "cve/*", "--owner", "o"},
		{"suppression", "create", "--rule", "cve/*", "--reason", "r"},
		{"suppression", "create", "--rule", "cve/*", "--reason", "r", "--owner", "o", "--expires", "30/06/2026"},
		{"suppression", "create", "--path", "opt/x", "--reason", "r", "--owner", "o"},
		{"suppression", "create", "--rule", "x", "--rules-package", "kernel", "--reason", "r", "--owner", "o"},
		{"suppression", "list", "--format", "yaml"},
		{"suppression", "delete"},
	} {
		if code, out, stderr := against(t, s, op, args...); code != ExitUsage || out != "" || !strings.Contains(stderr, "kensa:") {
			t.Errorf("%q: exit %d, stdout %q, stderr %q", args, code, out, stderr)
		}
	}
	past := time.Now().UTC().AddDate(0, 0, -2).Format(time.DateOnly)
	code, out, stderr := against(t, s, op, "suppression", "create", "--rule", "cve/*", "--reason", "r", "--owner", "o", "--expires", past)
	if code != ExitError || out != "" || !strings.Contains(stderr, "HTTP 422") || !strings.Contains(stderr, "the day has passed") {
		t.Errorf("an expiry already past: %d %q %q", code, out, stderr)
	}
	code, _, stderr = against(t, s, viewer, "suppression", "create", "--rule", "cve/*", "--reason", "r", "--owner", "o")
	if code != ExitError || !strings.Contains(stderr, "HTTP 403") {
		t.Errorf("a viewer creating: %d %q", code, stderr)
	}

	var doc struct{ Suppressions []apiclient.Suppression }
	decode(t, mustOK(t, s, viewer, "suppression", "list", "--format", "json"), &doc)
	if len(doc.Suppressions) != 2 || doc.Suppressions[0].ID != id || doc.Suppressions[0].Expires != expires || doc.Suppressions[0].Expired ||
		doc.Suppressions[1].ID != second || doc.Suppressions[1].RulesPackage != "cis" || doc.Suppressions[1].CreatedBy == "" {
		t.Fatalf("suppression list: %+v", doc)
	}
	code, table, stderr := against(t, s, viewer, "suppression", "list")
	if code != ExitOK || !strings.Contains(table, "vulnerability CVE-2023-38545, package curl") || !strings.Contains(table, "in force") ||
		!strings.Contains(table, "rule cis-*, host db-*, rules_package cis") || !strings.Contains(stderr, "2 suppression(s), 0 expired") {
		t.Errorf("suppression list table: %d\n%s%s", code, table, stderr)
	}

	code, out, stderr = against(t, s, op, "suppression", "delete", second)
	if code != ExitOK || out != "" || !strings.Contains(stderr, "suppression "+second+" deleted") {
		t.Errorf("delete: %d %q %q", code, out, stderr)
	}
	if code, _, stderr := against(t, s, op, "suppression", "delete", second); code != ExitError || !strings.Contains(stderr, "HTTP 404") {
		t.Errorf("delete again: %d %q", code, stderr)
	}
	decode(t, mustOK(t, s, viewer, "suppression", "list", "--format", "json"), &doc)
	if len(doc.Suppressions) != 1 {
		t.Errorf("after the delete: %+v", doc)
	}
}

// kensa findings list: suppressed findings are left out unless asked
// for, and shown with their suppression; --tag, --attribute, --since
// and --until filter; without --run, every run's findings.
func TestClientFindingsFilters(t *testing.T) {
	s := apitest.Start(t)
	viewer := s.Tokens[auth.Viewer]
	mustOK(t, s, s.Tokens[auth.Operator], "suppression", "create", "--vulnerability", "CVE-2023-38545",
		"--reason", "SOCKS5 proxies are not used here", "--owner", "security@example.com")
	db := s.AddAgent("db-1", fleet.Tags{"env": "prod", "role": "db"}, true)
	web := s.AddAgent("web-1", fleet.Tags{"env": "prod", "role": "web"}, true)
	tpl := s.Template("prod", fleet.Tags{"env": "prod"}, "cve")
	r := s.FinishedRun(tpl, fleet.RunCompleted, map[string]*report.Report{db.ID: reporttest.CVE(), web.ID: reporttest.Config()})
	cve, cfg := len(reporttest.CVE().Findings), len(reporttest.Config().Findings)

	var doc struct{ Findings []findingRow }
	decode(t, mustOK(t, s, viewer, "findings", "list", "--run", r.ID, "--format", "json"), &doc)
	if len(doc.Findings) != cve-2+cfg {
		t.Fatalf("the findings that stand: %d, want %d", len(doc.Findings), cve-2+cfg)
	}
	for _, f := range doc.Findings {
		if f.Suppressed || f.Suppression != nil {
			t.Errorf("a suppressed finding listed by default: %+v", f)
		}
	}
	decode(t, mustOK(t, s, viewer, "findings", "list", "--run", r.ID, "--suppressed", "only", "--format", "json"), &doc)
	if len(doc.Findings) != 2 || !doc.Findings[0].Suppressed || doc.Findings[0].Suppression == nil ||
		doc.Findings[0].Suppression.Reason != "SOCKS5 proxies are not used here" || doc.Findings[0].Attributes["vulnerability_id"] != "CVE-2023-38545" {
		t.Fatalf("--suppressed only: %+v", doc.Findings)
	}
	code, table, stderr := against(t, s, viewer, "findings", "list", "--run", r.ID, "--suppressed", "include", "--agent", db.ID)
	lines := strings.Split(strings.TrimSpace(table), "\n")
	if code != ExitOK || len(lines) != cve+1 || !strings.Contains(lines[0], "SUPPRESSED BY") || !strings.Contains(table, doc.Findings[0].Suppression.ID) ||
		!strings.Contains(stderr, "; 2 suppressed") {
		t.Errorf("--suppressed include table: %d\n%s\n%s", code, table, stderr)
	}

	decode(t, mustOK(t, s, viewer, "findings", "list", "--tag", "role=web", "--tag", "env=prod", "--format", "json"), &doc)
	if len(doc.Findings) != cfg {
		t.Errorf("--tag role=web: %d, want %d", len(doc.Findings), cfg)
	}
	for _, f := range doc.Findings {
		if f.AgentID != web.ID {
			t.Errorf("--tag role=web: a finding of %s", f.AgentID)
		}
	}
	decode(t, mustOK(t, s, viewer, "findings", "list", "--attribute", "package_name=libssl3", "--format", "json"), &doc)
	if len(doc.Findings) != 1 || doc.Findings[0].Attributes["package_name"] != "libssl3" {
		t.Errorf("--attribute package_name=libssl3: %+v", doc.Findings)
	}
	yesterday := time.Now().UTC().AddDate(0, 0, -1).Format(time.DateOnly)
	tomorrow := time.Now().UTC().AddDate(0, 0, 1).Format(time.DateOnly)
	decode(t, mustOK(t, s, viewer, "findings", "list", "--since", yesterday, "--until", tomorrow, "--format", "json"), &doc)
	if len(doc.Findings) != cve-2+cfg {
		t.Errorf("--since yesterday --until tomorrow: %d", len(doc.Findings))
	}
	decode(t, mustOK(t, s, viewer, "findings", "list", "--since", tomorrow, "--format", "json"), &doc)
	if len(doc.Findings) != 0 {
		t.Errorf("--since tomorrow: %d", len(doc.Findings))
	}
	// Without --run, the table names each finding's run and its host.
	code, table, _ = against(t, s, viewer, "findings", "list", "--tag", "role=web")
	if code != ExitOK || !strings.Contains(table, "RUN") || !strings.Contains(table, r.ID) || !strings.Contains(table, "web-1") {
		t.Errorf("findings list across runs: %d\n%s", code, table)
	}
}
