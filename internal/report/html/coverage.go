package html

// Coverage and feeds: what was evaluated, and how fresh the data was.

import (
	"fmt"
	"strings"
	"time"

	"github.com/kensa-dev/kensa/internal/report"
)

type coverageRow struct {
	Package, Scope, Status, Label, Class, Reason string
}

func coverageRowOf(c report.Coverage) coverageRow {
	row := coverageRow{Package: line(c.Package), Scope: line(c.Scope), Status: line(c.Status), Label: title(line(c.Status)), Reason: line(c.Reason)}
	switch c.Status {
	case report.Evaluated:
		row.Class = "ok"
	case report.Partial:
		row.Class = "warn"
	default:
		row.Class = "bad"
	}
	if row.Reason == "" && c.Status != report.Evaluated {
		row.Reason = "(no reason given)"
	}
	return row
}

type coverageView struct {
	Headline string
	Rows     []coverageRow
	NotRun   string
}

func buildCoverage(r *report.Report) coverageView {
	v := coverageView{}
	gaps := 0
	for _, c := range r.Coverage {
		v.Rows = append(v.Rows, coverageRowOf(c))
		if c.Status != report.Evaluated {
			gaps++
		}
	}
	switch {
	case len(r.Coverage) == 0:
		v.Headline = "Nothing was evaluated: the report has no coverage entries."
	case gaps == 0:
		v.Headline = fmt.Sprintf("All %s evaluated.", plural(len(r.Coverage), "scope", "scopes"))
	default:
		v.Headline = fmt.Sprintf("%d of %s not fully evaluated: findings there may be missing.", gaps, plural(len(r.Coverage), "scope", "scopes"))
	}
	if len(r.Summary.NotRun) > 0 {
		v.NotRun = line(strings.Join(r.Summary.NotRun, ", "))
	}
	return v
}

type feedRow struct {
	Name, Format, Records, Updated, DataTime, Age, Basis string
	Stale                                                bool
}

func feedRows(r *report.Report) []feedRow {
	var out []feedRow
	for _, f := range r.Feeds {
		row := feedRow{
			Name: line(f.Name), Format: orDash(line(f.Format)), Records: fmt.Sprint(f.Records),
			Updated: report.FormatTime(f.UpdatedAt), DataTime: "not dated", Basis: ageBasis(f.AgeBasis),
			Age: report.FormatAge(time.Duration(f.AgeHours * float64(time.Hour))), Stale: feedStale(f),
		}
		if !f.DataTime.IsZero() {
			row.DataTime = report.FormatTime(f.DataTime)
		}
		out = append(out, row)
	}
	return out
}

// ageBasis says what a feed's age counts from.
func ageBasis(b string) string {
	if b == "data" {
		return "from the data's own date"
	}
	return line(b)
}
