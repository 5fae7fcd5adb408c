package rules

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/kensa-dev/kensa/internal/collect/auth"
	"github.com/kensa-dev/kensa/internal/host"
)

// SSHDOption checks an effective sshd keyword.
type SSHDOption struct {
	// Keyword is the sshd_config keyword, any case.
	Keyword string `yaml:"keyword"`
	// Equals are the accepted values, compared case-insensitively;
	// NotEquals, instead, the refused ones (Banner not none).
	Equals    []string `yaml:"equals"`
	NotEquals []string `yaml:"not_equals"`
	// Scope "all" (the default) checks the global value and every Match
	// block that sets the keyword: a Match that re-enables what the
	// global value forbids is a failure, reported with its criteria.
	// "global" checks the global value only.
	Scope string `yaml:"scope"`
	// Aliases are older names of the keyword, looked up when it is unset
	// (ChallengeResponseAuthentication for KbdInteractiveAuthentication).
	Aliases []string `yaml:"aliases"`
}

// sshd returns the sshd facts, or the outcome when they cannot be used.
func sshd(inv *host.Inventory) (*host.SSHD, *Outcome) {
	if inv.Config == nil || inv.Config.SSHD == nil {
		o := errorf("the sshd configuration was not collected")
		return nil, &o
	}
	if !inv.Config.SSHD.Installed {
		o := notApplicable("no OpenSSH server is installed")
		return nil, &o
	}
	return inv.Config.SSHD, nil
}

// lookup finds a keyword or one of its aliases in settings.
func lookup(settings map[string]host.Setting, keyword string, aliases []string) (string, host.Setting, bool) {
	for _, k := range append([]string{keyword}, aliases...) {
		if s, ok := settings[strings.ToLower(k)]; ok {
			return k, s, true
		}
	}
	return keyword, host.Setting{}, false
}

func (c *SSHDOption) accepts(v string) bool {
	v = strings.ToLower(strings.TrimSpace(v))
	if v == "without-password" {
		v = "prohibit-password" // the old spelling, same meaning
	}
	eq := func(e string) bool { return strings.EqualFold(e, v) }
	if len(c.NotEquals) > 0 {
		return !slices.ContainsFunc(c.NotEquals, eq)
	}
	return slices.ContainsFunc(c.Equals, eq)
}

// want spells the accepted values for evidence.
func (c *SSHDOption) want() string {
	if len(c.NotEquals) > 0 {
		return "not " + strings.Join(c.NotEquals, " nor ")
	}
	return strings.Join(c.Equals, " or ")
}

func (c *SSHDOption) validate() error {
	if c.Keyword == "" || (len(c.Equals) == 0) == (len(c.NotEquals) == 0) {
		return errors.New("sshd_option: keyword and one of equals, not_equals are required")
	}
	if s := c.Scope; s != "" && s != "all" && s != "global" {
		return fmt.Errorf("sshd_option: scope %q: want all or global", s)
	}
	return nil
}

func (c *SSHDOption) evaluate(inv *host.Inventory) Outcome {
	s, o := sshd(inv)
	if o != nil {
		return *o
	}
	name, g, ok := lookup(s.Global, c.Keyword, c.Aliases)
	if !ok {
		return errorf("sshd %s: no effective value was computed", c.Keyword)
	}
	good := c.accepts(g.Value)
	ev := []string{fmt.Sprintf("sshd: %s %s (%s); want %s", name, g.Value, where(g), c.want())}
	if !sshdMatches(s, c.Keyword, c.Aliases, c.Scope, c.accepts, &ev) {
		good = false
	}
	if good {
		return pass(ev...)
	}
	return fail(ev...)
}

// SSHDNumber checks that an effective numeric sshd keyword is in range.
type SSHDNumber struct {
	// Keyword is the sshd_config keyword, any case.
	Keyword string `yaml:"keyword"`
	// Min and Max bound the value (inclusive); either may be absent.
	Min *int `yaml:"min"`
	Max *int `yaml:"max"`
	// Field picks one colon-separated field of the value, counted from 1
	// (MaxStartups start:rate:full); 0 means the first.
	Field int `yaml:"field"`
	// Scope is as for sshd_option: "all" (the default) also checks every
	// Match block that sets the keyword, "global" the global value only.
	Scope string `yaml:"scope"`
}

