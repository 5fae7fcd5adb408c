package report

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/kensa-dev/kensa/internal/finding"
	"github.com/kensa-dev/kensa/internal/host"
)

// supportedMajor is the schema major version this code reads and writes.
const supportedMajor = 1

// WriteJSON writes r as the canonical JSON document: indented, with a
// trailing newline, lists in a stable order, times in UTC, empty lists as
// [] rather than null, and the summary recomputed from the findings and
// coverage. r itself is not modified. An empty SchemaVersion is written as
// the current SchemaVersion.
//
// The same report always gives the same bytes, so two reports can be
// compared with diff and a golden file stays put.
func WriteJSON(w io.Writer, r *Report) error {
	c := Canonical(r)
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	// Titles and evidence quote shell snippets and config lines; keep
	// "<", ">" and "&" readable.
	enc.SetEscapeHTML(false)
	if err := enc.Encode(c); err != nil {
		return fmt.Errorf("report: encode json: %w", err)
	}
	if _, err := w.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("report: write json: %w", err)
	}
	return nil
}

// ReadJSON reads a report written by WriteJSON (or by any Kensa of the same
// schema major version). Fields added by a newer minor version are
// ignored; a document of another major version is rejected, because its
// fields may mean something else.
func ReadJSON(rd io.Reader) (*Report, error) {
	data, err := io.ReadAll(rd)
	if err != nil {
		return nil, fmt.Errorf("report: read: %w", err)
	}
	return decode(data)
}

func decode(data []byte) (*Report, error) {
	if err := checkHead(data); err != nil {
		return nil, err
	}
	return decodeBody(data)
}

