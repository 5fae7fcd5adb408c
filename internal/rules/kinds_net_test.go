package rules_test

import (
	"strings"
	"testing"

	"github.com/kensa-dev/kensa/internal/finding"
	"github.com/kensa-dev/kensa/internal/host"
	"github.com/kensa-dev/kensa/internal/rules"
)

// fwInv builds an inventory: installed packages, units enabled (and
// active, when active is not nil), and the firewall facts.
func fwInv(pkgs []string, enabled []string, active map[string]string, fw *host.Firewall) *host.Inventory {
	inv := &host.Inventory{
		Collectors: []host.CollectorRun{{Name: "pkg/dpkg", Status: host.StatusOK}},
		Config:     &host.Config{Firewall: fw},
	}
	for _, p := range pkgs {
		inv.Packages = append(inv.Packages, host.Package{Manager: "dpkg", Name: p, Version: "1.0"})
	}
	u := &host.Units{Manager: "systemd", Units: map[string]host.Unit{}, ActiveSource: "an image"}
	for _, name := range []string{"ufw.service", "nftables.service", "netfilter-persistent.service", "firewalld.service"} {
		u.Units[name] = host.Unit{State: "disabled", Path: "/lib/systemd/system/" + name}
	}
	for _, name := range enabled {
		u.Units[name] = host.Unit{State: "enabled", Path: "/lib/systemd/system/" + name, Links: []string{"/etc/systemd/system/multi-user.target.wants/" + name}}
	}
	if active != nil {
		u.ActiveKnown = true
		u.ActiveSource = "systemctl list-units"
		for name, a := range active {
			unit := u.Units[name]
			unit.Active = a
			u.Units[name] = unit
		}
	}
	inv.Config.Units = u
	return inv
}

func chain(family, name, hook, policy string, rules ...host.FirewallRule) host.FirewallChain {
	c := host.FirewallChain{Family: family, Table: "filter", Name: name, Hook: hook, File: "/etc/nftables.conf", Line: 5, Rules: rules}
	if policy != "" {
		c.Policy = &host.Setting{Value: policy, File: "/etc/nftables.conf", Line: 6}
	}
	return c
}

var (
	loAccept = host.FirewallRule{InIface: "lo", Verdict: "accept", Text: `iif "lo" accept`, File: "/etc/nftables.conf", Line: 7}
	spoof4   = host.FirewallRule{InIface: "!lo", Source: "127.0.0.0/8", Verdict: "drop", Text: "ip saddr 127.0.0.0/8 drop", Line: 8}
	spoof6   = host.FirewallRule{Source: "::1", Verdict: "drop", Text: "ip6 saddr ::1 drop", Line: 9}
)

func hardened() *host.FirewallRuleset {
	return &host.FirewallRuleset{Files: []string{"/etc/nftables.conf"}, Chains: []host.FirewallChain{
		chain("inet", "input", "input", "drop", loAccept, spoof4, spoof6),
	}}
}

