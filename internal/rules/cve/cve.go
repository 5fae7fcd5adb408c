// Package cve is the CVE rules package: it matches the inventory's OS
// packages and the software found outside the package manager against the
// advisories of the vulnerability store, and reports one finding per
// (host, package, vulnerability) carrying every record that found it.
//
// Matching is exact and explainable:
//   - versions compare by the rules of their ecosystem (package version);
//   - distro advisories match on the source package (a CVE in openssl
//     affects libssl3) unless the feed names binary packages (RPM errata);
//   - a vendor's status is respected: not-affected silences a record,
//     "needed" or "no-dsa" is reported as unfixed, never with an invented
//     fix;
//   - an erratum for a module stream applies only to packages of that
//     stream;
//   - only the running kernel's packages are matched (headers and
//     linux-libc-dev are not the kernel), and a newer kernel waiting for a
//     reboot is its own finding;
//   - a RHEL-family host without its own feed may be matched against a
//     rebuild's (AlmaLinux, Rocky Linux) at lower confidence, and says so;
//   - Debian and Ubuntu hosts without a feed are covered, partially, by
//     the CVEs their pending updates' changelogs name.
//
// Whatever cannot be evaluated is said in the coverage, with the reason:
// a host whose packages no feed covers never gets a clean report.
package cve

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/kensa-dev/kensa/internal/advisory"
	"github.com/kensa-dev/kensa/internal/finding"
	"github.com/kensa-dev/kensa/internal/host"
	"github.com/kensa-dev/kensa/internal/report"
	"github.com/kensa-dev/kensa/internal/version"
	"github.com/kensa-dev/kensa/internal/vulndb"
)

// Store is what matching reads from the vulnerability database.
type Store interface {
	Lookup(ctx context.Context, ecosystem, name string) ([]vulndb.Candidate, error)
	Sources(ctx context.Context) ([]vulndb.Source, error)
	Exploited(ctx context.Context, cves []string) (map[string]advisory.Exploited, error)
}

// Rule ids of the CVE rules package besides the vulnerability rules
// ("cve/Debian", "cve/Go": see RuleFor).
const (
	RuleRebootRequired = "kernel-reboot-required"
	RuleEndOfLife      = "os-end-of-life"
)

// RuleFor is the rule id of vulnerability findings in ecosystem: "cve/"
// and the ecosystem's name without release or spaces ("cve/Debian",
// "cve/RedHat", "cve/Go"), as docs/report.md defines.
func RuleFor(ecosystem string) string {
	return "cve/" + strings.ReplaceAll(version.Base(ecosystem), " ", "")
}

// StaleAfter is the age past which a feed is reported as stale.
const StaleAfter = 7 * 24 * time.Hour

// Options configure an evaluation.
type Options struct {
	// DBPath names the store in messages ("no vulnerability database at
	// ..."); DBError is why it could not be opened, when it could not.
	DBPath  string
	DBError error
	// IgnoreUnfixed drops findings without a released fix; they are
	// counted in Outcome.IgnoredUnfixed.
	IgnoreUnfixed bool
	Now           func() time.Time
}

// Outcome is what the CVE rules package produced for one host.
type Outcome struct {
	Findings []finding.Finding
	Coverage []report.Coverage
	Feeds    []report.Feed
	Results  []finding.Result
	// IgnoredUnfixed counts findings dropped by Options.IgnoreUnfixed.
	IgnoredUnfixed int
}

// Evaluate matches inv against store (nil when there is no store; the
// coverage then says why nothing could be matched).
func Evaluate(ctx context.Context, inv *host.Inventory, store Store, opts Options) (*Outcome, error) {
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	e := &evaluation{inv: inv, store: store, opts: opts, now: now().UTC(), acc: map[key]*accumulator{}, out: &Outcome{}, compareErrors: map[string]int{}}
	if store != nil {
		srcs, err := store.Sources(ctx)
		if err != nil {
			return nil, err
		}
		e.sources = srcs
		e.have = map[string][]string{}
		for _, s := range srcs {
			for _, eco := range s.Ecosystems {
				e.have[eco] = append(e.have[eco], s.Name)
			}
		}
	}
	e.lifecycle()
	if err := e.osPackages(ctx); err != nil {
		return nil, err
	}
	if err := e.software(ctx); err != nil {
		return nil, err
	}
	if err := e.finish(ctx); err != nil {
		return nil, err
	}
	return e.out, nil
}

