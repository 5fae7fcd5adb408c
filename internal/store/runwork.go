package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/kensa-dev/kensa/internal/finding"
	"github.com/kensa-dev/kensa/internal/fleet"
)

// Work statuses: what an agent is doing for a run.
const (
	WorkPending    = "pending"    // assigned; the agent has not taken it yet
	WorkCollecting = "collecting" // the agent took it
	WorkDone       = "done"       // the agent uploaded its documents
	WorkFailed     = "failed"     // the agent could not, or missed the deadline
	WorkCanceled   = "canceled"   // the run was stopped
)

// RunAgent is one agent's work for a run.
type RunAgent struct {
	RunID    string
	AgentID  string
	Packages []string
	Status   string
	Error    string
	Updated  time.Time
}

// StoredFinding is a finding of a run on one agent, with when it was
// first and last seen on that agent.
type StoredFinding struct {
	RunID     string
	AgentID   string
	Finding   finding.Finding
	FirstSeen time.Time
	LastSeen  time.Time
	FirstRun  string
	LastRun   string
	// Suppression is the suppression that matched the finding when the
	// run was evaluated; nil when none did.
	Suppression *FindingSuppression
	// PreviousRun is set on a fixed finding (FixedFindings): the run
	// before RunID that found it, whose finding (and suppression) this
	// is.
	PreviousRun string
}

// Status of a finding in a run (FindingFilter.Status): new when the run
// is the first to have found it on its agent, recurring when an earlier
// run found it too, fixed when the run before found it and this run,
// having evaluated its rules package, did not (FixedFindings).
const (
	FindingNew       = "new"
	FindingRecurring = "recurring"
	FindingFixed     = "fixed"
)

// SuppressedMode says which findings a FindingFilter takes by whether a
// suppression matched them.
type SuppressedMode int

const (
	// ExcludeSuppressed: only the findings that stand (the default).
	ExcludeSuppressed SuppressedMode = iota
	// IncludeSuppressed: both.
	IncludeSuppressed
	// OnlySuppressed: only the suppressed findings.
	OnlySuppressed
)

// FindingFilter chooses findings; empty fields match all. Results come
// in (run, agent, id) order, After the given key for the next page:
// every filter is a condition on the rows, so the key pages correctly
// whatever the filters.
type FindingFilter struct {
	RunID, AgentID       string
	Severities           []finding.Severity
	RulesPackage, RuleID string
	// Tags: the agent's tags, as they are now, hold all of these.
	Tags map[string]string
	// Attributes: the finding's attributes hold all of these.
	Attributes map[string]string
	// Since and Until bound the finding's last sighting on its agent
	// (StoredFinding.LastSeen): Since <= LastSeen < Until. Zero: no
	// bound.
	Since, Until time.Time
	Suppressed   SuppressedMode
	// Status: FindingNew or FindingRecurring; "" both. Findings does
	// not list fixed findings, which are not the run's own: FixedFindings
	// does.
	Status string
	After  string // the Cursor of the last finding of the previous page
	Limit  int    // default and maximum 1000
}

// Cursor is the key of a stored finding, for FindingFilter.After.
func (f StoredFinding) Cursor() string { return f.RunID + "\x00" + f.AgentID + "\x00" + f.Finding.ID }

// RunReport is the report of one agent in a run (a blob).
type RunReport struct {
	RunID, AgentID, SHA256 string
	Findings               int
}

