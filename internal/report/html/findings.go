package html

import (
	"cmp"
	"iter"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/kensa-dev/kensa/internal/finding"
	"github.com/kensa-dev/kensa/internal/report"
)

// chunkRows is how many findings rows each <tbody> of the table holds.
// The stylesheet lets the browser skip the layout of a chunk that is off
// screen (content-visibility), which is what makes a page of 50,000
// findings open in seconds rather than minutes: laying out the text of
// every row, and one <details> element per row, is what took the time.
const chunkRows = 250

// findingsView is the findings table and its filters.
type findingsView struct {
	Count int
	Chunk int
	// Rows yields one row per finding as the template writes it, so that
	// a report of 50,000 findings never holds 50,000 rows in memory.
	Rows       iter.Seq[row]
	Severities []filterOption
	Packages   []filterOption
}

// filterOption is one choice of a filter, with how many findings it
// matches.
type filterOption struct {
	Value, Label, Class string
	Count               int
}

// row is one finding: the cells of the table, and its details, which
// fold away to keep the table scannable: hidden="until-found", which the
// script opens from the title's button, and the browser's find in page
// opens too. (Not <details>: 50,000 of them took seconds to build.)
// Without the script, and in print, the stylesheet shows them all.
type row struct {
	// Break starts a new chunk of the table (chunkRows).
	Break                   bool
	Sev, SevLabel, SevClass string
	Score                   string
	Package                 string
	Rule                    string
	Title                   string
	KEV                     bool
	Subject                 string
	Detail                  detail
}

type detail struct {
	ID, RuleID     string
	Description    string
	Evidence       []string
	Recommendation string
	Attrs          []fact
	Vuln           []fact
	KEV            string
	Refs           []ref
	Provenance     []string
}

// ref is a reference of a vulnerability; URL is set only for an http(s)
// address, the only kind made a link.
type ref struct {
	Text, URL string
}

func buildFindings(r *report.Report) findingsView {
	v := findingsView{Count: len(r.Findings), Chunk: chunkRows}
	v.Rows = func(yield func(row) bool) {
		for i := range r.Findings {
			row := rowOf(&r.Findings[i])
			row.Break = i > 0 && i%chunkRows == 0
			if !yield(row) {
				return
			}
		}
	}
	for _, s := range severitiesOf(r) {
		v.Severities = append(v.Severities, filterOption{Value: line(s), Label: severityLabel(s), Class: severityClass(s), Count: r.Summary.BySeverity[s]})
	}
	counts := map[string]int{}
	for _, f := range r.Findings {
		counts[f.RulesPackage]++
	}
	for _, p := range report.RulesPackages(r) {
		if counts[p] > 0 {
			v.Packages = append(v.Packages, filterOption{Value: line(p), Label: line(p), Count: counts[p]})
		}
	}
	return v
}

func severityLabel(s string) string { return title(line(s)) }

// severityClass names the CSS class of a severity; anything off the scale
// gets "unknown", so a hostile severity never becomes a class name.
func severityClass(s string) string {
	if slices.Contains(finding.Severities(), finding.Severity(s)) {
		return string(s)
	}
	return "unknown"
}

func rowOf(f *finding.Finding) row {
	sev := string(f.Severity)
	r := row{
		Sev: line(sev), SevLabel: severityLabel(sev), SevClass: severityClass(sev),
		Package: line(f.RulesPackage),
		Rule:    line(ruleLabel(f)),
		Title:   line(f.Title),
		Subject: subject(f),
		Detail: detail{
			ID: line(f.ID), RuleID: line(f.RuleID),
			Description: para(f.Description), Recommendation: para(f.Recommendation),
		},
	}
	if f.Score != nil {
		r.Score = strconv.FormatFloat(*f.Score, 'f', 1, 64)
	}
	for _, e := range f.Evidence {
		r.Detail.Evidence = append(r.Detail.Evidence, line(e))
	}
	if v := f.Vulnerability; v != nil {
		r.KEV = v.KnownExploited != nil
		vulnDetail(&r.Detail, f, v)
	} else {
		for _, k := range slices.Sorted(maps.Keys(f.Attributes)) {
			if val := f.Attributes[k]; val != "" {
				r.Detail.Attrs = append(r.Detail.Attrs, fact{Label: line(k), Value: line(val)})
			}
		}
	}
	return r
}

// ruleLabel is what the Rule column shows: the vulnerability id for a
// vulnerability finding (what a reader searches for), else the rule id.
func ruleLabel(f *finding.Finding) string {
	if v := f.Vulnerability; v != nil && v.ID != "" {
		return v.ID
	}
	if f.RulesPackage == finding.PackageCVE {
		if id := f.Attributes["vulnerability_id"]; id != "" {
			return id
		}
	}
	return f.RuleID
}

