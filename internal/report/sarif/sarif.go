// Package sarif renders a Kensa report as SARIF 2.1.0 (OASIS Static
// Analysis Results Interchange Format), the format GitHub code scanning,
// Azure DevOps, GitLab and most security dashboards import.
//
// Like every Kensa output format, Write is a pure function of a
// report.Report: it reads nothing from the host, and the same report gives
// the same bytes, whatever the order of its lists.
//
// SARIF was made for source code analysers; a host assessment maps onto it
// as follows (the reasons are in the comments of the functions that do it).
//
//   - One run, tool.driver "kensa". Its rules are every rule that produced
//     a finding or a result, so that rules that passed are described too,
//     with their result counts.
//   - Rule ids: a vulnerability finding's rule is its vulnerability
//     ("CVE-2024-2511", "GO-2024-2687"), one rule per vulnerability, as
//     Trivy and Grype do, with its aliases, references and remediation as
//     help; every other rule is "<rules package>/<rule id>"
//     ("cis/cis-5.1.20", "cve/os-end-of-life", "runtime/unused-listening-port").
//   - Levels: high is error, medium warning; low, informational and
//     unrated are note. Rules carry GitHub's security-severity: the CVSS
//     score when a finding has one, else high 8.0, medium 5.5, low 2.0,
//     and none for informational and unrated; the highest of the rule's
//     findings.
//   - One result per finding, with partialFingerprints {"kensa/v1": the
//     finding's id} and a location that always has an artifact URI (GitHub
//     rejects a whole file for one result without): the file the finding
//     names, relative to the assessed root (uriBaseId ROOTPATH), else the
//     host itself.
//   - Coverage gaps, and rules that errored, are toolExecutionNotifications
//     of level "error", which SARIF (appendix I) defines as "the results
//     cannot be assumed to be complete": Kensa never reports clean for
//     what it did not evaluate, and neither does its SARIF. Rules packages
//     that did not run and stale feeds are warnings. The run's properties
//     hold the host, the summary and the whole coverage.
package sarif

import (
	"encoding/json"
	"io"

	"github.com/kensa-dev/kensa/internal/finding"
	"github.com/kensa-dev/kensa/internal/report"
)

// SchemaURI is the $schema of the documents Write produces: the OASIS
// schema of SARIF 2.1.0 with its errata, which the tests validate against.
const SchemaURI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"

// InformationURI is the tool's home page, as tool.driver.informationUri.
const InformationURI = "https://github.com/kensa-dev/kensa"

// FingerprintKey names Kensa's finding id in partialFingerprints. The
// version follows the fingerprint algorithm's ("kensa-finding-v1"), so a
// consumer never matches ids of two algorithms.
const FingerprintKey = "kensa/v1"

// RootBaseID is the uriBaseId of the assessed file system's root: a finding
// about /etc/ssh/sshd_config has the artifact "etc/ssh/sshd_config" under
// it, and run.originalUriBaseIds says where the root is (file:/// on a live
// host, file:///mnt/image/ for an image scanned with --root). Relative URIs
// keep paths identical across hosts and image mount points, which is what
// consumers match alerts on; Trivy uses the same name.
const RootBaseID = "ROOTPATH"

// Notification descriptor ids (tool.driver.notifications).
const (
	NotifyCoverageGap    = "coverage-gap"
	NotifyRuleError      = "rule-error"
	NotifyPackageNotRun  = "package-not-run"
	NotifyIgnoredUnfixed = "ignored-unfixed"
	NotifyStaleFeed      = "stale-feed"
)

// Write writes r as an indented SARIF 2.1.0 log with one run. It fails only
// when w does.
func Write(w io.Writer, r *report.Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	// Titles and evidence hold "<", ">" and "&" (shell redirections,
	// version ranges): escaping them helps no JSON reader.
	enc.SetEscapeHTML(false)
	return enc.Encode(build(r))
}

// The SARIF objects Write uses, with the fields it fills. They are
// structs, so that the order of the output is fixed; the only maps are
// the finding attributes, the summary counts and two single-key objects
// (originalUriBaseIds, partialFingerprints), which encoding/json writes
// with sorted keys.

type sarifLog struct {
	Schema  string `json:"$schema"`
	Version string `json:"version"`
	Runs    []run  `json:"runs"`
}

type run struct {
	Tool               tool                        `json:"tool"`
	Invocations        []invocation                `json:"invocations"`
	OriginalURIBaseIDs map[string]artifactLocation `json:"originalUriBaseIds"`
	AutomationDetails  *automationDetails          `json:"automationDetails,omitempty"`
	Results            []result                    `json:"results"`
	Properties         runProperties               `json:"properties"`
}

type tool struct {
	Driver toolComponent `json:"driver"`
}

type toolComponent struct {
	Name           string                `json:"name"`
	Version        string                `json:"version,omitempty"`
	InformationURI string                `json:"informationUri"`
	Rules          []reportingDescriptor `json:"rules"`
	Notifications  []reportingDescriptor `json:"notifications"`
	Properties     *driverProperties     `json:"properties,omitempty"`
}

