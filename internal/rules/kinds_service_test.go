package rules_test

import (
	"strings"
	"testing"

	"github.com/kensa-dev/kensa/internal/finding"
	"github.com/kensa-dev/kensa/internal/host"
	"github.com/kensa-dev/kensa/internal/rules"
)

// The live paths of service_state (the fixture roots are images, whose
// active state is unknown).
func TestServiceStateLive(t *testing.T) {
	inv := func(active bool, us map[string]host.Unit, pkgs ...string) *host.Inventory {
		i := &host.Inventory{
			Collectors: []host.CollectorRun{{Name: "pkg/dpkg", Status: host.StatusOK}},
			Config: &host.Config{Units: &host.Units{Manager: "systemd", Units: us, ActiveKnown: active,
				ActiveSource: map[bool]string{true: "systemctl list-units", false: "an image: whether units are active is not known"}[active]}},
		}
		for _, p := range pkgs {
			i.Packages = append(i.Packages, host.Package{Name: p, Version: "1.0", Manager: "dpkg"})
		}
		return i
	}
	enabled := host.Unit{State: "enabled", Path: "/lib/systemd/system/x.service", Links: []string{"/etc/systemd/system/multi-user.target.wants/x.service"}}
	disabled := host.Unit{State: "disabled", Path: "/lib/systemd/system/x.service"}
	with := func(u host.Unit, active string) host.Unit { u.Active = active; return u }
	incomplete := func(i *host.Inventory) *host.Inventory {
		i.Config.Units.Incomplete = true
		i.Config.Units.Source = "only the first 10000 entries of /lib/systemd/system were read"
		return i
	}
	notInUse := &rules.ServiceStateCheck{Want: "not_in_use", Packages: []string{"avahi-daemon"}, Units: []string{"avahi-daemon.service", "avahi-daemon.socket"}}
	enable := &rules.ServiceStateCheck{Want: "enabled", Packages: []string{"cron"}, Units: []string{"cron.service"}}
	oneOf := &rules.ServiceStateCheck{Want: "one_of", Units: []string{"systemd-timesyncd.service", "chrony.service", "chronyd.service"}}

	for _, tc := range []struct {
		name   string
		check  *rules.ServiceStateCheck
		inv    *host.Inventory
		status string
		ev     string
	}{
		{"no units collected, package absent", notInUse, &host.Inventory{Collectors: []host.CollectorRun{{Name: "pkg/dpkg", Status: host.StatusOK}}}, finding.StatusPass, "unit state not collected"},
		{"no units collected, package present", notInUse, &host.Inventory{Collectors: []host.CollectorRun{{Name: "pkg/dpkg", Status: host.StatusOK}}, Packages: []host.Package{{Name: "avahi-daemon", Version: "0.8", Manager: "dpkg"}}}, finding.StatusError, "not collected"},
		{"no package database", notInUse, &host.Inventory{}, finding.StatusError, "no package database"},
		{"disabled but running", notInUse, inv(true, map[string]host.Unit{"avahi-daemon.service": with(disabled, "active")}, "avahi-daemon"), finding.StatusFail, "avahi-daemon.service: disabled"},
		{"disabled, socket running", notInUse, inv(true, map[string]host.Unit{
			"avahi-daemon.service": {State: "disabled", TriggeredBy: []string{"avahi-daemon.socket"}},
			"avahi-daemon.socket":  with(disabled, "active")}, "avahi-daemon"), finding.StatusFail, "active avahi-daemon.socket"},
		{"disabled and stopped", notInUse, inv(true, map[string]host.Unit{"avahi-daemon.service": with(disabled, "inactive")}, "avahi-daemon"), finding.StatusPass, "package is present but its units are not in use"},
		{"systemd runs but its states are unreadable", notInUse, func() *host.Inventory {
			i := inv(false, map[string]host.Unit{"avahi-daemon.service": disabled}, "avahi-daemon")
			i.Config.Units.ActiveUnreadable = true
			i.Config.Units.ActiveSource = "/usr/bin/systemctl list-units failed: timeout: whether units are active is not known"
			return i
		}(), finding.StatusError, "avahi-daemon.service: disabled"},
		{"masked, image", notInUse, inv(false, map[string]host.Unit{"avahi-daemon.service": {State: "masked", MaskedBy: "/etc/systemd/system/avahi-daemon.service", Links: enabled.Links}}, "avahi-daemon"), finding.StatusPass, "judged on enablement only"},
		{"enabled without the package", notInUse, inv(false, map[string]host.Unit{"avahi-daemon.service": enabled}), finding.StatusFail, "outside the package manager"},
		{"enabled and running", enable, inv(true, map[string]host.Unit{"cron.service": with(enabled, "active")}, "cron"), finding.StatusPass, "enabled by /etc/systemd/system"},
		{"enabled, stopped", enable, inv(true, map[string]host.Unit{"cron.service": with(enabled, "failed")}, "cron"), finding.StatusFail, "want it active"},
		{"enabled, image", enable, inv(false, map[string]host.Unit{"cron.service": enabled}, "cron"), finding.StatusPass, "judged on enablement only"},
		{"not installed", enable, inv(true, map[string]host.Unit{}), finding.StatusNotApplicable, ""},
		{"sysv enabled", enable, inv(false, map[string]host.Unit{"cron.service": {State: "generated", Path: "/etc/init.d/cron", Links: []string{"/etc/rc2.d/S01cron"}}}, "cron"), finding.StatusPass, "SysV script /etc/init.d/cron enabled by /etc/rc2.d/S01cron"},
		{"one of: alias and its unit count once", oneOf, inv(true, map[string]host.Unit{
			"chrony.service":  with(enabled, "active"),
			"chronyd.service": {State: "alias", AliasOf: "chrony.service"},
		}), finding.StatusPass, "in use: chrony.service"},
		{"one of: two", oneOf, inv(true, map[string]host.Unit{
			"chrony.service":            with(enabled, "active"),
			"systemd-timesyncd.service": with(enabled, "active"),
		}), finding.StatusFail, "more than one"},
		{"one of: enabled but not running", oneOf, inv(true, map[string]host.Unit{"chrony.service": with(enabled, "inactive")}), finding.StatusFail, "none of"},
		// A unit file that could not be read: its links still enable it.
		{"unreadable unit with a link", notInUse, inv(false, map[string]host.Unit{"avahi-daemon.service": {State: "bad", Path: "/lib/systemd/system/avahi-daemon.service", Links: enabled.Links}}, "avahi-daemon"), finding.StatusFail, "could not be read; enabled by /etc/systemd/system/multi-user.target.wants/x.service"},
		{"unreadable unit without links", notInUse, inv(false, map[string]host.Unit{"avahi-daemon.service": {State: "bad", Path: "/lib/systemd/system/avahi-daemon.service"}}, "avahi-daemon"), finding.StatusError, "could not be read"},
		{"unreadable unit, enabled wanted", enable, inv(false, map[string]host.Unit{"cron.service": {State: "bad", Path: "/lib/systemd/system/cron.service", Links: enabled.Links}}, "cron"), finding.StatusError, "could not be read"},
		// An incomplete listing: a missing unit may exist, a found one
		// may have lost its links.
		{"incomplete: not-found with a link", notInUse, incomplete(inv(false, map[string]host.Unit{"avahi-daemon.service": {State: "not-found", Links: enabled.Links}}, "avahi-daemon")), finding.StatusFail, "listing is incomplete); enabled by"},
		{"incomplete: not-found", notInUse, incomplete(inv(false, map[string]host.Unit{}, "avahi-daemon")), finding.StatusError, "may have a unit file that was not read"},
		{"incomplete: disabled", notInUse, incomplete(inv(false, map[string]host.Unit{"avahi-daemon.service": disabled, "avahi-daemon.socket": disabled}, "avahi-daemon")), finding.StatusError, "a link that enables one of the units may not have been read"},
		{"incomplete: enabled wanted, not found", enable, incomplete(inv(false, map[string]host.Unit{}, "cron")), finding.StatusError, "may have a unit file"},
		{"incomplete: one of, one unknown", oneOf, incomplete(inv(false, map[string]host.Unit{"chrony.service": enabled})), finding.StatusError, "listing is incomplete"},
		{"complete: not-found passes", notInUse, inv(false, map[string]host.Unit{}, "avahi-daemon"), finding.StatusPass, "no unit file (not-found)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := (&rules.Check{ServiceState: tc.check}).Evaluate(tc.inv)
			all := strings.Join(o.Evidence, "; ") + " | " + o.Reason
			if o.Status != tc.status || !strings.Contains(all, tc.ev) {
				t.Errorf("%s: %s, want %s with %q", tc.name, all, tc.status, tc.ev)
			}
		})
	}
}
