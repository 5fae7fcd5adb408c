package apiclient_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kensa-dev/kensa/internal/apiclient"
	"github.com/kensa-dev/kensa/internal/apiclient/apitest"
	"github.com/kensa-dev/kensa/internal/auth"
	"github.com/kensa-dev/kensa/internal/fleet"
)

// A template's subscriptions go through the API and come back; a run's
// deliveries are listed, pending until a notifier sends them (this
// server has none).
func TestSubscriptionsAndDeliveries(t *testing.T) {
	s := apitest.Start(t)
	ctx := context.Background()
	op := client(t, s, s.Tokens[auth.Operator])
	s.AddAgent("db-1", fleet.Tags{"env": "prod"}, true)
	tgt, err := op.CreateTarget(ctx, apiclient.TargetRequest{Name: "prod", Tags: fleet.Tags{"env": "prod"}})
	if err != nil {
		t.Fatal(err)
	}
	subs := []fleet.Subscription{
		{Event: fleet.EventRunStarted, URL: "https://hooks.example.com/kensa"},
		{Event: fleet.EventRunCompleted, URL: "http://127.0.0.1:9/relay"},
	}
	tpl, err := op.CreateTemplate(ctx, apiclient.TemplateRequest{Name: "nightly", TargetID: tgt.ID, Packages: []string{"cve"}, Duration: "20s", Subscriptions: subs})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(subs, tpl.Subscriptions); diff != "" {
		t.Errorf("created (-want +got):\n%s", diff)
	}
	if got, err := op.GetTemplate(ctx, tpl.ID); err != nil || !cmp.Equal(subs, got.Subscriptions) {
		t.Errorf("get: %+v %v", got.Subscriptions, err)
	}
	_, err = op.CreateTemplate(ctx, apiclient.TemplateRequest{Name: "clear", TargetID: tgt.ID, Packages: []string{"cve"}, Duration: "20s",
		Subscriptions: []fleet.Subscription{{Event: fleet.EventRunFailed, URL: "http://hooks.example.com/"}}})
	if apiclient.StatusOf(err) != 422 {
		t.Errorf("plain http to another host: %v", err)
	}

	r, err := op.StartRun(ctx, tpl.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Engine.Step(ctx); err != nil {
		t.Fatal(err)
	}
	viewer := client(t, s, s.Tokens[auth.Viewer])
	ds, err := viewer.ListDeliveries(ctx, r.ID, 0)
	if err != nil || len(ds) != 1 {
		t.Fatalf("deliveries: %+v %v", ds, err)
	}
	d := ds[0]
	var body struct {
		ID    string         `json:"id"`
		Event fleet.Event    `json:"event"`
		State fleet.RunState `json:"state"`
	}
	if err := json.Unmarshal(d.Payload, &body); err != nil || d.Event != fleet.EventRunStarted || d.Status != "pending" || d.Attempts != 0 ||
		d.NextAttempt == nil || body.ID != d.ID || body.State != fleet.RunStartDataCollectionPending || d.URL != subs[0].URL {
		t.Errorf("delivery: %+v, payload %+v %v", d, body, err)
	}
	if latest, err := viewer.ListDeliveries(ctx, "", 5); err != nil || len(latest) != 1 {
		t.Errorf("latest: %+v %v", latest, err)
	}
	if _, err := viewer.ListDeliveries(ctx, "run-nope", 0); apiclient.StatusOf(err) != 404 {
		t.Errorf("an unknown run: %v", err)
	}
}
