package auth

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/kensa-dev/kensa/internal/host"
)

// Option is the effective value of one option of one PAM module line, as
// the module computes it from its defaults, its configuration file and
// the line's arguments.
type Option struct {
	// Set is false when nothing sets the option and the module has no
	// default for it (a flag such as enforce_for_root that is off).
	Set   bool
	Value Value
	// Notes explain what the value alone cannot: a configuration file
	// the installed module does not read, a refused argument.
	Notes []string
}

// Int returns the value as a number; ok is false when it is not one.
func (o Option) Int() (int, bool) { return o.Value.Int() }

// Versions are the installed upstream versions ("1.5.2"; "" when
// unknown) that decide which configuration files the PAM modules read:
// Linux-PAM's pam_pwhistory reads pwhistory.conf from 1.5.3 and
// pam_faillock reads faillock.conf from 1.4.0 (Red Hat backported it to
// 1.3.1; Amazon Linux 2's 1.1.8 takes arguments only), and libpwquality
// reads pwquality.conf.d from 1.4.0 (Amazon Linux 2's 1.2.3 reads
// pwquality.conf alone). A setting in a file the installed module does
// not read is not in effect, however strict it is.
type Versions struct {
	PAM       string
	PWQuality string
}

// InstalledVersions reads Versions from the package inventory.
func InstalledVersions(pkgs []host.Package) Versions {
	return Versions{PAM: PAMVersion(pkgs), PWQuality: upstreamVersion(pkgs, "libpwquality1", "libpwquality", "libpwquality")}
}

// ModuleOption computes the effective value of option name (lower case)
// for the module on line e, reading nothing: the collected configuration
// files are in p; v says which of them the installed modules read. It knows how pam_pwquality,
// pam_faillock and pam_pwhistory merge defaults, file and arguments; for
// any other module the option is its last name=value (or bare name)
// argument. err is set when the value depends on something that was not
// collected or is not known (a conf= file elsewhere, an unknown PAM
// version where it matters).
func ModuleOption(p *host.PAM, e host.PAMEntry, name string, v Versions) (Option, error) {
	name = strings.ToLower(name)
	switch ModuleName(e) {
	case "pam_pwquality":
		return pwqualityOption(p, e, name, v.PWQuality)
	case "pam_faillock":
		return faillockOption(p, e, name, v.PAM)
	case "pam_pwhistory":
		return pwhistoryOption(p, e, name, v.PAM)
	}
	var o Option
	for _, a := range e.Args {
		k, v, _ := strings.Cut(a, "=")
		if k == name {
			o = Option{Set: true, Value: Value{v, argSource(e)}}
		}
	}
	return o, nil
}

func argSource(e host.PAMEntry) string {
	return fmt.Sprintf("%s:%d%s%s)", e.File, e.Line, argMark, ModuleName(e))
}

func settingSource(s host.Setting) string {
	return fmt.Sprintf("%s:%d", s.File, s.Line)
}

// pwqualityOption: libpwquality's defaults, then pwquality.conf(.d), then
// the module's arguments, with minlen and minclass brought within
// libpwquality's bounds (the computation EffectivePasswordPolicy makes).
//
// A value not given by an argument may come from a pwquality file that
// could not be read: that is an error.
func pwqualityOption(p *host.PAM, e host.PAMEntry, name, pwqVersion string) (Option, error) {
	pol := Policy{Settings: map[string]Value{}, Quality: "pam_pwquality"}
	for k, v := range pwqDefaults {
		pol.Settings[k] = Value{v, "default (libpwquality)"}
	}
	pol.Notes = pwqualitySettings(&pol, p, pwqVersion)
	applyQualityArgs(&pol, e)
	clamp(&pol, "minlen", 6, true)
	clamp(&pol, "minclass", 4, false)
	v, ok := pol.Settings[name]
	if !strings.Contains(v.Source, argMark) {
		if err := PWQualityUnread(p); err != nil {
			return Option{}, fmt.Errorf("%s: %s is not set by an argument of %s:%d, so it may come from it", err, name, e.File, e.Line)
		}
	}
	return Option{Set: ok, Value: v, Notes: pol.Notes}, nil
}

// argMark is in the Source of a value given by a module argument.
const argMark = " (argument of "

