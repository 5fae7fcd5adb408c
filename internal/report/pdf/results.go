package pdf

import (
	"fmt"
	"strings"

	"github.com/kensa-dev/kensa/internal/finding"
)

// results draws every rule checked, per rules package, with its status
// and reason: the full report's addition, so that an auditor sees what
// passed as well as what failed.
func (d *doc) results() {
	r := d.r
	d.heading(fmt.Sprintf("Rules checked (%d results)", len(r.Results)))
	if len(r.Results) == 0 {
		d.paragraph(regular, 9, grey, "The report records no rule results.")
		return
	}
	d.paragraph(regular, 9, ink, "Every rule evaluated, on each target it was evaluated on, in the report's order. A failed rule has its findings above; not applicable and error say why.")
	// The results are in canonical order, so each package's are together.
	for start := 0; start < len(r.Results); {
		pkg := r.Results[start].RulesPackage
		end := start
		counts := map[string]int{}
		for end < len(r.Results) && r.Results[end].RulesPackage == pkg {
			counts[r.Results[end].Status]++
			end++
		}
		d.subheading(d.z.line(cmpOrText(pkg, "(no rules package)")))
		d.f.Bookmark(d.z.line(cmpOrText(pkg, "(no rules package)")), 1, -1)
		var parts []string
		for _, s := range []string{finding.StatusPass, finding.StatusFail, finding.StatusNotApplicable, finding.StatusError} {
			parts = append(parts, fmt.Sprintf("%d %s", counts[s], resultWords(s)))
		}
		d.paragraph(regular, 8.5, grey, plural(end-start, "result", "results")+": "+strings.Join(parts, ", ")+".")
		rows := make([][]cell, 0, end-start)
		for _, res := range r.Results[start:end] {
			rows = append(rows, []cell{
				tableCell(d.z.line(res.RuleID)), tableCell(d.z.line(res.Target)),
				d.resultCell(res.Status), tableCell(d.z.line(res.Reason)),
			})
		}
		d.table([]column{{"Rule", 44, regular, ""}, {"Target", 40, regular, ""}, {"Status", 26, regular, ""}, {"Reason", contentWidth - 110, regular, ""}}, rows)
		start = end
	}
}

// resultWords spells a rule's status for a reader.
func resultWords(s string) string {
	switch s {
	case finding.StatusPass:
		return "pass"
	case finding.StatusFail:
		return "fail"
	case finding.StatusNotApplicable:
		return "not applicable"
	case finding.StatusError:
		return "error"
	}
	return s
}

func (d *doc) resultCell(s string) cell {
	switch s {
	case finding.StatusPass:
		return cell{text: "pass", color: goodInk, bold: true}
	case finding.StatusFail:
		return cell{text: "fail", color: badInk, bold: true}
	case finding.StatusError:
		return cell{text: "error", color: warnInk, bold: true, fill: &warnFill}
	case finding.StatusNotApplicable:
		return cell{text: "not applicable", color: grey}
	}
	return cell{text: d.z.line(s), color: ink}
}
