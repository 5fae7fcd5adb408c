// Package system collects kernel and file-system configuration facts for
// the configuration rules: kernel parameters as they run and as they are
// persisted (config/sysctl, which also fills the CPU facts), and the modes
// and owners of system paths (config/paths).
//
// # Persisted kernel parameters
//
// The files are gathered and applied as sysctl --system (procps-ng 4) and
// systemd-sysctl do, which agree on everything but /etc/sysctl.conf:
//
//  1. "*.conf" files are listed in /etc/sysctl.d, /run/sysctl.d,
//     /usr/local/lib/sysctl.d, /usr/lib/sysctl.d and /lib/sysctl.d, in that
//     order. A name seen in an earlier directory masks the same name in the
//     later ones (so /etc overrides /run overrides the vendor directories).
//     A file that is a symbolic link to /dev/null masks and sets nothing.
//  2. The surviving files are applied in lexical order of their names,
//     whatever their directory.
//  3. /etc/sysctl.conf is applied last. This is procps-ng 4's order (read
//     in its source, PreloadSystem): the sorted sysctl.d files, then
//     /etc/sysctl.conf if it is a regular file, links followed.
//     systemd-sysctl, which applies the settings at boot on systemd hosts,
//     does not read /etc/sysctl.conf itself upstream (RHEL 7's systemd 219
//     carries a patch bringing it back); Debian's and Ubuntu's systemd
//     package ships the link /etc/sysctl.d/99-sysctl.conf -> ../sysctl.conf,
//     so there it is applied in the place of the name 99-sysctl.conf. The two orders differ only when a file sorting after
//     99-sysctl.conf ("99-zz.conf") sets a key /etc/sysctl.conf sets too:
//     the value at boot is then that file's, the value after a manual
//     `sysctl --system` is sysctl.conf's. Kensa reports procps's order,
//     that of the command administrators and the CIS remediations run and
//     of hosts without systemd. Where the link exists, a value from
//     sysctl.conf is attributed to /etc/sysctl.conf (its last reading).
//  4. Within and across files a later assignment wins; an explicit
//     assignment beats a glob; see Merge and ParseSysctl for the syntax.
//
// Only regular files (or links to them) are read; each is capped at
// FileLimit. A FIFO, a device or a directory named *.conf is skipped and
// reported, and masks nothing (systemd lists only files and links). Names
// starting with "." are ignored, as the "*.conf" glob of the
// documentation and systemd ignore them.
//
// # Running kernel parameters and CPU
//
// Running values are live facts and are read from proc/ of the scanned
// root only: on an image without proc/sys, Running is nil and CPU.Source
// says "not available"; that is not an error. The keys read are
// DefaultSysctlKeys, the collector's extra keys, and the plain keys the
// persisted files assign (so that each persisted value can be compared
// with the running one), at most MaxRunningKeys in all. Values have their
// runs of blanks folded to one space ("4096\t87380" is "4096 87380").
package system

