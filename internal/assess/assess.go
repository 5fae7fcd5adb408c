// Package assess is the pipeline shared by `kensa scan` and, later, the
// server: plan what can be assessed, collect the inventory, evaluate the
// rules packages, and produce the canonical report.
//
// Coverage is computed before and alongside evaluation: every requested
// rules package, and every scope within it (an ecosystem, a collector), says
// whether it was evaluated and, if not, why. A package that does not exist
// yet is reported as not evaluated — never as clean.
package assess

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/kensa-dev/kensa/internal/collect"
	"github.com/kensa-dev/kensa/internal/collect/apk"
	"github.com/kensa-dev/kensa/internal/collect/apparmor"
	"github.com/kensa-dev/kensa/internal/collect/aptchangelog"
	"github.com/kensa-dev/kensa/internal/collect/aptsources"
	"github.com/kensa-dev/kensa/internal/collect/auth"
	"github.com/kensa-dev/kensa/internal/collect/discover"
	"github.com/kensa-dev/kensa/internal/collect/dpkg"
	"github.com/kensa-dev/kensa/internal/collect/files"
	"github.com/kensa-dev/kensa/internal/collect/firewall"
	"github.com/kensa-dev/kensa/internal/collect/fswalk"
	"github.com/kensa-dev/kensa/internal/collect/homes"
	"github.com/kensa-dev/kensa/internal/collect/kernel"
	"github.com/kensa-dev/kensa/internal/collect/kmod"
	"github.com/kensa-dev/kensa/internal/collect/lang/golang"
	"github.com/kensa-dev/kensa/internal/collect/lang/java"
	"github.com/kensa-dev/kensa/internal/collect/lang/npm"
	"github.com/kensa-dev/kensa/internal/collect/lang/python"
	"github.com/kensa-dev/kensa/internal/collect/mounts"
	"github.com/kensa-dev/kensa/internal/collect/netstate"
	"github.com/kensa-dev/kensa/internal/collect/osrelease"
	"github.com/kensa-dev/kensa/internal/collect/rpm"
	"github.com/kensa-dev/kensa/internal/collect/sshd"
	"github.com/kensa-dev/kensa/internal/collect/system"
	"github.com/kensa-dev/kensa/internal/collect/units"
	"github.com/kensa-dev/kensa/internal/collect/users"
	"github.com/kensa-dev/kensa/internal/finding"
	"github.com/kensa-dev/kensa/internal/host"
	"github.com/kensa-dev/kensa/internal/hostfs"
	"github.com/kensa-dev/kensa/internal/observe"
	"github.com/kensa-dev/kensa/internal/observe/watch"
	"github.com/kensa-dev/kensa/internal/report"
	"github.com/kensa-dev/kensa/internal/rules"
	"github.com/kensa-dev/kensa/internal/rules/behavior"
	"github.com/kensa-dev/kensa/internal/rules/cve"
)

// Collectors returns the inventory collectors in the order they run. Order
// matters: the OS identity and users come first (discovery reads home
// directories), package databases before the kernel (which reads kernel
// packages), apt's pending updates (which compare with dpkg's packages)
// and discovery (which marks files owned by packages).
func Collectors(cfg collect.DiscoveryConfig, updates aptchangelog.Options) []collect.Collector {
	w := discover.New(cfg)
	return []collect.Collector{
		osrelease.New(),
		users.New(),
		dpkg.New(),
		rpm.New(),
		apk.New(),
		kernel.New(),
		aptchangelog.New(updates),
		sshd.New(),
		auth.New(),
		system.NewSysctl(),
		system.NewPaths(nil),
		kmod.New(nil),
		mounts.New(),
		apparmor.New(),
		aptsources.New(),
		files.New(),
		units.New(),
		netstate.New(),
		firewall.New(),
		homes.New(),
		fswalk.New(fswalk.Options{}),
		discover.NewCollector(w),
		golang.New(w),
		python.New(w),
		npm.New(w),
		java.New(w),
	}
}

