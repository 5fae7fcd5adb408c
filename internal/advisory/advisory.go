// Package advisory is the normalised form of a vulnerability advisory, the
// one shape every feed parser produces (OSV, Ubuntu cvescan, Alpine secdb,
// the Debian security tracker, Amazon ALAS) and the vulnerability store
// keeps. It follows OSV's model, because OSV already expresses every feed's
// facts: an advisory affects packages of an ecosystem ("Debian:12",
// "Go"), each through version ranges made of introduced / fixed /
// last_affected / limit events or an explicit version list. What OSV leaves
// implicit, a vendor's status for a package that has no fix ("needed",
// "no-dsa", "ignored") and where a fix is published (Ubuntu Pro, a module
// stream), is kept explicitly, so a finding can say "no fix yet" instead
// of guessing one.
//
// The package holds data only: no I/O, no version comparison.
package advisory

import "time"

// Kinds of advisory. Only security advisories are vulnerabilities; bug-fix
// and enhancement errata (AlmaLinux ALBA/ALEA) are stored, so a count of
// records matches the feed, but never matched.
const (
	KindSecurity    = "security"
	KindBugfix      = "bugfix"
	KindEnhancement = "enhancement"
)

// Advisory is one record of a feed.
type Advisory struct {
	// ID is the feed's own identifier: "GO-2024-2687", "ALSA-2023:1234",
	// "DSA-5000-1", or the CVE id for feeds keyed by CVE (Ubuntu).
	ID string `json:"id"`
	// Kind is KindSecurity, KindBugfix or KindEnhancement.
	Kind string `json:"kind"`
	// Aliases are the other ids of the same vulnerability: CVE and GHSA
	// ids from OSV's aliases and related fields (AlmaLinux keeps its CVEs
	// in related), sorted and without ID itself.
	Aliases   []string  `json:"aliases,omitempty"`
	Summary   string    `json:"summary,omitempty"`
	Details   string    `json:"details,omitempty"`
	Published time.Time `json:"published,omitzero"`
	Modified  time.Time `json:"modified,omitzero"`
	// Withdrawn is when the record was retracted; a withdrawn advisory is
	// kept but never matched.
	Withdrawn time.Time `json:"withdrawn,omitzero"`
	// Severities are every rating the record carries, vendor ratings first.
	Severities []Severity `json:"severities,omitempty"`
	References []string   `json:"references,omitempty"`
	Affected   []Affected `json:"affected"`
}

// Severity sources: who rated the vulnerability.
const (
	// SourceVendor is the distribution or maintainer's own rating (Ubuntu
	// priority, AlmaLinux's "Important:", Debian urgency).
	SourceVendor = "vendor"
	// SourceCVSS is a CVSS vector or score carried by the record.
	SourceCVSS = "cvss"
)

// Severity is one rating of the vulnerability.
type Severity struct {
	// Source is SourceVendor or SourceCVSS.
	Source string `json:"source"`
	// Type names the scale: "ubuntu-priority", "redhat-severity",
	// "debian-urgency", "alas-severity" for vendor ratings; "CVSS_V2",
	// "CVSS_V3", "CVSS_V4" for CVSS.
	Type string `json:"type"`
	// Value is the rating as the feed spells it ("Important", "medium",
	// a CVSS vector).
	Value string `json:"value"`
}

// Range types, as OSV names them.
const (
	RangeEcosystem = "ECOSYSTEM"
	RangeSemver    = "SEMVER"
	RangeGit       = "GIT"
)

// Range is an OSV range: events in order, each opening or closing an
// interval of affected versions.
type Range struct {
	Type   string  `json:"type"`
	Events []Event `json:"events"`
}

// Event is one OSV range event; exactly one field is set. Introduced "0"
// means every version from the first.
type Event struct {
	Introduced   string `json:"introduced,omitempty"`
	Fixed        string `json:"fixed,omitempty"`
	LastAffected string `json:"last_affected,omitempty"`
	Limit        string `json:"limit,omitempty"`
}

// Statuses of an affected package. StatusAffected means the ranges and
// versions decide; the others are a vendor's verdict that holds for every
// installed version.
const (
	// StatusAffected: versions inside Ranges or Versions are vulnerable;
	// a fixed event names the fix.
	StatusAffected = "affected"
	// StatusUnfixed: every version is vulnerable and no fix has been
	// released yet (Ubuntu needed/deferred/pending, Debian open, no-dsa,
	// postponed).
	StatusUnfixed = "unfixed"
	// StatusWillNotFix: vulnerable, and the vendor has said it will not
	// ship a fix for this release (Ubuntu ignored, Debian end-of-life).
	StatusWillNotFix = "will_not_fix"
	// StatusNotAffected: the vendor says this release's package is not
	// affected (code not present, not compiled in).
	StatusNotAffected = "not_affected"
)

