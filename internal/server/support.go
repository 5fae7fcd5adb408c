package server

import (
	"context"
	"fmt"

	"github.com/kensa-dev/kensa/internal/collect/osrelease"
	"github.com/kensa-dev/kensa/internal/finding"
	"github.com/kensa-dev/kensa/internal/fleet"
	"github.com/kensa-dev/kensa/internal/rules"
)

// Support says, before a run, which rules packages can assess an agent,
// from what the agent reported of its OS: the configuration packages need
// rules for that OS, the CVE package advisories for its distribution, the
// runtime package a live host. It is a prediction from the agent's
// heartbeat; the evaluation then decides rule by rule, and its coverage
// says what it could not evaluate.
type Support struct {
	// Rules are the configuration rules (rules.Load).
	Rules []*rules.Rule
	// Ecosystems lists the ecosystems the vulnerability database has
	// advisories for; nil when the server has no database.
	Ecosystems func(ctx context.Context) (map[string][]string, error)
	// DBError says why there is no database, when there is none.
	DBError error
}

// ForPlan returns s with the database's ecosystems read now, once, for a
// plan that asks about every agent and package.
func (s Support) ForPlan(ctx context.Context) (fleet.Support, error) {
	if s.Ecosystems == nil {
		return s, nil
	}
	ecos, err := s.Ecosystems(ctx)
	if err != nil {
		return nil, fmt.Errorf("vulnerability database: %w", err)
	}
	s.Ecosystems = func(context.Context) (map[string][]string, error) { return ecos, nil }
	return s, nil
}

// Supports implements fleet.Support.
func (s Support) Supports(pkg string, a fleet.Agent) (bool, fleet.ExclusionReason, string) {
	o := osrelease.FromRef(a.OS)
	if o == nil && pkg != finding.PackageRuntime {
		return false, fleet.ExcludedUnsupportedOS, "the agent has not reported its operating system"
	}
	switch pkg {
	case finding.PackageRuntime:
		if !a.Live {
			return false, fleet.ExcludedNotLive, "the runtime package observes a running system; this agent assesses an image (--root)"
		}
	case finding.PackageCIS:
		profiles, err := rules.Profiles()
		if err != nil {
			return false, fleet.ExcludedUnsupportedOS, err.Error()
		}
		p := rules.ProfileFor(profiles, o)
		if p == nil {
			return false, fleet.ExcludedUnsupportedOS, rules.NoProfile(profiles, o, o.ID+":"+o.Release)
		}
		if done, _ := p.Implemented(s.Rules); len(done) == 0 {
			return false, fleet.ExcludedUnsupportedOS, p.Name() + ": none of its controls is implemented in this version of Kensa"
		}
	case finding.PackageBestPractices:
		for _, r := range s.Rules {
			if r.Package == pkg {
				if ok, _ := r.AppliesTo.Applies(o); ok {
					return true, "", ""
				}
			}
		}
		return false, fleet.ExcludedUnsupportedOS, fmt.Sprintf("the %s rules package has no rules for %s %s", pkg, o.ID, o.Release)
	case finding.PackageCVE:
		eco := o.Ecosystem()
		if eco == "" {
			return false, fleet.ExcludedUnsupportedOS, fmt.Sprintf("Kensa knows no vulnerability feed for %s %s", o.ID, o.Release)
		}
		if s.Ecosystems == nil {
			why := "the server has no vulnerability database"
			if s.DBError != nil {
				why += ": " + s.DBError.Error()
			}
			return false, fleet.ExcludedNoFeedData, why + " (kensa db update on the server)"
		}
		ecos, err := s.Ecosystems(context.Background())
		if err != nil {
			return false, fleet.ExcludedNoFeedData, "the vulnerability database could not be read: " + err.Error()
		}
		if _, ok := ecos[eco]; !ok {
			return false, fleet.ExcludedNoFeedData, "no advisories for " + eco + " in the server's vulnerability database (kensa db update on the server)"
		}
	}
	return true, "", ""
}
