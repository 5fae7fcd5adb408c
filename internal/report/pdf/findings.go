package pdf

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/kensa-dev/kensa/internal/finding"
	"github.com/kensa-dev/kensa/internal/report"
)

// findings draws every finding, in the report's canonical order (known
// exploited first, then by severity, rules package and rule): in full up
// to MaxDetailed, then one line each up to MaxListed.
func (d *doc) findings() {
	r := d.r
	d.heading(fmt.Sprintf("Findings (%d)", len(r.Findings)))
	if len(r.Findings) == 0 {
		v := verdictOf(r)
		d.paragraph(regular, 9, ink, "No findings. "+strings.Join(v.detail, " "))
		return
	}
	n := len(r.Findings)
	for i := range r.Findings {
		if i == d.detailed {
			d.overflow(r.Findings[i:], nil, i, n)
			break
		}
		d.finding(&r.Findings[i], fmt.Sprintf("Finding %d of %d", i+1, n), nil)
	}
}

// suppressed draws the findings a suppression file accepted, each with
// the suppression's reason, owner, expiry and rule.
func (d *doc) suppressed() {
	r := d.r
	if len(r.Suppressed) == 0 && r.Suppressions == nil {
		return
	}
	d.heading(fmt.Sprintf("Suppressed findings (%d)", len(r.Suppressed)))
	if len(r.Suppressed) == 0 {
		d.paragraph(regular, 9, grey, "None: the suppression file matched no finding.")
		return
	}
	d.paragraph(regular, 9, ink, "These findings were found, and accepted by the suppression file: they are left out of the findings and their counts, and listed here with why and by whom.")
	d.f.SetY(d.f.GetY() + 2)
	n := len(r.Suppressed)
	for i := range r.Suppressed {
		s := &r.Suppressed[i]
		if i == d.detailed {
			d.overflow(nil, r.Suppressed[i:], i, n)
			break
		}
		d.finding(&s.Finding, fmt.Sprintf("Suppressed %d of %d", i+1, n), s)
	}
}

// finding draws one finding in full. Its title bar and title are kept
// together with the first of its fields on one page.
func (d *doc) finding(f *finding.Finding, counter string, sup *report.Suppressed) {
	const barH = 6.0
	d.setFont(bold, 10.5)
	title := d.wrap(d.z.line(cmpOrText(f.Title, "(no title)")), contentWidth)
	lh := d.lineHeight()
	// Kept together: the bar, the title (its first lines, when a hostile
	// one is longer than a page) and the first field.
	d.need(barH + 2 + float64(min(len(title), 4))*lh + 12)

	// The title bar: severity, rules package and rule, and where the
	// finding stands in the list.
	y := d.f.GetY()
	sc := severityColor(f.Severity)
	d.fillColor(sc)
	d.f.Rect(marginLeft, y, contentWidth, barH, "F")
	d.textColor(white)
	d.setFont(bold, 8.5)
	sev := strings.ToUpper(d.z.line(string(f.Severity)))
	if f.Score != nil {
		sev += " " + strconv.FormatFloat(*f.Score, 'f', 1, 64)
	}
	right := counter
	if kev(f) {
		right = "KNOWN EXPLOITED   " + counter
	}
	if sup != nil {
		right = "SUPPRESSED   " + right
	}
	rw := d.width(right) + 4
	d.f.SetXY(marginLeft+1, y)
	d.f.CellFormat(d.width(sev)+4, barH, sev, "", 0, "L", false, 0, "")
	left := d.width(sev) + 6
	d.setFont(regular, 8.5)
	d.f.SetXY(marginLeft+left, y)
	d.f.CellFormat(contentWidth-left-rw, barH, d.fit(d.z.line(f.RulesPackage+" / "+f.RuleID), contentWidth-left-rw-2), "", 0, "L", false, 0, "")
	d.setFont(bold, 8.5)
	d.f.SetXY(marginLeft, y)
	d.f.CellFormat(contentWidth-1, barH, right, "", 0, "R", false, 0, "")
	d.f.SetY(y + barH + 1.5)

	d.setFont(bold, 10.5)
	d.textColor(ink)
	for _, l := range title {
		d.need(lh)
		d.line(marginLeft, contentWidth, l, "L")
	}
	d.f.SetY(d.f.GetY() + 1)

	if sup != nil {
		warn := func(s string) value { return value{text: s, style: regular, color: warnInk} }
		d.field("Suppressed because", warn(d.z.line(cmpOrText(sup.Reason, "no reason given"))))
		d.field("Owner", warn(d.z.line(cmpOrText(sup.Owner, "not named"))))
		exp := "never (no expiry)"
		if sup.Expires != "" {
			exp = d.z.line(sup.Expires) + " (the last day it applies)"
		}
		d.field("Expires", warn(exp))
		d.field("Suppression rule", warn(d.z.line(sup.Rule)))
	}
	d.field("Finding ID", code(d.z.line(f.ID)))
	d.field("Rule", text(d.z.line(f.RulesPackage)+" / "+d.z.line(f.RuleID)))
	if t := f.Attributes["target"]; t != "" {
		d.field("Target", text(d.z.line(t)))
	}
	if f.Score != nil {
		d.field("Score", text(strconv.FormatFloat(*f.Score, 'f', 1, 64)))
	}
	if lines := d.z.lines(f.Description); len(lines) > 0 {
		d.field("Description", texts(lines)...)
	}
	if len(f.Evidence) > 0 {
		vs := make([]value, 0, len(f.Evidence))
		for _, e := range f.Evidence {
			vs = append(vs, value{text: d.z.line(e), style: mono, color: ink, bullet: true})
		}
		d.field("Evidence", vs...)
	}
	if lines := d.z.lines(f.Recommendation); len(lines) > 0 {
		d.field("Recommendation", texts(lines)...)
	}
	if v := f.Vulnerability; v != nil {
		d.vulnerability(v)
	}
	d.f.SetY(d.f.GetY() + 2)
	d.drawColor(lightGrey)
	d.f.SetLineWidth(0.2)
	d.f.Line(marginLeft, d.f.GetY(), pageWidth-marginRight, d.f.GetY())
	d.f.SetY(d.f.GetY() + 4)
}

