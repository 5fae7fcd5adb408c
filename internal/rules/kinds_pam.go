package rules

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/kensa-dev/kensa/internal/collect/auth"
	"github.com/kensa-dev/kensa/internal/host"
)

// PAMModuleCheck checks the lines of one PAM module in PAM stacks: that
// the module is there (in a type, before or after another module, with a
// control that makes its failure count) and which arguments its lines
// carry. Stacks are the collected ones with includes expanded, so a line
// is found wherever the service's file pulls it in from.
type PAMModuleCheck struct {
	// Services are the stacks examined ("common-auth", "su"); "*" means
	// every collected stack. Each named stack must exist.
	Services []string `yaml:"services"`
	// Type is auth, account, password or session; empty means any.
	Type string `yaml:"type"`
	// Module is the module name without directory and ".so" ("pam_unix").
	Module string `yaml:"module"`
	// WithArgs selects the module's lines that carry all of these
	// arguments ("preauth" for pam_faillock's first auth line).
	WithArgs []string `yaml:"with_args"`
	// IfPresent makes a stack without such a line pass (for checks that
	// only forbid arguments); otherwise the line must be there.
	IfPresent bool `yaml:"if_present"`
	// Enforcing requires a control under which the module's failure fails
	// the stack: required, requisite, or brackets whose action for a
	// failure is bad or die. optional and sufficient do not count.
	Enforcing bool `yaml:"enforcing"`
	// Before and After name a module the line must come before (every
	// line of it) or after (some line of it), in the same stack and type.
	Before string `yaml:"before"`
	After  string `yaml:"after"`
	// Args must all be on every selected line; AnyArgs one of them.
	Args    []string `yaml:"args"`
	AnyArgs []string `yaml:"any_args"`
	// NoArgs must be on no selected line: "nullok" matches the argument
	// nullok, "remember" also remember=5.
	NoArgs []string `yaml:"no_args"`
	// EmptyGroupArg names the argument whose value is a group ("group"
	// for pam_wheel's group=): the group must exist in /etc/group, have no
	// members and be no user's primary group.
	EmptyGroupArg string `yaml:"empty_group_arg"`
}

var pamTypes = []string{"auth", "account", "password", "session"}

func (c *PAMModuleCheck) validate() error {
	if len(c.Services) == 0 || c.Module == "" {
		return errors.New("pam_module: services and module are required")
	}
	if c.Type != "" && !slices.Contains(pamTypes, c.Type) {
		return fmt.Errorf("pam_module: type %q: want auth, account, password or session", c.Type)
	}
	if strings.HasSuffix(c.Module, ".so") || strings.Contains(c.Module, "/") {
		return fmt.Errorf("pam_module: module %q: give the name without directory and .so", c.Module)
	}
	if c.IfPresent && (c.Enforcing || c.Before != "" || c.After != "" || len(c.Args) > 0 || len(c.AnyArgs) > 0 || c.EmptyGroupArg != "") {
		return errors.New("pam_module: if_present only goes with no_args")
	}
	return nil
}

// pamFacts returns the PAM facts, or the outcome when they are missing.
func pamFacts(inv *host.Inventory) (*host.PAM, *Outcome) {
	if inv.Config == nil || inv.Config.PAM == nil {
		o := errorf("the PAM configuration was not collected")
		return nil, &o
	}
	return inv.Config.PAM, nil
}

// services expands "*" to the collected stacks, sorted.
func pamServices(p *host.PAM, names []string) []string {
	if slices.Contains(names, "*") {
		return slices.Sorted(maps.Keys(p.Stacks))
	}
	return names
}

func hasArg(e host.PAMEntry, want string) bool {
	return slices.ContainsFunc(e.Args, func(a string) bool { return a == want || strings.HasPrefix(a, want+"=") })
}

func entryRef(e host.PAMEntry) string {
	s := fmt.Sprintf("%s:%d: %s %s %s", e.File, e.Line, e.Type, auth.Control(e), e.Module)
	if len(e.Args) > 0 {
		s += " " + strings.Join(e.Args, " ")
	}
	if auth.Silent(e) {
		s += " (a \"-\" line: skipped silently if the module is not installed)"
	}
	return s
}

