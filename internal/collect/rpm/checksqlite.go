package rpm

// go-rpmdb's SQLite reader runs "SELECT blob FROM Packages" on the copy,
// without a deadline, and reads every row it yields. SQL text in the
// database decides what that query does: a view named Packages runs any
// query (a recursive one yields rows forever, each a valid header), a
// virtual table runs module code, and a generated column computes its
// values. checkSQLite below makes sure that Packages is the plain table rpm
// creates, so that the query is a scan of stored rows and nothing else, and
// then runs that same scan itself, bounded in rows, bytes and time, before
// go-rpmdb may.

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"
)

const (
	// sqliteBudget is the time the checks of one SQLite database may
	// take. Reading the rpmdb.sqlite of a big server, some 200 MiB, takes
	// a second or two.
	sqliteBudget = 60 * time.Second

	// minHeaderSize is the size of the smallest rpm header: its two counts
	// and one index entry (rpm's hdrblobInit wants at least one).
	minHeaderSize = 8 + 16

	// sqliteQuery is go-rpmdb's query, word for word.
	sqliteQuery = "SELECT blob FROM Packages"
)

// errTooSlow marks a database that took longer to check than its budget.
const errTooSlow = checkError("database too slow to read")

// checkSQLite checks the SQLite database copy at name, and returns the
// number of package headers it holds:
//
//   - its schema is what rpm writes (checkSQLiteSchema), so that go-rpmdb's
//     query can only scan the rows of a table;
//   - the rows are counted, with their sizes, before any is loaded: each is
//     a blob that can hold a header, and together they fit in the database
//     files. The pages of a b-tree may be shared, and SQLite does not
//     notice while it scans: a few pages can yield any number of rows, and
//     a row any number of bytes up to the database size;
//   - every header is read once, as go-rpmdb will read it, and checked
//     (checkHeader). go-rpmdb ignores rows.Err, so a database that breaks
//     off midway would otherwise yield a silently short list; and its
//     reader goroutine blocks forever after an error it reports.
//
// All of it must end within budget. The connection runs with
// trusted_schema off, so that no SQL from the database may call functions
// with side effects, and query_only on. It is opened read-write, as
// go-rpmdb opens it, so that both read the same: a hot journal is rolled
// back and a -wal replayed, which a read-only connection would refuse to do.
func checkSQLite(ctx context.Context, name string, budget time.Duration) (int, error) {
	limit, err := sqliteSize(name)
	if err != nil {
		return 0, err
	}
	dsn, err := sqliteDSN(name)
	if err != nil {
		return 0, err
	}
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return 0, err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	// modernc.org/sqlite interrupts a statement when the context of its
	// query ends. It owns the connection's progress handler and does not
	// watch the context within rows.Next, but database/sql closes the rows
	// once the context ends, and no step of the scans below can take long:
	// SQLite moves from one row of a table to the next through at most
	// twice the tree's depth (20 at most) of pages, as it refuses a child
	// page with no cells. The loops check the context too.
	bctx, cancel := context.WithTimeout(ctx, budget)
	defer cancel()
	n, err := readSQLite(bctx, db, limit)
	if err != nil && bctx.Err() != nil {
		if ctx.Err() != nil {
			return n, ctx.Err()
		}
		return n, fmt.Errorf("%w: not read within %v", errTooSlow, budget)
	}
	return n, err
}

// sqliteSize returns the size of the database at name with its -wal and
// -journal: every row of a sound database is stored in one of them, once.
func sqliteSize(name string) (int64, error) {
	var total int64
	for _, suffix := range []string{"", "-wal", "-journal"} {
		fi, err := os.Stat(name + suffix)
		if suffix != "" && errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return 0, err
		}
		total += fi.Size()
	}
	return total, nil
}

// sqliteDSN returns the name to open the database at name with: a file URI,
// its path escaped (a '?' in it would start the query), with trusted_schema
// off and query_only on.
func sqliteDSN(name string) (string, error) {
	abs, err := filepath.Abs(name)
	if err != nil {
		return "", err
	}
	u := url.URL{Scheme: "file", Path: abs, RawQuery: "_pragma=trusted_schema(0)&_query_only=1"}
	return u.String(), nil
}

