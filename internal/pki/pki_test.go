package pki

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"errors"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// t0 is the tests' "now": nothing here reads the clock.
var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

const day = 24 * time.Hour

var allFiles = []string{CACertFile, CAKeyFile, ServerCertFile, ServerKeyFile}

func mustLoad(t *testing.T, dir string, opts Options, now time.Time) (*Authority, Changes) {
	t.Helper()
	a, ch, err := LoadOrCreate(dir, opts, now)
	if err != nil {
		t.Fatalf("LoadOrCreate: %v", err)
	}
	return a, ch
}

func newAuthority(t *testing.T) *Authority {
	t.Helper()
	a, _ := mustLoad(t, filepath.Join(t.TempDir(), "pki"), Options{}, t0)
	return a
}

func readAll(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	m := map[string][]byte{}
	for _, f := range allFiles {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err == nil {
			m[f] = b
		}
	}
	return m
}

func serverLeaf(t *testing.T, dir string) *x509.Certificate {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, ServerCertFile))
	if err != nil {
		t.Fatal(err)
	}
	c, err := parseCertPEM(ServerCertFile, b)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestCreateAndReload: the first start creates a CA and a server
// certificate with the promised properties; the second changes nothing.
func TestCreateAndReload(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pki")
	a1, ch := mustLoad(t, dir, Options{DNSNames: []string{"Kensa.Example", "10.1.2.3"}, IPs: []net.IP{net.ParseIP("192.0.2.7")}}, t0)
	if !ch.CreatedCA || !ch.IssuedServer || ch.Reason != "no server certificate" {
		t.Errorf("first start: %+v", ch)
	}
	ca := a1.CA()
	if !regexp.MustCompile(`^Kensa CA [0-9a-f]{8}$`).MatchString(ca.Subject.CommonName) {
		t.Errorf("CA CN %q", ca.Subject.CommonName)
	}
	if k, ok := ca.PublicKey.(*ecdsa.PublicKey); !ok || k.Curve != elliptic.P256() {
		t.Errorf("CA key %T", ca.PublicKey)
	}
	if !ca.IsCA || ca.NotAfter.Sub(t0) != CAValidity || ca.CheckSignatureFrom(ca) != nil {
		t.Errorf("CA: IsCA %v, until %s", ca.IsCA, ca.NotAfter)
	}
	leaf := a1.ServerCertificate().Leaf
	if leaf.NotAfter.Sub(t0) != ServerValidity || !slices.Equal(leaf.ExtKeyUsage, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}) {
		t.Errorf("server cert: until %s, usages %v", leaf.NotAfter, leaf.ExtKeyUsage)
	}
	for _, name := range []string{"localhost", "kensa.example", "127.0.0.1", "::1", "10.1.2.3", "192.0.2.7"} {
		if _, err := leaf.Verify(x509.VerifyOptions{Roots: a1.CAPool(), DNSName: name, CurrentTime: t0}); err != nil {
			t.Errorf("server cert for %s: %v", name, err)
		}
	}
	if got := a1.ServerCertificate().Certificate; len(got) != 2 || !bytes.Equal(got[1], ca.Raw) {
		t.Errorf("server chain does not end with the CA")
	}
	before := readAll(t, dir)
	if len(before) != 4 {
		t.Fatalf("%d files, want 4", len(before))
	}

	a2, ch := mustLoad(t, dir, Options{DNSNames: []string{"kensa.example", "10.1.2.3"}, IPs: []net.IP{net.ParseIP("192.0.2.7")}}, t0.Add(30*day))
	if ch != (Changes{}) {
		t.Errorf("second start changed: %+v", ch)
	}
	if !a2.CA().Equal(ca) || !a2.ServerCertificate().Leaf.Equal(leaf) {
		t.Error("reload: other certificates")
	}
	for f, b := range readAll(t, dir) {
		if !bytes.Equal(b, before[f]) {
			t.Errorf("reload rewrote %s", f)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 4 {
		t.Errorf("%d entries in the directory: temporary files left?", len(entries))
	}
}

// TestModes: directory 0700, keys 0600, even when the directory or a key
// existed with looser modes.
func TestModes(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pki")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	mustLoad(t, dir, Options{}, t0)
	want := map[string]fs.FileMode{".": 0o700, CAKeyFile: 0o600, ServerKeyFile: 0o600, CACertFile: 0o644, ServerCertFile: 0o644}
	check := func() {
		t.Helper()
		for f, m := range want {
			fi, err := os.Stat(filepath.Join(dir, f))
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode().Perm() != m {
				t.Errorf("%s: mode %o, want %o", f, fi.Mode().Perm(), m)
			}
		}
	}
	check()
	for _, f := range []string{".", CAKeyFile, ServerKeyFile} {
		if err := os.Chmod(filepath.Join(dir, f), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	mustLoad(t, dir, Options{}, t0)
	check()
}

// TestCorruptFileIsError: a damaged file is an error naming it, and no
// file is written, whichever of the four it is.
func TestCorruptFileIsError(t *testing.T) {
	damages := map[string]func([]byte) []byte{
		"empty":     func([]byte) []byte { return nil },
		"truncated": func(b []byte) []byte { return b[:len(b)/2] },
		"garbage":   func([]byte) []byte { return []byte("\x00\x01not a PEM file\xff") },
		"appended":  func(b []byte) []byte { return append(slices.Clone(b), "junk"...) },
		"bad DER": func(b []byte) []byte {
			s := string(b)
			i := strings.Index(s, "\n") + 10
			return []byte(s[:i] + "AAAA" + s[i+4:])
		},
	}
	for _, file := range allFiles {
		for name, damage := range damages {
			t.Run(file+"/"+name, func(t *testing.T) {
				dir := filepath.Join(t.TempDir(), "pki")
				mustLoad(t, dir, Options{}, t0)
				path := filepath.Join(dir, file)
				orig, _ := os.ReadFile(path)
				if err := os.WriteFile(path, damage(orig), 0o600); err != nil {
					t.Fatal(err)
				}
				before := readAll(t, dir)
				_, _, err := LoadOrCreate(dir, Options{}, t0.Add(day))
				if err == nil || !strings.Contains(err.Error(), path) {
					t.Fatalf("err = %v, want one naming %s", err, path)
				}
				t.Log(err)
				after := readAll(t, dir)
				for f := range before {
					if !bytes.Equal(before[f], after[f]) {
						t.Errorf("%s was rewritten", f)
					}
				}
			})
		}
	}
}

// TestHalfCA: a CA with one of its files missing is an error naming both;
// the remaining file is not replaced and no new CA is made.
func TestHalfCA(t *testing.T) {
	for _, gone := range []string{CACertFile, CAKeyFile} {
		t.Run(gone, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "pki")
			mustLoad(t, dir, Options{}, t0)
			if err := os.Remove(filepath.Join(dir, gone)); err != nil {
				t.Fatal(err)
			}
			before := readAll(t, dir)
			_, _, err := LoadOrCreate(dir, Options{}, t0)
			if err == nil || !strings.Contains(err.Error(), filepath.Join(dir, gone)) || !strings.Contains(err.Error(), "enrol again") {
				t.Fatalf("err = %v", err)
			}
			after := readAll(t, dir)
			if len(after) != len(before) {
				t.Errorf("files %d, want %d", len(after), len(before))
			}
			for f := range before {
				if !bytes.Equal(before[f], after[f]) {
					t.Errorf("%s was rewritten", f)
				}
			}
		})
	}
}

// TestUnreadableFile: a file that cannot be read is an error naming it.
func TestUnreadableFile(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root reads files whatever their mode")
	}
	dir := filepath.Join(t.TempDir(), "pki")
	mustLoad(t, dir, Options{}, t0)
	path := filepath.Join(dir, CAKeyFile)
	if err := os.Chmod(path, 0); err != nil {
		t.Fatal(err)
	}
	if _, _, err := LoadOrCreate(dir, Options{}, t0); err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("err = %v", err)
	}
}

