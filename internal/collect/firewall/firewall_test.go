package firewall_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kensa-dev/kensa/internal/collect"
	"github.com/kensa-dev/kensa/internal/collect/firewall"
	"github.com/kensa-dev/kensa/internal/collect/osrelease"
	"github.com/kensa-dev/kensa/internal/host"
	"github.com/kensa-dev/kensa/internal/hostfs"
	"github.com/kensa-dev/kensa/internal/testfixture"
)

func write(t *testing.T, root, name, body string) {
	t.Helper()
	p := filepath.Join(root, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

func runOf(inv *host.Inventory) host.CollectorRun {
	for _, r := range inv.Collectors {
		if r.Name == "config/firewall" {
			return r
		}
	}
	return host.CollectorRun{}
}

// nftables.conf includes: a relative glob (looked up in /etc, lexical
// order), an absolute file included a second time (nft reads it again),
// a missing file (nft -f then loads nothing: LoadError).
func TestIncludes(t *testing.T) {
	root := t.TempDir()
	write(t, root, "etc/nftables.conf", "flush ruleset\ninclude \"nftables.d/*.nft\"\ninclude \"/etc/missing.nft\"\n")
	write(t, root, "etc/nftables.d/20-lo.nft", "add rule inet filter input iif lo accept\ninclude \"/etc/nftables.d/10-base.nft\"\n")
	write(t, root, "etc/nftables.d/10-base.nft", "table inet filter {\n chain input { type filter hook input priority 0; policy drop; }\n}\n")
	write(t, root, "etc/nftables.d/notes.txt", "table ip ignored { chain x { type filter hook input priority 0; } }\n")
	inv := testfixture.Collect(t, root, firewall.New())
	fw := inv.Config.Firewall
	if fw == nil || fw.NFT == nil {
		t.Fatalf("no nft: %+v", fw)
	}
	if got := strings.Join(fw.NFT.Files, " "); got != "/etc/nftables.conf /etc/nftables.d/10-base.nft /etc/nftables.d/20-lo.nft" {
		t.Errorf("files: %s", got)
	}
	if len(fw.NFT.Chains) != 1 {
		t.Fatalf("chains: %+v", fw.NFT.Chains)
	}
	c := fw.NFT.Chains[0]
	if c.Policy == nil || c.Policy.Value != "drop" || c.Policy.File != "/etc/nftables.d/10-base.nft" || len(c.Rules) != 1 || c.Rules[0].File != "/etc/nftables.d/20-lo.nft" {
		t.Errorf("chain: %+v", c)
	}
	errs := strings.Join(runOf(inv).Errors, "\n")
	if !strings.Contains(errs, "/etc/missing.nft") {
		t.Errorf("errors: %s", errs)
	}
	if !strings.Contains(fw.NFT.LoadError, "/etc/nftables.conf:3") || !strings.Contains(fw.NFT.LoadError, "/etc/missing.nft does not exist") {
		t.Errorf("load error: %q", fw.NFT.LoadError)
	}
	if fw.NFT.Truncated {
		t.Errorf("a missing include is known, not truncated: %v", fw.NFT.Incomplete)
	}
	if fw.NFTLive != nil || !strings.Contains(fw.NFTLiveSource, "an image") {
		t.Errorf("live on an image: %s", fw.NFTLiveSource)
	}
}

// An include that includes itself through a chain of files stops at the
// depth bound, and a file may not lead out of the root.
func TestIncludeBounds(t *testing.T) {
	root := t.TempDir()
	write(t, root, "etc/nftables.conf", "include \"a0.nft\"\n")
	for i := 0; i < firewall.MaxIncludeDepth+3; i++ {
		write(t, root, "etc/a"+string(rune('0'+i))+".nft", "include \"a"+string(rune('0'+i+1))+".nft\"\n")
	}
	outside := t.TempDir()
	write(t, outside, "evil.nft", "table inet filter { chain input { type filter hook input priority 0; policy drop; } }\n")
	write(t, root, "etc/ufw/ufw.conf", "ENABLED=yes\n")
	if err := os.Symlink(filepath.Join(outside, "evil.nft"), filepath.Join(root, "etc/a5.nft.link")); err != nil {
		t.Fatal(err)
	}
	done := make(chan *host.Inventory, 1)
	go func() { done <- testfixture.Collect(t, root, firewall.New()) }()
	var inv *host.Inventory
	select {
	case inv = <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("hang")
	}
	fw := inv.Config.Firewall
	if !fw.NFT.Truncated || !strings.Contains(strings.Join(runOf(inv).Errors, "\n"), "levels of includes") {
		t.Errorf("depth bound: truncated %v, errors %v", fw.NFT.Truncated, runOf(inv).Errors)
	}
	if fw.UFW == nil || fw.UFW.Enabled.Value != "yes" || fw.UFW.DefaultInput != nil || fw.UFW.Rules4 != nil {
		t.Errorf("ufw: %+v", fw.UFW)
	}
}

// On a live host nft runs with a timeout; its failure is recorded, never
// taken for an empty ruleset.
func TestLive(t *testing.T) {
	fsys, err := hostfs.Open("/")
	if err != nil {
		t.Fatal(err)
	}
	// A program every Debian system has stands in for nft; the runner
	// is fake.
	sh, err := filepath.EvalSymlinks("/bin/sh")
	if err != nil {
		t.Skip(err)
	}
	const live = `{"nftables": [{"metainfo": {"version": "1.0.6"}}, {"chain": {"family": "inet", "table": "filter", "name": "input", "hook": "input", "policy": "drop"}}]}`
	// Without nft nothing is run.
	c := firewall.NewWithOptions(firewall.Options{Binaries: []string{"/nonexistent/nft"}, Run: func(context.Context, string, ...string) ([]byte, error) {
		t.Error("ran a program that does not exist")
		return nil, nil
	}})
	if fw := testfixture.CollectEnv(t, &collect.Env{FS: fsys}, c).Config.Firewall; fw.NFTLive != nil || fw.NFTLiveSource != "not read: nft is not installed" {
		t.Errorf("without nft: %+v %s", fw.NFTLive, fw.NFTLiveSource)
	}
	for _, tc := range []struct {
		name string
		run  func(ctx context.Context, name string, args ...string) ([]byte, error)
		want string
	}{
		{"ok", func(ctx context.Context, name string, args ...string) ([]byte, error) {
			if strings.Join(args, " ") != "-j list ruleset" {
				return nil, errors.New("unexpected arguments")
			}
			return []byte(live), nil
		}, "-j list ruleset"},
		{"denied", func(ctx context.Context, name string, args ...string) ([]byte, error) {
			return nil, errors.New("exit status 1: Operation not permitted")
		}, "not read: "},
		{"slow", func(ctx context.Context, name string, args ...string) ([]byte, error) {
			<-ctx.Done()
			return nil, ctx.Err()
		}, "not read: "},
		{"garbage", func(ctx context.Context, name string, args ...string) ([]byte, error) {
			return []byte("table inet filter {"), nil
		}, "not read: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := firewall.NewWithOptions(firewall.Options{Run: tc.run, Timeout: 100 * time.Millisecond, Binaries: []string{"/nonexistent/nft", sh}})
			inv := testfixture.CollectEnv(t, &collect.Env{FS: fsys}, c)
			fw := inv.Config.Firewall
			if !strings.Contains(fw.NFTLiveSource, tc.want) || (tc.name == "ok") != (fw.NFTLive != nil) {
				t.Errorf("source %q, live %+v", fw.NFTLiveSource, fw.NFTLive)
			}
			if tc.name == "ok" && (len(fw.NFTLive.Chains) != 1 || fw.NFTLive.Chains[0].Policy.Value != "drop") {
				t.Errorf("live: %+v", fw.NFTLive)
			}
		})
	}
}

// Includes are read where their statement is: a "flush ruleset" after an
// include forgets what the include defined, and a "delete table" in an
// included file removes a table defined before it.
func TestIncludesInPlace(t *testing.T) {
	base := "table inet filter {\n chain input { type filter hook input priority 0; policy drop; iif lo accept }\n}\n"
	for _, tc := range []struct {
		name, conf string
		files      map[string]string
		chains     int
	}{
		{"flush after include", "include \"base.nft\"\nflush ruleset\n", map[string]string{"etc/base.nft": base}, 0},
		{"include before flush", "flush ruleset\ninclude \"base.nft\"\n", map[string]string{"etc/base.nft": base}, 1},
		{"delete in include", base + "include \"zz.nft\"\n", map[string]string{"etc/zz.nft": "delete table inet filter\n"}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			write(t, root, "etc/nftables.conf", tc.conf)
			for name, body := range tc.files {
				write(t, root, name, body)
			}
			fw := testfixture.Collect(t, root, firewall.New()).Config.Firewall
			if len(fw.NFT.Chains) != tc.chains || fw.NFT.LoadError != "" || fw.NFT.Truncated {
				t.Errorf("chains %+v, load error %q, truncated %v", fw.NFT.Chains, fw.NFT.LoadError, fw.NFT.Truncated)
			}
		})
	}
}

