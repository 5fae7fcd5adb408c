package rules

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	fwcollect "github.com/kensa-dev/kensa/internal/collect/firewall"
	"github.com/kensa-dev/kensa/internal/host"
)

// ListeningCheck checks the sockets that accept traffic from the network
// (config/net): every listening TCP socket and bound UDP socket of the
// selected protocols and ports is bound to a loopback address, or is
// approved.
type ListeningCheck struct {
	// Protos are tcp (tcp and tcp6) and udp (udp and udp6); empty means
	// both.
	Protos []string `yaml:"protos"`
	// Ports limit the check to these local ports; empty means every port.
	Ports []int `yaml:"ports"`
	// Allowed are approved listeners on other addresses, "tcp/22" or
	// "udp/123" (a site adds its own with a tailoring file).
	Allowed []string `yaml:"allowed"`
}

func (c *ListeningCheck) validate() error {
	for _, p := range c.Protos {
		if p != "tcp" && p != "udp" {
			return fmt.Errorf("listening: proto %q: want tcp or udp", p)
		}
	}
	for _, p := range c.Ports {
		if p < 1 || p > 65535 {
			return fmt.Errorf("listening: port %d is not a port number", p)
		}
	}
	for _, a := range c.Allowed {
		proto, port, ok := strings.Cut(a, "/")
		n, err := strconv.Atoi(port)
		if !ok || (proto != "tcp" && proto != "udp") || err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("listening: allowed %q: want tcp/PORT or udp/PORT", a)
		}
	}
	return nil
}

// networkFacts returns the network facts, or the outcome when missing.
func networkFacts(inv *host.Inventory) (*host.Network, *Outcome) {
	if inv.Config != nil && inv.Config.Network != nil {
		return inv.Config.Network, nil
	}
	reason := "the network state was not collected"
	for _, r := range inv.Collectors {
		if r.Name == "config/net" && r.Reason != "" {
			if r.Status == host.StatusSkipped {
				o := notApplicable(r.Reason)
				return nil, &o
			}
			reason += ": " + r.Reason
		}
	}
	o := errorf("%s", reason)
	return nil, &o
}

// socketLine describes a socket for the evidence.
func socketLine(s host.Socket, known bool) string {
	addr := s.Address
	if strings.Contains(addr, ":") {
		addr = "[" + addr + "]"
	}
	line := fmt.Sprintf("%s %s:%d (%s:%d)", s.Proto, addr, s.Port, s.File, s.Line)
	var owners []string
	for _, p := range s.Processes {
		o := fmt.Sprintf("pid %d", p.PID)
		if p.Comm != "" {
			o = p.Comm + " " + o
		}
		if p.Exe != "" {
			o += " " + p.Exe
		}
		owners = append(owners, o)
	}
	if len(owners) > 0 {
		line += " by " + strings.Join(owners, ", ")
	} else if known {
		line += ", owner not found"
	}
	return line
}

func (c *ListeningCheck) evaluate(inv *host.Inventory) Outcome {
	n, o := networkFacts(inv)
	if o != nil {
		return *o
	}
	if !n.SocketsKnown && len(n.SocketsIncomplete) == 0 {
		return notApplicable("listening sockets are not known: " + n.SocketsSource)
	}
	protos := c.Protos
	if len(protos) == 0 {
		protos = []string{"tcp", "udp"}
	}
	var bad, local []string
	allowed := 0
	unowned := false
	for _, s := range n.Listening {
		family := strings.TrimSuffix(s.Proto, "6")
		if !slices.Contains(protos, family) || (len(c.Ports) > 0 && !slices.Contains(c.Ports, s.Port)) {
			continue
		}
		unowned = unowned || len(s.Processes) == 0
		a, err := netip.ParseAddr(s.Address)
		if err == nil && a.Unmap().IsLoopback() {
			local = append(local, socketLine(s, n.OwnersLookedUp)+": loopback")
			continue
		}
		if slices.Contains(c.Allowed, fmt.Sprintf("%s/%d", family, s.Port)) {
			allowed++
			local = append(local, socketLine(s, n.OwnersLookedUp)+": approved")
			continue
		}
		bad = append(bad, socketLine(s, n.OwnersLookedUp)+": reachable from the network")
	}
	what := strings.Join(protos, "/")
	if len(c.Ports) > 0 {
		var ps []string
		for _, p := range c.Ports {
			ps = append(ps, strconv.Itoa(p))
		}
		what += " port " + strings.Join(ps, ", ")
	}
	var notes []string
	if !n.OwnersKnown && n.OwnersSource != "" && unowned {
		notes = append(notes, n.OwnersSource)
	}
	var partial []string
	for _, why := range n.SocketsIncomplete {
		partial = append(partial, "socket table incomplete: "+why)
	}
	if len(bad) > 0 {
		// A socket seen reachable fails whatever could not be read.
		return fail(slices.Concat(bad, notes, partial)...)
	}
	if len(partial) > 0 {
		// What could not be read may hold a reachable socket.
		o := errorf("the socket table is not fully known: %s", strings.Join(n.SocketsIncomplete, "; "))
		o.Evidence = slices.Concat(local, notes)
		return o
	}
	if len(local) == 0 {
		return pass(slices.Concat([]string{"no " + what + " socket listens (" + n.SocketsSource + ")"}, notes)...)
	}
	return pass(slices.Concat(local, notes)...)
}