func (s *sqlStore) AssignRun(ctx context.Context, runID string, work []RunAgent) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		for _, w := range work {
			pkgs, err := js(nonNil(w.Packages))
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO run_agents (run_id, agent_id, packages, status, error, updated) VALUES (?, ?, ?, ?, ?, ?)
				ON CONFLICT (run_id, agent_id) DO NOTHING`), runID, w.AgentID, pkgs, WorkPending, "", s.t(w.Updated)); err != nil {
				return fmt.Errorf("store: assign run %s to %s: %w", runID, w.AgentID, err)
			}
		}
		return nil
	})
}

const runAgentColumns = `run_id, agent_id, packages, status, error, updated`

func scanRunAgent(row interface{ Scan(...any) error }) (RunAgent, error) {
	var w RunAgent
	var at dbTime
	err := row.Scan(&w.RunID, &w.AgentID, dbJSON{&w.Packages}, &w.Status, &w.Error, &at)
	w.Updated = at.t
	return w, err
}

func (s *sqlStore) RunAgents(ctx context.Context, runID string) ([]RunAgent, error) {
	return list(ctx, s, "run agents", `SELECT `+runAgentColumns+` FROM run_agents WHERE run_id = ? ORDER BY agent_id`, scanRunAgent, runID)
}

func (s *sqlStore) AgentWork(ctx context.Context, agentID string) ([]RunAgent, error) {
	return list(ctx, s, "agent work", `SELECT `+prefixed("w.", runAgentColumns)+` FROM run_agents w JOIN runs r ON r.id = w.run_id
		WHERE w.agent_id = ? AND w.status IN (?, ?) AND r.state IN (?, ?) ORDER BY r.created, w.run_id`, scanRunAgent,
		agentID, WorkPending, WorkCollecting, string(fleet.RunStartDataCollectionPending), string(fleet.RunCollectingData))
}

func prefixed(p, cols string) string {
	parts := strings.Split(cols, ", ")
	for i := range parts {
		parts[i] = p + parts[i]
	}
	return strings.Join(parts, ", ")
}

func (s *sqlStore) SetWork(ctx context.Context, runID, agentID string, from []string, to, errMsg string, at time.Time) error {
	if len(from) == 0 {
		return errors.New("store: SetWork needs the statuses it moves from")
	}
	args := []any{to, errMsg, s.t(at), runID, agentID}
	for _, f := range from {
		args = append(args, f)
	}
	res, err := s.exec(ctx, `UPDATE run_agents SET status = ?, error = ?, updated = ? WHERE run_id = ? AND agent_id = ? AND status IN (?`+
		strings.Repeat(`, ?`, len(from)-1)+`)`, args...)
	if err != nil {
		return fmt.Errorf("store: work of %s in run %s: %w", agentID, runID, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		var status string
		err := s.db.QueryRowContext(ctx, s.q(`SELECT status FROM run_agents WHERE run_id = ? AND agent_id = ?`), runID, agentID).Scan(&status)
		if err != nil {
			return notFound("work of agent "+agentID+" in run", runID, err)
		}
		return fmt.Errorf("store: work of %s in run %s is %s: %w", agentID, runID, status, ErrConflict)
	}
	return nil
}

func (s *sqlStore) SaveResults(ctx context.Context, runID, agentID, reportSHA string, findings []finding.Finding, suppressed []SuppressedFinding, at time.Time) error {
	all := make([]SuppressedFinding, 0, len(findings)+len(suppressed))
	for _, f := range findings {
		all = append(all, SuppressedFinding{Finding: f})
	}
	all = append(all, suppressed...)
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM findings WHERE run_id = ? AND agent_id = ?`), runID, agentID); err != nil {
			return err
		}
		for _, x := range all {
			f, by := x.Finding, x.By
			body, err := json.Marshal(f)
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO findings (run_id, agent_id, id, severity, rules_package, rule_id, body,
				suppression_id, suppression_reason, suppression_owner) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
				ON CONFLICT (run_id, agent_id, id) DO NOTHING`), runID, agentID, f.ID, string(f.Severity), f.RulesPackage, f.RuleID, string(body),
				by.ID, by.Reason, by.Owner); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO finding_seen (agent_id, id, first_seen, last_seen, first_run, last_run) VALUES (?, ?, ?, ?, ?, ?)
				ON CONFLICT (agent_id, id) DO UPDATE SET last_seen = excluded.last_seen, last_run = excluded.last_run`),
				agentID, f.ID, s.t(at), s.t(at), runID, runID); err != nil {
				return err
			}
		}
		_, err := tx.ExecContext(ctx, s.q(`INSERT INTO run_reports (run_id, agent_id, sha256, findings) VALUES (?, ?, ?, ?)
			ON CONFLICT (run_id, agent_id) DO UPDATE SET sha256 = excluded.sha256, findings = excluded.findings`), runID, agentID, reportSHA, len(findings))
		return err
	})
	if err != nil {
		return fmt.Errorf("store: results of %s in run %s: %w", agentID, runID, err)
	}
	return nil
}

