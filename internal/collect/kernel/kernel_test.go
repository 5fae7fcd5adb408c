package kernel

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/kensa-dev/kensa/internal/collect"
	"github.com/kensa-dev/kensa/internal/host"
	"github.com/kensa-dev/kensa/internal/hostfs"
)

func TestInstalled(t *testing.T) {
	pkgs := []host.Package{
		{Manager: "dpkg", Name: "linux-image-amd64", Version: "6.1.119-1"}, // metapackage
		{Manager: "dpkg", Name: "linux-image-6.1.0-28-amd64", Version: "6.1.119-1"},
		{Manager: "dpkg", Name: "linux-image-6.1.0-9-amd64", Version: "6.1.27-1"},
		{Manager: "rpm", Name: "kernel", Version: "4.18.0-477.10.1.el8_8", Arch: "x86_64"},
		{Manager: "rpm", Name: "kernel-core", Version: "4.18.0-477.10.1.el8_8", Arch: "x86_64"},
		{Manager: "rpm", Name: "kernel-core", Version: "4.18.0-513.5.1.el8_9", Arch: "x86_64"},
		{Manager: "apk", Name: "linux-lts", Version: "6.1.37-r0"},
		{Manager: "dpkg", Name: "linux-headers-6.1.0-28-amd64", Version: "6.1.119-1"},
	}
	got := Installed(pkgs)
	want := []host.InstalledKernel{
		{Package: "kernel-core", Version: "4.18.0-477.10.1.el8_8", Release: "4.18.0-477.10.1.el8_8.x86_64"},
		{Package: "kernel-core", Version: "4.18.0-513.5.1.el8_9", Release: "4.18.0-513.5.1.el8_9.x86_64"},
		{Package: "linux-image-6.1.0-9-amd64", Version: "6.1.27-1", Release: "6.1.0-9-amd64"},
		{Package: "linux-image-6.1.0-28-amd64", Version: "6.1.119-1", Release: "6.1.0-28-amd64"},
		{Package: "linux-lts", Version: "6.1.37-r0", Release: "6.1.37-0-lts"},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}

func TestCompareRelease(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want int
	}{
		{"6.1.0-9-amd64", "6.1.0-28-amd64", -1},
		{"5.15.0-91-generic", "5.15.0-91-generic", 0},
		{"4.18.0-513.5.1.el8_9.x86_64", "4.18.0-477.10.1.el8_8.x86_64", 1},
		{"6.10.0", "6.9.12", 1},
		{"6.1", "6.1.0", -1},
		// rpm: a numeric segment is newer than a letter one.
		{"4.18.0-477.10.1.el8_8.x86_64", "4.18.0-477.el8.x86_64", 1},
		{"5.14.0-362.el9.x86_64", "5.14.0-362.8.1.el9_3.x86_64", -1},
		{"5.14.21-150500.55.39-default", "5.14.21-150500.55.7-default", 1},
	} {
		if got := CompareRelease(c.a, c.b); got != c.want {
			t.Errorf("CompareRelease(%q, %q) = %d, want %d", c.a, c.b, got, c.want)
		}
	}
}

func run(t *testing.T, root string, pkgs []host.Package) (*host.Kernel, host.CollectorRun) {
	t.Helper()
	fsys, err := hostfs.Open(root)
	if err != nil {
		t.Fatal(err)
	}
	inject := injector(pkgs)
	inv := collect.Run(context.Background(), &collect.Env{FS: fsys}, []collect.Collector{inject, New()}, nil)
	return inv.Kernel, inv.Collectors[1]
}

// injector is a collector that adds packages, standing in for dpkg.
type injector []host.Package

func (injector) Name() string { return "test/inject" }
func (i injector) Collect(_ context.Context, _ *collect.Env, inv *host.Inventory) error {
	inv.Packages = append(inv.Packages, i...)
	return nil
}

func TestImageWithoutProcHasNoRunningKernel(t *testing.T) {
	k, r := run(t, t.TempDir(), []host.Package{{Manager: "dpkg", Name: "linux-image-6.1.0-28-amd64", Version: "6.1.119-1"}})
	if r.Status != host.StatusOK || k.Running != "" || !strings.HasPrefix(k.RunningSource, "not available") || k.RebootRequired {
		t.Fatalf("kernel %+v run %+v", k, r)
	}
}

func TestImageProcIsUsedNotTheScanningMachine(t *testing.T) {
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "proc/sys/kernel"), 0o755)
	os.WriteFile(filepath.Join(root, "proc/sys/kernel/osrelease"), []byte("6.1.0-9-amd64\n"), 0o644)
	k, _ := run(t, root, []host.Package{
		{Manager: "dpkg", Name: "linux-image-6.1.0-9-amd64", Version: "6.1.27-1"},
		{Manager: "dpkg", Name: "linux-image-6.1.0-28-amd64", Version: "6.1.119-1"},
	})
	if k.Running != "6.1.0-9-amd64" {
		t.Fatalf("running = %q", k.Running)
	}
	if !k.RebootRequired || !strings.Contains(k.RebootReason, "6.1.0-28-amd64") {
		t.Fatalf("reboot not detected: %+v", k)
	}
}

