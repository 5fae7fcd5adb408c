package auth_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/kensa-dev/kensa/internal/collect/auth"
	"github.com/kensa-dev/kensa/internal/host"
)

func TestParseSearchKeyFirstWinsCaseInsensitive(t *testing.T) {
	got := auth.ParseSearchKey([]byte("# c\n  Remember = 5 # note\nremember=24\nenforce_for_root\nretry\t=\t3  \n"), "/f")
	if r := got["remember"]; r.Value != "5 " || r.Line != 2 {
		t.Errorf("remember = %+v, want the first line's value \"5 \" (line 2)", r)
	}
	if e, ok := got["enforce_for_root"]; !ok || e.Value != "" || e.Line != 4 {
		t.Errorf("enforce_for_root = %+v, %v", e, ok)
	}
	if r := got["retry"]; r.Value != "3  " {
		t.Errorf("retry = %q", r.Value)
	}
}

func TestParseUserAddDefaults(t *testing.T) {
	in := "# INACTIVE=30\n INACTIVE=31\nSHELL=/bin/sh\nINACTIVE=-1\nINACTIVEX=45\nnoequals\n"
	got := auth.ParseUserAddDefaults([]byte(in), "/etc/default/useradd")
	if s := got["INACTIVE"]; s.Value != "45" || s.Line != 5 {
		t.Errorf("INACTIVE = %+v: want the last line matched by prefix (45, line 5); commented and indented lines set nothing", s)
	}
	if s := got["SHELL"]; s.Value != "/bin/sh" {
		t.Errorf("SHELL = %+v", s)
	}
	// fgets reads at most 1023 bytes: the rest of a long line is read as
	// a line of its own, which may set a key.
	long := "SKEL=" + string(make([]byte, 0)) + pad(1018) + "INACTIVE=7\n"
	got = auth.ParseUserAddDefaults([]byte(long), "/f")
	if s := got["INACTIVE"]; s.Value != "7" {
		t.Errorf("continuation piece: INACTIVE = %+v, want 7", s)
	}
}

func pad(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = 'x'
	}
	return string(b)
}

func TestUserAddInactive(t *testing.T) {
	for _, tc := range []struct {
		v     string
		set   bool
		n     int
		valid bool
	}{
		{"", false, -1, true},
		{"45", true, 45, true},
		{" +45", true, 45, true},
		{"055", true, 45, true},  // octal, as strtol base 0
		{"0x2d", true, 45, true}, // hexadecimal
		{"-1", true, -1, true},
		{"-2", true, -1, false},
		{"45 ", true, -1, false}, // trailing blank: getlong refuses
		{"08", true, -1, false},
		{"", true, -1, false},
		{"0x", true, -1, false},
	} {
		n, valid := auth.UserAddInactive(host.Setting{Value: tc.v}, tc.set)
		if n != tc.n || valid != tc.valid {
			t.Errorf("UserAddInactive(%q, %v) = %d, %v; want %d, %v", tc.v, tc.set, n, valid, tc.n, tc.valid)
		}
	}
}

func entry(module string, args ...string) host.PAMEntry {
	return host.PAMEntry{Type: "auth", Control: "required", Module: module + ".so", Args: args, File: "/etc/pam.d/common-auth", Line: 3}
}

func TestModuleOptionFaillock(t *testing.T) {
	p := &host.PAM{Faillock: map[string]host.Setting{
		"deny":        {Value: "5", File: auth.FaillockFile, Line: 1},
		"unlock_time": {Value: "900", File: auth.FaillockFile, Line: 2},
	}}
	for _, tc := range []struct {
		args   []string
		name   string
		want   string
		set    bool
		source string
	}{
		{nil, "deny", "5", true, "/etc/security/faillock.conf:1"},
		{[]string{"preauth", "deny=3"}, "deny", "3", true, "/etc/pam.d/common-auth:3 (argument of pam_faillock)"},
		{[]string{"deny=4x"}, "deny", "4", true, "/etc/pam.d/common-auth:3 (argument of pam_faillock)"}, // sscanf %hu stops at x
		{[]string{"deny=x"}, "deny", "5", true, "/etc/security/faillock.conf:1"},                        // refused: previous value kept
		{[]string{"deny=-1"}, "deny", "65535", true, "/etc/pam.d/common-auth:3 (argument of pam_faillock)"},
		{[]string{"unlock_time=never"}, "unlock_time", "0", true, "/etc/pam.d/common-auth:3 (argument of pam_faillock) (never)"},
		{[]string{"unlock_time=604801"}, "unlock_time", "900", true, "/etc/security/faillock.conf:2"},
		{nil, "root_unlock_time", "900", true, "unlock_time, /etc/security/faillock.conf:2"},
		{nil, "even_deny_root", "", false, ""},
		{[]string{"even_deny_root"}, "even_deny_root", "true", true, "/etc/pam.d/common-auth:3 (argument of pam_faillock)"},
		{nil, "fail_interval", "900", true, "default (pam_faillock)"},
	} {
		o, err := auth.ModuleOption(p, entry("pam_faillock", tc.args...), tc.name, auth.Versions{PAM: "1.5.2"})
		if err != nil || o.Set != tc.set || o.Value.Value != tc.want || (tc.set && o.Value.Source != tc.source) {
			t.Errorf("%v %s = %+v, %v; want %q from %q (set %v)", tc.args, tc.name, o, err, tc.want, tc.source, tc.set)
		}
	}
	if _, err := auth.ModuleOption(p, entry("pam_faillock", "conf=/etc/other.conf"), "deny", auth.Versions{}); err == nil {
		t.Error("conf= naming an uncollected file: want an error, not a value")
	}
}

