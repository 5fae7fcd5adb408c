package mounts_test

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kensa-dev/kensa/internal/collect/mounts"
	"github.com/kensa-dev/kensa/internal/host"
	"github.com/kensa-dev/kensa/internal/testfixture"
)

func write(t *testing.T, root, rel, content string) {
	t.Helper()
	p := filepath.Join(root, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func symlink(t *testing.T, root, rel, target string) {
	t.Helper()
	p := filepath.Join(root, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, p); err != nil {
		t.Fatal(err)
	}
}

func collectRoot(t *testing.T, root string) (*host.Inventory, host.CollectorRun) {
	t.Helper()
	inv := testfixture.Collect(t, root, mounts.New())
	if len(inv.Collectors) != 1 {
		t.Fatalf("runs %+v", inv.Collectors)
	}
	return inv, inv.Collectors[0]
}

const procMounts = `sysfs /sys sysfs rw,nosuid,nodev,noexec,relatime 0 0
/dev/sda1 / ext4 rw,relatime,errors=remount-ro 0 0
tmpfs /tmp tmpfs rw,nosuid,nodev,size=1048576k 0 0
/dev/sdb1 /mnt/my\040disk ext4 rw,nosuid 0 0
/dev/sdb2 /mnt/back\134slash\011tab vfat rw 0 0
`

const fstab = `# /etc/fstab: static file system information.
#
# <file system> <mount point>   <type>  <options>       <dump>  <pass>
UUID=0a1b2c3d-1111-2222-3333-444455556666 /               ext4    errors=remount-ro 0       1

LABEL=home	/home	ext4	defaults,nodev,nosuid	0	2
   # an indented comment
/dev/sdc1 /srv/with\040space xfs noauto
tmpfs /tmp tmpfs
/swapfile none swap sw 0 0
`

func TestLiveAndFstab(t *testing.T) {
	root := t.TempDir()
	write(t, root, "proc/mounts", procMounts)
	write(t, root, "etc/fstab", fstab)
	inv, run := collectRoot(t, root)
	if run.Status != host.StatusOK {
		t.Fatalf("run %+v", run)
	}
	m := inv.Config.Mounts
	wantLive := []host.Mount{
		{Device: "sysfs", MountPoint: "/sys", FSType: "sysfs", Options: []string{"rw", "nosuid", "nodev", "noexec", "relatime"}, File: "/proc/mounts", Line: 1},
		{Device: "/dev/sda1", MountPoint: "/", FSType: "ext4", Options: []string{"rw", "relatime", "errors=remount-ro"}, File: "/proc/mounts", Line: 2},
		{Device: "tmpfs", MountPoint: "/tmp", FSType: "tmpfs", Options: []string{"rw", "nosuid", "nodev", "size=1048576k"}, File: "/proc/mounts", Line: 3},
		{Device: "/dev/sdb1", MountPoint: "/mnt/my disk", FSType: "ext4", Options: []string{"rw", "nosuid"}, File: "/proc/mounts", Line: 4},
		{Device: "/dev/sdb2", MountPoint: "/mnt/back\\slash\ttab", FSType: "vfat", Options: []string{"rw"}, File: "/proc/mounts", Line: 5},
	}
	if d := cmp.Diff(wantLive, m.Live); d != "" {
		t.Errorf("live (-want +got):\n%s", d)
	}
	wantFstab := []host.Mount{
		{Device: "UUID=0a1b2c3d-1111-2222-3333-444455556666", MountPoint: "/", FSType: "ext4", Options: []string{"errors=remount-ro"}, File: "/etc/fstab", Line: 4},
		{Device: "LABEL=home", MountPoint: "/home", FSType: "ext4", Options: []string{"defaults", "nodev", "nosuid"}, File: "/etc/fstab", Line: 6},
		{Device: "/dev/sdc1", MountPoint: "/srv/with space", FSType: "xfs", Options: []string{"noauto"}, File: "/etc/fstab", Line: 8},
		{Device: "tmpfs", MountPoint: "/tmp", FSType: "tmpfs", Options: []string{"defaults"}, File: "/etc/fstab", Line: 9},
		{Device: "/swapfile", MountPoint: "none", FSType: "swap", Options: []string{"sw"}, File: "/etc/fstab", Line: 10},
	}
	if d := cmp.Diff(wantFstab, m.Fstab); d != "" {
		t.Errorf("fstab (-want +got):\n%s", d)
	}
	if !strings.Contains(m.Source, "/proc/mounts") || !strings.Contains(m.Source, "/etc/fstab") {
		t.Errorf("source %q", m.Source)
	}
}

func TestImageHasNoLiveMounts(t *testing.T) {
	root := t.TempDir()
	write(t, root, "etc/fstab", fstab)
	inv, run := collectRoot(t, root)
	if run.Status != host.StatusOK {
		t.Fatalf("run %+v", run)
	}
	if inv.Config.Mounts.Live != nil {
		t.Errorf("live %+v, want nil for an image", inv.Config.Mounts.Live)
	}
	if len(inv.Config.Mounts.Fstab) != 5 || !inv.Config.Mounts.FstabFound {
		t.Errorf("fstab %+v", inv.Config.Mounts.Fstab)
	}
}

func TestSelfMountsFallback(t *testing.T) {
	root := t.TempDir()
	write(t, root, "proc/1/mounts", "tmpfs /dev/shm tmpfs rw,nosuid,nodev 0 0\n")
	symlink(t, root, "proc/self", "1")
	inv, run := collectRoot(t, root)
	if run.Status != host.StatusOK {
		t.Fatalf("run %+v", run)
	}
	m := inv.Config.Mounts
	if len(m.Live) != 1 || m.Live[0].MountPoint != "/dev/shm" || m.Live[0].File != "/proc/self/mounts" {
		t.Errorf("live %+v", m.Live)
	}
	if m.Fstab != nil {
		t.Errorf("fstab %+v", m.Fstab)
	}
}

func TestNothingToRead(t *testing.T) {
	_, run := collectRoot(t, t.TempDir())
	if run.Status != host.StatusSkipped {
		t.Errorf("run %+v, want skipped", run)
	}
}

func TestHostileRoot(t *testing.T) {
	outside := t.TempDir()
	write(t, outside, "secret", "/dev/evil /tmp tmpfs rw,nosuid,nodev,noexec 0 0\n")

	t.Run("links out", func(t *testing.T) {
		root := t.TempDir()
		// An absolute target restarts at the root: the host's file is never read.
		symlink(t, root, "etc/fstab", filepath.Join(outside, "secret"))
		symlink(t, root, "proc/mounts", "../../../../../../../"+filepath.Join(outside, "secret"))
		inv, run := collectRoot(t, root)
		if inv.Config != nil && inv.Config.Mounts != nil {
			for _, m := range append(inv.Config.Mounts.Live, inv.Config.Mounts.Fstab...) {
				if m.Device == "/dev/evil" {
					t.Fatalf("read a file outside the root: %+v", m)
				}
			}
		}
		_ = run
	})

	t.Run("link to another file of the image", func(t *testing.T) {
		root := t.TempDir()
		write(t, root, "etc/secret", "/dev/evil /tmp tmpfs rw 0 0\n")
		symlink(t, root, "proc/mounts", "/etc/secret")
		inv, run := collectRoot(t, root)
		if inv.Config != nil && inv.Config.Mounts != nil && inv.Config.Mounts.Live != nil {
			t.Errorf("live %+v, want none (proc/mounts leads out of /proc)", inv.Config.Mounts.Live)
		}
		if run.Status == host.StatusOK || !strings.Contains(strings.Join(run.Errors, "\n"), "leads out of /proc") {
			t.Errorf("run %+v", run)
		}
	})

	t.Run("fifo", func(t *testing.T) {
		root := t.TempDir()
		if err := os.MkdirAll(filepath.Join(root, "etc"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := syscall.Mkfifo(filepath.Join(root, "etc", "fstab"), 0o644); err != nil {
			t.Skip("mkfifo:", err)
		}
		write(t, root, "proc/mounts", "tmpfs /tmp tmpfs rw 0 0\n")
		inv, run := collectRoot(t, root)
		if run.Status != host.StatusPartial || !strings.Contains(strings.Join(run.Errors, "\n"), "not a regular file") {
			t.Errorf("run %+v", run)
		}
		if len(inv.Config.Mounts.Live) != 1 || inv.Config.Mounts.Fstab != nil {
			t.Errorf("mounts %+v", inv.Config.Mounts)
		}
	})

	t.Run("huge file", func(t *testing.T) {
		root := t.TempDir()
		p := filepath.Join(root, "etc", "fstab")
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		f, err := os.Create(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.Truncate(mounts.FileLimit + 1); err != nil {
			t.Fatal(err)
		}
		f.Close()
		inv, run := collectRoot(t, root)
		if run.Status != host.StatusPartial || !strings.Contains(strings.Join(run.Errors, "\n"), "exceeds the read limit") {
			t.Errorf("run %+v", run)
		}
		if inv.Config.Mounts.Fstab != nil {
			t.Errorf("fstab %+v", inv.Config.Mounts.Fstab)
		}
	})

	t.Run("link loop", func(t *testing.T) {
		root := t.TempDir()
		symlink(t, root, "etc/fstab", "fstab2")
		symlink(t, root, "etc/fstab2", "fstab")
		_, run := collectRoot(t, root)
		if run.Status == host.StatusFailed {
			t.Errorf("run %+v", run)
		}
	})

	t.Run("garbage", func(t *testing.T) {
		root := t.TempDir()
		write(t, root, "proc/mounts", "one two\n\x00\xff\\\\777 /x y z\n")
		write(t, root, "etc/fstab", "onlyone\n\\ \\0 \\01\n")
		inv, run := collectRoot(t, root)
		if run.Status != host.StatusPartial {
			t.Errorf("run %+v", run)
		}
		if len(inv.Config.Mounts.Live) != 1 || len(inv.Config.Mounts.Fstab) != 1 {
			t.Errorf("mounts %+v", inv.Config.Mounts)
		}
	})
}

func TestUnescape(t *testing.T) {
	for in, want := range map[string]string{
		`plain`:        "plain",
		`a\040b`:       "a b",
		`a\011b\012c`:  "a\tb\nc",
		`back\134`:     `back\`,
		`trailing\04`:  `trailing\04`,
		`not\8bc`:      `not\8bc`,
		`\040\040`:     "  ",
		`big\777octal`: "big\\777octal",
	} {
		if got := mounts.Unescape(in); got != want {
			t.Errorf("Unescape(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(procMounts))
	f.Add([]byte(fstab))
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, m := range mounts.ParseMounts(b, "x", func(string, ...any) {}) {
			if m.Options == nil {
				t.Fatal("nil options")
			}
		}
		mounts.ParseFstab(b, "x", func(string, ...any) {})
	})
}

// debootstrap's fstab has no entry: found, but empty, unlike no file.
func TestEmptyFstabIsFound(t *testing.T) {
	root := t.TempDir()
	write(t, root, "etc/fstab", "# UNCONFIGURED FSTAB FOR BASE SYSTEM\n")
	inv, run := collectRoot(t, root)
	if run.Status != host.StatusOK || !inv.Config.Mounts.FstabFound || len(inv.Config.Mounts.Fstab) != 0 {
		t.Errorf("run %+v mounts %+v", run, inv.Config.Mounts)
	}
}