func TestLiveHost(t *testing.T) {
	b, err := os.ReadFile("/proc/sys/kernel/osrelease")
	if err != nil {
		t.Skip("no /proc")
	}
	k, _ := run(t, "/", nil)
	if k.Running != strings.TrimSpace(string(b)) {
		t.Fatalf("running = %q, want %q", k.Running, b)
	}
}

func TestFlavourAndNewest(t *testing.T) {
	for rel, want := range map[string]string{
		"6.1.0-18-cloud-amd64":                 "cloud-amd64",
		"6.1.0-18-amd64":                       "amd64",
		"5.15.0-91-generic":                    "generic",
		"5.15.0-91-lowlatency":                 "lowlatency",
		"5.14.21-150500.55.39-default":         "default",
		"6.1.37-0-lts":                         "lts",
		"4.18.0-477.10.1.el8_8.x86_64":         "x86_64",
		"5.14.0-362.8.1.el9_3.x86_64":          "x86_64",
		"5.14.0-362.8.1.rt14.343.el9_3.x86_64": "rt.x86_64",
		"6.12.41+deb13-amd64":                  "amd64",
		"6.12.41+deb13-cloud-amd64":            "cloud-amd64",
		"6.5.0-0.deb12.4-amd64":                "amd64",
		"6.12.12+bpo-amd64":                    "amd64",
	} {
		if got := Flavour(rel); got != want {
			t.Errorf("Flavour(%s) = %q, want %q", rel, got, want)
		}
	}
	installed := Installed([]host.Package{
		{Manager: "dpkg", Name: "linux-image-6.1.0-18-amd64", Version: "6.1.76-1"},
		{Manager: "dpkg", Name: "linux-image-6.1.0-21-cloud-amd64", Version: "6.1.90-1"},
		{Manager: "dpkg", Name: "linux-image-6.1.0-21-amd64-dbg", Version: "6.1.90-1"},
		{Manager: "dpkg", Name: "linux-image-6.1.0-20-amd64-unsigned", Version: "6.1.85-1"},
	})
	// The cloud kernel and the debug symbols do not replace the running
	// amd64 kernel; the unsigned 6.1.0-20 image does.
	n, ok := Newest(installed, "6.1.0-18-amd64")
	if !ok || n.Release != "6.1.0-20-amd64" {
		t.Fatalf("Newest = %+v %v", n, ok)
	}
	// RHEL: the GA kernel and its update installed, the update running.
	rhel := Installed([]host.Package{
		{Manager: "rpm", Name: "kernel-core", Version: "5.14.0-362.el9", Arch: "x86_64"},
		{Manager: "rpm", Name: "kernel-core", Version: "5.14.0-362.8.1.el9_3", Arch: "x86_64"},
	})
	if n, _ := Newest(rhel, "5.14.0-362.8.1.el9_3.x86_64"); CompareRelease(n.Release, "5.14.0-362.8.1.el9_3.x86_64") != 0 {
		t.Errorf("RHEL newest = %+v: a reboot would be reported falsely", n)
	}
	// Debian 13: 6.12.41+deb13-amd64 and a newer 6.12.43+deb13-amd64.
	if n, ok := Newest(Installed([]host.Package{{Manager: "dpkg", Name: "linux-image-6.12.43+deb13-amd64", Version: "6.12.43-1"}}), "6.12.41+deb13-amd64"); !ok || n.Release != "6.12.43+deb13-amd64" {
		t.Errorf("Debian 13 newest = %+v %v", n, ok)
	}
	// RHEL 7 real-time kernel: not a SUSE name.
	if rt := Installed([]host.Package{{Manager: "rpm", Name: "kernel-rt", Version: "3.10.0-1160.rt56.1131.el7", Arch: "x86_64"}}); len(rt) != 1 || rt[0].Release != "3.10.0-1160.rt56.1131.el7.x86_64" {
		t.Errorf("RHEL 7 rt = %+v", rt)
	}
	// SUSE: kernel-default boots with the rebuild count dropped.
	suse := Installed([]host.Package{{Manager: "rpm", Name: "kernel-default", Version: "5.14.21-150500.55.39.1", Arch: "x86_64"}})
	if len(suse) != 1 || suse[0].Release != "5.14.21-150500.55.39-default" {
		t.Errorf("SUSE = %+v", suse)
	}
}