// pamSelect returns the indexes in stack of the lines of module (of
// typ, when set) that carry every argument of with.
func pamSelect(stack []host.PAMEntry, typ, module string, with []string) []int {
	var out []int
	for i, e := range stack {
		if (typ == "" || e.Type == typ) && auth.ModuleName(e) == module &&
			!slices.ContainsFunc(with, func(w string) bool { return !slices.Contains(e.Args, w) }) {
			out = append(out, i)
		}
	}
	return out
}

// enforces reports whether the module's failure fails the stack under
// control: required and requisite; in brackets, the action for a failure
// (the default's, or bad when there is none) is bad or die.
func enforces(control string) bool {
	switch control {
	case "required", "requisite":
		return true
	}
	if !strings.HasPrefix(control, "[") {
		return false
	}
	action := "bad"
	for _, f := range strings.Fields(strings.Trim(control, "[]")) {
		if k, v, ok := strings.Cut(f, "="); ok && strings.EqualFold(k, "default") {
			action = strings.ToLower(v)
		}
	}
	return action == "bad" || action == "die"
}

func (c *PAMModuleCheck) what() string {
	w := c.Module
	if len(c.WithArgs) > 0 {
		w += " " + strings.Join(c.WithArgs, " ")
	}
	if c.Type != "" {
		w += " in the " + c.Type + " lines"
	}
	return w
}

// pamEvidence gathers evidence lines that several stacks share: a line
// included into several stacks (common-auth into login, su, sshd, ...)
// with the same verdict is shown once, naming every stack.
type pamEvidence struct {
	order []string
	svcs  map[string][]string
	bad   map[string]bool
}

func (pe *pamEvidence) add(svc, text string, bad bool) {
	if pe.svcs == nil {
		pe.svcs, pe.bad = map[string][]string{}, map[string]bool{}
	}
	key := strconv.FormatBool(bad) + "\x00" + text
	if _, ok := pe.svcs[key]; !ok {
		pe.order = append(pe.order, key)
		pe.bad[key] = bad
	}
	if !slices.Contains(pe.svcs[key], svc) {
		pe.svcs[key] = append(pe.svcs[key], svc)
	}
}

func (pe *pamEvidence) lines(bad bool) []string {
	var out []string
	for _, k := range pe.order {
		if pe.bad[k] == bad {
			_, text, _ := strings.Cut(k, "\x00")
			out = append(out, "pam.d/"+strings.Join(pe.svcs[k], ", ")+": "+text)
		}
	}
	return out
}

// pamStack is the stack examined for svc (auth.ServiceStack: a service
// without a file of its own runs "other"), the label evidence gives it,
// and what could not be read into it.
func pamStack(p *host.PAM, svc string) (stack []host.PAMEntry, label string, unread []string, ok bool) {
	stack, used, ok := auth.ServiceStack(p, svc)
	label = svc
	if used != svc {
		label = fmt.Sprintf("%s (no file of its own: libpam runs %s)", svc, used)
	}
	return stack, label, p.Unread[used], ok
}

// unreadError is the outcome when a stack examined could not be read in
// full and nothing certain was found wrong: what is missing may hold the
// line sought, or a jump over it.
func unreadError(unread []string, found []string) Outcome {
	o := errorf("%s", strings.Join(unread, "; "))
	o.Evidence = append(o.Evidence, found...)
	return o
}

