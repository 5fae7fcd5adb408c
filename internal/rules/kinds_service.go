package rules

import (
	"errors"
	"fmt"
	"strings"

	"github.com/kensa-dev/kensa/internal/collect/units"
	"github.com/kensa-dev/kensa/internal/finding"
	"github.com/kensa-dev/kensa/internal/host"
)

// ServiceStateCheck checks what the service manager starts: that a
// service is not in use, that it is enabled and running, or that exactly
// one of alternatives is.
type ServiceStateCheck struct {
	// Units are systemd unit names ("avahi-daemon.service",
	// "avahi-daemon.socket"); a unit without a unit file may be a SysV
	// script of the service's name.
	Units []string `yaml:"units"`
	// Packages are the OS packages that ship the service. not_in_use
	// passes when none is installed; enabled is not applicable then.
	Packages []string `yaml:"packages"`
	// Want is not_in_use (no unit starts at boot and, when known, none
	// is active), absent_or_masked (none of the packages is installed,
	// or every unit is masked and, when known, not active: what the
	// Amazon Linux 2 benchmark asks of NFS, rpcbind and rsync, where a
	// disabled unit is not enough, because a dependency or an
	// administrator can still start it), enabled (every unit starts at
	// boot and, when known, is active) or one_of (exactly one of the
	// units does).
	Want string `yaml:"want"`
	// SystemdOnly makes the check not applicable on a root that is not
	// run by systemd (journald on a SysV system).
	SystemdOnly bool `yaml:"systemd_only"`
}

const (
	wantNotInUse       = "not_in_use"
	wantAbsentOrMasked = "absent_or_masked"
	wantEnabled        = "enabled"
	wantOneOf          = "one_of"
)

func (c *ServiceStateCheck) validate() error {
	if len(c.Units) == 0 {
		return errors.New("service_state: units is required")
	}
	for _, u := range c.Units {
		if !units.ValidName(u) {
			return fmt.Errorf("service_state: %q is not a unit name (name.service, name.socket, name.timer...)", u)
		}
	}
	switch c.Want {
	case wantNotInUse, wantEnabled:
	case wantAbsentOrMasked:
		if len(c.Packages) == 0 {
			return errors.New("service_state: absent_or_masked needs packages")
		}
	case wantOneOf:
		if len(c.Units) < 2 {
			return errors.New("service_state: one_of needs at least two units")
		}
		if len(c.Packages) > 0 {
			return errors.New("service_state: one_of takes no packages")
		}
	default:
		return fmt.Errorf("service_state: want %q: want not_in_use, absent_or_masked, enabled or one_of", c.Want)
	}
	return nil
}

// unitView is what a rule needs to know of one unit.
type unitView struct {
	name string
	// boot is true when the unit starts at boot: enabled, pulled in by
	// a vendor link, an enabled SysV script, or started by a socket,
	// timer or path unit that itself starts at boot.
	boot bool
	// active is the running systemd's word ("" when not known).
	active string
	// activeTriggers are trigger units the running systemd has active.
	activeTriggers []string
	// unknown says why the unit's state could not be told (its file
	// could not be read, or it is missing from an incomplete listing);
	// boot may still be true when links enable it.
	unknown string
	// masked is true when the unit (or the unit an alias names) is
	// masked.
	masked bool
	line   string
}

// running reports whether an ACTIVE column value means the unit runs (or
// is about to).
func running(active string) bool {
	return active == "active" || active == "activating" || active == "reloading" || active == "refreshing"
}

