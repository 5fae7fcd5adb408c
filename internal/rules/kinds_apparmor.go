package rules

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/kensa-dev/kensa/internal/collect/apparmor"
	"github.com/kensa-dev/kensa/internal/host"
)

// AppArmorProfiles checks that AppArmor is active in the running kernel
// with profiles loaded, that every loaded profile is in one of the
// accepted modes, and that no process runs unconfined although a loaded
// profile names its executable (it started before the profile was loaded,
// or escaped it).
type AppArmorProfiles struct {
	// Modes are the accepted profile modes (enforce, complain, kill).
	Modes []string `yaml:"modes"`
}

func (c *AppArmorProfiles) validate() error {
	if len(c.Modes) == 0 {
		return errors.New("apparmor_profiles: modes are required")
	}
	return nil
}

func (c *AppArmorProfiles) evaluate(inv *host.Inventory) Outcome {
	if inv.Config == nil || inv.Config.AppArmor == nil {
		return errorf("AppArmor facts were not collected")
	}
	aa := inv.Config.AppArmor
	if !aa.Live {
		return notApplicable("loaded profiles are a fact of a running kernel; " + aa.Source)
	}
	if !aa.EnabledKnown {
		return errorf("whether AppArmor is enabled could not be read: %s", aa.Source)
	}
	if !aa.KernelEnabled {
		return fail("AppArmor is not enabled in the running kernel: " + aa.Source)
	}
	if !aa.ProfilesRead {
		return errorf("the running kernel's AppArmor profiles could not be read (/sys/kernel/security/apparmor/profiles; run as root with securityfs mounted)")
	}
	if len(aa.Profiles) == 0 {
		return fail("AppArmor is enabled but no profile is loaded")
	}
	var bad []string
	counts := map[string]int{}
	for _, p := range aa.Profiles {
		counts[p.Mode]++
		if !slices.Contains(c.Modes, p.Mode) && len(bad) < 20 {
			bad = append(bad, "profile "+apparmor.String(p)+" is in mode "+p.Mode)
		}
	}
	for _, proc := range aa.Unconfined {
		for _, p := range aa.Profiles {
			if apparmor.Attaches(p.Name, proc.Exe) {
				bad = append(bad, fmt.Sprintf("process %d (%s) runs unconfined although profile %s is loaded for it", proc.PID, proc.Exe, apparmor.String(p)))
				break
			}
		}
	}
	var modes []string
	for _, m := range slices.Sorted(maps.Keys(counts)) {
		modes = append(modes, fmt.Sprintf("%d %s", counts[m], m))
	}
	summary := fmt.Sprintf("%d AppArmor profiles loaded (%s); %d of %d processes confined", len(aa.Profiles), strings.Join(modes, ", "), aa.Confined, aa.Processes)
	if aa.ProcessesTruncated {
		summary += " (process list cut short)"
	}
	if len(bad) > 0 {
		return fail(append([]string{summary}, bad...)...)
	}
	return pass(summary)
}