type driverProperties struct {
	Commit string `json:"commit"`
}

type text struct {
	Text     string `json:"text"`
	Markdown string `json:"markdown,omitempty"`
}

type reportingDescriptor struct {
	ID                   string                  `json:"id"`
	Name                 string                  `json:"name,omitempty"`
	ShortDescription     *text                   `json:"shortDescription,omitempty"`
	FullDescription      *text                   `json:"fullDescription,omitempty"`
	Help                 *text                   `json:"help,omitempty"`
	HelpURI              string                  `json:"helpUri,omitempty"`
	DefaultConfiguration *reportingConfiguration `json:"defaultConfiguration,omitempty"`
	Properties           *ruleProperties         `json:"properties,omitempty"`
}

type reportingConfiguration struct {
	Level string `json:"level"`
}

type ruleProperties struct {
	Tags []string `json:"tags"`
	// SecuritySeverity is GitHub's numeric severity (0.0 to 10.0, a
	// string), read only on rules tagged "security".
	SecuritySeverity string `json:"security-severity,omitempty"`
	RulesPackage     string `json:"rules_package"`
	// Results counts the rule's results in the report by status: what was
	// checked, including what passed.
	Results *resultCounts `json:"results,omitempty"`
}

type resultCounts struct {
	Pass          int `json:"pass,omitempty"`
	Fail          int `json:"fail,omitempty"`
	NotApplicable int `json:"not_applicable,omitempty"`
	Error         int `json:"error,omitempty"`
}

type invocation struct {
	ExecutionSuccessful        bool           `json:"executionSuccessful"`
	StartTimeUTC               string         `json:"startTimeUtc,omitempty"`
	EndTimeUTC                 string         `json:"endTimeUtc,omitempty"`
	ToolExecutionNotifications []notification `json:"toolExecutionNotifications"`
}

type notification struct {
	Descriptor     descriptorReference  `json:"descriptor"`
	AssociatedRule *descriptorReference `json:"associatedRule,omitempty"`
	Level          string               `json:"level"`
	Message        text                 `json:"message"`
	Properties     any                  `json:"properties,omitempty"`
}

type descriptorReference struct {
	ID    string `json:"id"`
	Index int    `json:"index"`
}

type automationDetails struct {
	ID string `json:"id"`
}

type result struct {
	RuleID              string            `json:"ruleId"`
	RuleIndex           int               `json:"ruleIndex"`
	Level               string            `json:"level"`
	Message             text              `json:"message"`
	Locations           []location        `json:"locations"`
	RelatedLocations    []location        `json:"relatedLocations,omitempty"`
	PartialFingerprints map[string]string `json:"partialFingerprints"`
	Suppressions        []suppression     `json:"suppressions,omitempty"`
	Properties          resultProperties  `json:"properties"`
}

// suppression marks a result a suppression file accepted (SARIF §3.35).
type suppression struct {
	Kind          string `json:"kind"`   // "external": decided outside the code
	Status        string `json:"status"` // "accepted"
	Justification string `json:"justification"`
}

type resultProperties struct {
	RulesPackage   string                 `json:"rules_package"`
	RuleID         string                 `json:"rule_id"`
	Severity       finding.Severity       `json:"severity"`
	Score          *float64               `json:"score,omitempty"`
	Recommendation string                 `json:"recommendation,omitempty"`
	Attributes     map[string]string      `json:"attributes"`
	Vulnerability  *finding.Vulnerability `json:"vulnerability,omitempty"`
}

type location struct {
	ID               *int              `json:"id,omitempty"`
	PhysicalLocation *physicalLocation `json:"physicalLocation,omitempty"`
	LogicalLocations []logicalLocation `json:"logicalLocations,omitempty"`
	Message          *text             `json:"message,omitempty"`
}

type physicalLocation struct {
	ArtifactLocation artifactLocation `json:"artifactLocation"`
	Region           *region          `json:"region,omitempty"`
}

type artifactLocation struct {
	URI         string `json:"uri,omitempty"`
	URIBaseID   string `json:"uriBaseId,omitempty"`
	Description *text  `json:"description,omitempty"`
}

type region struct {
	StartLine int `json:"startLine"`
}

type logicalLocation struct {
	Name               string `json:"name"`
	FullyQualifiedName string `json:"fullyQualifiedName,omitempty"`
	Kind               string `json:"kind"`
}

type runProperties struct {
	// ReportSchemaVersion is the schema_version of the Kensa report the
	// log was made from.
	ReportSchemaVersion string            `json:"report_schema_version"`
	Host                report.Host       `json:"host"`
	Summary             report.Summary    `json:"summary"`
	Coverage            []report.Coverage `json:"coverage"`
	Feeds               []report.Feed     `json:"feeds"`
	IgnoredUnfixed      int               `json:"ignored_unfixed,omitempty"`
	Tailoring           *report.Tailoring `json:"tailoring,omitempty"`
}
