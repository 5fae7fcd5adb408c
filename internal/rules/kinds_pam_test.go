package rules

import (
	"strings"
	"testing"

	"github.com/kensa-dev/kensa/internal/finding"
	"github.com/kensa-dev/kensa/internal/host"
)

func pamLine(file string, n int, typ, control, module string, args ...string) host.PAMEntry {
	return host.PAMEntry{Type: typ, Control: control, Module: module + ".so", Args: args, File: file, Line: n}
}

// cisCommonPassword is the CIS-hardened Debian common-password.
func cisCommonPassword() []host.PAMEntry {
	f := "/etc/pam.d/common-password"
	return []host.PAMEntry{
		pamLine(f, 25, "password", "requisite", "pam_pwquality", "retry=3", "minlen=14"),
		pamLine(f, 26, "password", "requisite", "pam_pwhistory", "remember=24", "use_authtok"),
		pamLine(f, 28, "password", "[success=1 default=ignore]", "pam_unix", "use_authtok", "yescrypt"),
		pamLine(f, 30, "password", "requisite", "pam_deny"),
		pamLine(f, 33, "password", "required", "pam_permit"),
	}
}

func pamInv(p *host.PAM) host.Inventory { return host.Inventory{Config: &host.Config{PAM: p}} }

// TestPAMChecks covers jumps over a module, a passwd stack that does not
// reach common-password, and stacks that could not be read in full.
func TestPAMChecks(t *testing.T) {
	pwq := &PAMModuleCheck{Services: []string{"common-password", "passwd"}, Type: "password", Module: "pam_pwquality", Before: "pam_unix", Enforcing: true}
	minlen := &PAMOptionCheck{Services: []string{"common-password", "passwd"}, Type: "password", Module: "pam_pwquality", Option: "minlen", Min: intp(14)}
	nullok := &PAMModuleCheck{Services: []string{"*"}, Module: "pam_unix", IfPresent: true, NoArgs: []string{"nullok"}}
	wheel := &PAMModuleCheck{Services: []string{"su"}, Type: "auth", Module: "pam_wheel", Enforcing: true}
	authfail := &PAMModuleCheck{Services: []string{"common-auth"}, Type: "auth", Module: "pam_faillock", WithArgs: []string{"authfail"}, After: "pam_unix", Enforcing: true}

	hardened := func() *host.PAM {
		cp := cisCommonPassword()
		return &host.PAM{Stacks: map[string][]host.PAMEntry{"common-password": cp, "passwd": cp}}
	}
	permit := pamLine("/etc/pam.d/common-password", 24, "password", "[success=2 default=ignore]", "pam_permit")
	skipped := hardened()
	skipped.Stacks["common-password"] = append([]host.PAMEntry{permit}, skipped.Stacks["common-password"]...)
	skipped.Stacks["passwd"] = skipped.Stacks["common-password"]
	standalone := hardened()
	standalone.Stacks["passwd"] = []host.PAMEntry{pamLine("/etc/pam.d/passwd", 1, "password", "required", "pam_unix", "yescrypt")}
	noPasswd := hardened()
	delete(noPasswd.Stacks, "passwd")
	noPasswd.Stacks["other"] = []host.PAMEntry{pamLine("/etc/pam.d/other", 1, "password", "required", "pam_deny")}
	unread := hardened()
	unread.Stacks["common-auth"] = nil
	unread.Unread = map[string][]string{"common-auth": {"/etc/pam.d/common-auth: file exceeds the read limit"}}
	unreadNullok := hardened()
	unreadNullok.Stacks["login"] = []host.PAMEntry{pamLine("/etc/pam.d/login", 3, "auth", "required", "pam_unix", "nullok")}
	unreadNullok.Unread = map[string][]string{"login": {"common-auth (included at /etc/pam.d/login:4): not found"}}
	unreadPasswd := hardened()
	unreadPasswd.Unread = map[string][]string{"passwd": {"/etc/pam.d/passwd: permission denied"}}
	su := &host.PAM{Stacks: map[string][]host.PAMEntry{"su": {
		pamLine("/etc/pam.d/su", 15, "auth", "sufficient", "pam_rootok"),
		pamLine("/etc/pam.d/su", 17, "auth", "required", "pam_wheel", "use_uid"),
	}}}
	ca := "/etc/pam.d/common-auth"
	cisAuth := &host.PAM{Stacks: map[string][]host.PAMEntry{"common-auth": {
		pamLine(ca, 17, "auth", "requisite", "pam_faillock", "preauth"),
		pamLine(ca, 18, "auth", "[success=2 default=ignore]", "pam_unix"),
		pamLine(ca, 19, "auth", "[default=die]", "pam_faillock", "authfail"),
		pamLine(ca, 20, "auth", "requisite", "pam_deny"),
		pamLine(ca, 21, "auth", "required", "pam_permit"),
	}}}
	for _, tc := range []struct {
		name  string
		check interface {
			validate() error
			evaluate(*host.Inventory) Outcome
		}
		pam      *host.PAM
		want     string
		evidence string
	}{
		{"hardened pwquality", pwq, hardened(), finding.StatusPass, "pam.d/common-password, passwd: /etc/pam.d/common-password:25"},
		{"hardened minlen", minlen, hardened(), finding.StatusPass, "minlen 14"},
		{"permit jumps over pwquality", pwq, skipped, finding.StatusFail, "/etc/pam.d/common-password:24: password [success=2 default=ignore] pam_permit.so: success=2 jumps over this line"},
		{"permit jumps over pwquality: minlen", minlen, skipped, finding.StatusFail, "pam_permit.so: success=2 jumps over this line), so the value may never apply"},
		{"passwd without common-password", pwq, standalone, finding.StatusFail, "pam.d/passwd: no pam_pwquality"},
		{"passwd without common-password: minlen", minlen, standalone, finding.StatusFail, "pam.d/passwd: no pam_pwquality"},
		{"no passwd: libpam runs other", pwq, noPasswd, finding.StatusFail, "pam.d/passwd (no file of its own: libpam runs other): no pam_pwquality"},
		{"unread common-auth: nullok unknown", nullok, unread, finding.StatusError, "/etc/pam.d/common-auth: file exceeds the read limit"},
		{"unread include, nullok found anyway", nullok, unreadNullok, finding.StatusFail, "has the argument nullok"},
		{"unread passwd: pwquality", pwq, unreadPasswd, finding.StatusError, "/etc/pam.d/passwd: permission denied"},
		{"unread passwd: minlen", minlen, unreadPasswd, finding.StatusError, "/etc/pam.d/passwd: permission denied"},
		{"su: pam_rootok does not skip pam_wheel", wheel, su, finding.StatusPass, "pam_wheel"},
		{"authfail skipped only by pam_unix success", authfail, cisAuth, finding.StatusPass, "authfail"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.check.validate(); err != nil {
				t.Fatal(err)
			}
			inv := pamInv(tc.pam)
			o := tc.check.evaluate(&inv)
			all := o.Reason + "\n" + strings.Join(o.Evidence, "\n")
			if o.Status != tc.want || !strings.Contains(all, tc.evidence) {
				t.Errorf("got %s\n%s\nwant %s with %q", o.Status, all, tc.want, tc.evidence)
			}
		})
	}
}

