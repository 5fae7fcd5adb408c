// Package discover finds the files that may hold software the OS package
// manager does not know about: Go binaries, Python distribution metadata,
// npm manifests and Java archives.
//
// The file system is walked once per scan, whatever the number of language
// collectors: each collector asks the shared Walker for its Candidates, the
// first call walks, later calls get the same result. The walk looks only
// where software is installed (collect.DefaultDiscoveryRoots, the bin and
// Python directories of every user, the executables of running processes),
// never follows a symbolic link to a directory, never enters package caches,
// opens no file at all (file types come from the directory entries, and only
// files that may be executables are Lstat-ed for their mode bits), and stops
// at the limits of collect.DiscoveryConfig. Where it looked, what it skipped
// and which limits it hit are recorded in host.Inventory.Discovery, so that
// a report can tell "nothing found" from "not looked at".
package discover

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/kensa-dev/kensa/internal/collect"
	"github.com/kensa-dev/kensa/internal/host"
)

// maxRecords caps each of Discovery.Skipped and Discovery.LimitsHit, so a
// hostile tree cannot blow up the inventory; what is left out is counted in
// a "max_records" limit.
const maxRecords = 100

// Limit names recorded in host.LimitHit.
const (
	LimitMaxDepth    = "max_depth"
	LimitMaxFiles    = "max_files"
	LimitMaxFileSize = "max_file_size"
	LimitTimeout     = "timeout"
	LimitCanceled    = "canceled"
	LimitMaxRecords  = "max_records"
)

// Candidates are the files found by the walk, by the collector that reads
// them. Paths are absolute paths within the host, with every symbolic link
// resolved, sorted and without duplicates.
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
// one per scan, give it to each language collector. It is safe for
// concurrent use.
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
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done {
		return w.cands, w.err
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
		seen:     map[string]struct{}{},
		c:        &Candidates{},
	}
	w.err = wk.run(inv)
	w.disc.FilesVisited = wk.entries
	w.cands = wk.c
	if env.Logger != nil {
		env.Logger.Debug("discovery done", "roots", len(w.disc.Roots), "entries", wk.entries,
			"go", len(wk.c.Go), "python", len(wk.c.Python), "npm", len(wk.c.NPM), "java", len(wk.c.Java),
			"duration", time.Since(start))
	}
	return w.cands, w.err
}

// Each calls fn with every path that pick selects from the walk's
// candidates, and the OS package owning it (or ""). It stops when ctx is
// canceled, and when the discovery timeout has passed, which it records as
// a limit hit. It returns the walk's own error, if any, so that the
// collectors sharing the walk report it.
func (w *Walker) Each(ctx context.Context, env *collect.Env, inv *host.Inventory, pick func(*Candidates) []string, fn func(path, owner string)) error {
	cands, err := w.Candidates(ctx, env, inv)
	if cands == nil {
		return err
	}
	for _, p := range pick(cands) {
		if cerr := ctx.Err(); cerr != nil {
			return cerr
		}
		if w.Expired() {
			w.RecordLimit(inv, LimitTimeout, p, w.cfg.Timeout.Milliseconds())
			break
		}
		fn(p, cands.OwnedBy(p))
	}
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
		r.drop()
		return
	}
	r.disc.LimitsHit = append(r.disc.LimitsHit, host.LimitHit{Limit: limit, Path: path, Value: value})
}

func (r *recorder) skip(path, reason string) {
	if len(r.disc.Skipped) >= maxRecords {
		r.drop()
		return
	}
	r.disc.Skipped = append(r.disc.Skipped, host.SkippedPath{Path: path, Reason: reason})
}

func (r *recorder) drop() {
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
