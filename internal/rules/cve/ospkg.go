package cve

import (
	"cmp"
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/kensa-dev/kensa/internal/advisory"
	"github.com/kensa-dev/kensa/internal/finding"
	"github.com/kensa-dev/kensa/internal/host"
	"github.com/kensa-dev/kensa/internal/report"
	"github.com/kensa-dev/kensa/internal/vulndb"
)

// ecosystemChoice is one ecosystem whose advisories apply to the host's
// OS packages.
type ecosystemChoice struct {
	name string
	// sibling is true for a rebuild's feed standing in for the distro's.
	sibling bool
	// prefix is true when name is a prefix of the feed's ecosystems (Red
	// Hat publishes per repository: "Red Hat:enterprise_linux:9::baseos").
	prefix bool
}

// osEcosystems lists the ecosystems whose advisories apply to the host's
// OS packages, own feed first: Ubuntu's release and its Ubuntu Pro twin;
// for the RHEL family, Red Hat's repositories, then the rebuilds as
// siblings.
func (e *evaluation) osEcosystems() []ecosystemChoice {
	o := e.inv.OS
	eco := o.Ecosystem()
	if eco == "" {
		return nil
	}
	out := []ecosystemChoice{{name: eco}}
	switch o.ID {
	case "ubuntu":
		if rest, ok := strings.CutPrefix(eco, "Ubuntu:"); ok {
			out = append(out, ecosystemChoice{name: "Ubuntu:Pro:" + rest})
		}
	case "rhel":
		out[0].prefix = true
		out = append(out, ecosystemChoice{name: "AlmaLinux:" + o.Major, sibling: true}, ecosystemChoice{name: "Rocky Linux:" + o.Major, sibling: true})
	case "centos", "ol":
		out = append(out, ecosystemChoice{name: "AlmaLinux:" + o.Major, sibling: true}, ecosystemChoice{name: "Rocky Linux:" + o.Major, sibling: true})
	case "almalinux":
		out = append(out, ecosystemChoice{name: "Rocky Linux:" + o.Major, sibling: true})
	case "rocky":
		out = append(out, ecosystemChoice{name: "AlmaLinux:" + o.Major, sibling: true})
	}
	return out
}

// covered returns the ecosystems of choices the store has advisories for:
// the distro's own when it has any, else its siblings.
func (e *evaluation) covered(choices []ecosystemChoice) []ecosystemChoice {
	var own, sib []ecosystemChoice
	for _, c := range choices {
		var names []string
		for eco := range e.have {
			if eco == c.name || (c.prefix && strings.HasPrefix(eco, c.name+":")) {
				names = append(names, eco)
			}
		}
		slices.Sort(names)
		for _, n := range names {
			cc := ecosystemChoice{name: n, sibling: c.sibling}
			if c.sibling {
				sib = append(sib, cc)
			} else {
				own = append(own, cc)
			}
		}
	}
	if len(own) > 0 {
		return own
	}
	return sib
}

// kernelRole classifies packages built from the kernel's source.
type kernelRole int

const (
	notKernel     kernelRole = iota
	kernelRuntime            // the kernel image or its modules, for one release
	kernelOther              // headers, linux-libc-dev, metapackages: not the kernel that runs
)

// dpkgKernelRelease matches the release in Debian and Ubuntu kernel
// package names: linux-image-6.1.0-18-amd64, linux-modules-5.15.0-91-generic.
var dpkgKernelRelease = regexp.MustCompile(`^linux-(?:image|image-unsigned|modules|modules-extra)-(\d[^ ]*)$`)