// readSQLite checks the schema and the rows of a database of at most limit
// bytes, as checkSQLite says.
func readSQLite(ctx context.Context, db *sql.DB, limit int64) (int, error) {
	if err := checkSQLiteSchema(ctx, db, limit); err != nil {
		return 0, err
	}

	// Count the rows and their sizes. typeof and octet_length read the
	// type and size of a value from the record header, not the value.
	rows, err := db.QueryContext(ctx, "SELECT typeof(blob), octet_length(blob) FROM Packages")
	if err != nil {
		return 0, sqliteError(err)
	}
	defer rows.Close()
	maxRows := limit / minHeaderSize
	var count, total int64
	for rows.Next() {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		if count++; count > maxRows {
			return 0, corrupt("Packages has more than %d rows, more than %d bytes of database can hold", maxRows, limit)
		}
		var typ string
		var size int64
		if err := rows.Scan(&typ, &size); err != nil {
			return 0, fmt.Errorf("%w: row %d: %v", errCorrupt, count, err)
		}
		if typ != "blob" {
			return 0, corrupt("row %d: %s, not a blob", count, typ)
		}
		if size < minHeaderSize {
			return 0, corrupt("row %d: blob of %d bytes, too short for an rpm header", count, size)
		}
		if total += size; total > limit {
			return 0, corrupt("Packages rows hold more than the %d bytes of the database: it shares pages between rows", limit)
		}
	}
	if err := rows.Err(); err != nil {
		return 0, sqliteError(err)
	}
	rows.Close()

	// Read and check each header. The scan is the one just made, and
	// go-rpmdb's after it; it must yield the same rows.
	rows, err = db.QueryContext(ctx, sqliteQuery)
	if err != nil {
		return 0, sqliteError(err)
	}
	defer rows.Close()
	n := 0 // headers checked
	var read int64
	for rows.Next() {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		if int64(n) == count {
			return n, corrupt("Packages yields more rows on a second read than the %d of the first", count)
		}
		var blob []byte
		if err := rows.Scan(&blob); err != nil {
			return n, fmt.Errorf("%w: row %d: %v", errCorrupt, n+1, err)
		}
		if read += int64(len(blob)); read > total {
			return n, corrupt("Packages yields more bytes on a second read than the %d of the first", total)
		}
		if err := checkHeader(blob); err != nil {
			return n, fmt.Errorf("row %d: %w", n+1, err)
		}
		n++
	}
	if err := rows.Err(); err != nil {
		return n, sqliteError(err)
	}
	if int64(n) != count {
		return n, corrupt("Packages yields %d rows on a second read, %d on the first", n, count)
	}
	return n, nil
}

// sqliteError wraps an error of SQLite reading the database.
func sqliteError(err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return fmt.Errorf("%w: %v", errCorrupt, err)
}

// schemaObject is a row of sqlite_master.
type schemaObject struct {
	typ, name, table string
	sql              sql.NullString
}