// WirelessCheck checks that wireless interfaces are disabled.
type WirelessCheck struct{}

func (c *WirelessCheck) validate() error { return nil }

func (c *WirelessCheck) evaluate(inv *host.Inventory) Outcome {
	n, o := networkFacts(inv)
	if o != nil {
		return *o
	}
	if !n.WirelessKnown {
		return notApplicable("network interfaces are not known: " + n.WirelessSource)
	}
	if len(n.Wireless) == 0 {
		return pass("no wireless interface in " + n.WirelessSource)
	}
	var bad, good []string
	for _, w := range n.Wireless {
		var why []string
		ok := true
		if w.OperState == "up" || w.OperState == "dormant" || w.OperState == "unknown" || w.OperState == "" {
			ok = false
			why = append(why, fmt.Sprintf("operstate %q (want down)", w.OperState))
		} else {
			why = append(why, "operstate "+w.OperState)
		}
		switch {
		case w.Driver == "":
			// A built-in driver cannot be kept from loading: the
			// interface being down is all that can be asked.
			why = append(why, "driver module not known (built in, or no device/driver/module link): only the interface's state is judged")
		default:
			if w.DriverInstall != nil && disables(w.DriverInstall.Value) {
				why = append(why, fmt.Sprintf("driver %s: install %s (%s)", w.Driver, w.DriverInstall.Value, where(*w.DriverInstall)))
			} else {
				ok = false
				why = append(why, fmt.Sprintf("driver %s: no install %s /bin/false line in modprobe.d", w.Driver, w.Driver))
			}
			if w.DriverBlacklisted != nil {
				why = append(why, fmt.Sprintf("blacklisted (%s)", where(*w.DriverBlacklisted)))
			} else {
				ok = false
				why = append(why, "not blacklisted")
			}
		}
		line := "wireless interface " + w.Name + ": " + strings.Join(why, "; ")
		if ok {
			good = append(good, line)
		} else {
			bad = append(bad, line)
		}
	}
	if len(bad) > 0 {
		return fail(slices.Concat(bad, good)...)
	}
	return pass(good...)
}

// Firewall managers. A manager is in use when its package is installed
// and its unit starts at boot (and runs, when known); ufw also needs
// ENABLED=yes in /etc/ufw/ufw.conf, which its unit reads.
const (
	fwUFW       = "ufw"
	fwNFTables  = "nftables"
	fwIPTables  = "iptables"
	fwFirewalld = "firewalld"
)

type fwManager struct {
	name     string
	packages []string
	unit     string
	// unit6 is the unit restoring the IPv6 rules when it is not unit
	// (iptables-services' ip6tables.service on the Red Hat family).
	unit6 string
}

var fwManagers = []fwManager{
	{fwUFW, []string{"ufw"}, "ufw.service", ""},
	{fwNFTables, []string{"nftables"}, "nftables.service", ""},
	{fwIPTables, []string{"iptables-persistent", "netfilter-persistent"}, "netfilter-persistent.service", ""},
	{fwFirewalld, []string{"firewalld"}, "firewalld.service", ""},
}

// fwIPTablesRedHat is the iptables manager of the Red Hat family:
// iptables-services, whose iptables.service and ip6tables.service restore
// /etc/sysconfig/iptables and /etc/sysconfig/ip6tables at boot.
var fwIPTablesRedHat = fwManager{fwIPTables, []string{"iptables-services"}, "iptables.service", "ip6tables.service"}

// fwManagersOf returns the managers as the host's OS family installs them.
func fwManagersOf(inv *host.Inventory) []fwManager {
	if inv.OS == nil || inv.OS.Family != "rhel" {
		return fwManagers
	}
	out := slices.Clone(fwManagers)
	for i := range out {
		if out[i].name == fwIPTables {
			out[i] = fwIPTablesRedHat
		}
	}
	return out
}

// fwState is what is known of one manager.
type fwState struct {
	fwManager
	installed []string
	boot      bool
	active    string
	inUse     bool
	// masked is true when the unit (and unit6, when there is one) is
	// masked: it cannot be started, by hand or by another unit.
	masked bool
	// active6 and inUse6 are unit6's (unit's when there is no unit6).
	active6 string
	inUse6  bool
	// partly is true when something shows the manager was meant to run
	// (its unit starts at boot or runs, or ufw is ENABLED) without it
	// being in use.
	partly bool
	line   string
}

