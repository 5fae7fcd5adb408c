package pdf

import (
	"fmt"
	"strings"
	"time"

	"github.com/kensa-dev/kensa/internal/host"
	"github.com/kensa-dev/kensa/internal/report"
)

// coverage draws what was and was not evaluated: the gaps first, with
// their reasons, the rules packages that did not run, the scopes that were
// evaluated, and the collectors and searches that fell short.
func (d *doc) coverage() {
	r := d.r
	d.heading("Coverage")
	d.paragraph(regular, 9, ink, "For each rules package that ran, and each scope within it, coverage says whether it was evaluated. The absence of findings in a scope that was not evaluated means nothing.")
	complete := "no"
	if r.Summary.Complete {
		complete = "yes"
	}
	d.f.SetY(d.f.GetY() + 1)
	d.paragraph(bold, 9, ink, fmt.Sprintf("Complete: %s. Coverage gaps (scopes partial or not evaluated): %d.", complete, r.Summary.CoverageGaps))

	gaps := coverageGaps(r)
	d.subheading("Coverage gaps")
	switch {
	case len(r.Coverage) == 0:
		d.box(warnFill, warnEdge, warnInk, "The report has no coverage", "Nothing was evaluated: no rules package recorded what it covered.")
	case len(gaps) == 0:
		d.paragraph(regular, 9, goodInk, "None: every scope of the rules packages that ran was evaluated.")
	default:
		rows := make([][]cell, 0, len(gaps))
		for _, c := range gaps {
			rows = append(rows, []cell{tableCell(d.z.line(c.Package)), tableCell(d.z.line(c.Scope)),
				{text: statusWords(c.Status), color: warnInk, bold: true, fill: &warnFill}, tableCell(d.z.line(cmpOrReason(c.Reason)))})
		}
		d.table(coverageColumns(), rows)
	}
	if len(r.Summary.NotRun) > 0 {
		d.box(warnFill, warnEdge, warnInk, "Rules packages not run",
			d.z.line(strings.Join(r.Summary.NotRun, ", "))+": not requested (kensa scan --packages), so nothing of them was evaluated.")
	}

	var done [][]cell
	for _, c := range r.Coverage {
		if c.Status == report.Evaluated {
			done = append(done, []cell{tableCell(d.z.line(c.Package)), tableCell(d.z.line(c.Scope)),
				{text: statusWords(c.Status), color: goodInk}, tableCell(d.z.line(c.Reason))})
		}
	}
	if len(done) > 0 {
		d.subheading("Evaluated")
		d.table(coverageColumns(), done)
	}

	var bad [][]cell
	for _, c := range r.Collectors {
		if c.Status != host.StatusFailed && c.Status != host.StatusPartial {
			continue
		}
		why := d.z.line(c.Reason)
		if n := max(c.ErrorCount, len(c.Errors)); n > 0 {
			why = strings.TrimPrefix(why+"; "+plural(n, "error", "errors"), "; ")
			if len(c.Errors) > 0 {
				why += ", first: " + d.z.line(c.Errors[0])
			}
		}
		bad = append(bad, []cell{tableCell(d.z.line(c.Name)), {text: d.z.line(c.Status), color: warnInk, bold: true}, tableCell(why)})
	}
	if len(bad) > 0 {
		d.subheading("Inventory collectors that fell short")
		d.table([]column{{"Collector", 40, regular, ""}, {"Status", 22, regular, ""}, {"Reason", contentWidth - 62, regular, ""}}, bad)
	}
	if dsc := r.Discovery; dsc != nil && len(dsc.LimitsHit) > 0 {
		rows := make([][]cell, 0, len(dsc.LimitsHit))
		for _, l := range dsc.LimitsHit {
			rows = append(rows, []cell{tableCell(d.z.line(l.Limit)), {text: d.z.line(l.Path), color: ink}, tableCell(fmt.Sprint(l.Value))})
		}
		d.subheading("Limits hit by the search for software")
		d.table([]column{{"Limit", 50, regular, ""}, {"Path", contentWidth - 80, mono, ""}, {"Value", 30, regular, "R"}}, rows)
	}
}

func coverageColumns() []column {
	return []column{{"Rules package", 30, regular, ""}, {"Scope", 32, regular, ""}, {"Status", 26, regular, ""}, {"Reason", contentWidth - 88, regular, ""}}
}

// statusWords spells a coverage status for a reader.
func statusWords(s string) string {
	switch s {
	case report.Evaluated:
		return "evaluated"
	case report.Partial:
		return "partial"
	case report.NotEvaluated:
		return "not evaluated"
	}
	return s
}

func cmpOrReason(s string) string {
	if s == "" {
		return "no reason recorded"
	}
	return s
}

// feeds draws the vulnerability feeds and how old their data is.
func (d *doc) feeds() {
	r := d.r
	d.heading("Vulnerability feeds")
	if len(r.Feeds) == 0 {
		d.paragraph(regular, 9, grey, "None: the CVE rules package did not run, or found no vulnerability database for this host.")
		return
	}
	d.paragraph(regular, 9, ink, "The sources of the vulnerability database used, and the age of their data at the time of the scan. A feed older than 7 days may miss recently published vulnerabilities.")
	d.f.SetY(d.f.GetY() + 1)
	rows := make([][]cell, 0, len(r.Feeds))
	for _, f := range r.Feeds {
		fresh := cell{text: "current", color: goodInk}
		if isStale(f) {
			fresh = cell{text: "STALE: older than 7 days, update the feed", color: badInk, bold: true}
		}
		dataTime := "not dated"
		if !f.DataTime.IsZero() {
			dataTime = shortTime(f.DataTime)
		}
		rows = append(rows, []cell{
			tableCell(d.z.line(f.Name)), tableCell(d.z.line(f.Format)), tableCell(fmt.Sprint(f.Records)),
			tableCell(shortTime(f.UpdatedAt)), tableCell(dataTime), tableCell(d.age(f)), fresh,
		})
	}
	d.table([]column{
		{"Feed", 32, regular, ""}, {"Format", 16, regular, ""}, {"Records", 15, regular, "R"},
		{"Updated (UTC)", 28, regular, ""}, {"Data as of (UTC)", 28, regular, ""}, {"Age", 26, regular, ""}, {"Freshness", contentWidth - 145, regular, ""},
	}, rows)
}

// shortTime is a time in a table, to the minute, in UTC.
func shortTime(t time.Time) string {
	if t.IsZero() {
		return "unknown"
	}
	return t.UTC().Format("2006-01-02 15:04")
}

// age says how old a feed's data is, and from what it counts.
func (d *doc) age(f report.Feed) string {
	var s string
	switch h := f.AgeHours; {
	case h < 48:
		s = fmt.Sprintf("%.0f hours", h)
	default:
		s = fmt.Sprintf("%.1f days", h/24)
	}
	switch {
	case f.AgeBasis == "data":
		s += " (data)"
	case strings.HasPrefix(f.AgeBasis, "import"):
		s += " (since import)"
	}
	return s
}
