package rules

import (
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/kensa-dev/kensa/internal/finding"
	"github.com/kensa-dev/kensa/internal/host"
)

// Check is a rule's check: exactly one check kind, or a combination.
// Adding a kind means adding a field here and its evaluate method.
type Check struct {
	// All passes when every sub-check passes; Any when one does; None
	// when none does.
	All  []Check `yaml:"all"`
	Any  []Check `yaml:"any"`
	None []Check `yaml:"none"`

	SSHDOption  *SSHDOption  `yaml:"sshd_option"`
	SSHDNumber  *SSHDNumber  `yaml:"sshd_number"`
	SSHDVersion *SSHDVersion `yaml:"sshd_version"`
	// SSHDList checks an algorithm list; SSHDAnySet that one of some
	// keywords is set.
	SSHDList     *SSHDList       `yaml:"sshd_list"`
	SSHDAnySet   *SSHDAnySet     `yaml:"sshd_any_set"`
	LoginDefs    *LoginDefsKey   `yaml:"login_defs"`
	ShadowMaxAge *ShadowMaxAge   `yaml:"shadow_max_age"`
	Sysctl       *SysctlKey      `yaml:"sysctl"`
	CPUNX        *CPUNX          `yaml:"cpu_nx"`
	PathMode     *PathMode       `yaml:"path_mode"`
	Password     *PasswordPolicy `yaml:"password_policy"`
	Packages     *PackagesCheck  `yaml:"packages"`

	// MountOption checks the options of a mounted file system.
	MountOption *MountOptionCheck `yaml:"mount_option"`

	// KernelModule checks that kernel modules cannot be loaded.
	KernelModule *KernelModuleCheck `yaml:"kernel_module"`

	// AppArmorProfiles checks the profiles loaded in the running kernel.
	AppArmorProfiles *AppArmorProfiles `yaml:"apparmor_profiles"`

	// PendingUpdates checks that no update of some archives is pending.
	PendingUpdates *PendingUpdates `yaml:"pending_updates"`

	// AptSourcesSigned checks that apt authenticates every source.
	AptSourcesSigned *AptSourcesSigned `yaml:"apt_sources_signed"`

	// ServiceState checks what the service manager starts (kinds_service.go).
	ServiceState *ServiceStateCheck `yaml:"service_state"`

	// PAM and account defaults (kinds_pam.go): module lines, effective
	// module options, shadow aging fields, useradd defaults, umask.
	PAMModule      *PAMModuleCheck `yaml:"pam_module"`
	PAMOption      *PAMOptionCheck `yaml:"pam_option"`
	ShadowAging    *ShadowAging    `yaml:"shadow_aging"`
	UserAddDefault *UserAddDefault `yaml:"useradd_default"`
	DefaultUmask   *DefaultUmask   `yaml:"default_umask"`

	// Account asserts a property of the local accounts.
	Account *AccountCheck `yaml:"account"`

	// FileLine matches lines of configuration files (kinds_files.go).
	FileLine *FileLineCheck `yaml:"file_line"`

	// FSWalk judges what the walk of the local file systems found
	// (kinds_fswalk.go; kensa scan --fs-walk).
	FSWalk *FSWalkCheck `yaml:"fs_walk"`

	// Network and firewall (kinds_net.go): listening sockets, wireless
	// interfaces, the firewall manager in use and the rules it loads.
	Listening       *ListeningCheck       `yaml:"listening"`
	Wireless        *WirelessCheck        `yaml:"wireless"`
	FirewallManager *FirewallManagerCheck `yaml:"firewall_manager"`
	FirewallRules   *FirewallRulesCheck   `yaml:"firewall_rules"`
}

// kinds returns the names of the kinds set in c.
func (c *Check) kinds() []string {
	var out []string
	v := reflect.ValueOf(c).Elem()
	t := v.Type()
	for i := range t.NumField() {
		f := v.Field(i)
		if (f.Kind() == reflect.Pointer && !f.IsNil()) || (f.Kind() == reflect.Slice && f.Len() > 0) {
			out = append(out, strings.Split(t.Field(i).Tag.Get("yaml"), ",")[0])
		}
	}
	return out
}

