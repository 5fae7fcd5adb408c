// Package aptchangelog gathers the facts of the feed-free CVE method for
// Debian and Ubuntu hosts (the method Vuls uses where no feed covers a
// host): for each installed package with a newer candidate version in
// apt's package lists, the CVE ids that the candidate's changelog names in
// its entries newer than the installed version, less those the installed
// package's own changelog names already (a fix backported earlier). They
// land in host.Inventory.Updates; deciding what they mean is the rules'
// job.
//
// # Candidates
//
// The lists are var/lib/apt/lists/*_Packages, plain or compressed (lz4,
// gz, xz, zst, bz2), each with the Release or InRelease file of its
// archive beside it. A candidate is chosen as apt chooses one with no
// preferences: every archive has apt's default priority, 500, except
// archives whose Release says "NotAutomatic: yes" (experimental: 1) and,
// with "ButAutomaticUpgrades: yes" too (backports: 100); the installed
// version has the priority of the archives that still list it, and at
// least 100. The candidate is the newest of the versions newer than the
// installed one that have the highest priority among them, and only when
// that priority is not below the installed version's: so backports never
// replace a version installed from the main archive, but do update a
// package installed from backports (its version is listed nowhere else,
// or is listed in backports only). A list entry counts for an installed
// package of the same architecture, or when either is "all" and the
// other is the host's native one.
//
// apt pinning is not modelled: /etc/apt/preferences and preferences.d
// (Pin-Priority for an origin, a release, a package), APT::Default-Release
// and the per-command target release (-t) are not read. Where they are
// used, apt's candidate differs from the one reported here: a pin above
// 500 (a third-party origin pinned to 600, a -t release at 990) makes apt
// prefer a version this package would not, possibly an older one than
// reported; a pin below 100 or below 0 holds back or forbids what this
// package reports as pending. A package held with `apt-mark hold` is
// reported as pending too. The report is then "a newer version is
// available and fixes these CVEs", not "apt upgrade will install it".
//
// # Changelogs
//
// The installed changelog is read from the scanned root:
// usr/share/doc/PKG/changelog.Debian.gz (changelog.gz for a native
// package) and, for binary-only uploads, changelog.Debian.ARCH.gz; a
// documentation directory that is a link to another package's is
// followed, inside the root. Debhelper trims installed changelogs to
// recent entries, so a CVE fixed long ago may not be subtracted.
//
// The candidate's changelog is in the candidate .deb, which the Fetcher
// gets (DebFetcher: a cache directory, `apt-get download`, `dpkg-deb
// --fsys-tarfile`). Binary packages built from one source at one version
// share one changelog, so one package of each such group is fetched (the
// smallest, preferring one whose documentation directory is its own).
// Downloads happen only on a live scan (the scanned root is the running
// system, whose apt configuration apt-get uses), at most
// Options.Concurrency at once, each bounded by Options.Timeout, and never
// with Options.NoDownload. A DebFetcher first downloads the packages of
// all groups in a few batches (apt-get spends seconds reading its lists
// each time it starts), then each group is fetched alone: from the cache,
// or downloaded on its own, which says why it failed; after three
// failures in a row nothing more is downloaded.
//
// The cache is looked at first in every case, so a scan of an image
// (--root) still reads the changelogs of .deb files cached by an earlier
// live scan or put there by hand; the others are reported as "not
// downloaded: image scan". A cached file is used only when its size and
// SHA256 are those of the list; the cache is never pruned. Every
// candidate changelog that could not be read says why in
// PendingUpdate.Changelog ("read" when it was), counts in
// Updates.ChangelogsMissing, and makes the collector's status partial.
// ChangelogsRead and ChangelogsMissing count pending updates (a changelog
// shared by several packages counts for each), so they add up to
// len(Pending).
//
// The method reports every CVE id that a newer entry names, whatever the
// entry says of it: an id named in passing ("Apply CVE-2021-4189 PASV fix
// to ftplib.ftpcp()", an expat CVE in a note on tests, both in python3.11
// on Debian 12) is reported as fixed by the update. Entries of other
// distributions merged into the changelog (an unstable upload imported by
// a stable update) count as the candidate's, as they should.
//
// The collector reads the packages the dpkg collector found
// (inv.Packages with manager dpkg), so it runs after it. Register it with
// New(Options{}) after dpkg.New() in the collector list.
package aptchangelog

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"path"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/kensa-dev/kensa/internal/collect"
	"github.com/kensa-dev/kensa/internal/host"
	"github.com/kensa-dev/kensa/internal/hostfs"
	"github.com/kensa-dev/kensa/internal/version"
)

