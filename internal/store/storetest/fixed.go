package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kensa-dev/kensa/internal/finding"
	"github.com/kensa-dev/kensa/internal/fleet"
	"github.com/kensa-dev/kensa/internal/store"
)

// finish moves a run from CREATED through every state to final.
func finish(t *testing.T, s store.Store, id string, final fleet.RunState, at time.Time) {
	t.Helper()
	from := fleet.RunCreated
	path := []fleet.RunState{fleet.RunStartDataCollectionPending, fleet.RunCollectingData, fleet.RunDataCollected, fleet.RunEvaluatingRules, final}
	if final == fleet.RunFailed {
		path = []fleet.RunState{fleet.RunFailed}
	}
	for _, to := range path {
		reason := ""
		if to == fleet.RunCompletedWithErrors || to == fleet.RunFailed {
			reason = "an agent failed"
		}
		mustNil(t, move(t, s, id, from, to, at, reason))
		from = to
	}
}

// work records agents' work in a run, each in its final status.
func work(t *testing.T, s store.Store, run string, status map[string]string) {
	t.Helper()
	ctx := context.Background()
	for agent, st := range status {
		mustNil(t, s.AssignRun(ctx, run, []store.RunAgent{{AgentID: agent, Packages: []string{"cve", "cis"}, Updated: t0}}))
		mustNil(t, s.SetWork(ctx, run, agent, []string{store.WorkPending}, st, "", t0))
	}
}