// firewallPicture is the managers' states and which one the
// manager-specific controls judge.
type firewallPicture struct {
	states   map[string]*fwState
	inUse    []string
	selected []string
	// why says how the selection was made.
	why string
	fw  *host.Firewall
	// conf is the file nftables.service loads on this host.
	conf string
}

// firewallFacts computes the picture, or the outcome when facts are
// missing.
func firewallFacts(inv *host.Inventory) (*firewallPicture, *Outcome) {
	installed, o := installedPackages(inv)
	if o != nil {
		return nil, o
	}
	u, o := unitsFacts(inv)
	if o != nil {
		return nil, o
	}
	if inv.Config == nil || inv.Config.Firewall == nil {
		reason := "the firewall configuration was not collected"
		for _, r := range inv.Collectors {
			if r.Name == "config/firewall" && r.Reason != "" {
				reason += ": " + r.Reason
			}
		}
		o := errorf("%s", reason)
		return nil, &o
	}
	fw := inv.Config.Firewall
	p := &firewallPicture{states: map[string]*fwState{}, fw: fw, conf: nftConfOf(inv)}
	masked := func(name string) bool {
		unit, ok := u.Units[name]
		return ok && (unit.State == "masked" || unit.State == "masked-runtime")
	}
	for _, m := range fwManagersOf(inv) {
		s := &fwState{fwManager: m}
		for _, pkg := range m.packages {
			if v, ok := installed[pkg]; ok {
				s.installed = append(s.installed, pkg+" "+v)
			}
		}
		v := viewUnit(u, m.unit)
		s.boot = v.boot
		s.active = v.active
		runs := !u.ActiveKnown || running(v.active)
		s.inUse = len(s.installed) > 0 && s.boot && runs
		s.masked = masked(m.unit)
		s.active6, s.inUse6 = s.active, s.inUse
		var parts []string
		if len(s.installed) > 0 {
			parts = append(parts, "installed ("+strings.Join(s.installed, ", ")+")")
		} else {
			parts = append(parts, "not installed")
		}
		parts = append(parts, v.line)
		if m.unit6 != "" {
			v6 := viewUnit(u, m.unit6)
			s.active6 = v6.active
			s.inUse6 = len(s.installed) > 0 && v6.boot && (!u.ActiveKnown || running(v6.active))
			s.masked = s.masked && masked(m.unit6)
			parts = append(parts, v6.line)
			if len(s.installed) > 0 && (v6.boot || running(v6.active)) {
				s.partly = true
			}
		}
		if m.name == fwUFW {
			enabled := fw.UFW != nil && fw.UFW.Enabled != nil && strings.EqualFold(fw.UFW.Enabled.Value, "yes")
			switch {
			case fw.UFW == nil:
				parts = append(parts, "no /etc/ufw/ufw.conf")
			case fw.UFW.Enabled == nil:
				parts = append(parts, "ENABLED not set in /etc/ufw/ufw.conf")
			default:
				parts = append(parts, fmt.Sprintf("ENABLED=%s (%s)", fw.UFW.Enabled.Value, where(*fw.UFW.Enabled)))
			}
			s.partly = enabled
			s.inUse = s.inUse && enabled
		}
		if len(s.installed) > 0 && (s.boot || running(s.active)) {
			s.partly = true
		}
		if s.inUse {
			p.inUse = append(p.inUse, m.name)
		}
		s.line = m.name + ": " + strings.Join(parts, "; ")
		if !u.ActiveKnown && len(s.installed) > 0 {
			s.line += " (" + activeNote(u) + ")"
		}
		p.states[m.name] = s
	}
	switch {
	case len(p.inUse) > 0:
		p.selected = p.inUse
		p.why = "in use: " + strings.Join(p.inUse, ", ")
	default:
		var partly, inst []string
		for _, m := range fwManagersOf(inv) {
			s := p.states[m.name]
			if s.partly {
				partly = append(partly, m.name)
			}
			if m.name != fwNFTables && len(s.installed) > 0 {
				inst = append(inst, m.name)
			}
		}
		switch {
		case len(partly) == 1:
			p.selected = partly
			p.why = "no firewall manager is in use; " + partly[0] + " is set up in part and is judged"
		case len(inst) == 1:
			p.selected = inst
			p.why = "no firewall manager is in use; " + inst[0] + " is the one installed and is judged"
		default:
			p.selected = []string{fwNFTables}
			p.why = "no firewall manager is in use; nftables, the kernel's packet filter the other managers drive, is judged"
		}
	}
	return p, nil
}

