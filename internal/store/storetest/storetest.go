// Package storetest is the conformance suite of store.Store: every
// database Kensa supports runs the same tests (internal/store's
// sqlite_test.go and postgres_test.go).
package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/kensa-dev/kensa/internal/auth"
	"github.com/kensa-dev/kensa/internal/finding"
	"github.com/kensa-dev/kensa/internal/fleet"
	"github.com/kensa-dev/kensa/internal/store"
)

// Opener gives each test a new, empty store; reopen opens the same
// database again (another connection, as a restarted server would).
type Opener func(t *testing.T) (s store.Store, reopen func() store.Store)

// t0 has nanoseconds, which the stores keep to the microsecond.
var t0 = time.Date(2026, 11, 27, 12, 0, 0, 123456789, time.UTC)

// us is t0 as stored.
var us = t0.Truncate(time.Microsecond)

// Run runs the suite.
func Run(t *testing.T, open Opener) {
	for name, fn := range map[string]func(*testing.T, Opener){
		"Agents":             testAgents,
		"TargetsTemplates":   testTargetsTemplates,
		"Runs":               testRuns,
		"MoveRunConcurrency": testMoveRunConcurrency,
		"BlobsUploads":       testBlobsUploads,
		"Reopen":             testReopen,
		"Tokens":             testTokens,
		"RunWork":            testRunWork,
		"Suppressions":       testSuppressions,
		"FindingFilters":     testFindingFilters,
		"FixedFindings":      testFixedFindings,
		"CollectedRun":       testCollectedRun,
		"Subscriptions":      testSubscriptions,
		"Deliveries":         testDeliveries,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			fn(t, open)
		})
	}
}

func agent(id, host string) fleet.Agent {
	return fleet.Agent{ID: id, Hostname: host, Tags: fleet.Tags{"env": "prod", "role": "db"}, Version: "0.5.0", OS: "debian:12",
		Kernel: "6.1.0-28-amd64", Addresses: []string{"192.0.2.10", "2001:db8::10"}, Live: true,
		Health: fleet.Healthy, Reason: fleet.ReasonIdle, LastSeen: t0, Enrolled: t0.Add(-time.Hour)}
}

func mustNil(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Errorf("%s: %v, want %v", what, err, want)
	}
}

func testAgents(t *testing.T, open Opener) {
	ctx := context.Background()
	s, _ := open(t)
	a, b := agent("a2", "web-1"), agent("a1", "db-1")
	b.Tags, b.Addresses, b.Live = nil, nil, false
	mustNil(t, s.CreateAgent(ctx, a))
	mustNil(t, s.CreateAgent(ctx, b))
	wantErr(t, "a duplicate id", s.CreateAgent(ctx, a), store.ErrExists)

	got, err := s.Agent(ctx, "a2")
	mustNil(t, err)
	a.LastSeen, a.Enrolled = us, us.Add(-time.Hour)
	if diff := cmp.Diff(a, got); diff != "" {
		t.Errorf("agent (-stored +read):\n%s", diff)
	}
	list, err := s.Agents(ctx)
	mustNil(t, err)
	if len(list) != 2 || list[0].Hostname != "db-1" || list[1].Hostname != "web-1" {
		t.Errorf("agents not by hostname: %+v", list)
	}
	if list[0].Tags == nil || len(list[0].Tags) != 0 || list[0].Live {
		t.Errorf("an agent without tags: %+v", list[0])
	}
	_, err = s.Agent(ctx, "nope")
	wantErr(t, "an unknown agent", err, store.ErrNotFound)

	hb := store.Heartbeat{Version: "0.6.0", OS: "debian:12", Kernel: "6.1.0-31-amd64", Addresses: []string{"192.0.2.11"}, Live: true,
		Health: fleet.Unhealthy, Reason: fleet.ReasonCollectorsFailed, At: t0.Add(time.Minute)}
	mustNil(t, s.Heartbeat(ctx, "a2", hb))
	got, _ = s.Agent(ctx, "a2")
	if got.Version != "0.6.0" || got.Kernel != "6.1.0-31-amd64" || got.Health != fleet.Unhealthy || got.Reason != fleet.ReasonCollectorsFailed ||
		!got.LastSeen.Equal(us.Add(time.Minute)) || len(got.Addresses) != 1 || got.Hostname != "web-1" {
		t.Errorf("after a heartbeat: %+v", got)
	}
	wantErr(t, "a heartbeat of an unknown agent", s.Heartbeat(ctx, "nope", hb), store.ErrNotFound)
	mustNil(t, s.RevokeAgent(ctx, "a2"))
	got, _ = s.Agent(ctx, "a2")
	if !got.Revoked {
		t.Error("revoked agent not revoked")
	}
	wantErr(t, "revoking an unknown agent", s.RevokeAgent(ctx, "nope"), store.ErrNotFound)
}

