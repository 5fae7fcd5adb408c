package store_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/kensa-dev/kensa/internal/store"
	"github.com/kensa-dev/kensa/internal/store/storetest"
)

// The conformance suite on a real SQLite file.
func TestSQLite(t *testing.T) {
	storetest.Run(t, func(t *testing.T) (store.Store, func() store.Store) {
		path := filepath.Join(t.TempDir(), "kensa.db")
		open := func() store.Store {
			s, err := store.OpenSQLite(context.Background(), path)
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
		s := open()
		t.Cleanup(func() { s.Close() })
		return s, open
	})
}

// The database holds token hashes and inventories: a new file is the
// owner's alone.
func TestSQLiteFileMode(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kensa.db")
	s, err := store.OpenSQLite(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v (%v), want 0600", fi.Mode().Perm(), err)
	}
}