// FirewallManagerCheck checks which firewall manager is in use.
type FirewallManagerCheck struct {
	// Assert is single (exactly one manager is in use), installed (the
	// manager's packages are installed), absent (packages are not
	// installed alongside the manager), others_not_in_use (the other
	// managers are not in use), others_absent_or_masked (the other
	// managers are not installed, or their units are masked and not
	// running) or enabled (the manager starts at boot and runs).
	Assert string `yaml:"assert"`
	// Manager is the manager the control is about (ufw, nftables,
	// iptables, firewalld): the check is not applicable when another one
	// is the manager judged.
	Manager string `yaml:"manager"`
	// Packages for installed and absent.
	Packages []string `yaml:"packages"`
	// Others for others_not_in_use and others_absent_or_masked.
	Others []string `yaml:"others"`
	// Families for enabled: the unit restoring each family's rules starts
	// at boot and runs (on the Red Hat family iptables.service for ip,
	// ip6tables.service for ip6; one unit serves both elsewhere). Empty
	// means the manager's own unit.
	Families []string `yaml:"families"`
}

var fwManagerNames = []string{fwUFW, fwNFTables, fwIPTables, fwFirewalld}

func (c *FirewallManagerCheck) validate() error {
	switch c.Assert {
	case "single":
		if c.Manager != "" || len(c.Packages) > 0 || len(c.Others) > 0 {
			return errors.New("firewall_manager: single takes no manager, packages or others")
		}
		return nil
	case "installed", "absent":
		if len(c.Packages) == 0 {
			return fmt.Errorf("firewall_manager: %s needs packages", c.Assert)
		}
	case "others_not_in_use", "others_absent_or_masked":
		if len(c.Others) == 0 {
			return fmt.Errorf("firewall_manager: %s needs others", c.Assert)
		}
		for _, o := range c.Others {
			if !slices.Contains(fwManagerNames, o) || o == c.Manager {
				return fmt.Errorf("firewall_manager: others %q: want another of %s", o, strings.Join(fwManagerNames, ", "))
			}
		}
	case "enabled":
	default:
		return fmt.Errorf("firewall_manager: assert %q: want single, installed, absent, others_not_in_use, others_absent_or_masked or enabled", c.Assert)
	}
	if len(c.Families) > 0 && c.Assert != "enabled" {
		return errors.New("firewall_manager: families is for enabled")
	}
	for _, f := range c.Families {
		if f != "ip" && f != "ip6" {
			return fmt.Errorf("firewall_manager: family %q: want ip or ip6", f)
		}
	}
	if !slices.Contains(fwManagerNames, c.Manager) {
		return fmt.Errorf("firewall_manager: manager %q: want %s", c.Manager, strings.Join(fwManagerNames, ", "))
	}
	return nil
}

// judged returns the not_applicable outcome when the manager is not the
// one judged, and the evidence line saying why it is.
func (p *firewallPicture) judged(manager string) (string, *Outcome) {
	if !slices.Contains(p.selected, manager) {
		o := notApplicable(fmt.Sprintf("the %s controls apply where %s is the firewall manager (%s)", manager, manager, p.why))
		return "", &o
	}
	return p.why, nil
}

func (c *FirewallManagerCheck) evaluate(inv *host.Inventory) Outcome {
	p, o := firewallFacts(inv)
	if o != nil {
		return *o
	}
	var lines []string
	for _, name := range fwManagerNames {
		lines = append(lines, p.states[name].line)
	}
	if c.Assert == "single" {
		switch len(p.inUse) {
		case 1:
			return pass(slices.Concat([]string{"one firewall manager in use: " + p.inUse[0]}, lines)...)
		case 0:
			return fail(slices.Concat([]string{"no firewall manager is in use"}, lines)...)
		}
		return fail(slices.Concat([]string{"several firewall managers are in use: " + strings.Join(p.inUse, ", ")}, lines)...)
	}
	why, o := p.judged(c.Manager)
	if o != nil {
		return *o
	}
	installed, _ := installedPackages(inv)
	switch c.Assert {
	case "installed", "absent":
		var have, lack []string
		for _, pkg := range c.Packages {
			if v, ok := installed[pkg]; ok {
				have = append(have, pkg+" "+v)
			} else {
				lack = append(lack, pkg)
			}
		}
		ev := []string{why}
		if len(have) > 0 {
			ev = append(ev, "installed: "+strings.Join(have, ", "))
		}
		if len(lack) > 0 {
			ev = append(ev, "not installed: "+strings.Join(lack, ", "))
		}
		if (c.Assert == "installed" && len(lack) > 0) || (c.Assert == "absent" && len(have) > 0) {
			return fail(ev...)
		}
		return pass(ev...)
	case "others_not_in_use":
		ev := []string{why}
		bad := false
		for _, other := range c.Others {
			s := p.states[other]
			ev = append(ev, s.line)
			if s.inUse {
				bad = true
			}
		}
		if bad {
			return fail(ev...)
		}
		return pass(ev...)
	case "others_absent_or_masked":
		ev := []string{why}
		bad := false
		u, _ := unitsFacts(inv)
		for _, other := range c.Others {
			s := p.states[other]
			ev = append(ev, s.line)
			if len(s.installed) == 0 {
				continue
			}
			switch {
			case !s.masked:
				bad = true
				ev = append(ev, other+" is installed and its unit is not masked")
			case u.ActiveKnown && (running(s.active) || running(s.active6)):
				bad = true
				ev = append(ev, other+" is masked but still running")
			}
		}
		if bad {
			return fail(ev...)
		}
		return pass(ev...)
	}
	// enabled
	s := p.states[c.Manager]
	ev := []string{why, s.line}
	ok := s.inUse
	if len(c.Families) > 0 {
		ok = true
		for _, f := range c.Families {
			if (f == "ip" && !s.inUse) || (f == "ip6" && !s.inUse6) {
				ok = false
			}
		}
	}
	if ok {
		return pass(ev...)
	}
	return fail(ev...)
}

