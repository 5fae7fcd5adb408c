package rules

import (
	"errors"
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

	SSHDOption   *SSHDOption     `yaml:"sshd_option"`
	SSHDNumber   *SSHDNumber     `yaml:"sshd_number"`
	SSHDVersion  *SSHDVersion    `yaml:"sshd_version"`
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
	switch {
	case c.SSHDOption != nil:
		if c.SSHDOption.Keyword == "" || len(c.SSHDOption.Equals) == 0 {
			return errors.New("sshd_option: keyword and equals are required")
		}
		if s := c.SSHDOption.Scope; s != "" && s != "all" && s != "global" {
			return fmt.Errorf("sshd_option: scope %q: want all or global", s)
		}
	case c.SSHDNumber != nil:
		n := c.SSHDNumber
		if n.Keyword == "" || (n.Min == nil && n.Max == nil) {
			return errors.New("sshd_number: keyword and one of min, max are required")
		}
		if n.Min != nil && n.Max != nil && *n.Min > *n.Max {
			return fmt.Errorf("sshd_number: min %d is above max %d", *n.Min, *n.Max)
		}
		if n.Field < 0 {
			return fmt.Errorf("sshd_number: field %d: fields count from 1", n.Field)
		}
		if s := n.Scope; s != "" && s != "all" && s != "global" {
			return fmt.Errorf("sshd_number: scope %q: want all or global", s)
		}
	case c.SSHDVersion != nil:
		if _, ok := versionParts(c.SSHDVersion.AtLeast); !ok {
			return fmt.Errorf("sshd_version: at_least %q is not a version", c.SSHDVersion.AtLeast)
		}
	case c.LoginDefs != nil:
		if c.LoginDefs.Key == "" || (c.LoginDefs.Min == nil && c.LoginDefs.Max == nil && c.LoginDefs.Equals == "") {
			return errors.New("login_defs: key and one of min, max, equals are required")
		}
	case c.ShadowMaxAge != nil:
		if c.ShadowMaxAge.Max <= 0 || c.ShadowMaxAge.Min < 0 {
			return errors.New("shadow_max_age: max must be positive, min not negative")
		}
	case c.Sysctl != nil:
		if c.Sysctl.Key == "" || c.Sysctl.Equals == "" {
			return errors.New("sysctl: key and equals are required")
		}
	case c.Packages != nil:
		if len(c.Packages.Absent) == 0 && len(c.Packages.Present) == 0 {
			return errors.New("packages: absent or present is required")
		}
	case c.Password != nil:
		if c.Password.MinLength == 0 && c.Password.MinClasses == 0 && c.Password.History == 0 {
			return errors.New("password_policy: one of min_length, min_classes, history is required")
		}
		if c.Password.MinClasses > 4 {
			return errors.New("password_policy: min_classes is at most 4")
		}
	case c.MountOption != nil:
		return c.MountOption.validate()
	case c.KernelModule != nil:
		if len(c.KernelModule.Disabled) == 0 {
			return errors.New("kernel_module: disabled is required")
		}
	case c.PathMode != nil:
		if len(c.PathMode.Paths) == 0 {
			return errors.New("path_mode: paths are required")
		}
		if m := c.PathMode.MaxMode; m != "" {
			if _, err := strconv.ParseUint(m, 8, 32); err != nil {
				return fmt.Errorf("path_mode: max_mode %q is not an octal mode", m)
			}
		}
		for _, w := range c.PathMode.NotWritableBy {
			if w != "group" && w != "other" {
				return fmt.Errorf("path_mode: not_writable_by %q: want group or other", w)
			}
		}
	}
	return nil
}

// params are the check's parameters for the rule's prose: the kind's
// name maps to its fields, by their YAML names.
func (c *Check) params() map[string]any {
	out := map[string]any{}
	v := reflect.ValueOf(c).Elem()
	t := v.Type()
	for i := range t.NumField() {
		f := v.Field(i)
		if f.Kind() != reflect.Pointer || f.IsNil() {
			continue
		}
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
			name := strings.Split(e.Type().Field(j).Tag.Get("yaml"), ",")[0]
			if val.Kind() == reflect.Slice {
				var parts []string
				for k := range val.Len() {
					parts = append(parts, fmt.Sprint(val.Index(k).Interface()))
				}
				fields[name] = strings.Join(parts, ", ")
				continue
			}
			fields[name] = val.Interface()
		}
		out[strings.Split(t.Field(i).Tag.Get("yaml"), ",")[0]] = fields
	}
	for i, sub := range slices.Concat(c.All, c.Any, c.None) {
		for k, v := range sub.params() {
			if _, dup := out[k]; !dup {
				out[k] = v
			} else {
				out[fmt.Sprintf("%s_%d", k, i)] = v
			}
		}
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
	case c.SSHDOption != nil:
		return c.SSHDOption.evaluate(inv)
	case c.SSHDNumber != nil:
		return c.SSHDNumber.evaluate(inv)
	case c.SSHDVersion != nil:
		return c.SSHDVersion.evaluate(inv)
	case c.LoginDefs != nil:
		return c.LoginDefs.evaluate(inv)
	case c.ShadowMaxAge != nil:
		return c.ShadowMaxAge.evaluate(inv)
	case c.Sysctl != nil:
		return c.Sysctl.evaluate(inv)
	case c.CPUNX != nil:
		return c.CPUNX.evaluate(inv)
	case c.PathMode != nil:
		return c.PathMode.evaluate(inv)
	case c.Password != nil:
		return c.Password.evaluate(inv)
	case c.Packages != nil:
		return c.Packages.evaluate(inv)
	case c.MountOption != nil:
		return c.MountOption.evaluate(inv)
	case c.KernelModule != nil:
		return c.KernelModule.evaluate(inv)
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
	var ev []string
	var reasons []string
	for _, o := range outs {
		ev = append(ev, o.Evidence...)
		if o.Reason != "" && !slices.Contains(reasons, o.Reason) {
			reasons = append(reasons, o.Reason)
		}
	}
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
