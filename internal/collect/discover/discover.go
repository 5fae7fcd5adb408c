// Package discover finds the files that may hold software the OS package
// manager does not know about: Go binaries, Python distribution metadata,
// npm manifests and Java archives.
//
// The file system is walked once per scan, whatever the number of language
// collectors. A scan runs the walk as a collector of its own,
// "software/discover" (NewCollector), placed before the language
// collectors: its run records the walk's errors, and counts the candidate
// files as its items. The language collectors share the Walker and read its
// cached Candidates; when no walk collector ran before them (a unit test),
// the first one to ask walks, and the others get the same result.
//
// The walk looks only where software is installed
// (collect.DefaultDiscoveryRoots, the bin and Python directories of every
// user, the executables of running processes), never follows a symbolic
// link to a directory, never enters package caches, opens no file but
// directories (file types come from the directory entries, and only files
// that may be executables are Lstat-ed for their mode bits), reads
// directories in batches so a directory of millions of entries is not
// loaded whole, and stops at the limits of collect.DiscoveryConfig. Where it
// looked, what it skipped and which limits it hit are recorded in
// host.Inventory.Discovery, so that a report can tell "nothing found" from
// "not looked at".
package discover

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/kensa-dev/kensa/internal/collect"
	"github.com/kensa-dev/kensa/internal/host"
)

// maxRecords caps each of Discovery.Skipped and Discovery.LimitsHit, so a
// hostile tree cannot blow up the inventory.
//
// The two overflow differently. Skipped paths are left out by design
// (caches, version control data): listing fewer of them hides nothing, so
// those past the cap are counted in one last record, {Path: "", Reason:
// "N more paths skipped (not listed)"}, and no limit is recorded. Limit
// records past the cap are counted in a "max_records" limit, which only
// appears after maxRecords real limits, when the search was cut short
// anyway.
const maxRecords = 100

// MaxHomes is the number of home directories searched: on a host with
// more users (a directory service enumerated into passwd), the first
// MaxHomes distinct homes in passwd order are searched and a "max_homes"
// limit is recorded.
const MaxHomes = 10_000

// Limit names recorded in host.LimitHit.
const (
	LimitMaxDepth    = "max_depth"
	LimitMaxFiles    = "max_files"
	LimitMaxFileSize = "max_file_size"
	LimitTimeout     = "timeout"
	LimitCanceled    = "canceled"
	LimitMaxRecords  = "max_records"
	LimitMaxHomes    = "max_homes"
)

// Name is the name of the walk's collector.
const Name = "software/discover"

// Candidates are the files found by the walk, by the collector that reads
// them. Paths are absolute paths within the host, with every symbolic link
// resolved, sorted and without duplicates: a file reached by several paths
// (links, hard links, processes) is listed once, by its path in the host
// when it has one, else by the smallest. The one exception is the
// executable of a process whose root is not the host's (a container): it
// is listed as /proc/PID/root/<its path there>, which the kernel resolves
// in the process's mount namespace, and Location describes it.
type Candidates struct {
	// Go are regular files with an executable bit, and the executables of
	// running processes: each may be a Go binary. Their ELF magic is not
	// checked yet.
	Go []string
	// Python are *.dist-info/METADATA, *.egg-info/PKG-INFO and *.egg-info
	// files. A few, from site-packages directories that are listed rather
	// than walked, may not exist.
	Python []string
	// NPM are node_modules/<name>/package.json and
	// node_modules/@scope/<name>/package.json, at any nesting.
	NPM []string
	// Java are *.jar, *.war and *.ear regular files.
	Java []string

	owners map[string]string
	// locations holds the Location of the candidates read through another
	// process's root.
	locations map[string]string
}

// Len returns the number of candidate files.
func (c *Candidates) Len() int {
	if c == nil {
		return 0
	}
	return len(c.Go) + len(c.Python) + len(c.NPM) + len(c.Java)
}

// NamespaceNote ends the Location of the executable of a process in
// another mount namespace: "/usr/bin/nginx" + NamespaceNote. It names no
// process: a Location is part of a finding's fingerprint, which must not
// change when the container restarts under another PID. (The PID is
// logged at debug level.)
const NamespaceNote = " (in the mount namespace of a running process)"

// Location returns how a candidate is shown in host.Software.Location: its
// path, or for the executable of a process in another mount namespace its
// path there with NamespaceNote, "/usr/bin/nginx (in the mount namespace
// of a running process)". Identical files (same path there, size and
// time) run in several namespaces, as replicas of one image are, are one
// candidate; different files at one path there share the Location.
func (c *Candidates) Location(path string) string {
	if c != nil {
		if l, ok := c.locations[path]; ok {
			return l
		}
	}
	return path
}

