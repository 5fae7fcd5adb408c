package agent

import (
	"context"
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/kensa-dev/kensa/internal/agentapi"
	"github.com/kensa-dev/kensa/internal/pki"
)

// renewPath is where an agent asks for a new certificate.
const renewPath = "/api/v1/agent/renew"

// Files of the previous key pair, kept while a renewed one is written:
// a crash between the key and the certificate of the new pair leaves a
// pair that does not match, and the agent starts on the previous one
// (still valid: renewal happens with a third of its life left).
const (
	prevCertFile = CertFile + ".prev"
	prevKeyFile  = KeyFile + ".prev"
)

// renewal is the agent's certificate rotation: after a heartbeat, when
// less than a third of the certificate's life is left, it makes a new key
// and asks the server to certify it. A failed attempt is tried again an
// hour later (or sooner, at a tenth of the time left), never in a loop.
type renewal struct {
	agentID string
	roots   *x509.CertPool
	next    time.Time // no attempt before
}

// maybeRenew renews the certificate when it is time.
func (a *Agent) maybeRenew(ctx context.Context, c *client, now time.Time) {
	cur := a.cert.Load()
	if cur == nil || cur.Leaf == nil || !pki.NeedsRenewal(cur.Leaf, now) || now.Before(a.renewal.next) {
		return
	}
	if err := a.renew(ctx, c); err != nil {
		wait := min(time.Hour, max(time.Minute, cur.Leaf.NotAfter.Sub(now)/10))
		a.renewal.next = now.Add(wait)
		a.log.Warn("certificate renewal failed; trying again later", "not_after", cur.Leaf.NotAfter, "retry_in", wait, "err", err)
		return
	}
}

// renew gets, checks, keeps and starts using a new certificate.
func (a *Agent) renew(ctx context.Context, c *client) error {
	key, err := pki.NewAgentKey()
	if err != nil {
		return err
	}
	csr, err := pki.NewCSR(key)
	if err != nil {
		return err
	}
	var resp agentapi.RenewResponse
	req := agentapi.RenewRequest{CSR: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: csr}))}
	if err := c.postJSON(ctx, renewPath, nil, req, &resp); err != nil {
		return err
	}
	cert, err := parseCertPEM("certificate", resp.Certificate)
	if err != nil {
		return fmt.Errorf("renew: the server's answer: %w", err)
	}
	if !samePublicKey(cert.PublicKey, key.Public()) {
		return errors.New("renew: the server's certificate is not for the new key")
	}
	if cert.Subject.CommonName != a.renewal.agentID {
		return fmt.Errorf("renew: the server's certificate is for agent %q, not %q", cert.Subject.CommonName, a.renewal.agentID)
	}
	if _, err := cert.Verify(x509.VerifyOptions{Roots: a.renewal.roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		return fmt.Errorf("renew: the server's certificate does not chain to its CA: %w", err)
	}
	if err := saveRenewed(a.cfg.StateDir, cert, key); err != nil {
		return fmt.Errorf("renew: keeping the certificate: %w", err)
	}
	a.cert.Store(&tls.Certificate{Certificate: [][]byte{cert.Raw}, PrivateKey: key, Leaf: cert})
	a.log.Info("certificate renewed", "agent", a.renewal.agentID, "not_after", cert.NotAfter)
	a.cfg.trace(evRenewed)
	return nil
}

// saveRenewed keeps the current pair as the previous one, then writes
// the new pair (each file atomically).
func saveRenewed(dir string, cert *x509.Certificate, key crypto.Signer) error {
	for _, f := range [][2]string{{CertFile, prevCertFile}, {KeyFile, prevKeyFile}} {
		b, err := os.ReadFile(filepath.Join(dir, f[0]))
		if err != nil {
			return err
		}
		if err := writeFileAtomic(filepath.Join(dir, f[1]), b, fileMode); err != nil {
			return err
		}
	}
	return pki.WriteKeyPair(filepath.Join(dir, CertFile), filepath.Join(dir, KeyFile), cert, key)
}

// loadKeyPair loads the agent's key pair, or the previous one when a
// renewal was cut short and left a pair that does not load.
func loadKeyPair(dir string) (tls.Certificate, error) {
	cert, err := pki.LoadKeyPair(filepath.Join(dir, CertFile), filepath.Join(dir, KeyFile))
	if err == nil {
		return cert, nil
	}
	prev, perr := pki.LoadKeyPair(filepath.Join(dir, prevCertFile), filepath.Join(dir, prevKeyFile))
	if perr != nil {
		return tls.Certificate{}, err
	}
	return prev, nil
}
