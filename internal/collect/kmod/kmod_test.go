package kmod_test

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/kensa-dev/kensa/internal/collect/kmod"
	"github.com/kensa-dev/kensa/internal/finding"
	"github.com/kensa-dev/kensa/internal/host"
	"github.com/kensa-dev/kensa/internal/rules"
	"github.com/kensa-dev/kensa/internal/testfixture"
)

func write(t *testing.T, root, name, body string) {
	t.Helper()
	p := filepath.Join(root, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

func link(t *testing.T, root, name, target string) {
	t.Helper()
	p := filepath.Join(root, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, p); err != nil {
		t.Fatal(err)
	}
}

func run(t *testing.T, inv *host.Inventory) host.CollectorRun {
	t.Helper()
	for _, r := range inv.Collectors {
		if r.Name == "config/kmod" {
			return r
		}
	}
	t.Fatal("config/kmod did not run")
	return host.CollectorRun{}
}

// evaluate runs the kernel_module check for one module.
func evaluate(inv *host.Inventory, name string) rules.Outcome {
	c := rules.Check{KernelModule: &rules.KernelModuleCheck{Disabled: []string{name}}}
	return c.Evaluate(inv)
}

func TestNormalize(t *testing.T) {
	if got := kmod.Normalize(" usb-storage "); got != "usb_storage" {
		t.Errorf("Normalize: %q", got)
	}
	c := kmod.New(nil)
	if c.Name() != "config/kmod" {
		t.Errorf("name %s", c.Name())
	}
}

func TestImage(t *testing.T) {
	root := t.TempDir()
	// Three release directories: the newest with a module tree wins; one
	// with only a headers link is not a tree.
	write(t, root, "lib/modules/6.1.0-9-amd64/modules.dep", "")
	write(t, root, "lib/modules/6.1.0-9-amd64/extra/jffs2.ko", "")
	write(t, root, "lib/modules/6.1.0-18-amd64/modules.builtin", "kernel/fs/binfmt_script.ko\nkernel/fs/hfs/hfs.ko\n")
	write(t, root, "lib/modules/6.1.0-18-amd64/kernel/fs/cramfs/cramfs.ko.xz", "")
	write(t, root, "lib/modules/6.1.0-18-amd64/kernel/drivers/usb/storage/usb-storage.ko.zst", "")
	link(t, root, "lib/modules/6.1.0-18-amd64/weak-updates/jffs2.ko", "/lib/modules/6.1.0-9-amd64/extra/jffs2.ko")
	// A link to a directory is not followed: freevxfs there is not a
	// module of this kernel.
	write(t, root, "usr/src/linux-headers/fs/freevxfs/freevxfs.ko", "")
	link(t, root, "lib/modules/6.1.0-18-amd64/build", "/usr/src/linux-headers")
	link(t, root, "lib/modules/6.1.0-20-amd64/build", "/usr/src/linux-headers")
	write(t, root, "lib/modules/not-a-release/modules.dep", "")

	// The modprobe configuration: 00-local.conf sorts before cramfs.conf,
	// so its install command is the one kmod uses; /etc masks /lib of the
	// same name; a /dev/null link masks.
	write(t, root, "lib/modprobe.d/00-local.conf", "install cramfs /bin/true; /sbin/modprobe --ignore-install cramfs\n")
	write(t, root, "lib/modprobe.d/cramfs.conf", "blacklist cramfs\n")
	write(t, root, "etc/modprobe.d/cramfs.conf", "# CIS\ninstall cramfs /bin/false\nblack\\\nlist cramfs\n")
	write(t, root, "usr/lib/modprobe.d/hfsplus.conf", "blacklist hfsplus\ninstall hfsplus /bin/false\n")
	link(t, root, "run/modprobe.d/hfsplus.conf", "/dev/null")
	write(t, root, "etc/modprobe.d/usb.conf", "  # install usb-storage /bin/false\n#blacklist usb-storage\ninstall usb_storage /bin/false # CIS\nblacklist usb-storage\n")
	write(t, root, "etc/modprobe.d/README", "install jffs2 /bin/false\n")

	inv := testfixture.Collect(t, root, kmod.New(nil))
	r := run(t, inv)
	if r.Status != host.StatusOK {
		t.Fatalf("status %s %s %v", r.Status, r.Reason, r.Errors)
	}
	km := inv.Config.Modules
	if km.Release != "6.1.0-18-amd64" {
		t.Errorf("release %q", km.Release)
	}
	if km.Loaded != nil {
		t.Errorf("loaded modules of an image: %v", km.Loaded)
	}
	m := km.Modules
	if c := m["cramfs"]; !c.Available || c.Install == nil || c.Install.Value != "/bin/true; /sbin/modprobe --ignore-install cramfs" ||
		c.Install.File != "/lib/modprobe.d/00-local.conf" || c.Install.Line != 1 {
		t.Errorf("cramfs: %+v install %+v", c, c.Install)
	}
	if b := m["cramfs"].Blacklisted; b == nil || b.File != "/etc/modprobe.d/cramfs.conf" || b.Line != 3 {
		t.Errorf("cramfs blacklist %+v", b)
	}
	if !m["hfs"].BuiltIn || m["hfs"].Available {
		t.Errorf("hfs %+v", m["hfs"])
	}
	if h := m["hfsplus"]; h.Blacklisted != nil || h.Install != nil || h.Available {
		t.Errorf("hfsplus (masked by /dev/null) %+v", h)
	}
	if !m["jffs2"].Available {
		t.Errorf("jffs2 through weak-updates link: %+v", m["jffs2"])
	}
	if m["jffs2"].Install != nil {
		t.Errorf("jffs2 install from a file not named *.conf: %+v", m["jffs2"].Install)
	}
	if f, ok := m["freevxfs"]; !ok || f.Available {
		t.Errorf("freevxfs %+v %v", f, ok)
	}
	u := m["usb_storage"]
	if !u.Available || u.Install == nil || u.Install.Line != 3 || u.Blacklisted == nil || u.Blacklisted.Line != 4 {
		t.Errorf("usb_storage %+v %+v %+v", u, u.Install, u.Blacklisted)
	}

	for name, want := range map[string]string{
		"cramfs":      finding.StatusFail, // the first install line runs modprobe
		"hfs":         finding.StatusFail, // built in
		"hfsplus":     finding.StatusPass, // no module file
		"freevxfs":    finding.StatusPass,
		"jffs2":       finding.StatusFail, // available, not configured
		"usb-storage": finding.StatusPass,
	} {
		o := evaluate(inv, name)
		if o.Status != want {
			t.Errorf("%s: %s %q %v, want %s", name, o.Status, o.Reason, o.Evidence, want)
		}
		if len(o.Evidence) == 0 {
			t.Errorf("%s: no evidence", name)
		}
	}
	o := evaluate(inv, "cramfs")
	if !strings.Contains(strings.Join(o.Evidence, "\n"), "/lib/modprobe.d/00-local.conf:1") {
		t.Errorf("cramfs evidence %v", o.Evidence)
	}
}

func TestLive(t *testing.T) {
	root := t.TempDir()
	write(t, root, "proc/sys/kernel/osrelease", "6.1.0-9-amd64\n")
	write(t, root, "proc/modules", "usb_storage 81920 1 uas, Live 0x0000000000000000\ncramfs 49152 0 - Live 0x0\n")
	write(t, root, "lib/modules/6.1.0-9-amd64/modules.builtin", "")
	write(t, root, "lib/modules/6.1.0-9-amd64/kernel/fs/cramfs/cramfs.ko", "")
	write(t, root, "lib/modules/6.1.0-18-amd64/modules.builtin", "")
	write(t, root, "etc/modprobe.d/cis.conf", "install cramfs /bin/false\nblacklist cramfs\ninstall usb-storage /bin/false\nblacklist usb-storage\n")
	inv := testfixture.Collect(t, root, kmod.New([]string{"cramfs", "usb-storage", "hfs"}))
	km := inv.Config.Modules
	if km.Release != "6.1.0-9-amd64" {
		t.Errorf("release %q, want the running one", km.Release)
	}
	if strings.Join(km.Loaded, ",") != "cramfs,usb_storage" {
		t.Errorf("loaded %v", km.Loaded)
	}
	if !km.Modules["usb_storage"].Loaded || !km.Modules["cramfs"].Loaded {
		t.Errorf("modules %+v", km.Modules)
	}
	o := evaluate(inv, "usb-storage")
	if o.Status != finding.StatusFail || !strings.Contains(o.Evidence[0], "loaded") {
		t.Errorf("usb-storage: %+v", o)
	}
	if o := evaluate(inv, "hfs"); o.Status != finding.StatusPass {
		t.Errorf("hfs: %+v", o)
	}
}

func TestContainerNotApplicable(t *testing.T) {
	root := t.TempDir()
	write(t, root, "proc/sys/kernel/osrelease", "6.8.0-45-generic\n")
	write(t, root, "proc/modules", "cramfs 49152 0 - Live 0x0\n")
	write(t, root, "lib/modules/6.1.0-18-amd64/modules.builtin", "")
	inv := testfixture.Collect(t, root, kmod.New(nil))
	km := inv.Config.Modules
	if km.Release != "" || len(km.Modules) != 0 {
		t.Errorf("release %q modules %v", km.Release, km.Modules)
	}
	if o := evaluate(inv, "cramfs"); o.Status != finding.StatusNotApplicable || !strings.Contains(o.Reason, "container") {
		t.Errorf("cramfs: %+v", o)
	}

	// No lib/modules and no proc at all: the collector has nothing to read.
	empty := t.TempDir()
	inv = testfixture.Collect(t, empty, kmod.New(nil))
	if r := run(t, inv); r.Status != host.StatusSkipped {
		t.Errorf("empty root: %s %s", r.Status, r.Reason)
	}
	if o := evaluate(inv, "cramfs"); o.Status != finding.StatusNotApplicable {
		t.Errorf("empty root: %+v", o)
	}
	// Not collected at all: an error, never a pass.
	if o := evaluate(&host.Inventory{}, "cramfs"); o.Status != finding.StatusError {
		t.Errorf("no facts: %+v", o)
	}
}

func TestHostileRoot(t *testing.T) {
	parent := t.TempDir()
	root := filepath.Join(parent, "root")
	// Outside the root: a configuration that would pass, and a module file.
	write(t, parent, "outside.conf", "install cramfs /bin/false\nblacklist cramfs\n")
	write(t, parent, "evil/kernel/hfsplus.ko", "")
	rel := "lib/modules/6.1.0-18-amd64"
	write(t, root, rel+"/kernel/fs/cramfs/cramfs.ko", "")
	// modules.builtin larger than the cap (sparse).
	f, err := os.Create(filepath.Join(root, rel, "modules.builtin"))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(kmod.BuiltinLimit + 1); err != nil {
		t.Fatal(err)
	}
	f.Close()
	write(t, root, rel+"/modules.dep", "")
	// Links that try to leave the root or loop.
	link(t, root, "etc/modprobe.d/out.conf", "../../../outside.conf")
	link(t, root, "etc/modprobe.d/abs.conf", filepath.Join(parent, "outside.conf"))
	link(t, root, rel+"/kernel/evil", "../../../../../evil")
	link(t, root, rel+"/kernel/loop", ".")
	link(t, root, "etc/modprobe.d/loop.conf", "loop.conf")
	// FIFOs where files are expected: reading one would block.
	for _, p := range []string{"etc/modprobe.d/fifo.conf", "proc/modules"} {
		os.MkdirAll(filepath.Join(root, filepath.Dir(p)), 0o755)
		if err := syscall.Mkfifo(filepath.Join(root, p), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// A huge modprobe.d file.
	g, _ := os.Create(filepath.Join(root, "etc/modprobe.d/huge.conf"))
	g.Truncate(kmod.FileLimit + 1)
	g.Close()

	inv := testfixture.Collect(t, root, kmod.New(nil))
	r := run(t, inv)
	if r.Status != host.StatusPartial {
		t.Errorf("status %s %s %v", r.Status, r.Reason, r.Errors)
	}
	joined := strings.Join(r.Errors, "\n")
	for _, want := range []string{"fifo.conf", "huge.conf", "modules.builtin", "proc/modules"} {
		if !strings.Contains(joined, want) {
			t.Errorf("no error about %s in %v", want, r.Errors)
		}
	}
	km := inv.Config.Modules
	c, ok := km.Modules["cramfs"]
	if !ok || !c.Available {
		t.Fatalf("cramfs %+v %v", c, ok)
	}
	if c.Install != nil || c.Blacklisted != nil {
		t.Errorf("configuration read from outside the root: %+v %+v", c.Install, c.Blacklisted)
	}
	// modules.builtin could not be read: a module without a file may be
	// built in, so it is left out, and the rule errs rather than passes.
	if _, ok := km.Modules["hfsplus"]; ok {
		t.Errorf("hfsplus examined without modules.builtin: %+v", km.Modules["hfsplus"])
	}
	if o := evaluate(inv, "hfsplus"); o.Status != finding.StatusError {
		t.Errorf("hfsplus: %+v", o)
	}
	if o := evaluate(inv, "cramfs"); o.Status != finding.StatusFail {
		t.Errorf("cramfs: %+v", o)
	}
}

func TestWalkBound(t *testing.T) {
	if testing.Short() {
		t.Skip("creates many directories")
	}
	root := t.TempDir()
	rel := "lib/modules/6.1.0-18-amd64"
	write(t, root, rel+"/modules.builtin", "")
	// Deeper than the walk goes.
	deep := rel
	for range kmod.MaxWalkDepth + 2 {
		deep += "/d"
	}
	write(t, root, deep+"/jffs2.ko", "")
	inv := testfixture.Collect(t, root, kmod.New([]string{"jffs2"}))
	if r := run(t, inv); r.Status != host.StatusPartial {
		t.Errorf("status %s %v", r.Status, r.Errors)
	}
	if o := evaluate(inv, "jffs2"); o.Status != finding.StatusError {
		t.Errorf("jffs2 beyond the walk: %+v", o)
	}
}
