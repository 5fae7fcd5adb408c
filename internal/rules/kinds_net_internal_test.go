package rules

import "testing"

func TestNetKindsValidate(t *testing.T) {
	for _, c := range []Check{
		{Listening: &ListeningCheck{Protos: []string{"tcp"}, Ports: []int{25}, Allowed: []string{"udp/123"}}},
		{Wireless: &WirelessCheck{}},
		{FirewallManager: &FirewallManagerCheck{Assert: "others_not_in_use", Manager: "nftables", Others: []string{"ufw"}}},
		{FirewallRules: &FirewallRulesCheck{Assert: "loopback", Manager: "iptables", Families: []string{"ip6"}}},
		{FirewallRules: &FirewallRulesCheck{Assert: "persistent", Manager: "iptables", Families: []string{"ip"}}},
		{FirewallManager: &FirewallManagerCheck{Assert: "enabled", Manager: "firewalld"}},
		{FirewallManager: &FirewallManagerCheck{Assert: "enabled", Manager: "iptables", Families: []string{"ip6"}}},
		{FirewallManager: &FirewallManagerCheck{Assert: "others_absent_or_masked", Manager: "firewalld", Others: []string{"nftables"}}},
	} {
		if err := c.validate(); err != nil {
			t.Errorf("%+v: %v", c, err)
		}
	}
	for _, c := range []Check{
		{Listening: &ListeningCheck{Protos: []string{"sctp"}}},
		{Listening: &ListeningCheck{Ports: []int{0}}},
		{Listening: &ListeningCheck{Allowed: []string{"22"}}},
		{FirewallManager: &FirewallManagerCheck{Assert: "single", Manager: "ufw"}},
		{FirewallManager: &FirewallManagerCheck{Assert: "installed", Manager: "ufw"}},
		{FirewallManager: &FirewallManagerCheck{Assert: "others_not_in_use", Manager: "ufw", Others: []string{"ufw"}}},
		{FirewallManager: &FirewallManagerCheck{Assert: "enabled", Manager: "pf"}},
		{FirewallManager: &FirewallManagerCheck{Assert: "enabled", Manager: "iptables", Families: []string{"inet"}}},
		{FirewallManager: &FirewallManagerCheck{Assert: "installed", Manager: "iptables", Packages: []string{"iptables"}, Families: []string{"ip"}}},
		{FirewallManager: &FirewallManagerCheck{Assert: "others_absent_or_masked", Manager: "firewalld"}},
		{FirewallRules: &FirewallRulesCheck{Assert: "persistent", Manager: "ufw"}},
		{FirewallRules: &FirewallRulesCheck{Assert: "default_deny", Manager: "nftables", Families: []string{"inet"}}},
	} {
		if err := c.validate(); err == nil {
			t.Errorf("%+v validated", c)
		}
	}
}