// number reads the checked field of an effective value (times are in
// seconds, as sshd -T prints them and the collector stores them).
func (c *SSHDNumber) number(v string) (int, bool) {
	field := max(c.Field, 1)
	parts := strings.Split(strings.TrimSpace(v), ":")
	if field > len(parts) {
		return 0, false
	}
	n, err := strconv.Atoi(strings.TrimSpace(parts[field-1]))
	return n, err == nil
}

func (c *SSHDNumber) accepts(v string) bool {
	n, ok := c.number(v)
	return ok && (c.Min == nil || n >= *c.Min) && (c.Max == nil || n <= *c.Max)
}

func (c *SSHDNumber) want() string {
	var w string
	switch {
	case c.Min != nil && c.Max != nil:
		w = fmt.Sprintf("want %d to %d", *c.Min, *c.Max)
	case c.Min != nil:
		w = fmt.Sprintf("want %d or more", *c.Min)
	default:
		w = fmt.Sprintf("want %d or less", *c.Max)
	}
	if c.Field > 1 {
		w += fmt.Sprintf(" in field %d", c.Field)
	}
	return w
}

func (c *SSHDNumber) validate() error {
	if c.Keyword == "" || (c.Min == nil && c.Max == nil) {
		return errors.New("sshd_number: keyword and one of min, max are required")
	}
	if c.Min != nil && c.Max != nil && *c.Min > *c.Max {
		return fmt.Errorf("sshd_number: min %d is above max %d", *c.Min, *c.Max)
	}
	if c.Field < 0 {
		return fmt.Errorf("sshd_number: field %d: fields count from 1", c.Field)
	}
	if s := c.Scope; s != "" && s != "all" && s != "global" {
		return fmt.Errorf("sshd_number: scope %q: want all or global", s)
	}
	return nil
}

func (c *SSHDNumber) evaluate(inv *host.Inventory) Outcome {
	s, o := sshd(inv)
	if o != nil {
		return *o
	}
	name, g, ok := lookup(s.Global, c.Keyword, nil)
	if !ok {
		return errorf("sshd %s: no effective value was computed", c.Keyword)
	}
	good := c.accepts(g.Value)
	ev := []string{fmt.Sprintf("sshd: %s %s (%s); %s", name, g.Value, where(g), c.want())}
	if _, ok := c.number(g.Value); !ok {
		ev[0] += " (not a number)"
	}
	if !sshdMatches(s, c.Keyword, nil, c.Scope, c.accepts, &ev) {
		good = false
	}
	if good {
		return pass(ev...)
	}
	return fail(ev...)
}

// sshdMatches checks a keyword in every Match block that sets it (unless
// scope is "global"), adding an evidence line for each block whose value
// accept refuses, then the sshd -T disagreements about the keyword. It
// reports whether every block was accepted.
func sshdMatches(s *host.SSHD, keyword string, aliases []string, scope string, accept func(string) bool, ev *[]string) bool {
	good := true
	if scope != "global" {
		for _, m := range s.Matches {
			mn, ms, ok := lookup(m.Settings, keyword, aliases)
			if ok && !accept(ms.Value) {
				good = false
				*ev = append(*ev, fmt.Sprintf("sshd: Match %s (%s:%d): %s %s (%s)", m.Criteria, m.File, m.Line, mn, ms.Value, where(ms)))
			}
		}
	}
	for _, d := range s.Disagreements {
		if strings.HasPrefix(strings.ToLower(d), strings.ToLower(keyword)+":") {
			*ev = append(*ev, "sshd -T disagrees: "+d)
		}
	}
	return good
}

// SSHDVersion checks the installed OpenSSH version.
type SSHDVersion struct {
	AtLeast string `yaml:"at_least"`
}

func (c *SSHDVersion) validate() error {
	if _, ok := versionParts(c.AtLeast); !ok {
		return fmt.Errorf("sshd_version: at_least %q is not a version", c.AtLeast)
	}
	return nil
}

func (c *SSHDVersion) evaluate(inv *host.Inventory) Outcome {
	s, o := sshd(inv)
	if o != nil {
		return *o
	}
	have, ok := versionParts(s.Version)
	if !ok || s.Version == "" {
		return errorf("the installed OpenSSH version is not known")
	}
	want, _ := versionParts(c.AtLeast)
	ev := fmt.Sprintf("OpenSSH %s installed; want %s or newer", s.Version, c.AtLeast)
	if have[0] > want[0] || (have[0] == want[0] && have[1] >= want[1]) {
		return pass(ev)
	}
	return fail(ev)
}