// PWQualityUnread returns an error naming the libpwquality configuration
// files (pwquality.conf, pwquality.conf.d and its files) that exist but
// could not be read, nil when there are none.
func PWQualityUnread(p *host.PAM) error {
	var bad []string
	for f, why := range p.ConfErrors {
		if f == PWQualityFile || f == PWQualityDir || strings.HasPrefix(f, PWQualityDir+"/") {
			bad = append(bad, f+": "+why)
		}
	}
	if len(bad) == 0 {
		return nil
	}
	slices.Sort(bad)
	return fmt.Errorf("libpwquality configuration not read (%s)", strings.Join(bad, "; "))
}

// faillockFlags are pam_faillock's options without a value.
var faillockFlags = map[string]bool{
	"even_deny_root": true, "audit": true, "silent": true, "no_log_info": true,
	"local_users_only": true, "nodelay": true, "uid_based_files": true,
}

// faillockMaxInterval is pam_faillock's MAX_TIME_INTERVAL (a week).
const faillockMaxInterval = 604800

// faillockOption follows pam_faillock: defaults deny 3, fail_interval
// 900, unlock_time 600; faillock.conf (or the file of a conf= argument);
// then the arguments in order, each through the same setter, which keeps
// the previous value when a number is refused. root_unlock_time, when
// nothing sets it, is unlock_time. The collector keeps the last line of a
// key of faillock.conf; a refused last line there makes the module keep
// an earlier valid one, which this reports as the default instead.
func faillockOption(p *host.PAM, e host.PAMEntry, name, pamVersion string) (Option, error) {
	vals := map[string]Value{
		"deny":          {"3", "default (pam_faillock)"},
		"fail_interval": {"900", "default (pam_faillock)"},
		"unlock_time":   {"600", "default (pam_faillock)"},
	}
	var notes []string
	fromArg := map[string]bool{}
	for _, a := range e.Args {
		if c, ok := strings.CutPrefix(a, "conf="); ok && c != FaillockFile {
			return Option{}, fmt.Errorf("%s:%d: pam_faillock reads %s (conf=), which is not collected", e.File, e.Line, truncate(c, 100))
		}
	}
	set := func(k, v, src string) {
		switch {
		case faillockFlags[k]:
			vals[k] = Value{"true", src}
		case k == "deny":
			if n, ok := scanUnsigned(v, 16); ok {
				vals[k] = Value{strconv.FormatUint(n, 10), src}
			} else {
				notes = append(notes, fmt.Sprintf("%s: deny %q is not a number, ignored", src, truncate(v, 40)))
			}
		case k == "fail_interval" || k == "unlock_time" || k == "root_unlock_time":
			if k != "fail_interval" && v == "never" {
				vals[k] = Value{"0", src + " (never)"}
			} else if n, ok := scanUnsigned(v, 32); ok && n <= faillockMaxInterval {
				vals[k] = Value{strconv.FormatUint(n, 10), src}
			} else {
				notes = append(notes, fmt.Sprintf("%s: %s %q is not a number of at most %d, ignored", src, k, truncate(v, 40), faillockMaxInterval))
			}
		case k == "dir" || k == "admin_group":
			vals[k] = Value{v, src}
		}
	}
	readsConf, known := pamAtLeast(pamVersion, 1, 3, 1)
	for k, s := range p.Faillock {
		if known && !readsConf {
			notes = append(notes, fmt.Sprintf("%s sets %s, but the pam_faillock of the installed Linux-PAM %s reads no faillock.conf (arguments only): not in effect", settingSource(s), k, pamVersion))
			continue
		}
		set(k, s.Value, settingSource(s))
	}
	for _, a := range e.Args {
		switch a {
		case "preauth", "authfail", "authsucc":
			continue
		}
		k, v, _ := strings.Cut(a, "=")
		if strings.HasPrefix(a, "conf=") {
			continue
		}
		set(k, v, argSource(e))
		if strings.HasPrefix(vals[k].Source, argSource(e)) {
			fromArg[k] = true
		}
	}
	if why, bad := p.ConfErrors[FaillockFile]; bad && !fromArg[name] {
		return Option{}, fmt.Errorf("%s could not be read (%s) and no argument of %s:%d sets %s, so it may come from that file", FaillockFile, why, e.File, e.Line, name)
	}
	if _, ok := vals["root_unlock_time"]; !ok {
		u := vals["unlock_time"]
		vals["root_unlock_time"] = Value{u.Value, "unlock_time, " + u.Source}
	}
	v, ok := vals[name]
	return Option{Set: ok, Value: v, Notes: notes}, nil
}

