// Package report defines the canonical JSON report of an assessment and the
// renderers that turn it into other forms. Every renderer is a pure function
// of a Report: what a terminal shows can always be reproduced from the JSON.
package report

import (
	"time"

	"github.com/kensa-dev/kensa/internal/finding"
	"github.com/kensa-dev/kensa/internal/host"
	"github.com/kensa-dev/kensa/internal/observe"
)

// SchemaVersion is the version of the report document (docs/report.md).
// Additions keep the major number; removals and re-typing bump it. 1.1
// added inventory and discovery; 1.2 the vulnerability detail of CVE
// findings and the feeds' data time; 1.3 the tailoring; 1.4 the runtime
// observation; 1.5 suppressions; 1.6 the inventory's components (the
// SBOM formats render them).
const SchemaVersion = "1.6"

// Report is the result of assessing one host.
type Report struct {
	SchemaVersion string    `json:"schema_version"`
	Tool          Tool      `json:"tool"`
	Host          Host      `json:"host"`
	StartedAt     time.Time `json:"started_at"`
	FinishedAt    time.Time `json:"finished_at"`
	// Feeds are the vulnerability data sources used, with their age.
	Feeds []Feed `json:"feeds"`
	// Coverage says, per rules package and per scope within it, what was
	// evaluated and what was not, and why. A scope absent from Coverage
	// was not evaluated either; consumers must not read silence as clean.
	Coverage []Coverage `json:"coverage"`
	// Collectors is the outcome of each inventory collector.
	Collectors []host.CollectorRun `json:"collectors"`
	// Inventory counts what the collectors found (SummarizeInventory).
	// Nil when the report was made without an inventory.
	Inventory *Inventory `json:"inventory,omitempty"`
	// Discovery is where the search for software outside the package
	// manager looked, what it skipped and which limits cut it short, as
	// the inventory records it. Nil when no search ran.
	Discovery *host.Discovery   `json:"discovery,omitempty"`
	Results   []finding.Result  `json:"results"`
	Findings  []finding.Finding `json:"findings"`
	// IgnoredUnfixed counts the vulnerabilities without a released fix
	// left out on request (kensa scan --ignore-unfixed).
	IgnoredUnfixed int `json:"ignored_unfixed,omitempty"`
	// Tailoring is the tailoring file the configuration rules were
	// evaluated under (kensa scan --profile), nil for none.
	Tailoring *Tailoring `json:"tailoring,omitempty"`
	// Observation is what the runtime package's window recorded on a live
	// host (method, blind spots, connections, listeners, processes and
	// their binaries): the facts its findings were judged on. Nil when no
	// window ran.
	Observation *observe.Observations `json:"observation,omitempty"`
	// Suppressed are the findings a suppression file matched (kensa scan
	// --ignore-file, docs/suppressions.md): out of Findings, the
	// summary's severity counts and the exit code, and listed here with
	// why and by whom, never dropped.
	Suppressed []Suppressed `json:"suppressed,omitempty"`
	// Suppressions records the suppression file applied; nil for none.
	Suppressions *Suppressions `json:"suppressions,omitempty"`
	Summary      Summary       `json:"summary"`
}

// Tailoring records a tailoring file: which one (path and SHA-256, so an
// auditor can tell which policy a report was made under) and what it
// changed, one line each.
type Tailoring struct {
	File    string   `json:"file"`
	SHA256  string   `json:"sha256"`
	Title   string   `json:"title,omitempty"`
	Changes []string `json:"changes"`
}

// Suppressed is a finding a suppression matched, with the suppression's
// reason, owner and expiry.
type Suppressed struct {
	Finding finding.Finding `json:"finding"`
	Reason  string          `json:"reason"`
	Owner   string          `json:"owner"`
	Expires string          `json:"expires,omitempty"` // YYYY-MM-DD, the last day it applies
	// Rule names the suppression: its line in the file and what it
	// matches ("line 4: vulnerability CVE-2023-38545, package curl").
	Rule string `json:"rule"`
}

