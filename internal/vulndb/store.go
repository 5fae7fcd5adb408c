// Package vulndb is Kensa's local vulnerability store: one SQLite file
// holding the advisories of every imported feed, normalised to the
// advisory model, indexed by (ecosystem, package) for matching, with
// per-source metadata (records, data date, last update, HTTP validators)
// and CISA's Known Exploited Vulnerabilities catalog.
//
// Every import replaces one source in one transaction: a failed or
// interrupted import (a truncated download, a parse error, a killed
// process) rolls back and leaves the previous data of that source, and of
// every other source, fully usable. Readers (a scan running meanwhile)
// see either the old or the new source, never a mix: the file is in WAL
// mode.
package vulndb

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/kensa-dev/kensa/internal/advisory"

	_ "modernc.org/sqlite" // the pure-Go SQLite driver: Kensa builds with CGO_ENABLED=0
)

// SchemaVersion is the store's layout version. A store of another version
// is refused with a message to re-import, never migrated in place: the
// store is a cache of public data.
const SchemaVersion = 2

// ErrNotFound is returned by OpenExisting when there is no store at the path.
var ErrNotFound = errors.New("no vulnerability database")

const schema = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sources (
	name TEXT PRIMARY KEY,
	format TEXT NOT NULL,
	origin TEXT NOT NULL,
	records INTEGER NOT NULL,
	vulnerabilities INTEGER NOT NULL,
	newest_record INTEGER NOT NULL,  -- unix seconds, 0 when no record is dated
	undated INTEGER NOT NULL,        -- records without a modified or published date
	generated INTEGER NOT NULL,      -- when the publisher produced the data, 0 when unknown
	imported_at INTEGER NOT NULL,
	checked_at INTEGER NOT NULL,     -- last successful update check (an unchanged feed counts)
	etag TEXT NOT NULL DEFAULT '',
	last_modified TEXT NOT NULL DEFAULT '',
	sha256 TEXT NOT NULL DEFAULT '',
	ecosystems TEXT NOT NULL DEFAULT '[]'
);
CREATE TABLE IF NOT EXISTS advisories (
	id INTEGER PRIMARY KEY,
	source TEXT NOT NULL,
	advisory_id TEXT NOT NULL,
	kind TEXT NOT NULL,
	modified INTEGER NOT NULL,
	doc BLOB NOT NULL,               -- the advisory as JSON, without Affected
	UNIQUE (source, advisory_id)
);
CREATE TABLE IF NOT EXISTS affected (
	advisory INTEGER NOT NULL REFERENCES advisories(id) ON DELETE CASCADE,
	ecosystem TEXT NOT NULL,
	package TEXT NOT NULL,
	doc BLOB NOT NULL                -- the advisory.Affected as JSON
);
CREATE INDEX IF NOT EXISTS affected_lookup ON affected (ecosystem, package);
CREATE INDEX IF NOT EXISTS affected_advisory ON affected (advisory);
CREATE TABLE IF NOT EXISTS downloads (
	name TEXT PRIMARY KEY,           -- the fetch catalog's feed name
	url TEXT NOT NULL,
	etag TEXT NOT NULL,
	last_modified TEXT NOT NULL,
	sha256 TEXT NOT NULL,
	fetched_at INTEGER NOT NULL,
	sources TEXT NOT NULL            -- JSON list of the store sources it held
);
CREATE TABLE IF NOT EXISTS exploited (
	cve TEXT PRIMARY KEY,
	doc BLOB NOT NULL
);
`

// Store is an open vulnerability database.
type Store struct {
	db   *sql.DB
	q    querier // db, or the read transaction of a Snapshot
	path string
	now  func() time.Time
}

// querier is what reads go through: the database, or one transaction.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	PrepareContext(ctx context.Context, query string) (*sql.Stmt, error)
}

// Snapshot is a read-only view of the store at one moment: every read
// of a scan goes through it, so an import committing meanwhile is seen
// entirely or not at all, never for some packages and not others.
type Snapshot struct {
	view *Store // the store, reading through tx
	tx   *sql.Tx
}

// Snapshot starts a read-only view; Close ends it.
func (s *Store) Snapshot(ctx context.Context) (*Snapshot, error) {
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("vulndb: %w", err)
	}
	// A transaction's snapshot starts at its first read: read now.
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM sources`).Scan(&n); err != nil {
		tx.Rollback()
		return nil, fmt.Errorf("vulndb: %w", err)
	}
	view := *s
	view.q = tx
	return &Snapshot{view: &view, tx: tx}, nil
}