// An include that exists but cannot be read here leaves the ruleset not
// fully known (nft, as root, may read it); one that includes itself
// makes nft -f fail.
func TestIncludeUnreadableAndLoop(t *testing.T) {
	root := t.TempDir()
	write(t, root, "etc/nftables.conf", "flush ruleset\ninclude \"nftables.d\"\ninclude \"self.nft\"\n")
	write(t, root, "etc/nftables.d/x.nft", "\n")
	write(t, root, "etc/self.nft", "include \"self.nft\"\n")
	fw := testfixture.Collect(t, root, firewall.New()).Config.Firewall
	if !fw.NFT.Truncated || len(fw.NFT.Incomplete) != 1 || !strings.Contains(fw.NFT.Incomplete[0], "/etc/nftables.conf:2: include \"nftables.d\": /etc/nftables.d could not be read") {
		t.Errorf("unreadable include: truncated %v, %q", fw.NFT.Truncated, fw.NFT.Incomplete)
	}
	if !strings.Contains(fw.NFT.LoadError, "/etc/self.nft:1: include \"self.nft\": /etc/self.nft includes itself") {
		t.Errorf("loop: %q", fw.NFT.LoadError)
	}
}

// On the Red Hat family nftables.service loads
// /etc/sysconfig/nftables.conf (which includes /etc/nftables/*.nft), not
// /etc/nftables.conf; the OS comes from the os-release collector run
// before. Without a known OS the Red Hat file is read only when
// /etc/nftables.conf does not exist.
func TestRedHatConf(t *testing.T) {
	rhel := "NAME=\"Red Hat Enterprise Linux\"\nID=\"rhel\"\nID_LIKE=\"fedora\"\nVERSION_ID=\"9.4\"\n"
	debian := "NAME=\"Debian GNU/Linux\"\nID=debian\nVERSION_ID=\"12\"\n"
	base := "table inet filter {\n chain input { type filter hook input priority 0; policy drop; iif lo accept; }\n}\n"
	for _, tc := range []struct {
		name, osRelease string
		debianConf      bool
		want            string
	}{
		{"rhel", rhel, true, "/etc/sysconfig/nftables.conf /etc/nftables/main.nft"},
		{"debian", debian, true, "/etc/nftables.conf"},
		{"unknown os, only the red hat file", "", false, "/etc/sysconfig/nftables.conf /etc/nftables/main.nft"},
		{"unknown os, both", "", true, "/etc/nftables.conf"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			if tc.osRelease != "" {
				write(t, root, "etc/os-release", tc.osRelease)
			}
			write(t, root, "etc/sysconfig/nftables.conf", "# sample\ninclude \"/etc/nftables/main.nft\"\n")
			write(t, root, "etc/nftables/main.nft", base)
			if tc.debianConf {
				write(t, root, "etc/nftables.conf", "flush ruleset\n")
			}
			inv := testfixture.Collect(t, root, osrelease.New(), firewall.New())
			fw := inv.Config.Firewall
			if fw == nil || fw.NFT == nil {
				t.Fatalf("no nft: %+v", fw)
			}
			if got := strings.Join(fw.NFT.Files, " "); got != tc.want {
				t.Errorf("files: %s, want %s", got, tc.want)
			}
			if strings.HasPrefix(tc.want, "/etc/sysconfig") {
				if len(fw.NFT.Chains) != 1 || fw.NFT.Chains[0].Policy == nil || fw.NFT.Chains[0].Policy.File != "/etc/nftables/main.nft" {
					t.Errorf("chains: %+v", fw.NFT.Chains)
				}
			}
		})
	}
	// As RHEL ships it: the include is commented, nothing is loaded, and
	// a missing file is named in the source.
	root := t.TempDir()
	write(t, root, "etc/os-release", rhel)
	inv := testfixture.Collect(t, root, osrelease.New(), firewall.New())
	if fw := inv.Config.Firewall; fw.NFT != nil || !strings.Contains(fw.Source, "/etc/sysconfig/nftables.conf") {
		t.Errorf("no file: %+v", fw)
	}
	write(t, root, "etc/sysconfig/nftables.conf", "#include \"/etc/nftables/main.nft\"\n")
	inv = testfixture.Collect(t, root, osrelease.New(), firewall.New())
	if fw := inv.Config.Firewall; fw.NFT == nil || len(fw.NFT.Chains) != 0 || fw.NFT.LoadError != "" || fw.NFT.Truncated {
		t.Errorf("as shipped: %+v", fw.NFT)
	}
}

