// Package pki is the Kensa server's own certificate authority and the TLS
// configurations of the server, its agents and its API clients.
//
// The server needs no outside PKI: on first start it creates a CA and a
// server certificate under its data directory (or uses the ones the user
// gives it), agents enrol by sending a certificate signing request (their
// key never leaves the host) and get a short-lived client certificate,
// and from then on every agent connection is mutual TLS. API users have
// no certificates (they carry tokens), so the server asks for a client
// certificate without requiring one, and AgentIdentity says whether a
// connection is an agent's.
//
// The CA is the one thing that must never be lost or silently replaced:
// every enrolled agent trusts it and holds a certificate from it. So a CA
// file that is corrupt, unreadable or half missing is an error that
// names the file, never a reason to create a new CA; the CA files are
// created with no-clobber links; and only the server certificate, which
// the CA can always re-issue, is ever rewritten.
//
// Nothing here reads the clock: every time is a parameter, so tests (and
// callers) decide what "now" is. The returned tls.Configs leave Time unset
// (the system clock); set it to inject another.
package pki

import (
	"crypto"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Files of the server's PKI directory (the server's --data DIR/pki).
const (
	CACertFile     = "ca.crt"
	CAKeyFile      = "ca.key"
	ServerCertFile = "server.crt"
	ServerKeyFile  = "server.key"
)

// Validities of what the authority issues.
const (
	// CAValidity is long because replacing the CA means every agent
	// enrols again.
	CAValidity = 10 * 365 * 24 * time.Hour
	// ServerValidity is a year; the server certificate is re-issued at
	// start once less than a third of it is left.
	ServerValidity = 365 * 24 * time.Hour
	// DefaultAgentValidity is short because agents rotate their
	// certificate themselves (NeedsRenewal), and a short life bounds
	// what a stolen agent key is worth.
	DefaultAgentValidity = 30 * 24 * time.Hour
	// MaxAgentValidity bounds what a caller may ask SignAgent for.
	MaxAgentValidity = 365 * 24 * time.Hour
)

// AgentOU is the organisational unit of every agent certificate: with
// the client-auth usage it is what tells an agent's certificate from any
// other certificate a user's own CA may have issued.
const AgentOU = "kensa-agent"

// backdate moves NotBefore into the past so that a host whose clock is a
// little behind the server's still accepts a certificate just issued.
const backdate = 5 * time.Minute

// Options says which names the server certificate must carry and whether
// the user brings their own certificates.
type Options struct {
	// DNSNames and IPs are the names agents and clients reach the server
	// by. "localhost", 127.0.0.1 and ::1 are always added. A DNS name
	// that parses as an IP address counts as an IP.
	DNSNames []string
	IPs      []net.IP

	// CertFile and KeyFile, when given, are the user's own server
	// certificate (PEM, the leaf first, then its chain) and key. They are
	// used as they are: never re-issued, never copied into the directory.
	CertFile, KeyFile string

	// CACertFile and CAKeyFile, when given, are the user's own CA (PEM);
	// it signs agent certificates, and the server certificate unless
	// CertFile is given, instead of a CA in the directory.
	CACertFile, CAKeyFile string
}

// Changes says what LoadOrCreate wrote, so the caller can log it.
type Changes struct {
	// CreatedCA: there was no CA and one was created.
	CreatedCA bool
	// IssuedServer: a server certificate was issued, for Reason ("no
	// server certificate", "less than a third of its validity left",
	// "lacks names: ...", ...).
	IssuedServer bool
	Reason       string
}

// Authority is the server's CA and its server certificate. It is safe
// for concurrent use: nothing in it changes after LoadOrCreate.
type Authority struct {
	ca     *x509.Certificate
	caKey  crypto.Signer
	server tls.Certificate
}