// Method is Updates.Method of this collector.
const Method = "apt-changelog"

// ChangelogRead is PendingUpdate.Changelog of a candidate whose changelog
// was read; any other value says why it was not.
const ChangelogRead = "read"

const (
	// DefaultConcurrency is how many fetches run at once.
	DefaultConcurrency = 2
	// DefaultMaxDebSize is the largest .deb downloaded for its changelog.
	DefaultMaxDebSize = 256 << 20
	// maxChangelogBytes caps a changelog once decompressed; the
	// kernel's, the longest, is a few MiB.
	maxChangelogBytes = 64 << 20
	// maxFailuresInARow stops downloading after this many downloads
	// failed with none succeeding in between: the archive is not
	// reachable, and each try could wait for its timeout.
	maxFailuresInARow = 3
	// maxTries is how many packages of one source are tried for a
	// changelog (the others may link their documentation to it).
	maxTries = 3
	// maxReason caps PendingUpdate.Changelog and an error message.
	maxReason = 300
)

// Options configure the collector. The zero value downloads into
// DefaultCacheDir with apt-get and dpkg-deb.
type Options struct {
	// CacheDir keeps the downloaded .deb files; "" means DefaultCacheDir().
	CacheDir string
	// NoDownload never downloads a package; cached ones are still read.
	NoDownload bool
	// Fetcher gets candidate changelogs; nil means a DebFetcher on
	// CacheDir with Timeout. Tests set one that reads fixtures.
	Fetcher Fetcher
	// Concurrency bounds the fetches running at once; 0 means
	// DefaultConcurrency.
	Concurrency int
	// Timeout bounds one run of apt-get download (of one package, or of
	// a batch of up to 40 when prefetching) and one extraction; 0 means
	// DefaultTimeout.
	Timeout time.Duration
	// MaxDebSize is the largest package downloaded, by its list's Size;
	// 0 means DefaultMaxDebSize.
	MaxDebSize int64
	// SecurityOnly reads only the lists of security archives
	// ("bookworm-security", "jammy-security") and no changelog: enough to
	// tell which security updates are pending (CIS 1.2.2.1), at a fraction
	// of the cost. The facts' Method is then MethodSecurityLists.
	SecurityOnly bool
}

// MethodSecurityLists is the Method of facts gathered with SecurityOnly.
const MethodSecurityLists = "apt-security-lists"

// Collector fills inv.Updates.
type Collector struct{ opts Options }

// New returns the collector. It reads the dpkg collector's packages and so
// must run after it.
func New(opts Options) *Collector { return &Collector{opts: opts} }

// Name implements collect.Collector.
func (*Collector) Name() string { return "pkg/apt-updates" }

// inst is an installed package and what the lists say about it.
type inst struct {
	pkg host.Package
	// prio is the installed version's priority.
	prio int
	// best is the newest of the newer versions of the highest priority.
	best *cand
}

// cand is a version from a list.
type cand struct {
	Stanza
	prio  int
	suite string
}