func TestFirewallKinds(t *testing.T) {
	nftCheck := func(assert string) rules.Check {
		return rules.Check{FirewallRules: &rules.FirewallRulesCheck{Manager: "nftables", Assert: assert}}
	}
	single := rules.Check{FirewallManager: &rules.FirewallManagerCheck{Assert: "single"}}
	nftEnabled := rules.Check{FirewallManager: &rules.FirewallManagerCheck{Manager: "nftables", Assert: "enabled"}}
	ufwInstalled := rules.Check{FirewallManager: &rules.FirewallManagerCheck{Manager: "ufw", Assert: "installed", Packages: []string{"ufw"}}}
	nft := []string{"nftables"}
	on := []string{"nftables.service"}

	openLive := &host.FirewallRuleset{Files: []string{"nft -j list ruleset"}, Chains: []host.FirewallChain{chain("inet", "input", "input", "accept")}}
	extraLive := hardened()
	extraLive.Chains = append(extraLive.Chains, chain("ip", "docker-in", "input", "accept"))

	// Loopback rules in a chain the input chain jumps to count; in a
	// chain nothing jumps to they do not.
	jumped := &host.FirewallRuleset{Chains: []host.FirewallChain{
		chain("inet", "input", "input", "drop", host.FirewallRule{Verdict: "jump", Target: "lo-rules"}),
		chain("inet", "lo-rules", "", "", loAccept, spoof4, spoof6),
	}}
	orphan := &host.FirewallRuleset{Chains: []host.FirewallChain{
		chain("inet", "input", "input", "drop"),
		chain("inet", "lo-rules", "", "", loAccept, spoof4, spoof6),
	}}
	// An ip-only table leaves IPv6 open.
	v4only := &host.FirewallRuleset{Chains: []host.FirewallChain{chain("ip", "input", "input", "drop", loAccept, spoof4)}}

	for _, tc := range []struct {
		name   string
		check  rules.Check
		inv    *host.Inventory
		status string
		ev     string
	}{
		{"nft in use, hardened file", nftCheck("default_deny"), fwInv(nft, on, nil, &host.Firewall{NFT: hardened()}), finding.StatusPass, "policy drop (/etc/nftables.conf:6)"},
		{"the running ruleset decides", nftCheck("default_deny"), fwInv(nft, on, nil, &host.Firewall{NFT: hardened(), NFTLive: openLive, NFTLiveSource: "/usr/sbin/nft -j list ruleset"}), finding.StatusFail, "judged on the running ruleset"},
		{"loopback via a jump", nftCheck("loopback"), fwInv(nft, on, nil, &host.Firewall{NFT: jumped}), finding.StatusPass, "traffic on lo accepted"},
		{"loopback in an unreachable chain", nftCheck("loopback"), fwInv(nft, on, nil, &host.Firewall{NFT: orphan}), finding.StatusFail, "no rule on the input path accepts traffic on lo"},
		{"ip table only", nftCheck("default_deny"), fwInv(nft, on, nil, &host.Firewall{NFT: v4only}), finding.StatusFail, "ip6: no chain on the input hook"},
		{"ip table only, loopback", nftCheck("loopback"), fwInv(nft, on, nil, &host.Firewall{NFT: v4only}), finding.StatusFail, "ip6: no rule on the input path accepts"},
		{"persistent", nftCheck("persistent"), fwInv(nft, on, nil, &host.Firewall{NFT: hardened(), NFTLive: hardened()}), finding.StatusPass, "read /etc/nftables.conf"},
		{"running chain not saved", nftCheck("persistent"), fwInv(nft, on, nil, &host.Firewall{NFT: hardened(), NFTLive: extraLive}), finding.StatusFail, "ip filter docker-in (hook input, policy accept) is not in the saved ruleset"},
		{"running policy differs", nftCheck("persistent"), fwInv(nft, on, nil, &host.Firewall{NFT: hardened(), NFTLive: openLive}), finding.StatusFail, "has policy accept, the saved one drop"},
		{"no nftables.conf", nftCheck("persistent"), fwInv(nft, on, nil, &host.Firewall{}), finding.StatusFail, "no /etc/nftables.conf"},
		{"no nftables.conf on the red hat family", nftCheck("default_deny"), func() *host.Inventory {
			i := fwInv(nft, on, nil, &host.Firewall{NFTLiveSource: "not read: an image has no running ruleset"})
			i.OS = &host.OSRelease{ID: "rhel", Family: "rhel"}
			return i
		}(), finding.StatusFail, "no /etc/sysconfig/nftables.conf, and the running ruleset was not read"},
		{"none in use: nftables judged", nftCheck("default_deny"), fwInv(nil, nil, nil, &host.Firewall{}), finding.StatusFail, "nftables, the kernel's packet filter the other managers drive, is judged"},
		{"enabled but not running", single, fwInv(nft, on, map[string]string{"nftables.service": "failed"}, &host.Firewall{}), finding.StatusFail, "no firewall manager is in use"},
		{"enabled and running", single, fwInv(nft, on, map[string]string{"nftables.service": "active"}, &host.Firewall{}), finding.StatusPass, "one firewall manager in use: nftables"},
		{"enabled, not running, judged in part", nftEnabled, fwInv(nft, on, map[string]string{"nftables.service": "inactive"}, &host.Firewall{}), finding.StatusFail, "nftables is set up in part"},
		{"firewalld in use", nftCheck("default_deny"), fwInv([]string{"firewalld", "nftables"}, []string{"firewalld.service"}, nil, &host.Firewall{}), finding.StatusNotApplicable, "in use: firewalld"},
		{"firewalld alone is one manager", single, fwInv([]string{"firewalld", "nftables"}, []string{"firewalld.service"}, nil, &host.Firewall{}), finding.StatusPass, "firewalld"},
		{"ufw installed alone is judged", ufwInstalled, fwInv([]string{"ufw", "nftables"}, nil, nil, &host.Firewall{UFW: &host.UFWConfig{Enabled: &host.Setting{Value: "no"}}}), finding.StatusPass, "ufw is the one installed"},
		{"ufw ENABLED=no is not in use", single, fwInv([]string{"ufw"}, []string{"ufw.service"}, nil, &host.Firewall{UFW: &host.UFWConfig{Enabled: &host.Setting{Value: "no", File: "/etc/ufw/ufw.conf", Line: 6}}}), finding.StatusFail, "ENABLED=no (/etc/ufw/ufw.conf:6)"},
		{"two in use", single, fwInv([]string{"ufw", "nftables"}, []string{"ufw.service", "nftables.service"}, nil, &host.Firewall{UFW: &host.UFWConfig{Enabled: &host.Setting{Value: "yes"}}}), finding.StatusFail, "several firewall managers are in use: ufw, nftables"},
		{"no firewall facts", single, func() *host.Inventory { i := fwInv(nft, nil, nil, nil); i.Config.Firewall = nil; return i }(), finding.StatusError, "firewall configuration was not collected"},
		{"no units", single, func() *host.Inventory { i := fwInv(nft, nil, nil, &host.Firewall{}); i.Config.Units = nil; return i }(), finding.StatusError, "units were not collected"},
		{"no package database", single, func() *host.Inventory {
			i := fwInv(nil, nil, nil, &host.Firewall{})
			i.Collectors = nil
			return i
		}(), finding.StatusError, "no package database"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := tc.check.Evaluate(tc.inv)
			text := strings.Join(o.Evidence, "\n") + "\n" + o.Reason
			if o.Status != tc.status || !strings.Contains(text, tc.ev) {
				t.Errorf("got %s, want %s with %q:\n%s", o.Status, tc.status, tc.ev, text)
			}
		})
	}
}

