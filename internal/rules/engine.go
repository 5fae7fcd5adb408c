package rules

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/kensa-dev/kensa/internal/finding"
	"github.com/kensa-dev/kensa/internal/host"
	"github.com/kensa-dev/kensa/internal/report"
)

// Outcomes is what the configuration rules packages produced for a host.
type Outcomes struct {
	Results  []finding.Result
	Findings []finding.Finding
	Coverage []report.Coverage
}

// Evaluate runs the rules of the requested packages on inv. A rule whose
// applies_to excludes the host's OS is not_applicable with the reason;
// every other rule yields its check's outcome. Each failed rule is one
// finding.
func Evaluate(inv *host.Inventory, all []*Rule, packages []string) *Outcomes {
	out := &Outcomes{}
	for _, pkg := range packages {
		var counts = map[string]int{}
		var errs []string
		n, disabled := 0, 0
		for _, r := range all {
			if r.Package != pkg {
				continue
			}
			n++
			o := r.evaluate(inv)
			counts[o.Status]++
			if r.Disabled != "" {
				disabled++
			}
			res := finding.Result{RulesPackage: pkg, RuleID: r.ID, Target: r.Target, Status: o.Status, Reason: o.Reason}
			if o.Status == finding.StatusError {
				errs = append(errs, r.ID+": "+o.Reason)
			}
			if (o.Status == finding.StatusPass || o.Status == finding.StatusFail) && len(o.Evidence) > 0 {
				res.Reason = strings.Join(o.Evidence, "; ")
			}
			out.Results = append(out.Results, res)
			if o.Status == finding.StatusFail {
				out.Findings = append(out.Findings, r.finding(inv, o))
			}
		}
		cov := packageCoverage(inv, pkg, n, counts, errs)
		if disabled > 0 {
			cov[1].Reason += fmt.Sprintf(" (%d of the not applicable set aside by the tailoring)", disabled)
		}
		if pkg == finding.PackageCIS {
			cov = cisCoverage(inv, all, cov)
		}
		out.Coverage = append(out.Coverage, cov...)
	}
	return out
}

func (r *Rule) evaluate(inv *host.Inventory) Outcome {
	if r.Disabled != "" {
		return notApplicable(r.Disabled)
	}
	if ok, why := r.AppliesTo.Applies(inv.OS); !ok {
		return notApplicable(why)
	}
	if want := r.AppliesTo.Packages; len(want) > 0 {
		installed, o := installedPackages(inv)
		if o != nil {
			return *o
		}
		if !slices.ContainsFunc(want, func(p string) bool { _, ok := installed[p]; return ok }) {
			return notApplicable(fmt.Sprintf("none of %s is installed", strings.Join(want, ", ")))
		}
	}
	return r.Check.Evaluate(inv)
}

func (r *Rule) finding(inv *host.Inventory, o Outcome) finding.Finding {
	title, desc, rem := r.Text()
	f := finding.Finding{
		RulesPackage:   r.Package,
		RuleID:         r.ID,
		Severity:       r.Severity,
		Title:          title,
		Description:    strings.TrimSpace(desc + "\n\n" + strings.TrimSpace(r.Rationale)),
		Recommendation: strings.TrimSpace(rem),
		Evidence:       o.Evidence,
		Attributes:     map[string]string{"target": r.Target},
	}
	if ref, ok := r.References.CIS[cisBenchmark(inv.OS)]; ok {
		f.Attributes["cis_id"] = ref.ID
		f.Attributes["cis_level"] = fmt.Sprint(ref.Level)
	}
	f.ID = finding.Fingerprint(finding.Subject{Host: finding.HostKey(inv.Identity), RulesPackage: r.Package, RuleID: r.ID, Target: r.Target})
	return f
}

// cisBenchmark names the CIS benchmark of an OS in rule references
// ("debian12").
func cisBenchmark(o *host.OSRelease) string {
	if o == nil {
		return ""
	}
	return o.ID + strings.ReplaceAll(o.Major, ".", "")
}

