package report

import (
	"time"

	"github.com/kensa-dev/kensa/internal/suppress"
)

// ApplySuppressions moves the findings f matches from r.Findings to
// r.Suppressed, records the file in r.Suppressions and recomputes the
// summary. It returns the rules that expired (they applied to nothing: the
// caller warns). Results are left as they are: a rule whose finding is
// suppressed still failed, and the full report says so.
func ApplySuppressions(r *Report, f *suppress.File, now time.Time) (expired []suppress.Rule) {
	out := f.Apply(r.Host.Hostname, r.Host.MachineID, r.Findings, now)
	r.Findings = out.Kept
	for _, s := range out.Suppressed {
		r.Suppressed = append(r.Suppressed, Suppressed{Finding: s.Finding, Reason: s.Rule.Reason, Owner: s.Rule.Owner,
			Expires: s.Rule.ExpiresDate(), Rule: s.Rule.String()})
	}
	rec := &Suppressions{File: f.Path, SHA256: f.SHA256, Rules: len(f.Rules), Expired: []string{}, Unused: []string{}}
	for _, x := range out.Expired {
		rec.Expired = append(rec.Expired, x.String()+" (expired "+x.ExpiresDate()+")")
	}
	for _, u := range out.Unused {
		rec.Unused = append(rec.Unused, u.String())
	}
	r.Suppressions = rec
	r.Summary = Summarize(r)
	return out.Expired
}