func (s *sqlStore) RunReports(ctx context.Context, runID string) ([]RunReport, error) {
	return list(ctx, s, "run reports", `SELECT run_id, agent_id, sha256, findings FROM run_reports WHERE run_id = ? ORDER BY agent_id`,
		func(row interface{ Scan(...any) error }) (RunReport, error) {
			var r RunReport
			err := row.Scan(&r.RunID, &r.AgentID, &r.SHA256, &r.Findings)
			return r, err
		}, runID)
}

func (s *sqlStore) Findings(ctx context.Context, f FindingFilter) ([]StoredFinding, error) {
	c, err := s.findingConds(f)
	if err != nil {
		return nil, err
	}
	if f.RunID != "" {
		c.add("f.run_id = ?", f.RunID)
	}
	switch f.Status {
	case "":
	case FindingNew:
		c.add("s.first_run = f.run_id")
	case FindingRecurring:
		c.add("s.first_run <> f.run_id")
	case FindingFixed:
		return nil, errors.New("store: findings: a run's fixed findings are listed by FixedFindings")
	default:
		return nil, fmt.Errorf("store: findings: status %q", f.Status)
	}
	if f.After != "" {
		parts := strings.SplitN(f.After, "\x00", 3)
		if len(parts) != 3 {
			return nil, fmt.Errorf("store: findings: malformed cursor")
		}
		c.add("(f.run_id > ? OR (f.run_id = ? AND (f.agent_id > ? OR (f.agent_id = ? AND f.id > ?))))",
			parts[0], parts[0], parts[1], parts[1], parts[2])
	}
	query := `SELECT f.run_id, ` + findingColumns + `
		FROM findings f JOIN finding_seen s ON s.agent_id = f.agent_id AND s.id = f.id`
	if len(c.where) > 0 {
		query += " WHERE " + strings.Join(c.where, " AND ")
	}
	query += fmt.Sprintf(" ORDER BY f.run_id, f.agent_id, f.id LIMIT %d", pageLimit(f.Limit))
	return list(ctx, s, "findings", query, func(row interface{ Scan(...any) error }) (StoredFinding, error) {
		var sf StoredFinding
		err := scanFinding(row, &sf.RunID, &sf)
		return sf, err
	}, c.args...)
}

// conds are the conditions of a query, and their arguments in order.
type conds struct {
	where []string
	args  []any
}

func (c *conds) add(cond string, vals ...any) {
	c.where = append(c.where, cond)
	c.args = append(c.args, vals...)
}

