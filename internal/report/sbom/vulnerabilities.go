package sbom

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"

	cdx "github.com/CycloneDX/cyclonedx-go"

	"github.com/kensa-dev/kensa/internal/finding"
	"github.com/kensa-dev/kensa/internal/report"
)

// The vulnerabilities of a CycloneDX BOM (CycloneDXOptions.Vulnerabilities)
// are the findings of the cve rules package that name a vulnerability,
// one entry per finding, in the report's order, then the suppressed ones.
// One entry per finding rather than per vulnerability id: each finding has
// its own installed and fixed version, recommendation and suppression, and
// merging them would give one risk acceptance to packages it was never
// made for. Findings without a vulnerability (kernel-reboot-required,
// configuration, runtime) are not about a component; the metadata
// property kensa:findings:not_listed counts them.
//
// Each entry has:
//
//   - id, and source = the feed the match came from ("osv/Debian");
//     references = the aliases, each with the database that issues ids of
//     its form (NVD for CVE-, GitHub for GHSA-, ...);
//   - one rating: Kensa's severity (informational is "info", unrated
//     "unknown"), the CVSS score and vector when a CVSS rating gave it,
//     the method read from the vector (CVSSv31, CVSSv3, CVSSv4, CVSSv2;
//     "other" for a vendor's scale, none for an unrated finding), and as
//     justification the report's severity_source;
//   - description, detail = the evidence lines, recommendation;
//   - advisories = the references that are http(s) URLs; any other
//     reference is kept as a kensa:reference property;
//   - affects = every component with the finding's ecosystem, name,
//     installed version and location (several for a multi-arch package),
//     with that version "affected". When no component matches (the report
//     was edited, or the inventory missed the package), the entry affects
//     the host itself (metadata.component) and says so in
//     kensa:affects:unmatched, rather than being dropped or pointing to a
//     component that does not exist: the host is where it was found;
//   - properties: kensa:finding_id, rule, title, severity, the package and
//     location, fix status, fixed version and repository, confidence, the
//     CISA KEV entry (kensa:known_exploited, kensa:kev:*) and provenance;
//   - for a suppressed finding, the analysis of a risk acceptance. A
//     suppression is not evidence that the host is unaffected, so neither
//     not_affected (with a justification Kensa cannot give) nor
//     false_positive: the state is "exploitable" (affected) with the
//     response "will_not_fix" (the owner decided not to fix it for now),
//     and the detail names the reason, the owner, the expiry and the rule
//     of the suppression file; kensa:suppressed and kensa:suppression:*
//     properties carry the same fields.
//
// A composition says whether the list is complete: "complete" only when
// the cve package evaluated every scope with no rule in error, no
// unfixed vulnerability was left out on request and no feed was stale
// (vulnerabilityGaps); "incomplete" otherwise, with each reason as a
// kensa:vulnerabilities:incomplete metadata property. An empty list is
// therefore "none found" only where everything was looked at.

// matchKey identifies the component a vulnerability finding is about.
type matchKey struct{ ecosystem, name, version, location string }

// buildVulnerabilities returns the BOM's vulnerabilities and their
// bom-refs; comps and refs are the BOM's components and their bom-refs.
func buildVulnerabilities(c *report.Report, comps []report.Component, refs []string) ([]cdx.Vulnerability, []cdx.BOMReference) {
	index := make(map[matchKey][]string, len(comps))
	for i := range comps {
		k := matchKey{comps[i].Ecosystem, comps[i].Name, comps[i].Version, comps[i].Location}
		index[k] = append(index[k], refs[i])
	}
	vulns := make([]cdx.Vulnerability, 0, countVulnerabilityFindings(c.Findings)+len(c.Suppressed))
	vulnRefs := make([]cdx.BOMReference, 0, cap(vulns))
	used := newRefSet(cap(vulns))
	add := func(f *finding.Finding, s *report.Suppressed) {
		v := f.Vulnerability
		targets := index[matchKey{v.Ecosystem, v.Package, v.InstalledVersion, v.Location}]
		ref := used.unique("kensa:finding:" + f.ID)
		vulns = append(vulns, cdxVulnerability(f, s, ref, targets))
		vulnRefs = append(vulnRefs, cdx.BOMReference(ref))
	}
	for i := range c.Findings {
		if isVulnerability(&c.Findings[i]) {
			add(&c.Findings[i], nil)
		}
	}
	for i := range c.Suppressed {
		if isVulnerability(&c.Suppressed[i].Finding) {
			add(&c.Suppressed[i].Finding, &c.Suppressed[i])
		}
	}
	return vulns, vulnRefs
}

