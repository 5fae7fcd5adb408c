// Package kmod collects kernel module facts for the configuration rules
// (config/kmod): which of a list of modules are loaded, built into the
// kernel, available as module files, and what the modprobe configuration
// says about them (install commands and blacklist lines).
//
// # Kernel release
//
// On a root with proc/ (the live host), the release is the running one
// (proc/sys/kernel/osrelease). Without it (an image), it is the newest
// release directory under lib/modules (releases compared as numbers where
// they are digits: 6.1.0-18 is newer than 6.1.0-9). A release directory
// counts only when it holds a module tree (modules.builtin, modules.dep or
// modules.order): a linux-headers package alone leaves a directory with a
// build link in it. When the running release has no module tree (a
// container, which shares the host's kernel), Release is empty and Modules
// is an empty map: nothing about the module files can be said.
//
// # Facts per module
//
// Names compare with "-" and "_" equal, as kmod does; Modules is keyed by
// the name with "_". Loaded comes from proc/modules of the scanned root
// (nil when it has none: an image). BuiltIn comes from
// lib/modules/<release>/modules.builtin; Available is true when a file
// named <name>.ko or <name>.ko.<compression> exists under
// lib/modules/<release>. The walk does not follow links to directories
// (lib/modules/<release>/build and source lead to kernel headers), and is
// bounded (MaxWalkEntries, MaxWalkDepth). When the walk or modules.builtin
// could not be completed, the modules whose facts are then unknown are left
// out of Modules (the rule reports an error rather than a pass) and Source
// says why.
//
// # Modprobe configuration
//
// The files are gathered as kmod (libkmod-config.c) does: "*.conf" files
// in /etc/modprobe.d, /run/modprobe.d, /usr/local/lib/modprobe.d,
// /usr/lib/modprobe.d and /lib/modprobe.d; a name seen in an earlier
// directory masks the same name in later ones; the surviving files are read
// in lexical order of their names, whatever their directory. A file that
// is a link to /dev/null masks and sets nothing. Names starting with "."
// are ignored; FIFOs, devices and directories are skipped and reported.
//
// Lines are read as kmod reads them: a line ending in a backslash continues
// on the next; a line whose first character is "#" is a comment (kmod looks
// at the first character only; an indented "#" line is an unknown command
// to kmod, and ignored here too). "install <name> <command...>" and
// "blacklist <name>" are recorded; other commands are ignored. Module names
// of these lines have "-" turned into "_" as kmod's underscores() does.
//
// For install, kmod uses the first command whose module pattern (an
// fnmatch(3) glob) matches, in reading order, "as modprobe from
// module-init-tools does" (kmod_module_get_install_commands); later
// install lines for the same module have no effect. Install is therefore
// the first matching line. A blacklist line matches its name exactly;
// Blacklisted is the first one, and any one is enough.
package kmod

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"sort"
	"strings"
	"syscall"

	"github.com/kensa-dev/kensa/internal/collect"
	"github.com/kensa-dev/kensa/internal/host"
	"github.com/kensa-dev/kensa/internal/hostfs"
)

// DefaultModules are the modules the CIS level 1 benchmarks want disabled
// on Debian (shared/checks/linux-controls.csv, kind kernel_module).
var DefaultModules = []string{"cramfs", "freevxfs", "hfs", "hfsplus", "jffs2", "usb-storage"}

// ModprobeDirs are the modprobe.d directories in order of precedence.
var ModprobeDirs = []string{
	"/etc/modprobe.d",
	"/run/modprobe.d",
	"/usr/local/lib/modprobe.d",
	"/usr/lib/modprobe.d",
	"/lib/modprobe.d",
}

// ModulesDir holds one directory of modules per kernel release.
const ModulesDir = "/lib/modules"

const (
	// FileLimit caps one modprobe.d file.
	FileLimit = 1 << 20
	// MaxConfFiles caps the modprobe.d files read in all.
	MaxConfFiles = 2048
	// BuiltinLimit caps modules.builtin (tens of KiB on real kernels).
	BuiltinLimit = 8 << 20
	// ProcModulesLimit caps proc/modules.
	ProcModulesLimit = 8 << 20
	// MaxWalkEntries caps the directory entries looked at under
	// lib/modules/<release> (a distribution kernel has about 7000).
	MaxWalkEntries = 200000
	// MaxWalkDepth caps how deep the walk goes below the release directory.
	MaxWalkDepth = 16
	// MaxReleases caps the release directories looked at.
	MaxReleases = 1024
	// MaxLoaded caps the names kept from proc/modules.
	MaxLoaded = 65536
)

