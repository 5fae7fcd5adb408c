package agent

import (
	"context"
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/kensa-dev/kensa/internal/agentapi"
	"github.com/kensa-dev/kensa/internal/pki"
)

// API paths the agent calls.
const (
	enrolPath     = "/api/v1/enrol"
	heartbeatPath = "/api/v1/agent/heartbeat"
	blobsPath     = "/api/v1/agent/blobs/" // + the SHA-256 of the uncompressed document
	uploadsPath   = "/api/v1/agent/uploads"
	donePath      = "/api/v1/agent/done"
)

// ErrNoTrust is the refusal to enrol without a way to verify the
// server: the join token would go to whoever answers.
var ErrNoTrust = errors.New("refusing to enrol over a connection whose server cannot be verified: give --ca FILE (the server's CA certificate) or --ca-fingerprint SHA256:... (printed by kensa server join-token create)")

// ErrNotEnrolled is starting an agent that has no enrolment in its state
// directory and no join token to get one with.
var ErrNotEnrolled = errors.New("not enrolled: give --join-token (from kensa server join-token create) for the first start")

// firstContactTLS is the TLS configuration of enrolment, before the agent
// has a certificate: the server verified with the --ca file (returned,
// to be kept as the trust anchors), or by the CA fingerprint pinned with
// --ca-fingerprint, or not at all, which is refused.
func (a *Agent) firstContactTLS() (*tls.Config, []*x509.Certificate, error) {
	switch {
	case a.cfg.CAFile != "":
		pool, certs, err := loadPool(a.cfg.CAFile)
		if err != nil {
			return nil, nil, fmt.Errorf("--ca: %w", err)
		}
		return pki.AgentTLSConfig(nil, pool, ""), certs, nil
	case a.cfg.CAFingerprint != "":
		cfg, err := pki.PinnedTLSConfig(a.cfg.CAFingerprint, a.base.Hostname())
		if err != nil {
			return nil, nil, fmt.Errorf("--ca-fingerprint: %w", err)
		}
		verify := cfg.VerifyConnection
		cfg.VerifyConnection = func(cs tls.ConnectionState) error {
			if err := verify(cs); err != nil {
				return &trustError{err}
			}
			return nil
		}
		return cfg, nil, nil
	}
	return nil, nil, ErrNoTrust
}

// enrol gets the agent its identity: a new key (kept here), a
// certificate request, and the certificate the server signs for it with
// a join token. A server that cannot be reached is tried again (with
// backoff) until ctx ends; one that cannot be verified, or that refuses
// the token, ends enrolment.
func (a *Agent) enrol(ctx context.Context) (*enrolment, error) {
	if a.cfg.JoinToken == "" {
		return nil, ErrNotEnrolled
	}
	tlsCfg, fileCAs, err := a.firstContactTLS()
	if err != nil {
		return nil, err
	}
	key, err := pki.NewAgentKey()
	if err != nil {
		return nil, err
	}
	csr, err := pki.NewCSR(key)
	if err != nil {
		return nil, err
	}
	req := agentapi.EnrolRequest{
		CSR:      string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: csr})),
		Hostname: a.hostname,
		Tags:     a.cfg.Tags,
		Status:   a.status(),
	}
	c := newClient(a.base, tlsCfg, a.proxy)
	defer c.close()
	auth := map[string]string{"Authorization": "Bearer " + a.cfg.JoinToken}
	var resp agentapi.EnrolResponse
	bo := a.newBackoff()
	for {
		err := c.postJSON(ctx, enrolPath, auth, req, &resp)
		if err == nil {
			break
		}
		switch s := statusOf(err); {
		case ctx.Err() != nil:
			return nil, ctx.Err()
		case untrusted(err):
			return nil, fmt.Errorf("enrol: the server at %s failed verification: %w", a.base.Host, err)
		case s == http.StatusUnauthorized:
			return nil, fmt.Errorf("enrol: the server refused the join token (unknown, expired, used up or revoked): %w", err)
		case s != 0 && s < 500 && s != http.StatusRequestTimeout && s != http.StatusTooManyRequests:
			return nil, fmt.Errorf("enrol: %w", err)
		}
		wait := bo.next()
		a.log.Warn("enrolment failed; trying again", "server", a.base.Host, "in", wait.Round(time.Millisecond), "err", err)
		if !sleep(ctx, wait) {
			return nil, ctx.Err()
		}
	}

	cert, err := parseCertPEM("certificate", resp.Certificate)
	if err != nil {
		return nil, fmt.Errorf("enrol: the server's answer: %w", err)
	}
	if !samePublicKey(cert.PublicKey, key.Public()) {
		return nil, errors.New("enrol: the server's certificate is not for this agent's key")
	}
	ca, err := parseCertPEM("ca", resp.CA)
	if err != nil {
		return nil, fmt.Errorf("enrol: the server's answer: %w", err)
	}
	if a.cfg.CAFingerprint != "" {
		if _, ok := pki.FindPinned([]*x509.Certificate{ca}, a.cfg.CAFingerprint); !ok {
			return nil, fmt.Errorf("enrol: the CA the server returned (%s) is not the one pinned with --ca-fingerprint", pki.Fingerprint(ca))
		}
	}
	if err := cert.CheckSignatureFrom(ca); err != nil {
		return nil, fmt.Errorf("enrol: the server's certificate for this agent is not signed by its CA: %w", err)
	}
	trust := fileCAs
	if trust == nil {
		trust = []*x509.Certificate{ca}
	}
	id := identity{AgentID: resp.AgentID, Server: a.base.String(), Hostname: a.hostname, Tags: a.cfg.Tags, Enrolled: time.Now().UTC()}
	if err := saveEnrolment(a.cfg.StateDir, id, cert, key, trust); err != nil {
		return nil, fmt.Errorf("enrol: keeping the enrolment: %w", err)
	}
	pool := x509.NewCertPool()
	for _, c := range trust {
		pool.AddCert(c)
	}
	return &enrolment{
		identity: id,
		cert:     tls.Certificate{Certificate: [][]byte{cert.Raw}, PrivateKey: key, Leaf: cert},
		roots:    pool,
	}, nil
}

func parseCertPEM(what, s string) (*x509.Certificate, error) {
	for rest := []byte(s); ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			return nil, fmt.Errorf("%s: no PEM certificate", what)
		}
		if b.Type == "CERTIFICATE" {
			c, err := x509.ParseCertificate(b.Bytes)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", what, err)
			}
			return c, nil
		}
	}
}

func samePublicKey(a, b crypto.PublicKey) bool {
	k, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && k.Equal(b)
}