func TestModuleOptionPWHistoryConfDependsOnVersion(t *testing.T) {
	p := &host.PAM{PWHistory: map[string]host.Setting{
		"remember":         {Value: "24", File: auth.PWHistoryFile, Line: 2},
		"enforce_for_root": {Value: "", File: auth.PWHistoryFile, Line: 3},
	}}
	e := entry("pam_pwhistory", "use_authtok")
	o, err := auth.ModuleOption(p, e, "remember", auth.Versions{PAM: "1.5.2"})
	if err != nil || o.Value.Value != "10" || len(o.Notes) == 0 {
		t.Errorf("1.5.2 does not read pwhistory.conf: got %+v, %v; want the default 10 and a note", o, err)
	}
	o, err = auth.ModuleOption(p, e, "remember", auth.Versions{PAM: "1.5.3"})
	if err != nil || o.Value.Value != "24" || o.Value.Source != "/etc/security/pwhistory.conf:2" {
		t.Errorf("1.5.3 reads pwhistory.conf: got %+v, %v", o, err)
	}
	if o, err := auth.ModuleOption(p, e, "enforce_for_root", auth.Versions{PAM: "1.6.0"}); err != nil || !o.Set {
		t.Errorf("enforce_for_root from pwhistory.conf on 1.6.0: %+v, %v", o, err)
	}
	if _, err := auth.ModuleOption(p, e, "remember", auth.Versions{}); err == nil {
		t.Error("unknown PAM version with remember only in pwhistory.conf: want an error")
	}
	// An argument decides whatever the version.
	o, err = auth.ModuleOption(p, entry("pam_pwhistory", "REMEMBER=500"), "remember", auth.Versions{})
	if err != nil || o.Value.Value != "400" {
		t.Errorf("remember=500: %+v, %v; want 400 (pam_pwhistory's cap)", o, err)
	}
	if o, _ := auth.ModuleOption(&host.PAM{}, entry("pam_pwhistory"), "enforce_for_root", auth.Versions{PAM: "1.5.2"}); o.Set {
		t.Errorf("enforce_for_root without argument or file: %+v, want unset", o)
	}
}

func TestModuleOptionPWQuality(t *testing.T) {
	p := &host.PAM{PWQuality: map[string]host.Setting{
		"minlen":           {Value: "14", File: auth.PWQualityFile, Line: 1},
		"enforce_for_root": {Value: "true", File: auth.PWQualityFile, Line: 2},
	}}
	e := host.PAMEntry{Type: "password", Control: "requisite", Module: "pam_pwquality.so", Args: []string{"retry=3", "minlen=4"}, File: "/etc/pam.d/common-password", Line: 25}
	o, _ := auth.ModuleOption(p, e, "minlen", auth.Versions{})
	if o.Value.Value != "6" {
		t.Errorf("minlen=4 argument over 14 in the file: %+v, want 6 (argument wins, raised to libpwquality's minimum)", o)
	}
	if o, _ := auth.ModuleOption(p, e, "enforce_for_root", auth.Versions{}); !o.Set {
		t.Errorf("enforce_for_root from pwquality.conf: %+v", o)
	}
	if o, _ := auth.ModuleOption(p, e, "maxrepeat", auth.Versions{}); o.Value.Value != "0" || o.Value.Source != "default (libpwquality)" {
		t.Errorf("maxrepeat default: %+v", o)
	}
}

func TestPAMVersion(t *testing.T) {
	pkgs := []host.Package{{Manager: "dpkg", Name: "libpam-runtime", Version: "9"}, {Manager: "dpkg", Name: "libpam-modules", Version: "1.5.2-6+deb12u1"}}
	if v := auth.PAMVersion(pkgs); v != "1.5.2" {
		t.Errorf("PAMVersion = %q", v)
	}
	if v := auth.PAMVersion([]host.Package{{Manager: "rpm", Name: "pam", Version: "1:1.5.1-19.el9"}}); v != "1.5.1" {
		t.Errorf("rpm PAMVersion = %q", v)
	}
	if v := auth.PAMVersion(nil); v != "" {
		t.Errorf("no packages: %q", v)
	}
}