// Options configure an assessment.
type Options struct {
	// Root is the directory to assess; "/" is the live host.
	Root string
	// Packages are the rules packages requested (finding.Packages() when empty).
	Packages  []string
	Discovery collect.DiscoveryConfig
	// Updates configures the apt-changelog collector (the feed-free CVE
	// method for Debian and Ubuntu): its download cache, or no download.
	Updates  aptchangelog.Options
	Logger   *slog.Logger
	Clock    func() time.Time
	Progress collect.Progress
	Tool     report.Tool
	// VulnDB is the vulnerability store the CVE rules package matches
	// against; nil when there is none (DBError says why), and the CVE
	// coverage then says so.
	VulnDB  cve.Store
	DBPath  string
	DBError error
	// IgnoreUnfixed leaves out vulnerabilities without a released fix.
	IgnoreUnfixed bool
	// FSWalk runs the walk of the local file systems (config/fswalk) for
	// the cis package (kensa scan --fs-walk): seconds on a server, so
	// asked for.
	FSWalk bool
	// Tailoring adjusts the configuration rules (kensa scan --profile);
	// nil for none.
	Tailoring *rules.Tailoring
	// Window is the runtime package's observation window (kensa scan
	// --duration); nil when none was asked for, and then the runtime
	// package is not evaluated, with that reason. Scan runs it alongside
	// the collectors: the other packages do not wait for it.
	Window *watch.Options
	// Observations are what a window recorded, judged by Evaluate; Scan
	// sets them. ObservationError says why the window could not run.
	Observations     *observe.Observations
	ObservationError error
}

