// Package kernel reports the running kernel and the kernels installed, and
// whether a reboot is pending because a newer kernel is installed than runs.
//
// The running kernel is a live fact: it is read from proc/ of the scanned
// root only. For an image without proc/ it is "not available", never the
// kernel of the machine doing the scan.
package kernel

import (
	"cmp"
	"context"
	"errors"
	"io/fs"
	"sort"
	"strings"

	"github.com/kensa-dev/kensa/internal/collect"
	"github.com/kensa-dev/kensa/internal/host"
	"github.com/kensa-dev/kensa/internal/hostfs"
)

// Collector fills inv.Kernel. It runs after the package collectors, whose
// records it reads.
type Collector struct{}

// New returns the kernel collector.
func New() *Collector { return &Collector{} }

// Name implements collect.Collector.
func (*Collector) Name() string { return "os/kernel" }

// Collect implements collect.Collector.
func (*Collector) Collect(ctx context.Context, env *collect.Env, inv *host.Inventory) error {
	k := &host.Kernel{Installed: Installed(inv.Packages)}
	b, err := hostfs.ReadFileLimit(env.FS, "/proc/sys/kernel/osrelease", 1024)
	switch {
	case err == nil && strings.TrimSpace(string(b)) != "":
		k.Running = strings.TrimSpace(string(b))
		if env.FS.Live() {
			k.RunningSource = "/proc/sys/kernel/osrelease"
		} else {
			k.RunningSource = "/proc/sys/kernel/osrelease in the scanned root"
		}
	case errors.Is(err, fs.ErrNotExist):
		k.RunningSource = "not available: the scanned root has no proc/ (an image, not a running system)"
	case err != nil:
		k.RunningSource = "not available: " + err.Error()
		env.Errorf("read /proc/sys/kernel/osrelease: %v", err)
	default:
		k.RunningSource = "not available: /proc/sys/kernel/osrelease is empty"
	}
	if _, err := hostfs.ReadFileLimit(env.FS, "/run/reboot-required", 4096); err == nil {
		k.RebootRequired = true
		k.RebootReason = "/run/reboot-required exists"
		if pk, err := hostfs.ReadFileLimit(env.FS, "/run/reboot-required.pkgs", 64<<10); err == nil {
			k.RebootReason += ", for: " + strings.Join(strings.Fields(string(pk)), ", ")
		}
	}
	if k.Running != "" {
		if newest, ok := Newest(k.Installed, k.Running); ok && CompareRelease(newest.Release, k.Running) > 0 {
			k.RebootRequired = true
			k.RebootReason = "kernel " + newest.Release + " (" + newest.Package + " " + newest.Version + ") is installed but " + k.Running + " is running"
		}
	}
	if k.Running == "" && len(k.Installed) == 0 {
		inv.Kernel = k
		return collect.NotApplicable("no running kernel (no proc/) and no kernel package installed")
	}
	inv.Kernel = k
	env.Count(len(k.Installed))
	return nil
}

// Installed finds kernel image packages and the release each boots as,
// ordered from oldest to newest release.
func Installed(pkgs []host.Package) []host.InstalledKernel {
	out := []host.InstalledKernel{}
	for _, p := range pkgs {
		if rel := bootRelease(p); rel != "" {
			out = append(out, host.InstalledKernel{Package: p.Name, Version: p.Version, Release: rel})
		}
	}
	// With both kernel and kernel-core installed (RHEL 8+) the release
	// appears twice; keep the image package.
	sort.SliceStable(out, func(i, j int) bool { return CompareRelease(out[i].Release, out[j].Release) < 0 })
	dedup := out[:0]
	for _, k := range out {
		if n := len(dedup); n > 0 && dedup[n-1].Release == k.Release {
			if strings.HasSuffix(k.Package, "-core") {
				dedup[n-1] = k
			}
			continue
		}
		dedup = append(dedup, k)
	}
	return dedup
}

