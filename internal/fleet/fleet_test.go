package fleet

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var t0 = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

// The happy path, and stopping: every state reachable from CREATED, and
// nothing leaves a final state.
func TestRunStateMachine(t *testing.T) {
	path := []RunState{RunCreated, RunStartDataCollectionPending, RunCollectingData, RunDataCollected, RunEvaluatingRules, RunCompleted}
	for i := 1; i < len(path); i++ {
		if _, err := Move(path[i-1], path[i], t0, ""); err != nil {
			t.Errorf("%s → %s: %v", path[i-1], path[i], err)
		}
	}
	for _, s := range RunStates() {
		if !s.Valid() {
			t.Errorf("%s not valid", s)
		}
		if s.Final() && len(next[s]) != 0 {
			t.Errorf("final state %s has transitions", s)
		}
		if !s.Final() && !CanMove(s, RunFailed) {
			t.Errorf("%s cannot fail", s)
		}
	}
	if RunState("DONE").Valid() {
		t.Error("unknown state valid")
	}
	// Backwards, skipping, and out of a final state are refused.
	for _, tt := range []struct{ from, to RunState }{
		{RunCollectingData, RunCreated},
		{RunCreated, RunCollectingData},
		{RunCompleted, RunEvaluatingRules},
		{RunCanceled, RunStartDataCollectionPending},
		{RunEvaluatingRules, RunCanceled}, // stopping during evaluation lets it finish
	} {
		_, err := Move(tt.from, tt.to, t0, "x")
		var te *ErrTransition
		if !errors.As(err, &te) {
			t.Errorf("%s → %s: %v, want ErrTransition", tt.from, tt.to, err)
		}
	}
	if _, err := Move(RunCompleted, RunFailed, t0, "x"); err == nil || !strings.Contains(err.Error(), "it is over") {
		t.Errorf("out of a final state: %v", err)
	}
	// Ending badly needs a reason.
	for _, to := range []RunState{RunFailed, RunCanceled} {
		if _, err := Move(RunCollectingData, to, t0, ""); err == nil {
			t.Errorf("→ %s without a reason accepted", to)
		}
	}
	if _, err := Move(RunEvaluatingRules, RunCompletedWithErrors, t0, ""); err == nil {
		t.Error("→ COMPLETED_WITH_ERRORS without a reason accepted")
	}
	tr, err := Move(RunCollectingData, RunCanceled, t0.In(time.FixedZone("x", 3600)), "stopped by admin")
	if err != nil || tr.At.Location() != time.UTC || tr.Reason != "stopped by admin" || tr.From != RunCollectingData {
		t.Errorf("Move = %+v, %v", tr, err)
	}
}

func TestParseTags(t *testing.T) {
	got, err := ParseTags([]string{"env=prod", "role=db", "team/owner=sec-ops", "empty="})
	if err != nil {
		t.Fatal(err)
	}
	want := Tags{"env": "prod", "role": "db", "team/owner": "sec-ops", "empty": ""}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Error(diff)
	}
	for _, bad := range [][]string{{"env"}, {"=prod"}, {"env=a", "env=b"}, {"-x=1"}, {"a b=1"}, {"k=\x1b[31m"}, {"k=" + strings.Repeat("v", 257)}} {
		if _, err := ParseTags(bad); err == nil {
			t.Errorf("ParseTags(%q) accepted", bad)
		}
	}
}

func TestSelector(t *testing.T) {
	s := Selector{"env": "prod", "role": "db"}
	for _, tt := range []struct {
		tags Tags
		want bool
	}{
		{Tags{"env": "prod", "role": "db"}, true},
		{Tags{"env": "prod", "role": "db", "zone": "a"}, true},
		{Tags{"env": "prod"}, false},
		{Tags{"env": "Prod", "role": "db"}, false},
		{nil, false},
	} {
		if got := s.Matches(tt.tags); got != tt.want {
			t.Errorf("%v matches %v = %v", s, tt.tags, got)
		}
	}
	if (Selector{}).Matches(Tags{"env": "prod"}) {
		t.Error("an empty selector matched")
	}
	if !(Target{All: true}).Selects(nil) {
		t.Error("an all-agents target did not select")
	}
}

