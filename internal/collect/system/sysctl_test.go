package system_test

import (
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/goccy/go-yaml"
	"github.com/google/go-cmp/cmp"

	"github.com/kensa-dev/kensa/internal/collect/system"
	"github.com/kensa-dev/kensa/internal/host"
	"github.com/kensa-dev/kensa/internal/testfixture"
)

func values(m map[string]host.Setting) map[string]string {
	out := map[string]string{}
	for k, s := range m {
		out[k] = s.Value
	}
	return out
}

func TestSysctlPrecedenceFixture(t *testing.T) {
	dir := testfixture.Shared(t, "fixtures", "config", "synthetic", "sysctl-precedence")
	b, err := os.ReadFile(filepath.Join(dir, "expected.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var want map[string]string
	if err := yaml.Unmarshal(b, &want); err != nil {
		t.Fatal(err)
	}
	inv := testfixture.Collect(t, dir, system.NewSysctl())
	r := run(t, inv, "config/sysctl")
	if r.Status != host.StatusOK {
		t.Fatalf("status %s %s %v", r.Status, r.Reason, r.Errors)
	}
	sc := inv.Config.Sysctl
	if diff := cmp.Diff(want, values(sc.Persisted)); diff != "" {
		t.Errorf("persisted (-expected.yaml +got):\n%s", diff)
	}
	for key, file := range map[string]string{
		"net.ipv4.ip_forward":         "/usr/lib/sysctl.d/99-container-runtime.conf",
		"kernel.randomize_va_space":   "/etc/sysctl.d/60-cis.conf",
		"net.ipv4.conf.all.rp_filter": "/run/sysctl.d/70-misc.conf",
	} {
		if got := sc.Persisted[key].File; got != file {
			t.Errorf("%s from %s, want %s", key, got, file)
		}
	}
	if l := sc.Persisted["net.ipv4.conf.all.rp_filter"].Line; l != 3 {
		t.Errorf("rp_filter line %d, want 3", l)
	}
	if sc.Running != nil {
		t.Errorf("running values from an image without proc/: %v", sc.Running)
	}
	if cpu := inv.Config.CPU; cpu == nil || cpu.Source != "not available: image without proc/" || cpu.CPUs != 0 {
		t.Errorf("CPU = %+v", cpu)
	}
}

func TestSysctlDebian12Fixture(t *testing.T) {
	dir := testfixture.Shared(t, "fixtures", "config", "debian12")
	inv := testfixture.Collect(t, dir, system.NewSysctl())
	want := map[string]string{
		"kernel.pid_max":         "4194304",
		"fs.protected_fifos":     "1",
		"fs.protected_hardlinks": "1",
		"fs.protected_regular":   "2",
		"fs.protected_symlinks":  "1",
	}
	sc := inv.Config.Sysctl
	if diff := cmp.Diff(want, values(sc.Persisted)); diff != "" {
		t.Errorf("persisted (-want +got):\n%s", diff)
	}
	if s := sc.Persisted["fs.protected_regular"]; s.File != "/usr/lib/sysctl.d/99-protect-links.conf" || s.Line != 9 {
		t.Errorf("fs.protected_regular = %+v", s)
	}
	if r := run(t, inv, "config/sysctl"); r.Status != host.StatusOK {
		t.Errorf("status %s %v", r.Status, r.Errors)
	}
}

func TestSysctlHardenedFixture(t *testing.T) {
	dir := testfixture.Shared(t, "fixtures", "config", "synthetic", "debian12-hardened")
	inv := testfixture.Collect(t, dir, system.NewSysctl())
	got := values(inv.Config.Sysctl.Persisted)
	keys := make([]string, 0, len(got))
	for k := range got {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	want := slices.Sorted(slices.Values(system.DefaultSysctlKeys))
	if diff := cmp.Diff(want, keys); diff != "" {
		t.Errorf("the hardened fixture sets the CIS keys; DefaultSysctlKeys differ (-default +fixture):\n%s", diff)
	}
}

// TestSysctlOrder checks what the shared fixture does not: /etc/sysctl.conf
// last, /lib/sysctl.d, /usr/local/lib/sysctl.d, masking by a link to
// /dev/null, Debian's 99-sysctl.conf link, dot files, running values.
func TestSysctlOrder(t *testing.T) {
	root := t.TempDir()
	write(t, root, "etc/sysctl.conf", "kernel.randomize_va_space = 1\n", 0o644)
	write(t, root, "etc/sysctl.d/99-z-late.conf", "kernel.randomize_va_space = 0\nnet.ipv4.tcp_syncookies = 0\n", 0o644)
	symlink(t, root, "etc/sysctl.d/99-sysctl.conf", "../sysctl.conf")
	symlink(t, root, "etc/sysctl.d/50-masked.conf", "/dev/null")
	write(t, root, "usr/lib/sysctl.d/50-masked.conf", "fs.suid_dumpable = 2\n", 0o644)
	write(t, root, "lib/sysctl.d/10-lib.conf", "net.ipv4.tcp_syncookies = 1\nfs.suid_dumpable = 1\n", 0o644)
	write(t, root, "usr/lib/sysctl.d/10-lib.conf", "fs.suid_dumpable = 9\n", 0o644) // masks /lib's
	write(t, root, "usr/local/lib/sysctl.d/20-local.conf", "net.ipv4.ip_forward = 1\n", 0o644)
	write(t, root, "etc/sysctl.d/.hidden.conf", "net.ipv4.ip_forward = 7\n", 0o644)
	write(t, root, "etc/sysctl.d/README", "net.ipv4.ip_forward = 8\n", 0o644)
	write(t, root, "run/sysctl.d/30-slash.conf", "net/ipv4/conf/eth0.100/rp_filter = 2\nkernel/yama/ptrace_scope = 1\n", 0o644)

	write(t, root, "proc/sys/kernel/randomize_va_space", "2\n", 0o444)
	write(t, root, "proc/sys/kernel/yama/ptrace_scope", "1\n", 0o444)
	write(t, root, "proc/sys/net/ipv4/tcp_rmem", "4096\t131072\t6291456\n", 0o444)
	write(t, root, "proc/sys/net/ipv4/conf/eth0.100/rp_filter", "2\n", 0o444)
	write(t, root, "proc/sys/vm/stat_refresh", "0\n", 0o444)
	write(t, root, "proc/cpuinfo", cpuinfoX86(2, 2), 0o444)
	write(t, root, "proc/cmdline", "BOOT_IMAGE=/vmlinuz root=/dev/sda1 ro noexec=off\n", 0o444)

	inv := testfixture.Collect(t, root, system.NewSysctl().WithKeys("net/ipv4/tcp_rmem", "vm.stat_refresh", "vm.absent"))
	r := run(t, inv, "config/sysctl")
	if r.Status != host.StatusOK {
		t.Fatalf("status %s %s %v", r.Status, r.Reason, r.Errors)
	}
	sc := inv.Config.Sysctl
	want := map[string]host.Setting{
		"kernel.randomize_va_space":        {Value: "1", File: "/etc/sysctl.conf", Line: 1},
		"net.ipv4.tcp_syncookies":          {Value: "0", File: "/etc/sysctl.d/99-z-late.conf", Line: 2},
		"fs.suid_dumpable":                 {Value: "9", File: "/usr/lib/sysctl.d/10-lib.conf", Line: 1},
		"net.ipv4.ip_forward":              {Value: "1", File: "/usr/local/lib/sysctl.d/20-local.conf", Line: 1},
		"net.ipv4.conf.eth0/100.rp_filter": {Value: "2", File: "/run/sysctl.d/30-slash.conf", Line: 1},
		"kernel.yama.ptrace_scope":         {Value: "1", File: "/run/sysctl.d/30-slash.conf", Line: 2},
	}
	if diff := cmp.Diff(want, sc.Persisted); diff != "" {
		t.Errorf("persisted (-want +got):\n%s", diff)
	}
	wantRunning := map[string]string{
		"kernel.randomize_va_space":        "2",
		"kernel.yama.ptrace_scope":         "1",
		"net.ipv4.tcp_rmem":                "4096 131072 6291456",
		"net.ipv4.conf.eth0/100.rp_filter": "2",
	}
	if diff := cmp.Diff(wantRunning, sc.Running); diff != "" {
		t.Errorf("running (-want +got):\n%s", diff)
	}
	cpu := inv.Config.CPU
	if cpu.CPUs != 2 || cpu.NXCPUs != 2 || cpu.Arch != "x86_64" || !strings.Contains(cpu.Cmdline, "noexec=off") {
		t.Errorf("CPU = %+v", cpu)
	}
	if cpu.Source != "/proc/cpuinfo, /proc/cmdline in the scanned root" {
		t.Errorf("CPU source %q", cpu.Source)
	}
}

func TestSysctlNothing(t *testing.T) {
	root := t.TempDir()
	mkdir(t, root, "etc", 0o755)
	inv := testfixture.Collect(t, root, system.NewSysctl())
	r := run(t, inv, "config/sysctl")
	if r.Status != host.StatusSkipped || !strings.Contains(r.Reason, "no proc/") {
		t.Errorf("run = %+v", r)
	}
	if inv.Config == nil || inv.Config.Sysctl == nil || inv.Config.Sysctl.Persisted == nil || inv.Config.Sysctl.Running != nil {
		t.Errorf("config = %+v", inv.Config)
	}
}

// TestSysctlHostile runs on a root built to hurt: sysctl.d a link out of
// the root, a file over the cap, a FIFO, a link loop, a /proc/sys value
// that is a link out of proc, keys that climb out of /proc/sys.
func TestSysctlHostile(t *testing.T) {
	outside := t.TempDir()
	write(t, outside, "evil.conf", "kernel.randomize_va_space = 0\n", 0o644)
	write(t, outside, "secret", "s3cret\n", 0o644)
	write(t, outside, "sysctl.d/evil.conf", "net.ipv4.ip_forward = 1\n", 0o644)

	root := t.TempDir()
	symlink(t, root, "etc/sysctl.d", outside)                                           // absolute: restarts at the root
	symlink(t, root, "run/sysctl.d", strings.Repeat("../", 20)+outside[1:]+"/sysctl.d") // climbs: stops at the root
	write(t, root, "usr/lib/sysctl.d/00-huge.conf", strings.Repeat("# padding padding\n", system.FileLimit/18+10), 0o644)
	if err := syscall.Mkfifo(filepath.Join(root, "usr/lib/sysctl.d/10-fifo.conf"), 0o644); err != nil {
		t.Fatal(err)
	}
	write(t, root, "lib/sysctl.d/10-fifo.conf", "kernel.pid_max = 1234\n", 0o644) // a FIFO masks nothing
	symlink(t, root, "usr/lib/sysctl.d/20-loop.conf", "20-loop.conf")
	symlink(t, root, "usr/lib/sysctl.d/21-fifo-link.conf", "10-fifo.conf")
	mkdir(t, root, "usr/lib/sysctl.d/22-dir.conf", 0o755)
	write(t, root, "usr/lib/sysctl.d/30-climb.conf",
		"kernel/../../../../secret = 1\nnet.ipv4.ip_forward = 0\nkernel.*.x = 1\n\x00\xff\xfe = \n", 0o644)
	if err := syscall.Mkfifo(filepath.Join(root, "etc-sysctl.conf.fifo"), 0o644); err != nil {
		t.Fatal(err)
	}
	mkdir(t, root, "etc", 0o755)
	symlink(t, root, "etc/sysctl.conf", "/etc-sysctl.conf.fifo")
	mkdir(t, root, "proc/sys/kernel", 0o755)
	symlink(t, root, "proc/sys/kernel/randomize_va_space", "/secret")
	write(t, root, "secret", "42\n", 0o644)
	if err := syscall.Mkfifo(filepath.Join(root, "proc/sys/kernel/yama"), 0o644); err != nil {
		t.Fatal(err)
	}
	write(t, root, "proc/sys/net/ipv4/ip_forward", strings.Repeat("1", 100<<10), 0o444)
	symlink(t, root, "proc/cpuinfo", "cpuinfo")

	inv := testfixture.Collect(t, root, system.NewSysctl())
	r := run(t, inv, "config/sysctl")
	if r.Status != host.StatusPartial {
		t.Fatalf("status %s %s %v", r.Status, r.Reason, r.Errors)
	}
	sc := inv.Config.Sysctl
	want := map[string]string{
		"kernel.pid_max":      "1234",
		"net.ipv4.ip_forward": "0",
		"kernel.*.x":          "1",
		// The climbing key is kept as written (normalised): it is data,
		// and it is never read from proc.
		"kernel.//.//.//.//.secret": "1",
		// The last line ends at its NUL: empty, nothing.
	}
	if diff := cmp.Diff(want, values(sc.Persisted)); diff != "" {
		t.Errorf("persisted (-want +got):\n%s", diff)
	}
	if len(sc.Running) != 0 {
		t.Errorf("running = %v", sc.Running)
	}
	for _, parts := range [][]string{
		{"00-huge.conf", "exceeds the read limit"},
		{"10-fifo.conf", "not a regular file"},
		{"20-loop.conf", "too many levels"},
		{"21-fifo-link.conf"},
		{"22-dir.conf"},
		{"/etc/sysctl.conf", "not a regular file"},
		{"randomize_va_space", "leads out of /proc/sys"},
		{"ip_forward", "exceeds the read limit"},
		{"/proc/cpuinfo", "too many levels"},
	} {
		if !hasError(r, parts...) {
			t.Errorf("no error with %q in %q", parts, r.Errors)
		}
	}
	if inv.Config.CPU == nil || !strings.HasPrefix(inv.Config.CPU.Source, "not available: ") {
		t.Errorf("CPU = %+v", inv.Config.CPU)
	}
}

func TestSysctlLive(t *testing.T) {
	if _, err := os.Stat("/proc/sys/kernel/randomize_va_space"); err != nil {
		t.Skip("no /proc/sys here")
	}
	inv := testfixture.Collect(t, "/", system.NewSysctl())
	r := run(t, inv, "config/sysctl")
	if r.Status == host.StatusFailed || r.Status == host.StatusSkipped {
		t.Fatalf("run = %+v", r)
	}
	sc := inv.Config.Sysctl
	b, _ := os.ReadFile("/proc/sys/kernel/randomize_va_space")
	if got := sc.Running["kernel.randomize_va_space"]; got != strings.TrimSpace(string(b)) {
		t.Errorf("randomize_va_space = %q, want %q", got, b)
	}
	cpu := inv.Config.CPU
	if cpu.CPUs < 1 || cpu.NXCPUs > cpu.CPUs || cpu.Cmdline == "" || cpu.Source != "/proc/cpuinfo, /proc/sys/kernel/arch, /proc/cmdline" && cpu.Source != "/proc/cpuinfo, /proc/cmdline" {
		t.Errorf("CPU = %+v", cpu)
	}
	if runtime.GOARCH == "amd64" && (cpu.Arch != "x86_64" || cpu.NXCPUs != cpu.CPUs) {
		t.Errorf("x86_64 host: CPU = %+v", cpu)
	}
	t.Logf("live: %d running, %d persisted, CPU %+v, errors %v", len(sc.Running), len(sc.Persisted), *cpu, r.Errors)
}