// LoadOrCreate loads the PKI in dir, creating what is missing: the CA
// (unless the user gives one in opts) and the server certificate (unless
// the user gives one). It is idempotent. An existing CA file that cannot
// be read or parsed, or a CA with only one of its two files, is an error
// naming the file and nothing is written. An existing server certificate
// file that cannot be read or parsed is an error too; one that is sound
// but close to expiry, lacks an asked name, does not match its key or
// was not issued by the CA is re-issued, and Changes says so.
func LoadOrCreate(dir string, opts Options, now time.Time) (*Authority, Changes, error) {
	var ch Changes
	if err := ensureDir(dir); err != nil {
		return nil, ch, err
	}
	dnsNames, ips := serverNames(opts)

	a := &Authority{}
	var err error
	switch {
	case opts.CACertFile != "" || opts.CAKeyFile != "":
		if opts.CACertFile == "" || opts.CAKeyFile == "" {
			return nil, ch, errors.New("pki: give both the CA certificate and its key, or neither")
		}
		a.ca, a.caKey, err = loadCA(opts.CACertFile, opts.CAKeyFile, now)
	default:
		a.ca, a.caKey, ch.CreatedCA, err = loadOrCreateCA(dir, now)
	}
	if err != nil {
		return nil, ch, err
	}

	if opts.CertFile != "" || opts.KeyFile != "" {
		if opts.CertFile == "" || opts.KeyFile == "" {
			return nil, ch, errors.New("pki: give both the server certificate and its key, or neither")
		}
		a.server, err = loadUserServer(opts.CertFile, opts.KeyFile, now)
		if err != nil {
			return nil, ch, err
		}
		return a, ch, nil
	}

	certPath, keyPath := filepath.Join(dir, ServerCertFile), filepath.Join(dir, ServerKeyFile)
	server, reason, err := a.loadServer(certPath, keyPath, dnsNames, ips, now)
	if err != nil {
		return nil, ch, err
	}
	if reason == "" {
		a.server = server
		return a, ch, nil
	}
	a.server, err = a.issueServer(certPath, keyPath, dnsNames, ips, now)
	if err != nil {
		return nil, ch, err
	}
	ch.IssuedServer, ch.Reason = true, reason
	return a, ch, nil
}

// CA is the certificate that signs agent certificates (and, unless the
// user gave their own, the server certificate).
func (a *Authority) CA() *x509.Certificate { return a.ca }

// CAPEM is the CA certificate in PEM, what an agent or a CLI user saves
// as its trust anchor.
func (a *Authority) CAPEM() []byte { return CertPEM(a.ca) }

// CAPool is a new pool holding only the CA; new each call because a
// CertPool can be changed by whoever holds it.
func (a *Authority) CAPool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(a.ca)
	return p
}

// ServerCertificate is the server's certificate, with its chain (the CA
// included, so an agent pinning the CA's fingerprint finds it in the
// handshake) and key.
func (a *Authority) ServerCertificate() tls.Certificate { return a.server }

// NeedsRenewal reports whether less than a third of the certificate's
// validity is left at now (or it has expired): the point at which an
// agent asks for a new certificate and the server re-issues its own,
// leaving room for an agent that was off for a while.
func NeedsRenewal(cert *x509.Certificate, now time.Time) bool {
	total := cert.NotAfter.Sub(cert.NotBefore)
	left := cert.NotAfter.Sub(now)
	return left < total/3
}

// Fingerprint is "SHA256:" and the hex SHA-256 of the certificate's DER,
// what a join command prints so that an agent can pin the CA on first
// contact.
func Fingerprint(cert *x509.Certificate) string {
	sum := sha256.Sum256(cert.Raw)
	return "SHA256:" + hex.EncodeToString(sum[:])
}

// Serial is a certificate's serial number as lower-case hex, the form
// AgentIdentity returns, for logs and revocation records.
func Serial(cert *x509.Certificate) string { return cert.SerialNumber.Text(16) }

