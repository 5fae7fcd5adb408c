package system_test

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kensa-dev/kensa/internal/collect/system"
	"github.com/kensa-dev/kensa/internal/collect/users"
	"github.com/kensa-dev/kensa/internal/host"
	"github.com/kensa-dev/kensa/internal/hostfs"
	"github.com/kensa-dev/kensa/internal/testfixture"
)

func TestPaths(t *testing.T) {
	root := t.TempDir()
	write(t, root, "etc/passwd", "root:x:0:0:root:/root:/bin/bash\nalice:x:1000:1001::/home/alice:/bin/sh\nalias:x:1000:1001::/:/bin/sh\n", 0o644)
	write(t, root, "etc/group", "root:x:0:\nshadow:x:42:\nstaff:x:1001:alice\n", 0o644)
	write(t, root, "etc/shadow", "root:*:19000:0:99999:7:::\n", 0o640)
	write(t, root, "etc/gshadow", "", 0o000)
	mkdir(t, root, "usr/bin", 0o755)
	mkdir(t, root, "usr/local/bin", 0o775)
	mkdir(t, root, "usr/lib/x86_64-linux-gnu", 0o755)
	symlink(t, root, "bin", "usr/bin")
	symlink(t, root, "lib64", "/usr/lib")
	write(t, root, "usr/bin/passwd", "", os.ModeSetuid|0o755)
	mkdir(t, root, "tmp", os.ModeSticky|0o777)
	mkdir(t, root, "var/local", os.ModeSetgid|0o775)
	symlink(t, root, "etc/motd", "/run/motd.dynamic") // dangling
	symlink(t, root, "etc/issue", "issue")            // loop
	write(t, root, "etc/issue.net", "x", 0o644)

	uid, gid := os.Getuid(), os.Getgid()
	if uid == 0 {
		for p, ids := range map[string][2]int{"etc/shadow": {0, 42}, "usr/local/bin": {1000, 1001}, "etc/issue.net": {4242, 4343}} {
			if err := os.Lchown(filepath.Join(root, p), ids[0], ids[1]); err != nil {
				t.Fatal(err)
			}
		}
	}
	owner := func(p string, u, g int) (int, int) {
		if uid == 0 {
			switch p {
			case "/etc/shadow":
				return 0, 42
			case "/usr/local/bin":
				return 1000, 1001
			case "/etc/issue.net":
				return 4242, 4343
			}
		}
		return u, g
	}

	asked := []string{"/bin", "lib64", "/lib64/x86_64-linux-gnu", "/usr/local/bin", "/etc/shadow", "/etc/gshadow", "/usr/bin/passwd",
		"/tmp", "/var/local", "/etc/motd", "/etc/issue", "/etc/issue.net", "/etc/nothing", "/etc/shadow/below", "/bin/"}
	inv := testfixture.Collect(t, root, users.New(), system.NewPaths(asked))
	r := run(t, inv, "config/paths")
	if r.Status != host.StatusPartial {
		t.Errorf("run = %+v", r)
	}
	if !hasError(r, "/etc/issue", "too many levels") {
		t.Errorf("errors %q", r.Errors)
	}

	names := map[int]string{0: "root", 1000: "alice", 1001: "staff", 42: "shadow"}
	gnames := map[int]string{0: "root", 1001: "staff", 42: "shadow"}
	pi := func(p, resolved, typ string, mode uint32, errText string) host.PathInfo {
		u, g := owner(p, uid, gid)
		return host.PathInfo{Path: p, Resolved: resolved, Exists: true, Type: typ, Mode: mode, UID: u, GID: g, Owner: names[u], Group: gnames[g], Error: errText}
	}
	missing := func(p string) host.PathInfo { return host.PathInfo{Path: p, UID: -1, GID: -1} }
	want := []host.PathInfo{
		pi("/bin", "/usr/bin", "link", 0o755, ""),
		pi("/lib64", "/usr/lib", "link", 0o755, ""),
		pi("/lib64/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "dir", 0o755, ""),
		pi("/usr/local/bin", "/usr/local/bin", "dir", 0o775, ""),
		pi("/etc/shadow", "/etc/shadow", "file", 0o640, ""),
		pi("/etc/gshadow", "/etc/gshadow", "file", 0, ""),
		pi("/usr/bin/passwd", "/usr/bin/passwd", "file", 0o4755, ""),
		pi("/tmp", "/tmp", "dir", 0o1777, ""),
		pi("/var/local", "/var/local", "dir", 0o2775, ""),
		pi("/etc/motd", "", "link", 0o777, "dangling symbolic link to /run/motd.dynamic"),
		pi("/etc/issue", "", "link", 0o777, ""),
		pi("/etc/issue.net", "/etc/issue.net", "file", 0o644, ""),
		missing("/etc/nothing"),
		missing("/etc/shadow/below"),
	}
	got := inv.Config.Paths
	if len(got) == len(want) {
		// The loop's error text names the host path; check it apart.
		if !strings.Contains(got[10].Error, "too many levels of symbolic links") {
			t.Errorf("loop error %q", got[10].Error)
		}
		got[10].Error = ""
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("paths (-want +got):\n%s", diff)
	}
}

func TestPathsDefaults(t *testing.T) {
	c := system.NewPaths(nil)
	if got := c.Paths(); len(got) != len(system.SystemDirs)+len(system.CISFiles) || got[0] != "/bin" {
		t.Errorf("default paths %v", got)
	}
	// On this machine: every default path is examined without a failure.
	fsys, err := hostfs.Open("/")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range c.Paths() {
		pi := system.Examine(fsys, p)
		if pi.Exists && pi.Resolved == "" && pi.Type != "link" {
			t.Errorf("%s: %+v", p, pi)
		}
		if p == "/etc/passwd" && (!pi.Exists || pi.Type != "file" || pi.UID != 0) {
			t.Errorf("/etc/passwd: %+v", pi)
		}
	}
}

func TestPathsHostile(t *testing.T) {
	outside := t.TempDir()
	write(t, outside, "shadow", "x", 0o600)
	root := t.TempDir()
	symlink(t, root, "etc", outside) // /etc leads to root/<outside>, which is absent
	symlink(t, root, "boot", strings.Repeat("../", 30)+outside[1:])
	if err := syscall.Mkfifo(filepath.Join(root, "fifo"), 0o600); err != nil {
		t.Fatal(err)
	}
	symlink(t, root, "a", "b")
	symlink(t, root, "b", "a")
	fsys, err := hostfs.Open(root)
	if err != nil {
		t.Fatal(err)
	}
	if pi := system.Examine(fsys, "/etc/shadow"); pi.Exists || pi.Error != "" {
		t.Errorf("/etc/shadow through a link out of the root: %+v", pi)
	}
	if pi := system.Examine(fsys, "/boot/shadow"); pi.Exists {
		t.Errorf("/boot/shadow through a climbing link: %+v", pi)
	}
	if pi := system.Examine(fsys, "/fifo"); !pi.Exists || pi.Type != "other" || pi.Mode != 0o600 {
		t.Errorf("/fifo: %+v", pi)
	}
	if pi := system.Examine(fsys, "/a/x"); pi.Exists || !strings.Contains(pi.Error, "too many levels") {
		t.Errorf("/a/x: %+v", pi)
	}
}
