// Package units collects the state of systemd units (config/units): for
// each unit file, what `systemctl is-enabled` would say, the links that
// say it, which socket, timer or path units start it, and, on a live host
// run by systemd, whether it is active. SysV init scripts are read too:
// systemd turns those without a native unit into units, and a root without
// systemd has nothing else.
//
// # Unit files
//
// The unit directories are read in systemd's order of precedence
// (UnitDirs): a name in an earlier directory hides the same name in later
// ones. A directory that is the same as an earlier one once links are
// resolved (/lib is a link to /usr/lib on a merged-/usr system) is read
// once. The unit file in effect is masked when it is a link to /dev/null
// or an empty file (systemd.unit(5)); it is an alias when it is a link to
// a unit of another name. Otherwise its [Install] section decides between
// disabled (it has WantedBy=, RequiredBy=, UpheldBy= or Alias=), indirect
// (only Also=) and static (none), unless links enable it.
//
// # Enablement
//
// A unit is enabled when a link for it is in a "*.wants", "*.requires" or
// "*.upholds" directory of /etc/systemd/system (enabled-runtime for
// /run/systemd/system), or when a link there of another name leads to it
// (an alias `systemctl enable` made from Alias=). A link counts for the
// unit it is named after, for the template of an instance name
// (getty@tty1.service enables getty@.service), and for the unit its
// target is named after. As systemd ignores entries of those directories
// that are not links, so does the collector. Which target wants the unit
// is not followed: a unit linked in any target's directory counts as
// enabled, as `systemctl is-enabled` counts it. Links in the vendor
// directories (/usr/lib/systemd/system/*.wants) make a unit start as
// shipped; systemctl calls such a unit static, and the collector records
// those links apart (VendorLinks). Drop-in directories ("*.d") and the
// generator and transient directories under /run are not read: a unit
// only they define is seen only through the live state.
//
// A .socket unit starts the service of its Service= (or its own name, or
// the <name>@.service template with Accept=yes); a .timer or .path unit
// the unit of its Unit= (or its own name). Those are recorded on the
// started unit as TriggeredBy. Service= and Unit= set in drop-ins are not
// seen.
//
// # SysV init scripts
//
// A script /etc/init.d/<name> ("<name>.sh" drops ".sh", as
// systemd-sysv-generator does) is the unit <name>.service when no unit
// file of that name exists. Its start links /etc/rc[2-5].d/S<NN><name>
// enable it. Under systemd its state is "generated"; on a root without
// systemd unit files it is "enabled" or "disabled".
//
// # Active state
//
// Only on the live host (the scanned root is "/"), and only when PID 1 is
// systemd (proc/1/comm) and /run/systemd/system exists (sd_booted), is
// `systemctl list-units --all` run, bounded by a timeout and an output
// cap. Otherwise ActiveKnown is false and ActiveSource says why: the rules
// then judge on enablement only and say so.
//
// Everything is bounded: MaxDirEntries entries of one directory and
// MaxEntries in all, MaxUnits units, MaxUnitLinks links kept per unit,
// FileLimit bytes of a unit file; links are resolved inside the root
// (hostfs), so a link to an absolute path or a loop cannot lead out.
package units

import (
	"context"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/kensa-dev/kensa/internal/collect"
	"github.com/kensa-dev/kensa/internal/collect/sshd"
	"github.com/kensa-dev/kensa/internal/host"
	"github.com/kensa-dev/kensa/internal/hostfs"
)

// UnitDirs are the system unit directories in order of precedence.
var UnitDirs = []string{
	"/etc/systemd/system",
	"/run/systemd/system",
	"/usr/local/lib/systemd/system",
	"/usr/lib/systemd/system",
	"/lib/systemd/system",
}

const (
	configDir  = "/etc/systemd/system"
	runtimeDir = "/run/systemd/system"
	initDir    = "/etc/init.d"
)