// findingConds are f's conditions on a finding row (f, of the findings
// table) and its sighting (s, of finding_seen): every filter but the run,
// the status and the page's key, which Findings and FixedFindings apply
// each their way.
func (s *sqlStore) findingConds(f FindingFilter) (*conds, error) {
	c := &conds{}
	if f.AgentID != "" {
		c.add("f.agent_id = ?", f.AgentID)
	}
	if len(f.Severities) > 0 {
		cond := "f.severity IN (?" + strings.Repeat(", ?", len(f.Severities)-1) + ")"
		var vals []any
		for _, sev := range f.Severities {
			vals = append(vals, string(sev))
		}
		c.add(cond, vals...)
	}
	if f.RulesPackage != "" {
		c.add("f.rules_package = ?", f.RulesPackage)
	}
	if f.RuleID != "" {
		c.add("f.rule_id = ?", f.RuleID)
	}
	if len(f.Tags) > 0 {
		cond, vals, err := s.objectHasAll("a.tags", "a.tags", f.Tags)
		if err != nil {
			return nil, err
		}
		// Uncorrelated: the agents are read once, not once a finding.
		c.add("f.agent_id IN (SELECT a.id FROM agents a WHERE "+cond+")", vals...)
	}
	if len(f.Attributes) > 0 {
		cond, vals, err := s.objectHasAll("f.body, '$.attributes'", "(f.body->'attributes')", f.Attributes)
		if err != nil {
			return nil, err
		}
		c.add(cond, vals...)
	}
	// Times are stored to the microsecond: a bound between two
	// microseconds is the next one, for both bounds (a time stored at a
	// whole microsecond is >= since, or < until, exactly when it is >=,
	// or <, the bound rounded up).
	if !f.Since.IsZero() {
		c.add("s.last_seen >= ?", s.t(ceilMicro(f.Since)))
	}
	if !f.Until.IsZero() {
		c.add("s.last_seen < ?", s.t(ceilMicro(f.Until)))
	}
	switch f.Suppressed {
	case ExcludeSuppressed:
		c.add("f.suppression_id = ''")
	case OnlySuppressed:
		c.add("f.suppression_id <> ''")
	case IncludeSuppressed:
	default:
		return nil, fmt.Errorf("store: findings: suppressed mode %d", f.Suppressed)
	}
	return c, nil
}

// pageLimit is the size of a page of findings: 1000 at most, and by
// default.
func pageLimit(n int) int {
	if n <= 0 || n > 1000 {
		return 1000
	}
	return n
}

// findingColumns are what scanFinding reads after the run: the finding,
// its sighting and its suppression.
const findingColumns = `f.agent_id, f.body, s.first_seen, s.last_seen, s.first_run, s.last_run,
	f.suppression_id, f.suppression_reason, f.suppression_owner`

// scanFinding reads a run's id into run, then findingColumns into sf.
func scanFinding(row interface{ Scan(...any) error }, run *string, sf *StoredFinding) error {
	var first, last dbTime
	var by FindingSuppression
	err := row.Scan(run, &sf.AgentID, dbJSON{&sf.Finding}, &first, &last, &sf.FirstRun, &sf.LastRun, &by.ID, &by.Reason, &by.Owner)
	sf.FirstSeen, sf.LastSeen = first.t, last.t
	if by.ID != "" {
		sf.Suppression = &by
	}
	return err
}

// ceilMicro rounds t up to the microsecond.
func ceilMicro(t time.Time) time.Time {
	if c := t.Truncate(time.Microsecond); c.Before(t) {
		return c.Add(time.Microsecond)
	}
	return t
}

// objectHasAll is a condition that a JSON object holds every key of m
// with its value, and its arguments, in key order. In PostgreSQL the
// object is the JSONB expression pgObj and the condition one
// containment (@>), which a GIN index can serve; in SQLite it is one
// lookup a key over json_each(sqliteArgs), where sqliteArgs are
// json_each's arguments (a TEXT document, and a path into it).
func (s *sqlStore) objectHasAll(sqliteArgs, pgObj string, m map[string]string) (string, []any, error) {
	if s.d.jsonb {
		doc, err := js(m)
		if err != nil {
			return "", nil, err
		}
		return pgObj + " @> ?::jsonb", []any{doc}, nil
	}
	var conds []string
	var args []any
	for _, k := range slices.Sorted(maps.Keys(m)) {
		conds = append(conds, "EXISTS (SELECT 1 FROM json_each("+sqliteArgs+") j WHERE j.key = ? AND j.value = ?)")
		args = append(args, k, m[k])
	}
	return strings.Join(conds, " AND "), args, nil
}