func (c *PAMModuleCheck) evaluate(inv *host.Inventory) Outcome {
	p, o := pamFacts(inv)
	if o != nil {
		return *o
	}
	// The evidence of a failure is what is wrong; of a pass, the lines
	// that satisfied the check.
	var ev pamEvidence
	var unread []string
	for _, svc := range pamServices(p, c.Services) {
		stack, label, missing, ok := pamStack(p, svc)
		if !ok {
			if !c.IfPresent {
				ev.add(label, fmt.Sprintf("not found, so no %s", c.what()), true)
			}
			continue
		}
		// In a stack that could not be read in full, only what a line
		// found says for itself (its control, its arguments) is certain:
		// its absence, order and any jump over it depend on what is
		// missing.
		incomplete := len(missing) > 0
		if incomplete {
			unread = append(unread, fmt.Sprintf("pam.d/%s could not be read in full, so its %s lines are not known: %s", label, c.Module, strings.Join(missing, "; ")))
		}
		sel := pamSelect(stack, c.Type, c.Module, c.WithArgs)
		if len(sel) == 0 {
			if !c.IfPresent && !incomplete {
				ev.add(label, fmt.Sprintf("no %s (includes followed)", c.what()), true)
			}
			continue
		}
		for _, i := range sel {
			e := stack[i]
			var why []string
			uncertain := func(s string) {
				if !incomplete {
					why = append(why, s)
				}
			}
			if c.Enforcing && !enforces(auth.Control(e)) {
				why = append(why, fmt.Sprintf("control %s does not fail the stack when the module fails", auth.Control(e)))
			}
			if c.Enforcing {
				exempt := []string{c.After}
				if c.After == "pam_unix" && e.Type == "auth" {
					// Skipped when a password check succeeds: pam_unix,
					// or the Red Hat family's pam_sss between them.
					exempt = auth.CredentialModules
				}
				if j, w, skip := auth.Bypass(stack, i, exempt...); skip {
					uncertain(fmt.Sprintf("an earlier line can skip it (%s: %s), so its check may never run", entryRef(stack[j]), w))
				}
			}
			if c.Before != "" {
				other := pamSelect(stack, e.Type, c.Before, nil)
				switch {
				case len(other) == 0:
					uncertain(fmt.Sprintf("no %s %s line to come before", e.Type, c.Before))
				case i > other[0]:
					o := stack[other[0]]
					uncertain(fmt.Sprintf("comes after %s (%s:%d); it must come before it", c.Before, o.File, o.Line))
				}
			}
			if c.After != "" {
				other := pamSelect(stack, e.Type, c.After, nil)
				switch {
				case len(other) == 0:
					uncertain(fmt.Sprintf("no %s %s line to come after", e.Type, c.After))
				case i < other[0]:
					o := stack[other[0]]
					uncertain(fmt.Sprintf("comes before %s (%s:%d); it must come after it", c.After, o.File, o.Line))
				}
			}
			for _, a := range c.Args {
				if !slices.Contains(e.Args, a) {
					why = append(why, "no "+a+" argument")
				}
			}
			if len(c.AnyArgs) > 0 && !slices.ContainsFunc(c.AnyArgs, func(a string) bool { return slices.Contains(e.Args, a) }) {
				why = append(why, "none of the arguments "+strings.Join(c.AnyArgs, ", "))
			}
			for _, a := range c.NoArgs {
				if hasArg(e, a) {
					why = append(why, "has the argument "+a)
				}
			}
			if c.EmptyGroupArg != "" {
				if w, err := c.groupEmpty(inv, e); err != nil {
					return errorf("pam.d/%s: %s: %v", label, entryRef(e), err)
				} else if w != "" {
					why = append(why, w)
				}
			}
			if len(why) > 0 {
				ev.add(label, entryRef(e)+": "+strings.Join(why, "; "), true)
			} else {
				ev.add(label, entryRef(e), false)
			}
		}
	}
	if bad := ev.lines(true); len(bad) > 0 {
		return fail(append(bad, unread...)...)
	}
	if len(unread) > 0 {
		return unreadError(unread, ev.lines(false))
	}
	good := ev.lines(false)
	if len(good) == 0 {
		good = append(good, fmt.Sprintf("no %s line in the stacks examined", c.Module))
	}
	return pass(good...)
}

// groupEmpty checks the group named by the EmptyGroupArg argument of e;
// it returns why the group is not acceptable ("" when it is), or an
// error when groups were not collected.
func (c *PAMModuleCheck) groupEmpty(inv *host.Inventory, e host.PAMEntry) (string, error) {
	name, found := "", false
	for _, a := range e.Args {
		if v, ok := strings.CutPrefix(a, c.EmptyGroupArg+"="); ok {
			name, found = v, true
		}
	}
	if !found {
		return fmt.Sprintf("no %s= argument naming an empty group", c.EmptyGroupArg), nil
	}
	if len(inv.Groups) == 0 {
		return "", errors.New("no groups were collected (/etc/group)")
	}
	i := slices.IndexFunc(inv.Groups, func(g host.Group) bool { return g.Name == name })
	if i < 0 {
		return fmt.Sprintf("group %s does not exist in /etc/group", name), nil
	}
	g := inv.Groups[i]
	var why []string
	if len(g.Members) > 0 {
		why = append(why, fmt.Sprintf("group %s (gid %d) has members: %s", name, g.GID, strings.Join(g.Members, ", ")))
	}
	var primary []string
	for _, u := range inv.Users {
		if u.GID == g.GID {
			primary = append(primary, u.Name)
		}
	}
	if len(primary) > 0 {
		why = append(why, fmt.Sprintf("group %s (gid %d) is the primary group of %s", name, g.GID, strings.Join(primary, ", ")))
	}
	return strings.Join(why, "; "), nil
}