// checkHead rejects a document that is not a Kensa report of a version
// this Kensa reads, before anything else is said about it: the schema's
// complaints about a 2.0 report would hide the reason.
func checkHead(data []byte) error {
	var head struct {
		SchemaVersion *string `json:"schema_version"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return fmt.Errorf("report: decode json: %w", err)
	}
	if head.SchemaVersion == nil {
		return errors.New("report: not a Kensa report: schema_version is missing")
	}
	return checkVersion(*head.SchemaVersion)
}

// decodeBody decodes a report whose head checkHead accepted.
func decodeBody(data []byte) (*Report, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	var r Report
	if err := dec.Decode(&r); err != nil {
		return nil, fmt.Errorf("report: decode json: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("report: decode json: unexpected data after the report")
	}
	return &r, nil
}

// checkVersion accepts "1.N".
func checkVersion(v string) error {
	major, minor, ok := strings.Cut(v, ".")
	if !ok || !allDigits(major) || !allDigits(minor) {
		return fmt.Errorf("report: schema_version %q is not MAJOR.MINOR", v)
	}
	m, err := strconv.Atoi(major)
	if err != nil {
		return fmt.Errorf("report: schema_version %q: %w", v, err)
	}
	if m != supportedMajor {
		return fmt.Errorf("report: schema_version %q is not supported: this Kensa reads version %d.x reports (schema %s)", v, supportedMajor, SchemaVersion)
	}
	return nil
}

// Canonical returns a copy of r in the form WriteJSON writes: sorted lists
// (see docs/report.md, "Ordering"), nil lists and maps made empty, times in
// UTC and the summary recomputed. Renderers use it so that every output
// lists things in the same order.
func Canonical(r *Report) *Report {
	c := *r
	if c.SchemaVersion == "" {
		c.SchemaVersion = SchemaVersion
	}
	c.StartedAt = c.StartedAt.UTC()
	c.FinishedAt = c.FinishedAt.UTC()

	c.Feeds = slices.Clone(r.Feeds)
	if c.Feeds == nil {
		c.Feeds = []Feed{}
	}
	for i := range c.Feeds {
		c.Feeds[i].UpdatedAt = c.Feeds[i].UpdatedAt.UTC()
	}
	slices.SortStableFunc(c.Feeds, func(a, b Feed) int { return strings.Compare(a.Name, b.Name) })

	c.Coverage = slices.Clone(r.Coverage)
	if c.Coverage == nil {
		c.Coverage = []Coverage{}
	}
	slices.SortStableFunc(c.Coverage, compareCoverage)

	c.Collectors = slices.Clone(r.Collectors)
	if c.Collectors == nil {
		c.Collectors = []host.CollectorRun{}
	}
	slices.SortStableFunc(c.Collectors, func(a, b host.CollectorRun) int { return compareNatural(a.Name, b.Name) })

	c.Inventory = canonicalInventory(r.Inventory)
	c.Discovery = canonicalDiscovery(r.Discovery)

	c.Results = slices.Clone(r.Results)
	if c.Results == nil {
		c.Results = []finding.Result{}
	}
	slices.SortStableFunc(c.Results, compareResult)

	c.Findings = slices.Clone(r.Findings)
	if c.Findings == nil {
		c.Findings = []finding.Finding{}
	}
	for i := range c.Findings {
		f := &c.Findings[i]
		if f.Evidence == nil {
			f.Evidence = []string{}
		}
		if f.Attributes == nil {
			f.Attributes = map[string]string{}
		}
	}
	slices.SortStableFunc(c.Findings, compareFinding)

	if len(r.Suppressed) > 0 {
		c.Suppressed = slices.Clone(r.Suppressed)
		for i := range c.Suppressed {
			f := &c.Suppressed[i].Finding
			if f.Evidence == nil {
				f.Evidence = []string{}
			}
			if f.Attributes == nil {
				f.Attributes = map[string]string{}
			}
		}
		slices.SortStableFunc(c.Suppressed, func(a, b Suppressed) int { return compareFinding(a.Finding, b.Finding) })
	}

	c.Summary = Summarize(&c)
	return &c
}

// canonicalInventory copies inv with its nil maps made empty and its
// components sorted: OS packages first, then by ecosystem, name, version,
// arch and location.
func canonicalInventory(inv *Inventory) *Inventory {
	if inv == nil {
		return nil
	}
	c := &Inventory{Packages: maps.Clone(inv.Packages), Software: maps.Clone(inv.Software), Users: inv.Users,
		Components: slices.Clone(inv.Components)}
	slices.SortStableFunc(c.Components, compareComponent)
	if c.Packages == nil {
		c.Packages = map[string]int{}
	}
	if c.Software == nil {
		c.Software = map[string]int{}
	}
	return c
}

// canonicalDiscovery copies d with its lists sorted: roots naturally,
// skipped paths by path, limits by name, then path, then value. An empty
// roots list is [], empty skipped and limits_hit lists are left out.
func canonicalDiscovery(d *host.Discovery) *host.Discovery {
	if d == nil {
		return nil
	}
	c := &host.Discovery{
		Roots:        slices.Clone(d.Roots),
		Skipped:      slices.Clone(d.Skipped),
		LimitsHit:    slices.Clone(d.LimitsHit),
		FilesVisited: d.FilesVisited,
	}
	if c.Roots == nil {
		c.Roots = []string{}
	}
	slices.SortStableFunc(c.Roots, compareNatural)
	if len(c.Skipped) == 0 {
		c.Skipped = nil
	}
	slices.SortStableFunc(c.Skipped, func(a, b host.SkippedPath) int {
		if c := compareNatural(a.Path, b.Path); c != 0 {
			return c
		}
		return strings.Compare(a.Reason, b.Reason)
	})
	if len(c.LimitsHit) == 0 {
		c.LimitsHit = nil
	}
	slices.SortStableFunc(c.LimitsHit, func(a, b host.LimitHit) int {
		if c := strings.Compare(a.Limit, b.Limit); c != 0 {
			return c
		}
		if c := compareNatural(a.Path, b.Path); c != 0 {
			return c
		}
		return cmp.Compare(a.Value, b.Value)
	})
	return c
}

// packageRank orders rules packages as finding.Packages lists them;
// unknown packages go last.
func packageRank(p string) int {
	if i := slices.Index(finding.Packages(), p); i >= 0 {
		return i
	}
	return len(finding.Packages())
}

func comparePackage(a, b string) int {
	if c := packageRank(a) - packageRank(b); c != 0 {
		return c
	}
	return strings.Compare(a, b)
}

// severityRank orders severities from the most severe; unknown ones last.
func severityRank(s finding.Severity) int {
	if i := slices.Index(finding.Severities(), s); i >= 0 {
		return i
	}
	return len(finding.Severities())
}

// compareFinding orders findings by severity (most severe first), rules
// package, rule and id.
func compareFinding(a, b finding.Finding) int {
	// Known exploited vulnerabilities first: CISA's catalog says they are
	// being used in attacks now, whatever their score.
	if ka, kb := knownExploited(a), knownExploited(b); ka != kb {
		if ka {
			return -1
		}
		return 1
	}
	if c := severityRank(a.Severity) - severityRank(b.Severity); c != 0 {
		return c
	}
	if c := comparePackage(a.RulesPackage, b.RulesPackage); c != 0 {
		return c
	}
	if c := compareNatural(a.RuleID, b.RuleID); c != 0 {
		return c
	}
	return strings.Compare(a.ID, b.ID)
}

// compareCoverage orders coverage by rules package, then scope with the
// package-wide "*" first.
func compareCoverage(a, b Coverage) int {
	if c := comparePackage(a.Package, b.Package); c != 0 {
		return c
	}
	if (a.Scope == "*") != (b.Scope == "*") {
		if a.Scope == "*" {
			return -1
		}
		return 1
	}
	return compareNatural(a.Scope, b.Scope)
}

func compareResult(a, b finding.Result) int {
	if c := comparePackage(a.RulesPackage, b.RulesPackage); c != 0 {
		return c
	}
	if c := compareNatural(a.RuleID, b.RuleID); c != 0 {
		return c
	}
	return compareNatural(a.Target, b.Target)
}

func knownExploited(f finding.Finding) bool {
	return f.Vulnerability != nil && f.Vulnerability.KnownExploited != nil
}

func compareComponent(a, b Component) int {
	if a.Type != b.Type {
		if a.Type == ComponentOSPackage {
			return -1
		}
		if b.Type == ComponentOSPackage {
			return 1
		}
	}
	return cmp.Or(
		cmp.Compare(a.Type, b.Type),
		cmp.Compare(a.Ecosystem, b.Ecosystem),
		compareNatural(a.Name, b.Name),
		compareNatural(a.Version, b.Version),
		cmp.Compare(a.Arch, b.Arch),
		compareNatural(a.Location, b.Location),
		cmp.Compare(a.PURL, b.PURL),
		cmp.Compare(a.Manager, b.Manager),
		cmp.Compare(a.Kind, b.Kind),
		cmp.Compare(a.SourceName, b.SourceName),
		cmp.Compare(a.SourceVersion, b.SourceVersion),
		cmp.Compare(a.OwnedBy, b.OwnedBy),
	)
}