func target(id, name string) fleet.Target {
	return fleet.Target{ID: id, Name: name, Selector: fleet.Selector{"env": "prod"}, Created: t0}
}

func template(id, name, target string) fleet.Template {
	return fleet.Template{ID: id, Name: name, TargetID: target, Packages: []string{"cve", "runtime"}, Duration: 20 * time.Second,
		Attributes: map[string]string{"ticket": "SEC-42"}, Created: t0}
}

func testTargetsTemplates(t *testing.T, open Opener) {
	ctx := context.Background()
	s, _ := open(t)
	mustNil(t, s.CreateTarget(ctx, target("t1", "prod")))
	all := fleet.Target{ID: "t2", Name: "everything", All: true, Created: t0}
	mustNil(t, s.CreateTarget(ctx, all))
	wantErr(t, "a duplicate target name", s.CreateTarget(ctx, target("t3", "prod")), store.ErrExists)
	got, err := s.Target(ctx, "t1")
	mustNil(t, err)
	want := target("t1", "prod")
	want.Created = us
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("target (-stored +read):\n%s", diff)
	}
	list, err := s.Targets(ctx)
	mustNil(t, err)
	if len(list) != 2 || list[0].Name != "everything" || !list[0].All || len(list[0].Selector) != 0 {
		t.Errorf("targets: %+v", list)
	}
	_, err = s.Target(ctx, "nope")
	wantErr(t, "an unknown target", err, store.ErrNotFound)

	mustNil(t, s.CreateTemplate(ctx, template("p1", "weekly", "t1")))
	wantErr(t, "a template of an unknown target", s.CreateTemplate(ctx, template("p2", "daily", "nope")), store.ErrNotFound)
	wantErr(t, "a duplicate template name", s.CreateTemplate(ctx, template("p3", "weekly", "t2")), store.ErrExists)
	tpl, err := s.Template(ctx, "p1")
	mustNil(t, err)
	wantT := template("p1", "weekly", "t1")
	wantT.Created = us
	if diff := cmp.Diff(wantT, tpl); diff != "" {
		t.Errorf("template (-stored +read):\n%s", diff)
	}
	tpls, err := s.Templates(ctx)
	mustNil(t, err)
	if len(tpls) != 1 {
		t.Errorf("templates: %+v", tpls)
	}
}

// setup stores a target and a template for runs.
func setup(t *testing.T, s store.Store) {
	ctx := context.Background()
	mustNil(t, s.CreateTarget(ctx, target("t1", "prod")))
	mustNil(t, s.CreateTemplate(ctx, template("p1", "weekly", "t1")))
}

func move(t *testing.T, s store.Store, id string, from, to fleet.RunState, at time.Time, reason string) error {
	t.Helper()
	tr, err := fleet.Move(from, to, at, reason)
	if err != nil {
		t.Fatal(err)
	}
	return s.MoveRun(context.Background(), id, tr)
}

