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

// sshd_list with from: the keyword must come from the named file (the
// crypto policy's back end), which sshd must read; unset everywhere
// passes, set in a file read first or in a Match block fails.
func TestSSHDListFrom(t *testing.T) {
	const backEnd = "/etc/crypto-policies/back-ends/opensshserver.config"
	check := &rules.Check{SSHDList: &rules.SSHDList{Keyword: "Ciphers", From: backEnd}}
	inv := func(files []string, g map[string]host.Setting, m ...host.SSHDMatch) *host.Inventory {
		return &host.Inventory{Config: &host.Config{SSHD: &host.SSHD{Installed: true, Version: "8.7p1", Files: files, Global: g, Matches: m}}}
	}
	read := []string{"/etc/ssh/sshd_config", "/etc/ssh/sshd_config.d/50-redhat.conf", backEnd}
	for _, c := range []struct {
		name string
		inv  *host.Inventory
		want string
		ev   string
	}{
		{"from the policy", inv(read, map[string]host.Setting{"ciphers": {Value: "aes256-gcm@openssh.com", File: backEnd, Line: 1}}), finding.StatusPass, "is taken from " + backEnd},
		{"unset", inv(read, map[string]host.Setting{}), finding.StatusPass, "is not set in any file sshd reads"},
		{"compiled-in default", inv(read, map[string]host.Setting{"ciphers": {Value: "aes128-ctr"}}), finding.StatusPass, "is not set in any file sshd reads"},
		{"read first", inv(append([]string{"/etc/ssh/sshd_config.d/40-mine.conf"}, read...), map[string]host.Setting{"ciphers": {Value: "aes128-cbc", File: "/etc/ssh/sshd_config.d/40-mine.conf", Line: 2}}), finding.StatusFail, "(/etc/ssh/sshd_config.d/40-mine.conf:2) is read before " + backEnd},
		{"back end not read", inv(read[:2], map[string]host.Setting{}), finding.StatusFail, "sshd does not read " + backEnd},
		{"in a Match block", inv(read, map[string]host.Setting{"ciphers": {Value: "x", File: backEnd, Line: 1}},
			host.SSHDMatch{Criteria: "User bob", File: "/etc/ssh/sshd_config", Line: 9, Settings: map[string]host.Setting{"ciphers": {Value: "aes128-cbc", File: "/etc/ssh/sshd_config", Line: 10}}}), finding.StatusFail, "Match User bob"},
	} {
		got := check.Evaluate(c.inv)
		if got.Status != c.want || !strings.Contains(strings.Join(got.Evidence, "\n"), c.ev) {
			t.Errorf("%s: %s %q (%s), want %s with %q", c.name, got.Status, got.Evidence, got.Reason, c.want, c.ev)
		}
	}
	for _, src := range []string{
		"    keyword: Ciphers\n    from: " + backEnd + "\n    forbidden: ['*-cbc']",
		"    keyword: Ciphers\n    from: relative.config",
		"    from: " + backEnd,
	} {
		if _, err := rules.Parse([]byte("id: x\npackage: cis\ntitle: t\ntarget: t\nseverity: low\ndescription: d\nrationale: r\nremediation: r\ncheck:\n  sshd_list:\n" + src + "\n")); err == nil || !strings.Contains(err.Error(), "sshd_list") {
			t.Errorf("%q: error %v", src, err)
		}
	}
}
