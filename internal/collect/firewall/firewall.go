// Package firewall collects the host firewall configuration for the
// configuration rules (config/firewall): what ufw, nftables and
// iptables (iptables-persistent, iptables-services) will load at boot,
// read statically from their files, and on a live host the ruleset the
// kernel runs.
//
// # Files
//
//   - ufw: ENABLED of /etc/ufw/ufw.conf, DEFAULT_INPUT_POLICY and IPV6 of
//     /etc/default/ufw (shell assignments: the last one wins, quotes
//     removed), and its rule files in iptables-restore format
//     (before.rules and user.rules for IPv4, before6.rules and user6.rules
//     for IPv6), where ufw keeps its loopback and user rules.
//   - nftables: the file nftables.service loads (NFTConfFor):
//     /etc/nftables.conf on Debian and Ubuntu, /etc/sysconfig/nftables.conf
//     on the Red Hat family (RHEL and its rebuilds, Fedora, Amazon Linux),
//     whose unit runs `nft -f /etc/sysconfig/nftables.conf` (as shipped it
//     only holds a commented `include "/etc/nftables/main.nft"`); and
//     the files it includes (a relative name is looked up in /etc, nft's
//     default include directory; a glob matches in lexical order), at
//     most MaxIncludes files and MaxIncludeDepth levels, each read where
//     its include statement is. A missing include makes nft -f load
//     nothing (LoadError, a fact the rules fail on); one that exists but
//     cannot be read here leaves the ruleset not fully known (Truncated,
//     an error for the rules).
//   - iptables: the files the saved rules are restored from at boot
//     (IPTablesFilesFor), in iptables-save format: on Debian and Ubuntu
//     iptables-persistent's /etc/iptables/rules.v4 and rules.v6, which
//     netfilter-persistent restores; on the Red Hat family
//     iptables-services' /etc/sysconfig/iptables and
//     /etc/sysconfig/ip6tables, which iptables.service and
//     ip6tables.service restore (`service iptables save` writes them).
//
// # Running ruleset
//
// On a live host (the scanned root is "/") with nft installed, `nft -j
// list ruleset` is run with a timeout (DefaultTimeout) and an empty
// environment. It needs CAP_NET_ADMIN; when it fails or nft is absent,
// NFTLiveSource says why and the rules judge the files, saying so.
// Rules set by iptables-nft (ufw, iptables-persistent on Debian 12) are
// nftables rules too and appear in it; iptables-legacy rules do not.
package firewall

import (
	"context"
	"fmt"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/kensa-dev/kensa/internal/collect"
	"github.com/kensa-dev/kensa/internal/collect/sshd"
	"github.com/kensa-dev/kensa/internal/host"
	"github.com/kensa-dev/kensa/internal/hostfs"
)

const (
	// FileLimit caps one configuration file.
	FileLimit = 4 << 20
	// MaxIncludes caps the files nftables.conf's includes lead to.
	MaxIncludes = 256
	// MaxIncludeDepth caps nested includes.
	MaxIncludeDepth = 8
	// DefaultTimeout bounds `nft -j list ruleset`.
	DefaultTimeout = 10 * time.Second
	// LiveLimit caps the JSON kept of the running ruleset.
	LiveLimit = 64 << 20
)

// NFTConf is the file nftables.service loads on Debian and most
// distributions; NFTConfRedHat the one the Red Hat family's loads.
const (
	NFTConf       = "/etc/nftables.conf"
	NFTConfRedHat = "/etc/sysconfig/nftables.conf"
)

// The saved iptables rules: iptables-persistent's (Debian, Ubuntu) and
// iptables-services' (the Red Hat family).
const (
	IPTablesV4       = "/etc/iptables/rules.v4"
	IPTablesV6       = "/etc/iptables/rules.v6"
	IPTablesV4RedHat = "/etc/sysconfig/iptables"
	IPTablesV6RedHat = "/etc/sysconfig/ip6tables"
)