// Collect implements collect.Collector.
func (c *Collector) Collect(ctx context.Context, env *collect.Env, inv *host.Inventory) error {
	var installed []*inst
	byName := map[string][]*inst{}
	for _, p := range inv.Packages {
		if p.Manager != "dpkg" {
			continue
		}
		in := &inst{pkg: p, prio: prioAutoUpgrades}
		installed = append(installed, in)
		byName[p.Name] = append(byName[p.Name], in)
	}
	if len(installed) == 0 {
		return collect.NotApplicable("no dpkg packages in the inventory (the dpkg collector runs first)")
	}
	entries, err := env.FS.ReadDir(listsDir)
	if isNotExist(err) {
		return collect.NotApplicable("no apt package lists (%s)", listsDir)
	}
	if err != nil {
		return fmt.Errorf("aptchangelog: %w", err)
	}
	lists, releases := findLists(env, entries)
	if len(lists) == 0 {
		return collect.NotApplicable("no package lists in %s (apt-get update has not run, or the lists were removed)", listsDir)
	}
	native := nativeArch(installed)
	upd := &host.Updates{Method: Method, Lists: []string{}, Pending: []host.PendingUpdate{}}
	if c.opts.SecurityOnly {
		upd.Method = MethodSecurityLists
	}
	for _, l := range lists {
		rel := releaseFor(env, l.name, releases)
		if c.opts.SecurityOnly && !strings.HasSuffix(rel.Name(), "-security") && !strings.HasSuffix(rel.Suite, "-security") {
			continue
		}
		ok, err := readList(ctx, env, l, rel, byName, native)
		if err != nil {
			return fmt.Errorf("aptchangelog: %w", err)
		}
		if ok {
			upd.Lists = append(upd.Lists, path.Join(listsDir, l.name))
		}
	}
	var pending []*inst
	for _, in := range installed {
		if in.best != nil && in.best.prio >= in.prio {
			pending = append(pending, in)
		}
	}
	sort.Slice(pending, func(i, j int) bool {
		a, b := pending[i].pkg, pending[j].pkg
		return a.Name < b.Name || a.Name == b.Name && a.Arch < b.Arch
	})
	if c.opts.SecurityOnly {
		for _, in := range pending {
			upd.Pending = append(upd.Pending, host.PendingUpdate{
				Name: in.pkg.Name, Arch: in.pkg.Arch, Installed: in.pkg.Version, Candidate: in.best.Version,
				Suite: in.best.suite, SourceName: in.best.SourceName, Changelog: "not read: security lists only",
			})
		}
		inv.Updates = upd
		env.Count(len(upd.Pending))
		return nil
	}
	results, err := c.changelogs(ctx, env, pending)
	if err != nil {
		return fmt.Errorf("aptchangelog: %w", err)
	}
	missing := map[string]*reasonCount{}
	var noInstalled, noInstalledNames []string
	for i, in := range pending {
		r := results[i]
		pu := host.PendingUpdate{
			Name:       in.pkg.Name,
			Arch:       in.pkg.Arch,
			Installed:  in.pkg.Version,
			Candidate:  in.best.Version,
			Suite:      in.best.suite,
			SourceName: in.best.SourceName,
			Changelog:  r.reason,
		}
		if r.reason == ChangelogRead {
			upd.ChangelogsRead++
			have, err := installedCVEs(env.FS, in.pkg)
			if err != nil {
				noInstalled = append(noInstalled, fmt.Sprintf("%s: %v", in.pkg.Name, err))
				noInstalledNames = append(noInstalledNames, in.pkg.Name)
			}
			pu.FixedCVEs = fixedCVEs(r.entries, in.pkg.Version, have)
		} else {
			upd.ChangelogsMissing++
			kind, _, _ := strings.Cut(r.reason, ":")
			rc := missing[kind]
			if rc == nil {
				rc = &reasonCount{first: r.reason, pkg: in.pkg.Name + " " + in.best.Version}
				missing[kind] = rc
			}
			rc.n++
		}
		upd.Pending = append(upd.Pending, pu)
	}
	for _, kind := range slices.Sorted(maps.Keys(missing)) {
		rc := missing[kind]
		env.Errorf("%s", capString(fmt.Sprintf("%d candidate changelogs not read: %s (first: %s)", rc.n, rc.first, rc.pkg)))
	}
	if len(noInstalled) > 0 {
		env.Errorf("%s", capString(fmt.Sprintf("%d installed changelogs not read, so CVEs fixed earlier are not subtracted (%s): %s",
			len(noInstalled), noInstalled[0], strings.Join(noInstalledNames, ", "))))
	}
	inv.Updates = upd
	env.Count(len(upd.Pending))
	return nil
}

type reasonCount struct {
	n          int
	first, pkg string
}

// capString cuts s to maxReason bytes, on a rune boundary.
func capString(s string) string {
	if len(s) <= maxReason {
		return s
	}
	i := maxReason
	for i > maxReason-utf8.UTFMax && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i] + "…"
}

// list is one Packages list file.
type list struct {
	name        string
	compression string
}

// findLists returns the Packages lists of the directory, sorted by name,
// and the names of its Release files by prefix ("host_debian_dists_
// bookworm_" for host_debian_dists_bookworm_InRelease), InRelease
// preferred.
func findLists(env *collect.Env, entries []fs.DirEntry) ([]list, map[string]string) {
	var lists []list
	releases := map[string]string{}
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() {
			continue
		}
		if p, ok := strings.CutSuffix(name, "_InRelease"); ok {
			releases[p+"_"] = name
			continue
		}
		if p, ok := strings.CutSuffix(name, "_Release"); ok {
			if _, ok := releases[p+"_"]; !ok {
				releases[p+"_"] = name
			}
			continue
		}
		comp, ok, supported := listKind(name)
		switch {
		case !ok:
		case !supported:
			env.Errorf("%s: %s-compressed lists are not supported", path.Join(listsDir, name), comp)
		default:
			lists = append(lists, list{name, comp})
		}
	}
	sort.Slice(lists, func(i, j int) bool { return lists[i].name < lists[j].name })
	return lists, releases
}

