package cli

import (
	"context"
	"strings"
	"testing"

	"github.com/kensa-dev/kensa/internal/apiclient"
	"github.com/kensa-dev/kensa/internal/apiclient/apitest"
	"github.com/kensa-dev/kensa/internal/auth"
	"github.com/kensa-dev/kensa/internal/fleet"
)

// kensa template create --subscribe EVENT=URL (repeatable): the
// subscriptions reach the server, the JSON list shows them with their
// URLs, the table their events only; a bad one is a usage error before
// any request.
func TestClientTemplateSubscribe(t *testing.T) {
	s := apitest.Start(t)
	op := s.Tokens[auth.Operator]
	tgt := strings.TrimSpace(mustOK(t, s, op, "target", "create", "--name", "prod", "--tag", "env=prod"))
	tpl := strings.TrimSpace(mustOK(t, s, op, "template", "create", "--name", "nightly", "--target", tgt, "--packages", "cve", "--duration", "20s",
		"--subscribe", "RUN_COMPLETED=https://hooks.example.com/kensa/s3cr3t-path",
		"--subscribe", "run_failed=https://hooks.example.com/kensa/s3cr3t-path",
		"--subscribe", "RUN_COMPLETED=http://127.0.0.1:9000/relay"))
	var templates struct{ Templates []apiclient.Template }
	decode(t, mustOK(t, s, op, "template", "list", "--format", "json"), &templates)
	want := []fleet.Subscription{
		{Event: fleet.EventRunCompleted, URL: "https://hooks.example.com/kensa/s3cr3t-path"},
		{Event: fleet.EventRunFailed, URL: "https://hooks.example.com/kensa/s3cr3t-path"},
		{Event: fleet.EventRunCompleted, URL: "http://127.0.0.1:9000/relay"},
	}
	if len(templates.Templates) != 1 || templates.Templates[0].ID != tpl || len(templates.Templates[0].Subscriptions) != 3 {
		t.Fatalf("template list: %+v", templates)
	}
	for i, sub := range templates.Templates[0].Subscriptions {
		if sub != want[i] {
			t.Errorf("subscription %d: %+v, want %+v", i, sub, want[i])
		}
	}
	table := mustOK(t, s, op, "template", "list")
	if !strings.Contains(table, "SUBSCRIPTIONS") || !strings.Contains(table, "RUN_COMPLETED×2,RUN_FAILED") || strings.Contains(table, "s3cr3t") {
		t.Errorf("template list table:\n%s", table)
	}
	for _, sub := range []string{
		"RUN_COMPLETED",                             // no URL
		"RUN_DONE=https://hooks.example.com/",       // no such event
		"RUN_FAILED=http://hooks.example.com/",      // clear text off loopback
		"RUN_FAILED=https://u:p@hooks.example.com/", // credentials
	} {
		code, out, stderr := against(t, s, op, "template", "create", "--name", "x", "--target", tgt, "--packages", "cve", "--duration", "20s", "--subscribe", sub)
		if code != ExitUsage || out != "" || !strings.Contains(stderr, "--subscribe") || strings.Contains(stderr, "u:p@") {
			t.Errorf("--subscribe %s: exit %d, stdout %q, stderr %q", sub, code, out, stderr)
		}
	}
	many := []string{"template", "create", "--name", "x", "--target", tgt, "--packages", "cve", "--duration", "20s"}
	for i := range 17 {
		many = append(many, "--subscribe", "RUN_FAILED=https://hooks.example.com/"+itoa(i))
	}
	if code, _, stderr := against(t, s, op, many...); code != ExitUsage || !strings.Contains(stderr, "at most 16") {
		t.Errorf("17 subscriptions: %d %q", code, stderr)
	}
}

// kensa delivery list: a run's deliveries, as a table that names where
// each goes without the URL's secret path, and as JSON with all of it; a
// viewer may list them; a bad --limit is a usage error before any
// request.
func TestClientDeliveryList(t *testing.T) {
	s := apitest.Start(t)
	op := s.Tokens[auth.Operator]
	s.AddAgent("db-1", fleet.Tags{"env": "prod"}, true)
	tgt := strings.TrimSpace(mustOK(t, s, op, "target", "create", "--name", "prod", "--tag", "env=prod"))
	tpl := strings.TrimSpace(mustOK(t, s, op, "template", "create", "--name", "nightly", "--target", tgt, "--packages", "cve", "--duration", "20s",
		"--subscribe", "RUN_STARTED=https://hooks.example.com/kensa/s3cr3t-path"))
	run := strings.TrimSpace(mustOK(t, s, op, "run", "start", tpl))
	if err := s.Engine.Step(context.Background()); err != nil {
		t.Fatal(err)
	}
	viewer := s.Tokens[auth.Viewer]
	var doc struct{ Deliveries []apiclient.Delivery }
	decode(t, mustOK(t, s, viewer, "delivery", "list", "--run", run, "--format", "json"), &doc)
	if len(doc.Deliveries) != 1 || doc.Deliveries[0].Event != fleet.EventRunStarted || doc.Deliveries[0].URL != "https://hooks.example.com/kensa/s3cr3t-path" ||
		doc.Deliveries[0].Status != "pending" || doc.Deliveries[0].RunID != run {
		t.Fatalf("json: %+v", doc)
	}
	table := mustOK(t, s, viewer, "delivery", "list")
	for _, want := range []string{"RUN_STARTED", "https://hooks.example.com", "pending", run} {
		if !strings.Contains(table, want) {
			t.Errorf("table lacks %q:\n%s", want, table)
		}
	}
	if strings.Contains(table, "s3cr3t") {
		t.Errorf("the table shows the URL's secret path:\n%s", table)
	}
	if code, out, stderr := against(t, s, viewer, "delivery", "list", "--limit", "5000"); code != ExitUsage || out != "" || !strings.Contains(stderr, "--limit") {
		t.Errorf("--limit 5000: %d %q %q", code, out, stderr)
	}
}
