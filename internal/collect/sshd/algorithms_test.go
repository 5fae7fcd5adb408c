package sshd_test

import (
	"strings"
	"testing"

	"github.com/kensa-dev/kensa/internal/collect/sshd"
)

// Relative algorithm lists resolve as OpenSSH's kex_assemble_names does.
// The hardened debootstrap root's drop-in and its sshd -T output
// (bench/debootstrap-roots.sh) gave the expected MACs case.
func TestResolveAlgorithms(t *testing.T) {
	v := sshd.ParseVersion("9.2p1")
	macs, _ := sshd.DefaultAlgorithms(v, "macs")
	ciphers, _ := sshd.DefaultAlgorithms(v, "ciphers")
	for _, c := range []struct {
		value, defaults, want string
		ok                    bool
	}{
		{"aes256-gcm@openssh.com,aes128-ctr", ciphers, "aes256-gcm@openssh.com,aes128-ctr", true},
		{"-3des-cbc,aes128-cbc,aes192-cbc,aes256-cbc,chacha20-poly1305@openssh.com", ciphers,
			"aes128-ctr,aes192-ctr,aes256-ctr,aes128-gcm@openssh.com,aes256-gcm@openssh.com", true},
		{"-hmac-md5,hmac-md5-96,hmac-ripemd160,hmac-sha1-96,umac-64@openssh.com,hmac-md5-etm@openssh.com,hmac-md5-96-etm@openssh.com,hmac-ripemd160-etm@openssh.com,hmac-sha1-96-etm@openssh.com,umac-64-etm@openssh.com,umac-128-etm@openssh.com", macs,
			"hmac-sha2-256-etm@openssh.com,hmac-sha2-512-etm@openssh.com,hmac-sha1-etm@openssh.com,umac-128@openssh.com,hmac-sha2-256,hmac-sha2-512,hmac-sha1", true},
		{"-*sha1*,umac-*", macs, "hmac-sha2-256-etm@openssh.com,hmac-sha2-512-etm@openssh.com,hmac-sha2-256,hmac-sha2-512", true},
		{"+3des-cbc", ciphers, ciphers + ",3des-cbc", true},
		{"+aes128-ctr", ciphers, ciphers, true},
		{"^aes256-gcm@openssh.com", ciphers,
			"aes256-gcm@openssh.com,chacha20-poly1305@openssh.com,aes128-ctr,aes192-ctr,aes256-ctr,aes128-gcm@openssh.com", true},
		{"-3des-cbc", "", "", false},
		{"", ciphers, "", false},
	} {
		got, ok := sshd.ResolveAlgorithms(c.value, c.defaults)
		if got != c.want || ok != c.ok {
			t.Errorf("ResolveAlgorithms(%q) = %q, %v; want %q, %v", c.value, got, ok, c.want, c.ok)
		}
	}
}

// Defaults are claimed only for the versions whose lists are known.
func TestDefaultAlgorithmsVersions(t *testing.T) {
	for _, c := range []struct {
		version string
		known   bool
	}{{"7.3p1", false}, {"7.4p1", true}, {"7.5p1", false}, {"8.0p1", true}, {"9.2p1", true}, {"9.8p1", true}, {"9.9p1", false}, {"", false}} {
		if _, ok := sshd.DefaultAlgorithms(sshd.ParseVersion(c.version), "kexalgorithms"); ok != c.known {
			t.Errorf("%q: known %v, want %v", c.version, ok, c.known)
		}
	}
	// 8.2 dropped diffie-hellman-group14-sha1 from the default (its
	// release notes).
	for v, want := range map[string]bool{"8.0p1": true, "8.1p1": true, "8.2p1": false, "9.2p1": false} {
		k, _ := sshd.DefaultAlgorithms(sshd.ParseVersion(v), "kexalgorithms")
		if got := strings.Contains(k, "diffie-hellman-group14-sha1"); got != want {
			t.Errorf("%s offers group14-sha1: %v, want %v", v, got, want)
		}
	}
	k84, _ := sshd.DefaultAlgorithms(sshd.ParseVersion("8.4p1"), "kexalgorithms")
	k85, _ := sshd.DefaultAlgorithms(sshd.ParseVersion("8.5p1"), "kexalgorithms")
	if k84 == k85 {
		t.Error("8.5 added sntrup761x25519-sha512@openssh.com first")
	}
}

// OpenSSH 7.4p1's lists are upstream's (8.0's, group14-sha1 last); the
// Red Hat Enterprise Linux 7 family's build of it (Amazon Linux 2's)
// patches them, and they stay unknown there.
func TestDefaultAlgorithms74(t *testing.T) {
	v := sshd.ParseVersion("7.4p1")
	v80 := sshd.ParseVersion("8.0p1")
	for _, kw := range sshd.AlgorithmKeywords {
		got, ok := sshd.DefaultAlgorithms(v, kw)
		want, _ := sshd.DefaultAlgorithms(v80, kw)
		if !ok || got != want {
			t.Errorf("7.4 %s = %q, %v; want %q", kw, got, ok, want)
		}
		rh := v
		rh.RedHat7Build = true
		if got, ok := sshd.DefaultAlgorithms(rh, kw); ok || got != "" {
			t.Errorf("Red Hat 7.4 %s = %q, %v; want unknown", kw, got, ok)
		}
	}
	if c, _ := sshd.DefaultAlgorithms(v, "ciphers"); strings.Contains(c, "cbc") {
		t.Errorf("7.4's server ciphers have no CBC mode: %s", c)
	}
	if k, _ := sshd.DefaultAlgorithms(v, "kexalgorithms"); !strings.HasPrefix(k, "curve25519-sha256,curve25519-sha256@libssh.org,") || !strings.HasSuffix(k, ",diffie-hellman-group14-sha1") {
		t.Errorf("7.4 kex: %s", k)
	}
}
