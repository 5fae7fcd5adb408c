package discover

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/kensa-dev/kensa/internal/collect"
	"github.com/kensa-dev/kensa/internal/collect/lang"
	"github.com/kensa-dev/kensa/internal/collect/users"
	"github.com/kensa-dev/kensa/internal/host"
	"github.com/kensa-dev/kensa/internal/hostfs"
)

// checkEvery is how many directory entries pass between two looks at the
// clock and the context.
const checkEvery = 256

// dirBatch is how many entries of a directory are read at once: limits are
// checked between batches, so a directory of millions of entries is never
// loaded whole.
const dirBatch = 1024

// walk is the state of one discovery.
type walk struct {
	ctx      context.Context
	env      *collect.Env
	fsys     hostfs.FS
	cfg      collect.DiscoveryConfig
	deadline time.Time
	rec      *recorder
	c        *Candidates

	// seen holds the files already taken as Go or Java candidates, by
	// device and inode, so a file reached directly, through links, hard
	// links or running processes is read once; seenPath the paths already
	// taken, to spare a link's Lstat.
	seen     map[seenKey]int
	seenPath map[string]struct{}
	// nsSeen holds the executables of processes in other mount
	// namespaces already taken, by Location, size and time: such a
	// file has no path in the host, and its device and inode differ from
	// one container to the next.
	nsSeen map[nsFile]struct{}
	// entries counts the directory entries looked at (Discovery.FilesVisited).
	entries int
	// stop is set when MaxFiles, the timeout or the context ends the walk.
	stop bool
	err  error
}

// fileID identifies a file: its device and inode, or its path when the
// file system gives neither.
type fileID struct {
	dev, ino uint64
	path     string
}

func idOf(p string, fi fs.FileInfo) fileID {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return fileID{dev: uint64(st.Dev), ino: st.Ino}
	}
	return fileID{path: p}
}

// nsFile identifies an executable in another mount namespace.
type nsFile struct {
	loc         string
	size, mtime int64
}

// seenKey is a file in one list of candidates (Go, Java); seen maps it
// to its index there.
type seenKey struct {
	id   fileID
	list *[]string
}

// root is a directory to search and how.
type root struct {
	path string
	kind collect.RootKind
}

func (w *walk) run(inv *host.Inventory) error {
	// Entries are counted before the context is looked at again: a walk
	// canceled before it began stops at once.
	if w.check("/") {
		return w.err
	}
	roots := w.roots(inv)
	for _, r := range roots {
		w.rec.disc.Roots = append(w.rec.disc.Roots, r.path)
	}
	// Running executables first: they matter most, and should the limits
	// stop the walk they are in. An explicit list of roots replaces the
	// whole default search, processes included.
	if len(w.cfg.Roots) == 0 && !w.stop {
		w.processes()
	}
	for _, r := range roots {
		if w.stop {
			break
		}
		switch r.kind {
		case collect.RootBin:
			w.bin(r.path)
		case collect.RootSitePackages:
			w.sitePackages(r.path)
		default:
			w.tree(r.path, 0)
		}
	}
	// Directories are read in the order the file system gives: sort.
	sort.Strings(w.c.Go)
	sort.Strings(w.c.Python)
	sort.Strings(w.c.NPM)
	sort.Strings(w.c.Java)
	w.rec.sort()
	w.c.owners = owners(w.fsys, inv.Packages, w.c)
	return w.err
}

