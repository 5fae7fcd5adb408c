package auth_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kensa-dev/kensa/internal/collect/auth"
	"github.com/kensa-dev/kensa/internal/host"
)

// big is a file past the collector's 1 MiB bound ending with line.
func big(line string) string {
	return strings.Repeat("# padding\n", (1<<20)/10+10) + line + "\n"
}

// TestUnreadStacks: a PAM file that cannot be read (too large, a
// directory, a missing include) leaves every stack that needs it recorded
// as incomplete, so that rules never take a line missing from it as
// absent.
func TestUnreadStacks(t *testing.T) {
	root := t.TempDir()
	mustWrite(t, root, "etc/login.defs", "UMASK 027\n")
	mustWrite(t, root, "etc/pam.d/common-auth", big("auth [success=1 default=ignore] pam_unix.so nullok"))
	mustWrite(t, root, "etc/pam.d/login", "auth required pam_env.so\n@include common-auth\n")
	mustWrite(t, root, "etc/pam.d/sshd", "@include common-nothere\naccount required pam_nologin.so\n")
	if err := os.MkdirAll(filepath.Join(root, "etc/pam.d/su"), 0o755); err != nil {
		t.Fatal(err)
	}
	mustWrite(t, root, "etc/pam.d/passwd", "password required pam_unix.so yescrypt\n")
	inv, _ := collectRoot(t, root)
	p := inv.Config.PAM
	has := func(svc, want string) bool {
		for _, u := range p.Unread[svc] {
			if strings.Contains(u, want) {
				return true
			}
		}
		return false
	}
	if !has("common-auth", "/etc/pam.d/common-auth: file exceeds the read limit") {
		t.Errorf("common-auth: unread %q", p.Unread["common-auth"])
	}
	if !has("login", "/etc/pam.d/common-auth") || len(p.Stacks["login"]) != 1 {
		t.Errorf("login: unread %q, stack %v", p.Unread["login"], p.Stacks["login"])
	}
	if !has("sshd", "common-nothere (included at /etc/pam.d/sshd:1): not found") {
		t.Errorf("sshd: unread %q", p.Unread["sshd"])
	}
	if !has("su", "/etc/pam.d/su:") {
		t.Errorf("su (a directory): unread %q", p.Unread["su"])
	}
	if _, ok := p.Unread["passwd"]; ok {
		t.Errorf("passwd was read in full: unread %q", p.Unread["passwd"])
	}
}

// TestUnreadModuleConfiguration: faillock.conf, pwquality.conf and
// pwhistory.conf past the bound are recorded, and an option that would
// come from them (no argument sets it) is an error, never the module's
// default.
func TestUnreadModuleConfiguration(t *testing.T) {
	root := t.TempDir()
	mustWrite(t, root, "etc/pam.d/common-auth", "auth required pam_faillock.so preauth\n")
	mustWrite(t, root, "etc/security/faillock.conf", big("deny = 0"))
	mustWrite(t, root, "etc/security/pwquality.conf", big("minlen = 1"))
	mustWrite(t, root, "etc/security/pwhistory.conf", big("remember = 0"))
	inv, _ := collectRoot(t, root)
	p := inv.Config.PAM
	for _, f := range []string{auth.FaillockFile, auth.PWQualityFile, auth.PWHistoryFile} {
		if !strings.Contains(p.ConfErrors[f], "exceeds the read limit") {
			t.Errorf("%s: conf error %q", f, p.ConfErrors[f])
		}
	}
	fl := entry("pam_faillock", "preauth")
	if o, err := auth.ModuleOption(p, fl, "deny", auth.Versions{}); err == nil || !strings.Contains(err.Error(), auth.FaillockFile) {
		t.Errorf("deny from an unread faillock.conf: %+v, %v; want an error naming the file", o, err)
	}
	fl.Args = append(fl.Args, "deny=4", "unlock_time=never")
	if o, err := auth.ModuleOption(p, fl, "deny", auth.Versions{}); err != nil || o.Value.Value != "4" {
		t.Errorf("deny=4 argument: %+v, %v", o, err)
	}
	if o, err := auth.ModuleOption(p, fl, "unlock_time", auth.Versions{}); err != nil || o.Value.Value != "0" {
		t.Errorf("unlock_time=never argument: %+v, %v", o, err)
	}
	if _, err := auth.ModuleOption(p, fl, "root_unlock_time", auth.Versions{}); err == nil {
		t.Error("root_unlock_time may be set in the unread file: want an error")
	}
	pq := host.PAMEntry{Type: "password", Control: "requisite", Module: "pam_pwquality.so", Args: []string{"minlen=14"}, File: "/etc/pam.d/common-password", Line: 25}
	if _, err := auth.ModuleOption(p, pq, "minclass", auth.Versions{}); err == nil || !strings.Contains(err.Error(), auth.PWQualityFile) {
		t.Errorf("minclass from an unread pwquality.conf: %v; want an error", err)
	}
	if o, err := auth.ModuleOption(p, pq, "minlen", auth.Versions{}); err != nil || o.Value.Value != "14" {
		t.Errorf("minlen=14 argument: %+v, %v", o, err)
	}
	ph := host.PAMEntry{Type: "password", Control: "required", Module: "pam_pwhistory.so", File: "/etc/pam.d/common-password", Line: 26}
	if _, err := auth.ModuleOption(p, ph, "remember", auth.Versions{PAM: "1.5.3"}); err == nil {
		t.Error("remember from an unread pwhistory.conf read by Linux-PAM 1.5.3: want an error")
	}
	if o, err := auth.ModuleOption(p, ph, "remember", auth.Versions{PAM: "1.5.2"}); err != nil || o.Value.Value != "10" {
		t.Errorf("Linux-PAM 1.5.2 does not read pwhistory.conf: %+v, %v", o, err)
	}
	pol := auth.EffectivePasswordPolicy(&host.PAM{Stacks: map[string][]host.PAMEntry{"passwd": {pq}}, ConfErrors: p.ConfErrors}, auth.Versions{})
	if len(pol.Unread) == 0 {
		t.Errorf("policy with an unread pwquality.conf: Unread empty")
	}
}