// classifyKernel says whether p is the kernel and, for runtime packages,
// which release (uname -r) it belongs to.
func classifyKernel(p *host.Package) (kernelRole, string) {
	switch p.Manager {
	case "dpkg":
		if m := dpkgKernelRelease.FindStringSubmatch(p.Name); m != nil {
			return kernelRuntime, strings.TrimSuffix(m[1], "-unsigned")
		}
		switch {
		case p.Name == "linux-libc-dev", strings.HasPrefix(p.Name, "linux-headers-"), strings.HasPrefix(p.Name, "linux-kbuild-"),
			strings.HasPrefix(p.Name, "linux-source-"), strings.HasPrefix(p.Name, "linux-doc"), strings.HasPrefix(p.Name, "linux-support-"),
			strings.HasPrefix(p.Name, "linux-image-"), strings.HasPrefix(p.Name, "linux-modules-"):
			// Headers and metapackages (linux-image-amd64) are not code
			// the kernel runs.
			return kernelOther, ""
		}
	case "rpm":
		switch {
		case p.Name == "kernel-headers", p.Name == "kernel-doc", strings.HasPrefix(p.Name, "kernel-devel"), p.Name == "kernel-abi-stablelists",
			p.Name == "kernel-abi-whitelists", strings.HasPrefix(p.Name, "kernel-srpm-macros"):
			return kernelOther, ""
		case p.Name == "kernel" || p.Name == "kernel-core" || strings.HasPrefix(p.Name, "kernel-modules") ||
			strings.HasPrefix(p.Name, "kernel-uek") || strings.HasPrefix(p.Name, "kernel-rt") || p.Name == "kernel-default":
			v := p.Version
			if i := strings.IndexByte(v, ':'); i >= 0 {
				v = v[i+1:]
			}
			if p.Arch != "" && p.Arch != "noarch" {
				v += "." + p.Arch
			}
			return kernelRuntime, v
		}
	case "apk":
		switch p.Name {
		case "linux-headers":
			return kernelOther, ""
		case "linux-lts", "linux-virt", "linux-edge", "linux-rpi":
			if ver, r, ok := strings.Cut(p.Version, "-r"); ok {
				return kernelRuntime, ver + "-" + r + "-" + strings.TrimPrefix(p.Name, "linux-")
			}
		}
	}
	return notKernel, ""
}

// kernelRole classifies p like classifyKernel, and also counts as "not the
// kernel that runs" every other package built from a kernel source (perf,
// bpftool, usbip, kernel-tools): the advisories of the kernel's source
// package are the kernel's thousands of CVEs, which are not in those
// tools; matching them would bury the host's real findings.
func (e *evaluation) kernelRole(p *host.Package) (kernelRole, string) {
	role, rel := classifyKernel(p)
	if role != notKernel {
		return role, rel
	}
	if e.kernelSources == nil {
		e.kernelSources = map[string]bool{"dpkg/linux": true, "rpm/kernel": true}
		for i := range e.inv.Packages {
			q := &e.inv.Packages[i]
			if r, _ := classifyKernel(q); r == kernelRuntime {
				src, _ := lookupNames(q)
				e.kernelSources[q.Manager+"/"+src] = true
			}
		}
	}
	if src, _ := lookupNames(p); e.kernelSources[p.Manager+"/"+src] {
		return kernelOther, ""
	}
	return notKernel, ""
}

// lookupNames returns the (name, version) pairs a package is looked up
// by: the source package for feeds keyed on it, the binary name for feeds
// that list binary packages. Signed kernel images are built from
// linux-signed-* source packages but advisories name "linux" (Debian:
// linux-signed-amd64 -> linux; Ubuntu: linux-signed-hwe-5.15 ->
// linux-hwe-5.15), at the binary package's version.
func lookupNames(p *host.Package) (src, srcVersion string) {
	src, srcVersion = cmp.Or(p.SourceName, p.Name), cmp.Or(p.SourceVersion, p.Version)
	if rest, ok := strings.CutPrefix(src, "linux-signed"); ok && p.Manager == "dpkg" {
		switch rest {
		case "", "-amd64", "-arm64", "-i386", "-armhf", "-ppc64el", "-s390x":
			src = "linux"
		default:
			src = "linux" + rest
		}
		srcVersion = p.Version
	}
	return src, srcVersion
}

