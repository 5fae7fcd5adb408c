package cve

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/kensa-dev/kensa/internal/advisory"
	"github.com/kensa-dev/kensa/internal/finding"
	"github.com/kensa-dev/kensa/internal/host"
	"github.com/kensa-dev/kensa/internal/report"
	"github.com/kensa-dev/kensa/internal/version"
	"github.com/kensa-dev/kensa/internal/vulndb"
)

// unmatchable says why a component cannot be matched against any feed, or
// "" when it can.
func unmatchable(s *host.Software) string {
	switch {
	case s.Version == "" || s.Version == "(devel)":
		return "no release version (a development build)"
	case s.Ecosystem == "Maven" && !strings.Contains(s.Name, ":"):
		return "no Maven group:artifact coordinates (only a manifest name)"
	}
	if _, err := version.Parse(s.Ecosystem, s.Version); err != nil && !errors.Is(err, version.ErrUnsupported) {
		return "a version the ecosystem's rules cannot read"
	}
	return ""
}

// software matches the components found outside the package manager.
// Go binaries are matched on every module they link and on the standard
// library of the Go version that built them.
func (e *evaluation) software(ctx context.Context) error {
	byEco := map[string][]*host.Software{}
	for i := range e.inv.Software {
		s := &e.inv.Software[i]
		byEco[s.Ecosystem] = append(byEco[s.Ecosystem], s)
	}
	for _, eco := range slices.Sorted(maps.Keys(byEco)) {
		comps := byEco[eco]
		if e.store == nil {
			e.cover(eco, report.NotEvaluated, e.noStoreReason())
			continue
		}
		if len(e.have[eco]) == 0 {
			e.cover(eco, report.NotEvaluated, fmt.Sprintf("no advisories for %s in the vulnerability database: import or update a feed for it (kensa db update)", eco))
			continue
		}
		skipped := map[string]int{}
		n := 0
		cache := map[string][]vulndb.Candidate{}
		for _, s := range comps {
			if err := ctx.Err(); err != nil {
				return err
			}
			if why := unmatchable(s); why != "" {
				skipped[why]++
				continue
			}
			n++
			name := vulndb.PackageKey(eco, s.Name)
			cands, ok := cache[name]
			if !ok {
				var err error
				if cands, err = e.store.Lookup(ctx, eco, name); err != nil {
					return err
				}
				cache[name] = cands
			}
			for _, c := range cands {
				if !c.Advisory.IsVulnerability() {
					continue
				}
				af := c.Affected
				if !commandAffected(s, &af) {
					continue
				}
				v, err := evaluate(eco, &af, s.Version)
				if err != nil {
					e.compareErrors[eco]++
					e.out.Results = append(e.out.Results, finding.Result{RulesPackage: finding.PackageCVE, RuleID: c.Advisory.ID,
						Target: finding.SoftwareTarget(*s), Status: finding.StatusError, Reason: fmt.Sprintf("%s in %s: %v", c.Advisory.ID, c.Source, err)})
					continue
				}
				if !v.vulnerable {
					continue
				}
				how := "version"
				switch s.Kind {
				case host.KindGoStdlib:
					how = "Go version the binary was built with, from its build info"
				case host.KindGoModule, host.KindGoMain:
					how = "module version from the binary's build info"
				}
				prov := finding.Provenance{Method: "feed", Feed: c.Source, Record: c.Advisory.ID, Ecosystem: eco,
					Matched: v.matched + " (" + how + ")", Comparison: v.comparison}
				for _, id := range vulnIDs(c.Advisory) {
					k := key{target: "sw:" + finding.SoftwareTarget(*s), vuln: id}
					e.record(k, func() *accumulator {
						return &accumulator{subject: finding.SoftwareSubject(e.inv.Identity, finding.PackageCVE, RuleFor(eco), *s, id),
							rule: RuleFor(eco), soft: s, ecosystem: eco}
					}, c, v, prov, finding.ConfidenceHigh)
				}
			}
		}
		reason := fmt.Sprintf("%d components matched against %s", n, strings.Join(e.have[eco], ", "))
		if k := e.compareErrors[eco]; k > 0 {
			skipped[fmt.Sprintf("%d comparison(s) with an unreadable record version (see the error results)", k)] = 0
		}
		if len(skipped) == 0 {
			e.cover(eco, report.Evaluated, reason)
			continue
		}
		var parts []string
		for _, why := range slices.Sorted(maps.Keys(skipped)) {
			if skipped[why] == 0 {
				parts = append(parts, why)
				continue
			}
			parts = append(parts, fmt.Sprintf("%d with %s", skipped[why], why))
		}
		e.cover(eco, report.Partial, reason+"; not matchable: "+strings.Join(parts, ", "))
	}
	return nil
}

