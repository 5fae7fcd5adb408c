package rules_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/kensa-dev/kensa/internal/finding"
	"github.com/kensa-dev/kensa/internal/rules"
	"github.com/kensa-dev/kensa/internal/testfixture"
)

// The shared configuration fixtures give the results their README states:
// Debian 12 as shipped fails the SSH, password-age and password-quality
// practices; with the synthetic CIS Level 1 hardening on top it passes
// them. The fixtures hold configuration only, so an OpenSSH server package
// and two accounts are added to each root.
func TestSharedConfigFixtures(t *testing.T) {
	shipped := testfixture.Shared(t, "fixtures", "config", "debian12")
	hardened := testfixture.Shared(t, "fixtures", "config", "synthetic", "debian12-hardened")
	sshHardened := testfixture.Shared(t, "fixtures", "config", "synthetic", "sshd", "case07-debian12-hardened")
	all, err := rules.Load()
	if err != nil {
		t.Fatal(err)
	}
	build := func(t *testing.T, layers ...string) string {
		root := t.TempDir()
		for _, l := range layers {
			overlay(t, root, l)
		}
		write := func(name, body string) {
			p := filepath.Join(root, name)
			os.MkdirAll(filepath.Dir(p), 0o755)
			if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		write("etc/os-release", "ID=debian\nVERSION_ID=\"12\"\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n")
		write("var/lib/dpkg/status", "Package: openssh-server\nStatus: install ok installed\nArchitecture: amd64\nSource: openssh\nVersion: 1:9.2p1-2+deb12u10\nDescription: ssh server\n\n")
		write("etc/passwd", "root:x:0:0:root:/root:/bin/bash\nalice:x:1000:1000::/home/alice:/bin/bash\n")
		return root
	}
	for _, c := range []struct {
		name   string
		layers []string
		extra  func(root string)
		want   map[string]string
	}{
		{"debian12 as shipped", []string{shipped}, func(root string) {
			os.WriteFile(filepath.Join(root, "etc/shadow"), []byte("root:$y$j9T$x$y:19700:0:99999:7:::\nalice:$y$j9T$x$y:19700:0:99999:7:::\n"), 0o640)
		}, map[string]string{
			"ssh-root-login":      finding.StatusFail, // PermitRootLogin prohibit-password by default
			"ssh-password-auth":   finding.StatusFail, // PasswordAuthentication yes by default
			"ssh-protocol-2":      finding.StatusPass, // OpenSSH 9.2
			"password-max-age":    finding.StatusFail, // PASS_MAX_DAYS 99999
			"password-min-length": finding.StatusFail, // no pam_pwquality in common-password
			"password-complexity": finding.StatusFail,
		}},
		{"debian12 hardened", []string{shipped, hardened, sshHardened}, func(root string) {
			// login.defs.changed-keys: apply on top of the shipped file (the
			// last definition wins in shadow's getdef).
			extra, _ := os.ReadFile(filepath.Join(root, "etc/login.defs.changed-keys"))
			f, _ := os.OpenFile(filepath.Join(root, "etc/login.defs"), os.O_APPEND|os.O_WRONLY, 0)
			f.Write(extra)
			f.Close()
			os.WriteFile(filepath.Join(root, "etc/shadow"), []byte("root:$y$j9T$x$y:19700:1:365:7:::\nalice:$y$j9T$x$y:19700:1:90:7:::\n"), 0o640)
		}, map[string]string{
			"ssh-root-login":      finding.StatusPass,
			"ssh-password-auth":   finding.StatusPass,
			"ssh-protocol-2":      finding.StatusPass,
			"password-max-age":    finding.StatusPass,
			"password-min-length": finding.StatusPass, // minlen 14 in pwquality.conf.d/50-cis.conf
			"password-complexity": finding.StatusPass, // minclass 4, remember 24
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			root := build(t, c.layers...)
			c.extra(root)
			inv := collectRoot(t, root)
			out := rules.Evaluate(inv, all, []string{finding.PackageBestPractices})
			for _, r := range out.Results {
				want, ok := c.want[r.RuleID]
				if !ok {
					continue
				}
				if r.Status != want {
					t.Errorf("%s: %s (%s), want %s", r.RuleID, r.Status, r.Reason, want)
				}
			}
		})
	}
}

// overlay copies the regular files and symbolic links under src into
// dst, replacing files that exist: later layers win, except .modes
// manifests, which add up. Links are copied as
// links with their target text unchanged (systemd's enablement and /dev/null
// masks are links, and git keeps them); what was at the place is removed
// first, so a file never writes through an earlier layer's link.
func overlay(t testing.TB, dst, src string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		isLink := err == nil && d.Type()&fs.ModeSymlink != 0
		if err != nil || (!d.Type().IsRegular() && !isLink) {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			return err
		}
		var prevModes []byte
		if rel == ".modes" {
			prevModes, _ = os.ReadFile(target)
		}
		if fi, err := os.Lstat(target); err == nil && !fi.IsDir() {
			os.Remove(target)
		}
		if isLink {
			to, err := os.Readlink(p)
			if err != nil {
				return err
			}
			return os.Symlink(to, target)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if rel == ".modes" {
			// Each layer's modes apply: the manifests add up.
			data = append(append(prevModes, '\n'), data...)
		}
		return os.WriteFile(target, data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}