func testRuns(t *testing.T, open Opener) {
	ctx := context.Background()
	s, _ := open(t)
	setup(t, s)
	r := fleet.NewRun("r1", "p1", t0)
	mustNil(t, s.CreateRun(ctx, r))
	wantErr(t, "a duplicate run", s.CreateRun(ctx, r), store.ErrExists)
	wantErr(t, "a run of an unknown template", s.CreateRun(ctx, fleet.NewRun("r9", "nope", t0)), store.ErrNotFound)
	mustNil(t, s.CreateRun(ctx, fleet.NewRun("r2", "p1", t0.Add(time.Second))))

	mustNil(t, move(t, s, "r1", fleet.RunCreated, fleet.RunStartDataCollectionPending, t0.Add(time.Millisecond), ""))
	wantErr(t, "a move from a state the run left", move(t, s, "r1", fleet.RunCreated, fleet.RunCanceled, t0, "x"), store.ErrConflict)
	wantErr(t, "a move of an unknown run", move(t, s, "nope", fleet.RunCreated, fleet.RunCanceled, t0, "x"), store.ErrNotFound)
	var te *fleet.ErrTransition
	if err := s.MoveRun(ctx, "r1", fleet.Transition{From: fleet.RunStartDataCollectionPending, To: fleet.RunCompleted, At: t0}); !errors.As(err, &te) {
		t.Errorf("a transition the state machine refuses: %v", err)
	}
	assigned := []fleet.Assignment{{Agent: agent("a1", "db-1"), Packages: []string{"cve"}}}
	assigned[0].Agent.LastSeen, assigned[0].Agent.Enrolled = us, us.Add(-time.Hour)
	excluded := []fleet.Exclusion{{AgentID: "a2", Hostname: "web-1", Package: "runtime", Reason: fleet.ExcludedNotLive, Detail: "an image"}}
	mustNil(t, s.SetPlan(ctx, "r1", assigned, excluded))
	wantErr(t, "a plan of an unknown run", s.SetPlan(ctx, "nope", nil, nil), store.ErrNotFound)
	mustNil(t, move(t, s, "r1", fleet.RunStartDataCollectionPending, fleet.RunCollectingData, t0.Add(2*time.Millisecond), ""))
	mustNil(t, move(t, s, "r1", fleet.RunCollectingData, fleet.RunCanceled, t0.Add(3*time.Millisecond), "stopped by admin"))

	got, err := s.Run(ctx, "r1")
	mustNil(t, err)
	want := fleet.Run{ID: "r1", TemplateID: "p1", State: fleet.RunCanceled, Created: us, Assignments: assigned, Exclusions: excluded,
		History: []fleet.Transition{
			{To: fleet.RunCreated, At: us},
			{From: fleet.RunCreated, To: fleet.RunStartDataCollectionPending, At: us.Add(time.Millisecond)},
			{From: fleet.RunStartDataCollectionPending, To: fleet.RunCollectingData, At: us.Add(2 * time.Millisecond)},
			{From: fleet.RunCollectingData, To: fleet.RunCanceled, At: us.Add(3 * time.Millisecond), Reason: "stopped by admin"},
		}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("run (-want +read):\n%s", diff)
	}
	runs, err := s.Runs(ctx)
	mustNil(t, err)
	if len(runs) != 2 || runs[0].ID != "r2" || runs[1].ID != "r1" || len(runs[1].History) != 4 {
		t.Errorf("runs, newest first: %+v", runs)
	}
	if runs[0].Assignments == nil || runs[0].Exclusions == nil {
		t.Errorf("a run without a plan reads nil lists: %+v", runs[0])
	}
	open1, err := s.Runs(ctx, fleet.RunCreated, fleet.RunCollectingData)
	mustNil(t, err)
	if len(open1) != 1 || open1[0].ID != "r2" {
		t.Errorf("runs in CREATED or COLLECTING_DATA: %+v", open1)
	}
	_, err = s.Run(ctx, "nope")
	wantErr(t, "an unknown run", err, store.ErrNotFound)
}