// osPackages matches the OS packages.
func (e *evaluation) osPackages(ctx context.Context) error {
	inv := e.inv
	if len(inv.Packages) == 0 {
		return nil
	}
	scope := ""
	if inv.OS != nil {
		scope = inv.OS.Ecosystem()
	}
	if scope == "" {
		return nil // assess reports unidentified OS packages (pkg/<manager>)
	}
	kernelScope := e.kernelCoverage()
	var choices []ecosystemChoice
	if e.store != nil {
		choices = e.covered(e.osEcosystems())
	}
	if len(choices) == 0 {
		reason := fmt.Sprintf("no advisories for %s in the vulnerability database", scope)
		if e.store == nil {
			reason = e.noStoreReason()
		}
		if n := e.changelogs(scope); n > 0 {
			e.cover(scope, report.Partial, reason+fmt.Sprintf("; the feed-free apt-changelog method covered the %d package(s) with a pending update "+
				"(it finds only vulnerabilities a released update fixes; unfixed vulnerabilities are not found)", n))
		} else {
			e.cover(scope, report.NotEvaluated, reason+e.changelogGap())
		}
		if kernelScope != nil {
			// Without a feed the kernel is not matched either; a kernel no
			// package owns says so whatever the feeds.
			if kernelScope.status == report.Evaluated {
				kernelScope = &scopeStatus{report.NotEvaluated, "no feed covers " + scope + ", so the running kernel's package was not matched"}
			}
			e.cover("kernel", kernelScope.status, kernelScope.reason)
		}
		return nil
	}
	sibling := choices[0].sibling
	running := ""
	if inv.Kernel != nil {
		running = inv.Kernel.Running
	}
	matched, skippedKernel := 0, 0
	for i := range inv.Packages {
		p := &inv.Packages[i]
		if err := ctx.Err(); err != nil {
			return err
		}
		if role, rel := e.kernelRole(p); role == kernelOther || (role == kernelRuntime && (running == "" || rel != running)) {
			skippedKernel++
			continue
		}
		matched++
		src, srcVersion := lookupNames(p)
		for _, ch := range choices {
			seen := map[string]bool{}
			for _, name := range []string{src, p.Name} {
				if seen[name] {
					continue
				}
				seen[name] = true
				cands, err := e.store.Lookup(ctx, ch.name, vulndb.PackageKey(ch.name, name))
				if err != nil {
					return err
				}
				for _, c := range cands {
					if err := e.matchPackage(p, ch, name == src && !c.Affected.BinaryKeyed, srcVersion, c); err != nil {
						return err
					}
				}
			}
		}
	}
	e.changelogs(scope)
	names := make([]string, len(choices))
	for i, c := range choices {
		names[i] = c.name
	}
	reason := fmt.Sprintf("%d packages matched against %s", matched, strings.Join(names, ", "))
	if skippedKernel > 0 {
		reason += fmt.Sprintf("; %d packages built from the kernel's source not matched (headers, tools, metapackages, or kernels that are not running: "+
			"the kernel's advisories are about the running kernel)", skippedKernel)
	}
	if k := e.compareErrors[scope]; k > 0 {
		e.cover(scope, report.Partial, reason+fmt.Sprintf("; %d comparison(s) failed on unreadable versions (see the error results): those records were not evaluated", k))
	} else if sibling {
		e.cover(scope, report.Partial, reason+fmt.Sprintf(": the vulnerability database has no advisories for %s itself, so a rebuild's (sibling distro) were used; "+
			"versions and fixes may differ, findings are of medium confidence", scope))
	} else {
		e.cover(scope, report.Evaluated, reason)
	}
	if kernelScope != nil {
		if sibling && kernelScope.status == report.Evaluated {
			// A rebuild's kernel errata may not cover this distro's kernel
			// (Oracle's UEK has none in AlmaLinux data).
			kernelScope = &scopeStatus{report.Partial, kernelScope.reason + ", matched against a sibling distro's advisories only"}
		}
		e.cover("kernel", kernelScope.status, kernelScope.reason)
	}
	return nil
}

type scopeStatus struct{ status, reason string }

// kernelCoverage says whether the running kernel can be matched: only a
// kernel some package owns can.
func (e *evaluation) kernelCoverage() *scopeStatus {
	k := e.inv.Kernel
	if k == nil {
		return nil
	}
	if k.Running == "" {
		if len(k.Installed) == 0 {
			return nil
		}
		return &scopeStatus{report.NotEvaluated, "no running kernel is known (" + cmp.Or(k.RunningSource, "an image") + "): installed kernel packages are not matched, since only the running kernel's vulnerabilities matter"}
	}
	for _, ik := range k.Installed {
		if ik.Release == k.Running {
			return &scopeStatus{report.Evaluated, "running kernel " + k.Running + " is package " + ik.Package + " " + ik.Version}
		}
	}
	return &scopeStatus{report.NotEvaluated, "the running kernel " + k.Running + " belongs to no installed package (a custom or host-provided kernel): no feed can tell its vulnerabilities"}
}