// TestShadowAgingWithoutShadowFacts: users without shadow facts are
// listed, failed when the passwd field holds the password, and make the
// check an error when their password state is unknown.
func TestShadowAgingWithoutShadowFacts(t *testing.T) {
	seven := 7
	ok := host.User{Name: "alice", PasswdField: "shadowed", Shadow: &host.ShadowAging{PasswordState: "set", WarnDays: &seven}}
	hash := host.User{Name: "bob", PasswdField: "other", Line: 3}
	noEntry := host.User{Name: "svc", PasswdField: "shadowed", NoShadowEntry: true}
	unread := host.User{Name: "carol", PasswdField: "shadowed"}
	c := &ShadowAging{Field: "warn_days", Min: intp(7)}
	for _, tc := range []struct {
		name     string
		users    []host.User
		want     string
		evidence string
	}{
		{"all aged", []host.User{ok}, finding.StatusPass, "for all 1 users"},
		{"hash in passwd", []host.User{ok, hash}, finding.StatusFail, "bob (password field of /etc/passwd:3 is not x"},
		{"no shadow entry", []host.User{ok, noEntry}, finding.StatusPass, "no usable password (skipped): svc"},
		{"shadow facts missing", []host.User{ok, unread}, finding.StatusError, "carol"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			inv := host.Inventory{Users: tc.users}
			o := c.evaluate(&inv)
			all := o.Reason + "\n" + strings.Join(o.Evidence, "\n")
			if o.Status != tc.want || !strings.Contains(all, tc.evidence) {
				t.Errorf("got %s\n%s\nwant %s with %q", o.Status, all, tc.want, tc.evidence)
			}
		})
	}
}

// TestPasswordPolicyUnread: a password stack that could not be read in
// full leaves the policy unknown.
func TestPasswordPolicyUnread(t *testing.T) {
	p := &host.PAM{Stacks: map[string][]host.PAMEntry{"passwd": cisCommonPassword()},
		Unread: map[string][]string{"passwd": {"/etc/pam.d/common-password: file exceeds the read limit"}}}
	inv := pamInv(p)
	if o := (&PasswordPolicy{MinLength: 14}).evaluate(&inv); o.Status != finding.StatusError || !strings.Contains(o.Reason, "common-password") {
		t.Errorf("got %s %q %q", o.Status, o.Reason, o.Evidence)
	}
}

func intp(n int) *int { return &n }