// checkSQLiteSchema checks that Packages is the table rpm creates:
//
//	CREATE TABLE 'Packages' (hnum INTEGER PRIMARY KEY AUTOINCREMENT,blob BLOB NOT NULL)
//
// an ordinary table whose columns are hnum, the rowid, and blob, stored,
// with no index. "SELECT blob FROM Packages" is then a scan of its rows,
// whatever else the schema holds.
//
// Other ordinary tables and indexes are let be: rpm creates one index
// table per tag it indexes (Name, Basenames, Providename and so on, with
// indexes on them), a set that changes between rpm versions, and SQLite
// adds sqlite_sequence and, after ANALYZE, sqlite_stat1 or sqlite_stat4;
// go-rpmdb reads none of them. Views, triggers and virtual tables are
// refused wherever they are. rpm creates none, so only a forged database
// has one, and they are how a database runs SQL or module code of its
// own: a view when queried, a trigger when written to (which go-rpmdb
// does not do), a virtual table when its module connects.
//
// Names are read from sqlite_master and compared as SQLite compares them,
// ignoring ASCII case only. Whether a table is virtual is read from its SQL
// text rather than asked of SQLite, as every way of asking connects the
// module. Once there is no view or virtual table, the pragmas that tell a
// table's columns and indexes run no SQL and no module of the database.
func checkSQLiteSchema(ctx context.Context, db *sql.DB, limit int64) error {
	rows, err := db.QueryContext(ctx, "SELECT type, name, tbl_name, sql FROM sqlite_master")
	if err != nil {
		return sqliteError(err)
	}
	defer rows.Close()
	var objects []schemaObject
	for rows.Next() {
		if err := ctx.Err(); err != nil {
			return err
		}
		// A schema row, its type, names and SQL, takes more bytes than a
		// header.
		if int64(len(objects)) > limit/minHeaderSize {
			return corrupt("schema of more objects than %d bytes of database can hold", limit)
		}
		var o schemaObject
		if err := rows.Scan(&o.typ, &o.name, &o.table, &o.sql); err != nil {
			return fmt.Errorf("%w: schema: %v", errCorrupt, err)
		}
		objects = append(objects, o)
	}
	if err := rows.Err(); err != nil {
		return sqliteError(err)
	}
	rows.Close()

	var packages *schemaObject
	for i, o := range objects {
		words := sqlWords(o.sql.String, 3)
		switch o.typ {
		case "table":
			if len(words) >= 2 && words[0] == "CREATE" && words[1] == "VIRTUAL" {
				if asciiEqualFold(o.name, "Packages") {
					return corrupt("Packages is a virtual table, not an ordinary one")
				}
				return corrupt("%s is a virtual table: rpm creates none", o.name)
			}
			if len(words) < 2 || words[0] != "CREATE" || words[1] != "TABLE" {
				return corrupt("table %s created by %q", o.name, o.sql.String)
			}
		case "index":
			// An index SQLite creates for a UNIQUE or PRIMARY KEY
			// constraint has no SQL.
			if o.sql.Valid && !(len(words) >= 2 && words[0] == "CREATE" && words[1] == "INDEX") &&
				!(len(words) >= 3 && words[0] == "CREATE" && words[1] == "UNIQUE" && words[2] == "INDEX") {
				return corrupt("index %s created by %q", o.name, o.sql.String)
			}
		case "view", "trigger":
			if asciiEqualFold(o.name, "Packages") {
				return corrupt("Packages is a %s, not a table", o.typ)
			}
			return corrupt("%s is a %s: rpm creates none", o.name, o.typ)
		default:
			return corrupt("schema object %s of type %q", o.name, o.typ)
		}
		switch {
		case asciiEqualFold(o.name, "Packages"):
			if packages != nil {
				return corrupt("two schema objects named Packages")
			}
			packages = &objects[i]
		case asciiEqualFold(o.table, "Packages"):
			return corrupt("%s %s on Packages: rpm creates none", o.typ, o.name)
		}
	}
	switch {
	case packages == nil:
		return corrupt("no Packages table")
	case packages.typ != "table":
		return corrupt("Packages is a %s, not a table", packages.typ)
	case packages.name != "Packages" || packages.table != "Packages":
		return corrupt("table %s, not Packages", packages.name)
	}

	rows, err = db.QueryContext(ctx, "SELECT name, type, pk, hidden FROM pragma_table_xinfo('Packages') ORDER BY cid")
	if err != nil {
		return sqliteError(err)
	}
	defer rows.Close()
	type column struct {
		name, typ  string
		pk, hidden int64
	}
	want := []column{{"hnum", "INTEGER", 1, 0}, {"blob", "BLOB", 0, 0}}
	var cols []string
	ok := true
	for rows.Next() {
		var c column
		if err := rows.Scan(&c.name, &c.typ, &c.pk, &c.hidden); err != nil {
			return fmt.Errorf("%w: Packages columns: %v", errCorrupt, err)
		}
		if c.hidden != 0 {
			// 2 and 3: a generated column, VIRTUAL or STORED.
			return corrupt("Packages column %s is generated or hidden", c.name)
		}
		i := len(cols)
		cols = append(cols, c.name+" "+c.typ)
		ok = ok && i < len(want) && asciiEqualFold(c.name, want[i].name) &&
			asciiEqualFold(c.typ, want[i].typ) && c.pk == want[i].pk
		if len(cols) > len(want) {
			break
		}
	}
	if err := rows.Err(); err != nil {
		return sqliteError(err)
	}
	rows.Close()
	if !ok || len(cols) != len(want) {
		return corrupt("Packages has columns (%s), not (hnum INTEGER PRIMARY KEY, blob BLOB)", strings.Join(cols, ", "))
	}

	// Any index: one SQLite made for a constraint, for a primary key that
	// is not the rowid (INTEGER PRIMARY KEY DESC, WITHOUT ROWID), or one
	// the SQL above did not show.
	var indexes int
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM pragma_index_list('Packages')").Scan(&indexes); err != nil {
		return sqliteError(err)
	}
	if indexes != 0 {
		return corrupt("Packages has %d indexes and rpm's has none: its hnum is not the rowid, or it has constraints rpm's has not", indexes)
	}
	return nil
}

// sqlWords returns the first n words of the SQL text s, upper-cased, as
// SQLite's tokenizer reads them: runs of identifier characters separated by
// white space and comments. It stops at anything else, so that a statement
// whose start it cannot read returns fewer words.
func sqlWords(s string, n int) []string {
	var words []string
	for i := 0; i < len(s) && len(words) < n; {
		switch c := s[i]; {
		case c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r':
			i++
		case strings.HasPrefix(s[i:], "--"):
			j := strings.IndexByte(s[i:], '\n')
			if j < 0 {
				return words
			}
			i += j + 1
		case strings.HasPrefix(s[i:], "/*"):
			j := strings.Index(s[i+2:], "*/")
			if j < 0 {
				return words
			}
			i += 2 + j + 2
		case isIdentByte(c):
			j := i
			for j < len(s) && isIdentByte(s[j]) {
				j++
			}
			words = append(words, asciiUpper(s[i:j]))
			i = j
		default:
			return words
		}
	}
	return words
}

// isIdentByte reports whether SQLite's tokenizer takes c for part of an
// identifier or keyword: an ASCII letter or digit, '_', '$', or any byte of
// a multi-byte UTF-8 character.
func isIdentByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '$' || c >= 0x80
}

func asciiUpper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'a' <= c && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}

// asciiEqualFold compares names as SQLite does, ignoring the case of ASCII
// letters only.
func asciiEqualFold(a, b string) bool {
	return len(a) == len(b) && asciiUpper(a) == asciiUpper(b)
}
