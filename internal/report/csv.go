package report

import (
	"cmp"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/kensa-dev/kensa/internal/finding"
)

// CSVColumns are the columns of WriteCSV, in order. They are part of the
// contract (docs/report.md): a spreadsheet or a script keys on them.
var CSVColumns = []string{
	"id", "host", "rules_package", "rule_id", "severity", "score", "title",
	"target", "vulnerability_id", "package", "installed_version", "fix", "fixed_version", "known_exploited",
	"evidence", "recommendation",
}

// WriteCSV writes one row per finding, in the canonical order, after a
// header row of CSVColumns. Evidence lines are joined with " | ". A cell
// that a spreadsheet would run as a formula (one starting with =, +, -, @,
// a tab or a carriage return) is prefixed with an apostrophe: finding text
// comes from the host and from feeds, and must not execute when an
// auditor opens the file.
func WriteCSV(w io.Writer, r *Report) error {
	c := Canonical(r)
	cw := csv.NewWriter(w)
	if err := cw.Write(CSVColumns); err != nil {
		return fmt.Errorf("report: write csv: %w", err)
	}
	host := c.Host.Hostname
	for _, f := range c.Findings {
		if err := cw.Write(csvRow(host, f)); err != nil {
			return fmt.Errorf("report: write csv: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("report: write csv: %w", err)
	}
	return nil
}

func csvRow(host string, f finding.Finding) []string {
	score := ""
	if f.Score != nil {
		score = strconv.FormatFloat(*f.Score, 'f', 1, 64)
	}
	var vulnID, pkg, installed, fix, fixed, kev string
	target := f.Attributes["target"]
	if v := f.Vulnerability; v != nil {
		vulnID, pkg, installed, fix, fixed = v.ID, v.Package, v.InstalledVersion, v.Fix, v.FixedVersion
		if v.KnownExploited != nil {
			kev = "yes"
		}
		if target == "" {
			target = cmp.Or(v.Location, v.Package)
		}
	}
	if target == "" {
		target = cmp.Or(f.Attributes["path"], f.Attributes["local"], f.Attributes["remote"])
	}
	row := []string{f.ID, host, f.RulesPackage, f.RuleID, string(f.Severity), score, f.Title,
		target, vulnID, pkg, installed, fix, fixed, kev,
		strings.Join(f.Evidence, " | "), f.Recommendation}
	for i, cell := range row {
		row[i] = neutralize(cell)
	}
	return row
}

// neutralize keeps a spreadsheet from reading a cell as a formula (CSV
// injection, OWASP): a leading apostrophe makes it text.
func neutralize(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
