package html

import (
	"cmp"
	"fmt"
	"html/template"
	"slices"
	"strings"
	"time"

	"github.com/kensa-dev/kensa/internal/finding"
	"github.com/kensa-dev/kensa/internal/host"
	"github.com/kensa-dev/kensa/internal/report"
)

// staleAfter is the feed age past which the report calls a feed stale,
// whatever the feed's own flag says (as the terminal table does).
const staleAfter = 7 * 24 * time.Hour

// page is what the template shows. Every string in it from the report is
// sanitised (line, para); the template escapes it for its context.
type page struct {
	Kind     string // "Findings report" or "Full report"
	Full     bool
	CSP      string
	Style    template.CSS
	NoScript template.CSS
	Script   template.JS
	Tool     string
	Schema   string

	HostName string
	Facts    []fact
	Verdict  verdict
	Charts   []chart

	Findings   findingsView
	Suppressed []suppressedRow
	Coverage   coverageView
	Feeds      []feedRow
	Tailoring  *tailoringView
	SuppFile   *suppressionsView
	Collectors collectorsView
	Inventory  string
	Discovery  *discoveryView
	Runtime    *observationView
	Results    []resultGroup
}

// fact is one labelled value of a list (<dl>); Warn marks a value that
// needs attention (an OS past its end of life).
type fact struct {
	Label, Value string
	Warn         bool
}

func buildPage(r *report.Report, opt Options) *page {
	p := &page{
		Kind:     "Findings report",
		Full:     opt.Full,
		CSP:      policy,
		Style:    styleCSS,
		NoScript: noScriptCSS,
		Script:   scriptJS,
		Tool:     toolName(r.Tool),
		Schema:   line(r.SchemaVersion),
	}
	if opt.Full {
		p.Kind = "Full report"
	}
	p.HostName, p.Facts = hostFacts(r)
	p.Verdict = buildVerdict(r)
	p.Charts = buildCharts(r)
	p.Findings = buildFindings(r)
	p.Suppressed = suppressedRows(r)
	p.Coverage = buildCoverage(r)
	p.Feeds = feedRows(r)
	p.Tailoring = tailoring(r.Tailoring)
	p.SuppFile = suppressionsFile(r.Suppressions)
	p.Collectors = buildCollectors(r.Collectors)
	p.Inventory = inventoryLine(r)
	p.Discovery = discovery(r.Discovery)
	p.Runtime = observation(r)
	if opt.Full {
		p.Results = resultGroups(r)
	}
	return p
}

func toolName(t report.Tool) string {
	s := strings.TrimSpace(line(cmp.Or(t.Name, "kensa")) + " " + line(t.Version))
	if t.Commit != "" {
		s += " (commit " + line(t.Commit) + ")"
	}
	return s
}

// hostFacts is the header: what was assessed, when, and by what.
func hostFacts(r *report.Report) (string, []fact) {
	h := r.Host
	name := line(h.Hostname)
	if name == "" {
		name = "(no hostname)"
		if !h.Live {
			name = line(h.Root)
		}
	}
	facts := []fact{{Label: "Host", Value: cmp.Or(line(h.Hostname), "(no hostname)")}}
	if h.MachineID != "" {
		facts = append(facts, fact{Label: "Machine ID", Value: line(h.MachineID)})
	}

	os := h.OS
	osName := line(os.PrettyName)
	if osName == "" {
		osName = strings.TrimSpace(line(os.ID) + " " + line(os.Release))
	}
	osName = cmp.Or(osName, "unknown")
	osName += fmt.Sprintf(" (family %s, id %s, release %s)", orDash(line(os.Family)), orDash(line(os.ID)), orDash(line(os.Release)))
	facts = append(facts, fact{Label: "Operating system", Value: osName})
	note := ""
	if os.EOLNote != "" {
		note = " (" + line(os.EOLNote) + ")"
	}
	switch {
	case os.EOLReached:
		facts = append(facts, fact{Label: "Support", Value: "END OF LIFE since " + line(os.EOL) + note + ": no more security updates", Warn: true})
	case os.EOL != "":
		facts = append(facts, fact{Label: "Support", Value: "supported until " + line(os.EOL) + note})
	}
	facts = append(facts, fact{Label: "Kernel", Value: cmp.Or(line(h.Kernel), "not available")})
	if h.Live {
		facts = append(facts, fact{Label: "Assessed", Value: "live system, root " + line(h.Root)})
	} else {
		facts = append(facts, fact{Label: "Assessed", Value: "image at " + line(h.Root) + " (not a running system)"})
	}
	facts = append(facts, fact{Label: "Scan time", Value: fmt.Sprintf("%s to %s (%s)",
		report.FormatTime(r.StartedAt), report.FormatTime(r.FinishedAt), report.FormatDuration(r.FinishedAt.Sub(r.StartedAt)))})
	facts = append(facts, fact{Label: "Tool", Value: toolName(r.Tool) + ", report schema " + line(r.SchemaVersion)})
	if tl := r.Tailoring; tl != nil {
		facts = append(facts, fact{Label: "Tailoring", Value: cmp.Or(line(tl.Title), line(tl.File)) + " (see Policy)"})
	}
	if s := r.Suppressions; s != nil {
		facts = append(facts, fact{Label: "Suppressions", Value: line(s.File) + " (see Suppressed)"})
	}
	return name, facts
}