// moduleStreamOf returns the "name:stream" of an rpm MODULARITYLABEL
// ("container-tools:rhel8:8050020211112:abcd").
func moduleStreamOf(label string) string {
	parts := strings.SplitN(label, ":", 3)
	if len(parts) < 2 {
		return ""
	}
	return parts[0] + ":" + parts[1]
}

// siblingRelease strips the rebuild's own mark from a release ("1.el9_4.alma.1"
// -> "1.el9_4"), so a RHEL package is compared with the fix the rebuild
// copied, not with the rebuild's respin of it.
var siblingRelease = regexp.MustCompile(`\.(?:alma|rocky)(?:\.\d+)?$`)

func (e *evaluation) matchPackage(p *host.Package, ch ecosystemChoice, bySource bool, srcVersion string, c vulndb.Candidate) error {
	a := c.Advisory
	if !a.IsVulnerability() {
		return nil
	}
	af := c.Affected
	// Module errata apply only to packages of the same module stream, and
	// a modular package only takes module errata.
	if af.Modular || p.ModularityLabel != "" {
		if !af.Modular || p.ModularityLabel == "" {
			return nil
		}
		if len(af.ModuleStreams) > 0 && !slices.Contains(af.ModuleStreams, moduleStreamOf(p.ModularityLabel)) {
			return nil
		}
	}
	// An Amazon Linux Extras erratum (ALAS2KERNEL-5.10-...) is for the
	// packages of that topic only: its kernel-5.10 fix says nothing about
	// a 4.14 kernel.
	if af.Repository != "" && strings.HasPrefix(ch.name, "Amazon Linux:") {
		// Only kernel topics ("kernel-5.10") carry a version line to
		// tell them apart; other topics (docker, nginx1, php8.0) name
		// packages no other repository has.
		if ver, ok := strings.CutPrefix(af.Repository, "kernel-"); ok {
			v := p.Version
			if _, rest, ok := strings.Cut(v, ":"); ok {
				v = rest
			}
			if !strings.HasPrefix(v, ver+".") {
				return nil
			}
		}
	}
	installed := p.Version
	if bySource {
		installed = srcVersion
	}
	if ch.sibling {
		af.Ranges = slices.Clone(af.Ranges)
		for i, r := range af.Ranges {
			evs := slices.Clone(r.Events)
			for j := range evs {
				evs[j].Fixed = siblingRelease.ReplaceAllString(evs[j].Fixed, "")
				evs[j].LastAffected = siblingRelease.ReplaceAllString(evs[j].LastAffected, "")
			}
			af.Ranges[i].Events = evs
		}
		af.Versions = slices.Clone(af.Versions)
		for i := range af.Versions {
			af.Versions[i] = siblingRelease.ReplaceAllString(af.Versions[i], "")
		}
	}
	v, err := evaluate(ch.name, &af, installed)
	if err != nil {
		// One unreadable version in one record must not end the scan: the
		// package is reported through the other records, and the problem
		// is said in the finding-free results.
		e.compareErrors[e.inv.OS.Ecosystem()]++
		e.out.Results = append(e.out.Results, finding.Result{RulesPackage: finding.PackageCVE, RuleID: a.ID, Target: p.Name, Status: finding.StatusError,
			Reason: fmt.Sprintf("%s in %s: %v", a.ID, c.Source, err)})
		return nil
	}
	if !v.vulnerable {
		return nil
	}
	method, conf := "feed", finding.ConfidenceHigh
	if ch.sibling {
		method, conf = "sibling-feed", finding.ConfidenceMedium
	}
	what := "binary package " + p.Name
	if bySource {
		what = "source package " + cmp.Or(p.SourceName, p.Name)
	}
	prov := finding.Provenance{Method: method, Feed: c.Source, Record: a.ID, Ecosystem: ch.name,
		Matched: v.matched + " (" + what + ")", Comparison: v.comparison}
	switch {
	case len(af.ModuleStreams) > 0:
		prov.Matched += ", module stream " + strings.Join(af.ModuleStreams, " or ")
	case af.Modular:
		prov.Matched += ", a module erratum naming no stream: matched on any modular build"
	}
	for _, id := range vulnIDs(a) {
		k := key{target: "pkg:" + finding.PackageTarget(*p), vuln: id}
		e.record(k, func() *accumulator {
			rule := RuleFor(e.inv.OS.Ecosystem())
			return &accumulator{subject: finding.PackageSubject(e.inv.Identity, finding.PackageCVE, rule, *p, id),
				rule: rule, pkg: p, ecosystem: ch.name}
		}, c, v, prov, conf)
	}
	return nil
}