// LoginDefsKey checks a login.defs value.
type LoginDefsKey struct {
	Key    string `yaml:"key"`
	Min    *int   `yaml:"min"`
	Max    *int   `yaml:"max"`
	Equals string `yaml:"equals"`
}

func (c *LoginDefsKey) validate() error {
	if c.Key == "" || (c.Min == nil && c.Max == nil && c.Equals == "") {
		return errors.New("login_defs: key and one of min, max, equals are required")
	}
	return nil
}

func (c *LoginDefsKey) evaluate(inv *host.Inventory) Outcome {
	if inv.Config == nil || inv.Config.Login == nil {
		return errorf("/etc/login.defs was not collected")
	}
	ld := inv.Config.Login
	s, ok := ld.Settings[c.Key] // shadow's keys are case-sensitive
	if !ok {
		return fail(fmt.Sprintf("%s: %s is not set; %s", ld.File, c.Key, c.want()))
	}
	ev := fmt.Sprintf("%s: %s %s (%s); %s", ld.File, c.Key, s.Value, where(s), c.want())
	if c.Equals != "" {
		if strings.EqualFold(s.Value, c.Equals) {
			return pass(ev)
		}
		return fail(ev)
	}
	n, err := strconv.Atoi(s.Value)
	if err != nil {
		return fail(ev + " (not a number)")
	}
	if (c.Min != nil && n < *c.Min) || (c.Max != nil && n > *c.Max) {
		return fail(ev)
	}
	return pass(ev)
}

func (c *LoginDefsKey) want() string {
	switch {
	case c.Equals != "":
		return "want " + c.Equals
	case c.Min != nil && c.Max != nil:
		return fmt.Sprintf("want %d to %d", *c.Min, *c.Max)
	case c.Min != nil:
		return fmt.Sprintf("want %d or more", *c.Min)
	}
	return fmt.Sprintf("want %d or less", *c.Max)
}

// ShadowMaxAge checks that every user with a usable password has a
// maximum password age within [Min, Max] days.
type ShadowMaxAge struct {
	Min int `yaml:"min"`
	Max int `yaml:"max"`
}

func (c *ShadowMaxAge) validate() error {
	if c.Max <= 0 || c.Min < 0 {
		return errors.New("shadow_max_age: max must be positive, min not negative")
	}
	return nil
}

func (c *ShadowMaxAge) evaluate(inv *host.Inventory) Outcome {
	if len(inv.Users) == 0 {
		return errorf("no users were collected")
	}
	var bad []string
	checked, unread := 0, 0
	for _, u := range inv.Users {
		if u.Shadow == nil {
			unread++
			continue
		}
		if u.Shadow.PasswordState != "set" {
			continue
		}
		checked++
		if m := u.Shadow.MaxDays; m == nil || *m < c.Min || *m > c.Max {
			v := "unset"
			if m != nil {
				v = strconv.Itoa(*m)
			}
			bad = append(bad, fmt.Sprintf("%s (max %s)", u.Name, v))
		}
	}
	if checked == 0 && unread == len(inv.Users) {
		return errorf("/etc/shadow could not be read: password ages unknown")
	}
	if len(bad) > 0 {
		return fail(fmt.Sprintf("/etc/shadow: %d of %d users with a password exceed a maximum age of %d-%d days: %s", len(bad), checked, c.Min, c.Max, strings.Join(bad, ", ")))
	}
	if checked == 0 {
		return pass("/etc/shadow: no user has a usable password")
	}
	return pass(fmt.Sprintf("/etc/shadow: all %d users with a password have a maximum age of %d-%d days", checked, c.Min, c.Max))
}

// SysctlKey checks a kernel parameter's running value; the persisted
// value is shown beside it.
type SysctlKey struct {
	Key    string `yaml:"key"`
	Equals string `yaml:"equals"`
	// RunningOnly judges the running value alone (best practices' ASLR);
	// otherwise a persisted value (sysctl.conf, sysctl.d) that differs
	// fails too, since it applies at the next boot, and an image, which
	// has no running kernel, is judged on its persisted value.
	RunningOnly bool `yaml:"running_only"`
}

func (c *SysctlKey) validate() error {
	if c.Key == "" || c.Equals == "" {
		return errors.New("sysctl: key and equals are required")
	}
	return nil
}