// Many servers (or goroutines) racing to move one run: exactly one wins,
// the others see ErrConflict, and the history has one transition more.
func testMoveRunConcurrency(t *testing.T, open Opener) {
	ctx := context.Background()
	s, _ := open(t)
	setup(t, s)
	mustNil(t, s.CreateRun(ctx, fleet.NewRun("r1", "p1", t0)))
	const n = 8
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = move(t, s, "r1", fleet.RunCreated, fleet.RunStartDataCollectionPending, t0.Add(time.Duration(i)*time.Millisecond), fmt.Sprint("mover ", i))
		}()
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, store.ErrConflict):
			t.Errorf("a losing mover: %v, want ErrConflict", err)
		}
	}
	r, err := s.Run(ctx, "r1")
	mustNil(t, err)
	if won != 1 || len(r.History) != 2 || r.State != fleet.RunStartDataCollectionPending {
		t.Errorf("%d movers won; run %s with %d transitions", won, r.State, len(r.History))
	}
}

func testBlobsUploads(t *testing.T, open Opener) {
	ctx := context.Background()
	s, _ := open(t)
	setup(t, s)
	mustNil(t, s.CreateAgent(ctx, agent("a1", "db-1")))
	mustNil(t, s.CreateRun(ctx, fleet.NewRun("r1", "p1", t0)))
	body := []byte(`{"schema_version":"1.0","packages":[]}` + "\x00\xff")
	sum := "5f0c"
	has, err := s.HasBlob(ctx, sum)
	mustNil(t, err)
	if has {
		t.Error("HasBlob before PutBlob")
	}
	mustNil(t, s.PutBlob(ctx, sum, body))
	mustNil(t, s.PutBlob(ctx, sum, body)) // again: a no-op
	has, _ = s.HasBlob(ctx, sum)
	got, err := s.Blob(ctx, sum)
	mustNil(t, err)
	if !has || string(got) != string(body) {
		t.Errorf("blob: has %v, %q", has, got)
	}
	_, err = s.Blob(ctx, "nope")
	wantErr(t, "an unknown blob", err, store.ErrNotFound)

	u := store.Upload{RunID: "r1", AgentID: "a1", Kind: "inventory", Key: "k1", SHA256: sum, Received: t0}
	created, err := s.PutUpload(ctx, u)
	mustNil(t, err)
	again, err := s.PutUpload(ctx, u)
	mustNil(t, err)
	if !created || again {
		t.Errorf("PutUpload: first created %v, retry created %v", created, again)
	}
	other := u
	other.SHA256 = "9a9a"
	mustNil(t, s.PutBlob(ctx, other.SHA256, []byte("other")))
	_, err = s.PutUpload(ctx, other)
	wantErr(t, "the same key with other content", err, store.ErrConflict)
	orphan := u
	orphan.Key, orphan.SHA256 = "k2", "not-stored"
	if _, err := s.PutUpload(ctx, orphan); err == nil {
		t.Error("an upload of a blob not stored was accepted")
	}
	second := u
	second.Key, second.Kind = "k0", "observations"
	_, err = s.PutUpload(ctx, second)
	mustNil(t, err)
	list, err := s.Uploads(ctx, "r1")
	mustNil(t, err)
	want := []store.Upload{
		{RunID: "r1", AgentID: "a1", Kind: "inventory", Key: "k1", SHA256: sum, Received: us},
		{RunID: "r1", AgentID: "a1", Kind: "observations", Key: "k0", SHA256: sum, Received: us},
	}
	if diff := cmp.Diff(want, list, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("uploads (-want +read):\n%s", diff)
	}
}

// What one connection wrote, another reads: nothing lives only in a
// connection or a cache.
func testReopen(t *testing.T, open Opener) {
	ctx := context.Background()
	s, reopen := open(t)
	setup(t, s)
	mustNil(t, s.CreateAgent(ctx, agent("a1", "db-1")))
	mustNil(t, s.CreateRun(ctx, fleet.NewRun("r1", "p1", t0)))
	mustNil(t, move(t, s, "r1", fleet.RunCreated, fleet.RunStartDataCollectionPending, t0, ""))
	mustNil(t, s.Close())
	s2 := reopen()
	defer s2.Close()
	r, err := s2.Run(ctx, "r1")
	mustNil(t, err)
	if r.State != fleet.RunStartDataCollectionPending || len(r.History) != 2 {
		t.Errorf("after reopening: %+v", r)
	}
	if _, err := s2.Agent(ctx, "a1"); err != nil {
		t.Error(err)
	}
}

