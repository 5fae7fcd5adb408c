package storetest

import (
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"testing"

	// The pgx driver for database/sql, registered as "pgx".
	_ "github.com/jackc/pgx/v5/stdlib"
)

// PostgresURL gives a test a schema of its own on the PostgreSQL server
// of KENSA_TEST_POSTGRES (scripts/test.sh installs, starts and names
// one), dropped when the test ends, and returns the URL that uses it
// (search_path): tests run side by side without seeing each other.
// Without KENSA_TEST_POSTGRES the test is skipped, except in CI, where
// it must run.
func PostgresURL(t *testing.T, prefix string) string {
	t.Helper()
	base := os.Getenv("KENSA_TEST_POSTGRES")
	if base == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("KENSA_TEST_POSTGRES is not set in CI: scripts/test.sh sets it after starting PostgreSQL")
		}
		t.Skip("KENSA_TEST_POSTGRES not set (postgres://user:password@host/db): run scripts/test.sh, which starts PostgreSQL, to run the PostgreSQL tests")
	}
	b := make([]byte, 6)
	rand.Read(b)
	schema := prefix + hex.EncodeToString(b)
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
		t.Fatalf("PostgreSQL at KENSA_TEST_POSTGRES: %v", err)
	}
	// Registered before the caller starts anything on the schema, so it
	// runs after the caller's own clean-ups.
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
