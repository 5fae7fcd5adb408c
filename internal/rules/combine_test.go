package rules_test

import (
	"strings"
	"testing"

	"github.com/kensa-dev/kensa/internal/finding"
	"github.com/kensa-dev/kensa/internal/host"
	"github.com/kensa-dev/kensa/internal/rules"
)

// A failed combination's first evidence line is the one that decided: a
// finding's subject must say why it failed, not what passed.
func TestCombinationEvidenceOrder(t *testing.T) {
	inv := &host.Inventory{Config: &host.Config{Sysctl: &host.Sysctl{Running: map[string]string{"a.ok": "0", "b.bad": "1"}}}}
	ok := rules.Check{Sysctl: &rules.SysctlKey{Key: "a.ok", Equals: "0"}}
	bad := rules.Check{Sysctl: &rules.SysctlKey{Key: "b.bad", Equals: "0"}}
	all := rules.Check{All: []rules.Check{ok, bad}}
	got := all.Evaluate(inv)
	if got.Status != finding.StatusFail || !strings.Contains(got.Evidence[0], "b.bad") || len(got.Evidence) != 2 {
		t.Errorf("all: %+v", got)
	}
	none := rules.Check{None: []rules.Check{bad, ok}}
	got = none.Evaluate(inv)
	if got.Status != finding.StatusFail || !strings.Contains(got.Evidence[0], "a.ok") {
		t.Errorf("none: %+v", got)
	}
}