// releaseFor returns the Release of a list: that of the longest prefix of
// its name (a list's name is its archive's Release name up to "InRelease",
// followed by the component and architecture). A list without one has
// default priority and no suite name.
func releaseFor(env *collect.Env, listName string, releases map[string]string) Release {
	best := ""
	for p := range releases {
		if strings.HasPrefix(listName, p) && len(p) > len(best) {
			best = p
		}
	}
	if best == "" {
		return Release{}
	}
	name := path.Join(listsDir, releases[best])
	f, err := env.FS.Open(name)
	if err != nil {
		env.Errorf("%v", err)
		return Release{}
	}
	defer f.Close()
	rel, err := ParseRelease(f)
	if err != nil {
		env.Errorf("%s: %v", name, err)
	}
	return rel
}

// readList reads one list and records, for each installed package, the
// priority of its installed version and its best newer version. ok is
// false when the list could not be read at all.
func readList(ctx context.Context, env *collect.Env, l list, rel Release, byName map[string][]*inst, native string) (ok bool, err error) {
	name := path.Join(listsDir, l.name)
	r, done, err := openList(env.FS, name, l.compression)
	if err != nil {
		env.Errorf("%v", err)
		return false, nil
	}
	defer done()
	prio, suite := rel.priority(), rel.Name()
	badVersions := 0
	perrs, err := ParsePackages(ctx, r, func(s Stanza) {
		for _, in := range byName[s.Package] {
			if !archCompatible(s.Architecture, in.pkg.Arch, native) {
				continue
			}
			c, err := version.Compare("Debian", s.Version, in.pkg.Version)
			if err != nil {
				badVersions++
				continue
			}
			switch {
			case c == 0:
				in.prio = max(in.prio, prio)
			case c > 0:
				if better(s.Version, prio, suite, in.best) {
					in.best = &cand{Stanza: s, prio: prio, suite: suite}
				}
			}
		}
	})
	for _, e := range perrs {
		env.Errorf("%s: %v", name, e)
	}
	if badVersions > 0 {
		env.Errorf("%s: %d versions that are not dpkg versions skipped", name, badVersions)
	}
	if err != nil {
		if ctx.Err() != nil {
			return false, ctx.Err()
		}
		env.Errorf("%s: %v", name, err)
	}
	return true, nil
}

// better reports whether version v of priority prio from suite is a
// better candidate than cur: a higher priority, or the same and a newer
// version, or the same version from a suite preferred for the report (a
// security archive first).
func better(v string, prio int, suite string, cur *cand) bool {
	if cur == nil {
		return true
	}
	if prio != cur.prio {
		return prio > cur.prio
	}
	c, err := version.Compare("Debian", v, cur.Version)
	if err != nil || c != 0 {
		return err == nil && c > 0
	}
	sa, sb := strings.HasSuffix(suite, "-security"), strings.HasSuffix(cur.suite, "-security")
	if sa != sb {
		return sa
	}
	return cur.suite == "" || suite != "" && suite < cur.suite
}

// archCompatible reports whether a list entry of architecture entry can
// update an installed package of architecture installed. apt treats
// "all" as the native architecture.
func archCompatible(entry, installed, native string) bool {
	switch {
	case entry == installed:
		return true
	case entry == "all":
		return installed == native
	case installed == "all":
		return entry == native
	}
	return false
}

// nativeArch is dpkg's architecture (always native), else the most common
// one of the installed packages.
func nativeArch(installed []*inst) string {
	count := map[string]int{}
	for _, in := range installed {
		if in.pkg.Name == "dpkg" && in.pkg.Arch != "" {
			return in.pkg.Arch
		}
		if in.pkg.Arch != "all" {
			count[in.pkg.Arch]++
		}
	}
	best := ""
	for a, n := range count {
		if n > count[best] || n == count[best] && a < best {
			best = a
		}
	}
	return best
}

// result is what was learned of one pending update's candidate changelog.
type result struct {
	reason  string
	entries []Entry
}