// viewUnit describes a unit, following an alias to the unit it names.
func viewUnit(u *host.Units, name string) unitView {
	v := unitView{name: name}
	unit, ok := u.Units[name]
	prefix := name
	for i := 0; ok && unit.State == "alias" && unit.AliasOf != "" && i < 8; i++ {
		prefix += " (alias of " + unit.AliasOf + ")"
		unit, ok = u.Units[unit.AliasOf]
	}
	if (!ok || unit.State == "not-found") && u.Incomplete {
		// The unit file may be among the entries that were not read;
		// links to it still say it starts at boot.
		v.unknown = "the unit listing is incomplete (" + u.Source + "): " + name + " may have a unit file that was not read"
		v.line = prefix + ": no unit file among the entries read (the listing is incomplete)"
		if links := append(append([]string(nil), unit.Links...), unit.VendorLinks...); len(links) > 0 {
			v.boot = true
			v.line += "; enabled by " + strings.Join(links, ", ")
		}
		if u.ActiveKnown && ok {
			v.active = unit.Active
		}
		return v
	}
	if !ok || unit.State == "not-found" {
		v.line = prefix + ": no unit file (not-found)"
		if ok && len(unit.Links) > 0 {
			v.line += "; dangling links " + strings.Join(unit.Links, ", ")
		}
		if u.ActiveKnown && ok {
			v.active = unit.Active
		}
		return v
	}
	var why []string
	switch unit.State {
	case "masked", "masked-runtime":
		why = append(why, fmt.Sprintf("%s by %s", unit.State, unit.MaskedBy))
	case "enabled", "enabled-runtime":
		v.boot = true
		why = append(why, unit.State+" by "+strings.Join(unit.Links, ", "))
	case "bad":
		// The unit file could not be read (too large, a loop, an I/O
		// error): what it says is unknown, but links to it enable it
		// all the same.
		v.unknown = "the unit file " + unit.Path + " could not be read"
		if len(unit.Links) > 0 {
			v.boot = true
			why = append(why, "unit file "+unit.Path+" could not be read; enabled by "+strings.Join(unit.Links, ", "))
		} else {
			why = append(why, "unit file "+unit.Path+" could not be read")
		}
	case "generated", "sysv":
		if len(unit.Links) > 0 {
			v.boot = true
			why = append(why, "SysV script "+unit.Path+" enabled by "+strings.Join(unit.Links, ", "))
		} else {
			why = append(why, "SysV script "+unit.Path+" without start links in /etc/rc[2-5].d")
		}
	default:
		if strings.HasPrefix(unit.Path, "/etc/init.d/") {
			// A SysV script on a root without systemd.
			if len(unit.Links) > 0 {
				v.boot = true
				why = append(why, "SysV script "+unit.Path+" enabled by "+strings.Join(unit.Links, ", "))
			} else {
				why = append(why, "SysV script "+unit.Path+" without start links in /etc/rc[2-5].d")
			}
			break
		}
		why = append(why, unit.State+" ("+unit.Path+")")
	}
	masked := strings.HasPrefix(unit.State, "masked")
	v.masked = masked
	if !masked && unit.State != "enabled" && unit.State != "enabled-runtime" && len(unit.VendorLinks) > 0 {
		v.boot = true
		why = append(why, "pulled in as shipped by "+strings.Join(unit.VendorLinks, ", "))
	}
	for _, t := range unit.TriggeredBy {
		tu, ok := u.Units[t]
		if !ok {
			continue
		}
		tb := false
		var tw string
		switch {
		case strings.HasPrefix(tu.State, "masked"):
		case tu.State == "enabled" || tu.State == "enabled-runtime":
			tb, tw = true, tu.State+" by "+strings.Join(tu.Links, ", ")
		case len(tu.VendorLinks) > 0:
			tb, tw = true, "pulled in as shipped by "+strings.Join(tu.VendorLinks, ", ")
		}
		if tb && !masked {
			v.boot = true
			why = append(why, fmt.Sprintf("started by %s, %s", t, tw))
		}
		if u.ActiveKnown && running(tu.Active) {
			v.activeTriggers = append(v.activeTriggers, t)
		}
	}
	if u.ActiveKnown {
		v.active = unit.Active
		if v.active == "" {
			v.active = "inactive"
		}
		state := v.active
		if unit.Sub != "" {
			state += " (" + unit.Sub + ")"
		}
		why = append(why, state)
		if len(v.activeTriggers) > 0 {
			why = append(why, "active "+strings.Join(v.activeTriggers, ", "))
		}
	}
	v.line = prefix + ": " + strings.Join(why, "; ")
	return v
}