func testTokens(t *testing.T, open Opener) {
	ctx := context.Background()
	s, _ := open(t)
	_, api, err := auth.New(auth.KindAPI, t0)
	mustNil(t, err)
	api.Role, api.Name = auth.Operator, "ci pipeline"
	mustNil(t, s.CreateToken(ctx, api))
	wantErr(t, "a duplicate token id", s.CreateToken(ctx, api), store.ErrExists)
	got, err := s.Token(ctx, api.ID)
	mustNil(t, err)
	api.Created = us
	if diff := cmp.Diff(api, got); diff != "" {
		t.Errorf("token (-stored +read):\n%s", diff)
	}
	_, join, err := auth.New(auth.KindJoin, t0)
	mustNil(t, err)
	join.Expires, join.MaxUses = t0.Add(time.Hour), 2
	mustNil(t, s.CreateToken(ctx, join))
	apis, err := s.Tokens(ctx, auth.KindAPI)
	mustNil(t, err)
	joins, err := s.Tokens(ctx, auth.KindJoin)
	mustNil(t, err)
	if len(apis) != 1 || len(joins) != 1 || !joins[0].Expires.Equal(us.Add(time.Hour)) || !apis[0].Expires.IsZero() {
		t.Errorf("tokens: %+v / %+v", apis, joins)
	}

	// Two uses, then it is used up; racing for the last use, one wins.
	mustNil(t, s.UseJoinToken(ctx, join.ID, t0))
	var wg sync.WaitGroup
	errs := make([]error, 6)
	for i := range errs {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = s.UseJoinToken(ctx, join.ID, t0) }()
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		if err == nil {
			won++
		} else if !errors.Is(err, store.ErrConflict) {
			t.Errorf("a losing use: %v", err)
		}
	}
	got, _ = s.Token(ctx, join.ID)
	if won != 1 || got.Uses != 2 {
		t.Errorf("%d racers won the last use; uses %d", won, got.Uses)
	}
	_, join2, _ := auth.New(auth.KindJoin, t0)
	join2.Expires = t0.Add(time.Minute)
	mustNil(t, s.CreateToken(ctx, join2))
	wantErr(t, "an expired join token", s.UseJoinToken(ctx, join2.ID, t0.Add(time.Minute)), store.ErrConflict)
	wantErr(t, "an API token as a join token", s.UseJoinToken(ctx, api.ID, t0), store.ErrConflict)
	wantErr(t, "an unknown join token", s.UseJoinToken(ctx, "nope", t0), store.ErrNotFound)
	mustNil(t, s.RevokeToken(ctx, join2.ID))
	wantErr(t, "a revoked join token", s.UseJoinToken(ctx, join2.ID, t0), store.ErrConflict)
	got, _ = s.Token(ctx, join2.ID)
	if !got.Revoked {
		t.Error("revoked token not revoked")
	}
	wantErr(t, "revoking an unknown token", s.RevokeToken(ctx, "nope"), store.ErrNotFound)
}

func found(id string, sev finding.Severity, pkg, rule string) finding.Finding {
	return finding.Finding{ID: id, RulesPackage: pkg, RuleID: rule, Severity: sev, Title: "title " + id,
		Evidence: []string{"e"}, Attributes: map[string]string{"target": id}}
}