// rcDirs are the runlevel directories whose start links enable a SysV
// script (the multi-user runlevels).
var rcDirs = []string{"/etc/rc2.d", "/etc/rc3.d", "/etc/rc4.d", "/etc/rc5.d"}

const (
	// MaxEntries caps the directory entries looked at in all (a Debian
	// server has about 400).
	MaxEntries = 100000
	// MaxDirEntries caps the entries looked at in one directory, so that
	// one flooded directory does not hide the others.
	MaxDirEntries = 10000
	// MaxUnitLinks caps the links kept for one unit.
	MaxUnitLinks = 64
	// MaxUnits caps the units kept.
	MaxUnits = 10000
	// MaxLinkUnits caps the units only links name kept past MaxUnits
	// (each dependency link is already bounded by MaxEntries).
	MaxLinkUnits = 10000
	// FileLimit caps one unit file (they are a few KiB).
	FileLimit = 1 << 20
	// DefaultTimeout bounds `systemctl list-units`.
	DefaultTimeout = 10 * time.Second
	// systemctl is where Debian, RHEL and their derivatives install it.
	systemctlPath = "/usr/bin/systemctl"
	// systemctlOld is its place before the /usr merge.
	systemctlOld = "/bin/systemctl"
)

// Runner runs a command and returns its standard output (sshd.Runner).
type Runner = sshd.Runner

// Options configures the collector.
type Options struct {
	// Run runs systemctl on a live host; nil means sshd.ExecRunner
	// (empty environment, output capped at 1 MiB).
	Run Runner
	// Timeout bounds it; zero means DefaultTimeout.
	Timeout time.Duration
}

// Collector fills inv.Config.Units.
type Collector struct{ opts Options }

// New returns the collector.
func New() *Collector { return NewWithOptions(Options{}) }