// FirewallRulesCheck checks the rules a firewall manager loads.
type FirewallRulesCheck struct {
	// Manager is ufw, nftables or iptables; not applicable when another
	// is the manager judged.
	Manager string `yaml:"manager"`
	// Assert is default_deny (inbound traffic no rule accepts is dropped
	// or rejected), loopback (traffic on lo is accepted and traffic from
	// a loopback source arriving elsewhere is dropped) or persistent
	// (nftables: the rules loaded at boot define the input chain, and
	// match the running ones when these are known; iptables: the saved
	// rules restored at boot exist and drop inbound traffic by default).
	Assert string `yaml:"assert"`
	// Families are ip and ip6; empty means both.
	Families []string `yaml:"families"`
}

func (c *FirewallRulesCheck) validate() error {
	if !slices.Contains([]string{fwUFW, fwNFTables, fwIPTables}, c.Manager) {
		return fmt.Errorf("firewall_rules: manager %q: want ufw, nftables or iptables", c.Manager)
	}
	switch c.Assert {
	case "default_deny", "loopback":
	case "persistent":
		if c.Manager != fwNFTables && c.Manager != fwIPTables {
			return errors.New("firewall_rules: persistent is for nftables and iptables")
		}
	default:
		return fmt.Errorf("firewall_rules: assert %q: want default_deny, loopback or persistent", c.Assert)
	}
	for _, f := range c.Families {
		if f != "ip" && f != "ip6" {
			return fmt.Errorf("firewall_rules: family %q: want ip or ip6", f)
		}
	}
	return nil
}

func (c *FirewallRulesCheck) families() []string {
	if len(c.Families) == 0 {
		return []string{"ip", "ip6"}
	}
	return c.Families
}

// covers reports whether a chain of an nftables family sees packets of
// family fam (ip or ip6).
func covers(chainFamily, fam string) bool {
	return chainFamily == fam || chainFamily == "inet"
}

func (c *FirewallRulesCheck) evaluate(inv *host.Inventory) Outcome {
	p, o := firewallFacts(inv)
	if o != nil {
		return *o
	}
	why, o := p.judged(c.Manager)
	if o != nil {
		return *o
	}
	fw := p.fw
	ev := []string{why}
	switch c.Manager {
	case fwUFW:
		return c.ufw(fw, ev)
	case fwIPTables:
		family := ""
		if inv.OS != nil {
			family = inv.OS.Family
		}
		return c.iptables(fw, family, ev)
	}
	return c.nftables(fw, p.conf, ev)
}

// nftConfOf returns the file nftables.service loads on the host: the first
// file of the ruleset read, else the one of its OS family
// (/etc/sysconfig/nftables.conf on the Red Hat family, /etc/nftables.conf
// elsewhere).
func nftConfOf(inv *host.Inventory) string {
	if fw := inv.Config.Firewall; fw != nil && fw.NFT != nil && len(fw.NFT.Files) > 0 {
		return fw.NFT.Files[0]
	}
	family := ""
	if inv.OS != nil {
		family = inv.OS.Family
	}
	return fwcollect.NFTConfFor(family)
}

// notLoaded returns the fail outcome when the files would not load at
// all (nft -f applies a file as one transaction and refuses all of it on
// a missing include, a deleted table that does not exist...): the
// firewall is then known to be empty at boot, a fact, which fails
// whatever the rules written say.
func notLoaded(rs *host.FirewallRuleset, ev []string) *Outcome {
	if rs == nil || rs.LoadError == "" {
		return nil
	}
	file := "the nftables configuration"
	if len(rs.Files) > 0 {
		file = rs.Files[0]
	}
	o := fail(append(ev, fmt.Sprintf("nft -f %s would fail and load nothing at boot: %s", file, rs.LoadError))...)
	return &o
}