type evaluation struct {
	inv     *host.Inventory
	store   Store
	opts    Options
	now     time.Time
	sources []vulndb.Source
	have    map[string][]string // ecosystem -> sources
	used    map[string]bool     // sources that took part
	acc     map[key]*accumulator
	// kernelSources are the source packages of the kernel ("dpkg/linux",
	// "rpm/kernel"), filled on first use.
	kernelSources map[string]bool
	// compareErrors counts, per coverage scope, the records that could not
	// be evaluated because a version could not be read.
	compareErrors map[string]int
	order         []key
	out           *Outcome
}

// key identifies one finding: a target (a package or a component at a
// location) and a vulnerability.
type key struct {
	target string
	vuln   string
}

// accumulator gathers what every matching record says about one finding.
type accumulator struct {
	subject    finding.Subject
	rule       string
	pkg        *host.Package
	soft       *host.Software
	ecosystem  string
	aliases    map[string]bool
	provenance []finding.Provenance
	ratings    []ratedSet
	refs       []string
	summary    string
	details    string
	confidence string
	// fixes by repository ("" is the release's own archive).
	fixes    map[string][]string
	unfixed  string // the vendor's words when some record says no fix
	binaries []string
}

func (e *evaluation) noStoreReason() string {
	if e.opts.DBError != nil {
		return fmt.Sprintf("the vulnerability database could not be used (%v): run `kensa db update` or `kensa db import PATH`", e.opts.DBError)
	}
	return "no vulnerability database: run `kensa db update` or `kensa db import PATH`"
}

func (e *evaluation) cover(scope, status, reason string) {
	e.out.Coverage = append(e.out.Coverage, report.Coverage{Package: finding.PackageCVE, Scope: scope, Status: status, Reason: reason})
}

// lifecycle reports an operating system past its end of life, which no
// feed will report new vulnerabilities for, and a kernel update waiting
// for a reboot.
func (e *evaluation) lifecycle() {
	id := e.inv.Identity
	defer func() {
		var checked []string
		for _, r := range e.out.Results {
			checked = append(checked, r.RuleID)
		}
		if len(checked) > 0 {
			e.cover("lifecycle", report.Evaluated, strings.Join(checked, ", ")+" checked")
		}
	}()
	if o := e.inv.OS; o != nil && o.EOL != nil {
		res := finding.Result{RulesPackage: finding.PackageCVE, RuleID: RuleEndOfLife, Target: o.ID + " " + o.Release, Status: finding.StatusPass}
		if o.EOL.Reached {
			res.Status = finding.StatusFail
			note := cmp.Or(o.EOL.Note, "end of standard support")
			f := finding.Finding{
				RulesPackage: finding.PackageCVE,
				RuleID:       RuleEndOfLife,
				Severity:     finding.High,
				Title:        fmt.Sprintf("%s is past its end of life (%s)", cmp.Or(o.PrettyName, o.ID+" "+o.Release), o.EOL.Date),
				Description: fmt.Sprintf("%s reached its end of life on %s (%s). Its vendor no longer publishes fixes, and vulnerability feeds no longer report "+
					"new vulnerabilities in its packages, so a scan cannot show what is now vulnerable on it.", cmp.Or(o.PrettyName, o.ID), o.EOL.Date, note),
				Recommendation: "Upgrade to a supported release of the distribution, or move the host to a paid extended-support programme and a feed that covers it.",
				Evidence:       []string{fmt.Sprintf("os-release: %s %s; end of life %s (%s)", o.ID, cmp.Or(o.PointRelease, o.Release), o.EOL.Date, note)},
				Attributes:     map[string]string{"target": o.ID + " " + o.Release, "eol": o.EOL.Date},
			}
			f.ID = finding.Fingerprint(finding.Subject{Host: finding.HostKey(id), RulesPackage: finding.PackageCVE, RuleID: RuleEndOfLife, Target: o.ID + ":" + o.Major})
			e.out.Findings = append(e.out.Findings, f)
		}
		e.out.Results = append(e.out.Results, res)
	}
	if k := e.inv.Kernel; k != nil && k.Running != "" {
		res := finding.Result{RulesPackage: finding.PackageCVE, RuleID: RuleRebootRequired, Target: k.Running, Status: finding.StatusPass}
		if k.RebootRequired {
			res.Status = finding.StatusFail
			f := finding.Finding{
				RulesPackage: finding.PackageCVE,
				RuleID:       RuleRebootRequired,
				Severity:     finding.Medium,
				Title:        "A newer kernel is installed but not running: reboot required",
				Description: "The kernel fixes installed by the package manager take effect only after a reboot. Until then the running kernel keeps " +
					"every vulnerability the newer one fixes, and the running kernel is what is matched against the feeds.",
				Recommendation: "Reboot the host into the newest installed kernel.",
				Evidence:       []string{k.RebootReason},
				Attributes:     map[string]string{"target": "kernel " + k.Running},
			}
			f.ID = finding.Fingerprint(finding.Subject{Host: finding.HostKey(id), RulesPackage: finding.PackageCVE, RuleID: RuleRebootRequired, Target: "kernel"})
			e.out.Findings = append(e.out.Findings, f)
		}
		e.out.Results = append(e.out.Results, res)
	}
}