// NewWithOptions returns the collector with opts (a Runner for tests).
func NewWithOptions(opts Options) *Collector {
	if opts.Run == nil {
		opts.Run = sshd.ExecRunner
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	return &Collector{opts: opts}
}

// Name implements collect.Collector.
func (*Collector) Name() string { return "config/units" }

// file is a unit file found in a unit directory.
type file struct {
	dir, path string
}

// link is a link in a dependency directory, or an alias link.
type link struct {
	path, name, target string
	dir                string // the unit directory it is in
}

// scan holds what the walk found.
type scan struct {
	fsys     hostfs.FS
	errorf   func(string, ...any)
	entries  int
	capped   bool
	dirs     []string
	files    map[string]file
	depLinks []link
	order    []string
	parsed   map[string]UnitFile
	cutDirs  []string
	// incomplete is set when anything of the listing was left out
	// (host.Units.Incomplete).
	incomplete bool
	// linkUnits counts the units only links name, created past MaxUnits.
	linkUnits int
}

func (s *scan) count() bool {
	s.entries++
	if s.entries > MaxEntries {
		s.incomplete = true
		if !s.capped {
			s.capped = true
			s.errorf("more than %d entries in the unit directories, the rest are skipped", MaxEntries)
		}
		return false
	}
	return true
}

// dirCap reports whether the i-th entry of dir is within MaxDirEntries,
// reporting the cut once.
func (s *scan) dirCap(dir string, i int) bool {
	if i < MaxDirEntries {
		return true
	}
	s.errorf("%s: more than %d entries, the rest are skipped", dir, MaxDirEntries)
	s.cutDirs = append(s.cutDirs, dir)
	s.incomplete = true
	return false
}

// Collect implements collect.Collector.
func (c *Collector) Collect(ctx context.Context, env *collect.Env, inv *host.Inventory) error {
	s := &scan{fsys: env.FS, errorf: env.Errorf, files: map[string]file{}, parsed: map[string]UnitFile{}}
	seen := map[string]bool{}
	for _, dir := range UnitDirs {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		r, err := env.FS.Resolve(dir)
		if err != nil {
			if !hostfs.Missing(err) {
				env.Errorf("resolve %s: %v", dir, err)
				s.incomplete = true
			}
			continue
		}
		if seen[r] {
			continue
		}
		seen[r] = true
		s.readDir(dir)
	}

	u := &host.Units{Units: map[string]host.Unit{}}
	var sources []string
	if len(s.dirs) > 0 {
		sources = append(sources, "unit directories: "+strings.Join(s.dirs, ", "))
	}
	for _, name := range s.order {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if len(u.Units) >= MaxUnits {
			env.Errorf("more than %d units, the rest are skipped", MaxUnits)
			sources = append(sources, fmt.Sprintf("only the first %d units were kept", MaxUnits))
			s.incomplete = true
			break
		}
		s.examine(u, name)
	}
	s.credit(u)
	s.triggers(u)
	if len(u.Units) > 0 {
		u.Manager = "systemd"
	}
	if n := s.sysv(u); n > 0 {
		sources = append(sources, fmt.Sprintf("%d SysV scripts in %s", n, initDir))
		if u.Manager == "" {
			u.Manager = "sysv"
		}
	}
	if len(s.cutDirs) > 0 {
		sources = append(sources, fmt.Sprintf("only the first %d entries of %s were read", MaxDirEntries, strings.Join(s.cutDirs, ", ")))
	}
	if s.capped {
		sources = append(sources, fmt.Sprintf("the walk stopped after %d entries: units after that are missing", MaxEntries))
	}
	if s.linkUnits > MaxLinkUnits {
		sources = append(sources, fmt.Sprintf("only %d units past the cap that only links name were kept", MaxLinkUnits))
	}
	u.DefaultTarget = s.defaultTarget()
	u.Source = strings.Join(sources, "; ")
	u.Incomplete = s.incomplete
	if u.Manager == "" {
		return collect.NotApplicable("no systemd unit files (%s) and no %s scripts", strings.Join(UnitDirs, ", "), initDir)
	}
	c.live(ctx, env, u)

	if inv.Config == nil {
		inv.Config = &host.Config{}
	}
	inv.Config.Units = u
	env.Count(len(u.Units))
	return nil
}

// isDepDir reports whether a directory name holds dependency links.
func isDepDir(name string) bool {
	for _, sfx := range []string{".wants", ".requires", ".upholds"} {
		if strings.HasSuffix(name, sfx) && ValidName(strings.TrimSuffix(name, sfx)) {
			return true
		}
	}
	return false
}

// readDir reads one unit directory: unit files and links, and the links
// of its dependency directories.
func (s *scan) readDir(dir string) {
	des, err := s.fsys.ReadDir(dir)
	if err != nil {
		if !hostfs.Missing(err) {
			s.errorf("read %s: %v", dir, err)
			s.incomplete = true
		}
		return
	}
	s.dirs = append(s.dirs, dir)
	for i, de := range des {
		if !s.count() || !s.dirCap(dir, i) {
			return
		}
		name := de.Name()
		p := path.Join(dir, name)
		t := de.Type()
		switch {
		case t.IsDir() && isDepDir(name):
			s.readDepDir(dir, p)
		case t.IsDir():
			// Drop-in directories and others are not read.
		case !ValidName(name):
		case t.IsRegular() || t&fs.ModeSymlink != 0:
			if _, ok := s.files[name]; !ok {
				s.files[name] = file{dir: dir, path: p}
				s.order = append(s.order, name)
			}
		default:
			s.errorf("%s: not a regular file or link (%s), skipped", p, collect.TypeName(t))
		}
	}
}

// readDepDir records the links of a dependency directory. Entries that
// are not links are ignored, as systemd ignores them.
func (s *scan) readDepDir(unitDir, dir string) {
	des, err := s.fsys.ReadDir(dir)
	if err != nil {
		s.errorf("read %s: %v", dir, err)
		s.incomplete = true
		return
	}
	for i, de := range des {
		if !s.count() || !s.dirCap(dir, i) {
			return
		}
		name := de.Name()
		if de.Type()&fs.ModeSymlink == 0 || !ValidName(name) {
			continue
		}
		p := path.Join(dir, name)
		target, err := s.fsys.ReadLink(p)
		if err != nil {
			s.errorf("readlink %s: %v", p, err)
			s.incomplete = true
			continue
		}
		s.depLinks = append(s.depLinks, link{path: p, name: name, target: target, dir: unitDir})
	}
}

// examine computes the state of one unit file from the file alone;
// credit adds the links.
func (s *scan) examine(u *host.Units, name string) {
	f := s.files[name]
	unit := host.Unit{Path: f.path}
	runtime := f.dir == runtimeDir
	if collect.MaskedByDevNull(s.fsys, f.path) {
		unit.State, unit.MaskedBy = masked(runtime), f.path
		u.Units[name] = unit
		return
	}
	fi, err := s.fsys.Lstat(f.path)
	if err != nil {
		s.errorf("%s: %v", f.path, err)
		unit.State = "bad"
		u.Units[name] = unit
		return
	}
	if fi.Mode()&fs.ModeSymlink != 0 {
		r, err := s.fsys.Resolve(f.path)
		if err != nil {
			// A dangling link or a loop: systemd cannot load it.
			s.errorf("%s: %v", f.path, err)
			unit.State = "bad"
			u.Units[name] = unit
			return
		}
		if base := path.Base(r); base != name && ValidName(base) && suffix(base) == suffix(name) {
			unit.State, unit.AliasOf = "alias", base
			u.Units[name] = unit
			return
		}
	}
	b, err := hostfs.ReadFileLimit(s.fsys, f.path, FileLimit)
	if err != nil {
		s.errorf("read %s: %v", f.path, err)
		unit.State = "bad"
		u.Units[name] = unit
		return
	}
	if len(b) == 0 {
		unit.State, unit.MaskedBy = masked(runtime), f.path+" (empty)"
		u.Units[name] = unit
		return
	}
	uf := ParseUnit(b)
	switch {
	case uf.Install:
		unit.State = "disabled"
	case len(uf.Also) > 0:
		unit.State = "indirect"
	default:
		unit.State = "static"
	}
	u.Units[name] = unit
	s.parsed[name] = uf
}

func masked(runtime bool) string {
	if runtime {
		return "masked-runtime"
	}
	return "masked"
}

// credit adds the dependency links and the aliases in /etc and /run to
// the units they enable.
func (s *scan) credit(u *host.Units) {
	enable := func(name, linkPath string, config, runtime bool) {
		unit, ok := u.Units[name]
		if !ok {
			if Template(name) != "" {
				if _, ok := u.Units[Template(name)]; ok {
					return // credited to the template
				}
			}
			// A unit only links name is kept past MaxUnits, up to
			// MaxLinkUnits more: when the unit files were cut at a
			// cap, the link is what shows a unit the rules ask about
			// is enabled.
			if len(u.Units) >= MaxUnits {
				s.linkUnits++
				if s.linkUnits > MaxLinkUnits {
					if s.linkUnits == MaxLinkUnits+1 {
						s.errorf("more than %d units only links name past the cap of %d units, the rest are skipped", MaxLinkUnits, MaxUnits)
					}
					s.incomplete = true
					return
				}
			}
			unit = host.Unit{State: "not-found"}
		}
		if config {
			if len(unit.Links) < MaxUnitLinks && !slices.Contains(unit.Links, linkPath) {
				unit.Links = append(unit.Links, linkPath)
			}
			if unit.State == "disabled" || unit.State == "static" || unit.State == "indirect" || unit.State == "enabled-runtime" {
				if runtime {
					unit.State = "enabled-runtime"
				} else {
					unit.State = "enabled"
				}
			}
		} else if len(unit.VendorLinks) < MaxUnitLinks && !slices.Contains(unit.VendorLinks, linkPath) {
			unit.VendorLinks = append(unit.VendorLinks, linkPath)
		}
		u.Units[name] = unit
	}
	for _, l := range s.depLinks {
		config := l.dir == configDir || l.dir == runtimeDir
		runtime := l.dir == runtimeDir
		names := []string{l.name}
		if t := Template(l.name); t != "" {
			names = append(names, t)
		}
		if tb := path.Base(l.target); tb != l.name && ValidName(tb) && path.Clean(l.target) != "/dev/null" {
			names = append(names, tb)
		}
		for _, n := range names {
			enable(n, l.path, config, runtime)
		}
	}
	// Aliases in /etc and /run enable the unit they lead to.
	for _, name := range s.order {
		unit := u.Units[name]
		f := s.files[name]
		if unit.State != "alias" || (f.dir != configDir && f.dir != runtimeDir) {
			continue
		}
		enable(unit.AliasOf, f.path, true, f.dir == runtimeDir)
	}
	// A runtime link does not undo an enabled state from /etc.
	for name, unit := range u.Units {
		if unit.State == "enabled-runtime" {
			for _, l := range unit.Links {
				if strings.HasPrefix(l, configDir+"/") {
					unit.State = "enabled"
					u.Units[name] = unit
					break
				}
			}
		}
	}
}

// triggers records which socket, timer and path units start which units.
func (s *scan) triggers(u *host.Units) {
	for _, name := range s.order {
		sfx := suffix(name)
		if sfx != ".socket" && sfx != ".timer" && sfx != ".path" {
			continue
		}
		if _, ok := u.Units[name]; !ok {
			continue
		}
		uf := s.parsed[name]
		target := uf.Starts
		if target == "" {
			base := strings.TrimSuffix(name, sfx)
			if sfx == ".socket" && uf.Accept {
				target = base + "@.service"
			} else {
				target = base + ".service"
			}
		}
		t, ok := u.Units[target]
		if !ok {
			continue
		}
		t.TriggeredBy = append(t.TriggeredBy, name)
		u.Units[target] = t
	}
}

// sysv adds the SysV scripts that have no unit file of their name, and
// returns how many scripts there are.
func (s *scan) sysv(u *host.Units) int {
	des, err := s.fsys.ReadDir(initDir)
	if err != nil {
		if !hostfs.Missing(err) {
			s.errorf("read %s: %v", initDir, err)
		}
		return 0
	}
	starts := map[string][]string{}
	for _, dir := range rcDirs {
		rdes, err := s.fsys.ReadDir(dir)
		if err != nil {
			if !hostfs.Missing(err) {
				s.errorf("read %s: %v", dir, err)
			}
			continue
		}
		for _, de := range rdes {
			if !s.count() {
				break
			}
			n := de.Name()
			if len(n) > 3 && n[0] == 'S' && isDigit(n[1]) && isDigit(n[2]) {
				starts[n[3:]] = append(starts[n[3:]], path.Join(dir, n))
			}
		}
	}
	systemd := u.Manager == "systemd"
	scripts := 0
	for _, de := range des {
		if !s.count() {
			break
		}
		name := de.Name()
		t := de.Type()
		if strings.HasPrefix(name, ".") || name == "README" || name == "skeleton" || name == "rc" || name == "rcS" ||
			strings.ContainsAny(name, " \t\n/") || (!t.IsRegular() && t&fs.ModeSymlink == 0) {
			continue
		}
		scripts++
		unitName := strings.TrimSuffix(name, ".sh") + ".service"
		if !ValidName(unitName) {
			continue
		}
		if _, ok := u.Units[unitName]; ok && u.Units[unitName].State != "not-found" {
			continue // a native unit wins
		}
		if len(u.Units) >= MaxUnits {
			s.errorf("more than %d units, SysV script %s skipped", MaxUnits, name)
			s.incomplete = true
			continue
		}
		unit := host.Unit{Path: path.Join(initDir, name), Links: starts[name]}
		switch {
		case systemd:
			unit.State = "generated"
		case len(unit.Links) > 0:
			unit.State = "enabled"
		default:
			unit.State = "disabled"
		}
		u.Units[unitName] = unit
	}
	return scripts
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// defaultTarget reads the default.target link of the first unit directory
// that has one.
func (s *scan) defaultTarget() *host.Setting {
	f, ok := s.files["default.target"]
	if !ok {
		return nil
	}
	fi, err := s.fsys.Lstat(f.path)
	if err != nil || fi.Mode()&fs.ModeSymlink == 0 {
		return &host.Setting{Value: "default.target", File: f.path}
	}
	if r, err := s.fsys.Resolve(f.path); err == nil {
		return &host.Setting{Value: path.Base(r), File: f.path}
	}
	t, err := s.fsys.ReadLink(f.path)
	if err != nil {
		return nil
	}
	return &host.Setting{Value: path.Base(t), File: f.path}
}

// live reads the active state from the running systemd.
func (c *Collector) live(ctx context.Context, env *collect.Env, u *host.Units) {
	if !env.FS.Live() {
		u.ActiveSource = "an image: whether units are active is not known"
		return
	}
	comm, err := hostfs.ReadFileLimit(env.FS, "/proc/1/comm", 256)
	if err != nil {
		u.ActiveSource = fmt.Sprintf("read /proc/1/comm: %v: whether units are active is not known", err)
		return
	}
	if p1 := strings.TrimSpace(string(comm)); p1 != "systemd" {
		u.ActiveSource = fmt.Sprintf("PID 1 is %q, not systemd: whether units are active is not known", p1)
		return
	}
	if fi, err := env.FS.Stat(runtimeDir); err != nil || !fi.IsDir() {
		u.ActiveSource = "no " + runtimeDir + ": systemd did not boot this system; whether units are active is not known"
		return
	}
	bin := systemctlPath
	if _, err := env.FS.Stat(bin); err != nil {
		bin = systemctlOld
		if _, err := env.FS.Stat(bin); err != nil {
			u.ActiveSource = "no systemctl: whether units are active is not known"
			u.ActiveUnreadable = true
			return
		}
	}
	ctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	out, err := c.opts.Run(ctx, bin, "list-units", "--all", "--no-legend", "--plain", "--full", "--no-pager", "--type=service,socket,timer")
	if err == nil && ctx.Err() != nil {
		err = ctx.Err()
	}
	if err != nil {
		env.Errorf("%s list-units: %v", bin, err)
		u.ActiveSource = fmt.Sprintf("%s list-units failed: %v: whether units are active is not known", bin, err)
		u.ActiveUnreadable = true
		return
	}
	lives, truncated := ParseListUnits(out, MaxUnits)
	if len(lives) == 0 {
		u.ActiveSource = bin + " list-units printed no units: whether units are active is not known"
		u.ActiveUnreadable = true
		return
	}
	if truncated {
		env.Errorf("%s list-units: more than %d units, the rest are skipped", bin, MaxUnits)
		u.ActiveSource = fmt.Sprintf("%s list-units printed more than %d units: whether units are active is not known", bin, MaxUnits)
		u.ActiveUnreadable = true
		return
	}
	for _, l := range lives {
		unit, ok := u.Units[l.Name]
		if !ok {
			if len(u.Units) >= MaxUnits {
				u.Incomplete = true
				continue
			}
			unit.State = "runtime"
			if l.Load == "not-found" {
				unit.State = "not-found"
			}
		}
		unit.Active, unit.Sub = l.Active, l.Sub
		u.Units[l.Name] = unit
	}
	u.ActiveKnown = true
	u.ActiveSource = fmt.Sprintf("%s list-units --all (%d units; a unit not listed is inactive)", bin, len(lives))
}