// serverNames is the names the server certificate must carry: the asked
// ones and the loopback names, lower-case, without duplicates.
func serverNames(opts Options) ([]string, []net.IP) {
	dns := []string{"localhost"}
	ips := []net.IP{net.IPv4(127, 0, 0, 1).To4(), net.IPv6loopback}
	addIP := func(ip net.IP) {
		if v4 := ip.To4(); v4 != nil {
			ip = v4
		}
		if !slices.ContainsFunc(ips, ip.Equal) {
			ips = append(ips, ip)
		}
	}
	for _, n := range opts.DNSNames {
		n = strings.ToLower(strings.TrimSpace(n))
		switch ip := net.ParseIP(n); {
		case n == "":
		case ip != nil:
			addIP(ip)
		case !slices.Contains(dns, n):
			dns = append(dns, n)
		}
	}
	for _, ip := range opts.IPs {
		if ip != nil {
			addIP(ip)
		}
	}
	return dns, ips
}

// missingNames lists the names the certificate lacks.
func missingNames(cert *x509.Certificate, dns []string, ips []net.IP) []string {
	var missing []string
	for _, n := range dns {
		if !slices.ContainsFunc(cert.DNSNames, func(have string) bool { return strings.EqualFold(have, n) }) {
			missing = append(missing, n)
		}
	}
	for _, ip := range ips {
		if !slices.ContainsFunc(cert.IPAddresses, ip.Equal) {
			missing = append(missing, ip.String())
		}
	}
	return missing
}

// loadServer loads the server certificate in the directory, and says why
// it must be re-issued ("" when it may be kept). Files that exist but
// cannot be read or parsed are errors, as for the CA: the operator should
// see them, even though the CA could re-issue the pair.
func (a *Authority) loadServer(certPath, keyPath string, dns []string, ips []net.IP, now time.Time) (tls.Certificate, string, error) {
	certPEM, certErr := readSmall(certPath)
	keyPEM, keyErr := readSmall(keyPath)
	for _, e := range []error{certErr, keyErr} {
		if e != nil && !errors.Is(e, fs.ErrNotExist) {
			return tls.Certificate{}, "", e
		}
	}
	var cert *x509.Certificate
	var key crypto.Signer
	var err error
	if certErr == nil {
		if cert, err = parseCertPEM(certPath, certPEM); err != nil {
			return tls.Certificate{}, "", err
		}
	}
	if keyErr == nil {
		if key, err = parseKeyPEM(keyPath, keyPEM); err != nil {
			return tls.Certificate{}, "", err
		}
		if err := tightenKeyMode(keyPath); err != nil {
			return tls.Certificate{}, "", err
		}
	}
	switch {
	case cert == nil && key == nil:
		return tls.Certificate{}, "no server certificate", nil
	case cert == nil:
		return tls.Certificate{}, ServerCertFile + " is missing", nil
	case key == nil:
		return tls.Certificate{}, ServerKeyFile + " is missing", nil
	case !publicKeyMatches(cert, key):
		// What a crash between writing the new key and the new
		// certificate leaves.
		return tls.Certificate{}, ServerKeyFile + " does not match " + ServerCertFile, nil
	case cert.CheckSignatureFrom(a.ca) != nil:
		return tls.Certificate{}, "not issued by the CA", nil
	case !slices.Contains(cert.ExtKeyUsage, x509.ExtKeyUsageServerAuth):
		return tls.Certificate{}, "not for server authentication", nil
	case NeedsRenewal(cert, now):
		return tls.Certificate{}, fmt.Sprintf("expires %s: less than a third of its validity left", cert.NotAfter.UTC().Format(time.RFC3339)), nil
	}
	if missing := missingNames(cert, dns, ips); len(missing) > 0 {
		return tls.Certificate{}, "lacks names: " + strings.Join(missing, ", "), nil
	}
	return tls.Certificate{
		Certificate: [][]byte{cert.Raw, a.ca.Raw},
		PrivateKey:  key,
		Leaf:        cert,
	}, "", nil
}

// loadUserServer loads the user's own server certificate and key.
func loadUserServer(certFile, keyFile string, now time.Time) (tls.Certificate, error) {
	pair, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("pki: server certificate %s and key %s: %w", certFile, keyFile, err)
	}
	leaf := pair.Leaf
	if leaf == nil {
		if leaf, err = x509.ParseCertificate(pair.Certificate[0]); err != nil {
			return tls.Certificate{}, fmt.Errorf("pki: server certificate %s: %w", certFile, err)
		}
		pair.Leaf = leaf
	}
	if now.After(leaf.NotAfter) {
		return tls.Certificate{}, fmt.Errorf("pki: server certificate %s expired at %s", certFile, leaf.NotAfter.UTC().Format(time.RFC3339))
	}
	return pair, nil
}