func TestFirewallUFWAndIPTables(t *testing.T) {
	ufwRules := func(rules ...host.FirewallRule) *host.FirewallRuleset {
		return &host.FirewallRuleset{Chains: []host.FirewallChain{{Family: "ip", Table: "filter", Name: "ufw-user-input", Rules: rules}}}
	}
	ufw := func(policy, ipv6 string, r4 *host.FirewallRuleset) *host.Inventory {
		return fwInv([]string{"ufw"}, []string{"ufw.service"}, nil, &host.Firewall{UFW: &host.UFWConfig{
			Enabled:      &host.Setting{Value: "yes"},
			DefaultInput: &host.Setting{Value: policy, File: "/etc/default/ufw", Line: 11},
			IPv6:         &host.Setting{Value: ipv6, File: "/etc/default/ufw", Line: 7},
			Rules4:       r4,
		}})
	}
	deny := rules.Check{FirewallRules: &rules.FirewallRulesCheck{Manager: "ufw", Assert: "default_deny"}}
	lo := rules.Check{FirewallRules: &rules.FirewallRulesCheck{Manager: "ufw", Assert: "loopback"}}
	for _, tc := range []struct {
		name   string
		check  rules.Check
		inv    *host.Inventory
		status string
		ev     string
	}{
		{"reject counts", deny, ufw("REJECT", "yes", nil), finding.StatusPass, "DEFAULT_INPUT_POLICY=REJECT (/etc/default/ufw:11)"},
		{"accept", deny, ufw("ACCEPT", "yes", nil), finding.StatusFail, "DEFAULT_INPUT_POLICY=ACCEPT"},
		{"IPv6 off: IPv4 rules suffice", lo, ufw("DROP", "no", ufwRules(loAccept, spoof4)), finding.StatusPass, "ufw manages no IPv6 rules"},
		{"IPv6 on needs user6.rules", lo, ufw("DROP", "yes", ufwRules(loAccept, spoof4)), finding.StatusFail, "ip6: no rules"},
		{"a negated source is no spoof rule", lo, ufw("DROP", "no", ufwRules(loAccept, host.FirewallRule{Source: "!127.0.0.0/8", Verdict: "drop"})), finding.StatusFail, "no rule on the input path drops traffic from 127.0.0.0/8"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := tc.check.Evaluate(tc.inv)
			text := strings.Join(o.Evidence, "\n") + "\n" + o.Reason
			if o.Status != tc.status || !strings.Contains(text, tc.ev) {
				t.Errorf("got %s, want %s with %q:\n%s", o.Status, tc.status, tc.ev, text)
			}
		})
	}

	// iptables: only the filter table's INPUT chain decides.
	ipt := func(v4 *host.FirewallRuleset) *host.Inventory {
		return fwInv([]string{"iptables", "iptables-persistent"}, []string{"netfilter-persistent.service"}, nil, &host.Firewall{IPTables4: v4})
	}
	natDrop := &host.FirewallRuleset{Chains: []host.FirewallChain{
		{Family: "ip", Table: "nat", Name: "INPUT", Hook: "input", Policy: &host.Setting{Value: "drop"}},
		{Family: "ip", Table: "filter", Name: "INPUT", Hook: "input", Policy: &host.Setting{Value: "accept", File: "/etc/iptables/rules.v4", Line: 3}},
	}}
	deny4 := rules.Check{FirewallRules: &rules.FirewallRulesCheck{Manager: "iptables", Assert: "default_deny", Families: []string{"ip"}}}
	if o := deny4.Evaluate(ipt(natDrop)); o.Status != finding.StatusFail || !strings.Contains(strings.Join(o.Evidence, "\n"), "policy accept (/etc/iptables/rules.v4:3)") {
		t.Errorf("nat INPUT: %+v", o)
	}
	deny6 := rules.Check{FirewallRules: &rules.FirewallRulesCheck{Manager: "iptables", Assert: "default_deny", Families: []string{"ip6"}}}
	if o := deny6.Evaluate(ipt(natDrop)); o.Status != finding.StatusFail || !strings.Contains(strings.Join(o.Evidence, "\n"), "ip6: no /etc/iptables/rules.v6: netfilter-persistent restores no rules at boot") {
		t.Errorf("no rules.v6: %+v", o)
	}
}