// File is one candidate given by Walker.Each.
type File struct {
	// Path is the name to read it by, through collect.Env.FS.
	Path string
	// Location is what to record in host.Software.Location.
	Location string
	// OwnedBy is the OS package whose file list holds it, or "".
	OwnedBy string
}

// OwnedBy returns the name of the OS package whose file list holds path, or
// "" when none does. Only candidate paths are known.
func (c *Candidates) OwnedBy(path string) string {
	if c == nil {
		return ""
	}
	return c.owners[path]
}

// Walker walks a host once and shares the result between collectors: make
// one per scan, give NewCollector(w) and each language collector it. It is
// safe for concurrent use.
type Walker struct {
	cfg collect.DiscoveryConfig

	mu       sync.Mutex
	done     bool
	cands    *Candidates
	err      error
	deadline time.Time
	disc     *host.Discovery
	rec      recorder
}

// New returns a Walker bounded by cfg; unset limits take their default
// values (collect.DiscoveryConfig.WithDefaults).
func New(cfg collect.DiscoveryConfig) *Walker {
	return &Walker{cfg: cfg.WithDefaults()}
}

// Config returns the limits the Walker applies, defaults filled in.
func (w *Walker) Config() collect.DiscoveryConfig { return w.cfg }

// Candidates walks the host on the first call and returns the files found.
// The first call also sets inv.Discovery and reports unreadable
// directories through env.Errorf; later calls return the same result at
// once. On cancellation the candidates found so far are returned with the
// context's error.
func (w *Walker) Candidates(ctx context.Context, env *collect.Env, inv *host.Inventory) (*Candidates, error) {
	c, _, err := w.candidates(ctx, env, inv)
	return c, err
}

// candidates is Candidates, also telling whether this call walked.
func (w *Walker) candidates(ctx context.Context, env *collect.Env, inv *host.Inventory) (*Candidates, bool, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done {
		return w.cands, false, w.err
	}
	w.done = true
	start := time.Now()
	w.deadline = start.Add(w.cfg.Timeout)
	w.disc = &host.Discovery{Roots: []string{}}
	inv.Discovery = w.disc
	w.rec = recorder{disc: w.disc}
	wk := &walk{
		ctx:      ctx,
		env:      env,
		fsys:     env.FS,
		cfg:      w.cfg,
		deadline: w.deadline,
		rec:      &w.rec,
		seen:     map[seenKey]int{},
		seenPath: map[string]struct{}{},
		nsSeen:   map[nsFile]struct{}{},
		c:        &Candidates{locations: map[string]string{}},
	}
	w.err = wk.run(inv)
	w.disc.FilesVisited = wk.entries
	w.cands = wk.c
	if env.Logger != nil {
		env.Logger.Debug("discovery done", "roots", len(w.disc.Roots), "entries", wk.entries,
			"go", len(wk.c.Go), "python", len(wk.c.Python), "npm", len(wk.c.NPM), "java", len(wk.c.Java),
			"duration", time.Since(start))
	}
	return w.cands, true, w.err
}

// Each calls fn with every file that pick selects from the walk's
// candidates. It stops when ctx is canceled, and when the discovery timeout
// has passed, which it records as a limit hit. The walk's own errors belong
// to the collector that walked: Each returns the walk's error only when
// this call walked (no walk collector ran before), and otherwise only its
// own cancellation.
func (w *Walker) Each(ctx context.Context, env *collect.Env, inv *host.Inventory, pick func(*Candidates) []string, fn func(File)) error {
	cands, walked, err := w.candidates(ctx, env, inv)
	if !walked {
		err = nil
	}
	if cands == nil {
		return err
	}
	for _, p := range pick(cands) {
		if cerr := ctx.Err(); cerr != nil {
			return cerr
		}
		if w.Expired() {
			w.RecordLimit(inv, LimitTimeout, cands.Location(p), w.cfg.Timeout.Milliseconds())
			break
		}
		fn(File{Path: p, Location: cands.Location(p), OwnedBy: cands.OwnedBy(p)})
	}
	return err
}

// Collector runs the walk of a Walker as a collector of its own, so that
// the walk's errors and duration are recorded apart from the language
// collectors reading its result.
type Collector struct {
	w *Walker
}

// NewCollector returns the collector that walks w; place it before the
// language collectors sharing w.
func NewCollector(w *Walker) *Collector { return &Collector{w: w} }

// Name implements collect.Collector.
func (*Collector) Name() string { return Name }

