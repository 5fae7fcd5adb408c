package auth

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/kensa-dev/kensa/internal/host"
)

// CredentialModules are the auth modules that check a user's password
// themselves: pam_unix against /etc/shadow, and the Red Hat family's
// pam_sss (the sssd profile of authselect puts "auth sufficient
// pam_sss.so" between pam_unix and pam_faillock's authfail line), and
// pam_ldap, pam_krb5 and pam_winbind. A line that handles the failure of
// password checking (pam_faillock authfail) is meant to be skipped when
// any of them succeeds.
var CredentialModules = []string{"pam_unix", "pam_sss", "pam_ldap", "pam_krb5", "pam_winbind"}

// Bypass reports whether a line before stack[i], of the same type, can
// make libpam pass over stack[i] on a way that may still end in success:
// a jump ("[success=2 default=ignore]", "[default=1]") that lands beyond
// it, "sufficient", or a "done" action for success. It returns that
// line's index and what it does. A line whose control enforces nothing
// cannot be relied on when an earlier line can skip it: that is how
// `password [success=2 default=ignore] pam_permit.so` above pam_pwquality
// turns the strength check off while pam_pwquality's own line still reads
// "requisite".
//
// The analysis is conservative: every return code is taken as possible,
// except that pam_permit always succeeds and pam_deny never does; a
// jump's own line being skipped is not followed; jumps inside a substack
// (which cannot leave it) are counted as if the stack were flat. Two
// exceptions keep the normal patterns clean:
//   - exempt names the modules whose success may skip the line: a line
//     placed after a module to handle its failure (pam_faillock authfail
//     after pam_unix) is meant to be skipped when that module succeeds.
//     Only the "success" action is exempt, not "default".
//   - pam_rootok in the auth lines succeeds only for a caller who is
//     already root, who could act as any user anyway (su's
//     "auth sufficient pam_rootok.so" above pam_wheel).
//
// Jumps forward from a line after stack[i] (Debian's pam_unix
// "[success=1 default=ignore]" over pam_deny) never skip it.
func Bypass(stack []host.PAMEntry, i int, exempt ...string) (j int, why string, ok bool) {
	typ := stack[i].Type
	target := 0
	for k := 0; k < i; k++ {
		if stack[k].Type == typ {
			target++
		}
	}
	ord := -1
	for j = 0; j < i; j++ {
		e := stack[j]
		if e.Type != typ {
			continue
		}
		ord++
		m := ModuleName(e)
		if typ == "auth" && m == "pam_rootok" {
			continue
		}
		canSucceed := m != "pam_deny"
		onlySuccess := m == "pam_permit"
		ctl := Control(e)
		if ctl == "sufficient" {
			if canSucceed && !slices.Contains(exempt, m) {
				return j, "sufficient: its success ends the stack before this line", true
			}
			continue
		}
		if !strings.HasPrefix(ctl, "[") {
			continue
		}
		fields := strings.Fields(strings.Trim(ctl, "[]"))
		listsSuccess := false
		for _, f := range fields {
			if k, _, _ := strings.Cut(f, "="); strings.EqualFold(k, "success") {
				listsSuccess = true
			}
		}
		for _, f := range fields {
			code, act, found := strings.Cut(f, "=")
			if !found {
				continue
			}
			code, act = strings.ToLower(code), strings.ToLower(act)
			success := code == "success" || (code == "default" && !listsSuccess)
			switch {
			case code == "success" && !canSucceed:
				continue
			case code != "success" && code != "default" && onlySuccess:
				continue
			case code == "default" && onlySuccess && listsSuccess:
				continue
			case code == "default" && !canSucceed:
				success = false
			}
			if code == "success" && slices.Contains(exempt, m) {
				continue
			}
			if n, err := strconv.Atoi(act); err == nil && n > 0 {
				if ord+n >= target {
					return j, fmt.Sprintf("%s=%d jumps over this line", code, n), true
				}
				continue
			}
			if act == "done" && success {
				return j, fmt.Sprintf("%s=done ends the stack with success before this line", code), true
			}
		}
	}
	return -1, "", false
}