func (c *SysctlKey) evaluate(inv *host.Inventory) Outcome {
	if inv.Config == nil || inv.Config.Sysctl == nil {
		return errorf("kernel parameters were not collected")
	}
	sc := inv.Config.Sysctl
	persisted := "not persisted"
	p, isPersisted := sc.Persisted[c.Key]
	if isPersisted {
		persisted = fmt.Sprintf("persisted %s (%s)", p.Value, where(p))
	}
	persistedBad := isPersisted && strings.TrimSpace(p.Value) != c.Equals && !c.RunningOnly
	if sc.Running == nil {
		if c.RunningOnly || !isPersisted {
			return notApplicable(fmt.Sprintf("no running kernel to read %s from (an image); %s", c.Key, persisted))
		}
		ev := fmt.Sprintf("sysctl %s %s, applied at boot (an image has no running value); want %s", c.Key, persisted, c.Equals)
		if persistedBad {
			return fail(ev)
		}
		return pass(ev)
	}
	v, ok := sc.Running[c.Key]
	if !ok {
		return errorf("the running kernel has no %s (not built in, or its module is not loaded), so the setting cannot be checked; %s", c.Key, persisted)
	}
	ev := fmt.Sprintf("sysctl %s = %s (running), %s; want %s", c.Key, v, persisted, c.Equals)
	switch {
	case strings.TrimSpace(v) != c.Equals:
		return fail(ev)
	case persistedBad:
		return fail(ev + ": the persisted value applies at the next boot")
	}
	return pass(ev)
}

// CPUNX checks that data execution prevention is enforced: on x86 every
// CPU has the nx flag and the kernel command line does not turn it off;
// arm64 enforces execute-never in hardware.
type CPUNX struct{}

func (c *CPUNX) validate() error { return nil }

func (c *CPUNX) evaluate(inv *host.Inventory) Outcome {
	if inv.Config == nil || inv.Config.CPU == nil {
		return errorf("processor facts were not collected")
	}
	cpu := inv.Config.CPU
	if cpu.CPUs == 0 {
		return notApplicable("no processor facts: " + cpu.Source)
	}
	switch {
	case strings.HasPrefix(cpu.Arch, "aarch64") || strings.HasPrefix(cpu.Arch, "arm64"):
		return pass(fmt.Sprintf("%s: execute-never is enforced by the hardware", cpu.Arch))
	case cpu.Arch != "" && cpu.Arch != "x86_64" && cpu.Arch != "i686" && cpu.Arch != "i386" && cpu.Arch != "x86":
		return notApplicable("no NX check for the " + cpu.Arch + " architecture")
	}
	ev := []string{fmt.Sprintf("/proc/cpuinfo: %d of %d CPUs have the nx flag", cpu.NXCPUs, cpu.CPUs)}
	off := slices.ContainsFunc(strings.Fields(cpu.Cmdline), func(f string) bool { return f == "noexec=off" || f == "noexec32=off" })
	if off {
		ev = append(ev, "/proc/cmdline: NX is turned off ("+cpu.Cmdline+")")
	}
	if cpu.NXCPUs == cpu.CPUs && !off {
		return pass(ev...)
	}
	return fail(ev...)
}

// PathMode checks owners and modes of paths.
type PathMode struct {
	Paths []string `yaml:"paths"`
	// Owner is the required owning user name ("root").
	Owner string `yaml:"owner"`
	// NotWritableBy lists "group" and/or "other".
	NotWritableBy []string `yaml:"not_writable_by"`
	// MaxMode is the most permissive mode allowed, octal ("0640"): a
	// permission bit outside it fails.
	MaxMode string `yaml:"max_mode"`
	// Groups are the accepted owning groups ("root", "shadow").
	Groups []string `yaml:"groups"`
	// MustExist makes a missing path a failure (/etc/cron.allow: without
	// it every user may use cron); otherwise missing paths are skipped.
	MustExist bool `yaml:"must_exist"`
}

func (c *PathMode) validate() error {
	if len(c.Paths) == 0 {
		return errors.New("path_mode: paths are required")
	}
	if m := c.MaxMode; m != "" {
		if _, err := strconv.ParseUint(m, 8, 32); err != nil {
			return fmt.Errorf("path_mode: max_mode %q is not an octal mode", m)
		}
	}
	for _, w := range c.NotWritableBy {
		if w != "group" && w != "other" {
			return fmt.Errorf("path_mode: not_writable_by %q: want group or other", w)
		}
	}
	return nil
}

