package pki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"fmt"
	"math/big"
	"net"
	"regexp"
	"slices"
	"time"
)

// agentIDPattern is what an agent id may be: it becomes a certificate's
// common name and shows in logs, so no spaces or control characters.
var agentIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$`)

// maxCSR bounds a certificate request: a real one is well under 2 KiB
// (RSA 8192 included).
const maxCSR = 16 << 10

// newKey makes the P-256 key of everything the authority issues to
// itself: P-256 because every TLS stack speaks it and it is fast.
func newKey() (*ecdsa.PrivateKey, error) {
	return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
}

// NewAgentKey makes an agent's private key. The agent makes it and keeps
// it: only the CSR made from it (NewCSR) goes to the server.
func NewAgentKey() (*ecdsa.PrivateKey, error) {
	k, err := newKey()
	if err != nil {
		return nil, fmt.Errorf("pki: agent key: %w", err)
	}
	return k, nil
}

// NewCSR makes a certificate signing request (DER) for key. Its subject
// is empty: the server decides the agent's identity (SignAgent), not the
// agent.
func NewCSR(key crypto.Signer) ([]byte, error) {
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{}, key)
	if err != nil {
		return nil, fmt.Errorf("pki: certificate request: %w", err)
	}
	return der, nil
}

// newSerial is a random 128-bit serial: unpredictable, so a forged
// certificate cannot be made to collide with an issued one, and unique
// without a counter to keep.
func newSerial() (*big.Int, error) {
	b := make([]byte, 16)
	for {
		if _, err := rand.Read(b); err != nil {
			return nil, fmt.Errorf("pki: serial: %w", err)
		}
		if s := new(big.Int).SetBytes(b); s.Sign() > 0 {
			return s, nil
		}
	}
}

// createCA creates a self-signed CA and writes it, key first, each file
// linked into place only if absent, so two servers starting at once on
// one directory cannot replace each other's CA.
func createCA(certPath, keyPath string, now time.Time) (*x509.Certificate, crypto.Signer, error) {
	key, err := newKey()
	if err != nil {
		return nil, nil, fmt.Errorf("pki: CA key: %w", err)
	}
	serial, err := newSerial()
	if err != nil {
		return nil, nil, err
	}
	id := make([]byte, 4)
	if _, err := rand.Read(id); err != nil {
		return nil, nil, fmt.Errorf("pki: CA id: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		// The random id tells one server's CA from another's when a
		// user trusts several.
		Subject:               pkix.Name{CommonName: "Kensa CA " + hex.EncodeToString(id), Organization: []string{"Kensa"}},
		NotBefore:             now.Add(-backdate),
		NotAfter:              now.Add(CAValidity),
		IsCA:                  true,
		BasicConstraintsValid: true,
		// It signs leaf certificates only: no intermediate CA can hang
		// from it.
		MaxPathLenZero: true,
		KeyUsage:       x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, nil, fmt.Errorf("pki: create CA: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, fmt.Errorf("pki: create CA: %w", err)
	}
	keyPEM, err := KeyPEM(key)
	if err != nil {
		return nil, nil, err
	}
	// Key first: a crash before the certificate is written leaves a key
	// alone, which LoadOrCreate reports rather than mistaking for "no
	// CA yet".
	if err := writeNew(keyPath, keyPEM, keyMode); err != nil {
		return nil, nil, err
	}
	if err := writeNew(certPath, CertPEM(cert), certMode); err != nil {
		return nil, nil, err
	}
	return cert, key, nil
}

// issueServer issues a server certificate from the CA with a new key and
// writes it, key first: a crash in between leaves a pair that does not
// match, which the next start re-issues.
func (a *Authority) issueServer(certPath, keyPath string, dns []string, ips []net.IP, now time.Time) (tls.Certificate, error) {
	key, err := newKey()
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("pki: server key: %w", err)
	}
	serial, err := newSerial()
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "Kensa server", Organization: []string{"Kensa"}},
		DNSNames:              dns,
		IPAddresses:           ips,
		NotBefore:             now.Add(-backdate),
		NotAfter:              a.clip(now.Add(ServerValidity)),
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, a.ca, key.Public(), a.caKey)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("pki: issue server certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("pki: issue server certificate: %w", err)
	}
	keyPEM, err := KeyPEM(key)
	if err != nil {
		return tls.Certificate{}, err
	}
	if err := writeAtomic(keyPath, keyPEM, keyMode); err != nil {
		return tls.Certificate{}, err
	}
	if err := writeAtomic(certPath, CertPEM(cert), certMode); err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der, a.ca.Raw}, PrivateKey: key, Leaf: cert}, nil
}

// clip keeps a certificate's end within the CA's: past it, the
// certificate would not verify anyway.
func (a *Authority) clip(notAfter time.Time) time.Time {
	if notAfter.After(a.ca.NotAfter) {
		return a.ca.NotAfter
	}
	return notAfter
}

// SignAgent issues the client certificate of agent agentID for a
// certificate request (DER) the agent made with its own key. The
// request's signature must verify (the agent holds the key) and its key
// must be ECDSA P-256 or P-384, Ed25519, or RSA of 2048 to 8192 bits.
// Nothing else of the request is used: the subject is CN=agentID,
// OU=AgentOU, the only usage is client authentication, and the serial is
// random. validity <= 0 means DefaultAgentValidity.
func (a *Authority) SignAgent(csrDER []byte, agentID string, now time.Time, validity time.Duration) (*x509.Certificate, error) {
	if !agentIDPattern.MatchString(agentID) {
		return nil, fmt.Errorf("pki: agent id %q: want 1 to 128 letters, digits, '.', '_', ':' or '-'", agentID)
	}
	switch {
	case validity <= 0:
		validity = DefaultAgentValidity
	case validity > MaxAgentValidity:
		return nil, fmt.Errorf("pki: agent certificate validity %s: longer than %s", validity, MaxAgentValidity)
	}
	if len(csrDER) > maxCSR {
		return nil, fmt.Errorf("pki: certificate request: larger than %d bytes", maxCSR)
	}
	csr, err := x509.ParseCertificateRequest(csrDER)
	if err != nil {
		return nil, fmt.Errorf("pki: certificate request: %w", err)
	}
	if err := csr.CheckSignature(); err != nil {
		// The requester does not hold the key it asks a certificate for.
		return nil, fmt.Errorf("pki: certificate request signature: %w", err)
	}
	if err := checkAgentKey(csr.PublicKey); err != nil {
		return nil, fmt.Errorf("pki: certificate request: %w", err)
	}
	serial, err := newSerial()
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: agentID, OrganizationalUnit: []string{AgentOU}},
		NotBefore:             now.Add(-backdate),
		NotAfter:              a.clip(now.Add(validity)),
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, a.ca, csr.PublicKey, a.caKey)
	if err != nil {
		return nil, fmt.Errorf("pki: sign agent %s: %w", agentID, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("pki: sign agent %s: %w", agentID, err)
	}
	return cert, nil
}

// checkAgentKey accepts the keys an agent may hold: ones that are strong
// today and that every TLS 1.3 stack can sign with.
func checkAgentKey(pub crypto.PublicKey) error {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		if k.Curve != elliptic.P256() && k.Curve != elliptic.P384() {
			return fmt.Errorf("ECDSA key on %s: want P-256 or P-384", k.Curve.Params().Name)
		}
	case ed25519.PublicKey:
	case *rsa.PublicKey:
		if n := k.N.BitLen(); n < 2048 || n > 8192 {
			return fmt.Errorf("RSA key of %d bits: want 2048 to 8192", n)
		}
	default:
		return fmt.Errorf("key of type %T: want ECDSA P-256 or P-384, Ed25519, or RSA", pub)
	}
	return nil
}

// AgentIdentity says which agent a TLS connection to the server belongs
// to: the common name and serial (hex) of the client certificate, if the
// handshake verified one that chains to the CA and is an agent's (OU
// AgentOU, client-auth usage). ok is false for a connection without a
// client certificate, which is how API users connect.
func (a *Authority) AgentIdentity(state *tls.ConnectionState) (agentID, serial string, ok bool) {
	if state == nil {
		return "", "", false
	}
	for _, chain := range state.VerifiedChains {
		if len(chain) < 2 || !chain[len(chain)-1].Equal(a.ca) {
			continue
		}
		if id, ok := agentOf(chain[0]); ok {
			return id, Serial(chain[0]), true
		}
	}
	return "", "", false
}

// AgentCertIdentity is AgentIdentity for a certificate got some other way
// than a handshake: it verifies the certificate against the CA at now
// first.
func (a *Authority) AgentCertIdentity(cert *x509.Certificate, now time.Time) (agentID, serial string, ok bool) {
	if cert == nil {
		return "", "", false
	}
	_, err := cert.Verify(x509.VerifyOptions{
		Roots:       a.CAPool(),
		CurrentTime: now,
		KeyUsages:   []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	})
	if err != nil {
		return "", "", false
	}
	id, ok := agentOf(cert)
	if !ok {
		return "", "", false
	}
	return id, Serial(cert), true
}

// agentOf checks the marks of an agent certificate: the OU, the explicit
// client-auth usage (Verify also accepts "any usage"), not a CA, and a
// common name that is an agent id.
func agentOf(cert *x509.Certificate) (string, bool) {
	isAgent := !cert.IsCA &&
		slices.Contains(cert.Subject.OrganizationalUnit, AgentOU) &&
		slices.Contains(cert.ExtKeyUsage, x509.ExtKeyUsageClientAuth) &&
		agentIDPattern.MatchString(cert.Subject.CommonName)
	if !isAgent {
		return "", false
	}
	return cert.Subject.CommonName, true
}
