package apparmor_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/kensa-dev/kensa/internal/collect"
	"github.com/kensa-dev/kensa/internal/collect/apparmor"
	"github.com/kensa-dev/kensa/internal/host"
	"github.com/kensa-dev/kensa/internal/hostfs"
	"github.com/kensa-dev/kensa/internal/testfixture"
)

func TestParseProfiles(t *testing.T) {
	got := apparmor.ParseProfiles([]byte("/usr/sbin/cupsd (enforce)\n/usr/sbin/cupsd//third_party (complain)\nweird name (x) (kill)\ngarbage\n\n/opt/app (unconfined)\n"))
	want := []host.AppArmorProfile{
		{Name: "/usr/sbin/cupsd", Mode: "enforce"},
		{Name: "/usr/sbin/cupsd//third_party", Mode: "complain"},
		{Name: "weird name (x)", Mode: "kill"},
		{Name: "/opt/app", Mode: "unconfined"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %+v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("%d: %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestAttaches(t *testing.T) {
	for _, c := range []struct {
		profile, exe string
		want         bool
	}{
		{"/usr/sbin/cupsd", "/usr/sbin/cupsd", true},
		{"/usr/{,s}bin/ntpd", "/usr/sbin/ntpd", true},
		{"/usr/lib/*/bin/x", "/usr/lib/jvm/bin/x", true},
		{"/usr/sbin/cupsd", "/usr/sbin/cupsd-helper", false},
		{"man_groff", "/usr/bin/groff", false},
		{"/{a,{b,c}}/x", "/b/x", true},
		{"/{a,{b,c}}/x", "/d/x", false},
		{"/{a,b/x", "/a/x", false}, // unbalanced: literal
	} {
		if got := apparmor.Attaches(c.profile, c.exe); got != c.want {
			t.Errorf("Attaches(%q, %q) = %v", c.profile, c.exe, got)
		}
	}
}

func write(t *testing.T, root, name, content string) {
	t.Helper()
	p := filepath.Join(root, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func collectRoot(t *testing.T, root string) (*host.AppArmor, host.CollectorRun) {
	t.Helper()
	fsys, err := hostfs.Open(root)
	if err != nil {
		t.Fatal(err)
	}
	inv := testfixture.CollectEnv(t, &collect.Env{FS: fsys}, apparmor.New())
	if inv.Config == nil {
		t.Fatal("no config")
	}
	return inv.Config.AppArmor, inv.Collectors[0]
}

// The kernel's view: profiles, processes confined or not, processes whose
// executable cannot be read skipped, a link out of the root harmless.
func TestCollect(t *testing.T) {
	root := t.TempDir()
	write(t, root, "sys/module/apparmor/parameters/enabled", "Y\n")
	write(t, root, "sys/kernel/security/apparmor/profiles", "/usr/sbin/cupsd (enforce)\n")
	write(t, root, "proc/10/attr/current", "/usr/sbin/cupsd (enforce)\n")
	write(t, root, "proc/11/attr/current", "unconfined\n")
	write(t, root, "proc/12/attr/apparmor/current", "unconfined\n")
	write(t, root, "proc/13/attr/current", "unconfined\n") // no exe: a kernel thread
	write(t, root, "proc/self/attr/current", "unconfined\n")
	for pid, exe := range map[string]string{"10": "/usr/sbin/cupsd", "11": "/usr/sbin/cupsd (deleted)", "12": "../../../../etc/passwd"} {
		if err := os.Symlink(exe, filepath.Join(root, "proc", pid, "exe")); err != nil {
			t.Fatal(err)
		}
	}
	aa, run := collectRoot(t, root)
	if run.Status != host.StatusOK || !aa.Live || !aa.KernelEnabled || !aa.ProfilesRead || len(aa.Profiles) != 1 {
		t.Fatalf("run %+v, facts %+v", run, aa)
	}
	if aa.Processes != 3 || aa.Confined != 1 || len(aa.Unconfined) != 2 || aa.Unconfined[0].Exe != "/usr/sbin/cupsd" || aa.Unconfined[1].PID != 12 {
		t.Errorf("processes: %+v", aa)
	}
}

// An image has no running kernel: not applicable, never a verdict.
func TestCollectImage(t *testing.T) {
	root := t.TempDir()
	write(t, root, "etc/apparmor.d/usr.sbin.cupsd", "profile cupsd {}\n")
	aa, run := collectRoot(t, root)
	if run.Status != host.StatusSkipped || aa == nil || aa.Live {
		t.Errorf("run %+v, facts %+v", run, aa)
	}
}

// A kernel without AppArmor is a fact, not an error.
func TestCollectNoAppArmor(t *testing.T) {
	root := t.TempDir()
	write(t, root, "proc/1/attr/current", "")
	write(t, root, "sys/kernel/x", "")
	aa, run := collectRoot(t, root)
	if run.Status != host.StatusOK || !aa.Live || !aa.EnabledKnown || aa.KernelEnabled || aa.ProfilesRead {
		t.Errorf("run %+v, facts %+v", run, aa)
	}
}

func FuzzParseProfiles(f *testing.F) {
	f.Add([]byte("/usr/sbin/cupsd (enforce)\nx (complain)\n"))
	f.Add([]byte(" ()\n(\n) (\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, p := range apparmor.ParseProfiles(b) {
			if p.Name == "" {
				t.Fatalf("empty name from %q", b)
			}
		}
	})
}

// A switch that cannot be read is unknown, not off.
func TestCollectSwitchUnreadable(t *testing.T) {
	root := t.TempDir()
	write(t, root, "proc/1/attr/current", "")
	write(t, root, "sys/kernel/x", "")
	// A directory where the switch file belongs: reading it fails.
	if err := os.MkdirAll(filepath.Join(root, "sys/module/apparmor/parameters/enabled"), 0o755); err != nil {
		t.Fatal(err)
	}
	aa, run := collectRoot(t, root)
	if aa.EnabledKnown || aa.KernelEnabled || aa.Source == "" || run.Status != host.StatusPartial {
		t.Errorf("run %+v, facts %+v", run, aa)
	}
}