// roots returns the directories to search, resolved inside the host, that
// exist, without duplicates and without those inside another tree root.
func (w *walk) roots(inv *host.Inventory) []root {
	var specs []collect.DiscoveryRoot
	if len(w.cfg.Roots) > 0 {
		for _, r := range w.cfg.Roots {
			specs = append(specs, collect.DiscoveryRoot{Path: r, Kind: collect.RootTree})
		}
	} else {
		specs = collect.DefaultDiscoveryRoots()
		hs, more := homes(w.fsys, inv.Users, MaxHomes)
		if more != "" {
			w.rec.limit(LimitMaxHomes, more, MaxHomes)
		}
		for _, home := range hs {
			for _, r := range collect.DefaultHomeDiscoveryRoots() {
				specs = append(specs, collect.DiscoveryRoot{Path: path.Join(home, r.Path), Kind: r.Kind})
			}
		}
	}
	// Each spec costs a few system calls, and there are six per home: the
	// clock and the context are looked at before each.
	byPath := map[string]collect.RootKind{}
specs:
	for _, s := range specs {
		if w.check(s.Path) {
			break
		}
		for _, p := range w.expand(s.Path) {
			if w.check(p) {
				break specs
			}
			rp, err := w.fsys.Resolve(p)
			if err != nil {
				if !errors.Is(err, fs.ErrNotExist) {
					w.env.Errorf("discover: root %s: %v", p, err)
				}
				continue
			}
			fi, err := w.fsys.Stat(rp)
			if err != nil || !fi.IsDir() {
				continue
			}
			if skipped(rp) {
				w.rec.skip(rp, "pseudo file system")
				continue
			}
			if k, ok := byPath[rp]; !ok || s.Kind == collect.RootTree && k != collect.RootTree {
				byPath[rp] = s.Kind
			}
		}
	}
	var trees []string
	for p, k := range byPath {
		if k == collect.RootTree {
			trees = append(trees, p)
		}
	}
	var out []root
	for p, k := range byPath {
		if !insideTree(p, k, trees) {
			out = append(out, root{p, k})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].path < out[j].path })
	return out
}

// insideTree reports whether a root at p is searched anyway by one of the
// tree roots.
func insideTree(p string, k collect.RootKind, trees []string) bool {
	for _, t := range trees {
		if t == p {
			if k != collect.RootTree {
				return true
			}
			continue
		}
		if t == "/" || strings.HasPrefix(p, t+"/") {
			return true
		}
	}
	return false
}

// expand returns the paths matching pattern, whose elements may be
// path.Match patterns. Directories that cannot be read match nothing. The
// entries read count towards MaxFiles.
func (w *walk) expand(pattern string) []string {
	const maxMatches = 1000
	pattern = path.Clean("/" + pattern)
	cur := []string{"/"}
	for _, elem := range strings.Split(pattern[1:], "/") {
		if elem == "" {
			continue
		}
		var next []string
		for _, dir := range cur {
			if w.stop {
				return nil
			}
			if !hasMeta(elem) {
				next = append(next, path.Join(dir, elem))
				continue
			}
			w.list(dir, func(e fs.DirEntry) bool {
				if ok, _ := path.Match(elem, e.Name()); ok {
					next = append(next, path.Join(dir, e.Name()))
				}
				return len(next) < maxMatches
			})
		}
		sort.Strings(next)
		cur = next
	}
	return cur
}