// Close ends the snapshot (the store stays open).
func (v *Snapshot) Close() error { return v.tx.Rollback() }

// Sources is Store.Sources in the snapshot.
func (v *Snapshot) Sources(ctx context.Context) ([]Source, error) { return v.view.Sources(ctx) }

// Lookup is Store.Lookup in the snapshot.
func (v *Snapshot) Lookup(ctx context.Context, ecosystem, name string) ([]Candidate, error) {
	return v.view.Lookup(ctx, ecosystem, name)
}

// Exploited is Store.Exploited in the snapshot.
func (v *Snapshot) Exploited(ctx context.Context, cves []string) (map[string]advisory.Exploited, error) {
	return v.view.Exploited(ctx, cves)
}

// DefaultPath is where the store lives unless --db or KENSA_DB says
// otherwise: the user's cache directory ($XDG_CACHE_HOME/kensa, or
// ~/.cache/kensa), since everything in it can be fetched again.
func DefaultPath() (string, error) {
	if p := os.Getenv("KENSA_DB"); p != "" {
		return p, nil
	}
	dir, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("vulndb: no cache directory for the default database (set --db or KENSA_DB): %w", err)
	}
	return filepath.Join(dir, "kensa", "vulndb.sqlite"), nil
}

// Open opens the store at path, creating it (and its directory, mode
// 0700) when missing.
func Open(ctx context.Context, path string) (*Store, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("vulndb: %w", err)
	}
	return open(ctx, path, true)
}

// OpenExisting opens the store at path for matching; it returns an error
// wrapping ErrNotFound when there is none, and never creates one.
func OpenExisting(ctx context.Context, path string) (*Store, error) {
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w at %s", ErrNotFound, path)
	}
	if err != nil {
		return nil, fmt.Errorf("vulndb: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("vulndb: %s is not a regular file", path)
	}
	return open(ctx, path, false)
}

func open(ctx context.Context, path string, create bool) (*Store, error) {
	// busy_timeout: an import and a scan may overlap; the scan waits for
	// the import's commit instead of failing.
	// The path is escaped: a "#" or "?" in it would otherwise end the file
	// name and drop the settings.
	dsn := "file:" + (&url.URL{Path: path}).EscapedPath() + "?_pragma=busy_timeout(10000)&_pragma=synchronous(NORMAL)&_pragma=foreign_keys(1)"
	if !create {
		dsn += "&mode=rw"
	}
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("vulndb: open %s: %w", path, err)
	}
	s := &Store{db: db, q: db, path: path, now: time.Now}
	if err := s.init(ctx, create); err != nil {
		db.Close()
		return nil, fmt.Errorf("vulndb: %s: %w", path, err)
	}
	// WAL (kept in the file) only once the file is known to be Kensa's:
	// readers then see a source before or after an import, never during.
	if _, err := db.ExecContext(ctx, `PRAGMA journal_mode=WAL`); err != nil {
		db.Close()
		return nil, fmt.Errorf("vulndb: %s: %w", path, err)
	}
	return s, nil
}

// init checks the layout of an existing store, and creates it in a new
// file when create is set. Without create, a file that is not a Kensa
// store (another program's SQLite database, a mistyped --db) is refused
// untouched.
func (s *Store) init(ctx context.Context, create bool) error {
	var v string
	err := s.db.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'schema_version'`).Scan(&v)
	switch {
	case err == nil:
		if v != fmt.Sprint(SchemaVersion) {
			return fmt.Errorf("database layout %s, this Kensa reads %d: delete the file and import again", v, SchemaVersion)
		}
		return nil
	case !strings.Contains(err.Error(), "no such table") && !errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("not a Kensa vulnerability database: %w", err)
	case !create:
		return errors.New("not a Kensa vulnerability database (no layout version): refusing to use or change it")
	}
	if errors.Is(err, sql.ErrNoRows) || s.hasTables(ctx) {
		return errors.New("not a Kensa vulnerability database (it holds other tables): refusing to change it")
	}
	if _, err := s.db.ExecContext(ctx, schema); err != nil {
		return err
	}
	_, err = s.db.ExecContext(ctx, `INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', ?)`, fmt.Sprint(SchemaVersion))
	return err
}

