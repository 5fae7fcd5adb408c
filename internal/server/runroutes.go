package server

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/danielgtaylor/huma/v2"

	"github.com/kensa-dev/kensa/internal/agentapi"
	"github.com/kensa-dev/kensa/internal/auth"
	"github.com/kensa-dev/kensa/internal/finding"
	"github.com/kensa-dev/kensa/internal/fleet"
	"github.com/kensa-dev/kensa/internal/store"
)

func (s *Server) runRoutes() {
	huma.Register(s.api, op("start-run", http.MethodPost, "/runs", "Start a run of a template", string(auth.Operator), "runs"), s.startRun)
	huma.Register(s.api, op("list-runs", http.MethodGet, "/runs", "List runs, newest first", string(auth.Viewer), "runs"), s.listRuns)
	huma.Register(s.api, op("get-run", http.MethodGet, "/runs/{id}", "Show a run: state, history, exclusions, agents' work", string(auth.Viewer), "runs"), s.getRun)
	huma.Register(s.api, op("stop-run", http.MethodPost, "/runs/{id}/stop", "Stop a run, evaluating what was collected or not", string(auth.Operator), "runs"), s.stopRun)
	huma.Register(s.api, op("reevaluate-run", http.MethodPost, "/runs/{id}/reevaluate", "Evaluate a completed run's documents again (a new run; no agent is contacted)", string(auth.Operator), "runs"), s.reevaluateRun)
	huma.Register(s.api, op("list-findings", http.MethodGet, "/findings", "List findings, filtered, a page at a time", string(auth.Viewer), "findings"), s.listFindings)
	huma.Register(s.api, op("get-report", http.MethodGet, "/runs/{id}/reports/{agent}", "The canonical JSON report of one agent in a run", string(auth.Viewer), "runs"), s.getReport)
}

type startRunInput struct {
	Body struct {
		TemplateID string `json:"template_id" minLength:"1" maxLength:"64"`
	}
}

// runView is a run as the API shows it, with each agent's work.
type runView struct {
	fleet.Run
	Agents []workView `json:"agents"`
}

type workView struct {
	AgentID  string   `json:"agent_id"`
	Packages []string `json:"packages"`
	Status   string   `json:"status" enum:"pending,collecting,done,failed,canceled"`
	Error    string   `json:"error,omitempty"`
	Findings *int     `json:"findings,omitempty"`
}

type runOutput struct{ Body runView }

func (s *Server) runView(ctx context.Context, r fleet.Run) (runView, error) {
	v := runView{Run: r, Agents: []workView{}}
	if v.Assignments == nil {
		v.Assignments = []fleet.Assignment{}
	}
	if v.Exclusions == nil {
		v.Exclusions = []fleet.Exclusion{}
	}
	ws, err := s.cfg.Store.RunAgents(ctx, r.ID)
	if err != nil {
		return v, err
	}
	reps, err := s.cfg.Store.RunReports(ctx, r.ID)
	if err != nil {
		return v, err
	}
	counts := map[string]int{}
	for _, rep := range reps {
		counts[rep.AgentID] = rep.Findings
	}
	for _, w := range ws {
		wv := workView{AgentID: w.AgentID, Packages: w.Packages, Status: w.Status, Error: w.Error}
		if n, ok := counts[w.AgentID]; ok {
			wv.Findings = &n
		}
		v.Agents = append(v.Agents, wv)
	}
	return v, nil
}

func (s *Server) startRun(ctx context.Context, in *startRunInput) (*runOutput, error) {
	if _, err := s.cfg.Store.Template(ctx, in.Body.TemplateID); err != nil {
		return nil, storeErr(err, "template")
	}
	r := fleet.NewRun(s.cfg.NewID("run"), in.Body.TemplateID, s.cfg.Now())
	if err := s.cfg.Store.CreateRun(ctx, r); err != nil {
		return nil, err
	}
	by, _ := identityFrom(ctx)
	s.cfg.Log.Info("run started", "run", r.ID, "template", r.TemplateID, "by", by.TokenID)
	s.cfg.Engine.Poke()
	v, err := s.runView(ctx, r)
	if err != nil {
		return nil, err
	}
	return &runOutput{Body: v}, nil
}

type listRunsInput struct {
	State string `query:"state" doc:"Only runs in this state"`
}

type runsOutput struct {
	Body struct {
		Runs []runView `json:"runs"`
	}
}

