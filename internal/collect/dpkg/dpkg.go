// Package dpkg reads the dpkg database of Debian, Ubuntu and their
// derivatives: var/lib/dpkg/status, the status.d/ directory that distroless
// images use instead, and the per-package file lists in info/.
//
// Versions are kept exactly as dpkg stores them ("1:2.38.1-5+deb12u3"):
// comparing them is the matcher's job, with dpkg's own rules.
package dpkg

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"

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
	statusLimit = 512 << 20
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
	if f, err := env.FS.Open(statusPath); err == nil {
		found = true
		paras, perrs, err := Parse(&limitedReader{f, statusLimit})
		f.Close()
		for _, e := range perrs {
			env.Errorf("%s: %v", statusPath, e)
		}
		if err != nil {
			return fmt.Errorf("dpkg: read %s: %w", statusPath, err)
		}
		pkgs = append(pkgs, packages(env, paras, statusPath)...)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("dpkg: open %s: %w", statusPath, err)
	}
	if entries, err := env.FS.ReadDir(statusDir); err == nil {
		found = true
		for _, e := range entries {
			if e.IsDir() || strings.HasSuffix(e.Name(), ".md5sums") {
				continue
			}
			name := path.Join(statusDir, e.Name())
			f, err := env.FS.Open(name)
			if err != nil {
				env.Errorf("open %s: %v", name, err)
				continue
			}
			paras, perrs, err := Parse(&limitedReader{f, statusLimit})
			f.Close()
			for _, pe := range perrs {
				env.Errorf("%s: %v", name, pe)
			}
			if err != nil {
				env.Errorf("read %s: %v", name, err)
				continue
			}
			pkgs = append(pkgs, packages(env, paras, name)...)
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		env.Errorf("read %s: %v", statusDir, err)
	}
	if !found {
		return collect.NotApplicable("no dpkg database (%s or %s)", statusPath, statusDir)
	}
	for i := range pkgs {
		if err := ctx.Err(); err != nil {
			return err
		}
		pkgs[i].Files = fileList(env, &pkgs[i])
	}
	inv.Packages = append(inv.Packages, pkgs...)
	env.Count(len(pkgs))
	return nil
}

// packages turns installed paragraphs into packages.
func packages(env *collect.Env, paras []Paragraph, source string) []host.Package {
	var out []host.Package
	for _, p := range paras {
		name, version := p["Package"], p["Version"]
		if name == "" {
			env.Errorf("%s: paragraph without Package field skipped", source)
			continue
		}
		// status.d paragraphs of distroless images carry no Status field:
		// everything listed there is installed.
		if st, ok := p["Status"]; ok && !installedState(st) {
			continue
		}
		if version == "" {
			env.Errorf("%s: package %s has no Version", source, name)
			continue
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
		out = append(out, host.Package{
			Manager:       "dpkg",
			Name:          name,
			Version:       version,
			Arch:          p["Architecture"],
			SourceName:    srcName,
			SourceVersion: srcVersion,
			Source:        source,
		})
	}
	return out
}

// fileList reads the files a package owns. dpkg names the list
// info/NAME:ARCH.list for Multi-Arch: same packages and info/NAME.list
// otherwise; distroless images keep status.d/NAME.md5sums instead.
func fileList(env *collect.Env, p *host.Package) []string {
	var candidates []string
	if p.Source == statusPath {
		candidates = []string{
			path.Join(infoDir, p.Name+":"+p.Arch+".list"),
			path.Join(infoDir, p.Name+".list"),
		}
	} else {
		candidates = []string{p.Source + ".md5sums", path.Join(statusDir, p.Name+".md5sums")}
	}
	for _, name := range candidates {
		f, err := env.FS.Open(name)
		if err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				env.Errorf("open %s: %v", name, err)
			}
			continue
		}
		files, err := readList(f, strings.HasSuffix(name, ".md5sums"))
		f.Close()
		if err != nil {
			env.Errorf("read %s: %v", name, err)
		}
		return files
	}
	return nil
}

// readList reads a .list file (one absolute path a line) or an .md5sums
// file ("<md5>  relative/path").
func readList(f fs.File, md5sums bool) ([]string, error) {
	var files []string
	sc := bufio.NewScanner(&limitedReader{f, listLimit})
	sc.Buffer(make([]byte, 0, 4096), 64<<10)
	for sc.Scan() {
		line := sc.Text()
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
		files = append(files, line)
	}
	if !md5sums {
		// Keep dpkg's order for .list files; md5sums are already sorted.
		return files, sc.Err()
	}
	sort.Strings(files)
	return files, sc.Err()
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
