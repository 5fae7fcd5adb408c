package fleet

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/kensa-dev/kensa/internal/finding"
)

// ExclusionReason says why an agent, or one rules package on it, is left
// out of a run. The codes are stable: scripts filter on them.
type ExclusionReason string

// Exclusion reasons.
const (
	// ExcludedUnhealthy: the agent is unhealthy, or silent (its health is
	// unknown), when the run starts.
	ExcludedUnhealthy ExclusionReason = "AGENT_UNHEALTHY"
	// ExcludedBusy: the agent is collecting for another run.
	ExcludedBusy ExclusionReason = "AGENT_BUSY"
	// ExcludedUnsupportedOS: the rules package has no rules for the
	// agent's OS (the CIS benchmark of another distribution, say).
	ExcludedUnsupportedOS ExclusionReason = "UNSUPPORTED_OS"
	// ExcludedNoFeedData: the vulnerability database has no advisories
	// for the agent's distribution and release.
	ExcludedNoFeedData ExclusionReason = "NO_FEED_DATA"
	// ExcludedNotLive: the runtime package observes a running system;
	// the agent assesses an image (--root).
	ExcludedNotLive ExclusionReason = "NOT_A_LIVE_HOST"
)

// Exclusion is an agent, or one rules package on an agent, that a run
// cannot assess, and why. An empty Package excludes the whole agent.
type Exclusion struct {
	AgentID  string          `json:"agent_id"`
	Hostname string          `json:"hostname"`
	Package  string          `json:"package,omitempty"`
	Reason   ExclusionReason `json:"reason"`
	Detail   string          `json:"detail"`
}

// Support tells whether a rules package can assess an agent: the rules
// packages know which OS releases they have rules for, and the
// vulnerability database which distributions it has advisories for. ok
// false comes with the reason and a detail a person can act on.
type Support interface {
	Supports(pkg string, a Agent) (ok bool, reason ExclusionReason, detail string)
}

// Assignment is what a run asks of one agent: the rules packages it will
// be assessed for.
type Assignment struct {
	Agent    Agent    `json:"agent"`
	Packages []string `json:"packages"`
}

// Plan decides, before a run starts, which selected agents it assesses
// for which rules packages, and records every exclusion with its reason,
// so that nobody waits for a run to learn what it could not do. busy maps
// the agents collecting for another run to that run's id.
//
// Agents come out sorted by hostname, then id; exclusions in the same
// order, the whole-agent ones before the per-package ones.
func Plan(tpl Template, target Target, agents []Agent, busy map[string]string, s Support, now time.Time) ([]Assignment, []Exclusion) {
	var selected []Agent
	for _, a := range agents {
		if target.Selects(a.Tags) {
			selected = append(selected, a)
		}
	}
	slices.SortFunc(selected, func(a, b Agent) int {
		return cmp.Or(strings.Compare(a.Hostname, b.Hostname), strings.Compare(a.ID, b.ID))
	})
	var assigned []Assignment
	var excluded []Exclusion
	for _, a := range selected {
		if h, reason := a.HealthAt(now); h != Healthy {
			excluded = append(excluded, Exclusion{AgentID: a.ID, Hostname: a.Hostname, Reason: ExcludedUnhealthy,
				Detail: fmt.Sprintf("agent health is %s (%s), last seen %s", h, reason, a.LastSeen.UTC().Format(time.RFC3339))})
			continue
		}
		if run, ok := busy[a.ID]; ok {
			excluded = append(excluded, Exclusion{AgentID: a.ID, Hostname: a.Hostname, Reason: ExcludedBusy,
				Detail: "agent is collecting for run " + run})
			continue
		}
		var pkgs []string
		for _, p := range orderPackages(tpl.Packages) {
			if ok, reason, detail := s.Supports(p, a); !ok {
				excluded = append(excluded, Exclusion{AgentID: a.ID, Hostname: a.Hostname, Package: p, Reason: reason, Detail: detail})
				continue
			}
			pkgs = append(pkgs, p)
		}
		if len(pkgs) > 0 {
			assigned = append(assigned, Assignment{Agent: a, Packages: pkgs})
		}
	}
	return assigned, excluded
}

// orderPackages puts rules packages in report order.
func orderPackages(pkgs []string) []string {
	var out []string
	for _, p := range finding.Packages() {
		if slices.Contains(pkgs, p) {
			out = append(out, p)
		}
	}
	return out
}