// notKnown returns the error outcome when a ruleset is only partly known
// (a bound, an include that exists but could not be read here, which nft
// run as root may read, a delete by handle): what was not read could add
// or remove the rules looked for, so it never passes.
func notKnown(rs *host.FirewallRuleset, ev []string) *Outcome {
	if rs == nil || !rs.Truncated {
		return nil
	}
	why := "a bound cut it short"
	if len(rs.Incomplete) > 0 {
		why = strings.Join(rs.Incomplete, "; ")
	}
	o := errorf("the ruleset of %s is not fully known: %s", strings.Join(rs.Files, ", "), why)
	o.Evidence = ev
	return &o
}

// rulesetCheck evaluates default_deny or loopback on rulesets by family.
func (c *FirewallRulesCheck) rulesetCheck(byFamily map[string]*host.FirewallRuleset, roots func(host.FirewallChain) bool, ev []string) Outcome {
	for _, fam := range c.families() {
		if o := notLoaded(byFamily[fam], ev); o != nil {
			return *o
		}
	}
	for _, fam := range c.families() {
		if o := notKnown(byFamily[fam], ev); o != nil {
			return *o
		}
	}
	ok := true
	for _, fam := range c.families() {
		rs := byFamily[fam]
		if rs == nil {
			ok = false
			ev = append(ev, fam+": no rules")
			continue
		}
		var good bool
		var lines []string
		if c.Assert == "default_deny" {
			good, lines = defaultDeny(rs, fam, roots)
		} else {
			good, lines = loopback(rs, fam, roots)
		}
		ok = ok && good
		ev = append(ev, lines...)
	}
	if ok {
		return pass(ev...)
	}
	return fail(ev...)
}

// inputHook selects the chains on the input hook.
func inputHook(ch host.FirewallChain) bool { return ch.Hook == "input" }

// defaultDeny reports whether some input chain seen by family fam drops
// what no rule accepts (a packet must get through every base chain on
// the hook, so one dropping chain is enough).
func defaultDeny(rs *host.FirewallRuleset, fam string, roots func(host.FirewallChain) bool) (bool, []string) {
	var lines []string
	found := false
	for _, ch := range rs.Chains {
		if !roots(ch) || !covers(ch.Family, fam) {
			continue
		}
		pol := "accept (no policy set)"
		at := where(host.Setting{File: ch.File, Line: ch.Line})
		if ch.Policy != nil {
			pol = ch.Policy.Value
			at = where(*ch.Policy)
		}
		lines = append(lines, fmt.Sprintf("%s: %s %s chain %s (hook input): policy %s (%s)", fam, ch.Family, ch.Table, ch.Name, pol, at))
		if ch.Policy != nil && (ch.Policy.Value == "drop" || ch.Policy.Value == "reject") {
			found = true
		}
	}
	if len(lines) == 0 {
		lines = append(lines, fam+": no chain on the input hook (inbound traffic is accepted)")
	}
	return found, lines
}

// reachable returns the chains reached from the root chains of family fam
// by jump and goto (same family and table), roots included.
func reachable(rs *host.FirewallRuleset, fam string, roots func(host.FirewallChain) bool) []host.FirewallChain {
	type key struct{ family, table, name string }
	idx := map[key]int{}
	for i, ch := range rs.Chains {
		idx[key{ch.Family, ch.Table, ch.Name}] = i
	}
	seen := map[int]bool{}
	var queue []int
	for i, ch := range rs.Chains {
		if roots(ch) && covers(ch.Family, fam) {
			seen[i] = true
			queue = append(queue, i)
		}
	}
	for len(queue) > 0 && len(seen) < 10000 {
		ch := rs.Chains[queue[0]]
		queue = queue[1:]
		for _, r := range ch.Rules {
			if r.Target == "" {
				continue
			}
			if j, ok := idx[key{ch.Family, ch.Table, r.Target}]; ok && !seen[j] {
				seen[j] = true
				queue = append(queue, j)
			}
		}
	}
	var out []host.FirewallChain
	for i, ch := range rs.Chains {
		if seen[i] {
			out = append(out, ch)
		}
	}
	return out
}

// spoofedLoopback reports whether a source match covers every loopback
// address of family fam: all of 127.0.0.0/8 (a prefix of length 8 or
// less containing it; 127.0.0.1/32 leaves the rest of the range open) or
// ::1. With partOnly, whether it names some loopback address of fam.
func spoofedLoopback(src, fam string, partOnly bool) bool {
	if src == "" || strings.HasPrefix(src, "!") {
		return false
	}
	pfx, err := netip.ParsePrefix(src)
	if err != nil {
		a, err := netip.ParseAddr(src)
		if err != nil {
			return false
		}
		pfx = netip.PrefixFrom(a, a.BitLen())
	}
	if fam == "ip" {
		if partOnly {
			return pfx.Addr().Is4() && pfx.Addr().IsLoopback()
		}
		return pfx.Addr().Is4() && pfx.Bits() <= 8 && pfx.Contains(netip.AddrFrom4([4]byte{127, 0, 0, 0}))
	}
	return pfx.Addr().Is6() && pfx.Contains(netip.IPv6Loopback())
}

