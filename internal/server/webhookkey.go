package server

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// WebhookKeyFile is the name of the webhook signing key in the server's
// data directory.
const WebhookKeyFile = "webhook.key"

// webhookKeyHex is the key's length in hex digits: 32 random bytes.
const webhookKeyHex = 64

// LoadOrCreateWebhookKey loads the key that signs webhooks from
// dir/webhook.key, creating it the first time (0600): 64 hex digits and
// a newline. The key is the text of the digits, as a receiver passes it
// to its HMAC (openssl dgst -sha256 -hmac "$(cat webhook.key)"). A
// damaged file stops the server and is never overwritten: receivers
// verify with the key they were given. A file others may read is made
// 0600.
func LoadOrCreateWebhookKey(dir string) (key []byte, created bool, err error) {
	path := filepath.Join(dir, WebhookKeyFile)
	key, err = readWebhookKey(path)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return key, false, err
	}
	b := make([]byte, webhookKeyHex/2)
	if _, err := rand.Read(b); err != nil {
		return nil, false, fmt.Errorf("webhook key: %w", err)
	}
	text := []byte(hex.EncodeToString(b) + "\n")
	if err := writeNewFile(path, text); err != nil {
		if errors.Is(err, fs.ErrExist) { // another server made it meanwhile
			key, err = readWebhookKey(path)
			return key, false, err
		}
		return nil, false, err
	}
	return text[:webhookKeyHex], true, nil
}

func readWebhookKey(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("webhook key: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, 1024))
	if err != nil {
		return nil, fmt.Errorf("webhook key: %w", err)
	}
	key := bytes.TrimSpace(b)
	if _, err := hex.DecodeString(string(key)); err != nil || len(key) != webhookKeyHex {
		return nil, fmt.Errorf("webhook key %s is damaged (want %d hex digits): restore it from a backup (receivers verify with it), or remove it to make a new one and give that to every receiver", path, webhookKeyHex)
	}
	if fi, err := f.Stat(); err == nil && fi.Mode().Perm()&^0o600 != 0 {
		if err := os.Chmod(path, 0o600); err != nil {
			return nil, fmt.Errorf("webhook key: %w", err)
		}
	}
	return key, nil
}

// writeNewFile writes a file that must not exist, whole or not at all: a
// temporary file, synced, linked into place (which fails if path
// appeared meanwhile).
func writeNewFile(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("webhook key: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("webhook key: %w", err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("webhook key: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("webhook key: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("webhook key: %w", err)
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		return fmt.Errorf("webhook key: %w", err)
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}
