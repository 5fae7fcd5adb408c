package sarif

import (
	"cmp"
	"fmt"
	"net/url"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/kensa-dev/kensa/internal/finding"
	"github.com/kensa-dev/kensa/internal/report"
)

// build converts r. It works on report.Canonical(r), so findings, results
// and coverage come in the report's canonical order whatever the order of
// r, and it never modifies r.
func build(in *report.Report) sarifLog {
	r := report.Canonical(in)
	rules, index := describeRules(r)

	results := make([]result, 0, len(r.Findings))
	host := hostLabel(r.Host)
	for i := range r.Findings {
		f := &r.Findings[i]
		id := findingRuleID(f)
		results = append(results, toResult(f, id, index[id], host))
	}
	// Suppressed findings are results too, marked as accepted with the
	// suppression's justification: SARIF tools show them as dismissed
	// rather than lose them (Kensa never drops a finding silently).
	for i := range r.Suppressed {
		s := &r.Suppressed[i]
		id := findingRuleID(&s.Finding)
		res := toResult(&s.Finding, id, index[id], host)
		just := s.Reason + " (owner " + s.Owner
		if s.Expires != "" {
			just += ", until " + s.Expires
		}
		res.Suppressions = []suppression{{Kind: "external", Status: "accepted", Justification: just + "; " + s.Rule + ")"}}
		results = append(results, res)
	}

	var driverProps *driverProperties
	if r.Tool.Commit != "" {
		driverProps = &driverProperties{Commit: r.Tool.Commit}
	}
	inv := invocation{
		ExecutionSuccessful:        true,
		StartTimeUTC:               sarifTime(r.StartedAt),
		EndTimeUTC:                 sarifTime(r.FinishedAt),
		ToolExecutionNotifications: notifications(r, index),
	}
	return sarifLog{
		Schema:  SchemaURI,
		Version: "2.1.0",
		Runs: []run{{
			Tool: tool{Driver: toolComponent{
				Name:           "kensa",
				Version:        r.Tool.Version,
				InformationURI: InformationURI,
				Rules:          rules,
				Notifications:  notificationDescriptors(),
				Properties:     driverProps,
			}},
			Invocations:        []invocation{inv},
			OriginalURIBaseIDs: map[string]artifactLocation{RootBaseID: rootBase(r.Host)},
			// GitHub code scanning replaces the alerts of an upload with
			// those of the next upload of the same tool and category: one
			// category per host keeps two hosts uploaded to one repository
			// from closing each other's alerts.
			AutomationDetails: &automationDetails{ID: "kensa/" + host + "/"},
			Results:           results,
			Properties: runProperties{
				ReportSchemaVersion: r.SchemaVersion,
				Host:                r.Host,
				Summary:             r.Summary,
				Coverage:            r.Coverage,
				Feeds:               r.Feeds,
				IgnoredUnfixed:      r.IgnoredUnfixed,
				Tailoring:           r.Tailoring,
			},
		}},
	}
}

// sarifTime formats t as SARIF's UTC date-time, empty for the zero time.
func sarifTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// Rule ids.

// findingRuleID is the SARIF rule of a finding. A vulnerability finding's
// rule is the vulnerability itself: Kensa's rule_id for it ("cve/Debian")
// only names the ecosystem it was matched in, and consumers (GitHub's rule
// list, dashboards merging Trivy and Grype output) group vulnerabilities
// by CVE id. The same CVE in two packages is one rule with two results.
func findingRuleID(f *finding.Finding) string {
	if v := vulnerabilityID(f); v != "" {
		return v
	}
	return f.RulesPackage + "/" + f.RuleID
}

// resultRuleID is the SARIF rule of a result. The CVE package names the
// results of advisories it could not evaluate after the advisory ("DSA-
// 5678-1", "CVE-2024-2511"); they are described under that id, bare, as
// the findings of the same vulnerability are. Kensa's own rule ids are
// lower case, so an upper-case advisory prefix tells them apart.
func resultRuleID(res finding.Result) string {
	if res.RulesPackage == finding.PackageCVE && advisoryID.MatchString(res.RuleID) {
		return res.RuleID
	}
	return res.RulesPackage + "/" + res.RuleID
}