func (c *PathMode) evaluate(inv *host.Inventory) Outcome {
	if inv.Config == nil || inv.Config.Paths == nil {
		return errorf("file modes were not collected")
	}
	byPath := map[string]host.PathInfo{}
	for _, p := range inv.Config.Paths {
		byPath[p.Path] = p
	}
	var bad, missing, unread []string
	checked := 0
	for _, path := range c.Paths {
		p, ok := byPath[path]
		switch {
		case !ok:
			missing = append(missing, path)
			continue
		case p.Error != "":
			unread = append(unread, path+": "+p.Error)
			continue
		case !p.Exists && c.MustExist:
			bad = append(bad, path+" does not exist")
			continue
		case !p.Exists:
			continue
		}
		checked++
		name := p.Path
		if p.Resolved != "" && p.Resolved != p.Path {
			name += " -> " + p.Resolved
		}
		var why []string
		// uid 0 is root whatever the root's passwd names it (an image
		// without /etc/passwd names nobody).
		if c.Owner != "" && p.Owner != c.Owner && !(c.Owner == "root" && p.UID == 0) {
			why = append(why, fmt.Sprintf("owned by %s (uid %d)", orUID(p), p.UID))
		}
		for _, w := range c.NotWritableBy {
			if (w == "group" && p.Mode&0o020 != 0) || (w == "other" && p.Mode&0o002 != 0) {
				why = append(why, "writable by "+w)
			}
		}
		if c.MaxMode != "" {
			max, _ := strconv.ParseUint(c.MaxMode, 8, 32)
			if extra := p.Mode & 0o7777 &^ uint32(max); extra != 0 {
				why = append(why, fmt.Sprintf("mode allows %04o beyond %s", extra, c.MaxMode))
			}
		}
		if len(c.Groups) > 0 && !slices.Contains(c.Groups, p.Group) && !(slices.Contains(c.Groups, "root") && p.GID == 0) {
			why = append(why, fmt.Sprintf("group %s (gid %d), want %s", p.Group, p.GID, strings.Join(c.Groups, " or ")))
		}
		if len(why) > 0 {
			bad = append(bad, fmt.Sprintf("%s mode %04o %s:%s: %s", name, p.Mode&0o7777, orUID(p), p.Group, strings.Join(why, ", ")))
		}
	}
	if len(missing) > 0 {
		return errorf("not collected: %s", strings.Join(missing, ", "))
	}
	if len(bad) > 0 {
		return fail(bad...)
	}
	if len(unread) > 0 {
		return errorf("could not examine: %s", strings.Join(unread, "; "))
	}
	if checked == 0 {
		return notApplicable("none of the paths exists: " + strings.Join(c.Paths, ", "))
	}
	var want []string
	if c.Owner != "" {
		want = append(want, "owned by "+c.Owner)
	}
	if len(c.Groups) > 0 {
		want = append(want, "group "+strings.Join(c.Groups, " or "))
	}
	if len(c.NotWritableBy) > 0 {
		want = append(want, "not writable by "+strings.Join(c.NotWritableBy, " or "))
	}
	if c.MaxMode != "" {
		want = append(want, "mode at most "+c.MaxMode)
	}
	return pass(fmt.Sprintf("%d paths %s", checked, strings.Join(want, ", ")))
}

// PackagesCheck checks that OS packages are absent or present.
type PackagesCheck struct {
	Absent  []string `yaml:"absent"`
	Present []string `yaml:"present"`
}

func (c *PackagesCheck) validate() error {
	if len(c.Absent) == 0 && len(c.Present) == 0 {
		return errors.New("packages: absent or present is required")
	}
	return nil
}

// installedPackages maps the installed packages' names to versions, or
// says that no package database was read (then nothing is known of them).
func installedPackages(inv *host.Inventory) (map[string]string, *Outcome) {
	managers := 0
	for _, r := range inv.Collectors {
		if strings.HasPrefix(r.Name, "pkg/") && r.Name != "pkg/apt-updates" && r.Status == host.StatusOK {
			managers++
		}
	}
	if managers == 0 && len(inv.Packages) == 0 {
		o := errorf("no package database was read")
		return nil, &o
	}
	installed := map[string]string{}
	for _, p := range inv.Packages {
		installed[p.Name] = p.Version
	}
	return installed, nil
}

func (c *PackagesCheck) evaluate(inv *host.Inventory) Outcome {
	installed, o := installedPackages(inv)
	if o != nil {
		return *o
	}
	var ev []string
	good := true
	for _, name := range c.Absent {
		if v, ok := installed[name]; ok {
			good = false
			ev = append(ev, fmt.Sprintf("package %s %s is installed; want it absent", name, v))
		}
	}
	for _, name := range c.Present {
		if _, ok := installed[name]; !ok {
			good = false
			ev = append(ev, fmt.Sprintf("package %s is not installed; want it installed", name))
		}
	}
	if good {
		var parts []string
		if len(c.Absent) > 0 {
			parts = append(parts, "not installed: "+strings.Join(c.Absent, ", "))
		}
		if len(c.Present) > 0 {
			parts = append(parts, "installed: "+strings.Join(c.Present, ", "))
		}
		return pass(strings.Join(parts, "; "))
	}
	return fail(ev...)
}

