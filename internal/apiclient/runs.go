package apiclient

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/kensa-dev/kensa/internal/finding"
	"github.com/kensa-dev/kensa/internal/fleet"
)

// Run is an assessment run as the API shows it: its state, history,
// plan (assignments and exclusions) and each agent's work.
type Run struct {
	fleet.Run
	Agents []RunAgent `json:"agents"`
}

// RunAgent is one agent's work in a run. Findings is set once the
// agent's report is stored: a run's reports are those of the agents
// with Findings set.
type RunAgent struct {
	AgentID  string   `json:"agent_id"`
	Packages []string `json:"packages"`
	// Status: pending, collecting, done, failed or canceled.
	Status   string `json:"status"`
	Error    string `json:"error,omitempty"`
	Findings *int   `json:"findings,omitempty"`
}

// Reported lists the agents of the run that have a report.
func (r Run) Reported() []string {
	var out []string
	for _, a := range r.Agents {
		if a.Findings != nil {
			out = append(out, a.AgentID)
		}
	}
	return out
}

// Reason is why the run reached its current state, when the state
// needs one (FAILED, CANCELED, COMPLETED_WITH_ERRORS).
func (r Run) Reason() string {
	for i := len(r.History) - 1; i >= 0; i-- {
		if r.History[i].To == r.State {
			return r.History[i].Reason
		}
	}
	return ""
}

// StartRun starts a run of a template (operator). The run is CREATED;
// the server plans it at once.
func (c *Client) StartRun(ctx context.Context, templateID string) (Run, error) {
	var out Run
	err := c.call(ctx, http.MethodPost, "/runs", nil, map[string]string{"template_id": templateID}, &out)
	return out, err
}

// ListRuns lists runs, newest first; with a state, only runs in it.
func (c *Client) ListRuns(ctx context.Context, state fleet.RunState) ([]Run, error) {
	q := url.Values{}
	if state != "" {
		q.Set("state", string(state))
	}
	var out struct {
		Runs []Run `json:"runs"`
	}
	err := c.call(ctx, http.MethodGet, "/runs", q, nil, &out)
	return out.Runs, err
}

// GetRun shows a run.
func (c *Client) GetRun(ctx context.Context, runID string) (Run, error) {
	var out Run
	err := c.call(ctx, http.MethodGet, "/runs/"+id(runID), nil, nil, &out)
	return out, err
}

// StopRun stops a run (operator): with evaluate, what was collected is
// evaluated; without, the run is canceled.
func (c *Client) StopRun(ctx context.Context, runID string, evaluate bool) (Run, error) {
	var out Run
	err := c.call(ctx, http.MethodPost, "/runs/"+id(runID)+"/stop", nil, map[string]bool{"evaluate": evaluate}, &out)
	return out, err
}

// ReevaluateRun makes a new run that evaluates a completed run's stored
// documents again, without contacting the agents.
func (c *Client) ReevaluateRun(ctx context.Context, runID string) (Run, error) {
	var out Run
	err := c.call(ctx, http.MethodPost, "/runs/"+id(runID)+"/reevaluate", nil, nil, &out)
	return out, err
}

// WaitOptions say how WaitRun waits.
type WaitOptions struct {
	// Interval is the time between two questions to the server (2s when
	// 0).
	Interval time.Duration
	// OnChange, if set, is called with the run each time its state
	// changes, and first with its state when the wait begins.
	OnChange func(Run)
	// OnRetry, if set, is told of each failure WaitRun rides out: the
	// server unreachable or answering 5xx (restarting, say).
	OnRetry func(error)
	// MaxOutage is how long such failures may go on before WaitRun gives
	// up with the last of them (1 minute when 0).
	MaxOutage time.Duration
}

// WaitRun asks the server for a run until it is in a final state, and
// returns it. A refusal (401, 403, 404) ends the wait at once; an
// unreachable or failing server is asked again, for up to MaxOutage.
// When ctx ends first, WaitRun returns the run as last seen and ctx's
// error.
func (c *Client) WaitRun(ctx context.Context, runID string, o WaitOptions) (Run, error) {
	if o.Interval <= 0 {
		o.Interval = 2 * time.Second
	}
	if o.MaxOutage <= 0 {
		o.MaxOutage = time.Minute
	}
	var last Run
	var failingSince time.Time
	t := time.NewTicker(o.Interval)
	defer t.Stop()
	for {
		r, err := c.GetRun(ctx, runID)
		switch {
		case err != nil && ctx.Err() != nil:
			return last, ctx.Err()
		case err != nil && !transient(err):
			return last, err
		case err != nil:
			if failingSince.IsZero() {
				failingSince = time.Now()
			} else if time.Since(failingSince) > o.MaxOutage {
				return last, fmt.Errorf("the server has failed for more than %s: %w", o.MaxOutage, err)
			}
			if o.OnRetry != nil {
				o.OnRetry(err)
			}
		default:
			failingSince = time.Time{}
			if o.OnChange != nil && r.State != last.State {
				o.OnChange(r)
			}
			last = r
			if r.State.Final() {
				return r, nil
			}
		}
		select {
		case <-ctx.Done():
			return last, ctx.Err()
		case <-t.C:
		}
	}
}

// transient tells the failures worth asking again after: no answer, or
// the server's own failure (5xx) or its asking to slow down (429).
func transient(err error) bool {
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.Status >= 500 || ae.Status == http.StatusTooManyRequests
	}
	var cv *tls.CertificateVerificationError
	if errors.As(err, &cv) {
		return false
	}
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
}