// TestConcurrentCreate: servers racing to create the CA in one directory
// never replace each other's CA: all that succeed have the one on disk.
func TestConcurrentCreate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pki")
	var wg sync.WaitGroup
	cas := make([]*x509.Certificate, 8)
	for i := range cas {
		wg.Go(func() {
			if a, _, err := LoadOrCreate(dir, Options{}, t0); err == nil {
				cas[i] = a.CA()
			}
		})
	}
	wg.Wait()
	a, _ := mustLoad(t, dir, Options{}, t0)
	for i, ca := range cas {
		if ca != nil && !ca.Equal(a.CA()) {
			t.Errorf("starter %d got a CA that is not on disk", i)
		}
	}
}

// TestServerReissue: the server certificate is re-issued from the same
// CA when less than a third of it is left, when it lacks an asked name,
// or when its pair is broken; otherwise it is kept.
func TestServerReissue(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pki")
	a, _ := mustLoad(t, dir, Options{}, t0)
	caPEM := a.CAPEM()

	steps := []struct {
		name   string
		prep   func()
		opts   Options
		now    time.Time
		reason string // "" for kept
	}{
		{name: "two thirds left", now: t0.Add(200 * day)},
		{name: "a third left", now: t0.Add(250 * day), reason: "less than a third"},
		{name: "renewed is kept", now: t0.Add(250 * day)},
		{name: "new DNS name", opts: Options{DNSNames: []string{"kensa.example"}}, now: t0.Add(251 * day), reason: "lacks names: kensa.example"},
		{name: "same names", opts: Options{DNSNames: []string{"KENSA.example"}}, now: t0.Add(251 * day)},
		{name: "fewer names", now: t0.Add(251 * day)},
		{name: "new IP", opts: Options{IPs: []net.IP{net.ParseIP("10.0.0.5")}}, now: t0.Add(251 * day), reason: "lacks names: 10.0.0.5"},
		{name: "key does not match", now: t0.Add(251 * day), reason: "does not match", prep: func() {
			k, _ := newKey()
			p, _ := KeyPEM(k)
			os.WriteFile(filepath.Join(dir, ServerKeyFile), p, 0o600)
		}},
		{name: "key missing", now: t0.Add(251 * day), reason: ServerKeyFile + " is missing", prep: func() {
			os.Remove(filepath.Join(dir, ServerKeyFile))
		}},
		{name: "cert missing", now: t0.Add(251 * day), reason: ServerCertFile + " is missing", prep: func() {
			os.Remove(filepath.Join(dir, ServerCertFile))
		}},
		{name: "expired", now: t0.Add(3 * 365 * day), reason: "less than a third"},
	}
	for _, s := range steps {
		if s.prep != nil {
			s.prep()
		}
		var before *x509.Certificate
		if _, err := os.Stat(filepath.Join(dir, ServerCertFile)); err == nil {
			before = serverLeaf(t, dir)
		}
		b, ch := mustLoad(t, dir, s.opts, s.now)
		after := serverLeaf(t, dir)
		if !bytes.Equal(b.CAPEM(), caPEM) || !bytes.Equal(readAll(t, dir)[CACertFile], caPEM) {
			t.Fatalf("%s: the CA changed", s.name)
		}
		if !after.Equal(b.ServerCertificate().Leaf) {
			t.Errorf("%s: the returned certificate is not the one on disk", s.name)
		}
		if s.reason == "" {
			if ch.IssuedServer || !after.Equal(before) {
				t.Errorf("%s: re-issued (%q), want kept", s.name, ch.Reason)
			}
			continue
		}
		if !ch.IssuedServer || !strings.Contains(ch.Reason, s.reason) || after.Equal(before) {
			t.Errorf("%s: changes %+v, want re-issued for %q", s.name, ch, s.reason)
		}
		if after.CheckSignatureFrom(a.CA()) != nil || NeedsRenewal(after, s.now) || after.NotBefore.After(s.now) {
			t.Errorf("%s: the new certificate is not from the CA or not current", s.name)
		}
	}
}