// IPTablesFilesFor returns the files the saved IPv4 and IPv6 iptables
// rules are restored from at boot on an OS family
// (host.OSRelease.Family): iptables-services' for "rhel",
// iptables-persistent's otherwise.
func IPTablesFilesFor(family string) (v4, v6 string) {
	if family == "rhel" {
		return IPTablesV4RedHat, IPTablesV6RedHat
	}
	return IPTablesV4, IPTablesV6
}

// ipTablesFiles returns the saved iptables files of the scanned host: by
// its OS family when the os-release collector ran before this one; when
// the OS is not known, iptables-persistent's, or iptables-services' when
// only /etc/sysconfig/iptables or ip6tables exists.
func ipTablesFiles(env *collect.Env, inv *host.Inventory) (v4, v6 string) {
	if inv.OS != nil && inv.OS.Family != "" && inv.OS.Family != "unknown" {
		return IPTablesFilesFor(inv.OS.Family)
	}
	exists := func(name string) bool { _, err := env.FS.Stat(name); return err == nil }
	if !exists(IPTablesV4) && !exists(IPTablesV6) && (exists(IPTablesV4RedHat) || exists(IPTablesV6RedHat)) {
		return IPTablesV4RedHat, IPTablesV6RedHat
	}
	return IPTablesV4, IPTablesV6
}

// NFTConfFor returns the file nftables.service loads on an OS family
// (host.OSRelease.Family): NFTConfRedHat for "rhel", NFTConf otherwise.
func NFTConfFor(family string) string {
	if family == "rhel" {
		return NFTConfRedHat
	}
	return NFTConf
}

// nftConf returns the file nftables.service loads on the scanned host:
// by its OS family when the os-release collector ran before this one;
// when the OS is not known, /etc/nftables.conf, or the Red Hat family's
// file when only that one exists.
func nftConf(env *collect.Env, inv *host.Inventory) string {
	if inv.OS != nil && inv.OS.Family != "" && inv.OS.Family != "unknown" {
		return NFTConfFor(inv.OS.Family)
	}
	if _, err := env.FS.Stat(NFTConf); err != nil {
		if _, err := env.FS.Stat(NFTConfRedHat); err == nil {
			return NFTConfRedHat
		}
	}
	return NFTConf
}

// nftBinaries are where Debian and others install nft.
var nftBinaries = []string{"/usr/sbin/nft", "/sbin/nft"}

// Options configure the collector.
type Options struct {
	// Run runs nft on a live host; nil means sshd.ExecRunner.
	Run sshd.Runner
	// Timeout bounds it; zero means DefaultTimeout.
	Timeout time.Duration
	// Binaries are where nft is looked for, in order; nil means
	// /usr/sbin/nft and /sbin/nft.
	Binaries []string
}

// Collector fills inv.Config.Firewall.
type Collector struct{ opts Options }

// New returns the collector.
func New() *Collector { return NewWithOptions(Options{}) }

