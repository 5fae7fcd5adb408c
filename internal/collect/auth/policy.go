package auth

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/kensa-dev/kensa/internal/host"
)

// Value is one effective setting and where it came from.
type Value struct {
	Value string `json:"value"`
	// Source is "file:line" of the configuration line that set it, that
	// plus " (argument of pam_x)" for a module argument, or "default
	// (...)" naming whose default it is. A value the library adjusted
	// says so: "/etc/security/pwquality.conf:3 (4, raised to the minimum
	// 6)".
	Source string `json:"source"`
}

// Int returns the value as a number; ok is false when it is not one.
func (v Value) Int() (n int, ok bool) {
	n, err := strconv.Atoi(v.Value)
	return n, err == nil
}

func (v Value) String() string { return v.Value + " from " + v.Source }

// Policy is the password policy a password change goes through, as far as
// PAM and libpwquality decide it. Every value says where it came from.
type Policy struct {
	// Service is the PAM stack examined: "passwd" (what passwd(1) uses),
	// else the first of "common-password" (Debian), "system-auth" (Red Hat
	// family) and "other" that was collected; "" when none was.
	Service string `json:"service"`

	// Quality is the strength-checking module active in the password
	// type of the stack: "pam_pwquality", "pam_cracklib", or "" when
	// there is none. QualityEntry is its line (the first, if several).
	Quality      string         `json:"quality,omitempty"`
	QualityEntry *host.PAMEntry `json:"quality_entry,omitempty"`
	// QualityEnforced is true when a failed check fails the password
	// change: the control treats the module's failure (PAM_AUTHTOK_ERR,
	// PAM_MAXTRIES) as bad or die (required, requisite, or brackets whose
	// action for it is bad or die), and libpwquality's enforcing is not 0.
	// An earlier line that can skip it (Bypass) makes it not enforced.
	QualityEnforced bool `json:"quality_enforced"`

	// The strength settings: for pam_pwquality (and when no module is
	// active, for what libpwquality would use) the module's arguments
	// override pwquality.conf, which overrides the defaults (minlen 8,
	// minclass 0, dcredit/ucredit/lcredit/ocredit 0); minlen is raised to
	// 6 and minclass lowered to 4 as libpwquality does. For pam_cracklib
	// only its arguments count (it does not read pwquality.conf), with its
	// defaults (minlen 9, minclass 0, credits 1).
	MinLen   Value `json:"minlen"`
	MinClass Value `json:"minclass"`
	DCredit  Value `json:"dcredit"`
	UCredit  Value `json:"ucredit"`
	LCredit  Value `json:"lcredit"`
	OCredit  Value `json:"ocredit"`
	// Settings holds every effective setting of the quality module,
	// lower-case names ("difok", "maxrepeat", "dictcheck", "enforcing",
	// "enforce_for_root", "retry", ...), the ones above included.
	Settings map[string]Value `json:"settings"`

	// History is the module that refuses reused passwords: "pam_pwhistory"
	// or "pam_unix" (remember=N), the one with the larger remember when
	// both are there; "" when neither keeps a history. Remember is the
	// number of old passwords refused, "0" when none; pam_pwhistory's
	// default is 10.
	History      string         `json:"history,omitempty"`
	HistoryEntry *host.PAMEntry `json:"history_entry,omitempty"`
	Remember     Value          `json:"remember"`

	// Notes explain what the values above cannot say on their own.
	Notes []string `json:"notes,omitempty"`
	// Unread says what the policy may depend on but could not be read:
	// files of the stack (host.PAM.Unread), libpwquality configuration
	// files where a setting above does not come from an argument. A rule
	// cannot judge the policy while it is not empty.
	Unread []string `json:"unread,omitempty"`
}

// Defaults documented by libpwquality 1.4 (pwquality.conf(5), and the
// commented values of the shipped pwquality.conf), pam_cracklib(8) and
// pam_pwhistory(8).
var (
	pwqDefaults = map[string]string{
		"difok": "1", "minlen": "8", "dcredit": "0", "ucredit": "0", "lcredit": "0", "ocredit": "0",
		"minclass": "0", "maxrepeat": "0", "maxclassrepeat": "0", "maxsequence": "0",
		"gecoscheck": "0", "dictcheck": "1", "usercheck": "1", "usersubstr": "0",
		"enforcing": "1", "retry": "1",
	}
	cracklibDefaults = map[string]string{
		"difok": "5", "minlen": "9", "dcredit": "1", "ucredit": "1", "lcredit": "1", "ocredit": "1",
		"minclass": "0", "maxrepeat": "0", "maxclassrepeat": "0", "maxsequence": "0",
		"retry": "1",
	}
)