// installedPackages returns the installed versions of the check's
// packages, or an outcome when no package database was read.
func (c *ServiceStateCheck) installedPackages(inv *host.Inventory) (map[string]string, *Outcome) {
	all, o := installedPackages(inv)
	if o != nil {
		return nil, o
	}
	out := map[string]string{}
	for _, name := range c.Packages {
		if v, ok := all[name]; ok {
			out[name] = v
		}
	}
	return out, nil
}

// unitsFacts returns the unit facts, or the outcome when they are missing.
func unitsFacts(inv *host.Inventory) (*host.Units, *Outcome) {
	if inv.Config != nil && inv.Config.Units != nil {
		return inv.Config.Units, nil
	}
	reason := "the service manager's units were not collected"
	for _, r := range inv.Collectors {
		if r.Name == "config/units" && r.Reason != "" {
			reason += ": " + r.Reason
		}
	}
	o := errorf("%s", reason)
	return nil, &o
}

// activeNote is the evidence line saying the active state is not known.
func activeNote(u *host.Units) string {
	return "judged on enablement only: " + u.ActiveSource
}

func (c *ServiceStateCheck) evaluate(inv *host.Inventory) Outcome {
	var ev []string
	var installed map[string]string
	if len(c.Packages) > 0 {
		var o *Outcome
		if installed, o = c.installedPackages(inv); o != nil {
			return *o
		}
		for _, p := range c.Packages {
			if v, ok := installed[p]; ok {
				ev = append(ev, fmt.Sprintf("package %s %s is installed", p, v))
			}
		}
		if len(installed) == 0 {
			ev = append(ev, "not installed: "+strings.Join(c.Packages, ", "))
		}
	}
	switch c.Want {
	case wantNotInUse:
		return c.notInUse(inv, installed, ev)
	case wantAbsentOrMasked:
		return c.absentOrMasked(inv, installed, ev)
	case wantEnabled:
		return c.enabled(inv, installed, ev)
	}
	return c.oneOf(inv)
}

func (c *ServiceStateCheck) notInUse(inv *host.Inventory, installed map[string]string, ev []string) Outcome {
	u, o := unitsFacts(inv)
	if o != nil {
		if len(c.Packages) > 0 && len(installed) == 0 {
			// The packages are absent: the service is not installed the
			// way the distribution ships it, which is what the control
			// asks; the unit state could not be looked at as well.
			return pass(append(ev, "unit state not collected: "+o.Reason)...)
		}
		return *o
	}
	good := true
	var unknown []string
	for _, name := range c.Units {
		v := viewUnit(u, name)
		inUse := v.boot || running(v.active) || len(v.activeTriggers) > 0
		if inUse {
			good = false
			ev = append(ev, v.line+"; want it disabled or masked, and stopped")
		} else {
			ev = append(ev, v.line)
			if v.unknown != "" {
				unknown = append(unknown, v.unknown)
			}
		}
	}
	if !u.ActiveKnown {
		ev = append(ev, activeNote(u))
	}
	if good && len(unknown) > 0 {
		return Outcome{Status: finding.StatusError, Evidence: ev, Reason: strings.Join(unknown, "; ")}
	}
	if good && u.Incomplete {
		// A link that would enable a unit found here may be among the
		// entries that were not read.
		return Outcome{Status: finding.StatusError, Evidence: ev,
			Reason: "the unit listing is incomplete (" + u.Source + "): a link that enables one of the units may not have been read"}
	}
	if good && u.ActiveUnreadable {
		return Outcome{Status: finding.StatusError, Evidence: ev,
			Reason: "systemd runs this host but which units are active could not be read (" + u.ActiveSource + "): a unit may run without being enabled"}
	}
	if good {
		if len(installed) > 0 {
			ev = append(ev, "the package is present but its units are not in use")
		}
		return pass(ev...)
	}
	if len(c.Packages) > 0 && len(installed) == 0 {
		ev = append(ev, "a unit is in use although no package of the service is installed (installed outside the package manager?)")
	}
	return fail(ev...)
}