// Collector fills inv.Config.Modules.
type Collector struct {
	modules []string
}

// New returns the collector for the given module names; nil or empty means
// DefaultModules.
func New(modules []string) *Collector {
	if len(modules) == 0 {
		modules = DefaultModules
	}
	var names []string
	for _, m := range modules {
		names = append(names, Normalize(m))
	}
	sort.Strings(names)
	return &Collector{modules: slices.Compact(names)}
}

// Name implements collect.Collector.
func (*Collector) Name() string { return "config/kmod" }

// Normalize writes a module name as kmod compares it: "-" as "_".
func Normalize(name string) string {
	return strings.ReplaceAll(strings.TrimSpace(name), "-", "_")
}

// Collect implements collect.Collector.
func (c *Collector) Collect(ctx context.Context, env *collect.Env, inv *host.Inventory) error {
	km := &host.KernelModules{Modules: map[string]host.KernelModule{}}
	var sources []string

	loaded, hasProc := readLoaded(env)
	km.Loaded = loaded
	loadedSet := map[string]bool{}
	for _, l := range loaded {
		loadedSet[Normalize(l)] = true
	}
	if !hasProc {
		sources = append(sources, "no proc/modules (an image): loaded modules are not known")
	}

	release, why := findRelease(env)
	conf := ReadConf(ctx, env.FS, env.Errorf)
	if err := ctx.Err(); err != nil {
		return err
	}

	if release == "" {
		sources = append(sources, why)
	} else {
		km.Release = release
		dir := path.Join(ModulesDir, release)
		builtin, berr := readBuiltin(env.FS, dir)
		if berr != "" {
			env.Errorf("%s", berr)
			sources = append(sources, berr)
		}
		avail, complete := c.walk(ctx, env, dir)
		if !complete {
			sources = append(sources, "the walk of "+dir+" was not completed: modules not found there are left out")
		}
		for _, m := range c.modules {
			km2 := host.KernelModule{
				Loaded:    loadedSet[m],
				BuiltIn:   builtin[m],
				Available: avail[m],
			}
			// Unknown facts leave the module out: an error, never a pass.
			// (A module with a file is not also built in: it is one or
			// the other in the kernel's configuration.)
			if !km2.Loaded && !km2.BuiltIn && !km2.Available && (builtin == nil || !complete) {
				continue
			}
			km.Modules[m] = km2
		}
		sources = append(sources, fmt.Sprintf("kernel %s: %s", release, dir))
	}
	if release == "" {
		// Nothing about module files: keep no per-module entries, so the
		// rules say not applicable (the loaded list stays for the record).
		km.Modules = map[string]host.KernelModule{}
	}
	for name, m := range km.Modules {
		m.Install = conf.install(name)
		m.Blacklisted = conf.blacklist(name)
		km.Modules[name] = m
	}
	if len(conf.Files) > 0 {
		sources = append(sources, "modprobe.d: "+strings.Join(conf.Files, ", "))
	}
	km.Source = strings.Join(sources, "; ")

	if inv.Config == nil {
		inv.Config = &host.Config{}
	}
	inv.Config.Modules = km
	env.Count(len(km.Modules))
	if release == "" && !hasProc && len(conf.Files) == 0 {
		return collect.NotApplicable("no kernel modules and no modprobe configuration: %s", why)
	}
	return nil
}

// readLoaded reads the module names of proc/modules. ok is false when the
// scanned root has none.
func readLoaded(env *collect.Env) ([]string, bool) {
	b, err := hostfs.ReadFileLimit(env.FS, "/proc/modules", ProcModulesLimit)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, syscall.ENOTDIR) {
			env.Errorf("read /proc/modules: %v", err)
		}
		return nil, false
	}
	out := []string{}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if len(out) >= MaxLoaded {
			env.Errorf("/proc/modules: more than %d modules, the rest are skipped", MaxLoaded)
			break
		}
		out = append(out, Normalize(f[0]))
	}
	sort.Strings(out)
	return slices.Compact(out), true
}