// A loopback rule counts only when it matches nothing else, and the
// forged-source drop only when it covers all of 127.0.0.0/8 (::1 for
// IPv6).
func TestFirewallLoopbackNarrow(t *testing.T) {
	lo := rules.Check{FirewallRules: &rules.FirewallRulesCheck{Manager: "nftables", Assert: "loopback"}}
	nft := []string{"nftables"}
	on := []string{"nftables.service"}
	with := func(rs ...host.FirewallRule) *host.Inventory {
		return fwInv(nft, on, nil, &host.Firewall{NFT: &host.FirewallRuleset{Files: []string{"/etc/nftables.conf"}, Chains: []host.FirewallChain{chain("inet", "input", "input", "drop", rs...)}}})
	}
	sshLo := host.FirewallRule{InIface: "lo", Verdict: "accept", Other: "tcp dport", Text: `iif "lo" tcp dport 22 accept`, File: "/etc/nftables.conf", Line: 7}
	srcLo := host.FirewallRule{InIface: "lo", Source: "127.0.0.1", Verdict: "accept", Text: `iif "lo" ip saddr 127.0.0.1 accept`, File: "/etc/nftables.conf", Line: 7}
	host32 := host.FirewallRule{InIface: "!lo", Source: "127.0.0.1/32", Verdict: "drop", Text: "ip saddr 127.0.0.1/32 drop", File: "/etc/nftables.conf", Line: 8}
	bare := host.FirewallRule{Source: "127.0.0.1", Verdict: "drop", Text: "ip saddr 127.0.0.1 drop", File: "/etc/nftables.conf", Line: 8}
	tcpOnly := host.FirewallRule{Source: "127.0.0.0/8", Verdict: "drop", Other: "tcp dport", Text: "ip saddr 127.0.0.0/8 tcp dport 22 drop", File: "/etc/nftables.conf", Line: 8}
	wide := host.FirewallRule{InIface: "!lo", Source: "127.0.0.0/7", Verdict: "drop", Text: "ip saddr 127.0.0.0/7 drop", File: "/etc/nftables.conf", Line: 8}
	six := host.FirewallRule{Source: "::1/128", Verdict: "drop", Text: "ip6 saddr ::1/128 drop", File: "/etc/nftables.conf", Line: 9}
	for _, tc := range []struct {
		name   string
		inv    *host.Inventory
		status string
		ev     string
	}{
		{"all", with(loAccept, spoof4, spoof6), finding.StatusPass, "traffic on lo accepted"},
		{"lo accept of one port", with(sshLo, spoof4, spoof6), finding.StatusFail, `not counted: "iif \"lo\" tcp dport 22 accept" (/etc/nftables.conf:7) also matches tcp dport`},
		{"lo accept of one source", with(srcLo, spoof4, spoof6), finding.StatusFail, "also matches source 127.0.0.1"},
		{"drop of 127.0.0.1/32", with(loAccept, host32, spoof6), finding.StatusFail, "ip: not counted: \"ip saddr 127.0.0.1/32 drop\" (/etc/nftables.conf:8) does not cover all loopback sources"},
		{"drop of 127.0.0.1", with(loAccept, bare, spoof6), finding.StatusFail, "does not cover all loopback sources"},
		{"drop of tcp only", with(loAccept, tcpOnly, spoof6), finding.StatusFail, "also matches tcp dport"},
		{"a wider prefix covers it", with(loAccept, wide, six), finding.StatusPass, "traffic from ::1 on other interfaces dropped"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := lo.Evaluate(tc.inv)
			text := strings.Join(o.Evidence, "\n") + "\n" + o.Reason
			if o.Status != tc.status || !strings.Contains(text, tc.ev) {
				t.Errorf("got %s, want %s with %q:\n%s", o.Status, tc.status, tc.ev, text)
			}
		})
	}
}