// pwhistoryDefaultRemember is pam_pwhistory's remember when not given.
const pwhistoryDefaultRemember = 10

// policyServices are the stacks EffectivePasswordPolicy looks at, in order.
var policyServices = []string{"passwd", "common-password", "system-auth", "other"}

// EffectivePasswordPolicy computes the password policy of the stack
// passwd(1) uses from collected PAM facts; it reads nothing. p may be nil
// (nothing collected): the Policy then has no Service and says so. v
// says which configuration files the installed modules read.
func EffectivePasswordPolicy(p *host.PAM, v Versions) Policy {
	pol := Policy{Settings: map[string]Value{}}
	if p == nil {
		pol.Notes = append(pol.Notes, "no PAM configuration was collected")
		return pol
	}
	var stack []host.PAMEntry
	for _, svc := range policyServices {
		if s, ok := p.Stacks[svc]; ok {
			pol.Service, stack = svc, s
			break
		}
	}
	if pol.Service == "" {
		pol.Notes = append(pol.Notes, "none of the stacks "+strings.Join(policyServices, ", ")+" was collected")
	} else if pol.Service != "passwd" {
		pol.Notes = append(pol.Notes, "no /etc/pam.d/passwd was collected; the "+pol.Service+" stack was examined instead")
	}
	for _, u := range p.Unread[pol.Service] {
		pol.Unread = append(pol.Unread, "pam.d/"+pol.Service+": "+u)
	}

	// Strength.
	var quality *host.PAMEntry
	qi := -1
	for i := range stack {
		e := &stack[i]
		if e.Type != "password" {
			continue
		}
		if m := ModuleName(*e); m == "pam_pwquality" || m == "pam_cracklib" {
			quality, qi = e, i
			break
		}
	}
	if quality != nil {
		pol.Quality = ModuleName(*quality)
		q := *quality
		pol.QualityEntry = &q
		if Silent(q) {
			pol.Notes = append(pol.Notes, fmt.Sprintf("%s is on a \"-\" line (%s:%d): PAM skips it silently if the module is not installed", pol.Quality, q.File, q.Line))
		}
	} else {
		pol.Notes = append(pol.Notes, "no pam_pwquality or pam_cracklib in the password lines: password strength is not checked by PAM; the values shown are what libpwquality would use")
	}
	if pol.Quality == "pam_cracklib" {
		for k, v := range cracklibDefaults {
			pol.Settings[k] = Value{v, "default (pam_cracklib)"}
		}
	} else {
		for k, v := range pwqDefaults {
			pol.Settings[k] = Value{v, "default (libpwquality)"}
		}
		pol.Notes = append(pol.Notes, pwqualitySettings(&pol, p, v.PWQuality)...)
	}
	if quality != nil {
		applyQualityArgs(&pol, *quality)
	}
	if pol.Quality != "pam_cracklib" {
		clamp(&pol, "minlen", 6, true)
		clamp(&pol, "minclass", 4, false)
	}
	if pol.Quality != "pam_cracklib" {
		if err := PWQualityUnread(p); err != nil {
			for _, k := range []string{"minlen", "minclass", "dcredit", "ucredit", "lcredit", "ocredit", "enforcing"} {
				if !strings.Contains(pol.Settings[k].Source, argMark) {
					pol.Unread = append(pol.Unread, err.Error())
					break
				}
			}
		}
	}
	pol.MinLen, pol.MinClass = pol.Settings["minlen"], pol.Settings["minclass"]
	pol.DCredit, pol.UCredit = pol.Settings["dcredit"], pol.Settings["ucredit"]
	pol.LCredit, pol.OCredit = pol.Settings["lcredit"], pol.Settings["ocredit"]
	if quality != nil {
		pol.QualityEnforced = failureCounts(Control(*quality), "authtok_err", "maxtries")
		if !pol.QualityEnforced {
			pol.Notes = append(pol.Notes, fmt.Sprintf("the control %q of %s does not fail the password change when the check fails", Control(*quality), pol.Quality))
		}
		if j, why, skip := Bypass(stack, qi, ""); skip {
			pol.QualityEnforced = false
			pol.Notes = append(pol.Notes, fmt.Sprintf("%s:%d (%s %s) can skip %s: %s", stack[j].File, stack[j].Line, Control(stack[j]), stack[j].Module, pol.Quality, why))
		}
		if pol.Quality == "pam_pwquality" {
			if n, ok := pol.Settings["enforcing"].Int(); ok && n == 0 {
				pol.QualityEnforced = false
				pol.Notes = append(pol.Notes, "enforcing = 0 ("+pol.Settings["enforcing"].Source+"): pam_pwquality only warns")
			}
		}
	}

	// History.
	pol.Remember = Value{"0", "default (no pam_pwhistory; pam_unix without remember=)"}
	best := -1
	for i := range stack {
		e := stack[i]
		if e.Type != "password" {
			continue
		}
		var n int
		var src string
		switch ModuleName(e) {
		case "pam_pwhistory":
			n, src = pwhistoryDefaultRemember, "default (pam_pwhistory)"
			if v, line, ok := lastArg(e, "remember"); ok {
				n, _ = strconv.Atoi(v)
				src = line
			}
			pol.Notes = append(pol.Notes, "pam_pwhistory of newer Linux-PAM also reads /etc/security/pwhistory.conf, which is not collected; its arguments win over it")
		case "pam_unix":
			v, line, ok := lastArg(e, "remember")
			if !ok {
				continue
			}
			n, _ = strconv.Atoi(v)
			src = line
			if n > 400 {
				n, src = 400, line+" (capped at 400 by pam_unix)"
			}
		default:
			continue
		}
		if n > best {
			best = n
			pol.History = ModuleName(e)
			pol.Remember = Value{strconv.Itoa(n), src}
			h := e
			pol.HistoryEntry = &h
		}
	}
	return pol
}