// packageCoverage says what a package evaluated on this host: one scope,
// the OS, evaluated when every rule gave a verdict, partial when some
// could not (errors), not_evaluated when the package has no rules or
// none gave a verdict.
func packageCoverage(inv *host.Inventory, pkg string, n int, counts map[string]int, errs []string) []report.Coverage {
	scope := "os"
	if inv.OS != nil {
		scope = inv.OS.ID + ":" + cmp.Or(inv.OS.Release, inv.OS.Codename, "unknown")
	}
	c := report.Coverage{Package: pkg, Scope: scope}
	summary := fmt.Sprintf("%d rules: %d pass, %d fail, %d not applicable, %d error", n, counts[finding.StatusPass], counts[finding.StatusFail],
		counts[finding.StatusNotApplicable], counts[finding.StatusError])
	switch {
	case n == 0 && pkg == finding.PackageCIS:
		c.Status, c.Reason = report.NotEvaluated, "no CIS profile for "+scope+" yet in this version of Kensa: nothing was checked"
	case n == 0:
		c.Status, c.Reason = report.NotEvaluated, "no rules of the "+pkg+" package exist in this version of Kensa: nothing was checked"
	case counts[finding.StatusError] == n:
		c.Status, c.Reason = report.NotEvaluated, summary+": "+strings.Join(errs, "; ")
	case counts[finding.StatusError] > 0:
		c.Status, c.Reason = report.Partial, summary+": "+strings.Join(errs, "; ")
	default:
		c.Status, c.Reason = report.Evaluated, summary
	}
	star := report.Coverage{Package: pkg, Scope: "*", Status: c.Status}
	if c.Status != report.Evaluated {
		star.Reason = scope + " " + strings.ReplaceAll(c.Status, "_", " ")
	}
	return []report.Coverage{star, c}
}

// cisCoverage says, for the cis package, which benchmark profile applies
// and how much of it is implemented: an OS without a profile is
// not_evaluated at once, with that reason; a profile whose controls are
// not all implemented is partial, naming the controls not evaluated.
func cisCoverage(inv *host.Inventory, all []*Rule, cov []report.Coverage) []report.Coverage {
	profiles, err := Profiles()
	if err != nil {
		cov[1].Status, cov[1].Reason = report.NotEvaluated, err.Error()
		cov[0].Status, cov[0].Reason = report.NotEvaluated, cov[1].Scope+" not evaluated"
		return cov
	}
	p := ProfileFor(profiles, inv.OS)
	if p == nil {
		cov[1].Status = report.NotEvaluated
		cov[1].Reason = "no CIS profile for " + cov[1].Scope + " yet in this version of Kensa: nothing was checked"
		cov[0].Status, cov[0].Reason = report.NotEvaluated, cov[1].Scope+" not evaluated"
		return cov
	}
	done, missing := p.Implemented(all)
	if len(done) == 0 {
		cov[1].Status = report.NotEvaluated
		cov[1].Reason = fmt.Sprintf("%s: none of its %d controls is implemented yet in this version of Kensa: nothing was checked", p.Name(), len(p.Controls))
		cov[0].Status, cov[0].Reason = report.NotEvaluated, cov[1].Scope+" not evaluated"
		return cov
	}
	if len(missing) == 0 {
		cov[1].Reason = fmt.Sprintf("%s, all %d controls: %s", p.Name(), len(p.Controls), cov[1].Reason)
	}
	if len(missing) > 0 {
		cov[1].Reason = fmt.Sprintf("%s: %d of %d controls implemented (%s); not evaluated: %s", p.Name(), len(done), len(p.Controls),
			cov[1].Reason, sections(missing, 12))
		if cov[1].Status != report.NotEvaluated {
			cov[1].Status = report.Partial
			cov[0].Status, cov[0].Reason = report.Partial, cov[1].Scope+" partial"
		}
	}
	return cov
}