func (c *Check) validate() error {
	k := c.kinds()
	if len(k) != 1 {
		return fmt.Errorf("want exactly one check kind or combination, got %d (%s)", len(k), strings.Join(k, ", "))
	}
	for _, sub := range slices.Concat(c.All, c.Any, c.None) {
		if err := sub.validate(); err != nil {
			return err
		}
	}
	if kd := c.kind(); kd != nil {
		return kd.validate()
	}
	return nil
}

// kind is one check kind: a struct of its parameters that validates them
// at load and evaluates them on an inventory. Adding a kind means adding a
// pointer field to Check and a file with its type and these two methods.
type kind interface {
	validate() error
	evaluate(inv *host.Inventory) Outcome
}

// kind returns the check kind set in c, nil for a combination.
func (c *Check) kind() kind {
	v := reflect.ValueOf(c).Elem()
	for i := range v.NumField() {
		f := v.Field(i)
		if f.Kind() == reflect.Pointer && !f.IsNil() {
			if kd, ok := f.Interface().(kind); ok {
				return kd
			}
		}
	}
	return nil
}

// kindValues names the check kinds of c and its combinations as the
// rule's prose and a tailoring file name them: in depth-first order (a
// combination's checks in the order written, all, then any, then none),
// the first check of a kind by the kind's YAML name, the next ones with
// "_1", "_2", ... added. The names depend only on the rule's text. Each
// value is the pointer to the kind.
func (c *Check) kindValues() map[string]reflect.Value {
	out := map[string]reflect.Value{}
	seen := map[string]int{}
	var walk func(c *Check)
	walk = func(c *Check) {
		v := reflect.ValueOf(c).Elem()
		t := v.Type()
		for i := range t.NumField() {
			if f := v.Field(i); f.Kind() == reflect.Pointer && !f.IsNil() {
				name := strings.Split(t.Field(i).Tag.Get("yaml"), ",")[0]
				if n := seen[name]; n > 0 {
					out[fmt.Sprintf("%s_%d", name, n)] = f
				} else {
					out[name] = f
				}
				seen[name]++
			}
		}
		for _, list := range [][]Check{c.All, c.Any, c.None} {
			for i := range list {
				walk(&list[i])
			}
		}
	}
	walk(c)
	return out
}

// params are the check's parameters for the rule's prose: the kind's
// name (as kindValues names it) maps to its fields, by their YAML names.
func (c *Check) params() map[string]any {
	out := map[string]any{}
	for name, f := range c.kindValues() {
		fields := map[string]any{}
		e := f.Elem()
		for j := range e.NumField() {
			val := e.Field(j)
			if val.Kind() == reflect.Pointer {
				if val.IsNil() {
					continue
				}
				val = val.Elem()
			}
			fname := strings.Split(e.Type().Field(j).Tag.Get("yaml"), ",")[0]
			if val.Kind() == reflect.Slice {
				var parts []string
				for k := range val.Len() {
					parts = append(parts, fmt.Sprint(val.Index(k).Interface()))
				}
				fields[fname] = strings.Join(parts, ", ")
				continue
			}
			fields[fname] = val.Interface()
		}
		out[name] = fields
	}
	return out
}

// Outcome is what a check found.
type Outcome struct {
	// Status is finding.StatusPass, StatusFail, StatusNotApplicable or
	// StatusError.
	Status string
	// Evidence are the facts that decided, as short lines.
	Evidence []string
	// Reason explains a not_applicable or error outcome.
	Reason string
}

func pass(ev ...string) Outcome { return Outcome{Status: finding.StatusPass, Evidence: ev} }
func fail(ev ...string) Outcome { return Outcome{Status: finding.StatusFail, Evidence: ev} }
func notApplicable(reason string) Outcome {
	return Outcome{Status: finding.StatusNotApplicable, Reason: reason}
}
func errorf(format string, args ...any) Outcome {
	return Outcome{Status: finding.StatusError, Reason: fmt.Sprintf(format, args...)}
}

// Evaluate runs the check on an inventory.
func (c *Check) Evaluate(inv *host.Inventory) Outcome {
	switch {
	case len(c.All) > 0:
		return combine(inv, c.All, "all")
	case len(c.Any) > 0:
		return combine(inv, c.Any, "any")
	case len(c.None) > 0:
		return combine(inv, c.None, "none")
	}
	if kd := c.kind(); kd != nil {
		return kd.evaluate(inv)
	}
	return errorf("empty check")
}

