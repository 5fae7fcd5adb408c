package discover

import (
	"io/fs"
	"strings"

	"github.com/kensa-dev/kensa/internal/host"
	"github.com/kensa-dev/kensa/internal/hostfs"
)

// owners maps each candidate path to the OS package whose file list holds
// it.
func owners(fsys hostfs.FS, pkgs []host.Package, c *Candidates) map[string]string {
	var paths []string
	for _, list := range [][]string{c.Go, c.Python, c.NPM, c.Java} {
		paths = append(paths, list...)
	}
	return OwnersOf(fsys, pkgs, paths)
}

// OwnersOf maps each of paths to the OS package whose file list holds it;
// a path no package holds is absent. Only paths are keys, so the map stays
// small however many files the packages own.
//
// Package databases list files as installed, which on a merged-/usr system
// may be /bin/x while a path resolved through links is /usr/bin/x: a
// first path element that is a link to a directory (bin -> usr/bin) is
// resolved before the lookup.
func OwnersOf(fsys hostfs.FS, pkgs []host.Package, paths []string) map[string]string {
	want := map[string]string{}
	for _, p := range paths {
		want[p] = ""
	}
	if len(want) == 0 || len(pkgs) == 0 {
		return map[string]string{}
	}
	top := topLinks(fsys)
	for i := range pkgs {
		for _, f := range pkgs[i].Files {
			if len(f) < 2 || f[0] != '/' {
				continue
			}
			key := f
			if j := strings.IndexByte(f[1:], '/'); j > 0 {
				if to, ok := top[f[:j+1]]; ok {
					key = to + f[j+1:]
				}
			}
			if cur, ok := want[key]; ok && cur == "" {
				want[key] = pkgs[i].Name
			}
		}
	}
	out := make(map[string]string, len(want))
	for p, name := range want {
		if name != "" {
			out[p] = name
		}
	}
	return out
}

// maxTopEntries bounds the entries of the root read by topLinks; a root
// file system has a few dozen.
const maxTopEntries = 4096

// topLinks returns the entries of the root that are links to directories,
// resolved: "/bin" -> "/usr/bin".
func topLinks(fsys hostfs.FS) map[string]string {
	out := map[string]string{}
	var links []fs.DirEntry
	n := 0
	eachEntry(fsys, "/", func(e fs.DirEntry) bool {
		if e.Type()&fs.ModeSymlink != 0 {
			links = append(links, e)
		}
		n++
		return n < maxTopEntries
	})
	for _, e := range links {
		p := "/" + e.Name()
		rp, err := fsys.Resolve(p)
		if err != nil || rp == p {
			continue
		}
		if fi, err := fsys.Stat(rp); err == nil && fi.IsDir() {
			out[p] = rp
		}
	}
	return out
}