// On the Red Hat family iptables.service and ip6tables.service
// (iptables-services) restore /etc/sysconfig/iptables and ip6tables, in
// iptables-save format; iptables-persistent's /etc/iptables/rules.v4 and
// rules.v6 are read elsewhere. Without a known OS the Red Hat files are
// read only when neither of iptables-persistent's exists.
func TestRedHatIPTables(t *testing.T) {
	amzn := "NAME=\"Amazon Linux\"\nID=\"amzn\"\nID_LIKE=\"centos rhel fedora\"\nVERSION_ID=\"2\"\n"
	debian := "NAME=\"Debian GNU/Linux\"\nID=debian\nVERSION_ID=\"12\"\n"
	v4 := "*filter\n:INPUT DROP [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n-A INPUT -i lo -j ACCEPT\n-A INPUT -s 127.0.0.0/8 -j DROP\nCOMMIT\n"
	v6 := "*filter\n:INPUT DROP [0:0]\n-A INPUT -i lo -j ACCEPT\n-A INPUT -s ::1 -j DROP\nCOMMIT\n"
	for _, tc := range []struct {
		name, osRelease string
		debianFiles     bool
		want4, want6    string
	}{
		{"amazon linux 2", amzn, true, "/etc/sysconfig/iptables", "/etc/sysconfig/ip6tables"},
		{"debian", debian, true, "/etc/iptables/rules.v4", "/etc/iptables/rules.v6"},
		{"unknown os, only the red hat files", "", false, "/etc/sysconfig/iptables", "/etc/sysconfig/ip6tables"},
		{"unknown os, both", "", true, "/etc/iptables/rules.v4", "/etc/iptables/rules.v6"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			if tc.osRelease != "" {
				write(t, root, "etc/os-release", tc.osRelease)
			}
			write(t, root, "etc/sysconfig/iptables", v4)
			write(t, root, "etc/sysconfig/ip6tables", v6)
			if tc.debianFiles {
				write(t, root, "etc/iptables/rules.v4", v4)
				write(t, root, "etc/iptables/rules.v6", v6)
			}
			inv := testfixture.Collect(t, root, osrelease.New(), firewall.New())
			fw := inv.Config.Firewall
			if fw == nil || fw.IPTables4 == nil || fw.IPTables6 == nil {
				t.Fatalf("no iptables: %+v", fw)
			}
			if got := strings.Join(fw.IPTables4.Files, " "); got != tc.want4 {
				t.Errorf("v4 files: %s, want %s", got, tc.want4)
			}
			if got := strings.Join(fw.IPTables6.Files, " "); got != tc.want6 {
				t.Errorf("v6 files: %s, want %s", got, tc.want6)
			}
			if len(fw.IPTables4.Chains) != 3 || fw.IPTables4.Chains[0].Name != "INPUT" || fw.IPTables4.Chains[0].Policy == nil ||
				fw.IPTables4.Chains[0].Policy.Value != "drop" || len(fw.IPTables4.Chains[0].Rules) != 2 || fw.IPTables4.Chains[0].Family != "ip" {
				t.Errorf("v4 chains: %+v", fw.IPTables4.Chains)
			}
			if len(fw.IPTables6.Chains) != 1 || fw.IPTables6.Chains[0].Family != "ip6" || fw.IPTables6.Chains[0].Rules[1].Source != "::1" {
				t.Errorf("v6 chains: %+v", fw.IPTables6.Chains)
			}
			if !strings.Contains(fw.Source, tc.want4) || !strings.Contains(fw.Source, tc.want6) {
				t.Errorf("source %q does not name %s and %s", fw.Source, tc.want4, tc.want6)
			}
		})
	}
	// Amazon Linux 2 as installed: no saved rules, and the source names
	// the files looked for.
	root := t.TempDir()
	write(t, root, "etc/os-release", amzn)
	write(t, root, "etc/iptables/rules.v4", v4)
	inv := testfixture.Collect(t, root, osrelease.New(), firewall.New())
	if fw := inv.Config.Firewall; fw.IPTables4 != nil || fw.IPTables6 != nil || !strings.Contains(fw.Source, "/etc/sysconfig/iptables") {
		t.Errorf("no saved rules: %+v", fw)
	}
}
