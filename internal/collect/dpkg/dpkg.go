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
	// maxFiles caps the file-list entries kept over all packages; a large
	// desktop owns about a million files.
	maxFiles = 8_000_000
)

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
	read := func(name string) error {
		f, err := env.FS.Open(name)
		if err != nil {
			return err
		}
		defer f.Close()
		perrs, err := Parse(&limitedReader{f, statusLimit}, func(p Paragraph) {
			if pkg, ok := toPackage(env, p, name); ok {
				pkgs = append(pkgs, pkg)
			}
		})
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
			if err := read(path.Join(statusDir, e.Name())); err != nil {
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
	budget := maxFiles
	for i := range pkgs {
		if err := ctx.Err(); err != nil {
			return err
		}
		pkgs[i].Files = fileList(env, &pkgs[i], lists, &budget)
	}
	if budget <= 0 {
		env.Errorf("file lists cut short: more than %d files listed in all", maxFiles)
	}
	inv.Packages = append(inv.Packages, pkgs...)
	env.Count(len(pkgs))
	return nil
}

// toPackage turns an installed paragraph into a package; ok is false for
// packages that left no files behind and for malformed paragraphs.
func toPackage(env *collect.Env, p Paragraph, source string) (pkg host.Package, ok bool) {
	name, version := p["Package"], p["Version"]
	if name == "" {
		env.Errorf("%s: paragraph without Package field skipped", source)
		return pkg, false
	}
	// status.d paragraphs of distroless images carry no Status field:
	// everything listed there is installed.
	if st, ok := p["Status"]; ok && !installedState(st) {
		return pkg, false
	}
	if version == "" {
		env.Errorf("%s: package %s has no Version", source, name)
		return pkg, false
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
	}, true
}

// fileList reads the files a package owns. dpkg names the list
// info/NAME:ARCH.list for Multi-Arch: same packages and info/NAME.list
// otherwise (lists holds the names present); distroless images keep
// status.d/NAME.md5sums instead. budget is what may still be kept over all
// packages.
func fileList(env *collect.Env, p *host.Package, lists map[string]bool, budget *int) []string {
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
		if *budget <= 0 {
			return nil
		}
		b, err := hostfs.ReadFileLimit(env.FS, name, listLimit)
		if err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				env.Errorf("%v", err)
			}
			continue
		}
		if len(b) == 0 {
			return nil
		}
		// b is never written again: share its memory instead of copying
		// megabytes of file lists into strings.
		files := readList(unsafe.String(&b[0], len(b)), strings.HasSuffix(name, ".md5sums"), *budget)
		*budget -= len(files)
		return files
	}
	return nil
}

// readList reads a .list file (one absolute path a line) or an .md5sums
// file ("<md5>  relative/path"), keeping at most max paths. The paths of a
// .list file are substrings of its content, so a package's list costs two
// allocations however many files it owns.
func readList(content string, md5sums bool, max int) []string {
	files := make([]string, 0, strings.Count(content, "\n")+1)
	for line := range strings.Lines(content) {
		line = strings.TrimRight(line, "\r\n")
		if md5sums {
			_, p, ok := strings.Cut(line, "  ")
			if !ok {
				continue
			}
			line = "/" + strings.TrimPrefix(p, "/")
		}
		if line == "" || line == "/." {
			continue
		}
		if len(files) >= max {
			break
		}
		files = append(files, line)
	}
	if md5sums {
		// Keep dpkg's order for .list files; md5sums lists are sorted here
		// so that both give a stable order.
		sort.Strings(files)
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