func isVulnerability(f *finding.Finding) bool {
	return f.RulesPackage == finding.PackageCVE && f.Vulnerability != nil
}

func countVulnerabilityFindings(fs []finding.Finding) int {
	n := 0
	for i := range fs {
		if isVulnerability(&fs[i]) {
			n++
		}
	}
	return n
}

// cdxVulnerability is the entry of finding f (suppressed by s, when not
// nil), affecting the components of targets, or the host when none.
func cdxVulnerability(f *finding.Finding, s *report.Suppressed, ref string, targets []string) cdx.Vulnerability {
	v := f.Vulnerability
	feed := feedOf(v)
	out := cdx.Vulnerability{
		BOMRef: ref, ID: v.ID,
		Description: f.Description, Recommendation: f.Recommendation,
		Detail: strings.Join(f.Evidence, "\n"),
	}
	if feed != "" {
		out.Source = &cdx.Source{Name: feed}
	}
	if len(v.Aliases) > 0 {
		aliases := make([]cdx.VulnerabilityReference, 0, len(v.Aliases))
		for _, a := range v.Aliases {
			aliases = append(aliases, cdx.VulnerabilityReference{ID: a, Source: aliasSource(a, feed)})
		}
		out.References = &aliases
	}
	out.Ratings = &[]cdx.VulnerabilityRating{rating(f, feed)}

	var p props
	var advisories []cdx.Advisory
	for _, u := range v.References {
		if isWebURL(u) {
			advisories = append(advisories, cdx.Advisory{URL: u})
		} else {
			p.add("kensa:reference", u)
		}
	}
	if len(advisories) > 0 {
		out.Advisories = &advisories
	}

	affected := &[]cdx.AffectedVersions{{Version: v.InstalledVersion, Status: cdx.VulnerabilityStatusAffected}}
	if v.InstalledVersion == "" {
		affected = nil
	}
	affects := make([]cdx.Affects, 0, max(len(targets), 1))
	for _, t := range targets {
		affects = append(affects, cdx.Affects{Ref: t, Range: affected})
	}
	if len(targets) == 0 {
		affects = append(affects, cdx.Affects{Ref: hostRef})
	}
	out.Affects = &affects

	p.add("kensa:finding_id", f.ID)
	p.add("kensa:rule_id", f.RuleID)
	p.add("kensa:title", f.Title)
	p.add("kensa:severity", string(f.Severity))
	p.add("kensa:package", strings.TrimSpace(v.Ecosystem+" "+v.Package+" "+v.InstalledVersion))
	p.add("kensa:location", v.Location)
	if v.SourcePackage != "" {
		p.add("kensa:source_package", strings.TrimSpace(v.SourcePackage+" "+v.SourceVersion))
	}
	if len(targets) == 0 {
		p.add("kensa:affects:unmatched", "no component of the inventory is "+
			strings.TrimSpace(v.Ecosystem+" "+v.Package+" "+v.InstalledVersion)+at(v.Location)+": the vulnerability is attached to the host")
	}
	p.add("kensa:fix_status", v.Fix)
	p.add("kensa:fixed_version", v.FixedVersion)
	p.add("kensa:fix_repository", v.FixRepository)
	p.add("kensa:confidence", v.Confidence)
	if k := v.KnownExploited; k != nil {
		p.add("kensa:known_exploited", "true")
		p.add("kensa:kev:date_added", k.DateAdded)
		p.add("kensa:kev:due_date", k.DueDate)
		p.add("kensa:kev:required_action", k.RequiredAction)
		p.add("kensa:kev:ransomware", k.Ransomware)
	}
	for _, pr := range v.Provenance {
		p.add("kensa:provenance", provenance(pr))
	}
	if s != nil {
		out.Analysis = riskAcceptance(s)
		p.add("kensa:suppressed", "true")
		p.add("kensa:suppression:reason", s.Reason)
		p.add("kensa:suppression:owner", s.Owner)
		p.add("kensa:suppression:expires", s.Expires)
		p.add("kensa:suppression:rule", s.Rule)
	}
	out.Properties = p.list()
	return out
}

