package pdf

import (
	"fmt"
	"strings"

	"github.com/kensa-dev/kensa/internal/host"
	"github.com/kensa-dev/kensa/internal/report"
)

// tone is how a verdict or warning box is coloured.
type tone int

const (
	toneGood tone = iota
	toneWarn
	toneBad
)

func (t tone) colors() (fill, edge, text rgb) {
	switch t {
	case toneGood:
		return goodFill, goodEdge, goodInk
	case toneBad:
		return badFill, badEdge, badInk
	}
	return warnFill, warnEdge, warnInk
}

// verdictText is what the document concludes about the assessment: a
// headline and the sentences that explain it.
type verdictText struct {
	headline string
	detail   []string
	tone     tone
}

// verdictOf concludes on r (in canonical form). Its headline only says
// "no findings" together with whether everything was evaluated: a report
// with coverage gaps, without coverage, or with rules packages that did
// not run is never presented as clean.
func verdictOf(r *report.Report) verdictText {
	gaps := coverageGaps(r)
	n := len(r.Findings)
	found := plural(n, "finding", "findings")
	var v verdictText
	switch {
	case len(r.Coverage) == 0 && n == 0:
		v = verdictText{"No findings, but the assessment is incomplete", []string{"Nothing was evaluated: the report has no coverage, so the absence of findings means nothing."}, toneWarn}
	case len(r.Coverage) == 0:
		v = verdictText{found + "; the assessment is incomplete", []string{"The report has no coverage: there may be more findings than shown."}, toneWarn}
	case len(gaps) > 0 && n == 0:
		v = verdictText{"No findings, but the assessment is incomplete", []string{capital(report.GapPhrase(gaps)) + ": findings may exist there (see Coverage)."}, toneWarn}
	case len(gaps) > 0:
		v = verdictText{found + "; the assessment is incomplete", []string{capital(report.GapPhrase(gaps)) + ": there may be more findings than shown (see Coverage)."}, toneWarn}
	case len(r.Summary.NotRun) > 0 && n == 0:
		v = verdictText{"No findings in the rules packages that ran", []string{"Every scope of the rules packages that ran was evaluated."}, toneWarn}
	case len(r.Summary.NotRun) > 0:
		v = verdictText{found, []string{"Every scope of the rules packages that ran was evaluated."}, toneBad}
	case n == 0:
		v = verdictText{"No findings; every rules package and scope was evaluated", nil, toneGood}
	default:
		v = verdictText{found, []string{"Every rules package and scope was evaluated."}, toneBad}
	}
	if len(r.Summary.NotRun) > 0 {
		v.detail = append(v.detail, "Rules packages not run (not requested, so not evaluated): "+strings.Join(r.Summary.NotRun, ", ")+".")
	}
	return v
}

// verdict draws the verdict box, then the warnings that qualify it.
func (d *doc) verdict() {
	r := d.r
	v := verdictOf(r)
	detail := make([]string, len(v.detail))
	for i, l := range v.detail {
		detail[i] = d.z.line(l)
	}
	if n := len(r.Findings); n > 0 {
		detail = append(detail, "Findings: "+severityCounts(r)+".")
	}
	switch n := len(r.Suppressed); {
	case n == 1:
		detail = append(detail, "1 finding suppressed by the suppression file is not counted above; it is listed under Suppressed findings.")
	case n > 1:
		detail = append(detail, fmt.Sprintf("%d findings suppressed by the suppression file are not counted above; they are listed under Suppressed findings.", n))
	}
	d.f.SetY(d.f.GetY() + 3)
	fill, edge, ink := v.tone.colors()
	d.box(fill, edge, ink, d.z.line(v.headline), detail...)

	var warn []string
	if stale := staleFeeds(r); stale > 0 {
		warn = append(warn, plural(stale, "vulnerability feed is", "vulnerability feeds are")+" older than 7 days: vulnerabilities published since may be missing (see Vulnerability feeds).")
	}
	if r.IgnoredUnfixed > 0 {
		warn = append(warn, plural(r.IgnoredUnfixed, "vulnerability", "vulnerabilities")+" without a released fix left out on request (kensa scan --ignore-unfixed).")
	}
	var bad int
	for _, c := range r.Collectors {
		if c.Status == host.StatusFailed || c.Status == host.StatusPartial {
			bad++
		}
	}
	if bad > 0 {
		warn = append(warn, plural(bad, "inventory collector", "inventory collectors")+" failed or only partly ran: some facts may be missing (see Coverage).")
	}
	if dsc := r.Discovery; dsc != nil && len(dsc.LimitsHit) > 0 {
		warn = append(warn, "The search for software outside the package manager hit "+plural(len(dsc.LimitsHit), "limit", "limits")+": some software may be missing (see Coverage).")
	}
	if o := r.Host.OS; o.EOLReached {
		warn = append(warn, "The operating system reached its end of life on "+d.z.line(o.EOL)+": it receives no security updates.")
	}
	if len(warn) > 0 {
		d.box(warnFill, warnEdge, warnInk, "Warnings", warn...)
	}
}

// coverageGaps are the coverage entries that are not evaluated.
func coverageGaps(r *report.Report) []report.Coverage {
	var out []report.Coverage
	for _, c := range r.Coverage {
		if c.Status != report.Evaluated {
			out = append(out, c)
		}
	}
	return out
}

// staleFeeds counts the feeds older than 7 days, also those a producer
// left unmarked.
func staleFeeds(r *report.Report) int {
	n := 0
	for _, f := range r.Feeds {
		if isStale(f) {
			n++
		}
	}
	return n
}

func isStale(f report.Feed) bool { return f.Stale || f.AgeHours > 7*24 }