// loopback reports whether the input path of family fam accepts traffic
// on lo and drops traffic from a loopback source on other interfaces.
func loopback(rs *host.FirewallRuleset, fam string, roots func(host.FirewallChain) bool) (bool, []string) {
	var accept, drop *host.FirewallRule
	// near are rules that look like the ones wanted but only cover part
	// of the traffic, said in the evidence.
	var near []string
	note := func(r *host.FirewallRule, why string) {
		if len(near) < 4 {
			near = append(near, fmt.Sprintf("%s: not counted: %q (%s) %s", fam, r.Text, where(host.Setting{File: r.File, Line: r.Line}), why))
		}
	}
	for _, ch := range reachable(rs, fam, roots) {
		for i := range ch.Rules {
			r := &ch.Rules[i]
			if accept == nil && r.InIface == "lo" && r.Verdict == "accept" {
				// A rule that also matches a source, a port, a
				// protocol, a state... covers part of the traffic.
				switch {
				case r.Other != "":
					note(r, "also matches "+r.Other)
				case r.Source != "":
					note(r, "also matches source "+r.Source)
				default:
					accept = r
				}
			}
			if drop == nil && (r.Verdict == "drop" || r.Verdict == "reject") && (r.InIface == "" || r.InIface == "!lo") &&
				r.Source != "" && !strings.HasPrefix(r.Source, "!") {
				switch {
				case spoofedLoopback(r.Source, fam, false) && r.Other != "":
					note(r, "also matches "+r.Other)
				case spoofedLoopback(r.Source, fam, false):
					drop = r
				case spoofedLoopback(r.Source, fam, true):
					note(r, "does not cover all loopback sources")
				}
			}
		}
	}
	want := "127.0.0.0/8"
	if fam == "ip6" {
		want = "::1"
	}
	var lines []string
	if accept != nil {
		lines = append(lines, fmt.Sprintf("%s: traffic on lo accepted: %q (%s)", fam, accept.Text, where(host.Setting{File: accept.File, Line: accept.Line})))
	} else {
		lines = append(lines, fam+": no rule on the input path accepts traffic on lo")
	}
	if drop != nil {
		lines = append(lines, fmt.Sprintf("%s: traffic from %s on other interfaces dropped: %q (%s)", fam, want, drop.Text, where(host.Setting{File: drop.File, Line: drop.Line})))
	} else {
		lines = append(lines, fmt.Sprintf("%s: no rule on the input path drops traffic from %s arriving on other interfaces", fam, want))
	}
	if accept == nil || drop == nil {
		lines = append(lines, near...)
	}
	return accept != nil && drop != nil, lines
}

func (c *FirewallRulesCheck) ufw(fw *host.Firewall, ev []string) Outcome {
	u := fw.UFW
	if u == nil {
		return fail(append(ev, "ufw is not configured: no /etc/ufw/ufw.conf")...)
	}
	ipv6 := u.IPv6 == nil || strings.EqualFold(u.IPv6.Value, "yes")
	fams := c.families()
	if !ipv6 {
		fams = slices.DeleteFunc(slices.Clone(fams), func(f string) bool { return f == "ip6" })
		ev = append(ev, fmt.Sprintf("IPV6=%s (%s): ufw manages no IPv6 rules", u.IPv6.Value, where(*u.IPv6)))
	}
	if c.Assert == "default_deny" {
		if u.DefaultInput == nil {
			return fail(append(ev, "DEFAULT_INPUT_POLICY is not set in /etc/default/ufw")...)
		}
		v := strings.ToUpper(u.DefaultInput.Value)
		ev = append(ev, fmt.Sprintf("DEFAULT_INPUT_POLICY=%s (%s)", u.DefaultInput.Value, where(*u.DefaultInput)))
		if v == "DROP" || v == "REJECT" {
			return pass(ev...)
		}
		return fail(ev...)
	}
	sub := *c
	sub.Families = fams
	if len(fams) == 0 {
		return pass(ev...)
	}
	// ufw's own chains: INPUT jumps to them, which ufw sets up itself
	// rather than in these files.
	roots := func(ch host.FirewallChain) bool {
		return ch.Hook == "input" || strings.HasSuffix(ch.Name, "-before-input") || strings.HasSuffix(ch.Name, "-user-input")
	}
	return sub.rulesetCheck(map[string]*host.FirewallRuleset{"ip": u.Rules4, "ip6": u.Rules6}, roots, ev)
}