// ParsePackages validates a list of rules package names.
func ParsePackages(names []string) ([]string, error) {
	if len(names) == 0 {
		return finding.Packages(), nil
	}
	known := map[string]bool{}
	for _, p := range finding.Packages() {
		known[p] = true
	}
	var out []string
	seen := map[string]bool{}
	for _, n := range names {
		n = strings.ToLower(strings.TrimSpace(n))
		if n == "best-practice" || n == "bestpractices" {
			n = finding.PackageBestPractices
		}
		if !known[n] {
			return nil, fmt.Errorf("unknown rules package %q (want %s)", n, strings.Join(finding.Packages(), ", "))
		}
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	return out, nil
}

// Inventory collects the inventory of the host or image at opts.Root.
func Inventory(ctx context.Context, opts Options) (*host.Inventory, error) {
	fsys, err := hostfs.Open(opts.Root)
	if err != nil {
		return nil, err
	}
	return inventory(ctx, fsys, opts), nil
}

func inventory(ctx context.Context, fsys hostfs.FS, opts Options) *host.Inventory {
	env := &collect.Env{FS: fsys, Logger: opts.Logger, Clock: opts.Clock}
	return collect.Run(ctx, env, CollectorsFor(opts.Packages, opts.Discovery, opts.Updates, opts.FSWalk), opts.Progress)
}

// CollectorsFor returns the collectors the requested rules packages need,
// in order, or all of them when pkgs is empty (kensa inventory): the OS
// identity, users, package databases and kernel always; apt's pending
// updates and the search for software outside the package manager for
// the CVE package (for CIS alone, the pending security updates only); the
// configuration collectors for best-practices and CIS. A scan of the configuration alone then does not walk the disk.
// The walk of the local file systems (config/fswalk) runs only with
// fsWalk and the cis package.
func CollectorsFor(pkgs []string, cfg collect.DiscoveryConfig, updates aptchangelog.Options, fsWalk bool) []collect.Collector {
	all := Collectors(cfg, updates)
	walk := fsWalk && slices.Contains(pkgs, finding.PackageCIS)
	if len(pkgs) == 0 {
		return slices.DeleteFunc(all, func(c collect.Collector) bool { return c.Name() == fswalk.Name })
	}
	cveWanted := slices.Contains(pkgs, finding.PackageCVE)
	configWanted := slices.Contains(pkgs, finding.PackageBestPractices) || slices.Contains(pkgs, finding.PackageCIS)
	var out []collect.Collector
	for _, c := range all {
		name := c.Name()
		switch {
		case name == "pkg/apt-updates" && !cveWanted && slices.Contains(pkgs, finding.PackageCIS):
			// CIS asks only whether security updates are pending: the
			// security archive's list, without changelogs.
			c = aptchangelog.New(aptchangelog.Options{SecurityOnly: true, NoDownload: true})
		case name == "pkg/apt-updates" || strings.HasPrefix(name, "lang/") || strings.HasPrefix(name, "software/"):
			if !cveWanted {
				continue
			}
		case name == fswalk.Name:
			if !walk {
				continue
			}
		case strings.HasPrefix(name, "config/"):
			if !configWanted {
				continue
			}
		}
		out = append(out, c)
	}
	return out
}

// Scan collects the inventory and evaluates the requested rules packages.
// With the runtime package, a live host and opts.Window, it observes the
// host for the window while the collectors run, and evaluates everything
// when both are done.
func Scan(ctx context.Context, opts Options) (*report.Report, *host.Inventory, error) {
	started := now(opts.Clock)
	fsys, err := hostfs.Open(opts.Root)
	if err != nil {
		return nil, nil, err
	}
	var window chan struct{}
	var obs *observe.Observations
	var obsErr error
	if opts.Window != nil && fsys.Live() && slices.Contains(opts.Packages, finding.PackageRuntime) {
		window = make(chan struct{})
		w := *opts.Window
		go func() {
			defer close(window)
			obs, obsErr = watch.Run(ctx, w)
		}()
	}
	inv := inventory(ctx, fsys, opts)
	if window != nil {
		<-window // orders the goroutine's writes before these reads
		if obsErr != nil && opts.Window.Method != "" && ctx.Err() == nil {
			// A forced method that cannot run fails the scan: who
			// forces one wants that method's answer, not a gap.
			return nil, inv, obsErr
		}
		opts.Observations, opts.ObservationError = obs, obsErr
		if opts.Observations != nil {
			SetOrigins(fsys, inv, opts.Observations)
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, inv, err
	}
	r, err := Evaluate(ctx, inv, opts)
	if err != nil {
		return nil, inv, err
	}
	r.StartedAt = started
	r.FinishedAt = now(opts.Clock)
	return r, inv, ctx.Err()
}

func now(clock func() time.Time) time.Time {
	if clock != nil {
		return clock().UTC()
	}
	return time.Now().UTC()
}

// Evaluate turns an inventory into a report: the CVE rules package
// matches it against opts.VulnDB; the other rules packages are not built
// yet and are reported as not evaluated, with the reason.
func Evaluate(ctx context.Context, inv *host.Inventory, opts Options) (*report.Report, error) {
	pkgs := opts.Packages
	if len(pkgs) == 0 {
		pkgs = finding.Packages()
	}
	r := &report.Report{
		SchemaVersion: report.SchemaVersion,
		Tool:          opts.Tool,
		Host:          reportHost(inv),
		Feeds:         []report.Feed{},
		Coverage:      Coverage(inv, pkgs),
		Collectors:    inv.Collectors,
		Inventory:     report.SummarizeInventory(inv),
		Discovery:     inv.Discovery,
		Results:       []finding.Result{},
		Findings:      []finding.Finding{},
	}
	if r.Tool.Name == "" {
		r.Tool.Name = "kensa"
	}
	if slices.Contains(pkgs, finding.PackageCVE) {
		out, err := cve.Evaluate(ctx, inv, opts.VulnDB, cve.Options{DBPath: opts.DBPath, DBError: opts.DBError, IgnoreUnfixed: opts.IgnoreUnfixed, Now: opts.Clock})
		if err != nil {
			return nil, fmt.Errorf("cve: %w", err)
		}
		r.Findings = append(r.Findings, out.Findings...)
		r.Results = append(r.Results, out.Results...)
		r.Feeds = out.Feeds
		r.Coverage = mergeCoverage(r.Coverage, out.Coverage)
		r.IgnoredUnfixed = out.IgnoredUnfixed
	}
	var config []string
	for _, p := range pkgs {
		if p == finding.PackageBestPractices || p == finding.PackageCIS {
			config = append(config, p)
		}
	}
	if len(config) > 0 {
		all, err := rules.Load()
		if err != nil {
			return nil, err
		}
		if t := opts.Tailoring; t != nil {
			if all, err = t.Apply(all); err != nil {
				return nil, err
			}
			r.Tailoring = &report.Tailoring{File: t.File, SHA256: t.SHA256, Title: t.Title, Changes: t.Changes()}
		}
		out := rules.Evaluate(inv, all, config)
		r.Findings = append(r.Findings, out.Findings...)
		r.Results = append(r.Results, out.Results...)
		var kept []report.Coverage
		for _, c := range r.Coverage {
			if !slices.Contains(config, c.Package) {
				kept = append(kept, c)
			}
		}
		r.Coverage = append(kept, out.Coverage...)
	}
	if slices.Contains(pkgs, finding.PackageRuntime) && inv.Identity.Live {
		r.Findings, r.Results, r.Coverage = runtimeRules(inv, opts, r.Findings, r.Results, r.Coverage)
		r.Observation = opts.Observations
	}
	r.Summary = report.Summarize(r)
	return r, nil
}

// runtimeRules judges the window's observations, or replaces the runtime
// package's coverage with why there are none. (An image's runtime
// coverage already says it cannot be observed.)
func runtimeRules(inv *host.Inventory, opts Options, fs []finding.Finding, rs []finding.Result, cov []report.Coverage) ([]finding.Finding, []finding.Result, []report.Coverage) {
	cov = slices.DeleteFunc(cov, func(c report.Coverage) bool { return c.Package == finding.PackageRuntime })
	switch {
	case opts.Observations != nil:
		out := behavior.Evaluate(finding.HostKey(inv.Identity), opts.Observations)
		return append(fs, out.Findings...), append(rs, out.Results...), append(cov, out.Coverage...)
	case opts.ObservationError != nil:
		cov = append(cov, report.Coverage{Package: finding.PackageRuntime, Scope: "*", Status: report.NotEvaluated,
			Reason: "the observation window could not run: " + opts.ObservationError.Error()})
	default:
		cov = append(cov, report.Coverage{Package: finding.PackageRuntime, Scope: "*", Status: report.NotEvaluated,
			Reason: NoWindow})
	}
	return fs, rs, cov
}

// NoWindow is the runtime package's coverage reason when no window was
// asked for.
const NoWindow = "no observation window was asked for: the runtime package watches the host for a time; run kensa scan --duration 10s..24h (with --packages naming runtime, the window defaults to 1m)"

// SetOrigins records for each binary of obs whether an OS package owns it
// (and which), or that it is third-party software; with no package
// database read, the origin stays unknown.
func SetOrigins(fsys hostfs.FS, inv *host.Inventory, obs *observe.Observations) {
	if len(inv.Packages) == 0 {
		return
	}
	// A file replaced since it was loaded (an upgrade) keeps its
	// package's path: " (deleted)" is the kernel's mark, not the name.
	onDisk := func(p string) string { return strings.TrimSuffix(p, " (deleted)") }
	paths := make([]string, len(obs.Binaries))
	for i, b := range obs.Binaries {
		paths[i] = onDisk(b.Path)
	}
	owners := discover.OwnersOf(fsys, inv.Packages, paths)
	for i := range obs.Binaries {
		b := &obs.Binaries[i]
		if name, ok := owners[onDisk(b.Path)]; ok {
			b.Origin, b.Package = observe.FromPackage, name
		} else {
			b.Origin = observe.ThirdParty
		}
	}
}

// mergeCoverage replaces the CVE package's placeholder entries with what
// the CVE rules package found, keeping the collector and discovery scopes
// (a failed collector or a discovery limit still leaves a gap) and adding
// a partial or failed collector's reason to the scope it shares.
func mergeCoverage(base, cveCov []report.Coverage) []report.Coverage {
	var out []report.Coverage
	for _, c := range base {
		if c.Package == finding.PackageCVE && !strings.HasPrefix(c.Scope, "pkg/") && !strings.HasPrefix(c.Scope, "lang/") &&
			!strings.HasPrefix(c.Scope, "software/") && c.Scope != "discovery" {
			continue // "*" and the ecosystems: the rules package says
		}
		out = append(out, c)
	}
	out = append(out, cveCov...)
	return append(out, packageWide(finding.PackageCVE, out))
}

// packageWide is the "*" entry of a rules package that ran: evaluated when
// every scope is, not_evaluated when none is, else partial, with the
// scopes that fall short named.
func packageWide(pkg string, cov []report.Coverage) report.Coverage {
	var short []string
	total, evaluated, not := 0, 0, 0
	for _, c := range cov {
		if c.Package != pkg || c.Scope == "*" {
			continue
		}
		total++
		switch c.Status {
		case report.Evaluated:
			evaluated++
		case report.NotEvaluated:
			not++
			short = append(short, c.Scope+" not evaluated")
		default:
			short = append(short, c.Scope+" partial")
		}
	}
	star := report.Coverage{Package: pkg, Scope: "*"}
	switch {
	case total == 0:
		// Nothing to match is not a gap: the lifecycle rules (end of
		// life, reboot) still ran on the OS facts.
		star.Status, star.Reason = report.Evaluated, "nothing to match: no OS package or software was found"
	case evaluated == total:
		star.Status = report.Evaluated
	case not == total:
		star.Status, star.Reason = report.NotEvaluated, "no scope could be evaluated: "+strings.Join(short, ", ")
	default:
		star.Status = report.Partial
		star.Reason = fmt.Sprintf("%d of %d scopes fully evaluated; %s", evaluated, total, strings.Join(short, ", "))
	}
	return star
}

func reportHost(inv *host.Inventory) report.Host {
	h := report.Host{Hostname: inv.Identity.Hostname, MachineID: inv.Identity.MachineID, Root: inv.Identity.Root, Live: inv.Identity.Live}
	if o := inv.OS; o != nil {
		h.OS = report.OS{Family: o.Family, ID: o.ID, Release: o.Release, PrettyName: o.PrettyName}
		if o.EOL != nil {
			h.OS.EOL, h.OS.EOLReached, h.OS.EOLNote = o.EOL.Date, o.EOL.Reached, o.EOL.Note
		}
	} else {
		h.OS = report.OS{Family: "unknown", ID: "unknown", Release: ""}
	}
	if inv.Kernel != nil {
		h.Kernel = inv.Kernel.Running
	}
	return h
}

// notBuilt is the reason given for rules packages this version lacks.
const notBuilt = "not implemented yet in this version of Kensa: nothing was checked"

// Coverage says, for each requested rules package and each scope within
// it, what was evaluated. Until the rules packages exist every entry is
// not_evaluated, but the scopes are listed all the same, so a report shows
// exactly what a later version will cover and what is missing here (a
// failed collector, an unknown OS, an image without a running kernel).
func Coverage(inv *host.Inventory, pkgs []string) []report.Coverage {
	var out []report.Coverage
	// add records a scope once; a second reason for the same scope (an
	// unidentified OS and a partial collector, say) joins the first, and
	// the worse status wins.
	add := func(pkg, scope, status, reason string) {
		for i := range out {
			if out[i].Package == pkg && out[i].Scope == scope {
				out[i].Reason += "; " + reason
				if status == report.NotEvaluated {
					out[i].Status = status
				}
				return
			}
		}
		out = append(out, report.Coverage{Package: pkg, Scope: scope, Status: status, Reason: reason})
	}
	for _, p := range pkgs {
		if p == finding.PackageRuntime {
			// Evaluate replaces this with the window's coverage, if one ran.
			reason := NoWindow
			if !inv.Identity.Live {
				reason = "runtime behavior is observed on a running system; " + inv.Identity.Root + " is an image (--root), so nothing was observed"
			}
			add(p, "*", report.NotEvaluated, reason)
			continue
		}
		add(p, "*", report.NotEvaluated, "the "+p+" rules package is "+notBuilt)
		switch p {
		case finding.PackageCVE:
			for _, eco := range ecosystems(inv) {
				if strings.HasPrefix(eco, "pkg/") {
					reason := "the OS could not be identified, so no advisories can be selected for its packages"
					if inv.OS != nil {
						reason = fmt.Sprintf("no advisory ecosystem is known for %s %s, so none can be selected for its packages", inv.OS.ID, cmp.Or(inv.OS.Release, inv.OS.PointRelease, "(release unknown)"))
					}
					add(p, eco, report.NotEvaluated, reason)
					continue
				}
				add(p, eco, report.NotEvaluated, notBuilt)
			}
			if d := inv.Discovery; d != nil && len(d.LimitsHit) > 0 {
				add(p, "discovery", report.Partial, discoveryGap(d))
			}
			for _, c := range inv.Collectors {
				if !strings.HasPrefix(c.Name, "pkg/") && !strings.HasPrefix(c.Name, "lang/") && !strings.HasPrefix(c.Name, "software/") {
					continue
				}
				switch c.Status {
				case host.StatusFailed:
					add(p, c.Name, report.NotEvaluated, "collector failed: "+c.Reason)
				case host.StatusPartial:
					add(p, c.Name, report.Partial, fmt.Sprintf("collector met %d error(s); some packages may be missing", c.ErrorCount))
				}
			}
		case finding.PackageCIS, finding.PackageBestPractices:
			if inv.OS == nil {
				add(p, "os", report.NotEvaluated, "the operating system could not be identified")
			} else {
				add(p, inv.OS.ID+":"+cmp.Or(inv.OS.Release, inv.OS.Codename, "unknown"), report.NotEvaluated, notBuilt)
			}

		}
	}
	return out
}

// discoveryGap describes the limits that cut the search for software
// outside the package manager short: what lies beyond them was not
// inventoried, so it cannot have been assessed.
func discoveryGap(d *host.Discovery) string {
	var parts []string
	for i, l := range d.LimitsHit {
		if i == 3 {
			parts = append(parts, fmt.Sprintf("and %d more", len(d.LimitsHit)-i))
			break
		}
		if l.Path != "" {
			parts = append(parts, fmt.Sprintf("%s (%d) at %s", l.Limit, l.Value, l.Path))
		} else {
			parts = append(parts, fmt.Sprintf("%s (%d)", l.Limit, l.Value))
		}
	}
	return "the search for software outside the package manager stopped at limits, and what lies beyond them was not inventoried: " + strings.Join(parts, ", ")
}

// ecosystems lists the ecosystems present in the inventory: the OS's
// ("Debian:12"), or "pkg/<manager>" for OS packages whose ecosystem is
// unknown because the OS was not identified, then those of software found
// outside the package manager ("Go", "PyPI").
func ecosystems(inv *host.Inventory) []string {
	os := map[string]bool{}
	for _, p := range inv.Packages {
		if p.Ecosystem != "" {
			os[p.Ecosystem] = true
		} else {
			os["pkg/"+p.Manager] = true
		}
	}
	soft := map[string]bool{}
	for _, s := range inv.Software {
		soft[s.Ecosystem] = true
	}
	return append(slices.Sorted(maps.Keys(os)), slices.Sorted(maps.Keys(soft))...)
}