// group is the pending updates that share a candidate changelog: one
// source at one version (and architecture, for a binary-only upload,
// whose changelog is per architecture).
type group struct {
	key     string
	members []int // indexes into pending
}

// changelogs fetches and parses the candidate changelogs, one per group,
// and returns a result per pending update.
func (c *Collector) changelogs(ctx context.Context, env *collect.Env, pending []*inst) ([]result, error) {
	results := make([]result, len(pending))
	if len(pending) == 0 {
		return results, nil
	}
	live := env.FS.Live()
	fetcher := c.opts.Fetcher
	if fetcher == nil {
		dir := c.opts.CacheDir
		if dir == "" {
			d, err := DefaultCacheDir()
			if err != nil {
				env.Errorf("%v", err)
			}
			dir = d
		}
		if dir == "" {
			for i := range results {
				results[i].reason = "not downloaded: no cache directory"
			}
			return results, nil
		}
		fetcher = &DebFetcher{Dir: dir, Timeout: c.opts.Timeout}
	}
	maxDeb := c.opts.MaxDebSize
	if maxDeb <= 0 {
		maxDeb = DefaultMaxDebSize
	}
	workers := c.opts.Concurrency
	if workers <= 0 {
		workers = DefaultConcurrency
	}
	groups := groupPending(env.FS, pending)
	var (
		mu       sync.Mutex
		failures int    // downloads failed in a row
		lastFail string // the last failure's reason
	)
	if pf, ok := fetcher.(Prefetcher); ok && live && !c.opts.NoDownload {
		var reqs []Request
		for _, g := range groups {
			if r := request(pending[g.members[0]]); r.Size <= maxDeb {
				reqs = append(reqs, r)
			}
		}
		if err := pf.Prefetch(ctx, reqs, workers); err != nil {
			// Nothing arrived: the archive is not reachable, and each
			// package tried alone could wait for its timeout.
			failures, lastFail = maxFailuresInARow, capString(err.Error())
		}
	}
	// one fetches a group's changelog and returns the reason and
	// entries that hold for all its members.
	one := func(g *group) result {
		var last result
		for try, idx := range g.members {
			if try == maxTries {
				break
			}
			req := request(pending[idx])
			download, why := live && !c.opts.NoDownload, ""
			switch {
			case !live:
				why = "not downloaded: image scan"
			case c.opts.NoDownload:
				why = "not downloaded: downloads disabled"
			case req.Size > maxDeb:
				download, why = false, fmt.Sprintf("not downloaded: the package is %d MiB, over the %d MiB limit", req.Size>>20, maxDeb>>20)
			}
			// The cache first: only a real download tells whether the
			// archive is reachable.
			cl, err := fetcher.Fetch(ctx, req, false)
			if errors.Is(err, ErrNotCached) && download {
				mu.Lock()
				tripped := failures >= maxFailuresInARow
				if tripped {
					why = "download failed: not tried after the failures before (last: " + lastFail + ")"
				}
				mu.Unlock()
				if !tripped {
					cl, err = fetcher.Fetch(ctx, req, true)
					mu.Lock()
					if errors.Is(err, ErrDownload) {
						failures++
						lastFail = capString(err.Error())
					} else {
						failures = 0
					}
					mu.Unlock()
				}
			}
			switch {
			case err == nil:
				entries, err := parseChangelogs(cl)
				if err != nil {
					return result{reason: capString("changelog unreadable: " + err.Error())}
				}
				return result{reason: ChangelogRead, entries: entries}
			case ctx.Err() != nil:
				return result{reason: "canceled: " + ctx.Err().Error()}
			case errors.Is(err, ErrNotCached):
				return result{reason: capString(why)}
			case errors.Is(err, ErrDownload):
				return result{reason: capString(err.Error())}
			case errors.Is(err, ErrNoChangelog):
				last = result{reason: capString(err.Error())}
				continue // another package of the source may hold it
			default:
				return result{reason: capString("changelog unreadable: " + err.Error())}
			}
		}
		return last
	}
	sem := make(chan struct{}, workers)
	var wg sync.WaitGroup
	for _, g := range groups {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			r := one(g)
			for _, idx := range g.members {
				results[idx] = r
			}
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return results, nil
}

// request is the Request for a pending update's candidate.
func request(in *inst) Request {
	req := Request{Name: in.pkg.Name, Version: in.best.Version, Arch: in.best.Architecture,
		Size: in.best.Size, SHA256: in.best.SHA256}
	if req.Arch == "" {
		req.Arch = in.pkg.Arch
	}
	return req
}

// groupPending groups the pending updates by candidate changelog, each
// group's members ordered as they are best fetched: those whose installed
// documentation directory is their own (not a link to another package's,
// as the package most likely has it too), then the smallest.
func groupPending(fsys hostfs.FS, pending []*inst) []*group {
	byKey := map[string]*group{}
	var groups []*group
	ownDoc := make([]bool, len(pending))
	for i, in := range pending {
		fi, err := fsys.Lstat(path.Join("/usr/share/doc", in.pkg.Name))
		ownDoc[i] = err == nil && fi.IsDir()
		b := in.best
		key := b.SourceName + " " + b.SourceVersion
		if b.Version != b.SourceVersion {
			// A binary-only upload: its changelog.Debian.ARCH.gz differs
			// by architecture.
			key += " " + b.Version + " " + b.Architecture
		}
		g := byKey[key]
		if g == nil {
			g = &group{key: key}
			byKey[key] = g
			groups = append(groups, g)
		}
		g.members = append(g.members, i)
	}
	for _, g := range groups {
		sort.SliceStable(g.members, func(i, j int) bool {
			a, b := g.members[i], g.members[j]
			if ownDoc[a] != ownDoc[b] {
				return ownDoc[a]
			}
			sa, sb := pending[a].best.Size, pending[b].best.Size
			if sa != sb && sa > 0 && sb > 0 {
				return sa < sb
			}
			return pending[a].pkg.Name < pending[b].pkg.Name
		})
	}
	sort.Slice(groups, func(i, j int) bool { return groups[i].key < groups[j].key })
	return groups
}

// parseChangelogs parses a package's changelogs (gzip-compressed).
func parseChangelogs(cl Changelogs) ([]Entry, error) {
	entries, err := parseGz(bytes.NewReader(cl.Debian))
	if err != nil {
		return nil, err
	}
	if cl.BinNMU != nil {
		more, err := parseGz(bytes.NewReader(cl.BinNMU))
		if err != nil {
			return nil, err
		}
		entries = append(more, entries...)
	}
	return entries, nil
}

// parseGz parses a gzip-compressed changelog, decompressed size capped.
func parseGz(r io.Reader) ([]Entry, error) {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return nil, err
	}
	defer zr.Close()
	return ParseChangelog(newCapReader(zr, maxChangelogBytes))
}

