package host

// Network holds live network facts (config/net): the sockets that listen
// and the wireless interfaces. Both are facts of a running kernel, read
// from proc/ and sys/ of the scanned root: an image has neither, and each
// part then says it is not known rather than empty.
type Network struct {
	// SocketsKnown is true when proc/net/{tcp,tcp6,udp,udp6} were read
	// whole (tcp6 and udp6 may be absent: a kernel without IPv6);
	// SocketsSource says which files, or why not.
	SocketsKnown  bool   `json:"sockets_known"`
	SocketsSource string `json:"sockets_source"`
	// SocketsIncomplete names what of the socket table could not be read
	// or parsed (a file, a line, a bound): Listening then holds only part
	// of the sockets and a rule on them cannot pass.
	SocketsIncomplete []string `json:"sockets_incomplete,omitempty"`
	// Listening are the TCP sockets in LISTEN state and the bound UDP
	// sockets (a local port, no remote peer).
	Listening []Socket `json:"listening,omitempty"`
	// OwnersKnown is true when the owning processes were looked up
	// (/proc/<pid>/fd of a live host); OwnersSource says why not.
	OwnersKnown  bool   `json:"owners_known"`
	OwnersSource string `json:"owners_source,omitempty"`
	// OwnersLookedUp is true when /proc/<pid>/fd was walked (a live
	// host), even if only in part: a socket without Processes then has
	// no owner that could be seen.
	OwnersLookedUp bool `json:"owners_looked_up,omitempty"`

	// WirelessKnown is true when sys/class/net was read; WirelessSource
	// says from where, or why not.
	WirelessKnown  bool                `json:"wireless_known"`
	WirelessSource string              `json:"wireless_source"`
	Wireless       []WirelessInterface `json:"wireless,omitempty"`
}

// Socket is one listening or bound socket.
type Socket struct {
	// Proto is tcp, tcp6, udp or udp6 (the proc/net file it came from).
	Proto string `json:"proto"`
	// Address is the local address as text ("0.0.0.0", "127.0.0.1",
	// "::", "::ffff:10.0.0.1"); Port the local port.
	Address string `json:"address"`
	Port    int    `json:"port"`
	UID     int    `json:"uid"`
	Inode   uint64 `json:"inode"`
	// File and Line are where the socket was read (/proc/net/tcp:3).
	File string `json:"file"`
	Line int    `json:"line"`
	// Processes own the socket (several after a fork); empty when not
	// known.
	Processes []SocketProcess `json:"processes,omitempty"`
}

// SocketProcess is a process holding a socket open.
type SocketProcess struct {
	PID int `json:"pid"`
	// Exe is the executable (/proc/<pid>/exe), Comm the process name.
	Exe  string `json:"exe,omitempty"`
	Comm string `json:"comm,omitempty"`
}

// WirelessInterface is a network interface with a wireless extension
// (sys/class/net/<name>/wireless or phy80211).
type WirelessInterface struct {
	Name string `json:"name"`
	// OperState is sys/class/net/<name>/operstate (up, down, dormant...).
	OperState string `json:"operstate"`
	// Driver is the kernel module driving the device (the name of the
	// device/driver/module link), empty when built in or not known.
	Driver string `json:"driver,omitempty"`
	// DriverInstall and DriverBlacklisted are the merged modprobe.d
	// "install" and "blacklist" lines for Driver (nil when none).
	DriverInstall     *Setting `json:"driver_install,omitempty"`
	DriverBlacklisted *Setting `json:"driver_blacklisted,omitempty"`
}