// PAMOptionCheck checks the effective value of a module option on every
// line of the module in a stack: the module's argument if the line has
// one, else its configuration file (pwquality.conf and .d for
// pam_pwquality, faillock.conf for pam_faillock, pwhistory.conf for
// pam_pwhistory where the installed Linux-PAM reads it), else the
// module's default.
type PAMOptionCheck struct {
	// Service, or Services, are the stacks examined; a service without a
	// file of its own (passwd) is examined through "other", which libpam
	// runs for it.
	Service  string   `yaml:"service"`
	Services []string `yaml:"services"`
	Type     string   `yaml:"type"`
	Module   string   `yaml:"module"`
	Option   string   `yaml:"option"`
	// Min and Max bound a numeric value (inclusive).
	Min *int `yaml:"min"`
	Max *int `yaml:"max"`
	// Equals are accepted values: with min or max, a value in Equals is
	// accepted even outside the range (unlock_time 0, "never", or 900 and
	// more). NotEquals are refused values.
	Equals    []string `yaml:"equals"`
	NotEquals []string `yaml:"not_equals"`
	// Set requires a flag option (enforce_for_root) to be on.
	Set bool `yaml:"set"`
}

func (c *PAMOptionCheck) validate() error {
	if (c.Service == "") == (len(c.Services) == 0) || c.Module == "" || c.Option == "" {
		return errors.New("pam_option: one of service and services, module and option are required")
	}
	if c.Type != "" && !slices.Contains(pamTypes, c.Type) {
		return fmt.Errorf("pam_option: type %q: want auth, account, password or session", c.Type)
	}
	if c.Min == nil && c.Max == nil && len(c.Equals) == 0 && len(c.NotEquals) == 0 && !c.Set {
		return errors.New("pam_option: one of min, max, equals, not_equals, set is required")
	}
	if c.Min != nil && c.Max != nil && *c.Min > *c.Max {
		return fmt.Errorf("pam_option: min %d is above max %d", *c.Min, *c.Max)
	}
	return nil
}

func (c *PAMOptionCheck) want() string {
	var w []string
	switch {
	case c.Min != nil && c.Max != nil:
		w = append(w, fmt.Sprintf("%d to %d", *c.Min, *c.Max))
	case c.Min != nil:
		w = append(w, fmt.Sprintf("%d or more", *c.Min))
	case c.Max != nil:
		w = append(w, fmt.Sprintf("%d or less", *c.Max))
	}
	if len(c.Equals) > 0 {
		if len(w) > 0 {
			w[0] = strings.Join(c.Equals, " or ") + " or " + w[0]
		} else {
			w = append(w, strings.Join(c.Equals, " or "))
		}
	}
	if len(c.NotEquals) > 0 {
		w = append(w, "not "+strings.Join(c.NotEquals, " or "))
	}
	if c.Set {
		w = append(w, "set")
	}
	return "want " + strings.Join(w, ", ")
}

func (c *PAMOptionCheck) accepts(o auth.Option) bool {
	if !o.Set || slices.Contains(c.NotEquals, o.Value.Value) {
		return false
	}
	if slices.Contains(c.Equals, o.Value.Value) {
		return true
	}
	if c.Min != nil || c.Max != nil {
		n, ok := o.Int()
		return ok && (c.Min == nil || n >= *c.Min) && (c.Max == nil || n <= *c.Max)
	}
	return len(c.Equals) == 0
}