// vulnerability draws the detail of a CVE finding: what is vulnerable,
// what fixes it, how it was rated and matched, and where to read more.
func (d *doc) vulnerability(v *finding.Vulnerability) {
	z := &d.z
	id := z.line(v.ID)
	if len(v.Aliases) > 0 {
		id += " (also " + z.line(strings.Join(v.Aliases, ", ")) + ")"
	}
	d.field("Vulnerability", value{text: id, style: bold, color: ink})
	pkg := z.line(v.Package)
	if v.Ecosystem != "" {
		pkg += " (" + z.line(v.Ecosystem) + ")"
	}
	d.field("Package", text(pkg))
	if v.SourcePackage != "" {
		d.field("Source package", text(strings.TrimSpace(z.line(v.SourcePackage+" "+v.SourceVersion))))
	}
	if v.Location != "" {
		d.field("Location", code(z.line(v.Location)))
	}
	d.field("Installed version", code(z.line(cmpOrText(v.InstalledVersion, "unknown"))))
	switch v.Fix {
	case finding.FixAvailable:
		d.field("Fixed version", code(z.line(v.FixedVersion)))
		fix := "fixed: a fixed version is released"
		if v.FixRepository != "" {
			fix += ", in " + z.line(v.FixRepository)
		}
		d.field("Fix status", text(fix))
	case finding.FixUnfixed:
		d.field("Fix status", value{text: "unfixed: no fix released yet", style: regular, color: warnInk})
	case finding.FixWillNotFix:
		d.field("Fix status", value{text: "will not fix: the vendor will not fix it in this release", style: regular, color: warnInk})
	default:
		d.field("Fix status", text(z.line(cmpOrText(v.Fix, "unknown"))))
	}
	if v.CVSS != "" {
		d.field("CVSS vector", code(z.line(v.CVSS)))
	}
	d.field("Severity source", text(z.line(cmpOrText(v.SeveritySource, "not recorded"))))
	if v.Confidence != "" {
		d.field("Match confidence", text(z.line(v.Confidence)))
	}
	switch k := v.KnownExploited; {
	case k != nil:
		s := "Yes: in CISA's Known Exploited Vulnerabilities catalog since " + z.line(k.DateAdded)
		if k.DueDate != "" {
			s += ", remediation due " + z.line(k.DueDate)
		}
		if k.Ransomware != "" {
			s += "; use in ransomware: " + z.line(k.Ransomware)
		}
		vs := []value{{text: s + ".", style: bold, color: badInk}}
		if k.RequiredAction != "" {
			vs = append(vs, text("Required action: "+z.line(k.RequiredAction)))
		}
		d.field("Known exploited", vs...)
	case d.hasKEV():
		d.field("Known exploited", text("No: not in CISA's Known Exploited Vulnerabilities catalog"))
	default:
		d.field("Known exploited", value{text: "Unknown: the scan had no KEV catalog", style: regular, color: grey})
	}
	if len(v.References) > 0 {
		vs := make([]value, 0, len(v.References))
		for _, ref := range v.References {
			vs = append(vs, value{text: z.line(ref), style: mono, color: accent, link: linkTarget(ref), bullet: true})
		}
		d.field("References", vs...)
	}
	if len(v.Provenance) > 0 {
		vs := make([]value, 0, len(v.Provenance))
		for _, p := range v.Provenance {
			s := p.Method
			if p.Feed != "" {
				s += " " + p.Feed
			}
			if p.Record != "" {
				s += ", " + p.Record
			}
			if p.Ecosystem != "" {
				s += " (" + p.Ecosystem + ")"
			}
			s += ": " + p.Matched
			if p.Comparison != "" {
				s += "; " + p.Comparison
			}
			vs = append(vs, value{text: z.line(s), style: regular, color: ink, bullet: true})
		}
		d.field("Found by", vs...)
	}
}