// changelogs records the CVEs that pending updates' changelogs fix (the
// feed-free method for Debian and Ubuntu). It returns the number of
// packages whose candidate changelog was read. Where feeds matched too,
// the changelog adds its provenance to their findings.
func (e *evaluation) changelogs(scope string) int {
	u := e.inv.Updates
	if u == nil {
		return 0
	}
	byName := map[string]*host.Package{}
	for i := range e.inv.Packages {
		p := &e.inv.Packages[i]
		byName[p.Name+"/"+p.Arch] = p
		if _, ok := byName[p.Name]; !ok {
			byName[p.Name] = p
		}
	}
	read := 0
	for _, pu := range u.Pending {
		if pu.Changelog != "read" {
			continue
		}
		read++
		p := byName[pu.Name+"/"+pu.Arch]
		if p == nil {
			p = byName[pu.Name]
		}
		if p == nil {
			continue
		}
		if role, _ := e.kernelRole(p); role != notKernel {
			continue
		}
		for _, id := range pu.FixedCVEs {
			c := vulndb.Candidate{Source: "", Advisory: &advisory.Advisory{ID: id, Kind: advisory.KindSecurity,
				References: []string{changelogRef(e.inv.OS, id)}}}
			v := verdict{vulnerable: true, fix: finding.FixAvailable, fixed: pu.Candidate}
			prov := finding.Provenance{Method: "changelog", Record: fmt.Sprintf("changelog of %s %s", pu.Name, pu.Candidate), Ecosystem: scope,
				Matched:    fmt.Sprintf("named in the changelog entries newer than the installed version%s", suiteNote(pu.Suite)),
				Comparison: fmt.Sprintf("installed %s < candidate %s", pu.Installed, pu.Candidate)}
			k := key{target: "pkg:" + finding.PackageTarget(*p), vuln: id}
			e.record(k, func() *accumulator {
				rule := RuleFor(scope)
				return &accumulator{subject: finding.PackageSubject(e.inv.Identity, finding.PackageCVE, rule, *p, id),
					rule: rule, pkg: p, ecosystem: scope}
			}, c, v, prov, finding.ConfidenceMedium)
		}
	}
	return read
}

func suiteNote(suite string) string {
	if suite == "" {
		return ""
	}
	return " (candidate from " + suite + ")"
}

func changelogRef(o *host.OSRelease, id string) string {
	if o != nil && o.ID == "ubuntu" {
		return "https://ubuntu.com/security/" + id
	}
	return "https://security-tracker.debian.org/tracker/" + id
}

// changelogGap explains why the apt-changelog method did not help.
func (e *evaluation) changelogGap() string {
	o := e.inv.OS
	if o == nil || (o.ID != "debian" && o.ID != "ubuntu") {
		return ""
	}
	u := e.inv.Updates
	switch {
	case u == nil:
		why := "it did not run"
		for _, c := range e.inv.Collectors {
			if c.Name == "pkg/apt-updates" && c.Reason != "" {
				why = c.Reason
			}
		}
		return "; the feed-free apt-changelog method found nothing to read (" + why + ")"
	case len(u.Pending) == 0:
		return "; apt's lists show no pending update for the feed-free apt-changelog method"
	default:
		return fmt.Sprintf("; none of the %d pending updates' changelogs could be read for the feed-free apt-changelog method", len(u.Pending))
	}
}
