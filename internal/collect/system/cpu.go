package system

import (
	"bufio"
	"bytes"
	"errors"
	"io/fs"
	"strconv"
	"strings"

	"github.com/kensa-dev/kensa/internal/collect"
	"github.com/kensa-dev/kensa/internal/host"
	"github.com/kensa-dev/kensa/internal/hostfs"
)

// CPUInfo is what ParseCPUInfo finds in /proc/cpuinfo.
type CPUInfo struct {
	// CPUs counts the processors; NXCPUs those whose x86 "flags" include
	// "nx".
	CPUs, NXCPUs int
	// Arch is the architecture the format reveals, "" when it does not
	// (see ParseCPUInfo).
	Arch string
}

// ParseCPUInfo reads /proc/cpuinfo. Each processor's block starts with a
// "processor" line (x86, arm64, riscv, ppc); s390x states "# processors"
// instead. When no block has a "processor" line, each "flags" line counts
// as one processor.
//
// The architecture is inferred from the format, which each architecture's
// kernel defines:
//
//   - "flags" lines (x86): "x86_64" when they include "lm" (long mode),
//     else "i686". lm is a capability of the CPU: a 32-bit kernel on a
//     64-bit processor would be misreported, which is why the collector
//     prefers proc/sys/kernel/arch when it exists;
//   - "Features" with "asimd" or "CPU architecture: 8" or higher: "aarch64"
//     (the arm64 kernel's format); "Features" otherwise: "arm";
//   - "isa : rv64..." / "rv32...": "riscv64" / "riscv32";
//   - "vendor_id : IBM/S390": "s390x";
//   - "cpu : POWER...": "ppc64le" is not decidable (endianness is not
//     shown), so "ppc64".
func ParseCPUInfo(data []byte) CPUInfo {
	var ci CPUInfo
	var flagsLines, s390 int
	var x86, lm, features, asimd, armv8 bool
	var isa, cpuField, vendor string
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		key, value, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		key = strings.TrimSpace(key)
		value = strings.TrimSpace(value)
		switch key {
		case "processor":
			ci.CPUs++
		case "flags":
			x86 = true
			flagsLines++
			for _, f := range strings.Fields(value) {
				switch f {
				case "nx":
					ci.NXCPUs++
				case "lm":
					lm = true
				}
			}
		case "Features":
			features = true
			for _, f := range strings.Fields(value) {
				if f == "asimd" {
					asimd = true
				}
			}
		case "CPU architecture":
			if n, err := strconv.Atoi(value); err == nil && n >= 8 {
				armv8 = true
			}
		case "isa":
			if isa == "" {
				isa = value
			}
		case "cpu":
			if cpuField == "" {
				cpuField = value
			}
		case "vendor_id":
			if vendor == "" {
				vendor = value
			}
		case "# processors":
			if n, err := strconv.Atoi(value); err == nil && n > 0 {
				s390 = n
			}
		}
	}
	if ci.CPUs == 0 {
		ci.CPUs = max(flagsLines, s390)
	}
	switch {
	case x86 && lm:
		ci.Arch = "x86_64"
	case x86:
		ci.Arch = "i686"
	case features && (asimd || armv8):
		ci.Arch = "aarch64"
	case features:
		ci.Arch = "arm"
	case strings.HasPrefix(isa, "rv64"):
		ci.Arch = "riscv64"
	case strings.HasPrefix(isa, "rv32"):
		ci.Arch = "riscv32"
	case strings.HasPrefix(vendor, "IBM/S390"):
		ci.Arch = "s390x"
	case strings.HasPrefix(cpuField, "POWER"):
		ci.Arch = "ppc64"
	}
	return ci
}

// readCPU fills the CPU facts from proc/ of the scanned root.
func readCPU(env *collect.Env, hasProc bool) *host.CPU {
	where := func(p string) string {
		if env.FS.Live() {
			return p
		}
		return p + " in the scanned root"
	}
	b, err := hostfs.ReadFileLimit(env.FS, "/proc/cpuinfo", cpuinfoLimit)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) && !hasProc {
			return &host.CPU{Source: "not available: image without proc/"}
		}
		if !errors.Is(err, fs.ErrNotExist) {
			env.Errorf("read /proc/cpuinfo: %v", err)
		}
		return &host.CPU{Source: "not available: " + err.Error()}
	}
	ci := ParseCPUInfo(b)
	cpu := &host.CPU{CPUs: ci.CPUs, NXCPUs: ci.NXCPUs, Arch: ci.Arch}
	sources := []string{"/proc/cpuinfo"}
	if a, err := hostfs.ReadFileLimit(env.FS, "/proc/sys/kernel/arch", 256); err == nil {
		if s := strings.TrimSpace(string(a)); s != "" {
			cpu.Arch = s
			sources = append(sources, "/proc/sys/kernel/arch")
		}
	}
	if c, err := hostfs.ReadFileLimit(env.FS, "/proc/cmdline", 64<<10); err == nil {
		cpu.Cmdline = strings.TrimSpace(string(c))
		sources = append(sources, "/proc/cmdline")
	} else if !errors.Is(err, fs.ErrNotExist) {
		env.Errorf("read /proc/cmdline: %v", err)
	}
	cpu.Source = where(strings.Join(sources, ", "))
	return cpu
}
