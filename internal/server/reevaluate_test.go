package server

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/kensa-dev/kensa/internal/agentapi"
	"github.com/kensa-dev/kensa/internal/assess"
	"github.com/kensa-dev/kensa/internal/fleet"
	"github.com/kensa-dev/kensa/internal/store"
	"github.com/kensa-dev/kensa/internal/testfixture"
)

// completeRunOf stores a run of template tpl whose one agent (a1)
// uploaded a real inventory, and evaluates it.
func (f *fixture) completeRunOf(id, tpl string) {
	f.t.Helper()
	ctx := context.Background()
	root := testfixture.Shared(f.t, "fixtures", "pkgdb", "dpkg", "debian-12-this-host")
	inv, err := assess.Inventory(ctx, assess.Options{Root: root, Packages: []string{"cis"}})
	if err != nil {
		f.t.Fatal(err)
	}
	doc, _ := json.Marshal(inv)
	sum, blob, err := compress(doc)
	if err != nil {
		f.t.Fatal(err)
	}
	must := func(err error) {
		f.t.Helper()
		if err != nil {
			f.t.Fatal(err)
		}
	}
	must(f.store.PutBlob(ctx, sum, blob))
	must(f.store.CreateRun(ctx, fleet.NewRun(id, tpl, f.srv.cfg.Now())))
	f.step() // planned: the agent's work is pending
	must(f.store.SetWork(ctx, id, "a1", []string{store.WorkPending}, store.WorkCollecting, "", t0))
	_, err = f.store.PutUpload(ctx, store.Upload{RunID: id, AgentID: "a1", Kind: agentapi.KindInventory, Key: "k-" + id, SHA256: sum, Received: t0})
	must(err)
	must(f.store.SetWork(ctx, id, "a1", []string{store.WorkCollecting}, store.WorkDone, "", t0))
	f.step()
	if r := f.run(id); r.State != fleet.RunCompleted {
		f.t.Fatalf("run %s: %s", id, r.State)
	}
}

// A change of the vulnerability database's generation re-evaluates the
// latest completed run of every template from the documents stored, in
// a new run, without any agent: the findings come back recurring. The
// first generation seen is only recorded; the same generation again does
// nothing.
func TestReevaluateOnFeedChange(t *testing.T) {
	f := newFixture(t)
	f.seed(healthy("a1", fleet.Tags{"env": "prod"}))
	ctx := context.Background()
	// The fixture's template is for cve; use a cis one so the fixture
	// root has findings without a vulnerability database.
	if err := f.store.CreateTemplate(ctx, fleet.Template{ID: "tpl-cis", Name: "cis", TargetID: "tgt", Packages: []string{"cis"}, Duration: 20 * time.Second, Created: t0}); err != nil {
		t.Fatal(err)
	}
	f.completeRunOf("r1", "tpl-cis")
	before, _ := f.store.Findings(ctx, store.FindingFilter{RunID: "r1"})
	if len(before) == 0 {
		t.Fatal("the first run found nothing")
	}

	gen := "g1"
	f.engine.cfg.FeedsGeneration = func(context.Context) (string, error) { return gen, nil }
	if err := f.engine.checkFeeds(ctx); err != nil {
		t.Fatal(err)
	}
	if runs, _ := f.store.Runs(ctx); len(runs) != 1 {
		t.Fatalf("the first generation seen started %d runs", len(runs)-1)
	}
	gen = "g2"
	f.advance(time.Hour)
	if err := f.engine.checkFeeds(ctx); err != nil {
		t.Fatal(err)
	}
	runs, _ := f.store.Runs(ctx)
	if len(runs) != 2 {
		t.Fatalf("after the database changed: %d runs, want 2", len(runs))
	}
	re := runs[0]
	if re.State != fleet.RunDataCollected || !strings.Contains(re.History[0].Reason, "re-evaluation of run r1") {
		t.Fatalf("re-evaluation run: %s %q", re.State, re.History[0].Reason)
	}
	f.step()
	re = f.run(re.ID)
	if re.State != fleet.RunCompleted {
		t.Fatalf("re-evaluation run ended %s (%s)", re.State, re.History[len(re.History)-1].Reason)
	}
	after, _ := f.store.Findings(ctx, store.FindingFilter{RunID: re.ID})
	if len(after) != len(before) || after[0].FirstRun != "r1" || after[0].LastRun != re.ID {
		t.Errorf("re-evaluated findings: %d (was %d), first run %s", len(after), len(before), after[0].FirstRun)
	}
	if err := f.engine.checkFeeds(ctx); err != nil {
		t.Fatal(err)
	}
	if runs, _ := f.store.Runs(ctx); len(runs) != 2 {
		t.Errorf("the same generation again started a run")
	}
	// Only completed runs can be evaluated again.
	f.start("r9")
	if _, err := f.engine.Reevaluate(ctx, "r9", "test"); !errors.Is(err, store.ErrConflict) {
		t.Errorf("re-evaluating a CREATED run: %v", err)
	}
}