// hasTables reports whether the database holds any table: a file Open
// would create the schema in must be empty.
func (s *Store) hasTables(ctx context.Context) bool {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_schema WHERE type = 'table'`).Scan(&n)
	return err != nil || n > 0
}

// Path returns the file the store lives in.
func (s *Store) Path() string { return s.path }

// Close closes the store.
func (s *Store) Close() error { return s.db.Close() }

// SourceMeta is what the importer knows about where data came from.
type SourceMeta struct {
	// Origin is the file or URL the data was read from.
	Origin string
	// ETag, LastModified and SHA256 are the HTTP validators and checksum of
	// a download, kept for the next conditional request.
	ETag, LastModified, SHA256 string
}

// Source is one imported feed as the store records it.
type Source struct {
	Name   string `json:"name"`
	Format string `json:"format"`
	Origin string `json:"origin"`
	// Records counts every record; Vulnerabilities those that can be
	// matched (security advisories that are not withdrawn).
	Records         int `json:"records"`
	Vulnerabilities int `json:"vulnerabilities"`
	// NewestRecord is the newest modified (or published) date of a record;
	// zero when the feed dates none (the Go database's repository copy).
	NewestRecord time.Time `json:"newest_record,omitzero"`
	// Undated counts the records without any date.
	Undated int `json:"undated,omitempty"`
	// Generated is when the publisher produced the data, when it says.
	Generated  time.Time `json:"generated,omitzero"`
	ImportedAt time.Time `json:"imported_at"`
	CheckedAt  time.Time `json:"checked_at"`
	// Ecosystems are the ecosystems the source has advisories for.
	Ecosystems   []string `json:"ecosystems"`
	ETag         string   `json:"etag,omitempty"`
	LastModified string   `json:"last_modified,omitempty"`
	SHA256       string   `json:"sha256,omitempty"`
}

// DataTime is how recent the source's data is: when the publisher
// generated it, else its newest record; zero when the data does not tell,
// in which case callers fall back on ImportedAt and say so. A feed that
// dates fewer than half of its records does not tell: the repository copy
// of the Go database dates only its 2021-2022 records, and its newest
// dated record would make 2026 data look four years old.
func (s Source) DataTime() time.Time {
	if !s.Generated.IsZero() {
		return s.Generated
	}
	if s.Undated*2 > s.Records {
		return time.Time{}
	}
	return s.NewestRecord
}

// Sources lists the imported sources, by name.
func (s *Store) Sources(ctx context.Context) ([]Source, error) {
	rows, err := s.q.QueryContext(ctx, `SELECT name, format, origin, records, vulnerabilities, newest_record, undated, generated,
		imported_at, checked_at, etag, last_modified, sha256, ecosystems FROM sources ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("vulndb: %w", err)
	}
	defer rows.Close()
	var out []Source
	for rows.Next() {
		var src Source
		var newest, generated, imported, checked int64
		var ecos string
		if err := rows.Scan(&src.Name, &src.Format, &src.Origin, &src.Records, &src.Vulnerabilities, &newest, &src.Undated, &generated,
			&imported, &checked, &src.ETag, &src.LastModified, &src.SHA256, &ecos); err != nil {
			return nil, fmt.Errorf("vulndb: %w", err)
		}
		src.NewestRecord, src.Generated = unixOrZero(newest), unixOrZero(generated)
		src.ImportedAt, src.CheckedAt = unixOrZero(imported), unixOrZero(checked)
		if err := json.Unmarshal([]byte(ecos), &src.Ecosystems); err != nil {
			return nil, fmt.Errorf("vulndb: source %s: %w", src.Name, err)
		}
		out = append(out, src)
	}
	return out, rows.Err()
}

func unixOrZero(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.Unix(v, 0).UTC()
}

// Writer adds the advisories of one source inside an import transaction.
type Writer struct {
	tx        *sql.Tx
	temp      string
	insAdv    *sql.Stmt
	insAff    *sql.Stmt
	records   int
	vulns     int
	undated   int
	newest    time.Time
	ecosystem map[string]bool
}

