package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// sqliteDialect stores times as fixed-width UTC text.
var sqliteDialect = dialect{
	name:    "sqlite3",
	dir:     "sqlite",
	timeArg: textTime,
	unique: func(err error) bool {
		var e *sqlite.Error
		return errors.As(err, &e) && (e.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || e.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY)
	},
}

// OpenSQLite opens (creating it if need be) the SQLite database at path
// and migrates it. The file is in WAL mode, so readers do not wait for
// the writer; transactions take the write lock when they begin
// (_txlock=immediate), so two writers queue (busy_timeout) instead of
// failing when one upgrades its read lock; foreign keys are enforced.
//
// A new file is made readable by its owner only (0600): it holds token
// hashes and every agent's inventory. SQLite gives its -wal and -shm
// files the same mode.
func OpenSQLite(ctx context.Context, path string) (Store, error) {
	if f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600); err == nil {
		f.Close()
	} else if !errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("store: create %s: %w", path, err)
	}
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	if err := migrate(ctx, db, sqliteDialect); err != nil {
		db.Close()
		return nil, err
	}
	return &sqlStore{db: db, d: sqliteDialect}, nil
}