// writeCorp makes a "corporate" PKI elsewhere: a CA and a server
// certificate for kensa.corp.example, as a user would bring them.
func writeCorp(t *testing.T, now time.Time) (corp *Authority, dir string) {
	t.Helper()
	dir = filepath.Join(t.TempDir(), "corp")
	corp, _ = mustLoad(t, dir, Options{DNSNames: []string{"kensa.corp.example"}}, now)
	return corp, dir
}

// TestUserServerCert: the user's own server certificate is used as it
// is, never written into the directory; agents still get certificates
// from the directory's CA.
func TestUserServerCert(t *testing.T) {
	corp, corpDir := writeCorp(t, t0)
	opts := Options{CertFile: filepath.Join(corpDir, ServerCertFile), KeyFile: filepath.Join(corpDir, ServerKeyFile)}
	dir := filepath.Join(t.TempDir(), "pki")
	a, ch := mustLoad(t, dir, opts, t0)
	if !ch.CreatedCA || ch.IssuedServer {
		t.Errorf("changes %+v", ch)
	}
	if !a.ServerCertificate().Leaf.Equal(corp.ServerCertificate().Leaf) {
		t.Error("not the user's certificate")
	}
	files := readAll(t, dir)
	if _, ok := files[ServerCertFile]; ok || len(files) != 2 {
		t.Errorf("files written: %d", len(files))
	}
	if a.CA().Equal(corp.CA()) {
		t.Error("agents' CA is the user's server CA")
	}
	// A year and a half on, the user's certificate has expired.
	if _, _, err := LoadOrCreate(dir, opts, t0.Add(550*day)); err == nil || !strings.Contains(err.Error(), "expired") {
		t.Errorf("expired user cert: %v", err)
	}
	// A certificate with another's key.
	bad := opts
	bad.KeyFile = filepath.Join(dir, CAKeyFile)
	if _, _, err := LoadOrCreate(dir, bad, t0); err == nil || !strings.Contains(err.Error(), bad.KeyFile) {
		t.Errorf("mismatched user pair: %v", err)
	}
	if _, _, err := LoadOrCreate(dir, Options{CertFile: opts.CertFile}, t0); err == nil {
		t.Error("a certificate without its key was accepted")
	}
}