// pwhistoryOption follows pam_pwhistory: defaults remember 10 and retry
// 1; from Linux-PAM 1.5.3 on pwhistory.conf (first line of a key, keys
// case-insensitive) or the file of a conf= argument; then the arguments
// (names case-insensitive; remember is strtol's number, at least 0 and
// at most 400).
func pwhistoryOption(p *host.PAM, e host.PAMEntry, name, pamVersion string) (Option, error) {
	vals := map[string]Value{
		"remember": {"10", "default (pam_pwhistory)"},
		"retry":    {"1", "default (pam_pwhistory)"},
	}
	var notes []string
	readsConf, known := pamAtLeast(pamVersion, 1, 5, 3)
	conf := PWHistoryFile
	for _, a := range e.Args {
		if c, ok := strings.CutPrefix(a, "conf="); ok {
			conf = c
		}
	}
	argSets := func(k string) bool {
		for _, a := range e.Args {
			ak, _, hasVal := strings.Cut(strings.ToLower(a), "=")
			if ak == k && (hasVal || k == "enforce_for_root" || k == "debug") {
				return true
			}
		}
		return false
	}
	if s, inConf := p.PWHistory[name]; inConf && conf == PWHistoryFile && !argSets(name) {
		switch {
		case !known:
			return Option{}, fmt.Errorf("%s sets %s, but the installed Linux-PAM version is not known: pam_pwhistory reads that file only from 1.5.3 on", settingSource(s), name)
		case !readsConf:
			notes = append(notes, fmt.Sprintf("%s sets %s, but the installed Linux-PAM %s does not read pwhistory.conf (1.5.3 and later do)", settingSource(s), name, pamVersion))
		}
	}
	if why, bad := p.ConfErrors[PWHistoryFile]; bad && conf == PWHistoryFile && !argSets(name) && (readsConf || !known) {
		return Option{}, fmt.Errorf("%s could not be read (%s) and no argument of %s:%d sets %s, so it may come from that file", PWHistoryFile, why, e.File, e.Line, name)
	}
	if readsConf && conf != PWHistoryFile && !argSets(name) {
		return Option{}, fmt.Errorf("%s:%d: pam_pwhistory reads %s (conf=), which is not collected", e.File, e.Line, truncate(conf, 100))
	}
	if readsConf && conf == PWHistoryFile {
		for k, s := range p.PWHistory {
			src := settingSource(s)
			switch k {
			case "debug", "enforce_for_root":
				vals[k] = Value{"true", src}
			case "remember", "retry":
				if n, ok := scanUnsigned(s.Value, 32); ok {
					vals[k] = Value{strconv.FormatUint(n, 10), src}
				} else {
					notes = append(notes, fmt.Sprintf("%s: %s %q is not a number, ignored", src, k, truncate(s.Value, 40)))
				}
			case "file":
				vals[k] = Value{s.Value, src}
			}
		}
	}
	for _, a := range e.Args {
		k, v, hasVal := strings.Cut(a, "=")
		k = strings.ToLower(k)
		src := argSource(e)
		switch {
		case !hasVal && (k == "debug" || k == "enforce_for_root"):
			vals[k] = Value{"true", src}
		case hasVal && k == "remember":
			n := strtolPrefix(v)
			n = max(0, min(n, 400))
			if n == 400 {
				src += " (at most 400)"
			}
			vals[k] = Value{strconv.FormatInt(n, 10), src}
		case hasVal && k == "retry":
			n := strtolPrefix(v)
			if n < 0 {
				n = 1
			}
			vals[k] = Value{strconv.FormatInt(n, 10), src}
		case hasVal && k == "file":
			vals[k] = Value{v, src}
		}
	}
	v, ok := vals[name]
	return Option{Set: ok, Value: v, Notes: notes}, nil
}