func hasMeta(s string) bool { return strings.ContainsAny(s, `*?[\`) }

// homes returns the first limit distinct home directories of the users,
// read from etc/passwd when the users collector found none, and the first
// home left out, or "".
func homes(fsys hostfs.FS, us []host.User, limit int) (out []string, more string) {
	if len(us) == 0 {
		if b, err := hostfs.ReadFileLimit(fsys, "etc/passwd", 4<<20); err == nil {
			// Bad lines are the users collector's to report.
			us, _ = users.ParsePasswd(b)
		}
	}
	seen := map[string]bool{}
	for _, u := range us {
		h := u.Home
		if !strings.HasPrefix(h, "/") {
			continue
		}
		h = path.Clean(h)
		if seen[h] {
			continue
		}
		if len(out) == limit {
			return out, h
		}
		seen[h] = true
		out = append(out, h)
	}
	return out, ""
}

// tick counts one directory entry and reports whether the walk must stop.
func (w *walk) tick(where string) bool {
	if w.stop {
		return true
	}
	w.entries++
	if w.entries > w.cfg.MaxFiles {
		w.entries--
		w.rec.limit(LimitMaxFiles, where, int64(w.cfg.MaxFiles))
		w.stop = true
		return true
	}
	if w.entries%checkEvery == 0 {
		return w.check(where)
	}
	return false
}

// check looks at the context and the clock, and reports whether the walk
// must stop.
func (w *walk) check(where string) bool {
	if w.stop {
		return true
	}
	if err := w.ctx.Err(); err != nil {
		w.rec.limit(LimitCanceled, where, 0)
		w.stop, w.err = true, err
		return true
	}
	if time.Now().After(w.deadline) {
		w.rec.limit(LimitTimeout, where, w.cfg.Timeout.Milliseconds())
		w.stop = true
		return true
	}
	return false
}

// list calls fn with the entries of dir, counting each (tick), until fn
// returns false or the walk stops, and returns the error of opening or
// reading dir. Entries come in the file system's order, not sorted.
func (w *walk) list(dir string, fn func(fs.DirEntry) bool) error {
	return eachEntry(w.fsys, dir, func(e fs.DirEntry) bool {
		return !w.tick(dir) && fn(e)
	})
}

// eachEntry calls fn with the entries of dir, read dirBatch at a time,
// until fn returns false.
func eachEntry(fsys fs.FS, dir string, fn func(fs.DirEntry) bool) error {
	f, err := fsys.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	d, ok := f.(fs.ReadDirFile)
	if !ok {
		return &fs.PathError{Op: "readdir", Path: dir, Err: syscall.ENOTDIR}
	}
	for {
		ents, err := d.ReadDir(dirBatch)
		for _, e := range ents {
			if !fn(e) {
				return nil
			}
		}
		if err == io.EOF || err == nil && len(ents) == 0 {
			return nil
		}
		if err != nil {
			var pe *fs.PathError
			if errors.As(err, &pe) {
				err = pe.Err
			}
			return &fs.PathError{Op: "readdir", Path: dir, Err: err}
		}
	}
}

// listOrReport is list, reporting the error.
func (w *walk) listOrReport(dir string, fn func(fs.DirEntry) bool) {
	if err := w.list(dir, fn); err != nil {
		w.env.Errorf("discover: %v", err)
	}
}

// tree searches dir, at depth below its root, for every kind of software.
// Subdirectories are entered once dir is read and closed, so the walk
// holds one directory open at a time.
func (w *walk) tree(dir string, depth int) {
	var subdirs []string
	// A Go toolchain (GOROOT) has a VERSION file and src/ and pkg/.
	var version, src, pkg bool
	w.listOrReport(dir, func(e fs.DirEntry) bool {
		name := e.Name()
		p := join(dir, name)
		t := e.Type()
		switch {
		case t.IsDir():
			switch name {
			case "src":
				src = true
			case "pkg":
				pkg = true
			}
			if reason := skipDir(dir, name, p); reason != "" {
				if reason != silent {
					w.rec.skip(p, reason)
				}
				return true
			}
			subdirs = append(subdirs, name)
		case t&fs.ModeSymlink != 0:
			w.link(p, name, false)
		case t.IsRegular():
			if name == "VERSION" {
				version = true
			}
			w.file(dir, name, p, e)
		}
		// FIFOs, sockets and devices are never candidates.
		return true
	})
	goroot := version && src && pkg
	sort.Strings(subdirs)
	for _, name := range subdirs {
		if w.stop {
			return
		}
		p := join(dir, name)
		if goroot && gorootSources(name) {
			w.rec.skip(p, "Go toolchain sources (GOROOT)")
			continue
		}
		if depth+1 >= w.cfg.MaxDepth {
			w.rec.limit(LimitMaxDepth, p, int64(w.cfg.MaxDepth))
			continue
		}
		w.tree(p, depth+1)
	}
}

// bin searches the entries of a directory of executables for Go binaries.
func (w *walk) bin(dir string) {
	w.listOrReport(dir, func(e fs.DirEntry) bool {
		name := e.Name()
		p := join(dir, name)
		t := e.Type()
		switch {
		case t&fs.ModeSymlink != 0:
			w.link(p, name, true)
		case t.IsRegular():
			if !notBinary(name) {
				w.executable(p, e)
			}
		}
		return true
	})
}

// sitePackages looks at the entries of a Python site-packages directory
// only: distribution metadata is always there, at depth one.
func (w *walk) sitePackages(dir string) {
	w.listOrReport(dir, func(e fs.DirEntry) bool {
		name := e.Name()
		p := join(dir, name)
		switch {
		case e.IsDir() && strings.HasSuffix(name, ".dist-info"):
			w.c.Python = append(w.c.Python, p+"/METADATA")
		case e.IsDir() && strings.HasSuffix(name, ".egg-info"):
			w.c.Python = append(w.c.Python, p+"/PKG-INFO")
		case e.Type().IsRegular() && strings.HasSuffix(name, ".egg-info"):
			w.c.Python = append(w.c.Python, p)
		}
		return true
	})
}

// file classifies a regular file met in a tree.
func (w *walk) file(dir, name, p string, e fs.DirEntry) {
	switch {
	case name == "METADATA" && strings.HasSuffix(dir, ".dist-info"),
		name == "PKG-INFO" && strings.HasSuffix(dir, ".egg-info"),
		strings.HasSuffix(name, ".egg-info"):
		w.c.Python = append(w.c.Python, p)
	case name == "package.json" && inNodeModules(dir):
		w.c.NPM = append(w.c.NPM, p)
	case IsArchive(name):
		fi, err := e.Info()
		if err != nil {
			return
		}
		w.archive(p, fi)
	case notBinary(name):
	default:
		w.executable(p, e)
	}
}

// executable takes a regular file as a Go candidate when it has an
// executable bit. Only here is a file Lstat-ed during the walk.
func (w *walk) executable(p string, e fs.DirEntry) {
	fi, err := e.Info()
	if err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm()&0o111 == 0 {
		return
	}
	w.goBinary(p, "", fi)
}

// goBinary takes p as a Go candidate; loc is its Location when not p.
func (w *walk) goBinary(p, loc string, fi fs.FileInfo) {
	// An ELF file has at least its 52-byte header.
	// No size limit: reading build info takes a few bounded reads whatever
	// the binary's size (a 700 MB Terraform provider is ordinary).
	if fi.Size() < 52 {
		return
	}
	w.take(&w.c.Go, p, loc, fi)
}

func (w *walk) archive(p string, fi fs.FileInfo) {
	if _, ok := w.seen[seenKey{idOf(p, fi), &w.c.Java}]; !ok && fi.Size() > w.cfg.MaxFileSize {
		w.rec.limit(LimitMaxFileSize, p, w.cfg.MaxFileSize)
		return
	}
	w.take(&w.c.Java, p, "", fi)
}

// take adds the file p, whose Location is loc when not p, to list unless
// it is there already by another path. Of two paths to one file the one
// kept does not depend on the order of the walk: a path in the host before
// one through a process's root, then the smaller.
func (w *walk) take(list *[]string, p, loc string, fi fs.FileInfo) {
	w.seenPath[p] = struct{}{}
	key := seenKey{idOf(p, fi), list}
	i, ok := w.seen[key]
	if ok {
		old := (*list)[i]
		_, oldVia := w.c.locations[old]
		newVia := loc != ""
		if old == p || !(oldVia && !newVia || oldVia == newVia && p < old) {
			return
		}
		delete(w.c.locations, old)
		(*list)[i] = p
	} else {
		w.seen[key] = len(*list)
		*list = append(*list, p)
	}
	if loc != "" {
		w.c.locations[p] = loc
	}
}

// link follows a symbolic link to a file that may be a Go binary or a Java
// archive, inside the host root. Links to directories are never followed.
func (w *walk) link(p, name string, binOnly bool) {
	archive := !binOnly && IsArchive(name)
	if !archive && notBinary(name) {
		return
	}
	rp, err := w.fsys.Resolve(p)
	if err != nil {
		// Dangling links are common; loops are worth a word.
		if errors.Is(err, hostfs.ErrLinkLoop) {
			w.env.Errorf("discover: %v", err)
		}
		return
	}
	if _, ok := w.seenPath[rp]; ok {
		return
	}
	if skipped(rp) || !archive && notBinary(path.Base(rp)) && !IsArchive(rp) {
		return
	}
	fi, err := w.fsys.Lstat(rp)
	if err != nil || !fi.Mode().IsRegular() {
		return
	}
	switch {
	case archive || !binOnly && IsArchive(rp):
		w.archive(rp, fi)
	case fi.Mode().Perm()&0o111 != 0:
		w.goBinary(rp, "", fi)
	}
}

// processes adds the executables of running processes, read from the
// proc/*/exe links of a live host or of a root that has a proc/.
func (w *walk) processes() {
	if !w.fsys.Live() {
		if fi, err := w.fsys.Lstat("proc"); err != nil || !fi.IsDir() {
			return
		}
	}
	var pids []int
	w.list("proc", func(e fs.DirEntry) bool {
		if name := e.Name(); e.IsDir() && lang.IsDigits(name) && len(name) < 10 {
			if pid, err := strconv.Atoi(name); err == nil && pid > 0 {
				pids = append(pids, pid)
			}
		}
		return true
	})
	// In PID order, whatever the order of proc/.
	sort.Ints(pids)
	selfNS := ""
	if w.fsys.Live() {
		selfNS, _ = w.fsys.ReadLink("proc/self/ns/mnt")
	}
	deleted := map[string]bool{}
	for i, n := range pids {
		if i%checkEvery == checkEvery-1 && w.check("/proc") {
			return
		}
		pid := strconv.Itoa(n)
		// Kernel threads have no exe, and other users' processes cannot be
		// read without privileges: neither is an error.
		target, err := w.fsys.ReadLink("proc/" + pid + "/exe")
		if err != nil || !strings.HasPrefix(target, "/") {
			continue
		}
		if t, ok := strings.CutSuffix(target, " (deleted)"); ok {
			if !deleted[t] {
				deleted[t] = true
				reason := "deleted executable of running process " + pid
				if strings.HasPrefix(t, "/memfd:") {
					reason = "in-memory executable (memfd) of running process " + pid
				}
				w.rec.skip(t, reason)
			}
			continue
		}
		w.process(pid, path.Clean(target), selfNS)
	}
}

// process takes the executable exe of process pid as a Go candidate.
//
// exe is a path in the process's own root. When that root is not the
// scan's (a container: the process has a mount namespace of its own on the
// live host, or a proc/PID/root link to elsewhere in an image), the file is
// read through proc/PID/root, unless the same path in the host is the same
// file.
func (w *walk) process(pid, exe, selfNS string) {
	var hostFI fs.FileInfo
	rp, err := w.fsys.Resolve(exe)
	if err == nil {
		if fi, err := w.fsys.Lstat(rp); err == nil && fi.Mode().IsRegular() {
			hostFI = fi
		}
	}
	if w.ownRoot(pid, selfNS) {
		via := "proc/" + pid + "/root" + exe
		var p, loc string
		if w.fsys.Live() {
			// The kernel resolves the magic link proc/PID/root into the
			// process's root, in its mount namespace: do not Resolve it.
			p, loc = "/"+via, exe+NamespaceNote
		} else if p, err = w.fsys.Resolve(via); err != nil {
			return
		}
		fi, err := w.fsys.Lstat(p)
		if err != nil || !fi.Mode().IsRegular() {
			return
		}
		if hostFI == nil || !os.SameFile(hostFI, fi) {
			if _, ok := w.seenPath[p]; ok {
				return
			}
			if loc != "" {
				// Replicas of one container image run the same file, each
				// in its own mount namespace: read it once.
				k := nsFile{loc, fi.Size(), fi.ModTime().UnixNano()}
				if _, ok := w.nsSeen[k]; ok {
					return
				}
				w.nsSeen[k] = struct{}{}
				if w.env.Logger != nil {
					w.env.Logger.Debug("executable read in another mount namespace", "pid", pid, "path", exe)
				}
			}
			w.goBinary(p, loc, fi)
			return
		}
	}
	if hostFI == nil {
		return
	}
	if _, ok := w.seenPath[rp]; !ok {
		w.goBinary(rp, "", hostFI)
	}
}

// ownRoot reports whether process pid has a root of its own: on the live
// host, a mount namespace other than the scanner's; in an image, a
// proc/PID/root link to anywhere but "/".
func (w *walk) ownRoot(pid, selfNS string) bool {
	if w.fsys.Live() {
		if selfNS == "" {
			return false
		}
		ns, err := w.fsys.ReadLink("proc/" + pid + "/ns/mnt")
		return err == nil && ns != selfNS
	}
	t, err := w.fsys.ReadLink("proc/" + pid + "/root")
	return err == nil && t != "/"
}

func join(dir, name string) string {
	if dir == "/" {
		return "/" + name
	}
	return dir + "/" + name
}

// silent marks directories skipped without a record: they hold no
// software and are so many that listing them would drown the rest.
const silent = "-"

// skipDir returns why the directory p (name in dir) is not entered, or "".
func skipDir(dir, name, p string) string {
	switch name {
	case "__pycache__":
		return silent
	case ".cache":
		return "cache directory (pip, go-build and others)"
	case ".m2":
		return "Maven local repository (package cache)"
	case ".npm":
		return "npm cache"
	case ".gradle":
		return "Gradle cache"
	case ".git":
		return "version control data"
	case "registry":
		if path.Base(dir) == ".cargo" {
			return "Cargo registry (package cache)"
		}
	case "mod":
		if path.Base(dir) == "pkg" {
			return "Go module cache"
		}
	}
	if skipped(p) {
		return "pseudo file system"
	}
	return ""
}

// skipped reports whether p is a pseudo file system of the host.
func skipped(p string) bool {
	for _, s := range []string{"/proc", "/sys", "/dev"} {
		if p == s || strings.HasPrefix(p, s+"/") {
			return true
		}
	}
	return false
}

// gorootSources reports whether name is a directory of a Go toolchain
// that holds sources and test data, not software: a GOROOT is ~15k files,
// nearly all there. Its bin/ and pkg/tool/ are still searched.
func gorootSources(name string) bool {
	switch name {
	case "src", "test", "misc", "doc", "api", "lib":
		return true
	}
	return false
}

// inNodeModules reports whether dir is node_modules/<name> or
// node_modules/@scope/<name>.
func inNodeModules(dir string) bool {
	if strings.HasPrefix(path.Base(dir), ".") {
		return false
	}
	parent := path.Dir(dir)
	switch b := path.Base(parent); {
	case b == "node_modules":
		return true
	case strings.HasPrefix(b, "@"):
		return path.Base(path.Dir(parent)) == "node_modules"
	}
	return false
}

// notBinary reports whether a file name says it is not an executable
// binary, so that the walk need not Lstat it: sources, scripts, text and
// data that fill language trees by the thousand.
func notBinary(name string) bool {
	i := strings.LastIndexByte(name, '.')
	if i < 0 {
		return false
	}
	switch strings.ToLower(name[i+1:]) {
	case "go", "c", "h", "cc", "cpp", "hpp", "s",
		"py", "pyc", "pyo", "pyi", "pxd", "pyx", "pth",
		"js", "mjs", "cjs", "ts", "mts", "cts", "jsx", "tsx", "map", "json",
		"md", "txt", "rst", "html", "htm", "css", "xml", "yaml", "yml", "toml", "ini", "cfg", "conf",
		"png", "jpg", "jpeg", "gif", "svg", "ico",
		"gz", "bz2", "xz", "zst", "tgz", "zip", "whl",
		"class", "properties", "pem", "crt", "mo", "po", "pc", "la", "a", "o",
		"sh", "bash", "pl", "pm", "rb", "php", "lua", "tcl",
		"jar", "war", "ear", "egg-info", "typed", "lock", "csv", "tmpl", "tpl":
		return true
	}
	return false
}