// Firewall is the host firewall configuration (config/firewall): what
// each manager will load at boot, read from its files, and on a live host
// the ruleset the kernel runs (nft -j list ruleset).
type Firewall struct {
	// UFW is ufw's configuration (nil when /etc/ufw/ufw.conf is absent).
	UFW *UFWConfig `json:"ufw,omitempty"`
	// NFT is what the file nftables.service loads and its includes
	// define: /etc/nftables.conf, or /etc/sysconfig/nftables.conf on the
	// Red Hat family (nil when the file is absent).
	NFT *FirewallRuleset `json:"nft,omitempty"`
	// NFTLive is the running ruleset (nil when not read; NFTLiveSource
	// says why).
	NFTLive       *FirewallRuleset `json:"nft_live,omitempty"`
	NFTLiveSource string           `json:"nft_live_source,omitempty"`
	// IPTables4 and IPTables6 are the saved rules restored at boot:
	// iptables-persistent's /etc/iptables/rules.v4 and rules.v6, or on the
	// Red Hat family iptables-services' /etc/sysconfig/iptables and
	// ip6tables; nil when absent.
	IPTables4 *FirewallRuleset `json:"iptables4,omitempty"`
	IPTables6 *FirewallRuleset `json:"iptables6,omitempty"`
	// Source lists the files read and anything left out.
	Source string `json:"source"`
}

// UFWConfig is ufw's configuration.
type UFWConfig struct {
	// Enabled is ENABLED of /etc/ufw/ufw.conf ("yes" starts the firewall
	// at boot).
	Enabled *Setting `json:"enabled,omitempty"`
	// DefaultInput is DEFAULT_INPUT_POLICY of /etc/default/ufw (DROP,
	// REJECT or ACCEPT); IPv6 is its IPV6 setting.
	DefaultInput *Setting `json:"default_input,omitempty"`
	IPv6         *Setting `json:"ipv6,omitempty"`
	// Rules4 are before.rules and user.rules; Rules6 before6.rules and
	// user6.rules (iptables-restore format).
	Rules4 *FirewallRuleset `json:"rules4,omitempty"`
	Rules6 *FirewallRuleset `json:"rules6,omitempty"`
}

// FirewallRuleset is a ruleset in a common form for nftables and
// iptables-save files: chains with their hook, policy and rules.
type FirewallRuleset struct {
	// Files are the files read, in order.
	Files  []string        `json:"files,omitempty"`
	Chains []FirewallChain `json:"chains,omitempty"`
	// Truncated is true when the ruleset is not fully known: a bound cut
	// it short, or (Incomplete says) a file could not be read or a
	// statement's effect could not be modelled.
	Truncated  bool     `json:"truncated,omitempty"`
	Incomplete []string `json:"incomplete,omitempty"`
	// LoadError says why loading the files would fail as a whole (nft -f
	// loads nothing when an include is missing or a deleted table does
	// not exist); empty when they load.
	LoadError string `json:"load_error,omitempty"`
}

// FirewallChain is one chain.
type FirewallChain struct {
	// Family is the nftables family (inet, ip, ip6, arp, bridge, netdev),
	// or ip / ip6 for an iptables file.
	Family string `json:"family"`
	Table  string `json:"table"`
	Name   string `json:"name"`
	// Hook is the netfilter hook of a base chain (input, forward,
	// output...), empty for a regular chain. An iptables built-in chain
	// INPUT has hook input.
	Hook string `json:"hook,omitempty"`
	// Policy is the base chain's policy, lower case (accept, drop), with
	// where it is set; nil when unset (nftables' default is accept).
	Policy *Setting       `json:"policy,omitempty"`
	File   string         `json:"file,omitempty"`
	Line   int            `json:"line,omitempty"`
	Rules  []FirewallRule `json:"rules,omitempty"`
}

// FirewallRule is one rule, with the matches the rules look at.
type FirewallRule struct {
	// InIface is the input interface matched (iif, iifname, -i); empty
	// when the rule matches any. Negated matches are kept with "!".
	InIface string `json:"in_iface,omitempty"`
	// Source is the source address matched (ip saddr, ip6 saddr, -s).
	Source string `json:"source,omitempty"`
	// Verdict is accept, drop, reject, return, jump or goto; Target the
	// chain of a jump or goto. Empty for a rule without a verdict.
	Verdict string `json:"verdict,omitempty"`
	Target  string `json:"target,omitempty"`
	// Other is the first match condition other than InIface and Source
	// (a protocol, port, state...), empty when the rule has none: such a
	// rule only applies to part of the traffic.
	Other string `json:"other,omitempty"`
	// Text is the rule as written (shortened), File and Line where.
	Text string `json:"text"`
	File string `json:"file,omitempty"`
	Line int    `json:"line,omitempty"`
}