// bootRelease returns the release (uname -r) a kernel image package boots
// as, or "" when p is not a kernel image.
func bootRelease(p host.Package) string {
	switch p.Manager {
	case "dpkg":
		// linux-image-6.1.0-18-amd64 (Debian), linux-image-5.15.0-91-generic
		// and linux-image-unsigned-... (Ubuntu); not the linux-image-amd64
		// metapackage, whose name holds no release, and not debug symbols.
		n, ok := strings.CutPrefix(p.Name, "linux-image-")
		n = strings.TrimPrefix(n, "unsigned-")
		if !ok || n == "" || n[0] < '0' || n[0] > '9' || strings.HasSuffix(n, "-dbg") || strings.HasSuffix(n, "-dbgsym") {
			return ""
		}
		return strings.TrimSuffix(n, "-unsigned")
	case "rpm":
		v := p.Version
		if i := strings.IndexByte(v, ':'); i >= 0 {
			v = v[i+1:]
		}
		switch p.Name {
		case "kernel", "kernel-core", "kernel-uek", "kernel-uek-core", "kernel-rt-core":
			// RHEL family and Amazon Linux: 4.18.0-477.10.1.el8_8.x86_64.
			if p.Arch != "" && p.Arch != "noarch" {
				return v + "." + p.Arch
			}
			return v
		case "kernel-rt":
			if strings.Contains(v, ".el") || strings.Contains(v, ".amzn") {
				// RHEL 7's real-time kernel, without a -core package.
				if p.Arch != "" && p.Arch != "noarch" {
					return v + "." + p.Arch
				}
				return v
			}
			fallthrough
		case "kernel-default", "kernel-azure", "kernel-kvmsmall", "kernel-preempt":
			// SUSE: kernel-default 5.14.21-150500.55.39.1 boots as
			// 5.14.21-150500.55.39-default (the last release number is
			// the rebuild count, not part of the release).
			if i := strings.LastIndexByte(v, '.'); i > strings.IndexByte(v, '-') {
				v = v[:i]
			}
			return v + "-" + strings.TrimPrefix(p.Name, "kernel-")
		}
	case "apk":
		// linux-lts 6.1.37-r0 boots as 6.1.37-0-lts.
		if flavor, ok := strings.CutPrefix(p.Name, "linux-"); ok && (flavor == "lts" || flavor == "virt" || flavor == "edge" || flavor == "rpi") {
			if ver, r, ok := strings.Cut(p.Version, "-r"); ok {
				return ver + "-" + r + "-" + flavor
			}
		}
	}
	return ""
}

// Flavour returns the kernel flavour of a release: the trailing
// "-"-separated parts that start with a letter ("cloud-amd64" of
// 6.1.0-18-cloud-amd64 and of 6.12.41+deb13-cloud-amd64, "generic",
// "default", "lts"), or for RHEL-family releases, which have none, the
// architecture with any variant ("x86_64", "x86_64+debug", "rt.x86_64").
// A newer kernel of another flavour does not replace the running one at
// reboot, so only kernels of the running flavour are compared.
func Flavour(release string) string {
	parts := strings.Split(release, "-")
	n := len(parts)
	for n > 1 && parts[n-1] != "" && isLetter(parts[n-1][0]) {
		n--
	}
	if n < len(parts) {
		return strings.Join(parts[n:], "-")
	}
	i := strings.LastIndexByte(release, '.')
	if i < 0 {
		return ""
	}
	f := release[i+1:]
	if strings.Contains(release, ".rt") {
		f = "rt." + f
	}
	return f
}

// Newest returns the newest installed kernel of the running kernel's
// flavour; ok is false when none is.
func Newest(installed []host.InstalledKernel, running string) (host.InstalledKernel, bool) {
	want := Flavour(running)
	var best host.InstalledKernel
	found := false
	for _, k := range installed {
		if Flavour(k.Release) != want {
			continue
		}
		if !found || CompareRelease(k.Release, best.Release) > 0 {
			best, found = k, true
		}
	}
	return best, found
}

// CompareRelease orders kernel release strings the way rpm orders versions
// (rpmvercmp), which also orders Debian, Ubuntu and Alpine kernel releases
// correctly: alphanumeric segments are compared in turn, separators
// ignored; numbers compare numerically, letters as strings, and a numeric
// segment is newer than an alphabetic one (4.18.0-477.10.1.el8_8 is newer
// than 4.18.0-477.el8). A release with segments left over is newer. It
// returns -1, 0 or +1.
func CompareRelease(a, b string) int {
	for {
		a = strings.TrimLeftFunc(a, isSep)
		b = strings.TrimLeftFunc(b, isSep)
		if a == "" || b == "" {
			break
		}
		numeric := isDigit(a[0])
		sa, ra := segment(a, numeric)
		sb, rb := segment(b, numeric)
		if sb == "" {
			// b's segment is of the other kind: numbers win.
			if numeric {
				return 1
			}
			return -1
		}
		if numeric {
			sa, sb = strings.TrimLeft(sa, "0"), strings.TrimLeft(sb, "0")
			if c := cmp.Compare(len(sa), len(sb)); c != 0 {
				return c
			}
		}
		if c := strings.Compare(sa, sb); c != 0 {
			return c
		}
		a, b = ra, rb
	}
	return cmp.Compare(len(a), len(b))
}

// segment splits off the leading run of digits (numeric) or letters.
func segment(s string, numeric bool) (seg, rest string) {
	i := 0
	for i < len(s) && (numeric && isDigit(s[i]) || !numeric && isLetter(s[i])) {
		i++
	}
	return s[:i], s[i:]
}

func isSep(r rune) bool    { return !(r < 128 && (isDigit(byte(r)) || isLetter(byte(r)))) }
func isDigit(c byte) bool  { return c >= '0' && c <= '9' }
func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
