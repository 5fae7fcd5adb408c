package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kensa-dev/kensa/internal/fleet"
	"github.com/kensa-dev/kensa/internal/store"
)

// A template's subscriptions are stored with it; one without any reads
// none.
func testSubscriptions(t *testing.T, open Opener) {
	ctx := context.Background()
	s, _ := open(t)
	mustNil(t, s.CreateTarget(ctx, target("t1", "prod")))
	tpl := template("p1", "weekly", "t1")
	tpl.Subscriptions = []fleet.Subscription{
		{Event: fleet.EventRunCompleted, URL: "https://hooks.example.com/kensa?team=sec"},
		{Event: fleet.EventRunFailed, URL: "http://127.0.0.1:9000/hook"},
	}
	mustNil(t, s.CreateTemplate(ctx, tpl))
	mustNil(t, s.CreateTemplate(ctx, template("p2", "daily", "t1")))
	got, err := s.Template(ctx, "p1")
	mustNil(t, err)
	tpl.Created = us
	if diff := cmp.Diff(tpl, got); diff != "" {
		t.Errorf("template (-stored +read):\n%s", diff)
	}
	list, err := s.Templates(ctx)
	mustNil(t, err)
	if len(list) != 2 || list[0].Subscriptions != nil || len(list[1].Subscriptions) != 2 {
		t.Errorf("templates: %+v", list)
	}
}

func delivery(id string, ev fleet.Event, url, body string, at time.Time) store.Delivery {
	return store.Delivery{ID: id, TemplateID: "p1", Event: ev, URL: url, Body: []byte(body), Created: at}
}

func dueIDs(t *testing.T, s store.Store, now time.Time) []string {
	t.Helper()
	ds, err := s.DueDeliveries(context.Background(), now, 100)
	mustNil(t, err)
	out := []string{}
	for _, d := range ds {
		out = append(out, d.ID)
	}
	return out
}