// absentOrMasked passes when none of the packages is installed, or when
// every unit is masked and, when the running state is known, not active.
func (c *ServiceStateCheck) absentOrMasked(inv *host.Inventory, installed map[string]string, ev []string) Outcome {
	if len(installed) == 0 {
		return pass(ev...)
	}
	u, o := unitsFacts(inv)
	if o != nil {
		return *o
	}
	good := true
	for _, name := range c.Units {
		v := viewUnit(u, name)
		switch {
		case v.unknown != "":
			return Outcome{Status: finding.StatusError, Evidence: append(ev, v.line), Reason: v.unknown}
		case !v.masked || running(v.active):
			good = false
			ev = append(ev, v.line+"; want it masked and stopped, or the package removed")
		default:
			ev = append(ev, v.line)
		}
	}
	if !u.ActiveKnown {
		ev = append(ev, activeNote(u))
	}
	if good {
		return pass(ev...)
	}
	return fail(ev...)
}

func (c *ServiceStateCheck) enabled(inv *host.Inventory, installed map[string]string, ev []string) Outcome {
	if len(c.Packages) > 0 && len(installed) == 0 {
		return notApplicable("not installed: " + strings.Join(c.Packages, ", "))
	}
	u, o := unitsFacts(inv)
	if o != nil {
		return *o
	}
	if c.SystemdOnly && u.Manager != "systemd" {
		return notApplicable("the system is not run by systemd (" + u.Manager + ")")
	}
	good := true
	var unknown []string
	for _, name := range c.Units {
		v := viewUnit(u, name)
		switch {
		case v.unknown != "" && (v.boot || u.Incomplete):
			// Enabled by links to a file that could not be read, or
			// perhaps present among the entries that were not read.
			unknown = append(unknown, v.unknown)
			ev = append(ev, v.line)
		case !v.boot:
			good = false
			ev = append(ev, v.line+"; want it enabled")
		case u.ActiveKnown && !running(v.active) && len(v.activeTriggers) == 0:
			good = false
			ev = append(ev, v.line+"; want it active")
		default:
			ev = append(ev, v.line)
		}
	}
	if !u.ActiveKnown {
		ev = append(ev, activeNote(u))
	}
	if good && len(unknown) > 0 {
		return Outcome{Status: finding.StatusError, Evidence: ev, Reason: strings.Join(unknown, "; ")}
	}
	if good {
		return pass(ev...)
	}
	return fail(ev...)
}

func (c *ServiceStateCheck) oneOf(inv *host.Inventory) Outcome {
	u, o := unitsFacts(inv)
	if o != nil {
		return *o
	}
	var ev, chosen, unknown []string
	seen := map[string]bool{}
	for _, name := range c.Units {
		v := viewUnit(u, name)
		// An alias and the unit it names are one daemon.
		real := name
		if unit, ok := u.Units[name]; ok && unit.State == "alias" && unit.AliasOf != "" {
			real = unit.AliasOf
		}
		if seen[real] {
			continue
		}
		seen[real] = true
		ev = append(ev, v.line)
		if v.unknown != "" {
			unknown = append(unknown, v.unknown)
			continue
		}
		if v.boot && (!u.ActiveKnown || running(v.active) || len(v.activeTriggers) > 0) {
			chosen = append(chosen, real)
		}
	}
	if !u.ActiveKnown {
		ev = append(ev, activeNote(u))
	}
	if len(chosen) < 2 && len(unknown) > 0 {
		// One unknown unit may be the one in use, or a second one.
		return Outcome{Status: finding.StatusError, Evidence: ev, Reason: strings.Join(unknown, "; ")}
	}
	switch len(chosen) {
	case 1:
		return pass(append([]string{"in use: " + chosen[0]}, ev...)...)
	case 0:
		state := "starts at boot and runs"
		if !u.ActiveKnown {
			state = "starts at boot"
		}
		return fail(append([]string{"none of " + strings.Join(c.Units, ", ") + " " + state + "; want exactly one"}, ev...)...)
	}
	return fail(append([]string{"more than one is in use: " + strings.Join(chosen, ", ") + "; want exactly one"}, ev...)...)
}
