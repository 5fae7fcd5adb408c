// Package dpkg reads the dpkg database of Debian, Ubuntu and their
// derivatives: var/lib/dpkg/status, the status.d/ directory that distroless
// images use instead, and the per-package file lists in info/.
//
// Versions are kept exactly as dpkg stores them ("1:2.38.1-5+deb12u3"):
// comparing them is the matcher's job, with dpkg's own rules.
package dpkg

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"sort"
	"strings"
	"unsafe"

	"github.com/kensa-dev/kensa/internal/collect"
	"github.com/kensa-dev/kensa/internal/host"
	"github.com/kensa-dev/kensa/internal/hostfs"
)

const (
	statusPath = "/var/lib/dpkg/status"
	statusDir  = "/var/lib/dpkg/status.d"
	infoDir    = "/var/lib/dpkg/info"
	// listLimit caps one .list file; the largest on a desktop (a kernel's
	// modules or texlive) are a few MiB.
	listLimit = 32 << 20
	// statusLimit caps the status file; a desktop's is under 10 MiB.
	statusLimit = 64 << 20
	// statusBytes caps the status file and status.d/ together; a
	// distroless image's status.d/ holds a few KiB.
	statusBytes = 256 << 20
	// maxFiles caps the file-list entries kept over all packages; a large
	// desktop owns about a million files.
	maxFiles = 8_000_000
	// listBytes caps the bytes of file lists read over all packages; a
	// large desktop's come to some tens of MiB.
	listBytes = 256 << 20
	// maxPath is the longest path kept from a file list (Linux's
	// PATH_MAX); a longer line is garbage.
	maxPath = 4096
)

// fields are the fields of a status paragraph the collector reads.
var fields = []string{"Package", "Version", "Architecture", "Status", "Source"}

// Collector reads the dpkg database.
type Collector struct{}

// New returns the dpkg collector.
func New() *Collector { return &Collector{} }

// Name implements collect.Collector.
func (*Collector) Name() string { return "pkg/dpkg" }

// Collect implements collect.Collector.
func (c *Collector) Collect(ctx context.Context, env *collect.Env, inv *host.Inventory) error {
	found := false
	var pkgs []host.Package
	left := int64(statusBytes) // what status and status.d/ may still cost
	read := func(name string) error {
		f, err := env.FS.Open(name)
		if err != nil {
			return err
		}
		defer f.Close()
		lr := &limitedReader{f, statusLimit}
		perrs, err := Parse(ctx, lr, fields, func(p Paragraph) error {
			pkg, ok, err := toPackage(p, name)
			if ok {
				pkgs = append(pkgs, pkg)
			}
			return err
		})
		left -= statusLimit - lr.n
		for _, e := range perrs {
			env.Errorf("%s: %v", name, e)
		}
		return err
	}
	switch err := read(statusPath); {
	case err == nil:
		found = true
	case errors.Is(err, fs.ErrNotExist):
	default:
		return fmt.Errorf("dpkg: %w", err)
	}
	if entries, err := env.FS.ReadDir(statusDir); err == nil {
		found = true
		for _, e := range entries {
			if e.IsDir() || strings.HasSuffix(e.Name(), ".md5sums") {
				continue
			}
			if left <= 0 {
				env.Errorf("%s: cut short: more than %d MiB of status files in all", statusDir, statusBytes>>20)
				break
			}
			if err := read(path.Join(statusDir, e.Name())); err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				env.Errorf("%v", err)
			}
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		env.Errorf("%v", err)
	}
	if !found {
		return collect.NotApplicable("no dpkg database (%s or %s)", statusPath, statusDir)
	}
	// One listing of info/ tells which .list files exist, so a package
	// without one costs no failed open.
	lists := map[string]bool{}
	if entries, err := env.FS.ReadDir(infoDir); err == nil {
		for _, e := range entries {
			if strings.HasSuffix(e.Name(), ".list") {
				lists[e.Name()] = true
			}
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		env.Errorf("%v", err)
	}
	budget := listBudget{files: maxFiles, bytes: listBytes}
	for i := range pkgs {
		if err := ctx.Err(); err != nil {
			return err
		}
		pkgs[i].Files = fileList(env, &pkgs[i], lists, &budget)
	}
	if budget.files <= 0 {
		env.Errorf("file lists cut short: more than %d files listed in all", maxFiles)
	}
	if budget.bytes <= 0 {
		env.Errorf("file lists cut short: more than %d MiB of lists in all", listBytes>>20)
	}
	inv.Packages = append(inv.Packages, pkgs...)
	env.Count(len(pkgs))
	return nil
}

// toPackage turns an installed paragraph into a package; ok is false for
// packages that left no files behind and for malformed paragraphs, which
// err describes.
func toPackage(p Paragraph, source string) (pkg host.Package, ok bool, err error) {
	name, version := p["Package"], p["Version"]
	if name == "" {
		return pkg, false, errors.New("paragraph without Package field skipped")
	}
	// status.d paragraphs of distroless images carry no Status field:
	// everything listed there is installed.
	if st, ok := p["Status"]; ok && !installedState(st) {
		return pkg, false, nil
	}
	if version == "" {
		return pkg, false, fmt.Errorf("package %s has no Version", name)
	}
	srcName, srcVersion := ParseSource(p["Source"])
	if srcName == "" {
		srcName = name
	}
	if srcVersion == "" {
		// As dpkg-query's ${source:Version}: a binary-only rebuild
		// names its source version explicitly, otherwise they match.
		srcVersion = version
	}
	return host.Package{
		Manager:       "dpkg",
		Name:          name,
		Version:       version,
		Arch:          p["Architecture"],
		SourceName:    srcName,
		SourceVersion: srcVersion,
		Source:        source,
	}, true, nil
}

// listBudget is what file lists may still cost over all packages: entries
// kept and bytes read.
type listBudget struct{ files, bytes int }

// fileList reads the files a package owns. dpkg names the list
// info/NAME:ARCH.list for Multi-Arch: same packages and info/NAME.list
// otherwise (lists holds the names present); distroless images keep
// status.d/NAME.md5sums instead.
func fileList(env *collect.Env, p *host.Package, lists map[string]bool, budget *listBudget) []string {
	var candidates []string
	if p.Source == statusPath {
		for _, n := range []string{p.Name + ":" + p.Arch + ".list", p.Name + ".list"} {
			if lists[n] {
				candidates = append(candidates, path.Join(infoDir, n))
			}
		}
	} else {
		candidates = []string{p.Source + ".md5sums", path.Join(statusDir, p.Name+".md5sums")}
	}
	for _, name := range candidates {
		if budget.files <= 0 || budget.bytes <= 0 {
			return nil
		}
		b, err := hostfs.ReadFileLimit(env.FS, name, listLimit)
		if err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				env.Errorf("%v", err)
			}
			continue
		}
		budget.bytes -= len(b)
		if len(b) == 0 {
			return nil
		}
		// b is never written again: share its memory instead of copying
		// megabytes of file lists into strings (readList copies the paths
		// when they are a small part of it).
		files, skipped := readList(unsafe.String(&b[0], len(b)), strings.HasSuffix(name, ".md5sums"), budget.files)
		if skipped > 0 {
			env.Errorf("%s: %d lines that are not paths skipped", name, skipped)
		}
		budget.files -= len(files)
		return files
	}
	return nil
}