// The outbox: deliveries are recorded with the transition that raised
// them (and not when the move loses its race), listed in their run's
// order, sent in that order per run and URL, claimed by one notifier at
// a time, and kept across a restart with every attempt recorded.
func testDeliveries(t *testing.T, open Opener) {
	ctx := context.Background()
	s, reopen := open(t)
	setup(t, s)
	mustNil(t, s.CreateRun(ctx, fleet.NewRun("r1", "p1", t0)))
	mustNil(t, s.CreateRun(ctx, fleet.NewRun("r2", "p1", t0)))
	const a, b = "https://a.example.com/hook", "https://b.example.com/hook"
	// Bytes kept as they are: the body is signed.
	body := "{\"event\": \"RUN_STATE_CHANGED\",\n \"x\":1}"
	tr, err := fleet.Move(fleet.RunCreated, fleet.RunStartDataCollectionPending, t0, "")
	mustNil(t, err)
	mustNil(t, s.MoveRun(ctx, "r1", tr,
		delivery("d1", fleet.EventRunStateChanged, a, body, t0),
		delivery("d2", fleet.EventRunStarted, a, "{}", t0),
		delivery("d3", fleet.EventRunStarted, b, "{}", t0)))
	// The loser of a race records nothing.
	wantErr(t, "a move from a state the run left", s.MoveRun(ctx, "r1", tr, delivery("dx", fleet.EventRunStarted, a, "{}", t0)), store.ErrConflict)
	tr2, _ := fleet.Move(fleet.RunStartDataCollectionPending, fleet.RunCanceled, t0.Add(time.Second), "stopped by test")
	mustNil(t, s.MoveRun(ctx, "r1", tr2, delivery("d4", fleet.EventRunFailed, a, "{}", t0.Add(time.Second))))
	mustNil(t, s.MoveRun(ctx, "r2", tr, delivery("d5", fleet.EventRunStarted, a, "{}", t0)))
	wantErr(t, "a delivery id twice", s.MoveRun(ctx, "r2", tr2, delivery("d5", fleet.EventRunFailed, a, "{}", t0)), store.ErrExists)
	if r, _ := s.Run(ctx, "r2"); r.State != fleet.RunStartDataCollectionPending {
		t.Errorf("a move whose deliveries could not be recorded was kept: %s", r.State)
	}

	ds, err := s.Deliveries(ctx, store.DeliveryFilter{RunID: "r1"})
	mustNil(t, err)
	var order []string
	for _, d := range ds {
		order = append(order, fmt.Sprintf("%s:%d.%d", d.ID, d.Seq, d.N))
	}
	if diff := cmp.Diff([]string{"d1:2.0", "d2:2.1", "d3:2.2", "d4:3.0"}, order); diff != "" {
		t.Errorf("r1's deliveries (-want +got):\n%s", diff)
	}
	want := store.Delivery{ID: "d1", RunID: "r1", TemplateID: "p1", Seq: 2, N: 0, Event: fleet.EventRunStateChanged, URL: a, Body: []byte(body),
		Status: store.DeliveryPending, Created: us, NextAttempt: us}
	if diff := cmp.Diff(want, ds[0]); diff != "" {
		t.Errorf("d1 (-want +read):\n%s", diff)
	}
	latest, err := s.Deliveries(ctx, store.DeliveryFilter{Limit: 2})
	mustNil(t, err)
	if len(latest) != 2 || latest[0].ID != "d4" {
		t.Errorf("the latest 2 deliveries: %+v", latest)
	}

	// The head of each run and URL is due: d1 (r1 to a), d3 (r1 to b),
	// d5 (r2 to a); d2 and d4 wait for d1.
	if diff := cmp.Diff([]string{"d1", "d3", "d5"}, dueIDs(t, s, t0)); diff != "" {
		t.Errorf("due (-want +got):\n%s", diff)
	}
	if got := dueIDs(t, s, t0.Add(-time.Second)); len(got) != 0 {
		t.Errorf("due before their time: %v", got)
	}
	// Claimed, d1 is no one else's, and its queue waits.
	lease := t0.Add(time.Minute)
	mustNil(t, s.ClaimDelivery(ctx, "d1", t0, lease))
	wantErr(t, "claiming a claimed delivery", s.ClaimDelivery(ctx, "d1", t0, lease), store.ErrConflict)
	wantErr(t, "claiming an unknown delivery", s.ClaimDelivery(ctx, "nope", t0, lease), store.ErrNotFound)
	if diff := cmp.Diff([]string{"d3", "d5"}, dueIDs(t, s, t0)); diff != "" {
		t.Errorf("due while d1 is being sent (-want +got):\n%s", diff)
	}
	// A 500: tried again later; the queue still waits.
	retry := t0.Add(30 * time.Second)
	mustNil(t, s.RecordAttempt(ctx, "d1", store.DeliveryAttempt{At: t0, HTTPStatus: 500, Error: "HTTP 500", Status: store.DeliveryPending, Next: retry}))
	if diff := cmp.Diff([]string{"d3", "d5"}, dueIDs(t, s, retry.Add(-time.Microsecond))); diff != "" {
		t.Errorf("due before d1's retry (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"d1", "d3", "d5"}, dueIDs(t, s, retry)); diff != "" {
		t.Errorf("due at d1's retry (-want +got):\n%s", diff)
	}
	// After a restart the outbox is all there.
	s = reopen()
	t.Cleanup(func() { s.Close() })
	mustNil(t, s.ClaimDelivery(ctx, "d1", retry, retry.Add(time.Minute)))
	mustNil(t, s.RecordAttempt(ctx, "d1", store.DeliveryAttempt{At: retry, HTTPStatus: 200, Status: store.DeliveryDelivered}))
	wantErr(t, "an attempt at a delivered delivery", s.RecordAttempt(ctx, "d1", store.DeliveryAttempt{At: retry, Status: store.DeliveryFailed}), store.ErrConflict)
	wantErr(t, "an attempt at an unknown delivery", s.RecordAttempt(ctx, "nope", store.DeliveryAttempt{At: retry, Status: store.DeliveryFailed}), store.ErrNotFound)
	if diff := cmp.Diff([]string{"d2", "d3", "d5"}, dueIDs(t, s, retry)); diff != "" {
		t.Errorf("due after d1 was delivered (-want +got):\n%s", diff)
	}
	// A 404: given up; the next of its queue goes.
	mustNil(t, s.ClaimDelivery(ctx, "d2", retry, retry.Add(time.Minute)))
	mustNil(t, s.RecordAttempt(ctx, "d2", store.DeliveryAttempt{At: retry, HTTPStatus: 404, Error: "HTTP 404 Not Found", Status: store.DeliveryFailed}))
	if diff := cmp.Diff([]string{"d3", "d5", "d4"}, dueIDs(t, s, retry)); diff != "" {
		t.Errorf("due after d2 was given up (-want +got):\n%s", diff)
	}
	ds, _ = s.Deliveries(ctx, store.DeliveryFilter{RunID: "r1"})
	d1, d2 := ds[0], ds[1]
	if d1.Status != store.DeliveryDelivered || d1.Attempts != 2 || d1.LastStatus != 200 || d1.LastError != "" || !d1.LastAttempt.Equal(retry.Truncate(time.Microsecond)) {
		t.Errorf("d1 after two attempts: %+v", d1)
	}
	if d2.Status != store.DeliveryFailed || d2.Attempts != 1 || d2.LastStatus != 404 || d2.LastError != "HTTP 404 Not Found" {
		t.Errorf("d2 given up: %+v", d2)
	}
	if ds[2].Attempts != 0 || !ds[2].LastAttempt.IsZero() {
		t.Errorf("d3 never tried: %+v", ds[2])
	}

	// Notifiers racing for one delivery: one gets it.
	const n = 8
	var wg sync.WaitGroup
	won := make([]bool, n)
	for i := range n {
		wg.Go(func() {
			err := s.ClaimDelivery(ctx, "d5", retry, retry.Add(time.Minute))
			won[i] = err == nil
			if err != nil && !errors.Is(err, store.ErrConflict) {
				t.Errorf("a losing claim: %v", err)
			}
		})
	}
	wg.Wait()
	count := 0
	for _, w := range won {
		if w {
			count++
		}
	}
	if count != 1 {
		t.Errorf("%d notifiers claimed d5, want 1", count)
	}
}