func orUID(p host.PathInfo) string {
	if p.Owner != "" {
		return p.Owner
	}
	return strconv.Itoa(p.UID)
}

// PasswordPolicy checks the password quality and history enforced by the
// PAM password stack `passwd` uses: pam_pwquality or pam_cracklib active
// and enforcing, with module arguments overriding pwquality.conf.
type PasswordPolicy struct {
	// MinLength is the least effective minlen.
	MinLength int `yaml:"min_length"`
	// MinClasses is the least number of character classes required:
	// minclass, or the four credits all -1 or lower.
	MinClasses int `yaml:"min_classes"`
	// History is the least number of remembered passwords (remember of
	// pam_pwhistory or pam_unix).
	History int `yaml:"history"`
}

func (c *PasswordPolicy) validate() error {
	if c.MinLength == 0 && c.MinClasses == 0 && c.History == 0 {
		return errors.New("password_policy: one of min_length, min_classes, history is required")
	}
	if c.MinClasses > 4 {
		return errors.New("password_policy: min_classes is at most 4")
	}
	return nil
}

func (c *PasswordPolicy) evaluate(inv *host.Inventory) Outcome {
	if inv.Config == nil || inv.Config.PAM == nil {
		return errorf("the PAM configuration was not collected")
	}
	p := auth.EffectivePasswordPolicy(inv.Config.PAM, auth.InstalledVersions(inv.Packages))
	if p.Service == "" {
		return errorf("no PAM password stack was found (passwd, common-password, system-auth)")
	}
	if len(p.Unread) > 0 {
		return errorf("the password policy depends on what could not be read: %s", strings.Join(p.Unread, "; "))
	}
	var ev []string
	good := true
	if c.MinLength > 0 || c.MinClasses > 0 {
		switch {
		case p.Quality == "":
			good = false
			ev = append(ev, fmt.Sprintf("pam.d/%s: neither pam_pwquality nor pam_cracklib is in the password stack: only pam_unix's built-in checks apply", p.Service))
		case !p.QualityEnforced:
			good = false
			ev = append(ev, fmt.Sprintf("pam.d/%s: %s is present (%s:%d) but does not enforce its checks (control %s)", p.Service, p.Quality,
				p.QualityEntry.File, p.QualityEntry.Line, auth.Control(*p.QualityEntry)))
		}
	}
	if c.MinLength > 0 && p.Quality != "" {
		n, ok := p.MinLen.Int()
		ev = append(ev, fmt.Sprintf("%s minlen %s (%s); want %d or more", p.Quality, p.MinLen.Value, p.MinLen.Source, c.MinLength))
		if !ok || n < c.MinLength {
			good = false
		}
	}
	if c.MinClasses > 0 && p.Quality != "" {
		classes, _ := p.MinClass.Int()
		credits := 0
		for _, v := range []auth.Value{p.DCredit, p.UCredit, p.LCredit, p.OCredit} {
			if n, ok := v.Int(); ok && n <= -1 {
				credits++
			}
		}
		ev = append(ev, fmt.Sprintf("%s minclass %s (%s), dcredit %s, ucredit %s, lcredit %s, ocredit %s; want %d classes",
			p.Quality, p.MinClass.Value, p.MinClass.Source, p.DCredit.Value, p.UCredit.Value, p.LCredit.Value, p.OCredit.Value, c.MinClasses))
		if classes < c.MinClasses && credits < c.MinClasses {
			good = false
		}
	}
	if c.History > 0 {
		if p.History == "" {
			good = false
			ev = append(ev, fmt.Sprintf("pam.d/%s: no password history (remember on pam_pwhistory or pam_unix); want %d", p.Service, c.History))
		} else {
			n, ok := p.Remember.Int()
			ev = append(ev, fmt.Sprintf("%s remember %s (%s); want %d or more", p.History, p.Remember.Value, p.Remember.Source, c.History))
			if !ok || n < c.History {
				good = false
			}
		}
	}
	if good {
		return pass(ev...)
	}
	return fail(ev...)
}
