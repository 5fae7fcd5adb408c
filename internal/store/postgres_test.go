package store_test

import (
	"context"
	"net/url"
	"strings"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/kensa-dev/kensa/internal/store"
	"github.com/kensa-dev/kensa/internal/store/storetest"
)

// The conformance suite on a real PostgreSQL server.
func TestPostgres(t *testing.T) {
	storetest.PostgresURL(t, "kensa_test_") // skips without a server
	storetest.Run(t, func(t *testing.T) (store.Store, func() store.Store) {
		u := storetest.PostgresURL(t, "kensa_test_")
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
	u, _ := url.Parse(storetest.PostgresURL(t, "kensa_test_"))
	u.User = url.UserPassword(u.User.Username(), "s3cret-wrong")
	_, err := store.OpenPostgres(context.Background(), u.String())
	if err == nil {
		t.Fatal("a wrong password was accepted")
	}
	if msg := err.Error(); strings.Contains(msg, "s3cret-wrong") || !strings.Contains(msg, u.Host) {
		t.Errorf("error %q: want the host and no password", msg)
	}
}
