package pdf

import (
	"fmt"
	"strings"

	"github.com/kensa-dev/kensa/internal/finding"
	"github.com/kensa-dev/kensa/internal/report"
)

// summary draws the counts and the charts.
func (d *doc) summary() {
	r := d.r
	d.heading("Summary")
	sev := make([]bar, 0, 5)
	for _, s := range finding.Severities() {
		sev = append(sev, bar{label: severityLabel(s), n: r.Summary.BySeverity[string(s)], color: severityColor(s)})
	}
	d.barChart("Findings by severity", sev, "")

	var bars []bar
	for _, st := range report.PackageStats(r) {
		b := bar{label: d.z.line(st.Package), n: st.Findings, color: accent}
		switch {
		case st.NotRun:
			b.note, b.noteColor = "not run", warnInk
		case st.Status == report.NotEvaluated:
			b.note, b.noteColor = "not evaluated", warnInk
		case st.Status == report.Partial:
			b.note, b.noteColor = "partially evaluated", warnInk
		}
		bars = append(bars, b)
	}
	d.barChart("Findings by rules package", bars, "")

	top := report.MostVulnerable(r)
	const topN = 10
	more := ""
	if len(top) > topN {
		more = fmt.Sprintf("%d more packages have vulnerability findings.", len(top)-topN)
		top = top[:topN]
	}
	bars = bars[:0]
	for _, p := range top {
		name := p.Name
		if p.Ecosystem != "" {
			name += " (" + p.Ecosystem + ")"
		}
		bars = append(bars, bar{label: d.z.line(name), n: p.Findings, color: severityColor(finding.High)})
	}
	if len(bars) == 0 {
		d.subheading("Packages with the most vulnerability findings")
		d.paragraph(regular, 9, grey, "No vulnerability findings.")
		return
	}
	d.barChart(fmt.Sprintf("Packages with the most vulnerability findings (top %d)", topN), bars, more)
}

// severityCounts says "6 (3 high, 2 medium, 0 low, 0 informational, 1
// unrated)".
func severityCounts(r *report.Report) string {
	var parts []string
	for _, s := range finding.Severities() {
		parts = append(parts, fmt.Sprintf("%d %s", r.Summary.BySeverity[string(s)], s))
	}
	return fmt.Sprintf("%d (%s)", len(r.Findings), strings.Join(parts, ", "))
}

func severityLabel(s finding.Severity) string {
	if s == "" {
		return "none"
	}
	return strings.ToUpper(string(s[:1])) + string(s[1:])
}

// severityColor is the colour of a severity in the charts and on the
// findings' title bars.
func severityColor(s finding.Severity) rgb {
	switch s {
	case finding.High:
		return rgb{192, 57, 43}
	case finding.Medium:
		return rgb{211, 112, 0}
	case finding.Low:
		return rgb{183, 149, 11}
	case finding.Informational:
		return rgb{41, 128, 185}
	}
	return rgb{127, 140, 141}
}