// cveID matches CVE ids.
var cveID = regexp.MustCompile(`^CVE-\d{4}-\d{4,}$`)

// vulnIDs returns the vulnerabilities an advisory is about: its CVE ids
// (the advisory's own id when it is one, and its aliases). An advisory
// naming no CVE is one vulnerability, named by the smallest of its own id
// and its aliases, preferring a GHSA id: records that alias each other
// (PYSEC-2022-9 and GHSA-...) then name the same vulnerability and make
// one finding.
func vulnIDs(a *advisory.Advisory) []string {
	var out []string
	if cveID.MatchString(a.ID) {
		out = append(out, a.ID)
	}
	for _, al := range a.Aliases {
		if cveID.MatchString(al) && !slices.Contains(out, al) {
			out = append(out, al)
		}
	}
	if len(out) > 0 {
		return out
	}
	ids := append([]string{a.ID}, a.Aliases...)
	slices.SortFunc(ids, func(x, y string) int {
		gx, gy := strings.HasPrefix(x, "GHSA-"), strings.HasPrefix(y, "GHSA-")
		if gx != gy {
			if gx {
				return -1
			}
			return 1
		}
		return strings.Compare(x, y)
	})
	return ids[:1]
}

// record adds one vulnerable match to its finding.
func (e *evaluation) record(k key, newAcc func() *accumulator, c vulndb.Candidate, v verdict, prov finding.Provenance, confidence string) {
	acc := e.acc[k]
	if acc == nil {
		acc = newAcc()
		acc.aliases, acc.fixes = map[string]bool{}, map[string][]string{}
		acc.confidence = confidence
		e.acc[k] = acc
		e.order = append(e.order, k)
	}
	if confidence == finding.ConfidenceHigh {
		acc.confidence = confidence
	}
	// Aliases are the other names of this vulnerability: the records'
	// ids and their non-CVE aliases. Another CVE an advisory also fixes
	// is another vulnerability, with its own finding.
	a := c.Advisory
	for _, id := range append([]string{a.ID}, a.Aliases...) {
		if id != k.vuln && !cveID.MatchString(id) {
			acc.aliases[id] = true
		}
	}
	if !slices.Contains(acc.provenance, prov) {
		acc.provenance = append(acc.provenance, prov)
	}
	acc.ratings = append(acc.ratings, ratedSet{from: a.ID, severities: slices.Concat(c.Affected.Severities, a.Severities)})
	for _, r := range a.References {
		if !slices.Contains(acc.refs, r) {
			acc.refs = append(acc.refs, r)
		}
	}
	if acc.summary == "" {
		acc.summary = a.Summary
	}
	if acc.details == "" {
		acc.details = a.Details
	}
	for _, b := range c.Affected.Binaries {
		if !slices.Contains(acc.binaries, b) {
			acc.binaries = append(acc.binaries, b)
		}
	}
	switch v.fix {
	case finding.FixAvailable:
		acc.fixes[c.Affected.Repository] = append(acc.fixes[c.Affected.Repository], v.fixed)
	default:
		if acc.unfixed == "" || v.fix == finding.FixWillNotFix {
			acc.unfixed = v.fix + ": " + v.matched
		}
	}
	if e.used == nil {
		e.used = map[string]bool{}
	}
	if c.Source != "" {
		e.used[c.Source] = true
	}
}

