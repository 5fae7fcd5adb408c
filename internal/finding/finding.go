// Package finding defines what an assessment reports: findings with a
// severity, the status of each rule evaluated, and the stable fingerprint
// that lets a finding be followed across scans.
package finding

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
)

// Severity is Inspector's scale plus "unrated" for data without a score.
type Severity string

// Severities, from the most to the least severe.
const (
	High          Severity = "high"
	Medium        Severity = "medium"
	Low           Severity = "low"
	Informational Severity = "informational"
	Unrated       Severity = "unrated"
)

// Severities lists every severity from the most to the least severe.
func Severities() []Severity {
	return []Severity{High, Medium, Low, Informational, Unrated}
}

// rank orders severities; higher is more severe. Unrated ranks with
// informational: without a score it cannot be called more.
func (s Severity) rank() int {
	switch s {
	case High:
		return 4
	case Medium:
		return 3
	case Low:
		return 2
	case Informational, Unrated:
		return 1
	}
	return 0
}

// AtLeast reports whether s is as severe as min or more.
func (s Severity) AtLeast(min Severity) bool { return s.rank() >= min.rank() && s.rank() > 0 }

// ParseSeverity accepts a severity name, case-insensitively.
func ParseSeverity(s string) (Severity, error) {
	v := Severity(strings.ToLower(strings.TrimSpace(s)))
	if v == "info" {
		v = Informational
	}
	if v.rank() == 0 {
		return "", fmt.Errorf("unknown severity %q (want high, medium, low, informational or unrated)", s)
	}
	return v, nil
}

// Rules packages.
const (
	PackageCVE           = "cve"
	PackageCIS           = "cis"
	PackageBestPractices = "best-practices"
	PackageRuntime       = "runtime"
)

// Packages lists the rules packages in report order.
func Packages() []string {
	return []string{PackageCVE, PackageCIS, PackageBestPractices, PackageRuntime}
}

// Finding is one problem found on one host.
type Finding struct {
	// ID is the stable fingerprint (see Fingerprint).
	ID             string   `json:"id"`
	RulesPackage   string   `json:"rules_package"`
	RuleID         string   `json:"rule_id"`
	Severity       Severity `json:"severity"`
	Score          *float64 `json:"score,omitempty"`
	Title          string   `json:"title"`
	Description    string   `json:"description"`
	Recommendation string   `json:"recommendation"`
	// Evidence is what was observed, as short factual lines.
	Evidence   []string          `json:"evidence"`
	Attributes map[string]string `json:"attributes"`
	// Vulnerability is set on findings of the CVE rules package.
	Vulnerability *Vulnerability `json:"vulnerability,omitempty"`
}

// Subject identifies what a finding is about, the input of its fingerprint.
// It deliberately holds no versions and no scores: upgrading a package that
// stays vulnerable, or a rescored CVE, keeps the same finding.
type Subject struct {
	// Host is the host's stable identity (machine id, else hostname).
	Host         string
	RulesPackage string
	RuleID       string
	// Target is the thing the finding is about: a package name, a path, a
	// port, a user.
	Target string
	// VulnerabilityID is the advisory or CVE id for CVE findings.
	VulnerabilityID string
}

// Fingerprint returns the stable id of a finding about s: 32 hex digits of
// SHA-256 over its fields, each length-prefixed so no two subjects collide
// by concatenation.
func Fingerprint(s Subject) string {
	h := sha256.New()
	for _, f := range []string{"kensa-finding-v1", s.Host, s.RulesPackage, s.RuleID, s.Target, s.VulnerabilityID} {
		fmt.Fprintf(h, "%d:%s;", len(f), f)
	}
	return hex.EncodeToString(h.Sum(nil))[:32]
}

// Rule evaluation statuses.
const (
	StatusPass          = "pass"
	StatusFail          = "fail"
	StatusNotApplicable = "not_applicable"
	StatusError         = "error"
)

// Result is the outcome of one rule on one target.
type Result struct {
	RulesPackage string `json:"rules_package"`
	RuleID       string `json:"rule_id"`
	// Target is what the rule was evaluated on, when a rule has several.
	Target string `json:"target,omitempty"`
	Status string `json:"status"`
	Reason string `json:"reason,omitempty"`
}