// Add stores one advisory. A record id repeated within one source merges
// its affected packages into the first record.
func (w *Writer) Add(ctx context.Context, a *advisory.Advisory) error {
	if a.ID == "" {
		return errors.New("advisory without an id")
	}
	doc := *a
	doc.Affected = nil
	body, err := json.Marshal(&doc)
	if err != nil {
		return err
	}
	modified := a.Modified
	if modified.IsZero() {
		modified = a.Published
	}
	var id int64
	err = w.insAdv.QueryRowContext(ctx, w.temp, a.ID, a.Kind, modified.Unix(), body).Scan(&id)
	if err != nil {
		return fmt.Errorf("%s: %w", a.ID, err)
	}
	for i := range a.Affected {
		af := &a.Affected[i]
		if af.Ecosystem == "" || af.Package == "" {
			return fmt.Errorf("%s: affected package without ecosystem or name", a.ID)
		}
		body, err := json.Marshal(af)
		if err != nil {
			return err
		}
		if _, err := w.insAff.ExecContext(ctx, id, af.Ecosystem, PackageKey(af.Ecosystem, af.Package), body); err != nil {
			return fmt.Errorf("%s: %w", a.ID, err)
		}
		w.ecosystem[af.Ecosystem] = true
	}
	w.records++
	if a.IsVulnerability() {
		w.vulns++
	}
	if modified.IsZero() {
		w.undated++
	}
	if modified.After(w.newest) {
		w.newest = modified
	}
	return nil
}

// ReplaceSource imports one source: fill parses the data and calls
// w.Add for each advisory, returning the feed it read (whose Name is the
// source replaced). Everything happens in one transaction; on any error
// nothing changes.
func (s *Store) ReplaceSource(ctx context.Context, meta SourceMeta, fill func(w *Writer) (advisory.Feed, error)) (Source, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return Source{}, fmt.Errorf("vulndb: %w", err)
	}
	defer tx.Rollback()
	w := &Writer{tx: tx, temp: fmt.Sprintf("\x00import-%d", s.now().UnixNano()), ecosystem: map[string]bool{}}
	if w.insAdv, err = tx.PrepareContext(ctx, `INSERT INTO advisories (source, advisory_id, kind, modified, doc) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (source, advisory_id) DO UPDATE SET advisory_id = excluded.advisory_id RETURNING id`); err != nil {
		return Source{}, fmt.Errorf("vulndb: %w", err)
	}
	if w.insAff, err = tx.PrepareContext(ctx, `INSERT INTO affected (advisory, ecosystem, package, doc) VALUES (?, ?, ?, ?)`); err != nil {
		return Source{}, fmt.Errorf("vulndb: %w", err)
	}
	feed, err := fill(w)
	if err != nil {
		return Source{}, err
	}
	if feed.Name == "" {
		return Source{}, errors.New("vulndb: the parser named no source")
	}
	if w.records == 0 {
		// A feed may be empty (an Alpine repository without fixes), but an
		// empty download must not wipe out data: an empty feed replaces
		// only a source that had no records either.
		var had int
		err := tx.QueryRowContext(ctx, `SELECT records FROM sources WHERE name = ?`, feed.Name).Scan(&had)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return Source{}, fmt.Errorf("vulndb: %w", err)
		}
		if had > 0 {
			return Source{}, fmt.Errorf("vulndb: %s: the new data has no records: refusing to replace the %d records kept", feed.Name, had)
		}
	}
	if err := ctx.Err(); err != nil {
		return Source{}, err
	}
	if err := deleteSource(ctx, tx, feed.Name); err != nil {
		return Source{}, fmt.Errorf("vulndb: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE advisories SET source = ? WHERE source = ?`, feed.Name, w.temp); err != nil {
		return Source{}, fmt.Errorf("vulndb: %w", err)
	}
	ecos := make([]string, 0, len(w.ecosystem))
	for e := range w.ecosystem {
		ecos = append(ecos, e)
	}
	slices.Sort(ecos)
	ecosJSON, _ := json.Marshal(ecos)
	now := s.now().UTC().Truncate(time.Second)
	src := Source{
		Name: feed.Name, Format: feed.Format, Origin: meta.Origin, Records: w.records, Vulnerabilities: w.vulns,
		NewestRecord: w.newest.UTC().Truncate(time.Second), Undated: w.undated, Generated: feed.Generated.UTC().Truncate(time.Second),
		ImportedAt: now, CheckedAt: now, Ecosystems: ecos, ETag: meta.ETag, LastModified: meta.LastModified, SHA256: meta.SHA256,
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO sources (name, format, origin, records, vulnerabilities, newest_record, undated, generated,
		imported_at, checked_at, etag, last_modified, sha256, ecosystems) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		src.Name, src.Format, src.Origin, src.Records, src.Vulnerabilities, unixOf(src.NewestRecord), src.Undated, unixOf(src.Generated),
		now.Unix(), now.Unix(), src.ETag, src.LastModified, src.SHA256, string(ecosJSON)); err != nil {
		return Source{}, fmt.Errorf("vulndb: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return Source{}, fmt.Errorf("vulndb: commit %s: %w", feed.Name, err)
	}
	return src, nil
}

func unixOf(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}

func deleteSource(ctx context.Context, tx *sql.Tx, name string) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM affected WHERE advisory IN (SELECT id FROM advisories WHERE source = ?)`, name); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM advisories WHERE source = ?`, name); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `DELETE FROM sources WHERE name = ?`, name)
	return err
}