// applyQualityArgs lets the module's arguments override the settings, in
// order (a later argument wins), as pam_pwquality does through
// pwquality_set_option and pam_cracklib through its own parser.
func applyQualityArgs(pol *Policy, e host.PAMEntry) {
	for _, a := range e.Args {
		name, val, hasVal := strings.Cut(a, "=")
		key := strings.ToLower(name)
		src := fmt.Sprintf("%s:%d (argument of %s)", e.File, e.Line, pol.Quality)
		switch {
		case key == "enforce_for_root" || key == "local_users_only":
			pol.Settings[key] = Value{"true", src}
		case !hasVal:
			// debug, use_authtok, try_first_pass, ...: not settings.
		case key == "type" || key == "authtok_type" || key == "difignore":
		default:
			k, v, err := pwqValue(name, val)
			if err != nil {
				if _, known := pwqSettings[key]; known {
					pol.Notes = append(pol.Notes, fmt.Sprintf("%s: argument %q refused (%v), ignored", src, truncate(a, 40), err))
				}
				continue
			}
			pol.Settings[k] = Value{v, src}
		}
	}
}

// clamp applies libpwquality's bounds to a numeric setting: at least
// limit when lower is true, else at most limit.
func clamp(pol *Policy, key string, limit int, lower bool) {
	v := pol.Settings[key]
	n, ok := v.Int()
	if !ok {
		return
	}
	switch {
	case lower && n < limit:
		pol.Settings[key] = Value{strconv.Itoa(limit), fmt.Sprintf("%s (%d, raised to the minimum %d)", v.Source, n, limit)}
	case !lower && n > limit:
		pol.Settings[key] = Value{strconv.Itoa(limit), fmt.Sprintf("%s (%d, lowered to the maximum %d)", v.Source, n, limit)}
	}
}

// lastArg returns the value of the last name=value argument of e and its
// source.
func lastArg(e host.PAMEntry, name string) (val, src string, ok bool) {
	for _, a := range e.Args {
		if k, v, has := strings.Cut(a, "="); has && k == name {
			val, ok = v, true
		}
	}
	return val, fmt.Sprintf("%s:%d (argument of %s)", e.File, e.Line, ModuleName(e)), ok
}

// failureCounts reports whether a control makes the module's failure
// with one of the given return codes fail the stack: required and
// requisite do; sufficient and optional do not; in brackets, the action of
// the first code named, else of "default", else bad (libpam's default for
// codes a bracket does not name) decides, and only bad and die fail.
func failureCounts(control string, codes ...string) bool {
	switch control {
	case "required", "requisite":
		return true
	case "sufficient", "optional":
		return false
	}
	if !strings.HasPrefix(control, "[") {
		return false
	}
	actions := map[string]string{}
	for _, f := range strings.Fields(strings.Trim(control, "[]")) {
		if k, v, ok := strings.Cut(f, "="); ok {
			actions[strings.ToLower(k)] = strings.ToLower(v)
		}
	}
	action := "bad"
	if a, ok := actions["default"]; ok {
		action = a
	}
	for _, c := range codes {
		if a, ok := actions[c]; ok {
			action = a
			break
		}
	}
	return action == "bad" || action == "die"
}