// Collect implements collect.Collector: it walks (unless the walk is done
// already) and counts the candidate files as its items.
func (c *Collector) Collect(ctx context.Context, env *collect.Env, inv *host.Inventory) error {
	cands, _, err := c.w.candidates(ctx, env, inv)
	env.Count(cands.Len())
	return err
}

// Expired reports whether the discovery timeout, counted from the start of
// the walk, has passed: collectors reading candidates stop then, and record
// it with RecordLimit.
func (w *Walker) Expired() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.done && time.Now().After(w.deadline)
}

// RecordLimit records in inv.Discovery that a collector stopped part of its
// work at a limit (a file too large, an archive nested too deep).
func (w *Walker) RecordLimit(inv *host.Inventory, limit, path string, value int64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.attach(inv)
	w.rec.limit(limit, path, value)
}

// RecordSkip records in inv.Discovery that a collector skipped a path.
func (w *Walker) RecordSkip(inv *host.Inventory, path, reason string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.attach(inv)
	w.rec.skip(path, reason)
}

// attach makes sure records go to inv's Discovery, which is the walker's
// own once Candidates has run.
func (w *Walker) attach(inv *host.Inventory) {
	if inv.Discovery == nil {
		inv.Discovery = &host.Discovery{Roots: []string{}}
	}
	if w.rec.disc != inv.Discovery {
		w.rec = recorder{disc: inv.Discovery}
	}
}

// recorder appends to a Discovery within maxRecords.
type recorder struct {
	disc *host.Discovery
	// limits remembers limits already recorded for a path, so the same
	// limit hit twice at one place is listed once.
	limits map[string]bool
	// skipsDropped counts the skipped paths past maxRecords, told by the
	// summary record disc.Skipped[maxRecords].
	skipsDropped int
}

func (r *recorder) limit(limit, path string, value int64) {
	key := limit + "\x00" + path
	if r.limits[key] {
		return
	}
	if r.limits == nil {
		r.limits = map[string]bool{}
	}
	r.limits[key] = true
	if len(r.disc.LimitsHit) >= maxRecords {
		r.dropLimit()
		return
	}
	r.disc.LimitsHit = append(r.disc.LimitsHit, host.LimitHit{Limit: limit, Path: path, Value: value})
}

// skip records a skipped path; past maxRecords it counts it in the
// summary record instead, which is not a limit: nothing was missed.
func (r *recorder) skip(path, reason string) {
	s := r.disc.Skipped
	if len(s) < maxRecords {
		r.disc.Skipped = append(s, host.SkippedPath{Path: path, Reason: reason})
		return
	}
	if len(s) > maxRecords && r.skipsDropped == 0 {
		// A Discovery recorded by an earlier recorder: go on counting.
		fmt.Sscanf(s[maxRecords].Reason, "%d", &r.skipsDropped)
	}
	r.skipsDropped++
	summary := host.SkippedPath{Reason: MoreSkipped(r.skipsDropped)}
	if len(s) == maxRecords {
		r.disc.Skipped = append(s, summary)
	} else {
		s[maxRecords] = summary
	}
}

// MoreSkipped is the reason of the record that ends Discovery.Skipped when
// n more paths were skipped than are listed; its Path is "".
func MoreSkipped(n int) string {
	return fmt.Sprintf("%d more paths skipped (not listed)", n)
}

// sort orders the records by path, so that a walk reading directories in
// whatever order the file system gives records them the same way. The
// summary of skipped paths not listed stays last.
func (r *recorder) sort() {
	s := r.disc.Skipped[:min(len(r.disc.Skipped), maxRecords)]
	sort.SliceStable(s, func(i, j int) bool { return s[i].Path < s[j].Path })
	sort.SliceStable(r.disc.LimitsHit, func(i, j int) bool {
		a, b := r.disc.LimitsHit[i], r.disc.LimitsHit[j]
		if a.Limit != b.Limit {
			return a.Limit < b.Limit
		}
		return a.Path < b.Path
	})
}

// dropLimit counts a limit record past maxRecords in the "max_records"
// limit.
func (r *recorder) dropLimit() {
	for i := range r.disc.LimitsHit {
		if r.disc.LimitsHit[i].Limit == LimitMaxRecords {
			r.disc.LimitsHit[i].Value++
			return
		}
	}
	r.disc.LimitsHit = append(r.disc.LimitsHit, host.LimitHit{Limit: LimitMaxRecords, Value: 1})
}

// IsArchive reports whether name is a Java archive by its extension.
func IsArchive(name string) bool {
	if len(name) < 5 || name[len(name)-4] != '.' {
		return false
	}
	switch strings.ToLower(name[len(name)-3:]) {
	case "jar", "war", "ear":
		return true
	}
	return false
}
