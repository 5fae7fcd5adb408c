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
//
// The cis package evaluates the rules of the host's CIS profile alone,
// each result and finding numbered as that benchmark numbers the control
// ("cis-1.1.1.3" on Amazon Linux 2023 for the rule that is 1.1.1.1 on
// Debian 12); the rules of other benchmarks are not part of this host's
// assessment and yield no result. Without a profile the package yields
// nothing and its coverage says so.
func Evaluate(inv *host.Inventory, all []*Rule, packages []string) *Outcomes {
	out := &Outcomes{}
	profiles, perr := Profiles()
	profile := ProfileFor(profiles, inv.OS)
	for _, pkg := range packages {
		var counts = map[string]int{}
		var errs []string
		n, disabled := 0, 0
		for _, e := range packageRules(all, pkg, profile) {
			r, id, ctl := e.rule, e.rule.ID, e.control
			if ctl.CIS != "" {
				id = ctl.ID()
			}
			n++
			o := r.evaluate(inv)
			counts[o.Status]++
			if r.Disabled != "" {
				disabled++
			}
			res := finding.Result{RulesPackage: pkg, RuleID: id, Target: r.Target, Status: o.Status, Reason: o.Reason}
			if o.Status == finding.StatusError {
				errs = append(errs, id+": "+o.Reason)
			}
			if (o.Status == finding.StatusPass || o.Status == finding.StatusFail) && len(o.Evidence) > 0 {
				res.Reason = strings.Join(o.Evidence, "; ")
			}
			out.Results = append(out.Results, res)
			if o.Status == finding.StatusFail {
				out.Findings = append(out.Findings, r.finding(inv, o, id, profile, ctl))
			}
		}
		cov := packageCoverage(inv, pkg, n, counts, errs)
		if disabled > 0 {
			cov[1].Reason += fmt.Sprintf(" (%d of the not applicable set aside by the tailoring)", disabled)
		}
		if pkg == finding.PackageCIS {
			cov = cisCoverage(inv, all, profiles, perr, profile, cov)
		}
		out.Coverage = append(out.Coverage, cov...)
	}
	return out
}

// packaged is a rule to evaluate, with the control it answers for a cis
// rule.
type packaged struct {
	rule    *Rule
	control Control
}

// packageRules are the rules of pkg to evaluate on a host of profile p, in
// the order reports list them: for cis, the profile's rules in the order
// of its controls (the benchmark's order), the rules of other benchmarks
// left out; for the other packages, every rule of the package.
func packageRules(all []*Rule, pkg string, p *Profile) []packaged {
	var out []packaged
	if pkg != finding.PackageCIS {
		for _, r := range all {
			if r.Package == pkg {
				out = append(out, packaged{rule: r})
			}
		}
		return out
	}
	if p == nil {
		return nil
	}
	byID := map[string]*Rule{}
	for _, r := range all {
		if r.Package == pkg {
			byID[r.ID] = r
		}
	}
	for _, c := range p.Controls {
		if r := byID[c.Rule]; r != nil {
			out = append(out, packaged{rule: r, control: c})
		}
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

// finding is the finding of a failed rule, under the id it is reported
// by; for a cis rule, ctl is the control of the host's profile it
// answers, whose section numbers and benchmark the finding carries.
func (r *Rule) finding(inv *host.Inventory, o Outcome, id string, p *Profile, ctl Control) finding.Finding {
	title, desc, rem := r.TextFor(inv.OS)
	f := finding.Finding{
		RulesPackage:   r.Package,
		RuleID:         id,
		Severity:       r.Severity,
		Title:          title,
		Description:    strings.TrimSpace(desc + "\n\n" + strings.TrimSpace(r.Rationale)),
		Recommendation: strings.TrimSpace(rem),
		Evidence:       o.Evidence,
		Attributes:     map[string]string{"target": r.Target},
	}
	switch {
	case ctl.CIS != "":
		first, _, more := strings.Cut(ctl.CIS, ";")
		f.Attributes["cis_id"] = first
		if more {
			f.Attributes["cis_sections"] = strings.ReplaceAll(ctl.CIS, ";", ", ")
		}
		f.Attributes["cis_level"] = fmt.Sprint(p.Level)
		f.Attributes["cis_benchmark"] = p.Benchmark + " " + p.Version
	case p != nil:
		if ref, ok := r.References.CIS[p.ID]; ok {
			f.Attributes["cis_id"] = ref.ID
			f.Attributes["cis_level"] = fmt.Sprint(ref.Level)
			f.Attributes["cis_benchmark"] = p.Benchmark + " " + p.Version
		}
	}
	f.ID = finding.Fingerprint(finding.Subject{Host: finding.HostKey(inv.Identity), RulesPackage: r.Package, RuleID: id, Target: r.Target})
	return f
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
func cisCoverage(inv *host.Inventory, all []*Rule, profiles []*Profile, perr error, p *Profile, cov []report.Coverage) []report.Coverage {
	if perr != nil {
		cov[1].Status, cov[1].Reason = report.NotEvaluated, perr.Error()
		cov[0].Status, cov[0].Reason = report.NotEvaluated, cov[1].Scope+" not evaluated"
		return cov
	}
	if p == nil {
		cov[1].Status = report.NotEvaluated
		cov[1].Reason = NoProfile(profiles, inv.OS, cov[1].Scope) + ": nothing was checked"
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
	out := p.NotAssessed()
	assessable := len(p.Controls) - len(out)
	if len(missing) == 0 {
		cov[1].Reason = fmt.Sprintf("%s (%s), all %d assessable controls: %s", p.Name(), p.VerificationNote(), assessable, cov[1].Reason)
	}
	if len(missing) > 0 {
		cov[1].Reason = fmt.Sprintf("%s (%s): %d of %d assessable controls implemented (%s); not evaluated: %s", p.Name(), p.VerificationNote(), len(done), assessable,
			cov[1].Reason, sections(missing, 12))
		if cov[1].Status != report.NotEvaluated {
			cov[1].Status = report.Partial
			cov[0].Status, cov[0].Reason = report.Partial, cov[1].Scope+" partial"
		}
	}
	if len(out) > 0 {
		cov[1].Reason += fmt.Sprintf("; %d controls no scanner can assess (site policy or judgement; check them by hand): %s", len(out), sections(out, 12))
	}
	return cov
}
