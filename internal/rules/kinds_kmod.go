package rules

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/kensa-dev/kensa/internal/collect/kmod"
	"github.com/kensa-dev/kensa/internal/finding"
	"github.com/kensa-dev/kensa/internal/host"
)

// KernelModuleCheck checks that kernel modules cannot be loaded.
type KernelModuleCheck struct {
	// Disabled are the module names ("-" and "_" compare equal).
	Disabled []string `yaml:"disabled"`
}

// disablingCommands are the install commands that make modprobe load
// nothing.
var disablingCommands = []string{"/bin/false", "/bin/true", "/usr/bin/false", "/usr/bin/true"}

// disables reports whether an install command only runs false or true (a
// trailing shell comment allowed).
func disables(cmd string) bool {
	f := strings.Fields(cmd)
	return len(f) > 0 && slices.Contains(disablingCommands, f[0]) && (len(f) == 1 || strings.HasPrefix(f[1], "#"))
}

func (c *KernelModuleCheck) evaluate(inv *host.Inventory) Outcome {
	if inv.Config == nil || inv.Config.Modules == nil {
		return errorf("kernel module facts were not collected")
	}
	var outs []Outcome
	for _, name := range c.Disabled {
		outs = append(outs, c.one(inv.Config.Modules, name))
	}
	counts := map[string]int{}
	var ev, reasons []string
	for _, o := range outs {
		counts[o.Status]++
		ev = append(ev, o.Evidence...)
		if o.Reason != "" {
			reasons = append(reasons, o.Reason)
		}
	}
	reason := strings.Join(reasons, "; ")
	switch {
	case counts[finding.StatusFail] > 0:
		return Outcome{Status: finding.StatusFail, Evidence: ev, Reason: reason}
	case counts[finding.StatusError] > 0:
		return Outcome{Status: finding.StatusError, Evidence: ev, Reason: reason}
	case counts[finding.StatusNotApplicable] == len(outs):
		return Outcome{Status: finding.StatusNotApplicable, Evidence: ev, Reason: reason}
	}
	return pass(ev...)
}

func (c *KernelModuleCheck) one(km *host.KernelModules, name string) Outcome {
	key := kmod.Normalize(name)
	m, ok := km.Modules[key]
	if !ok {
		if km.Release == "" {
			return notApplicable(fmt.Sprintf("no kernel module tree to examine for %s: %s", name, km.Source))
		}
		return errorf("module %s was not examined: %s", name, km.Source)
	}
	dir := "/lib/modules/" + km.Release
	if m.Loaded {
		return fail(fmt.Sprintf("/proc/modules: %s is loaded", name))
	}
	if m.BuiltIn {
		return fail(fmt.Sprintf("%s/modules.builtin: %s is built into kernel %s (modprobe configuration cannot stop it)", dir, name, km.Release))
	}
	if !m.Available {
		return pass(fmt.Sprintf("%s: no %s.ko* module file, and it is not built in", dir, name))
	}
	var ev []string
	good := true
	switch {
	case m.Install == nil:
		good = false
		ev = append(ev, fmt.Sprintf("modprobe.d: no install line for %s; want install %s /bin/false", name, name))
	case !disables(m.Install.Value):
		good = false
		ev = append(ev, fmt.Sprintf("%s: install %s %s (the first install line wins); want /bin/false or /bin/true", where(*m.Install), name, m.Install.Value))
	default:
		ev = append(ev, fmt.Sprintf("%s: install %s %s", where(*m.Install), name, m.Install.Value))
	}
	if m.Blacklisted == nil {
		good = false
		ev = append(ev, fmt.Sprintf("modprobe.d: no blacklist line for %s; want blacklist %s", name, name))
	} else {
		ev = append(ev, fmt.Sprintf("%s: blacklist %s", where(*m.Blacklisted), name))
	}
	ev = append(ev, fmt.Sprintf("%s: a %s.ko* module file exists for kernel %s", dir, name, km.Release))
	if good {
		return pass(ev...)
	}
	return fail(ev...)
}

func (c *KernelModuleCheck) validate() error {
	if len(c.Disabled) == 0 {
		return errors.New("kernel_module: disabled is required")
	}
	return nil
}