// riskAcceptance is the analysis of a suppressed finding (see above for
// why "exploitable" and "will_not_fix").
func riskAcceptance(s *report.Suppressed) *cdx.VulnerabilityAnalysis {
	detail := "Risk accepted by a Kensa suppression"
	if s.Owner != "" {
		detail += " (owner " + s.Owner + ")"
	}
	if s.Expires != "" {
		detail += ", until " + s.Expires + " inclusive"
	}
	if s.Reason != "" {
		detail += ": " + s.Reason
	}
	if s.Rule != "" {
		detail += " [" + s.Rule + "]"
	}
	return &cdx.VulnerabilityAnalysis{
		State:    cdx.IASExploitable,
		Response: &[]cdx.ImpactAnalysisResponse{cdx.IARWillNotFix},
		Detail:   detail,
	}
}

// rating is the finding's one rating: Kensa's severity, with the CVSS
// score and vector when a CVSS rating gave it.
func rating(f *finding.Finding, feed string) cdx.VulnerabilityRating {
	v := f.Vulnerability
	r := cdx.VulnerabilityRating{
		Score: f.Score, Severity: severity(f.Severity),
		Vector: v.CVSS, Method: scoringMethod(v.CVSS),
		Justification: v.SeveritySource,
	}
	if r.Method == "" && f.Severity != finding.Unrated {
		// A vendor's own scale (debian-urgency, ubuntu-priority).
		r.Method = cdx.ScoringMethodOther
	}
	if feed != "" {
		r.Source = &cdx.Source{Name: feed}
	}
	return r
}

func severity(s finding.Severity) cdx.Severity {
	switch s {
	case finding.High:
		return cdx.SeverityHigh
	case finding.Medium:
		return cdx.SeverityMedium
	case finding.Low:
		return cdx.SeverityLow
	case finding.Informational:
		return cdx.SeverityInfo
	}
	return cdx.SeverityUnknown
}

// scoringMethod reads the CVSS version from a vector: "CVSS:3.1/..." and
// the other prefixed forms, or a bare version 2 vector ("AV:N/AC:L/Au:N/...").
func scoringMethod(vector string) cdx.ScoringMethod {
	switch {
	case vector == "":
		return ""
	case strings.HasPrefix(vector, "CVSS:4.0/"):
		return cdx.ScoringMethodCVSSv4
	case strings.HasPrefix(vector, "CVSS:3.1/"):
		return cdx.ScoringMethodCVSSv31
	case strings.HasPrefix(vector, "CVSS:3.0/"):
		return cdx.ScoringMethodCVSSv3
	case strings.HasPrefix(vector, "AV:") && strings.Contains(vector, "/Au:"):
		return cdx.ScoringMethodCVSSv2
	}
	return cdx.ScoringMethodOther
}

// feedOf is the feed the vulnerability was matched in: the first
// provenance's.
func feedOf(v *finding.Vulnerability) string {
	for _, p := range v.Provenance {
		if p.Feed != "" {
			return p.Feed
		}
	}
	return ""
}

