package rules_test

import (
	"strings"
	"testing"

	"github.com/kensa-dev/kensa/internal/finding"
	"github.com/kensa-dev/kensa/internal/host"
	"github.com/kensa-dev/kensa/internal/rules"
)

func sshdInv(global map[string]string, live map[string]string, matches ...host.SSHDMatch) *host.Inventory {
	g := map[string]host.Setting{}
	for k, v := range global {
		g[k] = host.Setting{Value: v, File: "/etc/ssh/sshd_config", Line: 1}
	}
	return &host.Inventory{Config: &host.Config{SSHD: &host.SSHD{
		Installed: true, Version: "9.2p1", Global: g, Live: live, Matches: matches,
	}}}
}

// sshd_list judges sshd -T's list when there is one, refuses to judge a
// list left relative, and finds weak entries by pattern and allow-list.
func TestSSHDList(t *testing.T) {
	macs := &rules.SSHDList{Keyword: "MACs", Forbidden: []string{"hmac-md5*", "umac-64*"}, Allowed: []string{"hmac-sha2-256", "hmac-sha2-512"}}
	for _, c := range []struct {
		name string
		inv  *host.Inventory
		want string
		ev   string
	}{
		{"allowed", sshdInv(map[string]string{"macs": "hmac-sha2-256,hmac-sha2-512"}, nil), finding.StatusPass, ""},
		{"forbidden pattern", sshdInv(map[string]string{"macs": "hmac-sha2-256,HMAC-MD5-ETM@openssh.com"}, nil), finding.StatusFail, "offers hmac-md5-etm@openssh.com"},
		{"outside the allow-list", sshdInv(map[string]string{"macs": "hmac-sha2-256,hmac-sha1"}, nil), finding.StatusFail, "offers hmac-sha1"},
		{"sshd -T wins", sshdInv(map[string]string{"macs": "hmac-sha2-256"}, map[string]string{"macs": "umac-64@openssh.com"}), finding.StatusFail, "(sshd -T)"},
		{"relative list unresolved", sshdInv(map[string]string{"macs": "-hmac-md5"}, nil), finding.StatusError, ""},
		{"no list", sshdInv(map[string]string{}, nil), finding.StatusError, ""},
		{"not installed", &host.Inventory{Config: &host.Config{SSHD: &host.SSHD{}}}, finding.StatusNotApplicable, ""},
	} {
		got := (&rules.Check{SSHDList: macs}).Evaluate(c.inv)
		if got.Status != c.want || !strings.Contains(strings.Join(got.Evidence, "\n"), c.ev) {
			t.Errorf("%s: %s %q (%s), want %s with %q", c.name, got.Status, got.Evidence, got.Reason, c.want, c.ev)
		}
	}
}

// sshd_any_set passes on a global limit only; one set in a Match block is
// named in the evidence but does not pass.
func TestSSHDAnySet(t *testing.T) {
	check := &rules.Check{SSHDAnySet: &rules.SSHDAnySet{Keywords: []string{"AllowUsers", "AllowGroups"}}}
	if got := check.Evaluate(sshdInv(map[string]string{"allowgroups": "sshusers"}, nil)); got.Status != finding.StatusPass {
		t.Errorf("global AllowGroups: %+v", got)
	}
	m := host.SSHDMatch{Criteria: "Address 10.0.0.0/8", File: "/etc/ssh/sshd_config", Line: 9,
		Settings: map[string]host.Setting{"allowusers": {Value: "alice"}}}
	got := check.Evaluate(sshdInv(map[string]string{}, nil, m))
	if got.Status != finding.StatusFail || !strings.Contains(strings.Join(got.Evidence, "\n"), "Match Address 10.0.0.0/8") {
		t.Errorf("Match-only AllowUsers: %+v", got)
	}
}
