package units_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/kensa-dev/kensa/internal/collect"
	"github.com/kensa-dev/kensa/internal/collect/units"
	"github.com/kensa-dev/kensa/internal/host"
	"github.com/kensa-dev/kensa/internal/hostfs"
	"github.com/kensa-dev/kensa/internal/testfixture"
)

// tree builds a root: a value starting with "->" is a symbolic link to
// the rest, anything else a file with that content.
func tree(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for name, body := range files {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		var err error
		if to, ok := strings.CutPrefix(body, "->"); ok {
			err = os.Symlink(to, p)
		} else {
			err = os.WriteFile(p, []byte(body), 0o644)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func collectUnits(t *testing.T, root string, c *units.Collector) (*host.Units, host.CollectorRun) {
	t.Helper()
	inv := testfixture.Collect(t, root, c)
	var u *host.Units
	if inv.Config != nil {
		u = inv.Config.Units
	}
	return u, inv.Collectors[0]
}

const (
	wanted   = "[Unit]\nDescription=x\n\n[Service]\nExecStart=/bin/true\n\n[Install]\nWantedBy=multi-user.target\n"
	static   = "[Unit]\nDescription=x\n\n[Service]\nExecStart=/bin/true\n"
	indirect = "[Service]\nExecStart=/bin/true\n[Install]\nAlso=foo.socket\n"
)

func state(t *testing.T, u *host.Units, name, want string) host.Unit {
	t.Helper()
	got, ok := u.Units[name]
	if !ok {
		t.Fatalf("%s: not collected (units %v)", name, u.Units)
	}
	if got.State != want {
		t.Errorf("%s: state %q, want %q (path %q, %d links)", name, got.State, want, got.Path, len(got.Links))
	}
	return got
}

func TestStates(t *testing.T) {
	root := tree(t, map[string]string{
		// A merged /usr: /lib is read once, as /usr/lib.
		"lib":                                                           "->usr/lib",
		"usr/lib/systemd/system/cron.service":                           wanted,
		"usr/lib/systemd/system/avahi.service":                          wanted,
		"usr/lib/systemd/system/avahi.socket":                           "[Socket]\nListenStream=/run/a\n[Install]\nWantedBy=sockets.target\n",
		"usr/lib/systemd/system/rsync.service":                          wanted,
		"usr/lib/systemd/system/journald.service":                       static,
		"usr/lib/systemd/system/journald.socket":                        "[Socket]\nService=journald.service\n",
		"usr/lib/systemd/system/foo.service":                            indirect,
		"usr/lib/systemd/system/foo.socket":                             "[Socket]\nAccept=yes\n[Install]\nWantedBy=sockets.target\n",
		"usr/lib/systemd/system/foo@.service":                           static,
		"usr/lib/systemd/system/getty@.service":                         wanted,
		"usr/lib/systemd/system/ssh.service":                            wanted + "Alias=sshd.service\n",
		"usr/lib/systemd/system/empty.service":                          "",
		"usr/lib/systemd/system/over.service":                           wanted,
		"usr/lib/systemd/system/vendor.service":                         wanted,
		"usr/lib/systemd/system/aide.timer":                             "[Timer]\nOnCalendar=daily\nUnit=aidecheck.service\n[Install]\nWantedBy=timers.target\n",
		"usr/lib/systemd/system/aidecheck.service":                      static,
		"usr/lib/systemd/system/graphical.target":                       "[Unit]\n",
		"usr/lib/systemd/system/multi-user.target":                      "[Unit]\n",
		"usr/lib/systemd/system/default.target":                         "->graphical.target",
		"usr/lib/systemd/system/sockets.target.wants/journald.socket":   "->../journald.socket",
		"usr/lib/systemd/system/multi-user.target.wants/vendor.service": "->../vendor.service",
		// An entry of a .wants directory that is not a link is ignored,
		// as systemd ignores it.
		"etc/systemd/system/multi-user.target.wants/rsync.service": "not a link",
		"etc/systemd/system/multi-user.target.wants/cron.service":  "->/lib/systemd/system/cron.service",
		"etc/systemd/system/multi-user.target.wants/avahi.service": "->/lib/systemd/system/avahi.service",
		"etc/systemd/system/sockets.target.wants/avahi.socket":     "->/lib/systemd/system/avahi.socket",
		"etc/systemd/system/getty.target.wants/getty@tty1.service": "->/lib/systemd/system/getty@.service",
		"etc/systemd/system/multi-user.target.wants/ssh.service":   "->/lib/systemd/system/ssh.service",
		"etc/systemd/system/sshd.service":                          "->/lib/systemd/system/ssh.service",
		"etc/systemd/system/timers.target.wants/aide.timer":        "->/lib/systemd/system/aide.timer",
		"etc/systemd/system/sockets.target.wants/foo.socket":       "->/lib/systemd/system/foo.socket",
		"etc/systemd/system/multi-user.target.wants/gone.service":  "->/lib/systemd/system/gone.service",
		// Masked in /etc although enabled: masked wins.
		"etc/systemd/system/avahi.service": "->/dev/null",
		// An earlier directory overrides a later one.
		"etc/systemd/system/over.service":                       static,
		"run/systemd/system/multi-user.target.wants/rt.service": "->/lib/systemd/system/rt.service",
		"usr/lib/systemd/system/rt.service":                     wanted,
		"etc/systemd/system/default.target":                     "->/lib/systemd/system/multi-user.target",
		"etc/systemd/system/foo.service.d/override.conf":        "[Service]\n",
	})
	u, run := collectUnits(t, root, units.New())
	if u == nil || run.Status != host.StatusOK {
		t.Fatalf("run %+v", run)
	}
	if u.Manager != "systemd" || u.ActiveKnown || !strings.Contains(u.ActiveSource, "image") {
		t.Errorf("manager %q, active %v %q", u.Manager, u.ActiveKnown, u.ActiveSource)
	}
	if strings.Contains(u.Source, "/lib/systemd/system,") || !strings.HasSuffix(u.Source, "/usr/lib/systemd/system") {
		t.Errorf("the merged /lib was read twice or not at all: %s", u.Source)
	}
	if u.DefaultTarget == nil || u.DefaultTarget.Value != "multi-user.target" || u.DefaultTarget.File != "/etc/systemd/system/default.target" {
		t.Errorf("default target %+v", u.DefaultTarget)
	}
	cron := state(t, u, "cron.service", "enabled")
	if !slices.Equal(cron.Links, []string{"/etc/systemd/system/multi-user.target.wants/cron.service"}) || cron.Path != "/usr/lib/systemd/system/cron.service" {
		t.Errorf("cron %+v", cron)
	}
	if a := state(t, u, "avahi.service", "masked"); a.MaskedBy != "/etc/systemd/system/avahi.service" {
		t.Errorf("avahi %+v", a)
	}
	state(t, u, "avahi.socket", "enabled")
	state(t, u, "rsync.service", "disabled")
	if j := state(t, u, "journald.service", "static"); !slices.Equal(j.TriggeredBy, []string{"journald.socket"}) {
		t.Errorf("journald %+v", j)
	}
	if s := state(t, u, "journald.socket", "static"); len(s.VendorLinks) != 1 {
		t.Errorf("journald.socket %+v", s)
	}
	if v := state(t, u, "vendor.service", "disabled"); len(v.VendorLinks) != 1 || len(v.Links) != 0 {
		t.Errorf("vendor %+v", v)
	}
	state(t, u, "foo.service", "indirect")
	if f := state(t, u, "foo@.service", "static"); !slices.Equal(f.TriggeredBy, []string{"foo.socket"}) {
		t.Errorf("Accept=yes socket should start the template: %+v", f)
	}
	state(t, u, "getty@.service", "enabled")
	if _, ok := u.Units["getty@tty1.service"]; ok {
		t.Error("an instance link made a unit of its own")
	}
	if s := state(t, u, "ssh.service", "enabled"); !slices.Contains(s.Links, "/etc/systemd/system/sshd.service") {
		t.Errorf("ssh: the alias link is an enablement: %+v", s)
	}
	if a := state(t, u, "sshd.service", "alias"); a.AliasOf != "ssh.service" {
		t.Errorf("sshd %+v", a)
	}
	if e := state(t, u, "empty.service", "masked"); !strings.Contains(e.MaskedBy, "empty") {
		t.Errorf("empty %+v", e)
	}
	if o := state(t, u, "over.service", "static"); o.Path != "/etc/systemd/system/over.service" {
		t.Errorf("override %+v", o)
	}
	state(t, u, "rt.service", "enabled-runtime")
	if g := state(t, u, "gone.service", "not-found"); len(g.Links) != 1 {
		t.Errorf("dangling enablement %+v", g)
	}
	if a := state(t, u, "aidecheck.service", "static"); !slices.Equal(a.TriggeredBy, []string{"aide.timer"}) {
		t.Errorf("timer Unit= %+v", a)
	}
}

// Links cannot lead out of the root, loops end, and neither stops the
// collector.
func TestHostileLinks(t *testing.T) {
	outside := t.TempDir()
	os.WriteFile(filepath.Join(outside, "evil.service"), []byte(wanted), 0o644)
	root := tree(t, map[string]string{
		"etc/systemd/system/evil.service":                         "->" + strings.Repeat("../", 20) + strings.TrimPrefix(outside, "/") + "/evil.service",
		"etc/systemd/system/abs.service":                          "->" + filepath.Join(outside, "evil.service"),
		"etc/systemd/system/a.service":                            "->b.service",
		"etc/systemd/system/b.service":                            "->a.service",
		"etc/systemd/system/fifo.service":                         "",
		"lib/systemd/system/good.service":                         wanted,
		"etc/systemd/system/multi-user.target.wants/good.service": "->/lib/systemd/system/good.service",
		"etc/systemd/system/multi-user.target.wants/loop.service": "->loop.service",
	})
	os.Remove(filepath.Join(root, "etc/systemd/system/fifo.service"))
	if err := mkfifo(filepath.Join(root, "etc/systemd/system/fifo.service")); err != nil {
		t.Fatal(err)
	}
	u, run := collectUnits(t, root, units.New())
	if u == nil {
		t.Fatalf("run %+v", run)
	}
	for _, n := range []string{"evil.service", "abs.service", "a.service", "b.service"} {
		state(t, u, n, "bad")
	}
	if _, ok := u.Units["fifo.service"]; ok {
		t.Error("a FIFO was taken as a unit file")
	}
	state(t, u, "good.service", "enabled")
	if run.Status != host.StatusPartial || run.ErrorCount < 5 {
		t.Errorf("problems not reported: %+v", run)
	}
}

func TestSysV(t *testing.T) {
	root := tree(t, map[string]string{
		"etc/init.d/foo":          "#!/bin/sh\n",
		"etc/init.d/bar":          "#!/bin/sh\n",
		"etc/init.d/hwclock.sh":   "#!/bin/sh\n",
		"etc/init.d/README":       "docs\n",
		"etc/rc2.d/S02foo":        "->../init.d/foo",
		"etc/rc3.d/S02foo":        "->../init.d/foo",
		"etc/rc2.d/K01bar":        "->../init.d/bar",
		"etc/rc1.d/S01bar":        "->../init.d/bar",
		"etc/rcS.d/S01hwclock.sh": "->../init.d/hwclock.sh",
	})
	u, _ := collectUnits(t, root, units.New())
	if u == nil || u.Manager != "sysv" {
		t.Fatalf("units %+v", u)
	}
	if f := state(t, u, "foo.service", "enabled"); !slices.Equal(f.Links, []string{"/etc/rc2.d/S02foo", "/etc/rc3.d/S02foo"}) || f.Path != "/etc/init.d/foo" {
		t.Errorf("foo %+v", f)
	}
	state(t, u, "bar.service", "disabled") // K links and runlevel 1 do not start it in 2-5
	state(t, u, "hwclock.service", "disabled")
	if _, ok := u.Units["README.service"]; ok {
		t.Error("README taken as a script")
	}

	// Under systemd, a script without a native unit is generated; one
	// with a native unit is hidden by it.
	root = tree(t, map[string]string{
		"etc/init.d/foo":                  "#!/bin/sh\n",
		"etc/init.d/cron":                 "#!/bin/sh\n",
		"etc/rc2.d/S02foo":                "->../init.d/foo",
		"etc/rc2.d/S01cron":               "->../init.d/cron",
		"lib/systemd/system/cron.service": wanted,
	})
	u, _ = collectUnits(t, root, units.New())
	if f := state(t, u, "foo.service", "generated"); len(f.Links) != 1 {
		t.Errorf("foo %+v", f)
	}
	if c := state(t, u, "cron.service", "disabled"); c.Path != "/lib/systemd/system/cron.service" {
		t.Errorf("cron %+v", c)
	}
}

func TestNotApplicable(t *testing.T) {
	u, run := collectUnits(t, tree(t, map[string]string{"etc/hostname": "x\n"}), units.New())
	if u != nil || run.Status != host.StatusSkipped {
		t.Errorf("units %+v run %+v", u, run)
	}
}

func TestCaps(t *testing.T) {
	root := tree(t, map[string]string{"lib/systemd/system/a.service": wanted})
	dir := filepath.Join(root, "etc/systemd/system/multi-user.target.wants")
	os.MkdirAll(dir, 0o755)
	for i := range units.MaxDirEntries + 10 {
		if err := os.Symlink("/lib/systemd/system/a.service", filepath.Join(dir, fmt.Sprintf("u%05d.service", i))); err != nil {
			t.Fatal(err)
		}
	}
	u, run := collectUnits(t, root, units.New())
	if u == nil || run.Status != host.StatusPartial || !strings.Contains(u.Source, "only the first 10000 entries of /etc/systemd/system/multi-user.target.wants") {
		t.Fatalf("run %+v, source %q", run, u.Source)
	}
	// a.service and the 10000 names the links read give: units only
	// links name are kept past MaxUnits (up to MaxLinkUnits more).
	if len(u.Units) != units.MaxDirEntries+1 || !u.Incomplete {
		t.Errorf("%d units kept, want %d; incomplete %v", len(u.Units), units.MaxDirEntries+1, u.Incomplete)
	}
	// The flooded directory does not hide the next one; the links all
	// lead to a.service and enable it, and at most MaxUnitLinks are kept.
	if a := state(t, u, "a.service", "enabled"); len(a.Links) != units.MaxUnitLinks {
		t.Errorf("a.service keeps %d links", len(a.Links))
	}
}

// TestFloodKeepsEnablingLinks: a vendor directory flooded past
// MaxDirEntries hides the unit files after the cut, but the listing is
// marked incomplete and the link that enables a hidden unit is still
// recorded on it, though the units are at MaxUnits.
func TestFloodKeepsEnablingLinks(t *testing.T) {
	root := tree(t, map[string]string{
		"lib/systemd/system/rsync.service":                          wanted,
		"etc/systemd/system/multi-user.target.wants/rsync.service":  "->/lib/systemd/system/rsync.service",
		"etc/systemd/system/multi-user.target.wants/zzz.service":    "->/lib/systemd/system/zzz.service",
		"etc/systemd/system/multi-user.target.wants/cron@x.service": "->/lib/systemd/system/cron@.service",
	})
	for i := range units.MaxDirEntries + 1 {
		if err := os.WriteFile(filepath.Join(root, fmt.Sprintf("lib/systemd/system/a%05d.service", i)), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	u, run := collectUnits(t, root, units.New())
	if u == nil || run.Status != host.StatusPartial || !u.Incomplete {
		t.Fatalf("run %+v, units %v", run, u != nil && u.Incomplete)
	}
	r := state(t, u, "rsync.service", "not-found")
	if !slices.Equal(r.Links, []string{"/etc/systemd/system/multi-user.target.wants/rsync.service"}) {
		t.Errorf("rsync.service links %v", r.Links)
	}
	if _, ok := u.Units["cron@.service"]; !ok {
		t.Errorf("the template an instance link enables was dropped")
	}
}

// TestIncompleteFlag: a complete listing is not marked incomplete; one
// with an unreadable unit directory is.
func TestIncompleteFlag(t *testing.T) {
	files := map[string]string{
		"lib/systemd/system/rsync.service":                         wanted,
		"etc/systemd/system/multi-user.target.wants/rsync.service": "->/lib/systemd/system/rsync.service",
	}
	u, _ := collectUnits(t, tree(t, files), units.New())
	if u.Incomplete {
		t.Errorf("complete listing marked incomplete (%s)", u.Source)
	}
	// /etc/systemd/system a link to itself: a unit directory that
	// exists but cannot be read.
	u, _ = collectUnits(t, tree(t, map[string]string{"lib/systemd/system/rsync.service": wanted, "etc/systemd/system": "->system"}), units.New())
	if !u.Incomplete {
		t.Errorf("an unreadable unit directory left the listing complete (%s)", u.Source)
	}
}

// liveFS makes a fixture root look like the running host.
type liveFS struct{ hostfs.FS }

func (liveFS) Live() bool { return true }

func collectLive(t *testing.T, root string, c *units.Collector) (*host.Units, host.CollectorRun) {
	t.Helper()
	fsys, err := hostfs.Open(root)
	if err != nil {
		t.Fatal(err)
	}
	inv := testfixture.CollectEnv(t, &collect.Env{FS: liveFS{fsys}}, c)
	return inv.Config.Units, inv.Collectors[0]
}

func TestLive(t *testing.T) {
	files := map[string]string{
		"proc/1/comm":                            "systemd\n",
		"run/systemd/system/.keep":               "",
		"usr/bin/systemctl":                      "",
		"lib/systemd/system/cron.service":        wanted,
		"lib/systemd/system/avahi-daemon.socket": "[Socket]\n[Install]\nWantedBy=sockets.target\n",
	}
	out := "cron.service loaded active running Regular background program processing daemon\n" +
		"avahi-daemon.socket loaded inactive dead Avahi\n" +
		"● missing.service not-found inactive dead missing.service\n" +
		"run-u7.service loaded active exited transient\n"
	var calls [][]string
	runner := func(out string, err error) units.Runner {
		return func(ctx context.Context, name string, args ...string) ([]byte, error) {
			calls = append(calls, append([]string{name}, args...))
			return []byte(out), err
		}
	}
	u, run := collectLive(t, tree(t, files), units.NewWithOptions(units.Options{Run: runner(out, nil)}))
	if !u.ActiveKnown || run.Status != host.StatusOK || len(calls) != 1 || calls[0][0] != "/usr/bin/systemctl" || !slices.Contains(calls[0], "--all") {
		t.Fatalf("active %v %q, run %+v, calls %v", u.ActiveKnown, u.ActiveSource, run, calls)
	}
	if c := u.Units["cron.service"]; c.Active != "active" || c.Sub != "running" || c.State != "disabled" {
		t.Errorf("cron %+v", c)
	}
	if s := u.Units["avahi-daemon.socket"]; s.Active != "inactive" {
		t.Errorf("socket %+v", s)
	}
	if m := u.Units["missing.service"]; m.State != "not-found" {
		t.Errorf("missing %+v", m)
	}
	if r := u.Units["run-u7.service"]; r.State != "runtime" || r.Active != "active" {
		t.Errorf("transient %+v", r)
	}

	// systemctl failing: the active state is unknown, and said why.
	calls = nil
	u, run = collectLive(t, tree(t, files), units.NewWithOptions(units.Options{Run: runner("", errors.New("Failed to connect to bus"))}))
	if u.ActiveKnown || !u.ActiveUnreadable || !strings.Contains(u.ActiveSource, "Failed to connect") || run.Status != host.StatusPartial {
		t.Errorf("active %v %q run %+v", u.ActiveKnown, u.ActiveSource, run)
	}

	// PID 1 is not systemd (a container): systemctl is not run.
	calls = nil
	files["proc/1/comm"] = "bash\n"
	u, _ = collectLive(t, tree(t, files), units.NewWithOptions(units.Options{Run: runner(out, nil)}))
	if u.ActiveKnown || u.ActiveUnreadable || len(calls) != 0 || !strings.Contains(u.ActiveSource, `"bash"`) {
		t.Errorf("active %v %q calls %v", u.ActiveKnown, u.ActiveSource, calls)
	}

	// An image is never asked.
	files["proc/1/comm"] = "systemd\n"
	u, _ = collectUnits(t, tree(t, files), units.NewWithOptions(units.Options{Run: runner(out, nil)}))
	if u.ActiveKnown || len(calls) != 0 {
		t.Errorf("image: active %v calls %v", u.ActiveKnown, calls)
	}
}

func TestParseUnit(t *testing.T) {
	u := units.ParseUnit([]byte("[Unit]\nWantedBy=nope.target\n[Install]\n# WantedBy=commented.target\nWantedBy=a.target \\\n  b.target\nAlso=x.socket\nAlso=\nAlias=y.service\n[Socket]\nService=s.service\nAccept=yes\n"))
	if !u.Install || len(u.Also) != 0 || !slices.Equal(u.Alias, []string{"y.service"}) || u.Starts != "s.service" || !u.Accept {
		t.Errorf("%+v", u)
	}
	if u := units.ParseUnit([]byte("[Install]\nAlso=x.socket\n")); u.Install || !slices.Equal(u.Also, []string{"x.socket"}) {
		t.Errorf("%+v", u)
	}
	if u := units.ParseUnit([]byte("[Install]\nWantedBy=\n")); u.Install {
		t.Errorf("an empty WantedBy= empties the list: %+v", u)
	}
	if u := units.ParseUnit([]byte("[Timer]\nUnit=check.service\r\n")); u.Starts != "check.service" {
		t.Errorf("%+v", u)
	}
}

func TestParseListUnits(t *testing.T) {
	got, trunc := units.ParseListUnits([]byte("a.service loaded active running A\n\n* b.socket loaded failed failed B\nnot a unit line\nc.timer loaded\n"), 10)
	want := []units.LiveUnit{{Name: "a.service", Load: "loaded", Active: "active", Sub: "running"}, {Name: "b.socket", Load: "loaded", Active: "failed", Sub: "failed"}}
	if !slices.Equal(got, want) || trunc {
		t.Errorf("%+v %v", got, trunc)
	}
	if got, trunc := units.ParseListUnits([]byte("a.service l a r\nb.service l a r\n"), 1); len(got) != 1 || !trunc {
		t.Errorf("cap: %+v %v", got, trunc)
	}
}

func FuzzParseUnit(f *testing.F) {
	for _, s := range []string{wanted, static, indirect, "[Socket]\nAccept=yes\\\n#c\nService=x.service\n", "\\", "[", "[Install]\nAlso=\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		u := units.ParseUnit(b)
		if u.Install && len(u.Alias) == 0 && !strings.Contains(string(b), "By") {
			t.Errorf("Install without WantedBy/RequiredBy/UpheldBy/Alias: %q", b)
		}
	})
}

func FuzzParseListUnits(f *testing.F) {
	f.Add([]byte("cron.service loaded active running Regular background\n● x.service not-found inactive dead x\n"))
	f.Add([]byte("\xff\xfe.service a b c\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		got, _ := units.ParseListUnits(b, 100)
		if len(got) > 100 {
			t.Fatalf("%d units past the cap", len(got))
		}
		for _, u := range got {
			if !units.ValidName(u.Name) || u.Load == "" || u.Active == "" || u.Sub == "" {
				t.Errorf("bad unit %+v from %q", u, b)
			}
		}
	})
}
