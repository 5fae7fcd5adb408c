package report

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/kensa-dev/kensa/internal/finding"
)

// Diff compares two reports of one host by the findings' stable
// fingerprints (docs/report.md#fingerprint).
type Diff struct {
	// New findings are in the new report only; Unchanged in both (the new
	// report's copy).
	New, Unchanged []finding.Finding
	// Fixed findings are in the old report only, and the new report
	// checked for them again: their rules package was run and fully
	// evaluated, or their rule passed.
	Fixed []finding.Finding
	// Unverified findings are in the old report only, but the new report
	// did not check for them fully (their rules package did not run, or
	// was partly evaluated and their rule has no passing result): their
	// absence is not a fix. Reason says why, per finding id.
	Unverified []finding.Finding
	Reason     map[string]string
	// Warnings say what makes the comparison doubtful: other hosts, an
	// older report given as the new one.
	Warnings []string
}

// Compare diffs old against new. A finding that disappeared counts as
// fixed only when the new report says it looked: Kensa never reports
// clean for what it did not evaluate, and a diff is no exception.
func Compare(old, new *Report) Diff {
	d := Diff{Reason: map[string]string{}}
	if a, b := hostKey(old.Host), hostKey(new.Host); a != b {
		d.Warnings = append(d.Warnings, fmt.Sprintf("the reports are of different hosts (%s, %s): fingerprints include the host, so every finding differs", a, b))
	}
	if !old.StartedAt.IsZero() && new.StartedAt.Before(old.StartedAt) {
		d.Warnings = append(d.Warnings, "the new report is older than the old one")
	}
	inNew := map[string]bool{}
	for _, f := range new.Findings {
		inNew[f.ID] = true
	}
	inOld := map[string]bool{}
	for _, f := range old.Findings {
		inOld[f.ID] = true
		if inNew[f.ID] {
			continue
		}
		if why := uncheckedIn(new, f); why != "" {
			d.Unverified = append(d.Unverified, f)
			d.Reason[f.ID] = why
		} else {
			d.Fixed = append(d.Fixed, f)
		}
	}
	for _, f := range new.Findings {
		if inOld[f.ID] {
			d.Unchanged = append(d.Unchanged, f)
		} else {
			d.New = append(d.New, f)
		}
	}
	for _, l := range [][]finding.Finding{d.New, d.Fixed, d.Unverified, d.Unchanged} {
		slices.SortStableFunc(l, compareFinding)
	}
	return d
}

// uncheckedIn says why r cannot vouch that f is gone, or "" when it can.
func uncheckedIn(r *Report, f finding.Finding) string {
	for _, res := range r.Results {
		if res.RulesPackage == f.RulesPackage && res.RuleID == f.RuleID && res.Status == finding.StatusPass &&
			(res.Target == "" || res.Target == f.Attributes["target"]) {
			return "" // the rule was evaluated again and passed
		}
	}
	for _, c := range r.Coverage {
		if c.Package != f.RulesPackage || c.Scope != "*" {
			continue
		}
		if c.Status == Evaluated {
			return ""
		}
		return fmt.Sprintf("the new report's %s package is %s: %s", f.RulesPackage, c.Status, cmp.Or(c.Reason, "no reason given"))
	}
	return fmt.Sprintf("the %s package did not run in the new report", f.RulesPackage)
}

func hostKey(h Host) string { return cmp.Or(h.MachineID, h.Hostname, "unknown host") }

// DiffJSON is the JSON form of a Diff (kensa diff --format json).
type DiffJSON struct {
	New        []finding.Finding `json:"new"`
	Fixed      []finding.Finding `json:"fixed"`
	Unverified []UnverifiedJSON  `json:"unverified"`
	Unchanged  []finding.Finding `json:"unchanged"`
	Warnings   []string          `json:"warnings"`
}

// UnverifiedJSON is a finding gone from the new report that the new
// report did not check for, and why.
type UnverifiedJSON struct {
	Finding finding.Finding `json:"finding"`
	Reason  string          `json:"reason"`
}

// WriteDiffJSON writes d as indented JSON; lists are never null.
func WriteDiffJSON(w io.Writer, d Diff) error {
	out := DiffJSON{New: orEmpty(d.New), Fixed: orEmpty(d.Fixed), Unchanged: orEmpty(d.Unchanged),
		Unverified: []UnverifiedJSON{}, Warnings: d.Warnings}
	if out.Warnings == nil {
		out.Warnings = []string{}
	}
	for _, f := range d.Unverified {
		out.Unverified = append(out.Unverified, UnverifiedJSON{Finding: f, Reason: d.Reason[f.ID]})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(out); err != nil {
		return fmt.Errorf("report: write diff: %w", err)
	}
	return nil
}

func orEmpty(fs []finding.Finding) []finding.Finding {
	if fs == nil {
		return []finding.Finding{}
	}
	return fs
}

// WriteDiffText writes d for a terminal: the new findings, the fixed ones,
// those gone but not checked again (with why), and how many are unchanged.
func WriteDiffText(w io.Writer, d Diff) error {
	var b strings.Builder
	for _, warn := range d.Warnings {
		fmt.Fprintf(&b, "warning: %s\n", clean(warn))
	}
	section := func(title string, fs []finding.Finding, reason func(finding.Finding) string) {
		fmt.Fprintf(&b, "\n%s (%d)\n", title, len(fs))
		for _, f := range fs {
			fmt.Fprintf(&b, "  %-13s  %-34s  %s  [%s]\n", strings.ToUpper(string(f.Severity)), clean(f.RuleID), clean(f.Title), f.ID)
			if reason != nil {
				fmt.Fprintf(&b, "  %13s  %s\n", "", clean(reason(f)))
			}
		}
	}
	section("NEW", d.New, nil)
	section("FIXED", d.Fixed, nil)
	section("NO LONGER REPORTED, NOT CHECKED AGAIN", d.Unverified, func(f finding.Finding) string { return d.Reason[f.ID] })
	fmt.Fprintf(&b, "\nUNCHANGED: %d\n", len(d.Unchanged))
	fmt.Fprintf(&b, "\n%d new, %d fixed, %d not checked again, %d unchanged\n", len(d.New), len(d.Fixed), len(d.Unverified), len(d.Unchanged))
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("report: write diff: %w", err)
	}
	return nil
}