func (c *PAMOptionCheck) evaluate(inv *host.Inventory) Outcome {
	p, o := pamFacts(inv)
	if o != nil {
		return *o
	}
	services := c.Services
	if c.Service != "" {
		services = []string{c.Service}
	}
	where := c.Module
	if c.Type != "" {
		where += " in the " + c.Type + " lines"
	}
	version := auth.InstalledVersions(inv.Packages)
	var ev pamEvidence
	var unread []string
	for _, svc := range services {
		stack, label, missing, ok := pamStack(p, svc)
		if !ok {
			ev.add(label, fmt.Sprintf("not found, so no %s and no %s", c.Module, c.Option), true)
			continue
		}
		incomplete := len(missing) > 0
		if incomplete {
			unread = append(unread, fmt.Sprintf("pam.d/%s could not be read in full, so its %s lines are not known: %s", label, c.Module, strings.Join(missing, "; ")))
		}
		sel := pamSelect(stack, c.Type, c.Module, nil)
		if len(sel) == 0 {
			if !incomplete {
				ev.add(label, fmt.Sprintf("no %s (includes followed), so its %s does not apply; %s", where, c.Option, c.want()), true)
			}
			continue
		}
		for _, i := range sel {
			e := stack[i]
			opt, err := auth.ModuleOption(p, e, c.Option, version)
			if err != nil {
				return errorf("pam.d/%s: %v", label, err)
			}
			line := fmt.Sprintf("%s:%d %s: %s ", e.File, e.Line, c.Module, c.Option)
			if opt.Set {
				line += fmt.Sprintf("%s (%s)", opt.Value.Value, opt.Value.Source)
			} else {
				line += "not set"
			}
			line += "; " + c.want()
			bad := !c.accepts(opt)
			if bad && (c.Min != nil || c.Max != nil) && opt.Set {
				if _, isNum := opt.Int(); !isNum {
					line += " (not a number)"
				}
			}
			// A line an earlier one can skip may never apply its value.
			// pam_faillock's authfail line is meant to be skipped when a
			// password check succeeds (it counts failures): pam_unix, or
			// pam_sss on the Red Hat family.
			var exempt []string
			if auth.ModuleName(e) == "pam_faillock" && slices.Contains(e.Args, "authfail") {
				exempt = auth.CredentialModules
			}
			if j, w, skip := auth.Bypass(stack, i, exempt...); skip && !incomplete {
				bad = true
				line += fmt.Sprintf(", but an earlier line can skip it (%s: %s), so the value may never apply", entryRef(stack[j]), w)
			}
			ev.add(label, line, bad)
			for _, n := range opt.Notes {
				ev.add(label, "note: "+n, bad)
			}
		}
	}
	if bad := ev.lines(true); len(bad) > 0 {
		return fail(append(append(bad, ev.lines(false)...), unread...)...)
	}
	if len(unread) > 0 {
		return unreadError(unread, ev.lines(false))
	}
	return pass(ev.lines(false)...)
}

// ShadowAging checks one aging field of /etc/shadow for every user with a
// usable password; an empty field fails (it means no warning, or never
// disabled).
type ShadowAging struct {
	// Field is warn_days, inactive_days, min_days or max_days.
	Field string `yaml:"field"`
	Min   *int   `yaml:"min"`
	Max   *int   `yaml:"max"`
}

var shadowFields = map[string]string{
	"min_days": "minimum age (field 4)", "max_days": "maximum age (field 5)",
	"warn_days": "warning period (field 6)", "inactive_days": "inactivity period (field 7)",
}

func (c *ShadowAging) validate() error {
	if _, ok := shadowFields[c.Field]; !ok {
		return fmt.Errorf("shadow_aging: field %q: want min_days, max_days, warn_days or inactive_days", c.Field)
	}
	if c.Min == nil && c.Max == nil {
		return errors.New("shadow_aging: one of min, max is required")
	}
	return nil
}

func (c *ShadowAging) field(a *host.ShadowAging) *int {
	switch c.Field {
	case "min_days":
		return a.MinDays
	case "max_days":
		return a.MaxDays
	case "warn_days":
		return a.WarnDays
	}
	return a.InactiveDays
}

func (c *ShadowAging) want() string {
	switch {
	case c.Min != nil && c.Max != nil:
		return fmt.Sprintf("%d to %d days", *c.Min, *c.Max)
	case c.Min != nil:
		return fmt.Sprintf("at least %d days", *c.Min)
	}
	return fmt.Sprintf("at most %d days", *c.Max)
}

