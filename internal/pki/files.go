package pki

import (
	"bytes"
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
)

// File modes: keys are for the server's (or agent's) user alone;
// certificates are public, and the directory already keeps others out.
const (
	dirMode  fs.FileMode = 0o700
	keyMode  fs.FileMode = 0o600
	certMode fs.FileMode = 0o644
)

// maxPEMFile bounds what is read of a certificate or key file: a real one
// is a few KiB, a chain a few more.
const maxPEMFile = 1 << 20

// CertPEM is a certificate in PEM.
func CertPEM(cert *x509.Certificate) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})
}

// KeyPEM is a private key in PEM (PKCS #8).
func KeyPEM(key crypto.Signer) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("pki: encode key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// WriteKeyPair writes a certificate and its key, each atomically, the key
// first and with mode 0600: what an agent keeps of its enrolment, and
// rewrites when it rotates. The directory must exist.
func WriteKeyPair(certPath, keyPath string, cert *x509.Certificate, key crypto.Signer) error {
	if !publicKeyMatches(cert, key) {
		return fmt.Errorf("pki: write %s: the key does not match the certificate", certPath)
	}
	keyPEM, err := KeyPEM(key)
	if err != nil {
		return err
	}
	if err := writeAtomic(keyPath, keyPEM, keyMode); err != nil {
		return err
	}
	return writeAtomic(certPath, CertPEM(cert), certMode)
}

// LoadKeyPair loads a certificate (with its chain) and key written by
// WriteKeyPair or given by a user, with Leaf set.
func LoadKeyPair(certPath, keyPath string) (tls.Certificate, error) {
	pair, err := tls.LoadX509KeyPair(certPath, keyPath)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("pki: load %s and %s: %w", certPath, keyPath, err)
	}
	if pair.Leaf == nil {
		if pair.Leaf, err = x509.ParseCertificate(pair.Certificate[0]); err != nil {
			return tls.Certificate{}, fmt.Errorf("pki: load %s: %w", certPath, err)
		}
	}
	return pair, nil
}

// ensureDir makes the PKI directory, or tightens an existing one, to
// 0700.
func ensureDir(dir string) error {
	if err := os.MkdirAll(dir, dirMode); err != nil {
		return fmt.Errorf("pki: %w", err)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("pki: %w", err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("pki: %s: not a directory", dir)
	}
	if fi.Mode().Perm() != dirMode {
		if err := os.Chmod(dir, dirMode); err != nil {
			return fmt.Errorf("pki: %w", err)
		}
	}
	return nil
}

// tightenKeyMode makes an existing key file 0600 if others could read
// it; its content is left as it is.
func tightenKeyMode(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("pki: %w", err)
	}
	if fi.Mode().Perm()&^keyMode != 0 {
		if err := os.Chmod(path, keyMode); err != nil {
			return fmt.Errorf("pki: %w", err)
		}
	}
	return nil
}

// readSmall reads a certificate or key file; a missing file's error
// matches fs.ErrNotExist.
func readSmall(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("pki: %w", err) // a PathError: it names the file
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxPEMFile+1))
	if err != nil {
		return nil, fmt.Errorf("pki: %w", err)
	}
	if len(b) > maxPEMFile {
		return nil, fmt.Errorf("pki: read %s: larger than %d bytes", path, maxPEMFile)
	}
	return b, nil
}

// decodePEM finds the block of one of types in a PEM file. strict is for
// Kensa's own files, which hold exactly one block and nothing else:
// anything more means the file was damaged. Otherwise (the user's files)
// other blocks, such as "EC PARAMETERS" or the rest of a chain, are
// skipped and the first match is taken.
func decodePEM(path string, data []byte, strict bool, types ...string) (*pem.Block, error) {
	rest := data
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		switch {
		case b == nil:
			return nil, fmt.Errorf("pki: %s: no PEM %s block", path, types[0])
		case strict && (!slices.Contains(types, b.Type) || len(bytes.TrimSpace(rest)) > 0):
			return nil, fmt.Errorf("pki: %s: want one PEM %s block and nothing else", path, types[0])
		case slices.Contains(types, b.Type):
			return b, nil
		}
	}
}