// Affected is one package an advisory affects, in one ecosystem.
type Affected struct {
	// Ecosystem is the OSV ecosystem with its release, exactly as OSV
	// spells it ("Debian:12", "Ubuntu:22.04:LTS", "Ubuntu:Pro:18.04:LTS",
	// "AlmaLinux:8", "Alpine:v3.18", "Amazon Linux:2023"), or a language
	// ecosystem ("Go", "PyPI", "npm", "Maven").
	Ecosystem string `json:"ecosystem"`
	// Package is the package name. For distro feeds it is the source
	// package (Debian, Ubuntu, Alpine origin) unless BinaryKeyed is set.
	Package string `json:"package"`
	// BinaryKeyed is true when Package names a binary package, as in
	// AlmaLinux and ALAS errata, which list every binary RPM.
	BinaryKeyed bool `json:"binary_keyed,omitempty"`
	// Binaries are the binary packages built from Package, when the feed
	// lists them (Ubuntu).
	Binaries []string `json:"binaries,omitempty"`
	// Status is one of the Status constants.
	Status string `json:"status"`
	// VendorStatus is the feed's own word for the status ("released",
	// "needed", "no-dsa", "ignored"), with its note when there is one.
	VendorStatus string   `json:"vendor_status,omitempty"`
	Ranges       []Range  `json:"ranges,omitempty"`
	Versions     []string `json:"versions,omitempty"`
	// Repository is where a fix is published when that is not the
	// release's main archive: "esm-infra", "esm-apps" (Ubuntu Pro).
	Repository string `json:"repository,omitempty"`
	// ModuleStreams are the RHEL module streams ("name:stream") an
	// erratum for modular builds applies to, as its summary names them
	// ("virt:rhel and virt-devel:rhel security update"); empty for a
	// non-modular package or when the summary names none. Module errata
	// apply only to packages of those streams.
	ModuleStreams []string `json:"module_streams,omitempty"`
	// Modular is true when the fixed builds are module builds
	// (".module_el8..."), even if the stream could not be read.
	Modular bool `json:"modular,omitempty"`
	// Severities rate this package's exposure when it differs per
	// package (Debian urgency).
	Severities []Severity `json:"severities,omitempty"`
	// Commands are the Go toolchain commands ("cmd/go") an advisory of the
	// Go "toolchain" package is about, from its ecosystem_specific
	// imports: a vulnerability in cmd/go is not one of gofmt.
	Commands []string `json:"commands,omitempty"`
}

// Feed describes what a parser read: the store's name for the source and
// when the publisher produced the data, when the data says so.
type Feed struct {
	// Name is the stable name of the source in the store: "osv/Go",
	// "ubuntu-cvescan/focal", "alpine-secdb/v3.11/main", "debian/DSA",
	// "alas/ALAS2023", "kev". Importing a source again replaces it.
	Name string `json:"name"`
	// Format is the parser: "osv", "ubuntu-cvescan", "alpine-secdb",
	// "debian-tracker", "debian-list", "alas", "kev".
	Format string `json:"format"`
	// Generated is when the publisher produced the data; zero when the
	// data does not say (the store then uses the newest record).
	Generated time.Time `json:"generated,omitzero"`
}

// Exploited is an entry of CISA's Known Exploited Vulnerabilities catalog.
type Exploited struct {
	CVE            string `json:"cve"`
	VendorProject  string `json:"vendor_project,omitempty"`
	Product        string `json:"product,omitempty"`
	Name           string `json:"name,omitempty"`
	DateAdded      string `json:"date_added"`
	DueDate        string `json:"due_date,omitempty"`
	RequiredAction string `json:"required_action,omitempty"`
	// Ransomware is CISA's knownRansomwareCampaignUse: "Known" or "Unknown".
	Ransomware string `json:"ransomware,omitempty"`
}

// IsVulnerability reports whether a is a security advisory that can be
// matched: bug-fix and enhancement errata and withdrawn records are not.
func (a *Advisory) IsVulnerability() bool {
	return a.Kind == KindSecurity && a.Withdrawn.IsZero()
}
