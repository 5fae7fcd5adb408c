package html

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/kensa-dev/kensa/internal/finding"
	"github.com/kensa-dev/kensa/internal/report"
)

type resultRow struct {
	Rule, Target, Status, Label, Class, Reason string
}

type resultGroup struct {
	Package string
	Summary string
	Rows    []resultRow
}

// resultGroups lists every rule checked per rules package, and says so
// for a package that checked none or did not run: an empty group must not
// read as "all passed".
func resultGroups(r *report.Report) []resultGroup {
	byPkg := map[string][]finding.Result{}
	for _, res := range r.Results {
		byPkg[res.RulesPackage] = append(byPkg[res.RulesPackage], res)
	}
	star := map[string]report.Coverage{}
	for _, c := range r.Coverage {
		if c.Scope == "*" {
			star[c.Package] = c
		}
	}
	var out []resultGroup
	for _, pkg := range report.RulesPackages(r) {
		rs := byPkg[pkg]
		g := resultGroup{Package: line(pkg)}
		switch {
		case slices.Contains(r.Summary.NotRun, pkg):
			g.Summary = "Not run: not requested, so nothing was evaluated."
			out = append(out, g)
			continue
		case len(rs) == 0 && star[pkg].Status == report.NotEvaluated:
			g.Summary = "Not evaluated: " + strings.TrimSuffix(cmp.Or(line(star[pkg].Reason), "no reason given"), ".") + "."
			out = append(out, g)
			continue
		case len(rs) == 0:
			g.Summary = "No rule results recorded."
			out = append(out, g)
			continue
		}
		counts := map[string]int{}
		for _, res := range rs {
			counts[res.Status]++
			row := resultRow{Rule: line(res.RuleID), Target: orDash(line(res.Target)), Status: line(res.Status),
				Label: title(line(res.Status)), Reason: line(res.Reason)}
			switch res.Status {
			case finding.StatusPass:
				row.Class = "ok"
			case finding.StatusFail:
				row.Class = "bad"
			case finding.StatusError:
				row.Class = "warn"
			default:
				row.Class = "muted"
			}
			g.Rows = append(g.Rows, row)
		}
		g.Summary = fmt.Sprintf("%s: %d pass, %d fail, %d not applicable, %d error.", plural(len(rs), "rule result", "rule results"),
			counts[finding.StatusPass], counts[finding.StatusFail], counts[finding.StatusNotApplicable], counts[finding.StatusError])
		out = append(out, g)
	}
	return out
}