// parseCertPEM parses one of Kensa's own certificate files.
func parseCertPEM(path string, data []byte) (*x509.Certificate, error) {
	return parseCert(path, data, true)
}

func parseCert(path string, data []byte, strict bool) (*x509.Certificate, error) {
	b, err := decodePEM(path, data, strict, "CERTIFICATE")
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		return nil, fmt.Errorf("pki: %s: %w", path, err)
	}
	return cert, nil
}

// parseKeyPEM parses one of Kensa's own key files.
func parseKeyPEM(path string, data []byte) (crypto.Signer, error) {
	return parseKey(path, data, true)
}

func parseKey(path string, data []byte, strict bool) (crypto.Signer, error) {
	b, err := decodePEM(path, data, strict, "PRIVATE KEY", "EC PRIVATE KEY", "RSA PRIVATE KEY")
	if err != nil {
		return nil, err
	}
	var key any
	switch b.Type {
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(b.Bytes)
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(b.Bytes)
	default:
		key, err = x509.ParsePKCS8PrivateKey(b.Bytes)
	}
	if err != nil {
		return nil, fmt.Errorf("pki: %s: %w", path, err)
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("pki: %s: a %T cannot sign", path, key)
	}
	return signer, nil
}

// writeAtomic replaces path with data: written to a temporary file in the
// same directory, synced, given its mode, renamed over path, and the
// directory synced, so a crash leaves the old file or the new one, never
// a part.
func writeAtomic(path string, data []byte, mode fs.FileMode) error {
	tmp, err := writeTemp(path, data, mode)
	if err != nil {
		return err
	}
	defer os.Remove(tmp) // a no-op once renamed
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("pki: write %s: %w", path, err)
	}
	return syncDir(path)
}

// writeNew is writeAtomic for a file that must not exist: the temporary
// file is hard-linked into place, which fails rather than replace a file
// that appeared meanwhile. On a file system without hard links it falls
// back to a rename after checking that path is still absent.
func writeNew(path string, data []byte, mode fs.FileMode) error {
	tmp, err := writeTemp(path, data, mode)
	if err != nil {
		return err
	}
	defer os.Remove(tmp)
	if err := os.Link(tmp, path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("pki: write %s: it appeared while it was being created (another server on this directory?)", path)
		}
		if _, statErr := os.Lstat(path); !errors.Is(statErr, fs.ErrNotExist) {
			return fmt.Errorf("pki: write %s: %w", path, err)
		}
		if err := os.Rename(tmp, path); err != nil {
			return fmt.Errorf("pki: write %s: %w", path, err)
		}
	}
	return syncDir(path)
}

// writeTemp writes data to a new temporary file beside path, synced and
// with mode, and returns its name.
func writeTemp(path string, data []byte, mode fs.FileMode) (string, error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return "", fmt.Errorf("pki: write %s: %w", path, err)
	}
	name := f.Name()
	fail := func(err error) (string, error) {
		f.Close()
		os.Remove(name)
		return "", fmt.Errorf("pki: write %s: %w", path, err)
	}
	// Mode before content: the key is never readable by others, not
	// even for a moment (CreateTemp makes 0600 files, but say so).
	if err := f.Chmod(mode); err != nil {
		return fail(err)
	}
	if _, err := f.Write(data); err != nil {
		return fail(err)
	}
	if err := f.Sync(); err != nil {
		return fail(err)
	}
	if err := f.Close(); err != nil {
		os.Remove(name)
		return "", fmt.Errorf("pki: write %s: %w", path, err)
	}
	return name, nil
}

// syncDir makes a rename or link in path's directory durable.
func syncDir(path string) error {
	d, err := os.Open(filepath.Dir(path))
	if err != nil {
		return fmt.Errorf("pki: sync %s: %w", filepath.Dir(path), err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("pki: sync %s: %w", filepath.Dir(path), err)
	}
	return nil
}
