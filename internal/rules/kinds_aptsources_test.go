package rules_test

import (
	"strings"
	"testing"

	"github.com/kensa-dev/kensa/internal/finding"
	"github.com/kensa-dev/kensa/internal/host"
	"github.com/kensa-dev/kensa/internal/rules"
)

// Every spelling apt reads as true turns signature checking off; only the
// ones it reads as false are safe.
func TestAptSourcesSignedBooleans(t *testing.T) {
	for v, want := range map[string]string{
		"yes": finding.StatusFail, "true": finding.StatusFail, "on": finding.StatusFail, "1": finding.StatusFail,
		"with": finding.StatusFail, "enable": finding.StatusFail, "Yes": finding.StatusFail, "maybe": finding.StatusFail,
		"no": finding.StatusPass, "false": finding.StatusPass, "off": finding.StatusPass, "0": finding.StatusPass, "without": finding.StatusPass,
	} {
		inv := &host.Inventory{Config: &host.Config{AptSources: &host.AptSources{
			Keyrings: []string{"/etc/apt/trusted.gpg.d/debian.asc"},
			Sources: []host.AptSource{{Type: "deb", URIs: []string{"http://x/"}, Suites: []string{"s"}, File: "/etc/apt/sources.list", Line: 1,
				Options: map[string]string{"trusted": v}}},
		}}}
		got := (&rules.Check{AptSourcesSigned: &rules.AptSourcesSigned{}}).Evaluate(inv)
		if got.Status != want || (want == finding.StatusFail && !strings.Contains(got.Evidence[0], "trusted="+v)) {
			t.Errorf("trusted=%s: %+v, want %s", v, got, want)
		}
	}
}