// loadCA loads the user's own CA: the first certificate of its file (a
// bundle may follow) and its key.
func loadCA(certFile, keyFile string, now time.Time) (*x509.Certificate, crypto.Signer, error) {
	certPEM, err := readSmall(certFile)
	if err != nil {
		return nil, nil, err
	}
	keyPEM, err := readSmall(keyFile)
	if err != nil {
		return nil, nil, err
	}
	cert, err := parseCert(certFile, certPEM, false)
	if err != nil {
		return nil, nil, err
	}
	key, err := parseKey(keyFile, keyPEM, false)
	if err != nil {
		return nil, nil, err
	}
	return checkCA(certFile, cert, keyFile, key, now)
}

// loadOrCreateCA loads the CA in dir, or creates it when neither of its
// files exists.
func loadOrCreateCA(dir string, now time.Time) (*x509.Certificate, crypto.Signer, bool, error) {
	certPath, keyPath := filepath.Join(dir, CACertFile), filepath.Join(dir, CAKeyFile)
	certPEM, certErr := readSmall(certPath)
	keyPEM, keyErr := readSmall(keyPath)
	certMissing, keyMissing := errors.Is(certErr, fs.ErrNotExist), errors.Is(keyErr, fs.ErrNotExist)
	switch {
	case certErr != nil && !certMissing:
		return nil, nil, false, certErr
	case keyErr != nil && !keyMissing:
		return nil, nil, false, keyErr
	case certMissing && keyMissing:
		cert, key, err := createCA(certPath, keyPath, now)
		return cert, key, err == nil, err
	case certMissing:
		return nil, nil, false, fmt.Errorf("pki: %s exists but %s is missing: restore %s from a backup, or remove %s to create a new CA (every enrolled agent must then enrol again)",
			keyPath, certPath, certPath, keyPath)
	case keyMissing:
		return nil, nil, false, fmt.Errorf("pki: %s exists but %s is missing: restore %s from a backup, or remove %s to create a new CA (every enrolled agent must then enrol again)",
			certPath, keyPath, keyPath, certPath)
	}
	if err := tightenKeyMode(keyPath); err != nil {
		return nil, nil, false, err
	}
	cert, err := parseCertPEM(certPath, certPEM)
	if err != nil {
		return nil, nil, false, err
	}
	key, err := parseKeyPEM(keyPath, keyPEM)
	if err != nil {
		return nil, nil, false, err
	}
	cert, key, err = checkCA(certPath, cert, keyPath, key, now)
	return cert, key, false, err
}

// checkCA checks that a CA can sign with its key at now.
func checkCA(certPath string, cert *x509.Certificate, keyPath string, key crypto.Signer, now time.Time) (*x509.Certificate, crypto.Signer, error) {
	if !cert.IsCA || !cert.BasicConstraintsValid {
		return nil, nil, fmt.Errorf("pki: %s: not a CA certificate", certPath)
	}
	if cert.KeyUsage != 0 && cert.KeyUsage&x509.KeyUsageCertSign == 0 {
		return nil, nil, fmt.Errorf("pki: %s: the CA may not sign certificates (no certSign key usage)", certPath)
	}
	if !publicKeyMatches(cert, key) {
		return nil, nil, fmt.Errorf("pki: %s does not match %s", keyPath, certPath)
	}
	if now.After(cert.NotAfter) {
		return nil, nil, fmt.Errorf("pki: CA %s expired at %s", certPath, cert.NotAfter.UTC().Format(time.RFC3339))
	}
	return cert, key, nil
}

// publicKeyMatches reports whether key is the private half of the
// certificate's public key.
func publicKeyMatches(cert *x509.Certificate, key crypto.Signer) bool {
	pub, ok := key.Public().(interface{ Equal(crypto.PublicKey) bool })
	return ok && pub.Equal(cert.PublicKey)
}
