package vulndb_test

import (
	"archive/zip"
	"bytes"
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kensa-dev/kensa/internal/advisory"
	"github.com/kensa-dev/kensa/internal/testfixture"
	"github.com/kensa-dev/kensa/internal/vulndb"
)

func open(t *testing.T) (*vulndb.Store, string) {
	t.Helper()
	p := filepath.Join(t.TempDir(), "sub", "vulndb.sqlite")
	s, err := vulndb.Open(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, p
}

func sources(t *testing.T, s *vulndb.Store) map[string]vulndb.Source {
	t.Helper()
	srcs, err := s.Sources(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]vulndb.Source{}
	for _, src := range srcs {
		m[src.Name] = src
	}
	return m
}

// Every feed of shared/vulndata is detected and imported under its name,
// with the record counts its README gives (or the parsers' tests pin).
func TestImportSharedVulndata(t *testing.T) {
	dir := testfixture.Shared(t, "vulndata")
	s, _ := open(t)
	res, err := s.Import(context.Background(), dir, vulndb.SourceMeta{})
	if err != nil {
		t.Fatal(err)
	}
	got := sources(t, s)
	for name, records := range map[string]int{
		"osv/Go": 4789, "osv/AlmaLinux": 5637, "osv/PyPI": 2661,
		"ubuntu-cvescan/focal": 9960, "ubuntu-cvescan/jammy": 12675,
		"debian/DSA": 5406, "debian/DLA": 3534, "kev": 1404,
		"alpine-secdb/v3.11/main": 1220,
	} {
		if got[name].Records != records {
			t.Errorf("%s: %d records, want %d", name, got[name].Records, records)
		}
	}
	if a := got["osv/AlmaLinux"]; a.Vulnerabilities != 4437 || !strings.Contains(strings.Join(a.Ecosystems, ","), "AlmaLinux:9") {
		t.Errorf("AlmaLinux: %+v (bug-fix and enhancement errata are not vulnerabilities)", a)
	}
	// The Go repository copy dates only its early records: no data time.
	if g := got["osv/Go"]; !g.DataTime().IsZero() || g.Undated < g.Records/2 {
		t.Errorf("osv/Go data time %v, undated %d of %d", g.DataTime(), g.Undated, g.Records)
	}
	if f := got["ubuntu-cvescan/focal"]; f.DataTime().Format("2006-01-02") != "2021-09-17" {
		t.Errorf("focal data time %v", f.DataTime())
	}
	var skippedSchema, skippedUCT bool
	for _, sk := range res.Skipped {
		skippedSchema = skippedSchema || strings.Contains(sk, "known_exploited_vulnerabilities_schema.json: a JSON Schema")
		skippedUCT = skippedUCT || strings.Contains(sk, "ubuntu-cve-tracker") && strings.Contains(sk, "no feed")
	}
	if !skippedSchema || !skippedUCT {
		t.Errorf("skipped: %q", res.Skipped)
	}
	// PyPI names are looked up normalised.
	c, err := s.Lookup(context.Background(), "PyPI", vulndb.PackageKey("PyPI", "JW_Util"))
	if err != nil || len(c) == 0 {
		t.Errorf("PyPI lookup by normalised name: %d, %v", len(c), err)
	}
}

func sec(id, eco, pkg, fixed string) *advisory.Advisory {
	return &advisory.Advisory{ID: id, Kind: advisory.KindSecurity, Affected: []advisory.Affected{{Ecosystem: eco, Package: pkg,
		Status: advisory.StatusAffected, Ranges: []advisory.Range{{Type: "ECOSYSTEM", Events: []advisory.Event{{Introduced: "0"}, {Fixed: fixed}}}}}}}
}

func writeZip(t *testing.T, p string, files map[string]string) {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, body := range files {
		w, _ := zw.Create(name)
		w.Write([]byte(body))
	}
	zw.Close()
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

const record = `{"id":"GO-2024-0001","modified":"2024-05-01T00:00:00Z","aliases":["CVE-2024-0001"],
"affected":[{"package":{"ecosystem":"Go","name":"example.com/m"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"1.2.0"}]}]}]}`

// A failed import changes nothing: the source keeps its previous data,
// whether the new data is truncated, invalid or empty.
func TestFailedImportKeepsPreviousData(t *testing.T) {
	ctx := context.Background()
	s, _ := open(t)
	dir := t.TempDir()
	good := filepath.Join(dir, "Go", "all.zip")
	os.MkdirAll(filepath.Dir(good), 0o755)
	writeZip(t, good, map[string]string{"GO-2024-0001.json": record, "GO-2024-0002.json": strings.ReplaceAll(record, "0001", "0002")})
	if _, err := s.Import(ctx, good, vulndb.SourceMeta{}); err != nil {
		t.Fatal(err)
	}
	before := sources(t, s)["osv/Go"]
	if before.Records != 2 {
		t.Fatalf("imported %+v", before)
	}
	data, _ := os.ReadFile(good)
	for name, bad := range map[string][]byte{
		"truncated zip": data[:len(data)/2],
		"bad record":    zipBytes(t, map[string]string{"GO-2024-0001.json": record, "GO-2024-0003.json": `{"id":"GO-2024-0003","modified":"not a time"}`}),
		"empty zip":     zipBytes(t, map[string]string{"README": "nothing"}),
	} {
		p := filepath.Join(dir, strings.ReplaceAll(name, " ", "-")+".zip")
		os.WriteFile(p, bad, 0o644)
		if _, err := s.Import(ctx, p, vulndb.SourceMeta{}); err == nil {
			t.Errorf("%s: imported without error", name)
		}
		after := sources(t, s)["osv/Go"]
		c, err := s.Lookup(ctx, "Go", "example.com/m")
		if after.Records != 2 || err != nil || len(c) != 2 {
			t.Errorf("%s: the previous data changed: %+v, %d candidates, %v", name, after, len(c), err)
		}
	}
	// An empty feed does not replace one that had records.
	_, err := s.ReplaceSource(ctx, vulndb.SourceMeta{}, func(w *vulndb.Writer) (advisory.Feed, error) {
		return advisory.Feed{Name: "osv/Go", Format: "osv"}, nil
	})
	if err == nil || sources(t, s)["osv/Go"].Records != 2 {
		t.Errorf("an empty feed replaced the source: %v", err)
	}
	// A cancelled import rolls back too.
	cctx, cancel := context.WithCancel(ctx)
	_, err = s.ReplaceSource(cctx, vulndb.SourceMeta{}, func(w *vulndb.Writer) (advisory.Feed, error) {
		if err := w.Add(cctx, sec("GO-9", "Go", "example.com/m", "9.0.0")); err != nil {
			return advisory.Feed{}, err
		}
		cancel()
		return advisory.Feed{Name: "osv/Go", Format: "osv"}, nil
	})
	if err == nil || sources(t, s)["osv/Go"].Records != 2 {
		t.Errorf("a cancelled import changed the source: %v", err)
	}
	// A successful re-import replaces the source entirely.
	writeZip(t, good, map[string]string{"GO-2024-0005.json": strings.ReplaceAll(record, "0001", "0005")})
	if _, err := s.Import(ctx, good, vulndb.SourceMeta{}); err != nil {
		t.Fatal(err)
	}
	if c, _ := s.Lookup(ctx, "Go", "example.com/m"); len(c) != 1 || c[0].Advisory.ID != "GO-2024-0005" {
		t.Errorf("after re-import: %+v", c)
	}
}

func zipBytes(t *testing.T, files map[string]string) []byte {
	p := filepath.Join(t.TempDir(), "z.zip")
	writeZip(t, p, files)
	b, _ := os.ReadFile(p)
	return b
}

func TestOpenErrors(t *testing.T) {
	ctx := context.Background()
	missing := filepath.Join(t.TempDir(), "none.sqlite")
	if _, err := vulndb.OpenExisting(ctx, missing); !errors.Is(err, vulndb.ErrNotFound) {
		t.Errorf("missing: %v", err)
	}
	if _, err := os.Stat(missing); err == nil {
		t.Error("OpenExisting created a database")
	}
	notDB := filepath.Join(t.TempDir(), "x.sqlite")
	os.WriteFile(notDB, []byte("this is not sqlite, but long enough to look like a file of some size"), 0o644)
	if _, err := vulndb.OpenExisting(ctx, notDB); err == nil {
		t.Error("a non-database opened")
	}
	s, p := open(t)
	s.Close()
	s2, err := vulndb.OpenExisting(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	s2.Close()
	// An unknown explicit file is refused with the formats listed.
	txt := filepath.Join(t.TempDir(), "notes.txt")
	os.WriteFile(txt, []byte("hello"), 0o644)
	s3, _ := open(t)
	if _, err := s3.Import(ctx, txt, vulndb.SourceMeta{}); err == nil || !strings.Contains(err.Error(), "formats:") {
		t.Errorf("unknown format: %v", err)
	}
}

func TestPackageKey(t *testing.T) {
	for in, want := range map[string]string{"Jinja2": "jinja2", "zope.interface": "zope-interface", "Foo__Bar-.baz": "foo-bar-baz", "a": "a"} {
		if got := vulndb.PackageKey("PyPI", in); got != want {
			t.Errorf("%q: %q, want %q", in, got, want)
		}
	}
	if vulndb.PackageKey("npm", "Foo_Bar") != "Foo_Bar" {
		t.Error("npm names are compared exactly")
	}
}

// A path with "#" and "?" opens the file named; another program's SQLite
// database is refused untouched, by Open and by OpenExisting.
func TestPathsAndForeignDatabases(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	odd := filepath.Join(dir, "my#d?b x.sqlite")
	s, err := vulndb.Open(ctx, odd)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := os.Stat(odd); err != nil {
		t.Fatalf("the file named was not created: %v", err)
	}
	if s, err := vulndb.OpenExisting(ctx, odd); err != nil {
		t.Fatal(err)
	} else {
		s.Close()
	}
	foreign := filepath.Join(dir, "app.sqlite")
	db, err := sql.Open("sqlite", foreign)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`CREATE TABLE users (name TEXT)`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	before, _ := os.ReadFile(foreign)
	if _, err := vulndb.OpenExisting(ctx, foreign); err == nil {
		t.Error("OpenExisting used another program's database")
	}
	if _, err := vulndb.Open(ctx, foreign); err == nil {
		t.Error("Open used another program's database")
	}
	after, _ := os.ReadFile(foreign)
	if !bytes.Equal(before, after) {
		t.Error("another program's database was changed")
	}
}

// A snapshot keeps reading the data it started with while an import
// replaces the source.
func TestSnapshotIsolation(t *testing.T) {
	ctx := context.Background()
	s, _ := open(t)
	put := func(fixed string) {
		t.Helper()
		_, err := s.ReplaceSource(ctx, vulndb.SourceMeta{}, func(w *vulndb.Writer) (advisory.Feed, error) {
			return advisory.Feed{Name: "osv/Go", Format: "osv"}, w.Add(ctx, sec("GO-1", "Go", "m", fixed))
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	put("1.0.0")
	snap, err := s.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer snap.Close()
	put("2.0.0")
	fixedIn := func(c []vulndb.Candidate) string { return c[0].Affected.Ranges[0].Events[1].Fixed }
	old, err := snap.Lookup(ctx, "Go", "m")
	if err != nil || len(old) != 1 || fixedIn(old) != "1.0.0" {
		t.Errorf("snapshot sees %+v, %v", old, err)
	}
	cur, _ := s.Lookup(ctx, "Go", "m")
	if len(cur) != 1 || fixedIn(cur) != "2.0.0" {
		t.Errorf("store sees %+v", cur)
	}
}