var advisoryID = regexp.MustCompile(`^[A-Z][A-Z0-9]*-\S+$`)

// vulnerabilityID is the vulnerability of a CVE finding, empty for the CVE
// package's other findings (os-end-of-life, kernel-reboot-required). A
// report older than 1.2 has only the attribute.
func vulnerabilityID(f *finding.Finding) string {
	if f.RulesPackage != finding.PackageCVE {
		return ""
	}
	if f.Vulnerability != nil && f.Vulnerability.ID != "" {
		return f.Vulnerability.ID
	}
	return f.Attributes["vulnerability_id"]
}

// Rules.

// ruleData gathers what the report says about one SARIF rule.
type ruleData struct {
	id, pkg, name string
	vuln          bool
	findings      []*finding.Finding
	counts        resultCounts
	counted       bool
}

// describeRules returns the rules of every finding and result, sorted by
// rules package (in the report's order) and then naturally by id, and the
// index of each rule id in that list.
func describeRules(r *report.Report) ([]reportingDescriptor, map[string]int) {
	byID := map[string]*ruleData{}
	get := func(id, pkg, name string) *ruleData {
		d := byID[id]
		if d == nil {
			d = &ruleData{id: id, pkg: pkg, name: name}
			byID[id] = d
		}
		return d
	}
	found := slices.Clone(r.Findings)
	for _, s := range r.Suppressed {
		found = append(found, s.Finding)
	}
	for i := range found {
		f := &found[i]
		id := findingRuleID(f)
		name := f.RuleID
		if v := vulnerabilityID(f); v != "" {
			name = v
		}
		d := get(id, f.RulesPackage, name)
		d.vuln = d.vuln || vulnerabilityID(f) != ""
		d.findings = append(d.findings, f)
	}
	for _, res := range r.Results {
		d := get(resultRuleID(res), res.RulesPackage, res.RuleID)
		d.counted = true
		switch res.Status {
		case finding.StatusPass:
			d.counts.Pass++
		case finding.StatusFail:
			d.counts.Fail++
		case finding.StatusNotApplicable:
			d.counts.NotApplicable++
		case finding.StatusError:
			d.counts.Error++
		}
	}

	all := make([]*ruleData, 0, len(byID))
	for _, d := range byID {
		all = append(all, d)
	}
	slices.SortFunc(all, func(a, b *ruleData) int {
		return cmp.Or(cmp.Compare(packageRank(a.pkg), packageRank(b.pkg)), strings.Compare(a.pkg, b.pkg), compareNatural(a.id, b.id), strings.Compare(a.id, b.id))
	})
	rules := make([]reportingDescriptor, len(all))
	index := make(map[string]int, len(all))
	for i, d := range all {
		rules[i] = d.descriptor()
		index[d.id] = i
	}
	return rules, index
}

