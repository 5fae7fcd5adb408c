package rules_test

import (
	"strings"
	"testing"

	"github.com/kensa-dev/kensa/internal/finding"
	"github.com/kensa-dev/kensa/internal/host"
	"github.com/kensa-dev/kensa/internal/report"
	"github.com/kensa-dev/kensa/internal/rules"
)

// The Debian 12 profile loads and names its benchmark; an OS without a
// profile is said at once; controls without a rule are never passed.
func TestCISProfiles(t *testing.T) {
	profiles, err := rules.Profiles()
	if err != nil {
		t.Fatal(err)
	}
	deb := &host.OSRelease{Family: "debian", ID: "debian", Release: "12", Major: "12"}
	p := rules.ProfileFor(profiles, deb)
	if p == nil || p.Version != "v1.1.0" || len(p.Controls) != 175 {
		t.Fatalf("debian 12 profile: %+v", p)
	}
	if rules.ProfileFor(profiles, &host.OSRelease{ID: "rhel", Release: "9.4", Major: "9"}) != nil {
		t.Error("no RHEL 9 profile exists yet")
	}
	all, err := rules.Load()
	if err != nil {
		t.Fatal(err)
	}
	known := map[string]bool{}
	for _, c := range p.Controls {
		known[c.Catalogue] = true
	}
	for _, r := range all {
		if r.Package != finding.PackageCIS {
			continue
		}
		if r.References.CIS["debian12"].ID == "" {
			t.Errorf("cis rule %s names no CIS Debian 12 control", r.ID)
		}
		for _, id := range r.References.Catalogue {
			if !known[id] {
				t.Errorf("cis rule %s implements %s, which is not in the Debian 12 Level 1 profile", r.ID, id)
			}
		}
	}
	done, missing := p.Implemented(all)
	out := rules.Evaluate(&host.Inventory{OS: deb}, all, []string{finding.PackageCIS})
	var scope report.Coverage
	for _, c := range out.Coverage {
		if c.Scope == "debian:12" {
			scope = c
		}
	}
	if len(missing) > 0 && scope.Status == report.Evaluated {
		t.Errorf("%d controls not implemented, yet the coverage says evaluated", len(missing))
	}
	if len(done) > 0 && len(missing) > 0 && !strings.Contains(scope.Reason, "not evaluated:") {
		t.Errorf("coverage reason does not name the controls not evaluated: %q", scope.Reason)
	}
	rhel := rules.Evaluate(&host.Inventory{OS: &host.OSRelease{ID: "rhel", Release: "9.4", Major: "9", Family: "rhel"}}, all, []string{finding.PackageCIS})
	for _, c := range rhel.Coverage {
		if c.Status != report.NotEvaluated {
			t.Errorf("rhel 9 cis coverage %+v, want not_evaluated", c)
		}
	}
}