// A finding of the previous run is fixed in a run that does not have it
// and evaluated its rules package completely on the agent; nothing is
// fixed in a package the run did not evaluate whole, nor on an agent
// whose work in the run is not done. The previous run is the latest
// completed one of the template in which the agent's work was done, a
// re-evaluation included; runs of other templates, failed runs and runs
// where the agent's work failed are passed over. New and recurring
// filter the run's own findings.
func testFixedFindings(t *testing.T, open Opener) {
	ctx := context.Background()
	s, _ := open(t)
	setup(t, s)
	mustNil(t, s.CreateTemplate(ctx, template("p2", "daily", "t1")))
	for _, a := range []fleet.Agent{agent("a1", "db-1"), agent("a2", "db-2"), agent("a3", "db-3")} {
		mustNil(t, s.CreateAgent(ctx, a))
	}
	mustNil(t, s.PutBlob(ctx, "rep", []byte("{}")))
	save := func(run, agent string, at time.Time, standing []finding.Finding, suppressed ...finding.Finding) {
		t.Helper()
		var sup []store.SuppressedFinding
		for _, f := range suppressed {
			sup = append(sup, store.SuppressedFinding{Finding: f, By: store.FindingSuppression{ID: "sup-1", Reason: "accepted", Owner: "security"}})
		}
		mustNil(t, s.SaveResults(ctx, run, agent, "rep", standing, sup, at))
	}
	f1 := found("f1", finding.High, "cis", "cis-1.1")
	f2 := found("f2", finding.Medium, "cis", "cis-1.2")
	f3 := found("f3", finding.High, "cve", "cve/Debian")
	f4 := found("f4", finding.Low, "cis", "cis-1.4")
	f5 := found("f5", finding.High, "cis", "cis-1.5")
	f6 := found("f6", finding.High, "cis", "cis-1.6")

	// P (r1): a1 has f1, f2 (cis), f3 (cve) and f4 (cis, suppressed);
	// a3 has f5 (cis).
	mustNil(t, s.CreateRun(ctx, fleet.NewRun("r1", "p1", t0)))
	work(t, s, "r1", map[string]string{"a1": store.WorkDone, "a3": store.WorkDone})
	save("r1", "a1", t0, []finding.Finding{f1, f2, f3}, f4)
	save("r1", "a3", t0, []finding.Finding{f5})
	finish(t, s, "r1", fleet.RunCompleted, t0)
	// Runs between P and R that are not P: a1 done in a run of another
	// template, done in a FAILED run, failed in a completed run. Each
	// found f2 (or nothing), so f2 would not be fixed were any of them
	// taken for P.
	mustNil(t, s.CreateRun(ctx, fleet.NewRun("r1-other", "p2", t0.Add(10*time.Minute))))
	work(t, s, "r1-other", map[string]string{"a1": store.WorkDone})
	save("r1-other", "a1", t0.Add(10*time.Minute), []finding.Finding{f2, f6})
	finish(t, s, "r1-other", fleet.RunCompleted, t0.Add(10*time.Minute))
	mustNil(t, s.CreateRun(ctx, fleet.NewRun("r1-failed", "p1", t0.Add(20*time.Minute))))
	work(t, s, "r1-failed", map[string]string{"a1": store.WorkDone})
	save("r1-failed", "a1", t0.Add(20*time.Minute), []finding.Finding{f2})
	finish(t, s, "r1-failed", fleet.RunFailed, t0.Add(20*time.Minute))
	mustNil(t, s.CreateRun(ctx, fleet.NewRun("r1-agent-failed", "p1", t0.Add(30*time.Minute))))
	work(t, s, "r1-agent-failed", map[string]string{"a1": store.WorkFailed, "a3": store.WorkDone})
	save("r1-agent-failed", "a3", t0.Add(30*time.Minute), []finding.Finding{f5})
	finish(t, s, "r1-agent-failed", fleet.RunCompletedWithErrors, t0.Add(30*time.Minute))

	// R (r2): a1 has f1 only, suppressed (it is there all the same), and
	// f6, new to this template; its report says cis evaluated, cve
	// not_evaluated. a3's work failed: its map entry fixes nothing. a2
	// had no work in either run.
	mustNil(t, s.CreateRun(ctx, fleet.NewRun("r2", "p1", t0.Add(time.Hour))))
	work(t, s, "r2", map[string]string{"a1": store.WorkDone, "a3": store.WorkFailed})
	save("r2", "a1", t0.Add(time.Hour), []finding.Finding{f6}, f1)
	finish(t, s, "r2", fleet.RunCompletedWithErrors, t0.Add(time.Hour))
	evaluated := map[string][]string{"a1": {"cis"}, "a2": {"cis", "cve"}, "a3": {"cis", "cve"}}

	fixed := func(what string, f store.FindingFilter, evaluated map[string][]string, want ...string) []store.StoredFinding {
		t.Helper()
		got, err := s.FixedFindings(ctx, f, evaluated)
		mustNil(t, err)
		if want == nil {
			want = []string{}
		}
		if diff := cmp.Diff(want, ids(got)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", what, diff)
		}
		return got
	}
	got := fixed("fixed in r2", store.FindingFilter{RunID: "r2"}, evaluated, "r2/a1/f2")
	if len(got) == 1 {
		g := got[0]
		if g.PreviousRun != "r1" || g.Finding.Title != "title f2" || g.Finding.Severity != finding.Medium || g.FirstRun != "r1" ||
			g.LastRun != "r1-failed" || !g.FirstSeen.Equal(us) || !g.LastSeen.Equal(us.Add(20*time.Minute)) || g.Suppression != nil {
			t.Errorf("f2 fixed: %+v", g)
		}
	}
	only := fixed("fixed in r2, suppressed in r1", store.FindingFilter{RunID: "r2", Suppressed: store.OnlySuppressed}, evaluated, "r2/a1/f4")
	if len(only) == 1 && (only[0].Suppression == nil || only[0].Suppression.ID != "sup-1" || only[0].PreviousRun != "r1") {
		t.Errorf("f4 fixed keeps its suppression: %+v", only[0])
	}
	fixed("fixed in r2, suppressed too", store.FindingFilter{RunID: "r2", Suppressed: store.IncludeSuppressed, Status: store.FindingFixed}, evaluated,
		"r2/a1/f2", "r2/a1/f4")
	fixed("cve evaluated too", store.FindingFilter{RunID: "r2"}, map[string][]string{"a1": {"cve", "cis", "cis"}}, "r2/a1/f2", "r2/a1/f3")
	fixed("nothing evaluated", store.FindingFilter{RunID: "r2"}, nil)
	fixed("only a3, whose work failed", store.FindingFilter{RunID: "r2"}, map[string][]string{"a3": {"cis", "cve"}})
	fixed("the first run fixes nothing", store.FindingFilter{RunID: "r1"}, evaluated)
	fixed("an unknown run", store.FindingFilter{RunID: "nope"}, evaluated)
	// Filters apply to the previous run's finding.
	all := map[string][]string{"a1": {"cis", "cve"}}
	inc := store.FindingFilter{RunID: "r2", Suppressed: store.IncludeSuppressed}
	f := inc
	f.Severities = []finding.Severity{finding.High}
	fixed("severity high", f, all, "r2/a1/f3")
	f = inc
	f.RulesPackage, f.RuleID = "cis", "cis-1.4"
	fixed("package and rule", f, all, "r2/a1/f4")
	f = inc
	f.AgentID = "a3"
	fixed("another agent", f, all)
	f = inc
	f.Attributes = map[string]string{"target": "f3"}
	fixed("an attribute", f, all, "r2/a1/f3")
	f = inc
	f.Tags = map[string]string{"env": "dev"}
	fixed("a tag no agent has", f, all)
	f = inc
	f.Since = t0.Add(15 * time.Minute) // f2 was last seen at t0+20m, the others at t0
	fixed("since", f, all, "r2/a1/f2")
	// Pages of one hold what one page holds.
	var paged []string
	f = inc
	for range 10 {
		f.Limit = 1
		page, err := s.FixedFindings(ctx, f, all)
		mustNil(t, err)
		if len(page) == 0 {
			break
		}
		paged = append(paged, ids(page)...)
		f.After = page[len(page)-1].Cursor()
	}
	if diff := cmp.Diff([]string{"r2/a1/f2", "r2/a1/f3", "r2/a1/f4"}, paged); diff != "" {
		t.Errorf("pages of one (-want +got):\n%s", diff)
	}
	if _, err := s.FixedFindings(ctx, store.FindingFilter{}, all); err == nil {
		t.Error("fixed findings without a run")
	}
	if _, err := s.FixedFindings(ctx, store.FindingFilter{RunID: "r2", Status: store.FindingNew}, all); err == nil {
		t.Error("fixed findings with status new")
	}
	if _, err := s.FixedFindings(ctx, store.FindingFilter{RunID: "r2", After: "r1\x00a1\x00f2"}, all); err == nil {
		t.Error("a cursor of another run")
	}

	// A re-evaluation (r3, made with its work done) is a run of the
	// template: it is the previous run of r4. It found f1 and f3 on a1;
	// r4 found nothing and evaluated everything.
	r3 := fleet.NewRun("r3", "p1", t0.Add(2*time.Hour))
	for _, to := range []fleet.RunState{fleet.RunStartDataCollectionPending, fleet.RunCollectingData, fleet.RunDataCollected} {
		tr, err := fleet.Move(r3.State, to, r3.Created, "re-evaluation of r2")
		mustNil(t, err)
		r3.History, r3.State = append(r3.History, tr), to
	}
	mustNil(t, s.CreateCollectedRun(ctx, r3, []store.RunAgent{{AgentID: "a1", Packages: []string{"cve", "cis"}, Status: store.WorkDone, Updated: t0}}, nil))
	save("r3", "a1", t0.Add(2*time.Hour), []finding.Finding{f1, f3})
	for _, st := range [][2]fleet.RunState{{fleet.RunDataCollected, fleet.RunEvaluatingRules}, {fleet.RunEvaluatingRules, fleet.RunCompleted}} {
		mustNil(t, move(t, s, "r3", st[0], st[1], t0.Add(2*time.Hour), ""))
	}
	mustNil(t, s.CreateRun(ctx, fleet.NewRun("r4", "p1", t0.Add(3*time.Hour))))
	work(t, s, "r4", map[string]string{"a1": store.WorkDone})
	save("r4", "a1", t0.Add(3*time.Hour), nil)
	// r4 still evaluating: its findings are stored; fixed does not wait
	// for the run's end.
	got = fixed("fixed in r4, after the re-evaluation", store.FindingFilter{RunID: "r4"}, all, "r4/a1/f1", "r4/a1/f3")
	for _, g := range got {
		if g.PreviousRun != "r3" || g.RunID != "r4" {
			t.Errorf("fixed in r4: %+v", g)
		}
	}

	// New and recurring: r2's own findings, f6 first seen in another
	// template's run (recurring), f1 (suppressed, recurring).
	check := func(what string, f store.FindingFilter, want ...string) {
		t.Helper()
		got, err := s.Findings(ctx, f)
		mustNil(t, err)
		if want == nil {
			want = []string{}
		}
		if diff := cmp.Diff(want, ids(got)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", what, diff)
		}
	}
	check("new in r1", store.FindingFilter{RunID: "r1", Status: store.FindingNew, Suppressed: store.IncludeSuppressed},
		"r1/a1/f1", "r1/a1/f2", "r1/a1/f3", "r1/a1/f4", "r1/a3/f5")
	check("recurring in r1", store.FindingFilter{RunID: "r1", Status: store.FindingRecurring})
	check("recurring in r2", store.FindingFilter{RunID: "r2", Status: store.FindingRecurring, Suppressed: store.IncludeSuppressed}, "r2/a1/f1", "r2/a1/f6")
	check("new on a1 anywhere", store.FindingFilter{AgentID: "a1", Status: store.FindingNew}, "r1/a1/f1", "r1/a1/f2", "r1/a1/f3", "r1-other/a1/f6")
	if _, err := s.Findings(ctx, store.FindingFilter{RunID: "r2", Status: store.FindingFixed}); err == nil {
		t.Error("Findings with status fixed")
	}
	if _, err := s.Findings(ctx, store.FindingFilter{Status: "gone"}); err == nil {
		t.Error("Findings with an unknown status")
	}
}
