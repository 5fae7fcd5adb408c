package report

import "github.com/kensa-dev/kensa/internal/finding"

// Exit codes of kensa scan, documented in docs/report.md.
const (
	// ExitOK: the scan ran; nothing asked for by --fail-on or
	// --fail-on-incomplete was met.
	ExitOK = 0
	// ExitError: the scan could not run or the report could not be written.
	ExitError = 1
	// ExitUsage: bad command line.
	ExitUsage = 2
	// ExitFindings: at least one finding at or above --fail-on.
	ExitFindings = 3
	// ExitIncomplete: --fail-on-incomplete was given and coverage is not
	// complete.
	ExitIncomplete = 4
)

// ExitPolicy is what the command line asked the exit code to reflect.
type ExitPolicy struct {
	// FailOn is the --fail-on severity; empty never fails on findings.
	FailOn finding.Severity
	// FailOnIncomplete is --fail-on-incomplete.
	FailOnIncomplete bool
	// FailOnKEV is --fail-on-kev: fail on any finding whose vulnerability
	// CISA lists as known exploited, whatever its severity.
	FailOnKEV bool
}

// KnownExploited counts the findings whose vulnerability is known to be
// exploited in the wild.
func KnownExploited(r *Report) int {
	n := 0
	for _, f := range r.Findings {
		if f.Vulnerability != nil && f.Vulnerability.KnownExploited != nil {
			n++
		}
	}
	return n
}

// ExitCode returns the exit code of a scan that produced r. Findings take
// precedence over incompleteness: ExitFindings is returned when both apply,
// because it is the more actionable of the two, and a pipeline that fails
// on either fails anyway.
func ExitCode(r *Report, p ExitPolicy) int {
	if p.FailOnKEV && KnownExploited(r) > 0 {
		return ExitFindings
	}
	if p.FailOn != "" {
		for _, f := range r.Findings {
			if f.Severity.AtLeast(p.FailOn) {
				return ExitFindings
			}
		}
	}
	if p.FailOnIncomplete && !Summarize(r).Complete {
		return ExitIncomplete
	}
	return ExitOK
}