// evaluate judges every user. A user without shadow facts is judged by
// the passwd password field: a hash there (or an empty field) is what
// pam_unix uses without consulting /etc/shadow, so no aging applies and
// the user fails; "x" with no shadow entry is no usable password (listed
// in the evidence); "x" when /etc/shadow could not be read, or an
// unknown field, leaves the user unknown, an error.
func (c *ShadowAging) evaluate(inv *host.Inventory) Outcome {
	if len(inv.Users) == 0 {
		return errorf("no users were collected")
	}
	var bad, unknown, noEntry []string
	checked := 0
	for _, u := range inv.Users {
		if u.Shadow == nil {
			switch {
			case u.PasswdField == "other":
				bad = append(bad, fmt.Sprintf("%s (password field of %s is not x: pam_unix uses it without /etc/shadow, so no aging applies)", u.Name, passwdAt(u)))
			case u.PasswdField == "empty":
				bad = append(bad, fmt.Sprintf("%s (empty password field in %s: login without a password, no aging applies)", u.Name, passwdAt(u)))
			case u.NoShadowEntry && u.PasswdField == "shadowed":
				noEntry = append(noEntry, u.Name)
			default:
				unknown = append(unknown, u.Name)
			}
			continue
		}
		if u.Shadow.PasswordState != "set" {
			continue
		}
		checked++
		v := c.field(u.Shadow)
		if v == nil || (c.Min != nil && *v < *c.Min) || (c.Max != nil && *v > *c.Max) {
			s := "empty"
			if v != nil {
				s = strconv.Itoa(*v)
			}
			bad = append(bad, fmt.Sprintf("%s (%s)", u.Name, s))
		}
	}
	name := shadowFields[c.Field]
	var notes []string
	if len(noEntry) > 0 {
		notes = append(notes, fmt.Sprintf("no /etc/shadow entry, so no usable password (skipped): %s", strings.Join(noEntry, ", ")))
	}
	if len(unknown) > 0 {
		notes = append(notes, fmt.Sprintf("no shadow facts (/etc/shadow not read, or the passwd field not known): %s", strings.Join(unknown, ", ")))
	}
	if len(bad) > 0 {
		return fail(append([]string{fmt.Sprintf("/etc/shadow: %s not %s for %d users with a password: %s", name, c.want(), len(bad), strings.Join(bad, ", "))}, notes...)...)
	}
	if len(unknown) > 0 {
		o := errorf("no /etc/shadow facts for %d users, who may have a password: %s", len(unknown), strings.Join(unknown, ", "))
		o.Evidence = notes
		return o
	}
	if checked == 0 {
		return pass(append([]string{"/etc/shadow: no user has a usable password"}, notes...)...)
	}
	return pass(append([]string{fmt.Sprintf("/etc/shadow: %s %s for all %d users with a password", name, c.want(), checked)}, notes...)...)
}

// UserAddDefault checks a default useradd gives new accounts
// (/etc/default/useradd; today INACTIVE, the days after password expiry
// until the account is disabled, -1 meaning never).
type UserAddDefault struct {
	Key string `yaml:"key"`
	Min *int   `yaml:"min"`
	Max *int   `yaml:"max"`
}

func (c *UserAddDefault) validate() error {
	if c.Key != "INACTIVE" {
		return fmt.Errorf("useradd_default: key %q: only INACTIVE is supported", c.Key)
	}
	if c.Min == nil && c.Max == nil {
		return errors.New("useradd_default: one of min, max is required")
	}
	return nil
}

func (c *UserAddDefault) evaluate(inv *host.Inventory) Outcome {
	if inv.Config == nil || inv.Config.UserAdd == nil {
		return errorf("/etc/default/useradd was not collected")
	}
	ua := inv.Config.UserAdd
	s, set := ua.Settings[c.Key]
	n, valid := auth.UserAddInactive(s, set)
	want := (&ShadowAging{Min: c.Min, Max: c.Max}).want()
	var ev string
	switch {
	case !set:
		ev = fmt.Sprintf("%s: %s is not set, so useradd uses -1 (never disable); want %s", ua.File, c.Key, want)
	case !valid:
		ev = fmt.Sprintf("%s:%d: %s=%q is not a number useradd accepts, so it uses -1 (never disable); want %s", s.File, s.Line, c.Key, s.Value, want)
	case strings.TrimSpace(s.Value) != strconv.Itoa(n):
		ev = fmt.Sprintf("%s:%d: %s=%s (%d); want %s", s.File, s.Line, c.Key, s.Value, n, want)
	default:
		ev = fmt.Sprintf("%s:%d: %s=%d; want %s", s.File, s.Line, c.Key, n, want)
	}
	if (c.Min != nil && n < *c.Min) || (c.Max != nil && n > *c.Max) {
		return fail(ev)
	}
	return pass(ev)
}