// ReplaceExploited replaces the Known Exploited Vulnerabilities catalog.
func (s *Store) ReplaceExploited(ctx context.Context, meta SourceMeta, generated time.Time, entries []advisory.Exploited) (Source, error) {
	if len(entries) == 0 {
		return Source{}, errors.New("vulndb: the KEV catalog is empty: refusing to replace it with nothing")
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return Source{}, fmt.Errorf("vulndb: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `DELETE FROM exploited`); err != nil {
		return Source{}, fmt.Errorf("vulndb: %w", err)
	}
	ins, err := tx.PrepareContext(ctx, `INSERT OR REPLACE INTO exploited (cve, doc) VALUES (?, ?)`)
	if err != nil {
		return Source{}, fmt.Errorf("vulndb: %w", err)
	}
	var newest time.Time
	for _, e := range entries {
		body, _ := json.Marshal(e)
		if _, err := ins.ExecContext(ctx, e.CVE, body); err != nil {
			return Source{}, fmt.Errorf("vulndb: %s: %w", e.CVE, err)
		}
		if t, err := time.Parse(time.DateOnly, e.DateAdded); err == nil && t.After(newest) {
			newest = t
		}
	}
	name := "kev"
	if err := deleteSource(ctx, tx, name); err != nil {
		return Source{}, fmt.Errorf("vulndb: %w", err)
	}
	now := s.now().UTC().Truncate(time.Second)
	src := Source{Name: name, Format: "kev", Origin: meta.Origin, Records: len(entries), Vulnerabilities: len(entries),
		NewestRecord: newest, Generated: generated.UTC(), ImportedAt: now, CheckedAt: now, Ecosystems: []string{},
		ETag: meta.ETag, LastModified: meta.LastModified, SHA256: meta.SHA256}
	if _, err := tx.ExecContext(ctx, `INSERT INTO sources (name, format, origin, records, vulnerabilities, newest_record, undated, generated,
		imported_at, checked_at, etag, last_modified, sha256, ecosystems) VALUES (?, 'kev', ?, ?, ?, ?, 0, ?, ?, ?, ?, ?, ?, '[]')`,
		name, meta.Origin, len(entries), len(entries), unixOf(newest), unixOf(src.Generated), now.Unix(), now.Unix(),
		meta.ETag, meta.LastModified, meta.SHA256); err != nil {
		return Source{}, fmt.Errorf("vulndb: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return Source{}, fmt.Errorf("vulndb: commit kev: %w", err)
	}
	return src, nil
}

// Candidate is one affected entry found for a package, with its advisory
// and the source that holds it.
type Candidate struct {
	Source   string
	Advisory *advisory.Advisory
	Affected advisory.Affected
}

// Lookup returns the affected entries of package name in ecosystem, in a
// stable order (source, advisory id). Advisories are decoded once per
// call and shared between their entries.
func (s *Store) Lookup(ctx context.Context, ecosystem, name string) ([]Candidate, error) {
	rows, err := s.q.QueryContext(ctx, `SELECT a.source, a.id, a.doc, f.doc FROM affected f JOIN advisories a ON a.id = f.advisory
		WHERE f.ecosystem = ? AND f.package = ? ORDER BY a.source, a.advisory_id`, ecosystem, name)
	if err != nil {
		return nil, fmt.Errorf("vulndb: lookup %s %s: %w", ecosystem, name, err)
	}
	defer rows.Close()
	var out []Candidate
	decoded := map[int64]*advisory.Advisory{}
	for rows.Next() {
		var c Candidate
		var id int64
		var adoc, fdoc []byte
		if err := rows.Scan(&c.Source, &id, &adoc, &fdoc); err != nil {
			return nil, fmt.Errorf("vulndb: %w", err)
		}
		a := decoded[id]
		if a == nil {
			a = new(advisory.Advisory)
			if err := json.Unmarshal(adoc, a); err != nil {
				return nil, fmt.Errorf("vulndb: advisory %d: %w", id, err)
			}
			decoded[id] = a
		}
		c.Advisory = a
		if err := json.Unmarshal(fdoc, &c.Affected); err != nil {
			return nil, fmt.Errorf("vulndb: %s: %w", a.ID, err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// Ecosystems returns the ecosystems the store has advisories for, with the
// sources that cover each.
func (s *Store) Ecosystems(ctx context.Context) (map[string][]string, error) {
	srcs, err := s.Sources(ctx)
	if err != nil {
		return nil, err
	}
	out := map[string][]string{}
	for _, src := range srcs {
		for _, e := range src.Ecosystems {
			out[e] = append(out[e], src.Name)
		}
	}
	return out, nil
}

// Exploited returns the KEV entries of the given CVE ids that are in the
// catalog.
func (s *Store) Exploited(ctx context.Context, cves []string) (map[string]advisory.Exploited, error) {
	out := map[string]advisory.Exploited{}
	stmt, err := s.q.PrepareContext(ctx, `SELECT doc FROM exploited WHERE cve = ?`)
	if err != nil {
		return nil, fmt.Errorf("vulndb: %w", err)
	}
	defer stmt.Close()
	for _, c := range cves {
		if _, done := out[c]; done {
			continue
		}
		var doc []byte
		err := stmt.QueryRowContext(ctx, c).Scan(&doc)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("vulndb: %w", err)
		}
		var e advisory.Exploited
		if err := json.Unmarshal(doc, &e); err != nil {
			return nil, fmt.Errorf("vulndb: kev %s: %w", c, err)
		}
		out[c] = e
	}
	return out, nil
}

// PackageKey is the name a package is indexed and looked up by in
// ecosystem. PyPI names compare after PEP 503 normalisation (lower case,
// runs of "-", "_" and "." as one "-"): "Jinja2", "jinja2" and
// "zope.interface" / "zope-interface" are each one project. Other
// ecosystems compare names exactly.
func PackageKey(ecosystem, name string) string {
	if ecosystem != "PyPI" {
		return name
	}
	var b strings.Builder
	sep := false
	for _, r := range strings.ToLower(name) {
		if r == '-' || r == '_' || r == '.' {
			sep = true
			continue
		}
		if sep && b.Len() > 0 {
			b.WriteByte('-')
		}
		sep = false
		b.WriteRune(r)
	}
	return b.String()
}

// Download is what the store remembers of a feed's last download, for
// the next conditional request.
type Download struct {
	Name, URL                  string
	ETag, LastModified, SHA256 string
	FetchedAt                  time.Time
	// Sources are the store sources the download held.
	Sources []string
}

// LastDownload returns the last successful download of feed name.
func (s *Store) LastDownload(ctx context.Context, name string) (Download, bool, error) {
	d := Download{Name: name}
	var fetched int64
	var srcs string
	err := s.db.QueryRowContext(ctx, `SELECT url, etag, last_modified, sha256, fetched_at, sources FROM downloads WHERE name = ?`, name).
		Scan(&d.URL, &d.ETag, &d.LastModified, &d.SHA256, &fetched, &srcs)
	if errors.Is(err, sql.ErrNoRows) {
		return d, false, nil
	}
	if err != nil {
		return d, false, fmt.Errorf("vulndb: %w", err)
	}
	d.FetchedAt = unixOrZero(fetched)
	if err := json.Unmarshal([]byte(srcs), &d.Sources); err != nil {
		return d, false, fmt.Errorf("vulndb: download %s: %w", name, err)
	}
	return d, true, nil
}

// RecordDownload remembers a successful download (or a check that found
// the feed unchanged, which also moves the checked time of its sources).
func (s *Store) RecordDownload(ctx context.Context, d Download) error {
	srcs, _ := json.Marshal(d.Sources)
	if d.Sources == nil {
		srcs = []byte("[]")
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("vulndb: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `INSERT OR REPLACE INTO downloads (name, url, etag, last_modified, sha256, fetched_at, sources)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, d.Name, d.URL, d.ETag, d.LastModified, d.SHA256, unixOf(d.FetchedAt), string(srcs)); err != nil {
		return fmt.Errorf("vulndb: %w", err)
	}
	for _, src := range d.Sources {
		if _, err := tx.ExecContext(ctx, `UPDATE sources SET checked_at = ? WHERE name = ?`, unixOf(d.FetchedAt), src); err != nil {
			return fmt.Errorf("vulndb: %w", err)
		}
	}
	return tx.Commit()
}