// Suppressions records a suppression file: which one (path and SHA-256),
// how many rules, and those that expired (and no longer apply) or matched
// nothing, so stale entries are seen.
type Suppressions struct {
	File    string   `json:"file"`
	SHA256  string   `json:"sha256"`
	Rules   int      `json:"rules"`
	Expired []string `json:"expired"`
	Unused  []string `json:"unused"`
}

// Inventory counts the facts collected, so that a reader of the report
// sees what was found (and roughly how much was assessed) without the
// inventory document itself.
type Inventory struct {
	// Packages counts the packages of the OS package manager, per manager:
	// {"dpkg": 715}. A manager without packages is absent.
	Packages map[string]int `json:"packages"`
	// Software counts the components found outside the package manager,
	// per OSV ecosystem: {"Go": 656, "PyPI": 135}. Components in files an
	// OS package owns count too.
	Software map[string]int `json:"software"`
	// Users counts the accounts of /etc/passwd.
	Users int `json:"users"`
	// Components lists every package and component counted above, so
	// that an SBOM (CycloneDX, SPDX) is a pure rendering of the report.
	// Added in 1.6: a report of 1.5 or older has none, and its SBOM says
	// so rather than claim an empty host.
	Components []Component `json:"components,omitempty"`
}

// Component kinds (Component.Type).
const (
	ComponentOSPackage = "os-package"
	ComponentSoftware  = "software"
)

// Component is one package of the OS package manager or one component
// found outside it: what an SBOM lists. It keeps what identifies the
// component (name, version, purl) and where it came from, not the files
// a package owns (that stays in the inventory document).
type Component struct {
	// Type is os-package or software.
	Type string `json:"type"`
	// Manager is the package manager of an OS package (dpkg, rpm, apk).
	Manager string `json:"manager,omitempty"`
	// Ecosystem is the OSV ecosystem: Debian:12, AlmaLinux:9, Go, PyPI.
	Ecosystem string `json:"ecosystem,omitempty"`
	Name      string `json:"name"`
	Version   string `json:"version"`
	Arch      string `json:"arch,omitempty"`
	PURL      string `json:"purl,omitempty"`
	// SourceName and SourceVersion are an OS package's source package.
	SourceName    string `json:"source_name,omitempty"`
	SourceVersion string `json:"source_version,omitempty"`
	// Kind is what software was found as (go-module, python-dist, ...).
	Kind string `json:"kind,omitempty"`
	// Location is the file software was read from.
	Location string `json:"location,omitempty"`
	// OwnedBy names the OS package that owns Location, when one does.
	OwnedBy string `json:"owned_by,omitempty"`
}

// SummarizeInventory counts the packages, software and users of inv and
// lists them as components. It
// returns nil for a nil inventory. A package without a manager, or a
// component without an ecosystem, is counted under "unknown".
func SummarizeInventory(inv *host.Inventory) *Inventory {
	if inv == nil {
		return nil
	}
	s := &Inventory{Packages: map[string]int{}, Software: map[string]int{}, Users: len(inv.Users)}
	for _, p := range inv.Packages {
		s.Packages[orUnknown(p.Manager)]++
		s.Components = append(s.Components, Component{
			Type: ComponentOSPackage, Manager: p.Manager, Ecosystem: p.Ecosystem,
			Name: p.Name, Version: p.Version, Arch: p.Arch, PURL: p.PURL,
			SourceName: p.SourceName, SourceVersion: p.SourceVersion,
		})
	}
	for _, c := range inv.Software {
		s.Software[orUnknown(c.Ecosystem)]++
		s.Components = append(s.Components, Component{
			Type: ComponentSoftware, Ecosystem: c.Ecosystem, Name: c.Name, Version: c.Version,
			PURL: c.PURL, Kind: c.Kind, Location: c.Location, OwnedBy: c.OwnedBy,
		})
	}
	return s
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

// Tool names the program that produced the report.
type Tool struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	Commit  string `json:"commit,omitempty"`
}