// findRelease picks the kernel release whose modules are examined, or
// says why there is none.
func findRelease(env *collect.Env) (string, string) {
	if b, err := hostfs.ReadFileLimit(env.FS, "/proc/sys/kernel/osrelease", 4096); err == nil {
		rel := strings.TrimSpace(string(b))
		if validRelease(rel) {
			if isModuleTree(env.FS, path.Join(ModulesDir, rel)) {
				return rel, ""
			}
			return "", fmt.Sprintf("the running kernel %s has no module tree in %s/%s (a container shares its host's kernel)", rel, ModulesDir, rel)
		}
		env.Errorf("/proc/sys/kernel/osrelease: %q is not a kernel release", rel)
	}
	des, err := env.FS.ReadDir(ModulesDir)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, syscall.ENOTDIR) {
			env.Errorf("read %s: %v", ModulesDir, err)
		}
		return "", "no " + ModulesDir + " (a container or an image without a kernel)"
	}
	var best string
	for i, de := range des {
		if i >= MaxReleases {
			env.Errorf("%s: more than %d entries, the rest are skipped", ModulesDir, MaxReleases)
			break
		}
		rel := de.Name()
		if !validRelease(rel) || !isModuleTree(env.FS, path.Join(ModulesDir, rel)) {
			continue
		}
		if best == "" || compareRelease(rel, best) > 0 {
			best = rel
		}
	}
	if best == "" {
		return "", "no kernel module tree in " + ModulesDir
	}
	return best, ""
}

// validRelease accepts what a kernel release looks like: a digit first, no
// slashes.
func validRelease(s string) bool {
	return s != "" && s[0] >= '0' && s[0] <= '9' && !strings.ContainsAny(s, "/\x00 \t\n") && len(s) < 256
}

// isModuleTree reports whether dir holds the files depmod or a kernel
// install writes.
func isModuleTree(fsys hostfs.FS, dir string) bool {
	fi, err := fsys.Stat(dir)
	if err != nil || !fi.IsDir() {
		return false
	}
	for _, f := range []string{"modules.builtin", "modules.dep", "modules.order"} {
		if fi, err := fsys.Stat(path.Join(dir, f)); err == nil && fi.Mode().IsRegular() {
			return true
		}
	}
	return false
}

// compareRelease compares releases chunk by chunk, runs of digits as
// numbers.
func compareRelease(a, b string) int {
	for a != "" && b != "" {
		ca, ra := chunk(a)
		cb, rb := chunk(b)
		da, db := isDigit(ca[0]), isDigit(cb[0])
		switch {
		case da && db:
			x, y := strings.TrimLeft(ca, "0"), strings.TrimLeft(cb, "0")
			if len(x) != len(y) {
				return cmpInt(len(x), len(y))
			}
			if c := strings.Compare(x, y); c != 0 {
				return c
			}
		case da != db:
			if da {
				return 1
			}
			return -1
		default:
			if c := strings.Compare(ca, cb); c != 0 {
				return c
			}
		}
		a, b = ra, rb
	}
	return cmpInt(len(a), len(b))
}