// Work moves by compare and swap; results replace an agent's findings in
// a run; first and last seen follow a finding across runs; the finding
// list filters and pages.
func testRunWork(t *testing.T, open Opener) {
	ctx := context.Background()
	s, _ := open(t)
	setup(t, s)
	mustNil(t, s.CreateAgent(ctx, agent("a1", "db-1")))
	mustNil(t, s.CreateAgent(ctx, agent("a2", "web-1")))
	mustNil(t, s.CreateRun(ctx, fleet.NewRun("r1", "p1", t0)))
	work := []store.RunAgent{{AgentID: "a1", Packages: []string{"cve", "cis"}, Updated: t0}, {AgentID: "a2", Packages: []string{"cve"}, Updated: t0}}
	mustNil(t, s.AssignRun(ctx, "r1", work))
	mustNil(t, s.AssignRun(ctx, "r1", work)) // again: kept
	ws, err := s.RunAgents(ctx, "r1")
	mustNil(t, err)
	if len(ws) != 2 || ws[0].AgentID != "a1" || ws[0].Status != store.WorkPending || len(ws[0].Packages) != 2 {
		t.Fatalf("run agents: %+v", ws)
	}
	// Work is offered only while the run collects.
	aw, err := s.AgentWork(ctx, "a1")
	mustNil(t, err)
	if len(aw) != 0 {
		t.Errorf("work offered for a CREATED run: %+v", aw)
	}
	mustNil(t, move(t, s, "r1", fleet.RunCreated, fleet.RunStartDataCollectionPending, t0, ""))
	aw, err = s.AgentWork(ctx, "a1")
	mustNil(t, err)
	if len(aw) != 1 || aw[0].RunID != "r1" {
		t.Errorf("work of a1: %+v", aw)
	}
	mustNil(t, s.SetWork(ctx, "r1", "a1", []string{store.WorkPending}, store.WorkCollecting, "", t0.Add(time.Second)))
	wantErr(t, "taking work twice", s.SetWork(ctx, "r1", "a1", []string{store.WorkPending}, store.WorkCollecting, "", t0), store.ErrConflict)
	wantErr(t, "work of an agent not in the run", s.SetWork(ctx, "r1", "zz", []string{store.WorkPending}, store.WorkCollecting, "", t0), store.ErrNotFound)
	mustNil(t, s.SetWork(ctx, "r1", "a2", []string{store.WorkPending, store.WorkCollecting}, store.WorkFailed, "disk full", t0))
	ws, _ = s.RunAgents(ctx, "r1")
	if ws[0].Status != store.WorkCollecting || !ws[0].Updated.Equal(us.Add(time.Second)) || ws[1].Status != store.WorkFailed || ws[1].Error != "disk full" {
		t.Errorf("after SetWork: %+v", ws)
	}

	mustNil(t, s.PutBlob(ctx, "rep1", []byte("{}")))
	first := []finding.Finding{found("f1", finding.High, "cve", "cve/Debian"), found("f2", finding.Low, "cis", "cis-1.1"), found("f3", finding.Medium, "cis", "cis-2.2")}
	mustNil(t, s.SaveResults(ctx, "r1", "a1", "rep1", first, nil, t0))
	mustNil(t, s.SaveResults(ctx, "r1", "a1", "rep1", first, nil, t0)) // again: replaced, not doubled
	all, err := s.Findings(ctx, store.FindingFilter{RunID: "r1"})
	mustNil(t, err)
	if len(all) != 3 || all[0].Finding.ID != "f1" || all[0].Finding.Title != "title f1" || all[0].FirstRun != "r1" || !all[0].FirstSeen.Equal(us) {
		t.Fatalf("findings of r1: %+v", all)
	}
	reps, err := s.RunReports(ctx, "r1")
	mustNil(t, err)
	if len(reps) != 1 || reps[0].Findings != 3 || reps[0].SHA256 != "rep1" {
		t.Errorf("run reports: %+v", reps)
	}

	// A second run: f1 again (recurring), f4 new; f1's first seen stays.
	mustNil(t, s.CreateRun(ctx, fleet.NewRun("r2", "p1", t0.Add(time.Hour))))
	mustNil(t, s.SaveResults(ctx, "r2", "a1", "rep1", []finding.Finding{found("f1", finding.High, "cve", "cve/Debian"), found("f4", finding.High, "cve", "cve/Go")}, nil, t0.Add(time.Hour)))
	r2, err := s.Findings(ctx, store.FindingFilter{RunID: "r2", Severities: []finding.Severity{finding.High}})
	mustNil(t, err)
	if len(r2) != 2 || r2[0].Finding.ID != "f1" || r2[0].FirstRun != "r1" || r2[0].LastRun != "r2" || !r2[0].LastSeen.Equal(us.Add(time.Hour)) || r2[1].FirstRun != "r2" {
		t.Errorf("findings of r2: %+v", r2)
	}
	// Filters and pages.
	byRule, _ := s.Findings(ctx, store.FindingFilter{RulesPackage: "cis", RuleID: "cis-2.2"})
	if len(byRule) != 1 || byRule[0].Finding.ID != "f3" {
		t.Errorf("by rule: %+v", byRule)
	}
	var paged []string
	after := ""
	for range 10 {
		page, err := s.Findings(ctx, store.FindingFilter{AgentID: "a1", Limit: 2, After: after})
		mustNil(t, err)
		if len(page) == 0 {
			break
		}
		for _, f := range page {
			paged = append(paged, f.RunID+"/"+f.Finding.ID)
		}
		after = page[len(page)-1].Cursor()
	}
	if diff := cmp.Diff([]string{"r1/f1", "r1/f2", "r1/f3", "r2/f1", "r2/f4"}, paged); diff != "" {
		t.Errorf("pages (-want +got):\n%s", diff)
	}
}

