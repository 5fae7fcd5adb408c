package system_test

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"

	"github.com/kensa-dev/kensa/internal/collect/system"
	"github.com/kensa-dev/kensa/internal/host"
	"github.com/kensa-dev/kensa/internal/testfixture"
)

// cpuinfoX86 is an x86_64 /proc/cpuinfo of n processors, the first nx of
// which have the nx flag.
func cpuinfoX86(n, nx int) string {
	var b strings.Builder
	for i := range n {
		flags := "fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush mmx fxsr sse sse2 ht syscall"
		if i < nx {
			flags += " nx"
		}
		flags += " mmxext fxsr_opt pdpe1gb rdtscp lm constant_tsc rep_good nopl"
		fmt.Fprintf(&b, "processor\t: %d\nvendor_id\t: AuthenticAMD\ncpu family\t: 25\nmodel\t\t: 17\nmodel name\t: AMD EPYC\n"+
			"flags\t\t: %s\nvmx flags\t: vnmi preemption_timer\nbugs\t\t: sysret_ss_attrs spectre_v1\nbogomips\t: 5192.26\n"+
			"address sizes\t: 48 bits physical, 48 bits virtual\npower management:\n\n", i, flags)
	}
	return b.String()
}

// An arm64 kernel's /proc/cpuinfo (Neoverse-N1, as on a Graviton2).
const cpuinfoARM64 = `processor	: 0
BogoMIPS	: 243.75
Features	: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm lrcpc dcpop asimddp ssbs
CPU implementer	: 0x41
CPU architecture: 8
CPU variant	: 0x3
CPU part	: 0xd0c
CPU revision	: 1

processor	: 1
BogoMIPS	: 243.75
Features	: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm lrcpc dcpop asimddp ssbs
CPU implementer	: 0x41
CPU architecture: 8
CPU variant	: 0x3
CPU part	: 0xd0c
CPU revision	: 1

`

// A 32-bit ARM kernel's (Raspberry Pi 2).
const cpuinfoARM = `processor	: 0
model name	: ARMv7 Processor rev 5 (v7l)
BogoMIPS	: 38.40
Features	: half thumb fastmult vfp edsp neon vfpv3 tls vfpv4 idiva idivt vfpd32 lpae evtstrm
CPU implementer	: 0x41
CPU architecture: 7
CPU variant	: 0x0
CPU part	: 0xc07
CPU revision	: 5

Hardware	: BCM2835
Revision	: a01041
`

func TestParseCPUInfo(t *testing.T) {
	for _, c := range []struct {
		name string
		in   string
		want system.CPUInfo
	}{
		{"x86 all nx", cpuinfoX86(4, 4), system.CPUInfo{CPUs: 4, NXCPUs: 4, Arch: "x86_64"}},
		{"x86 one without nx", cpuinfoX86(4, 3), system.CPUInfo{CPUs: 4, NXCPUs: 3, Arch: "x86_64"}},
		{"x86 32-bit cpu", "processor\t: 0\nflags\t\t: fpu vme pae nx\n", system.CPUInfo{CPUs: 1, NXCPUs: 1, Arch: "i686"}},
		{"x86 flags only", "flags : nx lm\nflags : lm\n", system.CPUInfo{CPUs: 2, NXCPUs: 1, Arch: "x86_64"}},
		{"arm64", cpuinfoARM64, system.CPUInfo{CPUs: 2, Arch: "aarch64"}},
		{"arm", cpuinfoARM, system.CPUInfo{CPUs: 1, Arch: "arm"}},
		{"riscv", "processor\t: 0\nhart\t\t: 0\nisa\t\t: rv64imafdc\nmmu\t\t: sv39\n", system.CPUInfo{CPUs: 1, Arch: "riscv64"}},
		{"s390x", "vendor_id       : IBM/S390\n# processors    : 2\nbogomips per cpu: 3033.00\nprocessor 0: version = FF,  identification = 0133E8,  machine = 2964\n", system.CPUInfo{CPUs: 2, Arch: "s390x"}},
		{"ppc64", "processor\t: 0\ncpu\t\t: POWER9 (architected), altivec supported\n", system.CPUInfo{CPUs: 1, Arch: "ppc64"}},
		{"empty", "", system.CPUInfo{}},
		{"garbage", "\x00\xff:::\n:\nprocessor", system.CPUInfo{}},
	} {
		if got := system.ParseCPUInfo([]byte(c.in)); got != c.want {
			t.Errorf("%s: got %+v, want %+v", c.name, got, c.want)
		}
	}
}

func TestCPUCollector(t *testing.T) {
	for _, c := range []struct {
		name, cpuinfo, arch string
		want                host.CPU
	}{
		{"x86 one without nx", cpuinfoX86(2, 1), "", host.CPU{Arch: "x86_64", CPUs: 2, NXCPUs: 1, Cmdline: "ro quiet", Source: "/proc/cpuinfo, /proc/cmdline in the scanned root"}},
		{"arm64 with kernel.arch", cpuinfoARM64, "aarch64\n", host.CPU{Arch: "aarch64", CPUs: 2, Cmdline: "ro quiet", Source: "/proc/cpuinfo, /proc/sys/kernel/arch, /proc/cmdline in the scanned root"}},
		{"kernel.arch wins", cpuinfoX86(1, 1), "i686\n", host.CPU{Arch: "i686", CPUs: 1, NXCPUs: 1, Cmdline: "ro quiet", Source: "/proc/cpuinfo, /proc/sys/kernel/arch, /proc/cmdline in the scanned root"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			root := t.TempDir()
			write(t, root, "proc/cpuinfo", c.cpuinfo, 0o444)
			write(t, root, "proc/cmdline", "ro quiet\n", 0o444)
			mkdir(t, root, "proc/sys/kernel", 0o555)
			if c.arch != "" {
				write(t, root, "proc/sys/kernel/arch", c.arch, 0o444)
			}
			inv := testfixture.Collect(t, root, system.NewSysctl())
			if got := *inv.Config.CPU; got != c.want {
				t.Errorf("got %+v, want %+v", got, c.want)
			}
			if r := run(t, inv, "config/sysctl"); r.Status != host.StatusOK {
				t.Errorf("run = %+v", r)
			}
		})
	}
}

// TestParseCPUInfoLive checks the parser on this machine's /proc/cpuinfo.
func TestParseCPUInfoLive(t *testing.T) {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		t.Skip(err)
	}
	ci := system.ParseCPUInfo(b)
	if want := strings.Count(string(b), "\nprocessor") + map[bool]int{true: 1}[strings.HasPrefix(string(b), "processor")]; ci.CPUs != want {
		t.Errorf("CPUs = %d, want %d", ci.CPUs, want)
	}
	switch runtime.GOARCH {
	case "amd64":
		if ci.Arch != "x86_64" || ci.NXCPUs != ci.CPUs {
			t.Errorf("got %+v on amd64", ci)
		}
	case "arm64":
		if ci.Arch != "aarch64" {
			t.Errorf("got %+v on arm64", ci)
		}
	}
	t.Logf("%+v", ci)
}
