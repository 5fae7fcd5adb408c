package html

import (
	"fmt"
	"strings"

	"github.com/kensa-dev/kensa/internal/report"
)

// Chart geometry, in SVG user units (CSS pixels at 100%). The charts are
// horizontal bar charts drawn here as plain SVG: no charting library, no
// script, and they print.
const (
	chartLabelWidth = 160 // the labels' column, right-aligned
	chartBarMax     = 140 // the longest bar
	chartRow        = 22  // height of one bar's row
	chartBar        = 14  // height of a bar
	chartWidth      = chartLabelWidth + chartBarMax + 56
	chartLabelRunes = 24 // a longer label is cut with "…" (the full one is its tooltip)
	topPackages     = 10
)

// chart is one bar chart. Summary is its text alternative, which also
// says the numbers to a screen reader; Empty replaces the drawing when
// there is nothing to draw.
type chart struct {
	ID, Title, Summary, Empty string
	Width, Height             int
	LabelX, BarX, BarHeight   int
	Bars                      []bar
}

type bar struct {
	Label, Full, Class  string
	Count               int
	W, Y, TextY, CountX int
}

func buildCharts(r *report.Report) []chart {
	return []chart{severityChart(r), packageChart(r), topPackageChart(r)}
}

// newChart lays out bars whose Label, Full, Class and Count are set,
// scaled to the largest count. A bar of one finding among 50,000 is still
// drawn, two units wide.
func newChart(id, title string, bars []bar) chart {
	c := chart{ID: id, Title: title, Width: chartWidth, Height: len(bars)*chartRow + 4, Bars: bars,
		LabelX: chartLabelWidth - 6, BarX: chartLabelWidth, BarHeight: chartBar}
	most := 0
	for _, b := range bars {
		most = max(most, b.Count)
	}
	var parts []string
	for i := range c.Bars {
		b := &c.Bars[i]
		if most > 0 && b.Count > 0 {
			b.W = max(2, b.Count*chartBarMax/most)
		}
		b.Y = i*chartRow + (chartRow-chartBar)/2 + 2
		b.TextY = b.Y + chartBar - 3
		b.CountX = chartLabelWidth + b.W + 6
		parts = append(parts, fmt.Sprintf("%s: %d", b.Full, b.Count))
	}
	c.Summary = title + ": " + strings.Join(parts, ", ")
	return c
}

func severityChart(r *report.Report) chart {
	var bars []bar
	for _, s := range severitiesOf(r) {
		l := severityLabel(s)
		bars = append(bars, bar{Label: shorten(l, chartLabelRunes), Full: l, Class: "b-" + severityClass(s), Count: r.Summary.BySeverity[s]})
	}
	return newChart("chart-severity", "Findings by severity", bars)
}

// packageChart counts findings per rules package, and marks a package
// that did not run or was not (fully) evaluated, so that its zero is not
// read as clean.
func packageChart(r *report.Report) chart {
	var bars []bar
	for _, st := range report.PackageStats(r) {
		l := line(st.Package)
		switch {
		case st.NotRun:
			l += " (not run)"
		case st.Status == report.NotEvaluated:
			l += " (not evaluated)"
		case st.Status == report.Partial:
			l += " (partial)"
		}
		bars = append(bars, bar{Label: shorten(l, chartLabelRunes), Full: l, Class: "b-pkg", Count: st.Findings})
	}
	return newChart("chart-package", "Findings by rules package", bars)
}

// topPackageChart ranks the packages and components with the most
// vulnerability findings (the upgrades that close the most), ties by
// name. A name is qualified by its ecosystem: libssl3 of Debian and a
// PyPI package of the same name are different things to upgrade.
func topPackageChart(r *report.Report) chart {
	all := report.MostVulnerable(r)
	title := "Top packages by vulnerability findings"
	if len(all) > topPackages {
		title = fmt.Sprintf("Top %d of %d packages by vulnerability findings", topPackages, len(all))
		all = all[:topPackages]
	}
	var bars []bar
	for _, e := range all {
		name := line(e.Name) + " (" + line(e.Ecosystem) + ")"
		bars = append(bars, bar{Label: shorten(name, chartLabelRunes), Full: name, Class: "b-vuln", Count: e.Findings})
	}
	c := newChart("chart-top", title, bars)
	if len(bars) == 0 {
		c.Empty = "No vulnerability findings."
		if !ranPackage(r, "cve") {
			c.Empty += " The CVE rules package did not run."
		}
	}
	return c
}