func (s *Server) listRuns(ctx context.Context, in *listRunsInput) (*runsOutput, error) {
	var states []fleet.RunState
	if in.State != "" {
		st := fleet.RunState(strings.ToUpper(in.State))
		if !st.Valid() {
			return nil, huma.Error422UnprocessableEntity("state " + in.State + ": unknown")
		}
		states = append(states, st)
	}
	runs, err := s.cfg.Store.Runs(ctx, states...)
	if err != nil {
		return nil, err
	}
	out := &runsOutput{}
	out.Body.Runs = []runView{}
	for _, r := range runs {
		v, err := s.runView(ctx, r)
		if err != nil {
			return nil, err
		}
		out.Body.Runs = append(out.Body.Runs, v)
	}
	return out, nil
}

func (s *Server) getRun(ctx context.Context, in *idPath) (*runOutput, error) {
	r, err := s.cfg.Store.Run(ctx, in.ID)
	if err != nil {
		return nil, storeErr(err, "run")
	}
	v, err := s.runView(ctx, r)
	if err != nil {
		return nil, err
	}
	return &runOutput{Body: v}, nil
}

type stopRunInput struct {
	ID   string `path:"id" maxLength:"64"`
	Body struct {
		Evaluate bool `json:"evaluate" doc:"Evaluate what was collected (true), or cancel the run (false)"`
	}
}

func (s *Server) stopRun(ctx context.Context, in *stopRunInput) (*runOutput, error) {
	by, _ := identityFrom(ctx)
	if err := s.cfg.Engine.Stop(ctx, in.ID, in.Body.Evaluate, "token "+by.TokenID); err != nil {
		return nil, storeErr(err, "run")
	}
	return s.getRun(ctx, &idPath{ID: in.ID})
}

type findingsInput struct {
	Run      string   `query:"run" doc:"Findings of this run"`
	Agent    string   `query:"agent" doc:"Findings on this agent"`
	Severity []string `query:"severity,explode" doc:"high, medium, low, informational, unrated (repeatable, or comma-separated)"`
	Package  string   `query:"package" doc:"Rules package"`
	Rule     string   `query:"rule" doc:"Rule id"`
	// Repeated, not comma-separated: a tag's or attribute's value may
	// hold a comma.
	Tag        []string `query:"tag,explode" doc:"KEY=VALUE: findings on agents that have this tag now (repeatable: all must match)"`
	Attribute  []string `query:"attribute,explode" doc:"KEY=VALUE: findings with this attribute (repeatable: all must match)"`
	Since      string   `query:"since" doc:"RFC 3339: findings last seen on their agent at or after this time"`
	Until      string   `query:"until" doc:"RFC 3339: findings last seen on their agent before this time"`
	Suppressed string   `query:"suppressed" enum:"exclude,include,only" default:"exclude" doc:"Findings a suppression matched when their run was evaluated: left out (exclude), listed too (include), or alone (only)"`
	Status     string   `query:"status" enum:"new,recurring,fixed" doc:"new: the run found the finding first on its agent; recurring: an earlier run found it too; fixed (needs run): the finding of the agent's previous run of the template that this run did not find, in a rules package its report says it evaluated completely. Absent: new and recurring"`
	After      string   `query:"after" doc:"The next page: the cursor the previous page returned"`
	Limit      int      `query:"limit" minimum:"0" maximum:"1000" doc:"Findings per page (1000 at most)"`
}

// findingView is a stored finding with when it was seen, and whether the
// run found it first (new) or it was there before (recurring); or a
// finding the run fixed (status=fixed): the previous run's finding,
// under the run that no longer found it.
type findingView struct {
	RunID     string          `json:"run_id" doc:"The run; of a fixed finding, the run that fixed it"`
	AgentID   string          `json:"agent_id"`
	Status    string          `json:"status" enum:"new,recurring,fixed"`
	FirstSeen string          `json:"first_seen"`
	LastSeen  string          `json:"last_seen"`
	FirstRun  string          `json:"first_run"`
	Finding   finding.Finding `json:"finding" doc:"The finding; of a fixed finding, as the previous run stored it"`
	// PreviousRun is set on fixed findings only.
	PreviousRun string `json:"previous_run,omitempty" doc:"Of a fixed finding: the agent's previous run of the template, which found it"`
	// Suppressed findings are listed only when asked (suppressed=include
	// or only), with the suppression that matched them.
	Suppressed  bool                    `json:"suppressed" doc:"A suppression matched the finding when its run was evaluated"`
	Suppression *findingSuppressionView `json:"suppression,omitempty" doc:"The suppression, as it was then (it may have been deleted since)"`
}

type findingSuppressionView struct {
	ID     string `json:"id"`
	Reason string `json:"reason"`
	Owner  string `json:"owner"`
}

type findingsOutput struct {
	Body struct {
		Findings []findingView `json:"findings"`
		Next     string        `json:"next,omitempty" doc:"Cursor of the next page; absent on the last"`
	}
}