// TestUserCA: the user's own CA signs agents and the server certificate;
// no CA is written into the directory; a server certificate from the
// directory's former CA is re-issued.
func TestUserCA(t *testing.T) {
	corp, corpDir := writeCorp(t, t0)
	dir := filepath.Join(t.TempDir(), "pki")
	mustLoad(t, dir, Options{}, t0) // first with its own CA
	own := readAll(t, dir)

	opts := Options{CACertFile: filepath.Join(corpDir, CACertFile), CAKeyFile: filepath.Join(corpDir, CAKeyFile)}
	a, ch := mustLoad(t, dir, opts, t0.Add(day))
	if ch.CreatedCA || !ch.IssuedServer || ch.Reason != "not issued by the CA" {
		t.Errorf("changes %+v", ch)
	}
	if !a.CA().Equal(corp.CA()) {
		t.Error("not the user's CA")
	}
	if !bytes.Equal(readAll(t, dir)[CACertFile], own[CACertFile]) {
		t.Error("the directory's CA was touched")
	}
	if serverLeaf(t, dir).CheckSignatureFrom(corp.CA()) != nil {
		t.Error("server certificate not from the user's CA")
	}
	cert := signAgent(t, a, "agent-7", t0.Add(day), 0)
	if _, err := cert.Verify(x509.VerifyOptions{Roots: corp.CAPool(), CurrentTime: t0.Add(day), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Errorf("agent cert: %v", err)
	}
	if _, _, err := LoadOrCreate(dir, Options{CACertFile: opts.CACertFile}, t0); err == nil {
		t.Error("a CA without its key was accepted")
	}
	// A leaf is not a CA.
	leaf := Options{CACertFile: filepath.Join(corpDir, ServerCertFile), CAKeyFile: filepath.Join(corpDir, ServerKeyFile)}
	if _, _, err := LoadOrCreate(dir, leaf, t0); err == nil || !strings.Contains(err.Error(), "not a CA") {
		t.Errorf("leaf as CA: %v", err)
	}
}

// signAgent makes an agent key and CSR and has the CA sign it.
func signAgent(t *testing.T, a *Authority, id string, now time.Time, validity time.Duration) *x509.Certificate {
	t.Helper()
	key, err := NewAgentKey()
	if err != nil {
		t.Fatal(err)
	}
	csr, err := NewCSR(key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := a.SignAgent(csr, id, now, validity)
	if err != nil {
		t.Fatalf("SignAgent: %v", err)
	}
	return cert
}

// TestSignAgent: what an agent certificate holds, whatever the CSR asked.
func TestSignAgent(t *testing.T) {
	a := newAuthority(t)
	key, _ := NewAgentKey()
	csr, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{
		Subject:  pkix.Name{CommonName: "admin", OrganizationalUnit: []string{"ops"}},
		DNSNames: []string{"kensa.example"},
	}, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := a.SignAgent(csr, "agent-1", t0, 0)
	if err != nil {
		t.Fatal(err)
	}
	switch {
	case cert.Subject.CommonName != "agent-1" || !slices.Equal(cert.Subject.OrganizationalUnit, []string{AgentOU}):
		t.Errorf("subject %s", cert.Subject)
	case !slices.Equal(cert.ExtKeyUsage, []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}) || cert.KeyUsage != x509.KeyUsageDigitalSignature:
		t.Errorf("usages %v %v", cert.ExtKeyUsage, cert.KeyUsage)
	case cert.IsCA || len(cert.DNSNames) > 0:
		t.Error("CA or names taken from the CSR")
	case cert.NotAfter != t0.Add(DefaultAgentValidity) || cert.NotBefore.After(t0):
		t.Errorf("validity %s to %s", cert.NotBefore, cert.NotAfter)
	case !cert.PublicKey.(*ecdsa.PublicKey).Equal(key.Public()):
		t.Error("not the CSR's key")
	case cert.CheckSignatureFrom(a.CA()) != nil:
		t.Error("not signed by the CA")
	}
	if id, serial, ok := a.AgentCertIdentity(cert, t0); !ok || id != "agent-1" || serial != Serial(cert) {
		t.Errorf("AgentCertIdentity = %q %q %v", id, serial, ok)
	}
	// Serials: random, positive, at most 128 bits, distinct.
	seen := map[string]bool{}
	for range 20 {
		s := signAgent(t, a, "agent-1", t0, 0).SerialNumber
		if s.Sign() <= 0 || s.BitLen() > 128 || seen[s.String()] {
			t.Fatalf("serial %s", s)
		}
		seen[s.String()] = true
	}
	if c := signAgent(t, a, "agent-1", t0, 7*day); c.NotAfter != t0.Add(7*day) {
		t.Errorf("7-day cert until %s", c.NotAfter)
	}
	// Near the CA's end, the certificate ends with it.
	late := a.CA().NotAfter.Add(-10 * day)
	if c := signAgent(t, a, "agent-1", late, 0); !c.NotAfter.Equal(a.CA().NotAfter) {
		t.Errorf("cert outlives the CA: %s", c.NotAfter)
	}
	if _, err := a.SignAgent(csr, "agent-1", t0, 2*365*day); err == nil {
		t.Error("a two-year agent certificate was issued")
	}
	for _, id := range []string{"", "a b", "../x", "-x", "é", strings.Repeat("a", 129), "a\n"} {
		if _, err := a.SignAgent(csr, id, t0, 0); err == nil {
			t.Errorf("agent id %q accepted", id)
		}
	}
}

// TestSignAgentRefuses: keys too weak or of the wrong kind, a CSR whose
// signature does not verify, and garbage are refused.
func TestSignAgentRefuses(t *testing.T) {
	a := newAuthority(t)
	gen := func(f func() (crypto.Signer, error)) crypto.Signer {
		k, err := f()
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	ec := func(c elliptic.Curve) crypto.Signer {
		return gen(func() (crypto.Signer, error) { return ecdsa.GenerateKey(c, rand.Reader) })
	}
	rsaKey := func(bits int) crypto.Signer {
		return gen(func() (crypto.Signer, error) { return rsa.GenerateKey(rand.Reader, bits) })
	}
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	keys := []struct {
		name string
		key  crypto.Signer
		ok   bool
	}{
		{"P-256", ec(elliptic.P256()), true},
		{"P-384", ec(elliptic.P384()), true},
		{"Ed25519", ed, true},
		{"RSA 2048", rsaKey(2048), true},
		{"RSA 1024", rsaKey(1024), false},
		{"P-224", ec(elliptic.P224()), false},
		{"P-521", ec(elliptic.P521()), false},
	}
	for _, k := range keys {
		csr, err := NewCSR(k.key)
		if err != nil {
			t.Fatalf("%s: %v", k.name, err)
		}
		_, err = a.SignAgent(csr, "agent-1", t0, 0)
		if (err == nil) != k.ok {
			t.Errorf("%s: err = %v, want ok %v", k.name, err, k.ok)
		}
	}

	key, _ := NewAgentKey()
	good, _ := NewCSR(key)
	// Flip a bit of the signature, the last field of the DER.
	badSig := slices.Clone(good)
	badSig[len(badSig)-3] ^= 0x01
	if _, err := x509.ParseCertificateRequest(badSig); err != nil {
		t.Fatalf("the tampered CSR should still parse: %v", err)
	}
	if _, err := a.SignAgent(badSig, "agent-1", t0, 0); err == nil || !strings.Contains(err.Error(), "signature") {
		t.Errorf("bad signature: %v", err)
	}
	// A CSR for one key signed by another: the agent does not hold the
	// key it asks a certificate for.
	other, _ := NewAgentKey()
	swapped := csrWithKey(t, key.Public(), other)
	if _, err := a.SignAgent(swapped, "agent-1", t0, 0); err == nil {
		t.Error("a CSR not signed by its key was accepted")
	}
	for name, der := range map[string][]byte{"empty": nil, "garbage": []byte("hello"), "huge": make([]byte, maxCSR+1)} {
		if _, err := a.SignAgent(der, "agent-1", t0, 0); err == nil {
			t.Errorf("%s CSR accepted", name)
		}
	}
}

// csrWithKey is a CSR carrying pub but signed by signer: a valid CSR for
// signer's key with the public key swapped, so its signature fails.
func csrWithKey(t *testing.T, pub crypto.PublicKey, signer crypto.Signer) []byte {
	t.Helper()
	der, err := NewCSR(signer)
	if err != nil {
		t.Fatal(err)
	}
	oldPub, _ := x509.MarshalPKIXPublicKey(signer.Public())
	newPub, _ := x509.MarshalPKIXPublicKey(pub)
	if len(oldPub) != len(newPub) {
		t.Fatal("keys of different sizes")
	}
	out := bytes.Replace(der, oldPub, newPub, 1)
	if bytes.Equal(out, der) {
		t.Fatal("public key not found in the CSR")
	}
	return out
}

// TestNeedsRenewal: true once less than a third of the validity is left,
// and after the end; false before.
func TestNeedsRenewal(t *testing.T) {
	c := &x509.Certificate{NotBefore: t0, NotAfter: t0.Add(30 * day)}
	cases := []struct {
		now  time.Time
		want bool
	}{
		{t0.Add(-day), false},
		{t0, false},
		{t0.Add(20*day - time.Nanosecond), false},
		{t0.Add(20 * day), false}, // exactly a third left
		{t0.Add(20*day + time.Nanosecond), true},
		{t0.Add(30 * day), true},
		{t0.Add(40 * day), true},
	}
	for _, tc := range cases {
		if got := NeedsRenewal(c, tc.now); got != tc.want {
			t.Errorf("NeedsRenewal at %s = %v, want %v", tc.now.Sub(t0), got, tc.want)
		}
	}
	// An agent certificate as issued (backdated): still fresh at issue.
	a := newAuthority(t)
	if NeedsRenewal(signAgent(t, a, "agent-1", t0, 0), t0) {
		t.Error("a new agent certificate needs renewal")
	}
}

// TestFingerprint: the format, its agreement with openssl's on a fixed
// certificate, and its stability across reloads.
func TestFingerprint(t *testing.T) {
	b, err := os.ReadFile("testdata/fingerprint.crt")
	if err != nil {
		t.Fatal(err)
	}
	c, err := parseCert("fingerprint.crt", b, false)
	if err != nil {
		t.Fatal(err)
	}
	// openssl x509 -in testdata/fingerprint.crt -noout -fingerprint -sha256
	const openssl = "45:77:08:CF:E4:83:09:5E:DB:40:1B:5E:54:48:D2:6A:61:5C:A7:58:EF:33:9D:1C:8B:60:44:DA:FC:A8:09:2B"
	want := "SHA256:" + strings.ToLower(strings.ReplaceAll(openssl, ":", ""))
	if got := Fingerprint(c); got != want {
		t.Errorf("Fingerprint = %s, want %s", got, want)
	}
	if got, ok := FindPinned([]*x509.Certificate{c}, "sha256:"+openssl); !ok || got != c {
		t.Error("FindPinned with openssl's form failed")
	}
	for _, bad := range []string{"", "SHA256:", "SHA1:" + want[7:], want[:len(want)-2], want + "00", "SHA256:zz" + want[9:]} {
		if _, err := PinnedTLSConfig(bad, "localhost"); err == nil {
			t.Errorf("pin %q accepted", bad)
		}
	}

	dir := filepath.Join(t.TempDir(), "pki")
	a1, _ := mustLoad(t, dir, Options{}, t0)
	a2, _ := mustLoad(t, dir, Options{}, t0.Add(day))
	sum := sha256.Sum256(a1.CA().Raw)
	if f := Fingerprint(a1.CA()); f != "SHA256:"+hex.EncodeToString(sum[:]) || f != Fingerprint(a2.CA()) {
		t.Errorf("CA fingerprint %s, reloaded %s", f, Fingerprint(a2.CA()))
	}
}

// TestKeyPairFiles: what an agent saves of its enrolment round-trips,
// with its key 0600, and a mismatched pair is refused.
func TestKeyPairFiles(t *testing.T) {
	a := newAuthority(t)
	key, _ := NewAgentKey()
	csr, _ := NewCSR(key)
	cert, err := a.SignAgent(csr, "agent-1", t0, 0)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cp, kp := filepath.Join(dir, "agent.crt"), filepath.Join(dir, "agent.key")
	if err := WriteKeyPair(cp, kp, cert, key); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(kp); fi.Mode().Perm() != 0o600 {
		t.Errorf("key mode %o", fi.Mode().Perm())
	}
	pair, err := LoadKeyPair(cp, kp)
	if err != nil {
		t.Fatal(err)
	}
	if !pair.Leaf.Equal(cert) || !pair.PrivateKey.(*ecdsa.PrivateKey).Equal(key) {
		t.Error("round trip changed the pair")
	}
	other, _ := NewAgentKey()
	if err := WriteKeyPair(cp, kp, cert, other); err == nil {
		t.Error("mismatched pair written")
	}
	if _, err := LoadKeyPair(cp, filepath.Join(dir, "missing")); err == nil || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing key: %v", err)
	}
}
