package rules_test

import (
	"testing"

	"github.com/kensa-dev/kensa/internal/finding"
	"github.com/kensa-dev/kensa/internal/host"
	"github.com/kensa-dev/kensa/internal/rules"
)

// Combinations never turn missing facts into a pass.
func TestCombinations(t *testing.T) {
	nx := func() rules.Check { return rules.Check{CPUNX: &rules.CPUNX{}} }
	aslr := func() rules.Check {
		return rules.Check{Sysctl: &rules.SysctlKey{Key: "kernel.randomize_va_space", Equals: "2"}}
	}
	withFacts := &host.Inventory{Config: &host.Config{
		CPU:    &host.CPU{Arch: "x86_64", CPUs: 2, NXCPUs: 2},
		Sysctl: &host.Sysctl{Running: map[string]string{"kernel.randomize_va_space": "0"}},
	}}
	noFacts := &host.Inventory{}
	for _, c := range []struct {
		name  string
		check rules.Check
		inv   *host.Inventory
		want  string
	}{
		{"all pass+fail", rules.Check{All: []rules.Check{nx(), aslr()}}, withFacts, finding.StatusFail},
		{"any pass+fail", rules.Check{Any: []rules.Check{nx(), aslr()}}, withFacts, finding.StatusPass},
		{"none pass+fail", rules.Check{None: []rules.Check{nx(), aslr()}}, withFacts, finding.StatusFail},
		{"none fail", rules.Check{None: []rules.Check{aslr()}}, withFacts, finding.StatusPass},
		{"all without facts", rules.Check{All: []rules.Check{nx(), aslr()}}, noFacts, finding.StatusError},
		{"any without facts", rules.Check{Any: []rules.Check{nx(), aslr()}}, noFacts, finding.StatusError},
		{"none without facts", rules.Check{None: []rules.Check{nx()}}, noFacts, finding.StatusError},
	} {
		if got := c.check.Evaluate(c.inv); got.Status != c.want {
			t.Errorf("%s: %s (%s), want %s", c.name, got.Status, got.Reason, c.want)
		}
	}
}

func TestAppliesTo(t *testing.T) {
	deb := &host.OSRelease{Family: "debian", ID: "debian", Release: "12", Major: "12"}
	rhel := &host.OSRelease{Family: "rhel", ID: "rhel", Release: "9.4", Major: "9"}
	a := rules.AppliesTo{OS: []string{"debian:12"}}
	if ok, _ := a.Applies(deb); !ok {
		t.Error("debian:12 should apply to Debian 12")
	}
	if ok, why := a.Applies(rhel); ok || why == "" {
		t.Errorf("debian:12 applied to RHEL 9 (%q)", why)
	}
	if ok, why := a.Applies(nil); ok || why == "" {
		t.Error("an unidentified OS must not be assumed")
	}
	if ok, _ := (rules.AppliesTo{Families: []string{"rhel"}}).Applies(rhel); !ok {
		t.Error("family rhel")
	}
	if ok, _ := (rules.AppliesTo{}).Applies(nil); !ok {
		t.Error("a rule for every system applies")
	}
}