// A ruleset nft -f would refuse fails (nothing is loaded at boot); one
// only partly known is an error, never a pass, for every manager.
func TestFirewallRulesetNotLoadedOrNotKnown(t *testing.T) {
	nft := []string{"nftables"}
	on := []string{"nftables.service"}
	refused := hardened()
	refused.LoadError = `/etc/nftables.conf:26: include "/etc/nftables.d/site.nft": /etc/nftables.d/site.nft does not exist`
	partial := hardened()
	partial.Truncated = true
	partial.Incomplete = []string{`/etc/nftables.conf:3: include "x.nft": /etc/x.nft could not be read: permission denied`}
	bound := hardened()
	bound.Truncated = true
	ipt := func(v4 *host.FirewallRuleset) *host.Inventory {
		return fwInv([]string{"iptables", "iptables-persistent"}, []string{"netfilter-persistent.service"}, nil, &host.Firewall{IPTables4: v4})
	}
	iptBound := &host.FirewallRuleset{Files: []string{"/etc/iptables/rules.v4"}, Truncated: true, Chains: []host.FirewallChain{
		{Family: "ip", Table: "filter", Name: "INPUT", Hook: "input", Policy: &host.Setting{Value: "drop"}, Rules: []host.FirewallRule{loAccept, spoof4}},
	}}
	for _, tc := range []struct {
		name   string
		check  rules.Check
		inv    *host.Inventory
		status string
		ev     string
	}{
		{"refused, default deny", rules.Check{FirewallRules: &rules.FirewallRulesCheck{Manager: "nftables", Assert: "default_deny"}}, fwInv(nft, on, nil, &host.Firewall{NFT: refused}), finding.StatusFail, "nft -f /etc/nftables.conf would fail and load nothing at boot: /etc/nftables.conf:26"},
		{"refused, loopback", rules.Check{FirewallRules: &rules.FirewallRulesCheck{Manager: "nftables", Assert: "loopback"}}, fwInv(nft, on, nil, &host.Firewall{NFT: refused}), finding.StatusFail, "would fail and load nothing"},
		{"refused, persistent", rules.Check{FirewallRules: &rules.FirewallRulesCheck{Manager: "nftables", Assert: "persistent"}}, fwInv(nft, on, nil, &host.Firewall{NFT: refused}), finding.StatusFail, "would fail and load nothing"},
		{"the running ruleset decides over a refused file", rules.Check{FirewallRules: &rules.FirewallRulesCheck{Manager: "nftables", Assert: "default_deny"}}, fwInv(nft, on, nil, &host.Firewall{NFT: refused, NFTLive: hardened(), NFTLiveSource: "nft -j list ruleset"}), finding.StatusPass, "judged on the running ruleset"},
		{"partial include", rules.Check{FirewallRules: &rules.FirewallRulesCheck{Manager: "nftables", Assert: "default_deny"}}, fwInv(nft, on, nil, &host.Firewall{NFT: partial}), finding.StatusError, "could not be read: permission denied"},
		{"partial, persistent", rules.Check{FirewallRules: &rules.FirewallRulesCheck{Manager: "nftables", Assert: "persistent"}}, fwInv(nft, on, nil, &host.Firewall{NFT: partial}), finding.StatusError, "not fully known"},
		{"bound, loopback", rules.Check{FirewallRules: &rules.FirewallRulesCheck{Manager: "nftables", Assert: "loopback"}}, fwInv(nft, on, nil, &host.Firewall{NFT: bound}), finding.StatusError, "a bound cut it short"},
		{"iptables bound", rules.Check{FirewallRules: &rules.FirewallRulesCheck{Manager: "iptables", Assert: "loopback", Families: []string{"ip"}}}, ipt(iptBound), finding.StatusError, "/etc/iptables/rules.v4 is not fully known"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := tc.check.Evaluate(tc.inv)
			text := strings.Join(o.Evidence, "\n") + "\n" + o.Reason
			if o.Status != tc.status || !strings.Contains(text, tc.ev) {
				t.Errorf("got %s, want %s with %q:\n%s", o.Status, tc.status, tc.ev, text)
			}
		})
	}
}

