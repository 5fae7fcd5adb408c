package report

import (
	"testing"

	"github.com/kensa-dev/kensa/internal/finding"
)

func TestExitCode(t *testing.T) {
	full, empty, clean := fullReport(), emptyIncompleteReport(), cleanReport()
	tests := []struct {
		name string
		r    *Report
		p    ExitPolicy
		want int
	}{
		{"no policy", full, ExitPolicy{}, ExitOK},
		{"high finding, fail on high", full, ExitPolicy{FailOn: finding.High}, ExitFindings},
		{"fail on low", full, ExitPolicy{FailOn: finding.Low}, ExitFindings},
		{"findings win over incomplete", full, ExitPolicy{FailOn: finding.Medium, FailOnIncomplete: true}, ExitFindings},
		{"incomplete only", full, ExitPolicy{FailOnIncomplete: true}, ExitIncomplete},
		{"no findings, incomplete", empty, ExitPolicy{FailOn: finding.Low, FailOnIncomplete: true}, ExitIncomplete},
		{"no findings, incomplete not asked", empty, ExitPolicy{FailOn: finding.Low}, ExitOK},
		{"clean", clean, ExitPolicy{FailOn: finding.Informational, FailOnIncomplete: true}, ExitOK},
		{"packages not requested do not make it incomplete", cveOnlyReport(), ExitPolicy{FailOnIncomplete: true}, ExitOK},
		{"no coverage at all is incomplete", &Report{}, ExitPolicy{FailOnIncomplete: true}, ExitIncomplete},
	}
	for _, tt := range tests {
		if got := ExitCode(tt.r, tt.p); got != tt.want {
			t.Errorf("%s: ExitCode = %d, want %d", tt.name, got, tt.want)
		}
	}
	only := &Report{Findings: []finding.Finding{{Severity: finding.Medium}}}
	if got := ExitCode(only, ExitPolicy{FailOn: finding.High}); got != ExitOK {
		t.Errorf("medium finding with --fail-on high: %d", got)
	}
}