// combine evaluates sub-checks. all: any fail fails, else any error is an
// error, else pass (not_applicable when every one is). any: one pass
// passes, else an error is an error, else fail. none: one pass fails.
func combine(inv *host.Inventory, subs []Check, op string) Outcome {
	var outs []Outcome
	counts := map[string]int{}
	for i := range subs {
		o := subs[i].Evaluate(inv)
		outs = append(outs, o)
		counts[o.Status]++
	}
	// The sub-checks that decide a failure come first in the evidence,
	// so the first line (a finding's subject) says why: the failed ones
	// of all, the passed ones of none.
	deciding := finding.StatusFail
	if op == "none" {
		deciding = finding.StatusPass
	}
	var ev, rest []string
	var reasons []string
	for _, o := range outs {
		if o.Status == deciding {
			ev = append(ev, o.Evidence...)
		} else {
			rest = append(rest, o.Evidence...)
		}
		if o.Reason != "" && !slices.Contains(reasons, o.Reason) {
			reasons = append(reasons, o.Reason)
		}
	}
	ev = append(ev, rest...)
	reason := strings.Join(reasons, "; ")
	switch op {
	case "all":
		switch {
		case counts[finding.StatusFail] > 0:
			return Outcome{Status: finding.StatusFail, Evidence: ev, Reason: reason}
		case counts[finding.StatusError] > 0:
			return Outcome{Status: finding.StatusError, Evidence: ev, Reason: reason}
		case counts[finding.StatusNotApplicable] == len(outs):
			return Outcome{Status: finding.StatusNotApplicable, Evidence: ev, Reason: reason}
		}
		// The parts that could not apply are said, so a pass never hides
		// what was not judged (a running value on an image).
		for _, o := range outs {
			if o.Status == finding.StatusNotApplicable && o.Reason != "" {
				ev = append(ev, "not applicable: "+o.Reason)
			}
		}
		return Outcome{Status: finding.StatusPass, Evidence: ev}
	case "any":
		switch {
		case counts[finding.StatusPass] > 0:
			// The alternatives that passed are the evidence; the others
			// did not decide.
			var passed []string
			for _, o := range outs {
				if o.Status == finding.StatusPass {
					passed = append(passed, o.Evidence...)
				}
			}
			return Outcome{Status: finding.StatusPass, Evidence: passed}
		case counts[finding.StatusError] > 0:
			return Outcome{Status: finding.StatusError, Evidence: ev, Reason: reason}
		case counts[finding.StatusNotApplicable] == len(outs):
			return Outcome{Status: finding.StatusNotApplicable, Evidence: ev, Reason: reason}
		}
		return Outcome{Status: finding.StatusFail, Evidence: ev, Reason: reason}
	default: // none
		switch {
		case counts[finding.StatusPass] > 0:
			return Outcome{Status: finding.StatusFail, Evidence: ev}
		case counts[finding.StatusError] > 0:
			return Outcome{Status: finding.StatusError, Evidence: ev, Reason: reason}
		}
		return Outcome{Status: finding.StatusPass, Evidence: ev}
	}
}

// where spells a setting's origin: "/etc/ssh/sshd_config:33" or
// "compiled-in default".
func where(s host.Setting) string {
	if s.File == "" {
		return "default"
	}
	if s.Line > 0 {
		return fmt.Sprintf("%s:%d", s.File, s.Line)
	}
	return s.File
}

// versionParts reads the leading numbers of a version ("9.2p1" -> 9, 2).
func versionParts(v string) ([2]int, bool) {
	var out [2]int
	v = strings.TrimSpace(v)
	for i := range 2 {
		end := 0
		for end < len(v) && v[end] >= '0' && v[end] <= '9' {
			end++
		}
		if end == 0 {
			return out, i > 0
		}
		out[i], _ = strconv.Atoi(v[:end])
		v = v[end:]
		if !strings.HasPrefix(v, ".") {
			return out, true
		}
		v = v[1:]
	}
	return out, true
}