// Host identifies the assessed host.
type Host struct {
	Hostname  string `json:"hostname"`
	MachineID string `json:"machine_id,omitempty"`
	Root      string `json:"root"`
	Live      bool   `json:"live"`
	OS        OS     `json:"os"`
	// Kernel is the running kernel release, empty when not available.
	Kernel string `json:"kernel,omitempty"`
}

// OS is the operating system's identity.
type OS struct {
	Family     string `json:"family"`
	ID         string `json:"id"`
	Release    string `json:"release"`
	PrettyName string `json:"pretty_name,omitempty"`
	EOL        string `json:"eol,omitempty"`
	EOLReached bool   `json:"eol_reached,omitempty"`
	// EOLNote names the support phase EOL ends ("end of Debian LTS",
	// "end of standard support; ESM requires Ubuntu Pro").
	EOLNote string `json:"eol_note,omitempty"`
}

// Feed is one vulnerability data source.
type Feed struct {
	Name string `json:"name"`
	// Format is the parser that read it (osv, ubuntu-cvescan, ...).
	Format  string `json:"format,omitempty"`
	Records int    `json:"records"`
	// UpdatedAt is when the feed was last imported, or checked and found
	// unchanged.
	UpdatedAt time.Time `json:"updated_at"`
	// DataTime is how recent the data is (generated, else newest record);
	// zero when the feed dates nothing.
	DataTime time.Time `json:"data_time,omitzero"`
	// AgeHours counts from DataTime, or from the import when the feed
	// dates nothing (AgeBasis says which).
	AgeHours float64 `json:"age_hours"`
	AgeBasis string  `json:"age_basis,omitempty"`
	// Stale is true past 7 days: a warning that new vulnerabilities may
	// be missing.
	Stale bool `json:"stale"`
}

// Coverage statuses.
const (
	Evaluated    = "evaluated"
	Partial      = "partial"
	NotEvaluated = "not_evaluated"
)

// Coverage is what one rules package did for one scope: the package as a
// whole (Scope "*"), an ecosystem and release ("Debian:12", "Go"), or a
// collector ("pkg/rpm").
type Coverage struct {
	Package string `json:"package"`
	Scope   string `json:"scope"`
	Status  string `json:"status"`
	Reason  string `json:"reason,omitempty"`
}

// Summary counts findings and coverage. It is derived data: WriteJSON
// recomputes it with Summarize, so it can never disagree with the report.
type Summary struct {
	Findings   int            `json:"findings"`
	BySeverity map[string]int `json:"by_severity"`
	// Complete is true when the report has coverage entries and every one
	// of them is evaluated. It speaks for the rules packages that ran; the
	// others are listed in NotRun.
	Complete bool `json:"complete"`
	// CoverageGaps counts the coverage entries that are partial or
	// not_evaluated.
	CoverageGaps int `json:"coverage_gaps"`
	// NotRun lists the rules packages without any coverage entry: they were
	// not requested (kensa scan --packages), so nothing of them was
	// evaluated. Never null.
	NotRun []string `json:"not_run"`
	// Suppressed counts the findings a suppression file matched (not in
	// Findings). Added in 1.5.
	Suppressed int `json:"suppressed,omitempty"`
}

// Summarize computes the summary of r's findings and coverage. A report
// without coverage is never complete: silence is not clean.
func Summarize(r *Report) Summary {
	s := Summary{Findings: len(r.Findings), BySeverity: map[string]int{}, NotRun: []string{}, Suppressed: len(r.Suppressed)}
	for _, sev := range finding.Severities() {
		s.BySeverity[string(sev)] = 0
	}
	for _, f := range r.Findings {
		s.BySeverity[string(f.Severity)]++
	}
	ran := map[string]bool{}
	for _, c := range r.Coverage {
		ran[c.Package] = true
		if c.Status != Evaluated {
			s.CoverageGaps++
		}
	}
	for _, p := range finding.Packages() {
		if !ran[p] {
			s.NotRun = append(s.NotRun, p)
		}
	}
	s.Complete = len(r.Coverage) > 0 && s.CoverageGaps == 0
	return s
}