// DefaultUmask checks the umask login sessions start with, as far as
// login.defs and PAM set it: pam_umask's umask= argument in a session
// stack, else UMASK of /etc/login.defs (which login, su and pam_umask
// use; shadow's default 022 when unset). Shell start-up files that set a
// umask are not examined here.
type DefaultUmask struct {
	// AtLeast is the mask every source must include ("027": group write,
	// and all of other's permissions, are masked).
	AtLeast string `yaml:"at_least"`
	// Services are the session stacks where a pam_umask line counts.
	Services []string `yaml:"services"`
}

func (c *DefaultUmask) validate() error {
	if _, err := strconv.ParseUint(c.AtLeast, 8, 32); err != nil || c.AtLeast == "" {
		return fmt.Errorf("default_umask: at_least %q is not an octal mask", c.AtLeast)
	}
	if len(c.Services) == 0 {
		return errors.New("default_umask: services are required")
	}
	return nil
}

// loginUmask reads login.defs UMASK as shadow's getdef_num does
// (strtol base 0: "027" is octal, "27" decimal).
func loginUmask(s string) (uint64, bool) {
	n, ok := auth.ParseCLong(s)
	return uint64(n), ok && n >= 0 && n <= 0o777
}

// pamUmask reads pam_umask's umask= as pam_umask does: strtoul base 8 of
// the leading octal digits, masked to 0777; no digits is no mask.
func pamUmask(s string) (uint64, bool) {
	end := 0
	for end < len(s) && s[end] >= '0' && s[end] <= '7' {
		end++
	}
	if end == 0 {
		return 0, false
	}
	n, err := strconv.ParseUint(s[:end], 8, 64)
	if err != nil {
		return 0, false
	}
	return n & 0o777, true
}

func (c *DefaultUmask) evaluate(inv *host.Inventory) Outcome {
	want, _ := strconv.ParseUint(c.AtLeast, 8, 32)
	strict := func(m uint64) bool { return m&want == want }
	var ev []string
	good, pamSets := true, false
	if inv.Config != nil && inv.Config.PAM != nil {
		p := inv.Config.PAM
		for _, svc := range c.Services {
			for _, i := range pamSelect(p.Stacks[svc], "session", "pam_umask", nil) {
				e := p.Stacks[svc][i]
				opt, _ := auth.ModuleOption(p, e, "umask", auth.Versions{})
				if !opt.Set {
					continue // pam_umask then uses login.defs UMASK
				}
				m, ok := pamUmask(opt.Value.Value)
				line := fmt.Sprintf("pam.d/%s: %s:%d pam_umask umask=%s; want %s or stricter", svc, e.File, e.Line, opt.Value.Value, c.AtLeast)
				switch {
				case !ok:
					good = false
					line += " (not a mask)"
				case !strict(m):
					good = false
				default:
					pamSets = true
				}
				ev = append(ev, line)
			}
		}
	}
	if inv.Config == nil || inv.Config.Login == nil {
		if pamSets && good {
			return pass(ev...)
		}
		return errorf("/etc/login.defs was not collected")
	}
	ld := inv.Config.Login
	s, set := ld.Settings["UMASK"]
	var line string
	loginOK := false
	if !set {
		line = fmt.Sprintf("%s: UMASK is not set, so 022 applies; want %s or stricter", ld.File, c.AtLeast)
	} else if m, ok := loginUmask(s.Value); !ok {
		line = fmt.Sprintf("%s:%d: UMASK %s is not a mask; want %s or stricter", s.File, s.Line, s.Value, c.AtLeast)
	} else {
		line = fmt.Sprintf("%s:%d: UMASK %s; want %s or stricter", s.File, s.Line, s.Value, c.AtLeast)
		loginOK = strict(m)
	}
	if pamSets && !loginOK {
		line += " (the pam_umask line below sets the umask of PAM sessions instead)"
	}
	ev = append([]string{line}, ev...)
	if u, ok := ld.Settings["USERGROUPS_ENAB"]; ok && strings.EqualFold(u.Value, "yes") {
		ev = append(ev, fmt.Sprintf("note: %s:%d: USERGROUPS_ENAB yes: a user whose primary group is their own gets the group bits set like the user bits (027 becomes 007)", u.File, u.Line))
	}
	if good && (loginOK || pamSets) {
		return pass(ev...)
	}
	return fail(ev...)
}