// On the Red Hat family (Amazon Linux 2) the iptables manager is
// iptables-services: iptables.service restores /etc/sysconfig/iptables,
// ip6tables.service /etc/sysconfig/ip6tables; iptables-persistent and
// netfilter-persistent mean nothing there.
func TestFirewallIPTablesServices(t *testing.T) {
	amzn := &host.OSRelease{ID: "amzn", Family: "rhel", Major: "2"}
	inv := func(pkgs, enabled []string, active map[string]string, fw *host.Firewall) *host.Inventory {
		i := fwInv(pkgs, enabled, active, fw)
		i.OS = amzn
		for _, name := range []string{"iptables.service", "ip6tables.service"} {
			if _, ok := i.Config.Units.Units[name]; !ok {
				i.Config.Units.Units[name] = host.Unit{State: "disabled", Path: "/usr/lib/systemd/system/" + name}
			}
		}
		return i
	}
	saved4 := &host.FirewallRuleset{Files: []string{"/etc/sysconfig/iptables"}, Chains: []host.FirewallChain{{
		Family: "ip", Table: "filter", Name: "INPUT", Hook: "input", File: "/etc/sysconfig/iptables", Line: 2,
		Policy: &host.Setting{Value: "drop", File: "/etc/sysconfig/iptables", Line: 2},
		Rules: []host.FirewallRule{
			{InIface: "lo", Verdict: "accept", Text: "-A INPUT -i lo -j ACCEPT", File: "/etc/sysconfig/iptables", Line: 5},
			{Source: "127.0.0.0/8", Verdict: "drop", Text: "-A INPUT -s 127.0.0.0/8 -j DROP", File: "/etc/sysconfig/iptables", Line: 6},
		},
	}}}
	fw := &host.Firewall{IPTables4: saved4}
	both := []string{"iptables.service", "ip6tables.service"}
	check := func(c rules.Check, i *host.Inventory, want, evidence string) {
		t.Helper()
		o := c.Evaluate(i)
		if o.Status != want || !strings.Contains(strings.Join(o.Evidence, "\n")+o.Reason, evidence) {
			t.Errorf("%+v: %s %q (%s), want %s with %q", c, o.Status, o.Evidence, o.Reason, want, evidence)
		}
	}
	single := rules.Check{FirewallManager: &rules.FirewallManagerCheck{Assert: "single"}}
	// iptables-persistent's packages and unit are not the manager here.
	check(single, inv([]string{"iptables", "iptables-persistent"}, []string{"netfilter-persistent.service"}, nil, fw), finding.StatusFail, "no firewall manager is in use")
	inUse := inv([]string{"iptables", "iptables-services"}, both, nil, fw)
	check(single, inUse, finding.StatusPass, "one firewall manager in use: iptables")
	check(single, inUse, finding.StatusPass, "iptables: installed (iptables-services 1.0); iptables.service: enabled")

	installed := rules.Check{FirewallManager: &rules.FirewallManagerCheck{Manager: "iptables", Assert: "installed", Packages: []string{"iptables", "iptables-services"}}}
	check(installed, inUse, finding.StatusPass, "installed: iptables 1.0, iptables-services 1.0")
	// Set up in part (ip6tables.service enabled alone): judged, and not
	// enabled for IPv4.
	part := inv([]string{"iptables", "iptables-services"}, []string{"ip6tables.service"}, nil, fw)
	enabled4 := rules.Check{FirewallManager: &rules.FirewallManagerCheck{Manager: "iptables", Assert: "enabled", Families: []string{"ip"}}}
	enabled6 := rules.Check{FirewallManager: &rules.FirewallManagerCheck{Manager: "iptables", Assert: "enabled", Families: []string{"ip6"}}}
	check(enabled4, part, finding.StatusFail, "iptables is set up in part")
	check(enabled6, part, finding.StatusPass, "iptables is set up in part")
	check(enabled4, inUse, finding.StatusPass, "ip6tables.service: enabled")
	check(enabled6, inUse, finding.StatusPass, "ip6tables.service: enabled")
	only4 := inv([]string{"iptables", "iptables-services"}, []string{"iptables.service"}, nil, fw)
	check(enabled4, only4, finding.StatusPass, "iptables.service: enabled")
	check(enabled6, only4, finding.StatusFail, "ip6tables.service: disabled")
	// Running, when known: ip6tables.service enabled but failed.
	failed := inv([]string{"iptables", "iptables-services"}, both, map[string]string{"iptables.service": "active", "ip6tables.service": "failed"}, fw)
	check(enabled4, failed, finding.StatusPass, "iptables.service")
	check(enabled6, failed, finding.StatusFail, "ip6tables.service")

	// The saved rules of /etc/sysconfig.
	deny4 := rules.Check{FirewallRules: &rules.FirewallRulesCheck{Manager: "iptables", Assert: "default_deny", Families: []string{"ip"}}}
	lo4 := rules.Check{FirewallRules: &rules.FirewallRulesCheck{Manager: "iptables", Assert: "loopback", Families: []string{"ip"}}}
	deny6 := rules.Check{FirewallRules: &rules.FirewallRulesCheck{Manager: "iptables", Assert: "default_deny", Families: []string{"ip6"}}}
	saved4c := rules.Check{FirewallRules: &rules.FirewallRulesCheck{Manager: "iptables", Assert: "persistent", Families: []string{"ip"}}}
	saved6c := rules.Check{FirewallRules: &rules.FirewallRulesCheck{Manager: "iptables", Assert: "persistent", Families: []string{"ip6"}}}
	check(deny4, inUse, finding.StatusPass, "policy drop (/etc/sysconfig/iptables:2)")
	check(lo4, inUse, finding.StatusPass, "-A INPUT -s 127.0.0.0/8 -j DROP")
	check(deny6, inUse, finding.StatusFail, "ip6: no /etc/sysconfig/ip6tables: ip6tables.service restores no rules at boot")
	check(saved4c, inUse, finding.StatusPass, "ip: read /etc/sysconfig/iptables")
	check(saved6c, inUse, finding.StatusFail, "no /etc/sysconfig/ip6tables")
	open := &host.Firewall{IPTables4: &host.FirewallRuleset{Files: []string{"/etc/sysconfig/iptables"}, Chains: []host.FirewallChain{{
		Family: "ip", Table: "filter", Name: "INPUT", Hook: "input", Policy: &host.Setting{Value: "accept", File: "/etc/sysconfig/iptables", Line: 2}}}}}
	check(saved4c, inv([]string{"iptables", "iptables-services"}, both, nil, open), finding.StatusFail, "policy accept (/etc/sysconfig/iptables:2)")

	// Another manager: not applicable.
	fwd := inv([]string{"firewalld", "iptables", "iptables-services"}, []string{"firewalld.service"}, nil, fw)
	check(deny4, fwd, finding.StatusNotApplicable, "in use: firewalld")
	check(enabled6, fwd, finding.StatusNotApplicable, "in use: firewalld")
}

