package agent

import (
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/kensa-dev/kensa/internal/fleet"
	"github.com/kensa-dev/kensa/internal/pki"
)

// Files of the state directory (--state).
const (
	// IdentityFile is written last at enrolment: while it is absent the
	// agent is not enrolled, whatever else the directory holds.
	IdentityFile = "agent.json"
	KeyFile      = "agent.key" // the agent's private key, 0600; it never leaves the host
	CertFile     = "agent.crt" // its client certificate
	// CAFile holds the certificates the server is verified with: the
	// --ca file given at enrolment, or the CA pinned by fingerprint.
	CAFile = "ca.crt"
	// RunsFile lists the runs whose work is done (spooled), so that a
	// work offered again is not collected twice.
	RunsFile = "runs.json"
	// LastInventoryFile is the last inventory the server recorded, in
	// the spool's format: a new inventory with the same content is
	// uploaded as this one (its SHA-256), which the server already has.
	LastInventoryFile = "last-inventory"
	// SpoolDir holds the documents not uploaded yet.
	SpoolDir = "spool"
)

// maxStateFile bounds what is read of a small state file.
const maxStateFile = 1 << 20

// identity is what enrolment leaves besides the key and certificates.
type identity struct {
	AgentID  string     `json:"agent_id"`
	Server   string     `json:"server"`
	Hostname string     `json:"hostname"`
	Tags     fleet.Tags `json:"tags,omitempty"`
	Enrolled time.Time  `json:"enrolled"`
}

// enrolment is a loaded identity: the agent's certificate and key, and
// the pool the server is verified with.
type enrolment struct {
	identity
	cert  tls.Certificate
	roots *x509.CertPool
}

// loadEnrolment reads the state directory's enrolment; (nil, nil) when
// the agent has not enrolled. A half-written state (identity without
// key, say) is an error that says how to start over.
func loadEnrolment(dir string) (*enrolment, error) {
	b, err := readSmall(filepath.Join(dir, IdentityFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var e enrolment
	if err := json.Unmarshal(b, &e.identity); err != nil || e.AgentID == "" {
		return nil, fmt.Errorf("%s: not an agent identity (%v): remove %s to enrol again", filepath.Join(dir, IdentityFile), err, dir)
	}
	e.cert, err = loadKeyPair(dir)
	if err != nil {
		return nil, fmt.Errorf("%w: remove %s to enrol again", err, dir)
	}
	if e.roots, _, err = loadPool(filepath.Join(dir, CAFile)); err != nil {
		return nil, fmt.Errorf("%w: remove %s to enrol again", err, dir)
	}
	return &e, nil
}

// saveEnrolment writes an enrolment: key and certificate first, then the
// CA, and the identity last, so that a crash part-way leaves an agent
// that is not enrolled rather than one with half an identity.
func saveEnrolment(dir string, id identity, cert *x509.Certificate, key crypto.Signer, trust []*x509.Certificate) error {
	if err := pki.WriteKeyPair(filepath.Join(dir, CertFile), filepath.Join(dir, KeyFile), cert, key); err != nil {
		return err
	}
	var pemCAs []byte
	for _, c := range trust {
		pemCAs = append(pemCAs, pki.CertPEM(c)...)
	}
	if err := writeFileAtomic(filepath.Join(dir, CAFile), pemCAs, fileMode); err != nil {
		return err
	}
	b, err := json.MarshalIndent(id, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(filepath.Join(dir, IdentityFile), append(b, '\n'), fileMode)
}

// loadPool reads a PEM file of certificates into a pool.
func loadPool(path string) (*x509.CertPool, []*x509.Certificate, error) {
	b, err := readSmall(path)
	if err != nil {
		return nil, nil, err
	}
	var certs []*x509.Certificate
	for rest := b; ; {
		var blk *pem.Block
		blk, rest = pem.Decode(rest)
		if blk == nil {
			break
		}
		if blk.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", path, err)
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return nil, nil, fmt.Errorf("%s: no PEM certificate", path)
	}
	pool := x509.NewCertPool()
	for _, c := range certs {
		pool.AddCert(c)
	}
	return pool, certs, nil
}

func readSmall(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxStateFile+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if len(b) > maxStateFile {
		return nil, fmt.Errorf("read %s: larger than %d bytes", path, maxStateFile)
	}
	return b, nil
}

// maxRuns is how many finished runs are remembered: far more than a
// server offers an agent between two of its heartbeats.
const maxRuns = 200

// finishedRuns remembers the runs whose work is done, across restarts.
type finishedRuns struct {
	path string
	ids  []string // oldest first
}

func loadRuns(dir string) (*finishedRuns, error) {
	r := &finishedRuns{path: filepath.Join(dir, RunsFile)}
	b, err := readSmall(r.path)
	if errors.Is(err, fs.ErrNotExist) {
		return r, nil
	}
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(b, &r.ids); err != nil {
		// Only an optimisation is lost: a work offered again is
		// collected again, and its uploads are idempotent server-side.
		r.ids = nil
	}
	return r, nil
}

func (r *finishedRuns) has(id string) bool { return slices.Contains(r.ids, id) }

func (r *finishedRuns) add(id string) error {
	if r.has(id) {
		return nil
	}
	r.ids = append(r.ids, id)
	if len(r.ids) > maxRuns {
		r.ids = slices.Clone(r.ids[len(r.ids)-maxRuns:])
	}
	b, err := json.Marshal(r.ids)
	if err != nil {
		return err
	}
	return writeFileAtomic(r.path, b, fileMode)
}