// verdict is the answer to "is this host clean?", which is never yes when
// part of it was not looked at.
type verdict struct {
	Class    string // complete, notrun or incomplete
	Headline string
	Counts   string
	Notes    []fact
	Gaps     []coverageRow
}

func buildVerdict(r *report.Report) verdict {
	s := r.Summary
	var counts []string
	for _, sev := range severitiesOf(r) {
		counts = append(counts, fmt.Sprintf("%d %s", s.BySeverity[sev], line(sev)))
	}
	v := verdict{Counts: plural(s.Findings, "finding", "findings") + ": " + strings.Join(counts, ", ")}
	if s.Suppressed > 0 {
		v.Counts += fmt.Sprintf("; %d suppressed (listed under Suppressed)", s.Suppressed)
	}

	var missing []report.Coverage
	for _, c := range r.Coverage {
		if c.Status != report.Evaluated {
			missing = append(missing, c)
			v.Gaps = append(v.Gaps, coverageRowOf(c))
		}
	}
	gaps := ""
	if len(missing) > 0 {
		gaps = report.GapPhrase(missing)
	}
	switch {
	case len(r.Coverage) == 0 && s.Findings == 0:
		v.Class, v.Headline = "incomplete", "No findings, but the assessment is incomplete: nothing was evaluated (the report has no coverage)."
	case len(r.Coverage) == 0:
		v.Class, v.Headline = "incomplete", "Incomplete assessment: the report has no coverage; there may be more findings than shown."
	case gaps != "" && s.Findings == 0:
		v.Class, v.Headline = "incomplete", "No findings, but the assessment is incomplete: "+gaps+"."
	case gaps != "":
		v.Class, v.Headline = "incomplete", "Incomplete assessment: "+gaps+"; there may be more findings than shown."
	case len(s.NotRun) > 0:
		v.Class, v.Headline = "notrun", "Every scope of the rules packages that ran was evaluated, but not every rules package ran."
	default:
		v.Class, v.Headline = "complete", "Complete assessment: every rules package and scope was evaluated."
	}
	if len(s.NotRun) > 0 {
		v.Notes = append(v.Notes, fact{Label: "Not run", Value: "rules packages not requested, so not evaluated: " + line(strings.Join(s.NotRun, ", ")), Warn: true})
	}
	if n := r.IgnoredUnfixed; n > 0 {
		v.Notes = append(v.Notes, fact{Label: "Left out", Value: fmt.Sprintf("%s without a released fix %s found and left out on request (--ignore-unfixed): they are not in the counts.",
			plural(n, "vulnerability", "vulnerabilities"), was(n)), Warn: true})
	}
	if n := staleFeeds(r.Feeds); n > 0 {
		v.Notes = append(v.Notes, fact{Label: "Feeds", Value: fmt.Sprintf("%s older than 7 days: vulnerabilities published since may be missing (kensa db update).",
			plural(n, "feed is", "feeds are")), Warn: true})
	}
	if len(r.Feeds) == 0 && ranPackage(r, finding.PackageCVE) {
		v.Notes = append(v.Notes, fact{Label: "Feeds", Value: "no vulnerability feed was used.", Warn: true})
	}
	var bad int
	for _, c := range r.Collectors {
		if c.Status == host.StatusFailed || c.Status == host.StatusPartial {
			bad++
		}
	}
	if bad > 0 {
		v.Notes = append(v.Notes, fact{Label: "Collectors", Value: plural(bad, "collector", "collectors") + " failed or only partly ran: some facts may be missing (see Scan details).", Warn: true})
	}
	if d := r.Discovery; d != nil && len(d.LimitsHit) > 0 {
		v.Notes = append(v.Notes, fact{Label: "Discovery", Value: "the search for software outside the package manager hit " +
			plural(len(d.LimitsHit), "limit", "limits") + ": some may be missing (see Scan details).", Warn: true})
	}
	if r.Host.OS.EOLReached {
		v.Notes = append(v.Notes, fact{Label: "Support", Value: "the operating system is past its end of life (" + line(r.Host.OS.EOL) + "): it receives no more security updates.", Warn: true})
	}
	if sp := r.Suppressions; sp != nil && len(sp.Expired) > 0 {
		v.Notes = append(v.Notes, fact{Label: "Suppressions", Value: plural(len(sp.Expired), "suppression has", "suppressions have") + " expired and no longer apply.", Warn: true})
	}
	return v
}

func ranPackage(r *report.Report, pkg string) bool {
	for _, c := range r.Coverage {
		if c.Package == pkg {
			return true
		}
	}
	return false
}

func staleFeeds(feeds []report.Feed) int {
	n := 0
	for _, f := range feeds {
		if feedStale(f) {
			n++
		}
	}
	return n
}

func feedStale(f report.Feed) bool {
	return f.Stale || time.Duration(f.AgeHours*float64(time.Hour)) > staleAfter
}

// severitiesOf lists the severities to count and filter on: the five of
// the scale, then any other a finding has (a newer report's, or a broken
// one's), so that no finding is left out of a count or made unreachable
// by the filter.
func severitiesOf(r *report.Report) []string {
	var out []string
	for _, s := range finding.Severities() {
		out = append(out, string(s))
	}
	for _, f := range r.Findings {
		if !slices.Contains(out, string(f.Severity)) {
			out = append(out, string(f.Severity))
		}
	}
	return out
}
