package pki

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
)

// ServerTLSConfig is the server's TLS configuration: TLS 1.3 only, its
// certificate, and a client certificate asked for but not required
// (agents send one, API users do not), verified against the CA when
// given. A certificate from another CA, expired, or not for client
// authentication fails the handshake; AgentIdentity then tells agents
// from users.
func (a *Authority) ServerTLSConfig() *tls.Config {
	return &tls.Config{
		Certificates: []tls.Certificate{a.server},
		ClientAuth:   tls.VerifyClientCertIfGiven,
		ClientCAs:    a.CAPool(),
		MinVersion:   tls.VersionTLS13,
	}
}

// StaticClientCert is a GetClientCertificate callback that always
// answers with cert.
func StaticClientCert(cert tls.Certificate) func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
	return func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &cert, nil }
}

// AgentTLSConfig is an agent's TLS configuration: TLS 1.3, the server
// verified against roots (the server's CA, saved at enrolment; nil means
// the system's roots) for serverName ("" means the host of the URL
// dialled), and the agent's certificate from getCert, asked for at each
// handshake so that the agent can rotate its certificate without
// building a new client.
func AgentTLSConfig(getCert func(*tls.CertificateRequestInfo) (*tls.Certificate, error), roots *x509.CertPool, serverName string) *tls.Config {
	return &tls.Config{
		GetClientCertificate: getCert,
		RootCAs:              roots,
		ServerName:           serverName,
		MinVersion:           tls.VersionTLS13,
	}
}

// ClientTLSConfig is a CLI user's TLS configuration: TLS 1.3, the server
// verified against roots (the file given with --ca; nil means the
// system's roots), no client certificate (users carry a token).
func ClientTLSConfig(roots *x509.CertPool) *tls.Config {
	return &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS13}
}

// PinnedTLSConfig is an agent's TLS configuration for its first contact,
// before it has the server's CA: the server is trusted if the chain it
// presents holds a CA certificate with the fingerprint pin (what the
// join command printed) and its certificate verifies from that CA for
// serverName (the host of the server's URL; required, because the name
// a connection was made to is not known here when it is an IP). After the handshake, FindPinned on the peer's
// certificates is the CA to save. pin is as Fingerprint writes it;
// upper-case hex and colons, as other tools print it, are accepted.
func PinnedTLSConfig(pin, serverName string) (*tls.Config, error) {
	want, err := parsePin(pin)
	if err != nil {
		return nil, err
	}
	if serverName == "" {
		return nil, errors.New("pki: pinned TLS: no server name to verify the server's certificate for")
	}
	cfg := &tls.Config{
		ServerName: serverName,
		MinVersion: tls.VersionTLS13,
		// Verification is VerifyConnection's, against the pinned CA:
		// there is no trust anchor yet to verify the usual way with.
		InsecureSkipVerify: true,
	}
	cfg.VerifyConnection = func(cs tls.ConnectionState) error {
		ca := findPinned(cs.PeerCertificates, want)
		if ca == nil {
			return fmt.Errorf("pki: the server presented no CA certificate with fingerprint %s", want)
		}
		roots := x509.NewCertPool()
		roots.AddCert(ca)
		inter := x509.NewCertPool()
		for _, c := range cs.PeerCertificates[1:] {
			inter.AddCert(c)
		}
		var now time.Time // zero: x509 uses the system clock
		if cfg.Time != nil {
			now = cfg.Time()
		}
		_, err := cs.PeerCertificates[0].Verify(x509.VerifyOptions{
			Roots:         roots,
			Intermediates: inter,
			DNSName:       serverName,
			CurrentTime:   now,
			KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		})
		if err != nil {
			return fmt.Errorf("pki: server certificate: %w", err)
		}
		return nil
	}
	return cfg, nil
}

// FindPinned is the CA certificate among certs whose fingerprint is pin.
func FindPinned(certs []*x509.Certificate, pin string) (*x509.Certificate, bool) {
	want, err := parsePin(pin)
	if err != nil {
		return nil, false
	}
	ca := findPinned(certs, want)
	return ca, ca != nil
}

func findPinned(certs []*x509.Certificate, want string) *x509.Certificate {
	for _, c := range certs {
		if c.IsCA && Fingerprint(c) == want {
			return c
		}
	}
	return nil
}

// parsePin normalises a fingerprint to Fingerprint's form.
func parsePin(pin string) (string, error) {
	prefix, hexPart, ok := strings.Cut(strings.TrimSpace(pin), ":")
	if !ok || !strings.EqualFold(prefix, "SHA256") {
		return "", fmt.Errorf("pki: fingerprint %q: want SHA256:<64 hex digits>", pin)
	}
	hexPart = strings.ToLower(strings.ReplaceAll(hexPart, ":", ""))
	if b, err := hex.DecodeString(hexPart); err != nil || len(b) != 32 {
		return "", fmt.Errorf("pki: fingerprint %q: want SHA256:<64 hex digits>", pin)
	}
	return "SHA256:" + hexPart, nil
}