// finish turns the accumulated matches into findings, marks the known
// exploited ones, and lists the feeds used.
func (e *evaluation) finish(ctx context.Context) error {
	var cves []string
	for _, k := range e.order {
		if cveID.MatchString(k.vuln) {
			cves = append(cves, k.vuln)
		}
	}
	kev := map[string]advisory.Exploited{}
	if e.store != nil {
		var err error
		if kev, err = e.store.Exploited(ctx, cves); err != nil {
			return err
		}
	}
	var vulns []finding.Finding
	for _, k := range e.order {
		f := e.build(k, e.acc[k])
		if x, ok := kev[k.vuln]; ok {
			f.Vulnerability.KnownExploited = &finding.KnownExploited{DateAdded: x.DateAdded, DueDate: x.DueDate, RequiredAction: x.RequiredAction, Ransomware: x.Ransomware}
			f.Evidence = append(f.Evidence, "CISA Known Exploited Vulnerabilities: added "+x.DateAdded)
		}
		// --ignore-unfixed never hides a known exploited vulnerability:
		// without a fix it needs a mitigation all the more.
		if e.opts.IgnoreUnfixed && f.Vulnerability.Fix != finding.FixAvailable && f.Vulnerability.KnownExploited == nil {
			e.out.IgnoredUnfixed++
			continue
		}
		vulns = append(vulns, f)
	}
	// Known exploited first, then by severity, vulnerability and target.
	slices.SortStableFunc(vulns, func(a, b finding.Finding) int {
		ka, kb := a.Vulnerability.KnownExploited != nil, b.Vulnerability.KnownExploited != nil
		if ka != kb {
			if ka {
				return -1
			}
			return 1
		}
		return cmp.Or(cmp.Compare(sevRank(b.Severity), sevRank(a.Severity)), cmp.Compare(a.Vulnerability.ID, b.Vulnerability.ID),
			cmp.Compare(a.Vulnerability.Package, b.Vulnerability.Package), cmp.Compare(a.ID, b.ID))
	})
	e.out.Findings = append(e.out.Findings, vulns...)
	e.out.Feeds = e.feeds()
	return nil
}

func sevRank(s finding.Severity) int {
	for i, v := range finding.Severities() {
		if v == s {
			return len(finding.Severities()) - i
		}
	}
	return 0
}

// feeds lists the sources that took part or could have (those covering
// one of the host's ecosystems), and the KEV catalog, with their age.
func (e *evaluation) feeds() []report.Feed {
	out := []report.Feed{}
	relevant := map[string]bool{}
	for src := range e.used {
		relevant[src] = true
	}
	hostEcos := map[string]bool{}
	for _, eco := range e.hostEcosystems() {
		hostEcos[eco] = true
	}
	for _, s := range e.sources {
		for _, eco := range s.Ecosystems {
			// Red Hat's ecosystems are per repository:
			// "Red Hat:enterprise_linux:9::baseos" serves "...:9".
			base, _, _ := strings.Cut(eco, "::")
			if hostEcos[eco] || hostEcos[base] {
				relevant[s.Name] = true
			}
		}
		if s.Format == "kev" {
			relevant[s.Name] = true
		}
	}
	for _, s := range e.sources {
		if !relevant[s.Name] {
			continue
		}
		f := report.Feed{Name: s.Name, Format: s.Format, Records: s.Records, UpdatedAt: s.CheckedAt}
		data := s.DataTime()
		if data.IsZero() {
			f.AgeBasis = "import: the feed does not date its data"
			data = s.ImportedAt
		} else {
			f.DataTime = data
			f.AgeBasis = "data"
		}
		age := max(e.now.Sub(data), 0) // a feed dated in the future (clock skew) is new, not negative
		f.AgeHours = float64(age.Round(time.Hour) / time.Hour)
		f.Stale = age > StaleAfter
		out = append(out, f)
	}
	return out
}

// hostEcosystems lists the ecosystems of the host's packages and software
// (with the Ubuntu Pro twin of an Ubuntu release).
func (e *evaluation) hostEcosystems() []string {
	set := map[string]bool{}
	for _, eco := range e.osEcosystems() {
		set[eco.name] = true
	}
	for _, s := range e.inv.Software {
		set[s.Ecosystem] = true
	}
	return slices.Sorted(maps.Keys(set))
}