// others_absent_or_masked: another manager is not installed, or its unit
// is masked (and not running, when that is known); disabled is not enough.
func TestFirewallOthersAbsentOrMasked(t *testing.T) {
	amzn := &host.OSRelease{ID: "amzn", Family: "rhel", Major: "2"}
	c := rules.Check{FirewallManager: &rules.FirewallManagerCheck{Manager: "firewalld", Assert: "others_absent_or_masked", Others: []string{"nftables", "iptables"}}}
	mk := func(pkgs []string, mask []string, active map[string]string) *host.Inventory {
		i := fwInv(pkgs, []string{"firewalld.service"}, active, &host.Firewall{})
		i.OS = amzn
		for _, name := range []string{"iptables.service", "ip6tables.service"} {
			i.Config.Units.Units[name] = host.Unit{State: "disabled", Path: "/usr/lib/systemd/system/" + name}
		}
		for _, name := range mask {
			i.Config.Units.Units[name] = host.Unit{State: "masked", MaskedBy: "/etc/systemd/system/" + name, Active: active[name]}
		}
		return i
	}
	for _, tc := range []struct {
		name   string
		pkgs   []string
		mask   []string
		active map[string]string
		want   string
	}{
		{"not installed", []string{"firewalld"}, nil, nil, finding.StatusPass},
		{"installed, disabled", []string{"firewalld", "nftables"}, nil, nil, finding.StatusFail},
		{"installed, masked", []string{"firewalld", "nftables"}, []string{"nftables.service"}, nil, finding.StatusPass},
		{"masked but running", []string{"firewalld", "nftables"}, []string{"nftables.service"}, map[string]string{"firewalld.service": "active", "nftables.service": "active"}, finding.StatusFail},
		{"iptables-services, one unit masked", []string{"firewalld", "iptables-services"}, []string{"iptables.service"}, nil, finding.StatusFail},
		{"iptables-services, both masked", []string{"firewalld", "iptables-services"}, []string{"iptables.service", "ip6tables.service"}, nil, finding.StatusPass},
	} {
		if o := c.Evaluate(mk(tc.pkgs, tc.mask, tc.active)); o.Status != tc.want {
			t.Errorf("%s: %s %q, want %s", tc.name, o.Status, o.Evidence, tc.want)
		}
	}
}