// subject is the short "what" of a finding: the package, its version and
// its fix for a vulnerability; else the target and the first evidence
// line (the evidence alone when it names the target already).
func subject(f *finding.Finding) string {
	if v := f.Vulnerability; v != nil {
		s := line(v.Package) + " " + line(v.InstalledVersion)
		if v.Location != "" {
			s += " in " + line(v.Location)
		}
		return s + ", " + fixPhrase(v)
	}
	return line(report.Subject(*f))
}

func fixPhrase(v *finding.Vulnerability) string {
	var s string
	switch v.Fix {
	case finding.FixAvailable:
		s = "fixed in " + line(v.FixedVersion)
	case finding.FixUnfixed:
		s = "no fix released"
	case finding.FixWillNotFix:
		s = "will not be fixed"
	default:
		s = "fix " + orDash(line(v.Fix))
	}
	if v.FixRepository != "" {
		s += " (" + line(v.FixRepository) + ")"
	}
	return s
}

func vulnDetail(d *detail, f *finding.Finding, v *finding.Vulnerability) {
	add := func(label, value string) {
		if value != "" {
			d.Vuln = append(d.Vuln, fact{Label: label, Value: value})
		}
	}
	var aliases []string
	for _, a := range v.Aliases {
		aliases = append(aliases, line(a))
	}
	add("Aliases", strings.Join(aliases, ", "))
	add("Ecosystem", line(v.Ecosystem))
	add("Installed", strings.TrimSpace(line(v.Package)+" "+line(v.InstalledVersion)))
	if v.SourcePackage != "" {
		add("Source package", strings.TrimSpace(line(v.SourcePackage)+" "+line(v.SourceVersion)))
	}
	add("Location", line(v.Location))
	add("Fix", fixPhrase(v))
	sev := severityLabel(string(f.Severity))
	if f.Score != nil {
		sev += ", score " + strconv.FormatFloat(*f.Score, 'f', 1, 64)
	}
	if v.SeveritySource != "" {
		sev += " (" + line(v.SeveritySource) + ")"
	}
	add("Severity", sev)
	add("CVSS", line(v.CVSS))
	add("Confidence", line(v.Confidence))
	if k := v.KnownExploited; k != nil {
		// CISA's catalog entry: when it was added, the deadline it sets
		// federal agencies, and what it requires.
		d.KEV = "listed by CISA since " + orDash(line(k.DateAdded))
		if k.DueDate != "" {
			d.KEV += ", due " + line(k.DueDate)
		}
		if k.RequiredAction != "" {
			d.KEV += "; required action: " + strings.TrimSuffix(line(k.RequiredAction), ".")
		}
		if k.Ransomware != "" {
			d.KEV += "; use in ransomware campaigns: " + line(k.Ransomware)
		}
	}
	for _, s := range v.References {
		d.Refs = append(d.Refs, refOf(s))
	}
	for _, p := range v.Provenance {
		s := line(p.Method)
		if p.Feed != "" {
			s += " " + line(p.Feed)
		}
		if p.Record != "" {
			s += ", record " + line(p.Record)
		}
		if p.Matched != "" {
			s += ": " + line(p.Matched)
		}
		if p.Comparison != "" {
			s += "; " + line(p.Comparison)
		}
		d.Provenance = append(d.Provenance, s)
	}
}

// refOf makes a reference a link only when it is an absolute http or
// https URL with a host: a feed is data from elsewhere, and javascript:,
// data: or file: URLs in it must stay text. html/template would defuse
// javascript: itself; this also keeps data: and the like from being links
// someone might click.
func refOf(s string) ref {
	r := ref{Text: line(s)}
	if r.Text != s || strings.ContainsAny(s, " \"'<>`") {
		return r
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
		return r
	}
	r.URL = s
	return r
}

// suppressedRow is a suppressed finding with the suppression that matched
// it: who accepted it, why and until when.
type suppressedRow struct {
	Finding                      row
	Reason, Owner, Expires, Rule string
}

func suppressedRows(r *report.Report) []suppressedRow {
	var out []suppressedRow
	for i := range r.Suppressed {
		s := &r.Suppressed[i]
		row := suppressedRow{Finding: rowOf(&s.Finding), Reason: line(s.Reason), Owner: cmp.Or(line(s.Owner), "none named"),
			Expires: "no expiry", Rule: line(s.Rule)}
		if s.Expires != "" {
			row.Expires = "until " + line(s.Expires)
		}
		out = append(out, row)
	}
	return out
}