func (d *ruleData) descriptor() reportingDescriptor {
	rd := reportingDescriptor{ID: d.id, Name: d.name}
	props := &ruleProperties{Tags: []string{"security", d.pkg}, RulesPackage: d.pkg}
	if d.counted {
		c := d.counts
		props.Results = &c
	}
	rd.Properties = props

	if len(d.findings) == 0 {
		short := "Kensa " + d.pkg + " rule " + d.name
		if d.pkg == finding.PackageCVE && advisoryID.MatchString(d.name) {
			short = "Vulnerability advisory " + d.name
		}
		rd.ShortDescription = &text{Text: short}
		rd.FullDescription = &text{Text: short + ": no finding on this host. Results: " + d.counts.phrase() + "."}
		return rd
	}

	first := d.findings[0]
	worst := first.Severity
	var score float64
	scored := false
	exploited := false
	for _, f := range d.findings {
		if severityRank(f.Severity) < severityRank(worst) {
			worst = f.Severity
		}
		if s, ok := securitySeverity(f); ok && (!scored || s > score) {
			score, scored = s, true
		}
		exploited = exploited || (f.Vulnerability != nil && f.Vulnerability.KnownExploited != nil)
	}
	props.Tags = appendTag(props.Tags, string(worst))
	if d.vuln {
		props.Tags = appendTag(props.Tags, "vulnerability")
	}
	if exploited {
		props.Tags = appendTag(props.Tags, "known-exploited")
	}
	if scored {
		props.SecuritySeverity = formatScore(score)
	}
	rd.DefaultConfiguration = &reportingConfiguration{Level: level(worst)}

	description := cmp.Or(strings.TrimSpace(first.Description), first.Title)
	rd.FullDescription = &text{Text: description}
	rd.ShortDescription = &text{Text: d.shortDescription(description)}
	if d.vuln {
		rd.HelpURI = helpURI(d.findings)
	}
	rd.Help = d.help(description)
	return rd
}

// help is the rule's help in text and Markdown: what the problem is, and
// for vulnerabilities their other ids, CISA's catalog entry and the
// references, then every distinct recommendation of the rule's findings (a
// CVE in two packages has two).
func (d *ruleData) help(description string) *text {
	var plain, md strings.Builder
	plain.WriteString(description)
	md.WriteString(description)

	section := func(title string, items []string, links bool) {
		if len(items) == 0 {
			return
		}
		fmt.Fprintf(&plain, "\n\n%s:", title)
		fmt.Fprintf(&md, "\n\n**%s**\n", title)
		for _, it := range items {
			fmt.Fprintf(&plain, "\n- %s", it)
			if links {
				fmt.Fprintf(&md, "\n- <%s>", it)
			} else {
				fmt.Fprintf(&md, "\n- %s", it)
			}
		}
	}
	var aliases, refs, kev, recs []string
	for _, f := range d.findings {
		if v := f.Vulnerability; v != nil {
			aliases = appendUnique(aliases, v.Aliases...)
			for _, u := range v.References {
				if webURL(u) {
					refs = appendUnique(refs, u)
				}
			}
			if k := v.KnownExploited; k != nil {
				line := "listed in CISA's Known Exploited Vulnerabilities catalog since " + k.DateAdded
				if k.DueDate != "" {
					line += ", remediation due " + k.DueDate
				}
				if k.RequiredAction != "" {
					line += ": " + k.RequiredAction
				}
				kev = appendUnique(kev, line)
			}
		}
		if rec := strings.TrimSpace(f.Recommendation); rec != "" {
			recs = appendUnique(recs, rec)
		}
	}
	section("Aliases", aliases, false)
	section("Known exploited", kev, false)
	section("Remediation", recs, false)
	section("References", refs, true)
	return &text{Text: plain.String(), Markdown: md.String()}
}

// helpURI is the first web reference of the rule's vulnerabilities.
func helpURI(fs []*finding.Finding) string {
	for _, f := range fs {
		if f.Vulnerability == nil {
			continue
		}
		for _, u := range f.Vulnerability.References {
			if webURL(u) {
				return u
			}
		}
	}
	return ""
}

// webURL reports whether s is an absolute http(s) URL, as helpUri must be
// (a feed may hold anything).
func webURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" && !strings.ContainsAny(s, " \t\n<>")
}

// shortDescription sums the rule up in one line. A vulnerability is its id
// and the feed's summary, which the rules package puts in the finding's
// title after the package ("CVE-2024-2511 in libssl3 3.0.11: <summary>"),
// else its description's first sentence. A configuration rule (cis,
// best-practices) is its title, the same for all its findings; other
// rules (runtime, the CVE package's host-wide rules) title each finding
// after its subject, so their description's first sentence stands for
// the rule.
func (d *ruleData) shortDescription(description string) string {
	f := d.findings[0]
	switch {
	case d.vuln:
		if rest, ok := strings.CutPrefix(f.Title, d.id+" in "); ok {
			if _, summary, ok := strings.Cut(rest, ": "); ok && strings.TrimSpace(summary) != "" {
				return d.id + ": " + strings.TrimSpace(summary)
			}
		}
		return d.id + ": " + firstSentence(description)
	case d.pkg == finding.PackageCIS || d.pkg == finding.PackageBestPractices:
		return f.Title
	}
	return firstSentence(description)
}

