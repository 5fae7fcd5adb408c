package server

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/kensa-dev/kensa/internal/fleet"
	"github.com/kensa-dev/kensa/internal/store"
)

// seed stores agents, a target selecting env=prod and a 20 s template.
func (f *fixture) seed(agents ...fleet.Agent) {
	f.t.Helper()
	ctx := context.Background()
	for _, a := range agents {
		if err := f.store.CreateAgent(ctx, a); err != nil {
			f.t.Fatal(err)
		}
	}
	if err := f.store.CreateTarget(ctx, fleet.Target{ID: "tgt", Name: "prod", Selector: fleet.Selector{"env": "prod"}, Created: t0}); err != nil {
		f.t.Fatal(err)
	}
	if err := f.store.CreateTemplate(ctx, fleet.Template{ID: "tpl", Name: "t", TargetID: "tgt", Packages: []string{"cve"}, Duration: 20 * time.Second, Created: t0}); err != nil {
		f.t.Fatal(err)
	}
}

func healthy(id string, tags fleet.Tags) fleet.Agent {
	return fleet.Agent{ID: id, Hostname: id, Tags: tags, OS: "debian:12", Live: true, Health: fleet.Healthy, Reason: fleet.ReasonIdle, LastSeen: t0, Enrolled: t0}
}

func (f *fixture) start(id string) {
	f.t.Helper()
	if err := f.store.CreateRun(context.Background(), fleet.NewRun(id, "tpl", f.srv.cfg.Now())); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) step() {
	f.t.Helper()
	if err := f.engine.Step(context.Background()); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) run(id string) fleet.Run {
	f.t.Helper()
	r, err := f.store.Run(context.Background(), id)
	if err != nil {
		f.t.Fatal(err)
	}
	return r
}

// A target whose agents are all excluded fails the run at once, with the
// exclusions recorded: nobody waits for the deadline to learn it.
func TestRunWithoutAssessableAgentsFails(t *testing.T) {
	f := newFixture(t)
	silent := healthy("a2", fleet.Tags{"env": "prod"})
	silent.LastSeen = t0.Add(-time.Hour)
	f.seed(silent, healthy("a3", fleet.Tags{"env": "dev"}))
	f.start("r1")
	f.step()
	r := f.run("r1")
	if r.State != fleet.RunFailed || len(r.Exclusions) != 1 || r.Exclusions[0].Reason != fleet.ExcludedUnhealthy ||
		!strings.Contains(r.History[len(r.History)-1].Reason, "no agent can be assessed") {
		t.Errorf("run: %s %+v %q", r.State, r.Exclusions, r.History[len(r.History)-1].Reason)
	}
}

// Agents that never take the work, or never finish, are failed at the
// deadline (window + grace), and the run ends without them.
func TestRunDeadline(t *testing.T) {
	f := newFixture(t)
	f.seed(healthy("a1", fleet.Tags{"env": "prod"}), healthy("a2", fleet.Tags{"env": "prod"}))
	f.start("r1")
	f.step()
	ctx := context.Background()
	if err := f.store.SetWork(ctx, "r1", "a1", []string{store.WorkPending}, store.WorkCollecting, "", t0); err != nil {
		t.Fatal(err)
	}
	f.step()
	if r := f.run("r1"); r.State != fleet.RunCollectingData {
		t.Fatalf("after a1 took the work: %s", r.State)
	}
	f.advance(20*time.Second + time.Minute - time.Millisecond)
	f.step()
	if r := f.run("r1"); r.State != fleet.RunCollectingData {
		t.Fatalf("before the deadline: %s", r.State)
	}
	f.advance(time.Millisecond)
	f.step()
	r := f.run("r1")
	if r.State != fleet.RunFailed {
		t.Fatalf("at the deadline with no data: %s", r.State)
	}
	ws, _ := f.store.RunAgents(ctx, "r1")
	for _, w := range ws {
		if w.Status != store.WorkFailed || !strings.Contains(w.Error, "deadline") {
			t.Errorf("work of %s: %s %q", w.AgentID, w.Status, w.Error)
		}
	}
}

// Stopping: without evaluating, the run is canceled and its agents' work
// too; an agent busy in one run is excluded from another.
func TestStopAndBusy(t *testing.T) {
	f := newFixture(t)
	f.seed(healthy("a1", fleet.Tags{"env": "prod"}))
	f.start("r1")
	f.step()
	f.start("r2")
	f.step()
	r2 := f.run("r2")
	if r2.State != fleet.RunFailed || len(r2.Exclusions) != 1 || r2.Exclusions[0].Reason != fleet.ExcludedBusy || !strings.Contains(r2.Exclusions[0].Detail, "r1") {
		t.Errorf("second run while a1 is busy: %s %+v", r2.State, r2.Exclusions)
	}
	if err := f.engine.Stop(context.Background(), "r1", false, "tester"); err != nil {
		t.Fatal(err)
	}
	r1 := f.run("r1")
	ws, _ := f.store.RunAgents(context.Background(), "r1")
	if r1.State != fleet.RunCanceled || ws[0].Status != store.WorkCanceled {
		t.Errorf("canceled run: %s, work %s", r1.State, ws[0].Status)
	}
	if err := f.engine.Stop(context.Background(), "r1", true, "tester"); err == nil {
		t.Error("stopping a canceled run succeeded")
	}
}

// The engine keeps no state of its own: a second engine on the same
// store (a restarted server) carries a run on from where the first left
// it.
func TestEngineRestart(t *testing.T) {
	f := newFixture(t)
	f.seed(healthy("a1", fleet.Tags{"env": "prod"}))
	f.start("r1")
	f.step()
	other := NewEngine(f.engine.cfg)
	if err := f.store.SetWork(context.Background(), "r1", "a1", []string{store.WorkPending}, store.WorkFailed, "agent crashed", t0); err != nil {
		t.Fatal(err)
	}
	if err := other.Step(context.Background()); err != nil {
		t.Fatal(err)
	}
	r := f.run("r1")
	if r.State != fleet.RunFailed || !strings.Contains(r.History[len(r.History)-1].Reason, "agent crashed") {
		t.Errorf("after the second engine: %s %q", r.State, r.History[len(r.History)-1].Reason)
	}
}
