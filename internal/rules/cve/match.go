package cve

import (
	"fmt"
	"slices"
	"strings"

	"github.com/kensa-dev/kensa/internal/advisory"
	"github.com/kensa-dev/kensa/internal/version"
)

// verdict is what one affected entry says about one installed version.
type verdict struct {
	vulnerable bool
	// fix is finding.FixAvailable, FixUnfixed or FixWillNotFix.
	fix   string
	fixed string
	// matched and comparison explain the decision in words.
	matched    string
	comparison string
}

// evaluate decides whether installed, a version of ecosystem, is affected
// by af, following the OSV schema's evaluation: within a range, events
// sorted by version open (introduced) and close (fixed, or after
// last_affected) intervals, and a limit caps the range; a version listed
// in versions is affected whatever the ranges say. A vendor status other
// than "affected" holds for every version.
func evaluate(ecosystem string, af *advisory.Affected, installed string) (verdict, error) {
	switch af.Status {
	case advisory.StatusNotAffected:
		return verdict{matched: "vendor status " + orStatus(af)}, nil
	case advisory.StatusUnfixed:
		return verdict{vulnerable: true, fix: "unfixed", matched: "vendor status " + orStatus(af) + ": no fix released"}, nil
	case advisory.StatusWillNotFix:
		return verdict{vulnerable: true, fix: "will_not_fix", matched: "vendor status " + orStatus(af) + ": the vendor will not fix it in this release"}, nil
	case advisory.StatusAffected, "":
	default:
		return verdict{}, fmt.Errorf("unknown status %q", af.Status)
	}
	v, err := version.Parse(ecosystem, installed)
	if err != nil {
		return verdict{}, err
	}
	// Every range v falls in must be closed by a fix for v to have one: a
	// fix that another matching range still covers is no fix. The fix
	// reported is the newest of them, which leaves all the ranges.
	var out verdict
	for _, r := range af.Ranges {
		in, fixed, cmp, err := inRange(v, r)
		if err != nil {
			return verdict{}, err
		}
		if !in {
			continue
		}
		if !out.vulnerable {
			out = verdict{vulnerable: true, matched: describe(r), comparison: cmp, fix: "fixed", fixed: fixed}
		} else {
			out.matched += "; " + describe(r)
			out.comparison += "; " + cmp
		}
		switch {
		case fixed == "":
			out.fix, out.fixed = "unfixed", ""
		case out.fix == "fixed":
			if c, err := version.Compare(ecosystem, fixed, out.fixed); err == nil && c > 0 {
				out.fixed = fixed
			}
		}
	}
	if out.vulnerable {
		return out, nil
	}
	// The explicit list: OSV records derived from commit (GIT) ranges list
	// every affected release but name no fixed one.
	for _, listed := range af.Versions {
		same := listed == installed
		if !same {
			c, err := v.Compare(listed)
			same = err == nil && c == 0
		}
		if same {
			return verdict{vulnerable: true, fix: "unfixed", matched: "listed among the affected versions; the record names no fixed release",
				comparison: installed + " is listed"}, nil
		}
	}
	if len(af.Versions) > 0 && len(af.Ranges) == 0 {
		return verdict{matched: "not among the listed affected versions"}, nil
	}
	return verdict{matched: "outside every affected range"}, nil
}

func orStatus(af *advisory.Affected) string {
	if af.VendorStatus != "" {
		return af.VendorStatus
	}
	return af.Status
}

type event struct {
	kind    string // introduced, fixed, last_affected, limit
	version string
}

// inRange evaluates one OSV range. It returns whether v is affected, the
// first fixed version above v (the fix of v's branch; "" when none), and
// the comparison that decided, in words.
func inRange(v version.Version, r advisory.Range) (bool, string, string, error) {
	var evs []event
	var limits []string
	for _, e := range r.Events {
		switch {
		case e.Introduced != "":
			evs = append(evs, event{"introduced", e.Introduced})
		case e.Fixed != "":
			evs = append(evs, event{"fixed", e.Fixed})
		case e.LastAffected != "":
			evs = append(evs, event{"last_affected", e.LastAffected})
		case e.Limit != "":
			limits = append(limits, e.Limit)
		}
	}
	eco := v
	var sortErr error
	slices.SortStableFunc(evs, func(a, b event) int {
		if a.version == b.version {
			return 0
		}
		if a.kind == "introduced" && a.version == "0" {
			return -1
		}
		if b.kind == "introduced" && b.version == "0" {
			return 1
		}
		pa, err := parseLike(eco, a.version)
		if err != nil {
			sortErr = err
			return 0
		}
		c, err := pa.Compare(b.version)
		if err != nil {
			sortErr = err
		}
		return c
	})
	if sortErr != nil {
		return false, "", "", sortErr
	}
	affected := false
	var why string
	for _, e := range evs {
		switch e.kind {
		case "introduced":
			if e.version == "0" {
				affected, why = true, "introduced 0"
				continue
			}
			c, err := v.Compare(e.version)
			if err != nil {
				return false, "", "", err
			}
			if c >= 0 {
				affected, why = true, fmt.Sprintf("%s >= introduced %s", v, e.version)
			}
		case "fixed":
			c, err := v.Compare(e.version)
			if err != nil {
				return false, "", "", err
			}
			if c >= 0 {
				affected = false
			}
		case "last_affected":
			c, err := v.Compare(e.version)
			if err != nil {
				return false, "", "", err
			}
			if c > 0 {
				affected = false
			}
		}
	}
	if !affected {
		return false, "", "", nil
	}
	if len(limits) > 0 {
		below := false
		for _, l := range limits {
			if l == "*" {
				below = true
				break
			}
			c, err := v.Compare(l)
			if err != nil {
				return false, "", "", err
			}
			if c < 0 {
				below = true
			}
		}
		if !below {
			return false, "", "", nil
		}
	}
	// The fix of v's branch is the event that closes it: the first
	// fixed above v, unless a last_affected at or above v closes it first
	// (that branch has no fix: a later branch's fix is not its fix).
	for _, e := range evs {
		if e.kind != "fixed" && e.kind != "last_affected" {
			continue
		}
		c, err := v.Compare(e.version)
		if err != nil {
			return false, "", "", err
		}
		switch {
		case e.kind == "fixed" && c < 0:
			return true, e.version, fmt.Sprintf("%s < fixed %s", v, e.version), nil
		case e.kind == "last_affected" && c <= 0:
			return true, "", fmt.Sprintf("%s <= last affected %s, no fixed version", v, e.version), nil
		}
	}
	return true, "", why + ", no fixed version", nil
}

// parseLike parses s with the rules of v's ecosystem.
func parseLike(v version.Version, s string) (version.Version, error) {
	return version.Parse(v.Ecosystem(), s)
}

// describe spells a range as its events: "introduced 0, fixed 1.21.9".
func describe(r advisory.Range) string {
	var parts []string
	for _, e := range r.Events {
		switch {
		case e.Introduced != "":
			parts = append(parts, "introduced "+e.Introduced)
		case e.Fixed != "":
			parts = append(parts, "fixed "+e.Fixed)
		case e.LastAffected != "":
			parts = append(parts, "last_affected "+e.LastAffected)
		case e.Limit != "":
			parts = append(parts, "limit "+e.Limit)
		}
	}
	return r.Type + " range " + strings.Join(parts, ", ")
}