// firstSentence is s up to the end of its first sentence or line, at most
// maxShort characters: a rule's short description is one line.
func firstSentence(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = strings.TrimSpace(s[:i])
	}
	if i := strings.Index(s, ". "); i >= 0 {
		s = s[:i+1]
	}
	if utf8.RuneCountInString(s) > maxShort {
		rs := []rune(s)
		s = strings.TrimSpace(string(rs[:maxShort-1])) + "…"
	}
	return s
}

const maxShort = 200

func appendTag(tags []string, t string) []string {
	if t == "" || slices.Contains(tags, t) {
		return tags
	}
	return append(tags, t)
}

func appendUnique(list []string, items ...string) []string {
	for _, it := range items {
		if it != "" && !slices.Contains(list, it) {
			list = append(list, it)
		}
	}
	return list
}

// phrase counts the results in words: "2 pass, 1 not applicable".
func (c resultCounts) phrase() string {
	var parts []string
	for _, p := range []struct {
		n    int
		word string
	}{{c.Pass, "pass"}, {c.Fail, "fail"}, {c.NotApplicable, "not applicable"}, {c.Error, "error"}} {
		if p.n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", p.n, p.word))
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

// Severity.

// level maps Kensa's severity to SARIF's level. SARIF has three levels for
// problems; Kensa's informational and unrated findings are "note": unrated
// ranks with informational in Kensa (--fail-on), since without a score a
// finding cannot be called more, and a note is still shown.
func level(s finding.Severity) string {
	switch s {
	case finding.High:
		return "error"
	case finding.Medium:
		return "warning"
	}
	return "note"
}

// securitySeverity is the number GitHub code scanning ranks a security
// alert by (over 9.0 critical, 7.0 to 8.9 high, 4.0 to 6.9 medium, below
// low): the finding's CVSS base score when it has one, else a value inside
// the band of its Kensa severity (high 8.0, medium 5.5, low 2.0; Kensa's
// high starts at 7.0 and includes critical, which without a score cannot
// be claimed). Informational and unrated findings have none: GitHub then
// shows their level, note, which says more than a made-up number.
func securitySeverity(f *finding.Finding) (float64, bool) {
	if f.Score != nil && *f.Score > 0 {
		return min(max(*f.Score, 0), 10), true
	}
	switch f.Severity {
	case finding.High:
		return 8.0, true
	case finding.Medium:
		return 5.5, true
	case finding.Low:
		return 2.0, true
	}
	return 0, false
}

// formatScore writes a security-severity as GitHub reads it: a string
// with one decimal ("9.8", "8.0").
func formatScore(s float64) string { return strconv.FormatFloat(s, 'f', 1, 64) }

// severityRank orders severities from the most severe; unknown ones last.
func severityRank(s finding.Severity) int {
	if i := slices.Index(finding.Severities(), s); i >= 0 {
		return i
	}
	return len(finding.Severities())
}

// packageRank orders rules packages as the report does; unknown ones last.
func packageRank(p string) int {
	if i := slices.Index(finding.Packages(), p); i >= 0 {
		return i
	}
	return len(finding.Packages())
}

// compareNatural compares strings with runs of digits compared as numbers,
// so that cis-5.2.9 sorts before cis-5.2.10 and CVE-2024-999 before
// CVE-2024-1000, as in the report.
func compareNatural(a, b string) int {
	for a != "" && b != "" {
		da, db := digitRun(a), digitRun(b)
		if da > 0 && db > 0 {
			na, nb := strings.TrimLeft(a[:da], "0"), strings.TrimLeft(b[:db], "0")
			if c := cmp.Or(cmp.Compare(len(na), len(nb)), strings.Compare(na, nb)); c != 0 {
				return c
			}
			a, b = a[da:], b[db:]
			continue
		}
		if a[0] != b[0] {
			return cmp.Compare(a[0], b[0])
		}
		a, b = a[1:], b[1:]
	}
	return cmp.Compare(len(a), len(b))
}

func digitRun(s string) int {
	n := 0
	for n < len(s) && s[n] >= '0' && s[n] <= '9' {
		n++
	}
	return n
}

// Results.

func toResult(f *finding.Finding, ruleID string, ruleIndex int, host string) result {
	primary, related := locate(f, host)
	attrs := f.Attributes
	if attrs == nil {
		attrs = map[string]string{}
	}
	return result{
		RuleID:              ruleID,
		RuleIndex:           ruleIndex,
		Level:               level(f.Severity),
		Message:             text{Text: message(f)},
		Locations:           []location{primary},
		RelatedLocations:    related,
		PartialFingerprints: map[string]string{FingerprintKey: f.ID},
		Properties: resultProperties{
			RulesPackage:   f.RulesPackage,
			RuleID:         f.RuleID,
			Severity:       f.Severity,
			Score:          f.Score,
			Recommendation: f.Recommendation,
			Attributes:     attrs,
			Vulnerability:  f.Vulnerability,
		},
	}
}

// message is the finding's title and evidence, then its recommendation:
// the rule's help is shared by every finding of the rule, and only the
// finding says which version fixes this package.
func message(f *finding.Finding) string {
	var b strings.Builder
	b.WriteString(f.Title)
	if len(f.Evidence) > 0 {
		b.WriteString("\n")
		for _, e := range f.Evidence {
			b.WriteString("\n" + e)
		}
	}
	if rec := strings.TrimSpace(f.Recommendation); rec != "" {
		b.WriteString("\n\nRecommendation: " + rec)
	}
	return b.String()
}

// Locations.

// place is a file of the assessed host, and a line in it when known.
type place struct {
	path string
	line int
	// evidence is the evidence line that named it, if one did.
	evidence string
}

// locate returns the location of a finding and the related locations its
// other evidence names.
//
// The location is the first of: for a vulnerability, the file the
// component was found in (the package database for OS packages, the
// binary or manifest otherwise; for an archive nested in another, the
// outer file); else a "path:line" an evidence line starts with; the
// "path" or "file" attribute; the "target" attribute when it is a path;
// a path an evidence line starts with; the "exe" attribute (the program a
// runtime finding is about).
//
// A finding without any file (os-end-of-life, kernel-reboot-required, a
// listener whose owner is unknown, a configuration rule about a service)
// is located at the host itself: an artifact named after the host, with
// the finding's target as a logical location. SARIF allows a result
// without locations, but GitHub code scanning rejects the whole file for
// one such result, so every result has an artifact URI.
func locate(f *finding.Finding, host string) (location, []location) {
	var cands []place
	add := func(p place) {
		if _, ok := rootRelative(p.path); ok {
			cands = append(cands, p)
		}
	}
	var fromEvidence []place
	for _, e := range f.Evidence {
		if p, ok := evidencePlace(e); ok {
			fromEvidence = append(fromEvidence, p)
		}
	}
	// A vulnerability's file is often shared (every OS package is in the
	// package database): the package, as a logical location, tells its
	// results apart for a reader.
	var nested string
	var pkg []logicalLocation
	if vulnerabilityID(f) != "" {
		loc := f.Attributes["location"]
		if f.Vulnerability != nil && f.Vulnerability.Location != "" {
			loc = f.Vulnerability.Location
		}
		outer, _, isNested := strings.Cut(loc, "!/")
		if isNested {
			nested = loc
		}
		add(place{path: outer})
		if v := f.Vulnerability; v != nil && v.Package != "" {
			pkg = []logicalLocation{{Name: v.Package, FullyQualifiedName: v.Ecosystem + "/" + v.Package, Kind: "package"}}
		}
	}
	for _, p := range fromEvidence {
		if p.line > 0 {
			add(p)
		}
	}
	add(place{path: f.Attributes["path"]})
	add(place{path: f.Attributes["file"]})
	// A target names a subject for people ("/usr/bin/telnet telnet
	// 192.0.2.7:23", "kernel 6.1.0-28-amd64"): only one without white
	// space is taken for a path.
	if t := f.Attributes["target"]; !strings.ContainsFunc(t, unicode.IsSpace) {
		add(place{path: t})
	}
	for _, p := range fromEvidence {
		if p.line == 0 {
			add(p)
		}
	}
	add(place{path: f.Attributes["exe"]})

	if len(cands) == 0 {
		l := location{
			PhysicalLocation: &physicalLocation{ArtifactLocation: artifactLocation{URI: escapePath(host)}},
			Message:          &text{Text: "No file is involved: the finding is about the host " + host + " as a whole."},
		}
		if t := f.Attributes["target"]; t != "" {
			l.LogicalLocations = []logicalLocation{{Name: t, Kind: "resource"}}
		}
		return l, nil
	}

	primary := cands[0].location()
	primary.LogicalLocations = pkg
	if nested != "" {
		primary.Message = &text{Text: "in " + nested}
	}
	var related []location
	// The same file and line once, compared as URIs ("/etc//x" is
	// "/etc/x").
	key := func(p place) string {
		uri, _ := rootRelative(p.path)
		return uri + ":" + strconv.Itoa(p.line)
	}
	seen := map[string]bool{key(cands[0]): true}
	for _, p := range fromEvidence {
		if len(related) == maxRelated {
			break
		}
		if seen[key(p)] {
			continue
		}
		seen[key(p)] = true
		l := p.location()
		id := len(related) + 1
		l.ID = &id
		l.Message = &text{Text: p.evidence}
		related = append(related, l)
	}
	return primary, related
}

// maxRelated caps the related locations of a result; rules cap their
// evidence too.
const maxRelated = 10

func (p place) location() location {
	uri, _ := rootRelative(p.path)
	pl := &physicalLocation{ArtifactLocation: artifactLocation{URI: uri, URIBaseID: RootBaseID}}
	if p.line > 0 {
		pl.Region = &region{StartLine: p.line}
	}
	return location{PhysicalLocation: pl}
}

// evidenceLocation matches an evidence line that starts with an absolute
// path, optionally ":line", ended by ": ", white space or the end of the
// line: "/etc/ssh/sshd_config:32: PermitRootLogin yes",
// "/etc/fstab:12: /dev/sda1 /tmp ext4 defaults", "/dev/shm is not a
// separate partition". evidenceOrigin matches the origin of a setting in
// parentheses, as the rules write it after a value:
// "sshd: PermitRootLogin yes (/etc/ssh/sshd_config:33); want no".
//
// Only an unambiguous path counts: one with white space, a colon, glob or
// bracket characters in it, or followed by anything else ("/etc/a,
// /etc/b", "/etc/x.d/*.conf: no line", "(sshd -T)"), is not taken, since
// a wrong location misleads more than the host's.
var (
	evidenceLocation = regexp.MustCompile(`^(` + pathPattern + `)(?::([0-9]{1,9}))?(?:: |:$|\s|$)`)
	evidenceOrigin   = regexp.MustCompile(`\((` + pathPattern + `)(?::([0-9]{1,9}))?\)`)
)

const pathPattern = `/[^\s:*?\[\]()]*[^\s:*?\[\]().,;]`

// evidencePlace is the file, and line, an evidence line names: a
// "path:line" it starts with, else the last "(path:line)" in it (a
// setting's own origin comes after that of the block holding it: "Match
// User bob (/etc/ssh/sshd_config:50): PasswordAuthentication yes
// (/etc/ssh/sshd_config:52)"), else a path it starts with, else the last
// "(path)".
func evidencePlace(e string) (place, bool) {
	var lead, origin *place
	if m := evidenceLocation.FindStringSubmatch(e); m != nil {
		lead = &place{path: m[1], line: lineNumber(m[2]), evidence: e}
	}
	if ms := evidenceOrigin.FindAllStringSubmatch(e, -1); ms != nil {
		m := ms[len(ms)-1]
		origin = &place{path: m[1], line: lineNumber(m[2]), evidence: e}
	}
	for _, p := range []*place{lead, origin} {
		if p != nil && p.line > 0 {
			return *p, true
		}
	}
	for _, p := range []*place{lead, origin} {
		if p != nil {
			return *p, true
		}
	}
	return place{}, false
}

// lineNumber is a matched line number, 0 for none (lines count from 1).
func lineNumber(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

// rootRelative turns an absolute path of the assessed host into a URI
// relative to RootBaseID: "/etc/ssh/sshd_config" → "etc/ssh/sshd_config".
// Paths in a report are the host's own, also for an image (its root is
// the file system's root), so they resolve against the report's root. It
// rejects relative paths and the root itself.
func rootRelative(p string) (string, bool) {
	if !strings.HasPrefix(p, "/") {
		return "", false
	}
	rel := strings.TrimPrefix(path.Clean(p), "/")
	if rel == "" {
		return "", false
	}
	return escapePath(rel), true
}

// escapePath percent-encodes each segment of a slash-separated path for a
// relative URI reference. Colons are encoded too: a first segment with a
// colon ("a:b/c") would read as a URI scheme.
func escapePath(p string) string {
	segs := strings.Split(p, "/")
	for i, s := range segs {
		segs[i] = strings.ReplaceAll(url.PathEscape(s), ":", "%3A")
	}
	return strings.Join(segs, "/")
}

// hostLabel names the host in host-wide locations and in the run's
// category: its hostname, else its machine id (an image may have no
// hostname), else "host".
func hostLabel(h report.Host) string {
	return cmp.Or(h.Hostname, h.MachineID, "host")
}

// rootBase is RootBaseID's definition: the file URI of the root that was
// assessed (file:/// for a live host), ending with "/" as SARIF requires.
// A root that is not an absolute path is only described.
func rootBase(h report.Host) artifactLocation {
	desc := "The root of the assessed file system"
	switch {
	case h.Live:
		desc += ", " + cmp.Or(h.Root, "/") + " on the running system " + hostLabel(h)
	case h.Root != "":
		desc += ": " + h.Root + " (an image or a mounted file system, not a running system)"
	}
	loc := artifactLocation{Description: &text{Text: desc + "."}}
	root := h.Root
	if h.Live && root == "" {
		root = "/"
	}
	if strings.HasPrefix(root, "/") {
		p := path.Clean(root)
		if p != "/" {
			p += "/"
		}
		loc.URI = (&url.URL{Scheme: "file", Path: p}).String()
	}
	return loc
}

// Notifications.

// notificationDescriptors describes the notifications Write may emit, in
// a fixed order: notifications refer to them by index.
func notificationDescriptors() []reportingDescriptor {
	d := func(id, short, full string) reportingDescriptor {
		return reportingDescriptor{ID: id, ShortDescription: &text{Text: short}, FullDescription: &text{Text: full}}
	}
	return []reportingDescriptor{
		d(NotifyCoverageGap, "A scope of a rules package was not fully evaluated.",
			"Kensa never reports clean for what it did not evaluate: for this scope findings may be missing, and their absence means nothing."),
		d(NotifyRuleError, "A rule could not be evaluated on a target.",
			"The rule gave no verdict on this target: a finding may be missing."),
		d(NotifyPackageNotRun, "A rules package did not run.",
			"The rules package was not requested (kensa scan --packages): nothing of it was evaluated, and the host is not clean of it."),
		d(NotifyIgnoredUnfixed, "Vulnerabilities without a released fix were left out on request.",
			"They were found but left out of the results (kensa scan --ignore-unfixed): the host is not clean of them."),
		d(NotifyStaleFeed, "A vulnerability feed is older than 7 days.",
			"Vulnerabilities published since the feed's data was made may be missing; update it (kensa db update)."),
	}
}

func descriptorRef(id string) descriptorReference {
	i := slices.IndexFunc(notificationDescriptors(), func(d reportingDescriptor) bool { return d.ID == id })
	return descriptorReference{ID: id, Index: i}
}

// notifications lists what the results do not cover. A coverage entry that
// is partial or not evaluated, and a rule that errored on a target, are
// "error" notifications: SARIF defines those as "the results cannot be
// assumed to be complete" (appendix I), which is exactly what they mean.
// The execution itself succeeded: the report was made, and a gap is part
// of it, not a crash. Rules packages that did not run (not requested) are
// warnings, as are stale feeds; vulnerabilities left out on request are a
// note.
func notifications(r *report.Report, index map[string]int) []notification {
	out := []notification{}
	for _, c := range r.Coverage {
		if c.Status == report.Evaluated {
			continue
		}
		scope := "scope " + c.Scope
		if c.Scope == "*" {
			scope = "the whole package"
		}
		status := c.Status
		switch status {
		case report.Partial:
			status = "partially evaluated"
		case report.NotEvaluated:
			status = "not evaluated"
		}
		msg := fmt.Sprintf("Rules package %s, %s: %s: %s", c.Package, scope, status, cmp.Or(c.Reason, "no reason given"))
		out = append(out, notification{Descriptor: descriptorRef(NotifyCoverageGap), Level: "error", Message: text{Text: msg}, Properties: c})
	}
	for _, res := range r.Results {
		if res.Status != finding.StatusError {
			continue
		}
		id := resultRuleID(res)
		on := ""
		if res.Target != "" {
			on = " on " + res.Target
		}
		msg := fmt.Sprintf("Rule %s could not be evaluated%s: %s", id, on, cmp.Or(res.Reason, "no reason given"))
		out = append(out, notification{Descriptor: descriptorRef(NotifyRuleError), AssociatedRule: &descriptorReference{ID: id, Index: index[id]},
			Level: "error", Message: text{Text: msg}, Properties: res})
	}
	for _, p := range r.Summary.NotRun {
		msg := fmt.Sprintf("Rules package %s did not run (not requested): nothing of it was evaluated.", p)
		out = append(out, notification{Descriptor: descriptorRef(NotifyPackageNotRun), Level: "warning", Message: text{Text: msg},
			Properties: struct {
				Package string `json:"package"`
			}{p}})
	}
	if n := r.IgnoredUnfixed; n > 0 {
		msg := fmt.Sprintf("%d %s without a released fix %s found but left out on request (--ignore-unfixed).", n, plural(n, "vulnerability", "vulnerabilities"), plural(n, "was", "were"))
		out = append(out, notification{Descriptor: descriptorRef(NotifyIgnoredUnfixed), Level: "note", Message: text{Text: msg},
			Properties: struct {
				IgnoredUnfixed int `json:"ignored_unfixed"`
			}{n}})
	}
	for _, f := range r.Feeds {
		if !f.Stale && f.AgeHours*float64(time.Hour) <= float64(report.StaleAfter) {
			continue
		}
		msg := fmt.Sprintf("Vulnerability feed %s is %.0f hours old, older than 7 days: vulnerabilities published since may be missing.", f.Name, f.AgeHours)
		out = append(out, notification{Descriptor: descriptorRef(NotifyStaleFeed), Level: "warning", Message: text{Text: msg},
			Properties: struct {
				Feed     string  `json:"feed"`
				AgeHours float64 `json:"age_hours"`
			}{f.Name, f.AgeHours}})
	}
	return out
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