// build makes the finding of one accumulator.
func (e *evaluation) build(k key, acc *accumulator) finding.Finding {
	v := &finding.Vulnerability{
		ID:         k.vuln,
		Aliases:    slices.Sorted(maps.Keys(acc.aliases)),
		Ecosystem:  acc.ecosystem,
		Confidence: acc.confidence,
		References: acc.refs,
		Provenance: acc.provenance,
	}
	var name, installed, where, mgr, location string
	if p := acc.pkg; p != nil {
		name, installed, mgr, location = p.Name, p.Version, p.Manager, p.Source
		v.Package, v.InstalledVersion = p.Name, p.Version
		v.SourcePackage, v.SourceVersion = cmp.Or(p.SourceName, p.Name), cmp.Or(p.SourceVersion, p.Version)
	} else {
		s := acc.soft
		name, installed, where, location = s.Name, s.Version, s.Location, s.Location
		v.Package, v.InstalledVersion, v.Location = s.Name, s.Version, s.Location
	}
	// The fix: the release's own archive first, then another repository
	// (Ubuntu Pro). Several records may name different fixes (errata for
	// successive minor releases); the newest one fixes them all.
	if fixes := acc.fixes[""]; len(fixes) > 0 {
		v.Fix, v.FixedVersion = finding.FixAvailable, newest(acc.ecosystem, fixes)
	} else if len(acc.fixes) > 0 {
		repo := slices.Sorted(maps.Keys(acc.fixes))[0]
		v.Fix, v.FixedVersion, v.FixRepository = finding.FixAvailable, newest(acc.ecosystem, acc.fixes[repo]), repo
	} else if strings.HasPrefix(acc.unfixed, finding.FixWillNotFix) {
		v.Fix = finding.FixWillNotFix
	} else {
		v.Fix = finding.FixUnfixed
	}
	r := rate(acc.ratings)
	v.SeveritySource, v.CVSS = r.source, r.vector

	f := finding.Finding{
		RulesPackage:  finding.PackageCVE,
		RuleID:        acc.rule,
		Severity:      r.severity,
		Score:         r.score,
		Vulnerability: v,
	}
	f.Attributes = map[string]string{
		"vulnerability_id": k.vuln,
		"aliases":          strings.Join(v.Aliases, ","),
		"package_name":     name,
		"package_version":  installed,
		"source_package":   v.SourcePackage,
		"fixed_version":    v.FixedVersion,
		"ecosystem":        acc.ecosystem,
		"location":         location,
	}
	f.ID = finding.Fingerprint(acc.subject)
	f.Title = fmt.Sprintf("%s in %s %s", k.vuln, name, installed)
	if title := strings.TrimSpace(vendorPrefix.ReplaceAllString(acc.summary, "")); title != "" && len(title) <= 120 {
		f.Title += ": " + title
	}
	f.Description = describeVuln(acc)
	f.Recommendation = e.recommend(v, mgr, where)
	f.Evidence = append(f.Evidence, installedLine(acc))
	for _, p := range acc.provenance {
		line := p.Method + ": " + p.Record
		if p.Feed != "" {
			line += " (" + p.Feed + ")"
		}
		line += ": " + p.Matched
		if p.Comparison != "" {
			line += "; " + p.Comparison
		}
		f.Evidence = append(f.Evidence, line)
	}
	return f
}

// vendorPrefix is the rating Red Hat style summaries start with.
var vendorPrefix = regexp.MustCompile(`^(Critical|Important|Moderate|Low):\s*`)

func newest(ecosystem string, versions []string) string {
	best := versions[0]
	for _, v := range versions[1:] {
		if c, err := version.Compare(ecosystem, v, best); err == nil && c > 0 {
			best = v
		}
	}
	return best
}

func installedLine(acc *accumulator) string {
	if p := acc.pkg; p != nil {
		s := fmt.Sprintf("installed: %s %s", p.Name, p.Version)
		if p.Arch != "" {
			s += " (" + p.Arch + ")"
		}
		if p.SourceName != "" && (p.SourceName != p.Name || p.SourceVersion != p.Version) {
			s += fmt.Sprintf(", source package %s %s", p.SourceName, p.SourceVersion)
		}
		if p.ModularityLabel != "" {
			s += ", module " + p.ModularityLabel
		}
		return s
	}
	s := acc.soft
	line := fmt.Sprintf("found: %s %s at %s", s.Name, s.Version, s.Location)
	if s.GoVersion != "" && s.Kind != host.KindGoStdlib {
		line += " (built with " + s.GoVersion + ")"
	}
	if s.OwnedBy != "" {
		line += ", a file of the OS package " + s.OwnedBy
	}
	return line
}

func describeVuln(acc *accumulator) string {
	d := strings.TrimSpace(acc.details)
	if d == "" {
		d = strings.TrimSpace(acc.summary)
	}
	if len(d) > 1500 {
		cut := strings.LastIndexAny(d[:1500], ".\n")
		if cut < 500 {
			cut = 1500
		}
		d = d[:cut+1] + " [...]"
	}
	if d == "" {
		d = "The vulnerability feed gives no description; see the references."
	}
	return d
}