// aliasSources name the databases that issue ids of a given form, with
// the address of an id's page where it is derived from the id alone.
var aliasSources = []struct{ prefix, name, url string }{
	{"CVE-", "NVD", "https://nvd.nist.gov/vuln/detail/"},
	{"GHSA-", "GitHub Advisory Database", "https://github.com/advisories/"},
	{"GO-", "Go Vulnerability Database", "https://pkg.go.dev/vuln/"},
	{"PYSEC-", "PyPA Advisory Database", ""},
	{"RUSTSEC-", "RustSec Advisory Database", ""},
	{"DSA-", "Debian", ""}, {"DLA-", "Debian", ""}, {"DEBIAN-", "Debian", ""},
	{"USN-", "Ubuntu", ""}, {"UBUNTU-", "Ubuntu", ""},
	{"RHSA-", "Red Hat", ""}, {"ALSA-", "AlmaLinux", ""}, {"ALAS", "Amazon Linux", ""},
	{"RLSA-", "Rocky Linux", ""}, {"SUSE-", "SUSE", ""}, {"ALPINE-", "Alpine", ""},
}

// aliasSource is the database of alias id, else the feed the finding came
// from (CycloneDX requires a source for each reference).
func aliasSource(id, feed string) *cdx.Source {
	for _, s := range aliasSources {
		if strings.HasPrefix(id, s.prefix) {
			src := &cdx.Source{Name: s.name}
			if s.url != "" {
				src.URL = s.url + id
			}
			return src
		}
	}
	if feed == "" {
		feed = "unknown"
	}
	return &cdx.Source{Name: feed}
}

// isWebURL reports whether s is an absolute http(s) URL, the only
// references offered as advisories (a feed's "reference" can be any
// text).
func isWebURL(s string) bool {
	if strings.ContainsAny(s, " \t\r\n\"<>\\^`{|}") {
		return false
	}
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

func provenance(p finding.Provenance) string {
	s := p.Method
	if p.Feed != "" {
		s += " " + p.Feed
	}
	s += ": " + p.Record
	if p.Ecosystem != "" {
		s += " (" + p.Ecosystem + ")"
	}
	if p.Matched != "" {
		s += ": " + p.Matched
	}
	if p.Comparison != "" {
		s += "; " + p.Comparison
	}
	return s
}

func at(location string) string {
	if location == "" {
		return ""
	}
	return " at " + location
}

// vulnerabilityGaps says whether the vulnerability list is complete for
// the host and, if not, why, one reason each: scopes of the cve package
// not evaluated (or the package not run at all), its rules in error,
// unfixed vulnerabilities left out on request, and stale feeds.
func vulnerabilityGaps(c *report.Report) (bool, []string) {
	var gaps []string
	ran := false
	for _, cov := range c.Coverage {
		if cov.Package != finding.PackageCVE {
			continue
		}
		ran = true
		if cov.Status != report.Evaluated {
			g := "cve scope " + cov.Scope + " " + cov.Status
			if cov.Reason != "" {
				g += ": " + cov.Reason
			}
			gaps = append(gaps, g)
		}
	}
	if !ran {
		gaps = append(gaps, "the cve rules package did not run: no vulnerability was looked for")
	}
	for _, res := range c.Results {
		if res.RulesPackage == finding.PackageCVE && res.Status == finding.StatusError {
			g := "cve rule " + res.RuleID
			if res.Target != "" {
				g += " on " + res.Target
			}
			g += " could not be evaluated"
			if res.Reason != "" {
				g += ": " + res.Reason
			}
			gaps = append(gaps, g)
		}
	}
	if c.IgnoredUnfixed > 0 {
		gaps = append(gaps, fmt.Sprintf("%d vulnerabilities without a released fix were left out on request (kensa scan --ignore-unfixed)", c.IgnoredUnfixed))
	}
	for _, f := range c.Feeds {
		if f.Stale {
			gaps = append(gaps, "feed "+f.Name+" is stale ("+strconv.FormatFloat(f.AgeHours, 'f', -1, 64)+" hours old): newer vulnerabilities may be missing")
		}
	}
	return len(gaps) == 0, gaps
}
