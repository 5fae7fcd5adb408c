package rules_test

import (
	"strings"
	"testing"

	"github.com/kensa-dev/kensa/internal/finding"
	"github.com/kensa-dev/kensa/internal/host"
	"github.com/kensa-dev/kensa/internal/rules"
)

// The running value decides on a live host, and a persisted value that
// differs fails too (it applies at the next boot); an image is judged on
// what it persists. running_only (best practices' ASLR) looks at the
// running value alone.
func TestSysctlPersistence(t *testing.T) {
	set := func(v string) map[string]host.Setting {
		return map[string]host.Setting{"k": {Value: v, File: "/etc/sysctl.d/60-x.conf", Line: 3}}
	}
	live := func(run string, pers map[string]host.Setting) *host.Inventory {
		return &host.Inventory{Config: &host.Config{Sysctl: &host.Sysctl{Running: map[string]string{"k": run}, Persisted: pers}}}
	}
	image := func(pers map[string]host.Setting) *host.Inventory {
		return &host.Inventory{Config: &host.Config{Sysctl: &host.Sysctl{Persisted: pers}}}
	}
	check := &rules.SysctlKey{Key: "k", Equals: "0"}
	runningOnly := &rules.SysctlKey{Key: "k", Equals: "0", RunningOnly: true}
	for _, c := range []struct {
		name  string
		check *rules.SysctlKey
		inv   *host.Inventory
		want  string
		ev    string
	}{
		{"live, good, not persisted", check, live("0", nil), finding.StatusPass, "not persisted"},
		{"live, good, persisted good", check, live("0", set("0")), finding.StatusPass, "60-x.conf:3"},
		{"live, good, persisted bad", check, live("0", set("1")), finding.StatusFail, "applies at the next boot"},
		{"live, bad", check, live("1", set("0")), finding.StatusFail, "= 1 (running)"},
		{"image, persisted good", check, image(set("0")), finding.StatusPass, "applied at boot"},
		{"image, persisted bad", check, image(set("1")), finding.StatusFail, "persisted 1"},
		{"image, not persisted", check, image(nil), finding.StatusNotApplicable, ""},
		{"running only, persisted bad", runningOnly, live("0", set("1")), finding.StatusPass, ""},
		{"running only, image", runningOnly, image(set("0")), finding.StatusNotApplicable, ""},
	} {
		got := (&rules.Check{Sysctl: c.check}).Evaluate(c.inv)
		if got.Status != c.want || !strings.Contains(strings.Join(got.Evidence, "\n"), c.ev) {
			t.Errorf("%s: %s %q (%s), want %s with %q", c.name, got.Status, got.Evidence, got.Reason, c.want, c.ev)
		}
	}
}

// A passing all-combination says which of its checks could not apply.
func TestAllPassNamesNotApplicable(t *testing.T) {
	inv := &host.Inventory{Config: &host.Config{
		Sysctl: &host.Sysctl{},
		CPU:    &host.CPU{Arch: "x86_64", CPUs: 1, NXCPUs: 1},
	}}
	all := rules.Check{All: []rules.Check{{CPUNX: &rules.CPUNX{}}, {Sysctl: &rules.SysctlKey{Key: "fs.suid_dumpable", Equals: "0"}}}}
	got := all.Evaluate(inv)
	if got.Status != finding.StatusPass || !strings.Contains(strings.Join(got.Evidence, "\n"), "not applicable: no running kernel to read fs.suid_dumpable") {
		t.Errorf("%+v", got)
	}
}