// recommend says how to fix a finding, with the command for the host's
// package manager. A fix that does not exist is never suggested.
func (e *evaluation) recommend(v *finding.Vulnerability, manager, location string) string {
	if v.Fix != finding.FixAvailable {
		what := "No fixed version has been released"
		if v.Fix == finding.FixWillNotFix {
			what = "The vendor has said it will not fix this in this release"
		}
		return what + " for " + v.Package + " in " + v.Ecosystem + ". Assess the exposure, apply mitigations from the references, " +
			"remove the package if it is not needed, and watch for an update (rescan after `kensa db update`)."
	}
	pkg, fixed := v.Package, v.FixedVersion
	switch manager {
	case "dpkg":
		cmd := fmt.Sprintf("Upgrade %s to %s or later: `sudo apt-get update && sudo apt-get install --only-upgrade %s`.", pkg, fixed, pkg)
		if v.FixRepository != "" {
			return fmt.Sprintf("The fix (%s) is published only in Ubuntu Pro (%s): attach the host to Ubuntu Pro (`sudo pro attach`), then %s",
				fixed, v.FixRepository, strings.ToLower(cmd[:1])+cmd[1:])
		}
		return cmd
	case "rpm":
		tool := "dnf"
		if o := e.inv.OS; o != nil && ((o.ID == "amzn" && o.Major == "2") || o.Major == "7" || o.Major == "6") {
			tool = "yum"
		}
		return fmt.Sprintf("Upgrade %s to %s or later: `sudo %s upgrade %s`.", pkg, fixed, tool, pkg)
	case "apk":
		return fmt.Sprintf("Upgrade %s to %s or later: `apk update && apk upgrade %s`.", pkg, fixed, pkg)
	}
	switch v.Ecosystem {
	case "Go":
		if pkg == "stdlib" || pkg == "toolchain" {
			return fmt.Sprintf("Rebuild %s with Go %s or later (the standard library is compiled into the binary).", location, fixed)
		}
		return fmt.Sprintf("Update %s to v%s or later in the program's go.mod (`go get %s@v%s`) and rebuild %s.", pkg, strings.TrimPrefix(fixed, "v"), pkg, strings.TrimPrefix(fixed, "v"), location)
	case "PyPI":
		return fmt.Sprintf("Upgrade %s to %s or later in the environment of %s: `pip install --upgrade '%s>=%s'`.", pkg, fixed, location, pkg, fixed)
	case "npm":
		return fmt.Sprintf("Upgrade %s to %s or later in the project of %s: `npm install %s@%s`.", pkg, fixed, location, pkg, fixed)
	case "Maven":
		return fmt.Sprintf("Upgrade the dependency %s to %s or later and rebuild or redeploy %s.", pkg, fixed, location)
	}
	return fmt.Sprintf("Upgrade %s to %s or later (%s).", pkg, fixed, location)
}

// commandAffected reports whether an advisory of the Go toolchain is about
// the command s is: records name the commands they affect ("cmd/go",
// or a package inside one, "cmd/go/internal/get"), and the inventory
// names each toolchain binary's command in its purl subpath
// (pkg:golang/toolchain@v1.22.3#cmd/gofmt). Without either, the record
// applies.
func commandAffected(s *host.Software, af *advisory.Affected) bool {
	if s.Name != "toolchain" || len(af.Commands) == 0 {
		return true
	}
	_, cmd, ok := strings.Cut(s.PURL, "#")
	if !ok || cmd == "" {
		return true
	}
	for _, p := range af.Commands {
		if p == cmd || strings.HasPrefix(p, cmd+"/") {
			return true
		}
	}
	return false
}
