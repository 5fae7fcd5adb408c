// Package kernel reports the running kernel and the kernels installed, and
// whether a reboot is pending because a newer kernel is installed than runs.
//
// The running kernel is a live fact: it is read from proc/ of the scanned
// root only. For an image without proc/ it is "not available", never the
// kernel of the machine doing the scan.
package kernel

import (
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
	if k.Running != "" && len(k.Installed) > 0 {
		newest := k.Installed[len(k.Installed)-1]
		if CompareRelease(newest.Release, k.Running) > 0 {
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
		rel := ""
		switch p.Manager {
		case "dpkg":
			// linux-image-6.1.0-18-amd64; not the linux-image-amd64
			// metapackage, whose name holds no release.
			n := strings.TrimPrefix(p.Name, "linux-image-")
			n = strings.TrimPrefix(n, "unsigned-")
			if n != p.Name && n != "" && n[0] >= '0' && n[0] <= '9' {
				rel = n
			}
		case "rpm":
			// kernel-core-4.18.0-477.10.1.el8_8.x86_64 boots as
			// 4.18.0-477.10.1.el8_8.x86_64 (RHEL 8+); RHEL 7 and Amazon
			// Linux ship the image in "kernel".
			switch p.Name {
			case "kernel", "kernel-core", "kernel-uek", "kernel-uek-core", "kernel-rt-core", "kernel-default":
				v := p.Version
				if i := strings.IndexByte(v, ':'); i >= 0 {
					v = v[i+1:]
				}
				rel = v
				if p.Arch != "" && p.Arch != "noarch" {
					rel += "." + p.Arch
				}
			}
		case "apk":
			// linux-lts 6.1.37-r0 boots as 6.1.37-0-lts.
			if flavor, ok := strings.CutPrefix(p.Name, "linux-"); ok && (flavor == "lts" || flavor == "virt" || flavor == "edge" || flavor == "rpi") {
				if ver, r, ok := strings.Cut(p.Version, "-r"); ok {
					rel = ver + "-" + r + "-" + flavor
				}
			}
		}
		if rel != "" {
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

// CompareRelease orders kernel release strings: runs of digits compare as
// numbers, everything else byte-wise. It returns -1, 0 or +1.
func CompareRelease(a, b string) int {
	for a != "" && b != "" {
		da, ra := splitRun(a)
		db, rb := splitRun(b)
		if isDigit(da[0]) && isDigit(db[0]) {
			da, db = strings.TrimLeft(da, "0"), strings.TrimLeft(db, "0")
			if len(da) != len(db) {
				return sign(len(da) - len(db))
			}
		}
		if c := strings.Compare(da, db); c != 0 {
			return c
		}
		a, b = ra, rb
	}
	return sign(len(a) - len(b))
}

func splitRun(s string) (run, rest string) {
	d := isDigit(s[0])
	i := 1
	for i < len(s) && isDigit(s[i]) == d {
		i++
	}
	return s[:i], s[i:]
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func sign(n int) int {
	switch {
	case n < 0:
		return -1
	case n > 0:
		return 1
	}
	return 0
}