// NewWithOptions returns the collector with opts (a Runner for tests).
func NewWithOptions(opts Options) *Collector {
	if opts.Run == nil {
		opts.Run = sshd.ExecRunner
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.Binaries == nil {
		opts.Binaries = nftBinaries
	}
	return &Collector{opts: opts}
}

// Name implements collect.Collector.
func (*Collector) Name() string { return "config/firewall" }

// read returns a file's text; ok is false when it is absent (or could not
// be read, which is reported).
func read(env *collect.Env, name string) (string, bool) {
	b, err := hostfs.ReadFileLimit(env.FS, name, FileLimit)
	if err != nil {
		if !hostfs.Missing(err) {
			env.Errorf("read %s: %v", name, err)
		}
		return "", false
	}
	return string(b), true
}

// Collect implements collect.Collector.
func (c *Collector) Collect(ctx context.Context, env *collect.Env, inv *host.Inventory) error {
	fw := &host.Firewall{}
	var got []string
	if u := readUFW(env); u != nil {
		fw.UFW = u
		got = append(got, "ufw")
	}
	conf := nftConf(env, inv)
	if text, ok := read(env, conf); ok {
		fw.NFT = c.readNFT(env, conf, text)
		got = append(got, strings.Join(fw.NFT.Files, ", "))
	}
	v4, v6 := ipTablesFiles(env, inv)
	if text, ok := read(env, v4); ok {
		fw.IPTables4 = ParseIPTablesSave(text, v4, "ip")
		got = append(got, v4)
	}
	if text, ok := read(env, v6); ok {
		fw.IPTables6 = ParseIPTablesSave(text, v6, "ip6")
		got = append(got, v6)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	c.live(ctx, env, fw)
	if len(got) == 0 {
		fw.Source = "no firewall configuration files (ufw, " + conf + ", " + v4 + ", " + v6 + ")"
	} else {
		fw.Source = strings.Join(got, "; ")
	}
	if inv.Config == nil {
		inv.Config = &host.Config{}
	}
	inv.Config.Firewall = fw
	env.Count(len(got))
	return nil
}

// readUFW reads ufw's files; nil when ufw.conf is absent.
func readUFW(env *collect.Env) *host.UFWConfig {
	conf, ok := read(env, "/etc/ufw/ufw.conf")
	if !ok {
		return nil
	}
	u := &host.UFWConfig{}
	u.Enabled = ShellVar(conf, "/etc/ufw/ufw.conf", "ENABLED")
	if def, ok := read(env, "/etc/default/ufw"); ok {
		u.DefaultInput = ShellVar(def, "/etc/default/ufw", "DEFAULT_INPUT_POLICY")
		u.IPv6 = ShellVar(def, "/etc/default/ufw", "IPV6")
	}
	u.Rules4 = ufwRules(env, "ip", "/etc/ufw/before.rules", "/etc/ufw/user.rules")
	u.Rules6 = ufwRules(env, "ip6", "/etc/ufw/before6.rules", "/etc/ufw/user6.rules")
	return u
}

// ufwRules merges ufw's rule files of one family (nil when none exists).
func ufwRules(env *collect.Env, family string, files ...string) *host.FirewallRuleset {
	var out *host.FirewallRuleset
	for _, f := range files {
		text, ok := read(env, f)
		if !ok {
			continue
		}
		rs := ParseIPTablesSave(text, f, family)
		if out == nil {
			out = rs
			continue
		}
		out.Files = append(out.Files, rs.Files...)
		out.Chains = append(out.Chains, rs.Chains...)
		out.Truncated = out.Truncated || rs.Truncated
	}
	return out
}

// ShellVar returns the last assignment NAME=value of a shell-sourced file
// (ufw's files are read by its shell scripts and by ufw, which both take
// the last), quotes removed; nil when unset.
func ShellVar(text, file, name string) *host.Setting {
	var out *host.Setting
	for i, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		k, v, ok := strings.Cut(line, "=")
		if !ok || strings.TrimSpace(k) != name || strings.HasPrefix(line, "#") {
			continue
		}
		v = strings.TrimSpace(v)
		if j := strings.Index(v, " #"); j >= 0 {
			v = strings.TrimSpace(v[:j])
		}
		v = strings.Trim(v, `"'`)
		out = &host.Setting{Value: v, File: file, Line: i + 1}
	}
	return out
}

// readNFT parses conf (the file nftables.service loads) and the files it
// includes, each include read where its statement is (a later "flush
// ruleset" or "delete table" applies to what it defined). As nft -f does, a file may be included
// more than once; an include that is missing (nft -f then loads nothing)
// or that includes itself (nft stops at its depth bound with an error)
// is a LoadError, while an include that could not be read here, or
// MaxIncludes or MaxIncludeDepth being reached, leaves the ruleset not
// fully known (Truncated, Incomplete).
func (c *Collector) readNFT(env *collect.Env, conf, text string) *host.FirewallRuleset {
	b := newBuilder()
	files := []string{conf}
	stack := []string{conf}
	read := 1
	b.resolve = func(in include) {
		if len(stack) > MaxIncludeDepth {
			env.Errorf("%s:%d: include %q: more than %d levels of includes", in.file, in.line, in.pattern, MaxIncludeDepth)
			b.unknown(in.file, in.line, fmt.Sprintf("include %q: more than %d levels of includes, not read", in.pattern, MaxIncludeDepth))
			return
		}
		for _, name := range expand(env, b, in) {
			if slices.Contains(stack, name) {
				env.Errorf("%s:%d: %s includes itself", in.file, in.line, name)
				b.refuse(in.file, in.line, fmt.Sprintf("include %q: %s includes itself, nft -f fails and loads nothing", in.pattern, name))
				continue
			}
			if read >= MaxIncludes {
				env.Errorf("more than %d nftables files, %s is not read", MaxIncludes, name)
				b.unknown(in.file, in.line, fmt.Sprintf("more than %d nftables files, %s is not read", MaxIncludes, name))
				return
			}
			t, err := hostfs.ReadFileLimit(env.FS, name, FileLimit)
			if err != nil {
				env.Errorf("%s:%d: include %q: read %s: %v", in.file, in.line, in.pattern, name, err)
				if hostfs.Missing(err) {
					b.refuse(in.file, in.line, fmt.Sprintf("include %q: %s does not exist, nft -f fails and loads nothing", in.pattern, name))
				} else {
					b.unknown(in.file, in.line, fmt.Sprintf("include %q: %s could not be read: %v", in.pattern, name, err))
				}
				continue
			}
			read++
			if !slices.Contains(files, name) {
				files = append(files, name)
			}
			stack = append(stack, name)
			b.parse(string(t), name)
			stack = stack[:len(stack)-1]
		}
	}
	b.parse(text, conf)
	return b.ruleset(files)
}

// expand resolves an include pattern to file names: relative to /etc,
// a glob matched in its directory in lexical order (a glob matching
// nothing is no error for nft). A file name that does not exist is
// returned for the caller to report.
func expand(env *collect.Env, b *nftBuilder, in include) []string {
	p := in.pattern
	if !strings.HasPrefix(p, "/") {
		p = path.Join("/etc", p)
	}
	p = path.Clean(p)
	if !strings.ContainsAny(p, "*?[") {
		return []string{p}
	}
	dir, pat := path.Split(p)
	des, err := env.FS.ReadDir(path.Clean(dir))
	if err != nil {
		if !hostfs.Missing(err) {
			env.Errorf("%s:%d: include %q: %v", in.file, in.line, in.pattern, err)
			b.unknown(in.file, in.line, fmt.Sprintf("include %q: %v", in.pattern, err))
		}
		return nil
	}
	var out []string
	for _, de := range des {
		if ok, _ := path.Match(pat, de.Name()); ok && !strings.HasPrefix(de.Name(), ".") {
			out = append(out, path.Join(dir, de.Name()))
		}
	}
	slices.Sort(out)
	return out
}

// live reads the running ruleset on a live host.
func (c *Collector) live(ctx context.Context, env *collect.Env, fw *host.Firewall) {
	if !env.FS.Live() {
		fw.NFTLiveSource = "not read: an image has no running ruleset"
		return
	}
	bin := ""
	for _, b := range c.opts.Binaries {
		if fi, err := env.FS.Stat(b); err == nil && fi.Mode().IsRegular() {
			bin = b
			break
		}
	}
	if bin == "" {
		fw.NFTLiveSource = "not read: nft is not installed"
		return
	}
	ctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	out, err := c.opts.Run(ctx, bin, "-j", "list", "ruleset")
	if err == nil && ctx.Err() != nil {
		err = ctx.Err()
	}
	if err != nil {
		fw.NFTLiveSource = fmt.Sprintf("not read: %s -j list ruleset: %v", bin, err)
		return
	}
	if len(out) > LiveLimit {
		fw.NFTLiveSource = fmt.Sprintf("not read: %s -j list ruleset printed more than %d bytes", bin, LiveLimit)
		return
	}
	rs, err := ParseNFTJSON(out, "nft -j list ruleset")
	if err != nil {
		fw.NFTLiveSource = fmt.Sprintf("not read: %s -j list ruleset: %v", bin, err)
		return
	}
	fw.NFTLive = rs
	fw.NFTLiveSource = bin + " -j list ruleset"
}
