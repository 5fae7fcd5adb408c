package store

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	neturl "net/url"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

// postgresDialect stores times as TIMESTAMPTZ.
var postgresDialect = dialect{
	name:    "postgres",
	dir:     "postgres",
	dollar:  true,
	jsonb:   true,
	timeArg: func(t time.Time) any { return t },
	unique: func(err error) bool {
		var e *pgconn.PgError
		return errors.As(err, &e) && e.Code == "23505" // unique_violation
	},
}

// OpenPostgres connects to the PostgreSQL database at url
// (postgres://user:password@host/db?sslmode=...) through pgx and
// migrates it, under a PostgreSQL advisory lock, so that servers
// starting together migrate once.
func OpenPostgres(ctx context.Context, url string) (Store, error) {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("store: PostgreSQL URL %s: %w", redact(url), err)
	}
	db := stdlib.OpenDB(*cfg)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: connect to PostgreSQL at %s: %w", redact(url), err)
	}
	// The migration lock is per schema: deployments in two schemas of
	// one database do not wait for each other. A waiting server probes
	// every second, for up to 5 minutes.
	var schema string
	if err := db.QueryRowContext(ctx, "SELECT current_schema()").Scan(&schema); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: PostgreSQL at %s: %w", redact(url), err)
	}
	h := fnv.New64a()
	h.Write([]byte("kensa-migrations:" + schema))
	locker, err := lock.NewPostgresSessionLocker(lock.WithLockID(int64(h.Sum64()&math.MaxInt64)), lock.WithLockTimeout(1, 300))
	if err != nil {
		db.Close()
		return nil, err
	}
	if err := migrate(ctx, db, postgresDialect, goose.WithSessionLocker(locker)); err != nil {
		db.Close()
		return nil, err
	}
	return &sqlStore{db: db, d: postgresDialect}, nil
}

// redact hides the password of a database URL, for messages.
func redact(s string) string {
	u, err := neturl.Parse(s)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}