// scanUnsigned reads a number as sscanf's %u (or %hu for bits 16) does:
// leading blanks, an optional sign (a minus wraps around), at least one
// decimal digit; what follows the digits is ignored.
func scanUnsigned(s string, bits uint) (uint64, bool) {
	v := strings.TrimLeftFunc(s, func(r rune) bool { return r < 0x80 && cSpace(byte(r)) })
	neg := false
	if v != "" && (v[0] == '+' || v[0] == '-') {
		neg = v[0] == '-'
		v = v[1:]
	}
	end := 0
	for end < len(v) && v[end] >= '0' && v[end] <= '9' {
		end++
	}
	if end == 0 {
		return 0, false
	}
	n, err := strconv.ParseUint(v[:end], 10, 64)
	if err != nil {
		n = ^uint64(0)
	}
	if neg {
		n = -n
	}
	return n & (1<<bits - 1), true
}

// strtolPrefix is strtol(s, NULL, 10): the leading number, 0 when there
// is none, saturated at the int64 bounds.
func strtolPrefix(s string) int64 {
	v := strings.TrimLeftFunc(s, func(r rune) bool { return r < 0x80 && cSpace(byte(r)) })
	sign := ""
	if v != "" && (v[0] == '+' || v[0] == '-') {
		sign, v = v[:1], v[1:]
	}
	end := 0
	for end < len(v) && v[end] >= '0' && v[end] <= '9' {
		end++
	}
	if end == 0 {
		return 0
	}
	n, err := strconv.ParseInt(sign+v[:end], 10, 64)
	if err != nil {
		if sign == "-" {
			return -1 << 63
		}
		return 1<<63 - 1
	}
	return n
}

// pamAtLeast reports whether version (upstream "1.5.2") is at least
// major.minor.patch; known is false when version is not a version.
func pamAtLeast(version string, major, minor, patch int) (atLeast, known bool) {
	parts := strings.Split(version, ".")
	if version == "" || len(parts) < 2 {
		return false, false
	}
	want := []int{major, minor, patch}
	for i := range 3 {
		n := 0
		if i < len(parts) {
			var err error
			if n, err = strconv.Atoi(parts[i]); err != nil {
				return false, false
			}
		}
		if n != want[i] {
			return n > want[i], true
		}
	}
	return true, true
}

// pwqualitySettings puts the collected pwquality.conf(.d) settings in
// pol, leaving out those of pwquality.conf.d when the installed
// libpwquality is known to be older than 1.4.0, which does not read it;
// it returns notes saying so.
func pwqualitySettings(pol *Policy, p *host.PAM, pwqVersion string) []string {
	readsDir, known := pamAtLeast(pwqVersion, 1, 4, 0)
	var notes []string
	for k, s := range p.PWQuality {
		if known && !readsDir && strings.Contains(s.File, "/pwquality.conf.d/") {
			notes = append(notes, fmt.Sprintf("%s sets %s, but the installed libpwquality %s reads no pwquality.conf.d: not in effect", settingSource(s), k, pwqVersion))
			continue
		}
		pol.Settings[k] = Value{s.Value, settingSource(s)}
	}
	slices.Sort(notes)
	return notes
}

// PAMVersion returns the upstream version of the installed Linux-PAM from
// the OS packages (Debian's libpam-modules, the rpm and apk packages pam
// and linux-pam), "" when none is installed: "1:1.5.2-6+deb12u1" gives
// "1.5.2".
func PAMVersion(pkgs []host.Package) string {
	return upstreamVersion(pkgs, "libpam-modules", "pam", "linux-pam")
}

// upstreamVersion is the upstream version of the package named deb, rpm
// or apk in its manager: no epoch, no revision ("1:1.5.2-6+deb12u1" is
// "1.5.2").
func upstreamVersion(pkgs []host.Package, deb, rpm, apk string) string {
	for _, p := range pkgs {
		switch {
		case p.Manager == "dpkg" && p.Name == deb,
			p.Manager == "rpm" && p.Name == rpm,
			p.Manager == "apk" && p.Name == apk:
			v := p.Version
			if i := strings.IndexByte(v, ':'); i >= 0 {
				v = v[i+1:]
			}
			if i := strings.IndexAny(v, "-~+"); i >= 0 {
				v = v[:i]
			}
			return v
		}
	}
	return ""
}
