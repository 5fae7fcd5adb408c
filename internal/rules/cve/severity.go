package cve

import (
	"fmt"
	"strings"

	cvss20 "github.com/pandatix/go-cvss/20"
	cvss30 "github.com/pandatix/go-cvss/30"
	cvss31 "github.com/pandatix/go-cvss/31"
	cvss40 "github.com/pandatix/go-cvss/40"

	"github.com/kensa-dev/kensa/internal/advisory"
	"github.com/kensa-dev/kensa/internal/finding"
)

// rating is the severity chosen for a finding and where it came from.
type rating struct {
	severity finding.Severity
	score    *float64
	source   string
	vector   string
}

// vendorScales maps each vendor scale to Kensa's severities. The vendor
// knows how the package is built and used on its distro, so its rating
// comes before any CVSS score. Words not listed give no rating: a vendor
// rating that cannot be read is skipped, never guessed.
var vendorScales = map[string]map[string]finding.Severity{
	"ubuntu-priority": {
		"critical": finding.High, "high": finding.High, "medium": finding.Medium, "low": finding.Low,
		"negligible": finding.Informational,
	},
	"redhat-severity": {
		"critical": finding.High, "important": finding.High, "moderate": finding.Medium, "low": finding.Low,
	},
	"debian-urgency": {
		"high": finding.High, "medium": finding.Medium, "low": finding.Low, "unimportant": finding.Informational,
	},
	"alas-severity": {
		"critical": finding.High, "important": finding.High, "medium": finding.Medium, "moderate": finding.Medium, "low": finding.Low,
	},
}

// vendorRating reads a vendor rating, tolerating the feeds' decorations
// ("low**" marks a Debian urgency the tracker guessed).
func vendorRating(s advisory.Severity) (finding.Severity, bool) {
	scale := vendorScales[s.Type]
	v := strings.ToLower(strings.TrimRight(strings.TrimSpace(s.Value), "*"))
	sev, ok := scale[v]
	return sev, ok
}

// cvssScore computes the base score of a CVSS vector.
func cvssScore(typ, vector string) (float64, error) {
	switch {
	case strings.HasPrefix(vector, "CVSS:4.0/"):
		v, err := cvss40.ParseVector(vector)
		if err != nil {
			return 0, err
		}
		return v.Score(), nil
	case strings.HasPrefix(vector, "CVSS:3.1/"):
		v, err := cvss31.ParseVector(vector)
		if err != nil {
			return 0, err
		}
		return v.BaseScore(), nil
	case strings.HasPrefix(vector, "CVSS:3.0/"):
		v, err := cvss30.ParseVector(vector)
		if err != nil {
			return 0, err
		}
		return v.BaseScore(), nil
	case typ == "CVSS_V2":
		v, err := cvss20.ParseVector(vector)
		if err != nil {
			return 0, err
		}
		return v.BaseScore(), nil
	}
	return 0, fmt.Errorf("unrecognised CVSS vector %q", vector)
}

// scoreSeverity maps a CVSS base score to Kensa's scale, as CVSS v3 rates
// it: critical (9.0-10.0) and high (7.0-8.9) are high, medium 4.0-6.9,
// low 0.1-3.9, none 0.0 informational.
func scoreSeverity(score float64) finding.Severity {
	switch {
	case score >= 7.0:
		return finding.High
	case score >= 4.0:
		return finding.Medium
	case score > 0:
		return finding.Low
	}
	return finding.Informational
}

// cvssRank prefers the newest CVSS version.
var cvssRank = map[string]int{"CVSS_V4": 3, "CVSS_V3": 2, "CVSS_V2": 1}

// rate chooses a finding's severity from the ratings of the matched
// advisories: first a vendor rating (of the affected package, then of the
// advisory), then the newest CVSS vector, and "unrated" when there is
// none. from names the record each rating set came from.
func rate(sets []ratedSet) rating {
	for _, set := range sets {
		for _, s := range set.severities {
			if s.Source != advisory.SourceVendor {
				continue
			}
			if sev, ok := vendorRating(s); ok {
				return rating{severity: sev, source: fmt.Sprintf("vendor (%s: %s in %s)", s.Type, s.Value, set.from)}
			}
		}
	}
	var best *advisory.Severity
	var bestFrom string
	for _, set := range sets {
		for i, s := range set.severities {
			if s.Source == advisory.SourceCVSS && (best == nil || cvssRank[s.Type] > cvssRank[best.Type]) {
				if _, err := cvssScore(s.Type, s.Value); err == nil {
					best, bestFrom = &set.severities[i], set.from
				}
			}
		}
	}
	if best != nil {
		score, _ := cvssScore(best.Type, best.Value)
		return rating{severity: scoreSeverity(score), score: &score, vector: best.Value,
			source: fmt.Sprintf("%s base score %.1f from %s", best.Type, score, bestFrom)}
	}
	return rating{severity: finding.Unrated, source: "none: no vendor rating or CVSS vector in the matched records"}
}

// ratedSet is the severities of one record, with the record's id.
type ratedSet struct {
	from       string
	severities []advisory.Severity
}