func TestTargetAndTemplateCheck(t *testing.T) {
	good := Target{Name: "prod dbs", Selector: Selector{"env": "prod"}}
	if err := good.Check(); err != nil {
		t.Error(err)
	}
	for _, bad := range []Target{
		{Name: "", Selector: Selector{"env": "prod"}},
		{Name: "x"},
		{Name: "x", All: true, Selector: Selector{"env": "prod"}},
		{Name: "x\n", Selector: Selector{"env": "prod"}},
		{Name: "x", Selector: Selector{"bad key": "v"}},
	} {
		if bad.Check() == nil {
			t.Errorf("target %+v accepted", bad)
		}
	}
	tpl := Template{Name: "weekly", TargetID: "t1", Packages: []string{"cve", "runtime"}, Duration: 20 * time.Second, Attributes: map[string]string{"ticket": "SEC-1"}}
	if err := tpl.Check(); err != nil {
		t.Error(err)
	}
	for name, mutate := range map[string]func(*Template){
		"no target":      func(t *Template) { t.TargetID = "" },
		"no packages":    func(t *Template) { t.Packages = nil },
		"unknown":        func(t *Template) { t.Packages = []string{"stig"} },
		"twice":          func(t *Template) { t.Packages = []string{"cve", "cve"} },
		"too short":      func(t *Template) { t.Duration = 9 * time.Second },
		"too long":       func(t *Template) { t.Duration = 25 * time.Hour },
		"bad attribute":  func(t *Template) { t.Attributes = map[string]string{"": "x"} },
		"control in val": func(t *Template) { t.Attributes = map[string]string{"k": "a\x00b"} },
	} {
		c := tpl
		mutate(&c)
		if c.Check() == nil {
			t.Errorf("%s: template accepted", name)
		}
	}
}

func TestAgentHealth(t *testing.T) {
	a := Agent{Health: Healthy, Reason: ReasonIdle, LastSeen: t0}
	if h, r := a.HealthAt(t0.Add(HeartbeatTimeout)); h != Healthy || r != ReasonIdle {
		t.Errorf("at the timeout: %s %s", h, r)
	}
	if h, r := a.HealthAt(t0.Add(HeartbeatTimeout + time.Second)); h != Unknown || r != ReasonNoHeartbeat {
		t.Errorf("past the timeout: %s %s", h, r)
	}
	a.Revoked = true
	if h, r := a.HealthAt(t0); h != Unhealthy || r != ReasonRevoked {
		t.Errorf("revoked: %s %s", h, r)
	}
}

// support is a Support with fixed answers: CIS only for debian:12, no
// feed for alpine, runtime only on live hosts.
type support struct{}

func (support) Supports(pkg string, a Agent) (bool, ExclusionReason, string) {
	switch {
	case pkg == "cis" && a.OS != "debian:12":
		return false, ExcludedUnsupportedOS, "no CIS rules for " + a.OS
	case pkg == "cve" && strings.HasPrefix(a.OS, "alpine"):
		return false, ExcludedNoFeedData, "no advisories for Alpine:v3.20"
	case pkg == "runtime" && !a.Live:
		return false, ExcludedNotLive, "an image has no running system"
	}
	return true, "", ""
}

func TestPlan(t *testing.T) {
	seen := t0.Add(-10 * time.Second)
	agent := func(id, host, os string, live bool, tags Tags) Agent {
		return Agent{ID: id, Hostname: host, OS: os, Live: live, Tags: tags, Health: Healthy, Reason: ReasonIdle, LastSeen: seen}
	}
	prod := Tags{"env": "prod"}
	silent := agent("a5", "e-silent", "debian:12", true, prod)
	silent.LastSeen = t0.Add(-time.Hour)
	agents := []Agent{
		agent("a3", "c-image", "debian:12", false, prod),
		agent("a1", "a-db", "debian:12", true, prod),
		agent("a2", "b-alpine", "alpine:3.20", true, prod),
		agent("a4", "d-busy", "debian:12", true, prod),
		silent,
		agent("a6", "f-staging", "debian:12", true, Tags{"env": "staging"}),
	}
	tpl := Template{Packages: []string{"runtime", "cis", "cve", "best-practices"}}
	assigned, excluded := Plan(tpl, Target{Selector: Selector{"env": "prod"}}, agents, map[string]string{"a4": "run-7"}, support{}, t0)

	var gotA []string
	for _, a := range assigned {
		gotA = append(gotA, a.Agent.ID+":"+strings.Join(a.Packages, ","))
	}
	wantA := []string{"a1:cve,cis,best-practices,runtime", "a2:best-practices,runtime", "a3:cve,cis,best-practices"}
	if diff := cmp.Diff(wantA, gotA); diff != "" {
		t.Errorf("assignments (-want +got):\n%s", diff)
	}
	var gotE []string
	for _, e := range excluded {
		gotE = append(gotE, e.AgentID+":"+e.Package+":"+string(e.Reason))
	}
	wantE := []string{"a2:cve:NO_FEED_DATA", "a2:cis:UNSUPPORTED_OS", "a3:runtime:NOT_A_LIVE_HOST", "a4::AGENT_BUSY", "a5::AGENT_UNHEALTHY"}
	if diff := cmp.Diff(wantE, gotE); diff != "" {
		t.Errorf("exclusions (-want +got):\n%s", diff)
	}
	if !strings.Contains(excluded[3].Detail, "run-7") || !strings.Contains(excluded[4].Detail, "UNKNOWN (NO_HEARTBEAT)") {
		t.Errorf("details: %q, %q", excluded[3].Detail, excluded[4].Detail)
	}
}
