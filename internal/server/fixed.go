package server

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"

	"github.com/kensa-dev/kensa/internal/agentapi"
	"github.com/kensa-dev/kensa/internal/report"
	"github.com/kensa-dev/kensa/internal/store"
)

// Fixed findings (GET /findings?run=R&status=fixed) are the findings of
// the run before R that R did not find, where R looked: the store finds
// the previous run of each agent and the findings gone from R
// (store.Store.FixedFindings, which defines them); the server says where
// R looked, from the coverage of each agent's report for R. A rules
// package is looked at when its "*" coverage entry is "evaluated": one
// that is partial or not_evaluated, or absent, fixes nothing.

// evaluatedPackages returns, for each agent whose work in run is done and
// whose report for the run is stored (only agent's, when agent is not
// empty), the rules packages the report's coverage says were evaluated
// completely.
func (s *Server) evaluatedPackages(ctx context.Context, run, agent string) (map[string][]string, error) {
	work, err := s.cfg.Store.RunAgents(ctx, run)
	if err != nil {
		return nil, err
	}
	done := map[string]bool{}
	for _, w := range work {
		if w.Status == store.WorkDone && (agent == "" || w.AgentID == agent) {
			done[w.AgentID] = true
		}
	}
	reps, err := s.cfg.Store.RunReports(ctx, run)
	if err != nil {
		return nil, err
	}
	out := map[string][]string{}
	for _, rep := range reps {
		if !done[rep.AgentID] {
			continue
		}
		pkgs, ok := evaluatedCache.get(rep.SHA256)
		if !ok {
			b, err := s.cfg.Store.Blob(ctx, rep.SHA256)
			if err != nil {
				return nil, err
			}
			cov, err := reportCoverage(b)
			if err != nil {
				return nil, fmt.Errorf("report of agent %s in run %s: %w", rep.AgentID, run, err)
			}
			pkgs = evaluated(cov)
			evaluatedCache.put(rep.SHA256, pkgs)
		}
		if len(pkgs) > 0 {
			out[rep.AgentID] = pkgs
		}
	}
	return out, nil
}

// evaluated lists the rules packages whose "*" coverage entry is
// evaluated, sorted.
func evaluated(cov []report.Coverage) []string {
	var out []string
	for _, c := range cov {
		if c.Scope == "*" && c.Status == report.Evaluated && !slices.Contains(out, c.Package) {
			out = append(out, c.Package)
		}
	}
	slices.Sort(out)
	return out
}

// reportCoverage reads the coverage of a stored report (the canonical
// JSON report, gzip-compressed). The report writes its coverage near its
// start, before its results and findings, so only that much of it is
// decompressed and parsed. A report without coverage evaluated nothing.
func reportCoverage(blob []byte) ([]report.Coverage, error) {
	zr, err := gzip.NewReader(bytes.NewReader(blob))
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(io.LimitReader(zr, agentapi.MaxBlobBytes))
	if tok, err := dec.Token(); err != nil {
		return nil, err
	} else if tok != json.Delim('{') {
		return nil, errors.New("not a JSON object")
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		if tok == "coverage" {
			var cov []report.Coverage
			if err := dec.Decode(&cov); err != nil {
				return nil, fmt.Errorf("coverage: %w", err)
			}
			return cov, nil
		}
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return nil, err
		}
	}
	return nil, nil
}

// evaluatedCache keeps the packages each report evaluated, by the
// report's SHA-256: a stored report never changes, so neither does what
// it says, and the pages of one list read each report once. Bounded: when
// full it starts again.
var evaluatedCache = &shaCache{max: 1 << 16}

type shaCache struct {
	mu  sync.Mutex
	max int
	m   map[string][]string
}

func (c *shaCache) get(sha string) ([]string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.m[sha]
	return v, ok
}

func (c *shaCache) put(sha string, v []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= c.max {
		c.m = map[string][]string{}
	}
	c.m[sha] = v
}
