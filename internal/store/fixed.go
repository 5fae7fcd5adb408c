package store

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/kensa-dev/kensa/internal/fleet"
)

// FixedFindings is one query (Store.FixedFindings says what it lists):
// ev, the (agent, package) pairs R evaluated completely; prev, for each
// agent of ev whose work in R is done, its previous run P; then P's
// findings of those packages on the agent that R does not have.
func (s *sqlStore) FixedFindings(ctx context.Context, f FindingFilter, evaluated map[string][]string) ([]StoredFinding, error) {
	if f.RunID == "" {
		return nil, errors.New("store: fixed findings: no run given")
	}
	if f.Status != "" && f.Status != FindingFixed {
		return nil, fmt.Errorf("store: fixed findings: status %q", f.Status)
	}
	// The (agent, package) pairs R evaluated completely, once each, as
	// one JSON argument: a fleet's worth of them is one placeholder.
	var pairs [][2]string
	for _, agent := range slices.Sorted(maps.Keys(evaluated)) {
		if f.AgentID != "" && agent != f.AgentID {
			continue
		}
		for _, pkg := range slices.Compact(slices.Sorted(slices.Values(evaluated[agent]))) {
			pairs = append(pairs, [2]string{agent, pkg})
		}
	}
	if len(pairs) == 0 {
		return nil, nil
	}
	doc, err := js(pairs)
	if err != nil {
		return nil, err
	}
	ev := `SELECT json_extract(j.value, '$[0]') AS agent_id, json_extract(j.value, '$[1]') AS package FROM json_each(?) j`
	if s.d.jsonb {
		ev = `SELECT e->>0 AS agent_id, e->>1 AS package FROM jsonb_array_elements(?::jsonb) e`
	}
	c, err := s.findingConds(f)
	if err != nil {
		return nil, err
	}
	if f.After != "" {
		parts := strings.SplitN(f.After, "\x00", 3)
		if len(parts) != 3 || parts[0] != f.RunID {
			return nil, fmt.Errorf("store: fixed findings: malformed cursor")
		}
		c.add("(f.agent_id > ? OR (f.agent_id = ? AND f.id > ?))", parts[1], parts[1], parts[2])
	}
	// The placeholders are numbered in the order they appear: the
	// arguments follow the text.
	query := `WITH ev AS (` + ev + `),
	cur AS (SELECT id, template_id, created FROM runs WHERE id = ?),
	prev AS (
		SELECT w.agent_id AS agent_id, (
			SELECT r2.id FROM run_agents w2 JOIN runs r2 ON r2.id = w2.run_id
			WHERE w2.agent_id = w.agent_id AND w2.status = ? AND r2.template_id = cur.template_id
				AND r2.created < cur.created AND r2.state IN (?, ?)
			ORDER BY r2.created DESC, r2.id DESC LIMIT 1) AS run_id
		FROM cur JOIN run_agents w ON w.run_id = cur.id
		WHERE w.status = ? AND w.agent_id IN (SELECT agent_id FROM ev))
	SELECT p.run_id, ` + findingColumns + `
	FROM prev p
	JOIN ev ON ev.agent_id = p.agent_id
	JOIN findings f ON f.run_id = p.run_id AND f.agent_id = p.agent_id AND f.rules_package = ev.package
	JOIN finding_seen s ON s.agent_id = f.agent_id AND s.id = f.id
	WHERE NOT EXISTS (SELECT 1 FROM findings x WHERE x.run_id = ? AND x.agent_id = f.agent_id AND x.id = f.id)`
	args := []any{doc, f.RunID, WorkDone, string(fleet.RunCompleted), string(fleet.RunCompletedWithErrors), WorkDone, f.RunID}
	for _, w := range c.where {
		query += " AND " + w
	}
	args = append(args, c.args...)
	query += fmt.Sprintf(" ORDER BY f.agent_id, f.id LIMIT %d", pageLimit(f.Limit))
	return list(ctx, s, "fixed findings", query, func(row interface{ Scan(...any) error }) (StoredFinding, error) {
		sf := StoredFinding{RunID: f.RunID}
		err := scanFinding(row, &sf.PreviousRun, &sf)
		return sf, err
	}, args...)
}