// TestBypass: the lines that can skip a later one, and the normal Debian
// patterns that must not count.
func TestBypass(t *testing.T) {
	line := func(typ, control, module string, args ...string) host.PAMEntry {
		return host.PAMEntry{Type: typ, Control: control, Module: module + ".so", Args: args, File: "/etc/pam.d/x", Line: 1}
	}
	cisPassword := []host.PAMEntry{
		line("password", "requisite", "pam_pwquality", "retry=3"),
		line("password", "requisite", "pam_pwhistory", "remember=24"),
		line("password", "[success=1 default=ignore]", "pam_unix", "yescrypt"),
		line("password", "requisite", "pam_deny"),
		line("password", "required", "pam_permit"),
	}
	cisAuth := []host.PAMEntry{
		line("auth", "requisite", "pam_faillock", "preauth"),
		line("auth", "[success=2 default=ignore]", "pam_unix"),
		line("auth", "[default=die]", "pam_faillock", "authfail"),
		line("auth", "requisite", "pam_deny"),
		line("auth", "required", "pam_permit"),
	}
	// authselect's sssd profile with-faillock (RHEL 9).
	sssdAuth := []host.PAMEntry{
		line("auth", "required", "pam_faillock", "preauth", "silent"),
		line("auth", "[default=1 ignore=ignore success=ok]", "pam_usertype", "isregular"),
		line("auth", "[default=1 ignore=ignore success=ok]", "pam_localuser"),
		line("auth", "sufficient", "pam_unix"),
		line("auth", "[default=1 ignore=ignore success=ok]", "pam_usertype", "isregular"),
		line("auth", "sufficient", "pam_sss", "forward_pass"),
		line("auth", "required", "pam_faillock", "authfail"),
		line("auth", "required", "pam_deny"),
	}
	su := []host.PAMEntry{
		line("auth", "sufficient", "pam_rootok"),
		line("auth", "required", "pam_wheel", "use_uid"),
	}
	withPermit := append([]host.PAMEntry{line("password", "[success=2 default=ignore]", "pam_permit")}, cisPassword...)
	for _, tc := range []struct {
		name   string
		stack  []host.PAMEntry
		i      int
		exempt string
		want   int // index of the skipping line, -1 for none
	}{
		{"pwquality first", cisPassword, 0, "", -1},
		{"pwhistory second", cisPassword, 1, "", -1},
		{"pam_deny after pam_unix success=1", cisPassword, 3, "", 2},
		{"permit success=2 over pwquality", withPermit, 1, "", 0},
		{"permit success=2 over pwhistory", withPermit, 2, "", 0},
		{"permit success=2 does not reach pam_unix", withPermit, 3, "", -1},
		{"permit default=1 cannot happen", append([]host.PAMEntry{line("password", "[success=ok default=1]", "pam_permit")}, cisPassword...), 1, "", -1},
		{"deny success=1 cannot happen", append([]host.PAMEntry{line("password", "[success=1 default=ignore]", "pam_deny")}, cisPassword...), 1, "", -1},
		{"unknown module default=1", append([]host.PAMEntry{line("password", "[success=ok default=1]", "pam_foo")}, cisPassword...), 1, "", 0},
		{"sufficient", append([]host.PAMEntry{line("password", "sufficient", "pam_foo")}, cisPassword...), 1, "", 0},
		{"success=done", append([]host.PAMEntry{line("password", "[success=done default=ignore]", "pam_foo")}, cisPassword...), 1, "", 0},
		{"new_authtok_reqd=done is no success", append([]host.PAMEntry{line("password", "[success=ok new_authtok_reqd=done default=ignore]", "pam_foo")}, cisPassword...), 1, "", -1},
		{"other type does not count", append([]host.PAMEntry{line("auth", "[success=5 default=5]", "pam_foo")}, cisPassword...), 1, "", -1},
		{"authfail after pam_unix, exempt", cisAuth, 2, "pam_unix", -1},
		{"authfail after pam_unix, not exempt", cisAuth, 2, "", 1},
		{"su: pam_rootok", su, 1, "", -1},
		{"sssd authfail, pam_unix alone exempt", sssdAuth, 6, "pam_unix", 5},
		{"sssd authfail, credential modules exempt", sssdAuth, 6, "", -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			exempt := []string{tc.exempt}
			if tc.name == "sssd authfail, credential modules exempt" {
				exempt = auth.CredentialModules
			}
			j, why, ok := auth.Bypass(tc.stack, tc.i, exempt...)
			if (tc.want < 0) == ok || (ok && j != tc.want) {
				t.Errorf("Bypass = %d %q %v; want %d", j, why, ok, tc.want)
			}
		})
	}
}

// TestServiceStack: a service without its own file runs "other"; a
// shared file has no fallback.
func TestServiceStack(t *testing.T) {
	other := []host.PAMEntry{{Type: "password", Control: "required", Module: "pam_deny.so"}}
	p := &host.PAM{Stacks: map[string][]host.PAMEntry{"other": other}}
	if s, used, ok := auth.ServiceStack(p, "passwd"); !ok || used != "other" || len(s) != 1 {
		t.Errorf("passwd: %v %q %v", s, used, ok)
	}
	if _, _, ok := auth.ServiceStack(p, "common-password"); ok {
		t.Error("common-password fell back to other")
	}
}