func (s *Server) listFindings(ctx context.Context, in *findingsInput) (*findingsOutput, error) {
	f := store.FindingFilter{RunID: in.Run, AgentID: in.Agent, RulesPackage: in.Package, RuleID: in.Rule, Limit: in.Limit, Status: in.Status}
	if in.Status == store.FindingFixed && in.Run == "" {
		return nil, huma.Error422UnprocessableEntity("status=fixed needs run: a run fixes what the run before it found")
	}
	for _, list := range in.Severity {
		for _, sev := range strings.Split(list, ",") {
			v, err := finding.ParseSeverity(sev)
			if err != nil {
				return nil, huma.Error422UnprocessableEntity(err.Error())
			}
			f.Severities = append(f.Severities, v)
		}
	}
	if err := findingFilters(in, &f); err != nil {
		return nil, huma.Error422UnprocessableEntity(err.Error())
	}
	if in.After != "" {
		c, err := decodeCursor(in.After)
		parts := strings.SplitN(c, "\x00", 3)
		// A fixed finding's key is under the run that fixed it.
		if err != nil || len(parts) != 3 || (in.Status == store.FindingFixed && parts[0] != in.Run) {
			return nil, huma.Error422UnprocessableEntity("after: not a cursor of this API")
		}
		f.After = c
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 1000
	}
	f.Limit = limit
	var got []store.StoredFinding
	var err error
	if in.Status == store.FindingFixed {
		// Every page asks again where the run looked (its agents'
		// reports, each parsed once per process: evaluatedCache), so
		// that the pages of one list agree.
		var evaluated map[string][]string
		if evaluated, err = s.evaluatedPackages(ctx, in.Run, in.Agent); err == nil {
			got, err = s.cfg.Store.FixedFindings(ctx, f, evaluated)
		}
	} else {
		got, err = s.cfg.Store.Findings(ctx, f)
	}
	if err != nil {
		return nil, err
	}
	out := &findingsOutput{}
	out.Body.Findings = []findingView{}
	for _, sf := range got {
		status := store.FindingRecurring
		switch {
		case sf.PreviousRun != "":
			status = store.FindingFixed
		case sf.FirstRun == sf.RunID:
			status = store.FindingNew
		}
		out.Body.Findings = append(out.Body.Findings, findingView{RunID: sf.RunID, AgentID: sf.AgentID, Status: status,
			FirstSeen: sf.FirstSeen.Format("2006-01-02T15:04:05.999999Z07:00"), LastSeen: sf.LastSeen.Format("2006-01-02T15:04:05.999999Z07:00"),
			FirstRun: sf.FirstRun, Finding: sf.Finding, PreviousRun: sf.PreviousRun})
		if by := sf.Suppression; by != nil {
			v := &out.Body.Findings[len(out.Body.Findings)-1]
			v.Suppressed, v.Suppression = true, &findingSuppressionView{ID: by.ID, Reason: by.Reason, Owner: by.Owner}
		}
	}
	if len(got) == limit {
		out.Body.Next = encodeCursor(got[len(got)-1].Cursor())
	}
	return out, nil
}

type reportInput struct {
	ID    string `path:"id" maxLength:"64"`
	Agent string `path:"agent" maxLength:"64"`
}

type reportOutput struct {
	ContentType string `header:"Content-Type"`
	Body        []byte
}

func (s *Server) getReport(ctx context.Context, in *reportInput) (*reportOutput, error) {
	reps, err := s.cfg.Store.RunReports(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	for _, rep := range reps {
		if rep.AgentID != in.Agent {
			continue
		}
		b, err := s.cfg.Store.Blob(ctx, rep.SHA256)
		if err != nil {
			return nil, err
		}
		raw, err := decompress(b, agentapi.MaxBlobBytes)
		if err != nil {
			return nil, err
		}
		if !json.Valid(bytes.TrimSpace(raw)) {
			return nil, huma.Error500InternalServerError("stored report is damaged")
		}
		return &reportOutput{ContentType: "application/json", Body: raw}, nil
	}
	return nil, huma.Error404NotFound("no report of agent " + in.Agent + " in run " + in.ID)
}

// Cursors are opaque to clients: the store's key, base64url.
func encodeCursor(c string) string { return base64.RawURLEncoding.EncodeToString([]byte(c)) }

func decodeCursor(s string) (string, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	return string(b), err
}

func (s *Server) reevaluateRun(ctx context.Context, in *idPath) (*runOutput, error) {
	by, _ := identityFrom(ctx)
	r, err := s.cfg.Engine.Reevaluate(ctx, in.ID, "asked by token "+by.TokenID)
	if err != nil {
		return nil, storeErr(err, "run")
	}
	v, err := s.runView(ctx, r)
	if err != nil {
		return nil, err
	}
	return &runOutput{Body: v}, nil
}