// A re-evaluation run is stored whole, with its work and uploads; a
// failed insert leaves nothing; settings keep values across reopening.
func testCollectedRun(t *testing.T, open Opener) {
	ctx := context.Background()
	s, reopen := open(t)
	setup(t, s)
	mustNil(t, s.CreateAgent(ctx, agent("a1", "db-1")))
	mustNil(t, s.PutBlob(ctx, "inv1", []byte("x")))
	r := fleet.NewRun("r2", "p1", t0)
	for _, to := range []fleet.RunState{fleet.RunStartDataCollectionPending, fleet.RunCollectingData, fleet.RunDataCollected} {
		tr, err := fleet.Move(r.State, to, t0, "re-evaluation of r1")
		mustNil(t, err)
		r.History, r.State = append(r.History, tr), to
	}
	work := []store.RunAgent{{AgentID: "a1", Packages: []string{"cve"}, Status: store.WorkDone, Updated: t0}}
	ups := []store.Upload{{AgentID: "a1", Kind: "inventory", Key: "reeval-k1", SHA256: "inv1", Received: t0}}
	mustNil(t, s.CreateCollectedRun(ctx, r, work, ups))
	got, err := s.Run(ctx, "r2")
	mustNil(t, err)
	ws, _ := s.RunAgents(ctx, "r2")
	us2, _ := s.Uploads(ctx, "r2")
	if got.State != fleet.RunDataCollected || len(got.History) != 4 || len(ws) != 1 || ws[0].Status != store.WorkDone || len(us2) != 1 || us2[0].RunID != "r2" {
		t.Errorf("collected run: %s, %d transitions, work %+v, uploads %+v", got.State, len(got.History), ws, us2)
	}
	wantErr(t, "the same run again", s.CreateCollectedRun(ctx, r, work, ups), store.ErrExists)
	bad := fleet.NewRun("r3", "p1", t0)
	if err := s.CreateCollectedRun(ctx, bad, work, []store.Upload{{AgentID: "a1", Kind: "inventory", Key: "k", SHA256: "no-such-blob", Received: t0}}); err == nil {
		t.Error("an upload of a blob not stored was accepted")
	}
	_, err = s.Run(ctx, "r3")
	wantErr(t, "the run of a failed insert", err, store.ErrNotFound)

	_, err = s.Setting(ctx, "feeds")
	wantErr(t, "an unset setting", err, store.ErrNotFound)
	mustNil(t, s.SetSetting(ctx, "feeds", "g1"))
	mustNil(t, s.SetSetting(ctx, "feeds", "g2"))
	mustNil(t, s.Close())
	s2 := reopen()
	defer s2.Close()
	v, err := s2.Setting(ctx, "feeds")
	if err != nil || v != "g2" {
		t.Errorf("setting after reopening: %q, %v", v, err)
	}
}