func (c *FirewallRulesCheck) iptables(fw *host.Firewall, family string, ev []string) Outcome {
	filter := func(ch host.FirewallChain) bool { return ch.Hook == "input" && ch.Table == "filter" }
	v4, v6 := fwcollect.IPTablesFilesFor(family)
	byFam := map[string]*host.FirewallRuleset{"ip": fw.IPTables4, "ip6": fw.IPTables6}
	file := map[string]string{"ip": v4, "ip6": v6}
	restorer := "netfilter-persistent"
	if family == "rhel" {
		restorer = "iptables.service"
	}
	missing := map[string]bool{}
	for _, fam := range c.families() {
		if byFam[fam] != nil {
			continue
		}
		// Nothing is restored at boot: the family is unfiltered.
		if family == "rhel" && fam == "ip6" {
			restorer = "ip6tables.service"
		}
		ev = append(ev, fmt.Sprintf("%s: no %s: %s restores no rules at boot", fam, file[fam], restorer))
		byFam[fam] = &host.FirewallRuleset{Files: []string{file[fam]}}
		missing[fam] = true
	}
	if c.Assert != "persistent" {
		return c.rulesetCheck(byFam, filter, ev)
	}
	// persistent: the saved rules define the filter table's INPUT chain
	// with a drop policy. The running rules are not compared: rules
	// iptables-legacy loaded are not visible to nft, and iptables -S is
	// not run.
	ok := true
	for _, fam := range c.families() {
		rs := byFam[fam]
		if missing[fam] {
			ok = false
			continue
		}
		ev = append(ev, fam+": read "+strings.Join(rs.Files, ", "))
		good, lines := defaultDeny(rs, fam, filter)
		ok = ok && good
		ev = append(ev, lines...)
	}
	ev = append(ev, "the running rules are not compared with the saved ones")
	if ok {
		return pass(ev...)
	}
	return fail(ev...)
}

func (c *FirewallRulesCheck) nftables(fw *host.Firewall, conf string, ev []string) Outcome {
	if c.Assert == "persistent" {
		return c.persistent(fw, conf, ev)
	}
	rs := fw.NFT
	if fw.NFTLive != nil {
		rs = fw.NFTLive
		ev = append(ev, "judged on the running ruleset ("+fw.NFTLiveSource+")")
	} else {
		if rs == nil {
			return fail(append(ev, "no "+conf+", and the running ruleset was "+fw.NFTLiveSource)...)
		}
		ev = append(ev, "judged on "+strings.Join(rs.Files, ", ")+", loaded at boot by nftables.service; the running ruleset was "+fw.NFTLiveSource)
	}
	byFam := map[string]*host.FirewallRuleset{"ip": rs, "ip6": rs}
	return c.rulesetCheck(byFam, inputHook, ev)
}

// persistent checks that the file nftables.service loads (conf) defines
// an input base chain with a drop policy and, when the running ruleset is
// known, every running input base chain with the same policy.
func (c *FirewallRulesCheck) persistent(fw *host.Firewall, conf string, ev []string) Outcome {
	rs := fw.NFT
	if rs == nil {
		return fail(append(ev, "no "+conf+": nftables.service loads nothing at boot")...)
	}
	if o := notLoaded(rs, ev); o != nil {
		return *o
	}
	if o := notKnown(rs, ev); o != nil {
		return *o
	}
	if o := notKnown(fw.NFTLive, ev); o != nil {
		return *o
	}
	ev = append(ev, "read "+strings.Join(rs.Files, ", "))
	ok := true
	for _, fam := range c.families() {
		good, lines := defaultDeny(rs, fam, inputHook)
		ok = ok && good
		ev = append(ev, lines...)
	}
	if fw.NFTLive == nil {
		ev = append(ev, "running ruleset not compared ("+fw.NFTLiveSource+")")
	} else {
		type key struct{ family, table, name string }
		saved := map[key]string{}
		for _, ch := range rs.Chains {
			if ch.Hook == "input" {
				saved[key{ch.Family, ch.Table, ch.Name}] = policyOf(ch)
			}
		}
		for _, ch := range fw.NFTLive.Chains {
			if ch.Hook != "input" {
				continue
			}
			k := key{ch.Family, ch.Table, ch.Name}
			pol, found := saved[k]
			switch {
			case !found:
				ok = false
				ev = append(ev, fmt.Sprintf("running chain %s %s %s (hook input, policy %s) is not in the saved ruleset: it is lost at reboot", ch.Family, ch.Table, ch.Name, policyOf(ch)))
			case pol != policyOf(ch):
				ok = false
				ev = append(ev, fmt.Sprintf("running chain %s %s %s has policy %s, the saved one %s", ch.Family, ch.Table, ch.Name, policyOf(ch), pol))
			}
		}
	}
	if ok {
		return pass(ev...)
	}
	return fail(ev...)
}

func policyOf(ch host.FirewallChain) string {
	if ch.Policy == nil {
		return "accept"
	}
	return ch.Policy.Value
}