// readList reads a .list file (one absolute path a line) or an .md5sums
// file ("<md5>  relative/path"), keeping at most max paths; skipped counts
// the lines that are not paths of at most maxPath bytes (blank lines
// aside). The paths of a .list file are substrings of its content, so a
// package's list costs two allocations however many files it owns; when
// they are less than half of content they are copied out, so that a few
// paths do not keep a large file in memory.
func readList(content string, md5sums bool, max int) (files []string, skipped int) {
	// An upper bound on the paths, so that files is allocated once.
	var n int
	if md5sums {
		n = strings.Count(content, "  ")
	} else {
		n = strings.Count(content, "\n/")
		if strings.HasPrefix(content, "/") {
			n++
		}
	}
	files = make([]string, 0, min(n, max))
	size := 0 // bytes of the paths kept
	for rest := content; len(files) < max; {
		// Runs of blank lines are skipped at once.
		if rest = strings.TrimLeft(rest, "\n"); rest == "" {
			break
		}
		var line string
		line, rest, _ = strings.Cut(rest, "\n")
		line = strings.TrimRight(line, "\r")
		if line == "" {
			continue
		}
		if md5sums {
			_, p, ok := strings.Cut(line, "  ")
			if !ok || len(p) >= maxPath {
				skipped++
				continue
			}
			line = "/" + strings.TrimPrefix(p, "/")
		} else if line[0] != '/' || len(line) > maxPath {
			skipped++
			continue
		}
		if line == "/." {
			continue
		}
		files = append(files, line)
		size += len(line)
	}
	if len(files) == 0 {
		return nil, skipped
	}
	if md5sums {
		// Keep dpkg's order for .list files; md5sums lists are sorted here
		// so that both give a stable order. Their paths are copies already.
		sort.Strings(files)
	} else if 2*size < len(content) {
		files = compact(files, size)
	}
	if cap(files)-len(files) > len(files)/8 {
		files = slices.Clone(files)
	}
	return slices.Clip(files), skipped
}

// compact copies the strings of files, size bytes in all, into one new
// buffer they then share.
func compact(files []string, size int) []string {
	buf := make([]byte, 0, size)
	for _, f := range files {
		buf = append(buf, f...)
	}
	s := unsafe.String(unsafe.SliceData(buf), len(buf))
	for i, f := range files {
		files[i], s = s[:len(f)], s[len(f):]
	}
	return files
}

// limitedReader reads at most n bytes and then reports an error, so a huge
// or endless file cannot exhaust memory.
type limitedReader struct {
	r fs.File
	n int64
}

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.n <= 0 {
		return 0, hostfs.ErrTooLarge
	}
	if int64(len(p)) > l.n {
		p = p[:l.n]
	}
	n, err := l.r.Read(p)
	l.n -= int64(n)
	return n, err
}
