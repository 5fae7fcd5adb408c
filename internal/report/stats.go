package report

import (
	"cmp"
	"slices"

	"github.com/kensa-dev/kensa/internal/finding"
)

// PackageStat is what the summaries of the renderers say about one rules
// package: how many findings it has and how far it was evaluated, so that
// a zero is never read as clean when the package did not run.
type PackageStat struct {
	Package  string
	Findings int
	// Status is the package's "*" coverage: evaluated, partial or
	// not_evaluated; empty when the package has no "*" entry.
	Status string
	// NotRun: the package was not requested (Summary.NotRun).
	NotRun bool
}

// PackageStats returns a PackageStat for every rules package Kensa has
// and any other the report names, in report order (RulesPackages).
func PackageStats(r *Report) []PackageStat {
	counts := map[string]int{}
	for _, f := range r.Findings {
		counts[f.RulesPackage]++
	}
	status := map[string]string{}
	for _, c := range r.Coverage {
		if c.Scope == "*" {
			status[c.Package] = c.Status
		}
	}
	notRun := Summarize(r).NotRun
	var out []PackageStat
	for _, p := range RulesPackages(r) {
		out = append(out, PackageStat{Package: p, Findings: counts[p], Status: status[p], NotRun: slices.Contains(notRun, p)})
	}
	return out
}

// RulesPackages lists Kensa's rules packages in report order, then any
// other package a finding, a coverage entry or a result names, in the
// order met.
func RulesPackages(r *Report) []string {
	pkgs := finding.Packages()
	add := func(p string) {
		if !slices.Contains(pkgs, p) {
			pkgs = append(pkgs, p)
		}
	}
	for _, f := range r.Findings {
		add(f.RulesPackage)
	}
	for _, c := range r.Coverage {
		add(c.Package)
	}
	for _, res := range r.Results {
		add(res.RulesPackage)
	}
	return pkgs
}

// VulnerableComponent is a package or component with vulnerability
// findings, named with its ecosystem: libssl3 of Debian:12 and a PyPI
// package of the same name are different things to upgrade.
type VulnerableComponent struct {
	Name, Ecosystem string
	Findings        int
}

// MostVulnerable ranks the packages and components by their number of
// vulnerability findings (the upgrades that close the most), most first,
// ties by name and ecosystem.
func MostVulnerable(r *Report) []VulnerableComponent {
	type key struct{ name, eco string }
	counts := map[key]int{}
	for _, f := range r.Findings {
		if v := f.Vulnerability; v != nil {
			counts[key{v.Package, v.Ecosystem}]++
		}
	}
	out := make([]VulnerableComponent, 0, len(counts))
	for k, n := range counts {
		out = append(out, VulnerableComponent{Name: k.name, Ecosystem: k.eco, Findings: n})
	}
	slices.SortFunc(out, func(a, b VulnerableComponent) int {
		return cmp.Or(cmp.Compare(b.Findings, a.Findings), cmp.Compare(a.Name, b.Name), cmp.Compare(a.Ecosystem, b.Ecosystem))
	})
	return out
}