func chunk(s string) (string, string) {
	d := isDigit(s[0])
	i := 1
	for i < len(s) && isDigit(s[i]) == d {
		i++
	}
	return s[:i], s[i:]
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func cmpInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// readBuiltin reads modules.builtin ("kernel/fs/cramfs/cramfs.ko" lines)
// into a set of normalised names; nil with a message when it cannot.
func readBuiltin(fsys hostfs.FS, dir string) (map[string]bool, string) {
	p := path.Join(dir, "modules.builtin")
	b, err := hostfs.ReadFileLimit(fsys, p, BuiltinLimit)
	if err != nil {
		return nil, fmt.Sprintf("read %s: %v: built-in modules are not known", p, err)
	}
	out := map[string]bool{}
	for _, line := range strings.Split(string(b), "\n") {
		if name, ok := moduleFileName(path.Base(strings.TrimSpace(line))); ok {
			out[name] = true
		}
	}
	return out, ""
}

// moduleFileName returns the normalised module name of a file name
// "<name>.ko" or "<name>.ko.<compression>".
func moduleFileName(base string) (string, bool) {
	i := strings.LastIndex(base, ".ko")
	if i <= 0 {
		return "", false
	}
	rest := base[i+3:]
	if rest != "" && (rest[0] != '.' || strings.Contains(rest[1:], ".") || len(rest) > 8) {
		return "", false
	}
	return Normalize(base[:i]), true
}

// walk looks for the collector's modules' files under dir. complete is
// false when the walk was cut short or a directory could not be read.
func (c *Collector) walk(ctx context.Context, env *collect.Env, dir string) (map[string]bool, bool) {
	want := map[string]bool{}
	for _, m := range c.modules {
		want[m] = true
	}
	found := map[string]bool{}
	complete := true
	entries := 0
	type item struct {
		dir   string
		depth int
	}
	stack := []item{{dir, 0}}
	for len(stack) > 0 {
		if ctx.Err() != nil {
			return found, false
		}
		it := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		des, err := env.FS.ReadDir(it.dir)
		if err != nil {
			env.Errorf("read %s: %v", it.dir, err)
			complete = false
			continue
		}
		for _, de := range des {
			if entries++; entries > MaxWalkEntries {
				env.Errorf("%s: more than %d entries, the walk stops", dir, MaxWalkEntries)
				return found, false
			}
			p := path.Join(it.dir, de.Name())
			t := de.Type()
			switch {
			case t.IsDir():
				if it.depth+1 > MaxWalkDepth {
					env.Errorf("%s: deeper than %d levels, not walked", p, MaxWalkDepth)
					complete = false
					continue
				}
				stack = append(stack, item{p, it.depth + 1})
			case t.IsRegular(), t&fs.ModeSymlink != 0:
				name, ok := moduleFileName(de.Name())
				if !ok || !want[name] {
					continue
				}
				if t&fs.ModeSymlink != 0 {
					// A module link (weak-updates) counts when it leads to
					// a regular file inside the root.
					fi, err := env.FS.Stat(p)
					if err != nil || !fi.Mode().IsRegular() {
						continue
					}
				}
				found[name] = true
			}
		}
	}
	return found, complete
}

// Conf is the merged modprobe configuration.
type Conf struct {
	// Files are the files read, in order.
	Files    []string
	installs []directive
	blacks   []directive
}

type directive struct {
	name    string // normalised; for install a glob
	command string
	file    string
	line    int
}

func (c *Conf) install(name string) *host.Setting {
	for _, d := range c.installs {
		if ok, err := path.Match(d.name, name); err == nil && ok || d.name == name {
			return &host.Setting{Value: d.command, File: d.file, Line: d.line}
		}
	}
	return nil
}

func (c *Conf) blacklist(name string) *host.Setting {
	for _, d := range c.blacks {
		if d.name == name {
			return &host.Setting{Value: "blacklist " + d.name, File: d.file, Line: d.line}
		}
	}
	return nil
}

// ReadConf lists and parses the modprobe configuration of fsys in the
// order kmod reads it (see the package documentation).
func ReadConf(ctx context.Context, fsys hostfs.FS, errorf func(string, ...any)) *Conf {
	paths, _ := collect.DropIns(fsys, ModprobeDirs, MaxConfFiles, "modprobe.d", errorf)
	conf := &Conf{}
	for _, file := range paths {
		if ctx.Err() != nil {
			break
		}
		b, err := hostfs.ReadFileLimit(fsys, file, FileLimit)
		if err != nil {
			errorf("read %s: %v", file, err)
			continue
		}
		conf.Files = append(conf.Files, file)
		conf.parse(file, b)
	}
	return conf
}

// parse adds the install and blacklist lines of one file.
func (c *Conf) parse(file string, b []byte) {
	lines := strings.Split(string(bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n"))), "\n")
	for i := 0; i < len(lines); i++ {
		start := i + 1
		line := lines[i]
		for strings.HasSuffix(line, "\\") && i+1 < len(lines) {
			i++
			line = line[:len(line)-1] + lines[i]
		}
		line = strings.TrimSuffix(line, "\\")
		if line == "" || line[0] == '#' {
			continue
		}
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		switch f[0] {
		case "install":
			if len(f) < 3 {
				continue
			}
			// The command is the rest of the line after the name.
			rest := strings.TrimLeft(line, " \t")
			rest = strings.TrimLeft(rest[len("install"):], " \t")
			rest = strings.TrimLeft(rest[len(f[1]):], " \t")
			c.installs = append(c.installs, directive{name: Normalize(f[1]), command: strings.TrimSpace(rest), file: file, line: start})
		case "blacklist":
			c.blacks = append(c.blacks, directive{name: Normalize(f[1]), file: file, line: start})
		}
	}
}