// Finding is a stored finding of a run on one agent, with when it was
// first and last seen on that agent, and whether the run found it first
// (StatusNew) or it was there before (StatusRecurring). Listed with
// FindingFilter.Status StatusFixed, it is a finding the run fixed: the
// finding of the agent's previous run (PreviousRun), under the run that
// no longer found it (RunID).
type Finding struct {
	RunID     string          `json:"run_id"`
	AgentID   string          `json:"agent_id"`
	Status    string          `json:"status"`
	FirstSeen time.Time       `json:"first_seen"`
	LastSeen  time.Time       `json:"last_seen"`
	FirstRun  string          `json:"first_run"`
	Finding   finding.Finding `json:"finding"`
	// PreviousRun is set on fixed findings: the agent's previous run of
	// the template, which found it.
	PreviousRun string `json:"previous_run,omitempty"`
	// Suppressed says that a suppression matched the finding when its
	// run was evaluated; Suppression is that suppression, as it was
	// then. Listed only with FindingFilter.Suppressed include or only.
	Suppressed  bool                `json:"suppressed"`
	Suppression *FindingSuppression `json:"suppression,omitempty"`
}

// FindingSuppression is the suppression that matched a finding.
type FindingSuppression struct {
	ID     string `json:"id"`
	Reason string `json:"reason"`
	Owner  string `json:"owner"`
}

// Values of FindingFilter.Suppressed.
const (
	SuppressedExclude = "exclude" // the findings that stand (the default)
	SuppressedInclude = "include" // suppressed findings too
	SuppressedOnly    = "only"    // only suppressed findings
)

// Values of FindingFilter.Status and Finding.Status.
const (
	// StatusNew: the run is the first to have found the finding on its
	// agent.
	StatusNew = "new"
	// StatusRecurring: an earlier run found it too.
	StatusRecurring = "recurring"
	// StatusFixed: the agent's previous run of the template found it and
	// this run, having evaluated its rules package completely on the
	// agent (its report's coverage says so), did not. Needs a run.
	StatusFixed = "fixed"
)

// FindingFilter chooses findings; empty fields match all.
type FindingFilter struct {
	Run, Agent string
	// Severities: any of these.
	Severities []finding.Severity
	// Package is a rules package (cve, cis, best-practices, runtime).
	Package string
	Rule    string
	// Tags: findings on agents that have all these tags now.
	Tags map[string]string
	// Attributes: findings that have all these attributes.
	Attributes map[string]string
	// Since and Until bound when the finding was last seen on its agent:
	// Since <= last seen < Until. Zero: no bound.
	Since, Until time.Time
	// Suppressed is SuppressedExclude (or ""), SuppressedInclude or
	// SuppressedOnly.
	Suppressed string
	// Status is StatusNew, StatusRecurring or StatusFixed (which needs
	// Run); "" lists new and recurring findings.
	Status string
	// Limit is the size of a page: 1,000 (the server's maximum) when 0.
	Limit int
}

// FindingsPage is one page of findings and the cursor of the next page,
// empty on the last.
type FindingsPage struct {
	Findings []Finding `json:"findings"`
	Next     string    `json:"next,omitempty"`
}

// ListFindings returns one page of the findings f chooses: the first
// with after empty, then the page after each Next.
func (c *Client) ListFindings(ctx context.Context, f FindingFilter, after string) (FindingsPage, error) {
	q := url.Values{}
	set := func(k, v string) {
		if v != "" {
			q.Set(k, v)
		}
	}
	set("run", f.Run)
	set("agent", f.Agent)
	set("package", f.Package)
	set("rule", f.Rule)
	set("after", after)
	for _, s := range f.Severities {
		q.Add("severity", string(s))
	}
	for _, k := range slices.Sorted(maps.Keys(f.Tags)) {
		q.Add("tag", k+"="+f.Tags[k])
	}
	for _, k := range slices.Sorted(maps.Keys(f.Attributes)) {
		q.Add("attribute", k+"="+f.Attributes[k])
	}
	if !f.Since.IsZero() {
		q.Set("since", f.Since.UTC().Format(time.RFC3339Nano))
	}
	if !f.Until.IsZero() {
		q.Set("until", f.Until.UTC().Format(time.RFC3339Nano))
	}
	set("suppressed", f.Suppressed)
	set("status", f.Status)
	if f.Limit > 0 {
		q.Set("limit", strconv.Itoa(f.Limit))
	}
	var out FindingsPage
	err := c.call(ctx, http.MethodGet, "/findings", q, nil, &out)
	return out, err
}

// ListAllFindings fetches every page of the findings f chooses.
func (c *Client) ListAllFindings(ctx context.Context, f FindingFilter) ([]Finding, error) {
	var all []Finding
	after := ""
	for {
		page, err := c.ListFindings(ctx, f, after)
		if err != nil {
			return all, err
		}
		all = append(all, page.Findings...)
		if page.Next == "" {
			return all, nil
		}
		if page.Next == after || len(page.Findings) == 0 {
			// The server would send the same page forever.
			return all, fmt.Errorf("findings: the server's next page cursor does not move on (%q)", page.Next)
		}
		after = page.Next
	}
}

// GetReport returns the canonical JSON report of one agent in a run, as
// the server stored it.
func (c *Client) GetReport(ctx context.Context, runID, agentID string) ([]byte, error) {
	path := "/runs/" + id(runID) + "/reports/" + id(agentID)
	resp, err := c.do(ctx, http.MethodGet, path, nil, nil)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := readLimited(resp.Body, MaxReportBytes)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", apiPrefix+path, err)
	}
	return b, nil
}