import (
	"context"
	"errors"
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

// DefaultSysctlKeys are the kernel parameters the CIS level 1 benchmarks
// and the best-practices package check (shared/checks/linux-controls.csv,
// kinds "sysctl" and the sysctl parts of "command").
var DefaultSysctlKeys = []string{
	"kernel.randomize_va_space",
	"kernel.yama.ptrace_scope",
	"fs.suid_dumpable",
	"net.ipv4.ip_forward",
	"net.ipv6.conf.all.forwarding",
	"net.ipv4.conf.all.send_redirects",
	"net.ipv4.conf.default.send_redirects",
	"net.ipv4.icmp_ignore_bogus_error_responses",
	"net.ipv4.icmp_echo_ignore_broadcasts",
	"net.ipv4.conf.all.accept_redirects",
	"net.ipv4.conf.default.accept_redirects",
	"net.ipv6.conf.all.accept_redirects",
	"net.ipv6.conf.default.accept_redirects",
	"net.ipv4.conf.all.secure_redirects",
	"net.ipv4.conf.default.secure_redirects",
	"net.ipv4.conf.all.rp_filter",
	"net.ipv4.conf.default.rp_filter",
	"net.ipv4.conf.all.accept_source_route",
	"net.ipv4.conf.default.accept_source_route",
	"net.ipv6.conf.all.accept_source_route",
	"net.ipv6.conf.default.accept_source_route",
	"net.ipv4.conf.all.log_martians",
	"net.ipv4.conf.default.log_martians",
	"net.ipv4.tcp_syncookies",
	"net.ipv6.conf.all.accept_ra",
	"net.ipv6.conf.default.accept_ra",
}

// SysctlDirs are the sysctl.d directories in order of precedence.
var SysctlDirs = []string{
	"/etc/sysctl.d",
	"/run/sysctl.d",
	"/usr/local/lib/sysctl.d",
	"/usr/lib/sysctl.d",
	"/lib/sysctl.d",
}

// SysctlConf is the file sysctl --system applies after sysctl.d.
const SysctlConf = "/etc/sysctl.conf"

const (
	// FileLimit caps one sysctl configuration file; real ones are a few
	// KiB.
	FileLimit = 1 << 20
	// MaxConfFiles caps the sysctl.d files read in all.
	MaxConfFiles = 2048
	// MaxRunningKeys caps the proc/sys files read.
	MaxRunningKeys = 4096
	// valueLimit caps one proc/sys file.
	valueLimit = 64 << 10
	// cpuinfoLimit caps proc/cpuinfo (about 1.5 KiB per processor).
	cpuinfoLimit = 16 << 20
)

// SysctlCollector fills inv.Config.Sysctl and inv.Config.CPU.
type SysctlCollector struct {
	extra []string
}

// NewSysctl returns the sysctl and CPU collector, reading DefaultSysctlKeys.
func NewSysctl() *SysctlCollector { return &SysctlCollector{} }

// WithKeys returns a collector that also reads the given keys (dotted or
// slashed; they are normalised) from proc/sys.
func (c *SysctlCollector) WithKeys(keys ...string) *SysctlCollector {
	n := &SysctlCollector{extra: slices.Clone(c.extra)}
	for _, k := range keys {
		n.extra = append(n.extra, Normalize(k))
	}
	return n
}

// Name implements collect.Collector.
func (*SysctlCollector) Name() string { return "config/sysctl" }

// Keys returns the keys the collector reads (defaults then extras, without
// repeats).
func (c *SysctlCollector) Keys() []string {
	seen := map[string]bool{}
	var out []string
	for _, k := range append(slices.Clone(DefaultSysctlKeys), c.extra...) {
		if !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	return out
}

// Collect implements collect.Collector.
func (c *SysctlCollector) Collect(ctx context.Context, env *collect.Env, inv *host.Inventory) error {
	keys := c.Keys()
	files, found := ReadConf(ctx, env.FS, env.Errorf)
	if err := ctx.Err(); err != nil {
		return err
	}
	sc := &host.Sysctl{Persisted: Merge(files, keys)}

	hasProc := procAvailable(env.FS)
	if hasProc {
		want := slices.Clone(keys)
		for k := range sc.Persisted {
			if !isGlob(k) {
				want = append(want, k)
			}
		}
		sc.Running = readRunning(ctx, env, want)
	} else if env.Logger != nil {
		env.Logger.Info("running kernel parameters not available: the scanned root has no proc/sys", "root", env.FS.Root())
	}

	cpu := readCPU(env, hasProc)
	if inv.Config == nil {
		inv.Config = &host.Config{}
	}
	inv.Config.Sysctl = sc
	inv.Config.CPU = cpu
	env.Count(len(sc.Persisted) + len(sc.Running))
	if !found && !hasProc {
		return collect.NotApplicable("no sysctl configuration files and no proc/ (running kernel parameters are not available for an image)")
	}
	return nil
}

// procAvailable reports whether the scanned root has a proc/sys to read
// running values from.
func procAvailable(fsys hostfs.FS) bool {
	fi, err := fsys.Stat("/proc/sys/kernel")
	return err == nil && fi.IsDir()
}

// ReadConf lists and parses the persisted sysctl configuration of fsys in
// the order it is applied (see the package documentation). found is false
// when there is neither a sysctl.d file nor /etc/sysctl.conf. Problems are
// passed to errorf.
func ReadConf(ctx context.Context, fsys hostfs.FS, errorf func(string, ...any)) (files []ConfFile, found bool) {
	paths, names := collect.DropIns(fsys, SysctlDirs, MaxConfFiles, "sysctl.d", errorf)
	found = names > 0
	for _, p := range paths {
		if ctx.Err() != nil {
			return files, true
		}
		if f, ok := readConfFile(fsys, p, errorf); ok {
			files = append(files, f)
		}
	}
	if fi, err := fsys.Stat(SysctlConf); err == nil {
		found = true
		if fi.Mode().IsRegular() {
			if f, ok := readConfFile(fsys, SysctlConf, errorf); ok {
				files = append(files, f)
			}
		} else {
			// procps skips it silently; say why it was not read.
			errorf("%s: not a regular file (%s), skipped", SysctlConf, collect.TypeName(fi.Mode().Type()))
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		found = true
		errorf("%s: %v", SysctlConf, err)
	}
	return files, found
}

func readConfFile(fsys hostfs.FS, file string, errorf func(string, ...any)) (ConfFile, bool) {
	b, err := hostfs.ReadFileLimit(fsys, file, FileLimit)
	if err != nil {
		errorf("read %s: %v", file, err)
		return ConfFile{}, false
	}
	as, perrs := ParseSysctl(b)
	for _, e := range perrs {
		errorf("%s: %v", file, e)
	}
	return ConfFile{Name: file, Assignments: as}, true
}

// readRunning reads the running value of each valid key below proc/sys.
// A key the kernel does not have is simply absent.
func readRunning(ctx context.Context, env *collect.Env, keys []string) map[string]string {
	out := map[string]string{}
	sort.Strings(keys)
	keys = slices.Compact(keys)
	n := 0
	for _, k := range keys {
		if ctx.Err() != nil {
			break
		}
		if !validKey(k) || path.Base(KeyPath(k)) == "stat_refresh" {
			// stat_refresh: reading it has a side effect (sysctl skips it too).
			continue
		}
		if n++; n > MaxRunningKeys {
			env.Errorf("more than %d kernel parameters to read, the rest are skipped", MaxRunningKeys)
			break
		}
		p := "/proc/sys/" + KeyPath(k)
		if r, err := env.FS.Resolve(p); err == nil && !strings.HasPrefix(r, "/proc/sys/") {
			env.Errorf("%s: leads out of /proc/sys (to %s), not read", p, r)
			continue
		}
		b, err := hostfs.ReadFileLimit(env.FS, p, valueLimit)
		switch {
		case err == nil:
			out[k] = strings.Join(strings.Fields(string(b)), " ")
		case errors.Is(err, fs.ErrNotExist), errors.Is(err, syscall.ENOTDIR), errors.Is(err, syscall.EISDIR):
			// Not a parameter of this kernel (no IPv6, no Yama), or a
			// directory of them.
		default:
			env.Errorf("read %s: %v", p, err)
		}
	}
	return out
}
