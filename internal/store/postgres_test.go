package store_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/kensa-dev/kensa/internal/store"
	"github.com/kensa-dev/kensa/internal/store/storetest"
)

// postgresURL is the test server, from KENSA_TEST_POSTGRES (scripts/test.sh
// installs and starts PostgreSQL and sets it). Without it the tests skip,
// except in CI, where they must run.
func postgresURL(t *testing.T) string {
	u := os.Getenv("KENSA_TEST_POSTGRES")
	if u == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("KENSA_TEST_POSTGRES is not set in CI: scripts/test.sh sets it after starting PostgreSQL")
		}
		t.Skip("KENSA_TEST_POSTGRES not set (postgres://user:password@host/db): run scripts/test.sh, which starts PostgreSQL, to run the PostgreSQL tests")
	}
	return u
}

// schemaURL gives a test its own schema on the test server, dropped when
// it ends, so that tests run side by side.
func schemaURL(t *testing.T, base string) string {
	b := make([]byte, 6)
	rand.Read(b)
	schema := "kensa_test_" + hex.EncodeToString(b)
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
		t.Fatalf("PostgreSQL at KENSA_TEST_POSTGRES: %v", err)
	}
	t.Cleanup(func() {
		db, err := sql.Open("pgx", base)
		if err == nil {
			db.Exec("DROP SCHEMA " + schema + " CASCADE")
			db.Close()
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// The conformance suite on a real PostgreSQL server.
func TestPostgres(t *testing.T) {
	base := postgresURL(t)
	storetest.Run(t, func(t *testing.T) (store.Store, func() store.Store) {
		u := schemaURL(t, base)
		open := func() store.Store {
			s, err := store.OpenPostgres(context.Background(), u)
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

// A wrong password is an error that names the server, never the password.
func TestPostgresErrorRedactsPassword(t *testing.T) {
	base := postgresURL(t)
	u, _ := url.Parse(base)
	u.User = url.UserPassword(u.User.Username(), "s3cret-wrong")
	_, err := store.OpenPostgres(context.Background(), u.String())
	if err == nil {
		t.Fatal("a wrong password was accepted")
	}
	if msg := err.Error(); strings.Contains(msg, "s3cret-wrong") || !strings.Contains(msg, u.Host) {
		t.Errorf("error %q: want the host and no password", msg)
	}
}