func TestCollectPWHistoryAndUserAdd(t *testing.T) {
	root := t.TempDir()
	mustWrite(t, root, "etc/login.defs", "UMASK 027\n")
	mustWrite(t, root, "etc/pam.d/passwd", "password requisite pam_pwhistory.so\n")
	mustWrite(t, root, "etc/security/pwhistory.conf", "remember = 24\n")
	mustWrite(t, root, "etc/default/useradd", "SHELL=/bin/sh\nINACTIVE=30\n")
	inv, run := collectRoot(t, root)
	if run.Status != host.StatusOK {
		t.Fatalf("run = %+v", run)
	}
	if s := inv.Config.PAM.PWHistory["remember"]; s.Value != "24" || s.File != auth.PWHistoryFile || s.Line != 1 {
		t.Errorf("pwhistory remember = %+v", s)
	}
	if ua := inv.Config.UserAdd; ua == nil || ua.Settings["INACTIVE"].Value != "30" || ua.Settings["INACTIVE"].Line != 2 {
		t.Errorf("useradd = %+v", ua)
	}

	// No /etc/default/useradd: useradd's built-in defaults, recorded as
	// an empty set (not as "not collected").
	root = t.TempDir()
	mustWrite(t, root, "etc/login.defs", "UMASK 027\n")
	inv, _ = collectRoot(t, root)
	if ua := inv.Config.UserAdd; ua == nil || len(ua.Settings) != 0 {
		t.Errorf("missing useradd file: %+v, want empty defaults", ua)
	}
	if inv.Config.PAM != nil && inv.Config.PAM.PWHistory != nil {
		t.Errorf("no pwhistory.conf: %+v", inv.Config.PAM.PWHistory)
	}
}

// A setting in a file the installed module does not read is not in
// effect: Amazon Linux 2's pam_faillock (Linux-PAM 1.1.8) reads no
// faillock.conf, and its libpwquality 1.2.3 no pwquality.conf.d; the
// value falls back to the default, with a note saying why. Red Hat's
// 1.3.1 and upstream 1.4.0 and later do read faillock.conf, libpwquality
// 1.4.0 and later pwquality.conf.d; an unknown version keeps the file.
func TestModuleOptionUnreadByVersion(t *testing.T) {
	p := &host.PAM{
		Faillock: map[string]host.Setting{"deny": {Value: "5", File: auth.FaillockFile, Line: 1}},
		PWQuality: map[string]host.Setting{
			"minlen":   {Value: "14", File: "/etc/security/pwquality.conf.d/50-cis.conf", Line: 1},
			"minclass": {Value: "4", File: auth.PWQualityFile, Line: 3},
		},
	}
	fl := entry("pam_faillock", "preauth")
	for v, want := range map[string]string{"1.1.8": "3", "1.3.1": "5", "1.5.2": "5", "": "5"} {
		o, err := auth.ModuleOption(p, fl, "deny", auth.Versions{PAM: v})
		if err != nil || o.Value.Value != want {
			t.Errorf("Linux-PAM %q: deny %+v %v, want %s", v, o, err, want)
		}
		if want == "3" && !slices.ContainsFunc(o.Notes, func(n string) bool { return strings.Contains(n, "reads no faillock.conf") }) {
			t.Errorf("Linux-PAM %q: no note says faillock.conf is not read: %v", v, o.Notes)
		}
	}
	pq := host.PAMEntry{Type: "password", Control: "requisite", Module: "pam_pwquality.so", File: "/etc/pam.d/system-auth", Line: 12}
	for v, want := range map[string]string{"1.2.3": "8", "1.4.0": "14", "1.4.5": "14", "": "14"} {
		o, err := auth.ModuleOption(p, pq, "minlen", auth.Versions{PWQuality: v})
		if err != nil || o.Value.Value != want {
			t.Errorf("libpwquality %q: minlen %+v %v, want %s", v, o, err, want)
		}
		if mc, _ := auth.ModuleOption(p, pq, "minclass", auth.Versions{PWQuality: v}); mc.Value.Value != "4" {
			t.Errorf("libpwquality %q: pwquality.conf's minclass %+v, want 4 (the main file is always read)", v, mc)
		}
	}
	pol := auth.EffectivePasswordPolicy(&host.PAM{Stacks: map[string][]host.PAMEntry{"passwd": {pq}}, PWQuality: p.PWQuality}, auth.Versions{PWQuality: "1.2.3"})
	if pol.MinLen.Value != "8" || !slices.ContainsFunc(pol.Notes, func(n string) bool { return strings.Contains(n, "reads no pwquality.conf.d") }) {
		t.Errorf("policy under libpwquality 1.2.3: minlen %+v, notes %v", pol.MinLen, pol.Notes)
	}
	vs := auth.InstalledVersions([]host.Package{{Manager: "rpm", Name: "pam", Version: "1.1.8-23.amzn2.0.1"}, {Manager: "rpm", Name: "libpwquality", Version: "1.2.3-5.amzn2"}})
	if vs != (auth.Versions{PAM: "1.1.8", PWQuality: "1.2.3"}) {
		t.Errorf("InstalledVersions: %+v", vs)
	}
}