// installedCVEs returns the CVE ids the installed package's changelogs
// name, read from the root.
func installedCVEs(fsys hostfs.FS, p host.Package) (map[string]bool, error) {
	dir := path.Join("/usr/share/doc", p.Name)
	have := map[string]bool{}
	read := func(name string) error {
		f, err := fsys.Open(path.Join(dir, name))
		if err != nil {
			return err
		}
		defer f.Close()
		fi, err := f.Stat()
		if err != nil {
			return err
		}
		if !fi.Mode().IsRegular() {
			return fmt.Errorf("%s: %w", path.Join(dir, name), hostfs.ErrNotRegular)
		}
		if fi.Size() > maxChangelogGz {
			return fmt.Errorf("%s: %w (%d bytes)", path.Join(dir, name), hostfs.ErrTooLarge, fi.Size())
		}
		entries, err := parseGz(io.LimitReader(f, maxChangelogGz))
		if err != nil {
			return fmt.Errorf("%s: %w", path.Join(dir, name), err)
		}
		for _, e := range entries {
			for _, id := range e.CVEs {
				have[id] = true
			}
		}
		return nil
	}
	err := read("changelog.Debian.gz")
	if isNotExist(err) {
		err = read("changelog.gz")
	}
	if p.Arch != "" {
		if berr := read("changelog.Debian." + p.Arch + ".gz"); berr != nil && !isNotExist(berr) && err == nil {
			err = berr
		}
	}
	if isNotExist(err) {
		err = errors.New("no changelog")
	}
	return have, err
}

// fixedCVEs returns the CVE ids of the entries newer than installed that
// have is without, sorted.
func fixedCVEs(entries []Entry, installed string, have map[string]bool) []string {
	var ids []string
	for _, e := range entries {
		c, err := version.Compare("Debian", e.Version, installed)
		if err != nil || c <= 0 {
			continue
		}
		for _, id := range e.CVEs {
			if !have[id] {
				ids = append(ids, id)
			}
		}
	}
	if len(ids) == 0 {
		return nil
	}
	return sortCVEs(ids)
}
