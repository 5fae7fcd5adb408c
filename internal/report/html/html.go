// Package html renders a Kensa report as one self-contained HTML5 file, for
// people: the findings report (the default) and the full report, the two
// kinds Amazon Inspector Classic produced.
//
// Like every Kensa output format, Write is a pure function of a
// report.Report: no clock, no environment, no network, and the same report
// gives the same bytes, whatever the order of its lists.
//
// The file stands alone. Its stylesheet and script are inline, its charts
// are SVG drawn here, and it loads nothing when opened: no font, image,
// script or style from anywhere. A Content-Security-Policy in the file
// itself (default-src 'none', and the inline style and script allowed by
// their SHA-256 only) makes that a rule the browser enforces, so that a
// string from a hostile host that got past the escaping still could not
// run or fetch anything.
//
// Every row is rendered here, on the server side: the report reads, and
// prints, with JavaScript off (a <noscript> stylesheet then shows every
// finding's details, which the script otherwise folds). The script only
// sorts the findings table, filters it (severity, rules package, free
// text), counts what is shown and opens a finding's details. A page of
// 50,000 findings opens in a few seconds: the table comes in chunks whose
// layout the browser skips while they are off screen.
//
// Silence is not "clean": the verdict at the top says whether the
// assessment was complete, and the coverage section lists every scope that
// was not evaluated and why, next to the feeds' age, the suppressed
// findings (listed, never dropped) and the rules packages that did not run.
package html

import (
	"bufio"
	"embed"
	"html/template"
	"io"

	"github.com/kensa-dev/kensa/internal/report"
)

// Options selects the kind of report.
type Options struct {
	// Full makes the "full report": everything of the findings report and
	// every rule checked (the report's results) with pass, fail, not
	// applicable or error and the reason, grouped per rules package.
	Full bool
}

//go:embed page.tmpl style.css noscript.css script.js
var assets embed.FS

var pageTemplate = template.Must(template.New("page.tmpl").ParseFS(assets, "page.tmpl"))

// Write writes r as one HTML5 document. It fails only when w does.
func Write(w io.Writer, r *report.Report, opt Options) error {
	p := buildPage(report.Canonical(r), opt)
	// html/template writes many small pieces; a 50,000-finding report is
	// tens of megabytes.
	bw := bufio.NewWriterSize(w, 64<<10)
	if err := pageTemplate.Execute(bw, p); err != nil {
		return err
	}
	return bw.Flush()
}