// overflow lists, one line each, the findings (or suppressed findings)
// past the detailed ones, up to MaxListed in all, with a note that the
// JSON report has their detail, and another for those not listed at all.
// fs, or sup, are the findings from the first not detailed on.
func (d *doc) overflow(fs []finding.Finding, sup []report.Suppressed, from, total int) {
	what := "findings"
	if sup != nil {
		what = "suppressed findings"
	}
	n := min(len(fs)+len(sup), max(d.listed-from, 0))
	rest := total - from - n
	note := fmt.Sprintf("This document details the first %d %s; the next %d are listed one line each, in the same order.", from, what, n)
	if rest > 0 {
		note += fmt.Sprintf(" The last %d are not in this document at all.", rest)
	}
	note += " The JSON report of the scan has every field of every finding (kensa report --input report.json -f csv lists them one line each)."
	d.box(warnFill, warnEdge, warnInk, fmt.Sprintf("%d more %s, listed without their detail", total-from, what), note)
	rows := make([][]cell, 0, n)
	for i := range n {
		var f *finding.Finding
		extra := ""
		if sup != nil {
			f = &sup[i].Finding
			extra = "; suppressed: " + sup[i].Reason + " (owner " + sup[i].Owner + cond(sup[i].Expires != "", ", until "+sup[i].Expires, "") + ")"
		} else {
			f = &fs[i]
		}
		sev := strings.ToUpper(d.z.line(string(f.Severity)))
		if kev(f) {
			sev += " KEV"
		}
		rows = append(rows, []cell{
			tableCell(strconv.Itoa(from + i + 1)),
			{text: sev, color: severityColor(f.Severity), bold: true},
			tableCell(d.z.line(f.RulesPackage + " / " + f.RuleID)),
			tableCell(d.z.line(f.Title + extra)),
			tableCell(d.z.line(f.ID)),
		})
	}
	// The id column fits the 32 hex digits of a finding id on one line.
	d.table([]column{{"#", 11, regular, "R"}, {"Severity", 19, regular, ""}, {"Rule", 33, regular, ""}, {"Title", contentWidth - 11 - 19 - 33 - 53, regular, ""}, {"Finding ID", 53, mono, ""}}, rows)
	if rest > 0 {
		d.box(warnFill, warnEdge, warnInk, fmt.Sprintf("%d more %s are only in the JSON report", rest, what),
			fmt.Sprintf("This document stops at %d %s; the JSON report of the scan has all %d.", from+n, what, total))
	}
}

// hasKEV reports whether the scan used CISA's KEV catalog, without which
// "not known exploited" cannot be said.
func (d *doc) hasKEV() bool {
	for _, f := range d.r.Feeds {
		if f.Name == "kev" || f.Format == "kev" {
			return true
		}
	}
	return false
}

func kev(f *finding.Finding) bool {
	return f.Vulnerability != nil && f.Vulnerability.KnownExploited != nil
}

// linkTarget is the link of a reference: http and https URLs only, so
// that a feed cannot make the reader's viewer open anything else.
func linkTarget(ref string) string {
	u, err := url.Parse(ref)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return ""
	}
	// The URL goes into the PDF as a string fpdf escapes; characters a
	// URL does not need are not let through at all.
	for _, r := range ref {
		if r <= ' ' || r >= 0x7f {
			return ""
		}
	}
	return ref
}

func texts(lines []string) []value {
	vs := make([]value, len(lines))
	for i, l := range lines {
		vs[i] = text(l)
	}
	return vs
}

func cmpOrText(s, alt string) string {
	if strings.TrimSpace(s) == "" {
		return alt
	}
	return s
}

func cond(ok bool, yes, no string) string {
	if ok {
		return yes
	}
	return no
}
