package rpm

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// testHeaders returns the package headers of testdata/rpm418/rpmdb.sqlite,
// a database written by rpm 4.18 (see make-rpmdb.sh): real headers to
// build databases of the other formats with.
func testHeaders(t testing.TB) [][]byte {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join("testdata", "rpm418", "rpmdb.sqlite")+"?mode=ro&immutable=1")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query("SELECT blob FROM Packages ORDER BY hnum")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var blobs [][]byte
	for rows.Next() {
		var b []byte
		if err := rows.Scan(&b); err != nil {
			t.Fatal(err)
		}
		blobs = append(blobs, b)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(blobs) != 4 {
		t.Fatalf("testdata holds %d headers, want 4", len(blobs))
	}
	return blobs
}

// buildBDB lays headers out as rpm's Berkeley DB hash database does, in
// little-endian order: page 0 hash metadata, page 1 one hash page whose
// entries are key/off-page-value pairs, then each value in its chain of
// overflow pages.
func buildBDB(headers [][]byte, pageSize int) []byte {
	le := binary.LittleEndian
	room := pageSize - bdbPageHeader
	var chains [][][]byte
	npages := 2
	for _, h := range headers {
		var chain [][]byte
		for off := 0; off < len(h); off += room {
			chain = append(chain, h[off:min(off+room, len(h))])
		}
		chains = append(chains, chain)
		npages += len(chain)
	}
	db := make([]byte, npages*pageSize)
	meta := db[:pageSize]
	le.PutUint32(meta[12:], bdbHashMagic)
	le.PutUint32(meta[16:], 9) // hash version
	le.PutUint32(meta[20:], uint32(pageSize))
	meta[25] = bdbHashMeta
	le.PutUint32(meta[32:], uint32(npages-1))

	hash := db[pageSize : 2*pageSize]
	le.PutUint32(hash[8:], 1)
	le.PutUint16(hash[20:], uint16(2*len(headers)))
	hash[25] = bdbHashPage
	free := pageSize
	next := 2
	for i, chain := range chains {
		// The value: an off-page reference to the chain.
		free -= bdbHOffSize
		val := hash[free:]
		val[0] = bdbHOffPage
		le.PutUint32(val[4:], uint32(next))
		le.PutUint32(val[8:], uint32(len(headers[i])))
		// The key: a 4-byte package number.
		free -= 5
		hash[free] = 1 // H_KEYDATA
		le.PutUint32(hash[free+1:], uint32(i+1))
		le.PutUint16(hash[bdbPageHeader+4*i:], uint16(free))
		le.PutUint16(hash[bdbPageHeader+4*i+2:], uint16(free+5))
		for j, part := range chain {
			pg := db[(next+j)*pageSize : (next+j+1)*pageSize]
			le.PutUint32(pg[8:], uint32(next+j))
			if j > 0 {
				le.PutUint32(pg[12:], uint32(next+j-1))
			}
			if j < len(chain)-1 {
				le.PutUint32(pg[16:], uint32(next+j+1))
			}
			le.PutUint16(pg[22:], uint16(len(part)))
			pg[25] = bdbOverflow
			copy(pg[bdbPageHeader:], part)
		}
		next += len(chain)
	}
	le.PutUint16(hash[22:], uint16(free))
	return db
}

// buildNDB lays headers out as rpm's NDB Packages.db does: a 32-byte
// header, one 4 KiB slot page, then each header as a blob on 16-byte blocks.
func buildNDB(headers [][]byte) []byte {
	le := binary.LittleEndian
	db := make([]byte, 4096)
	le.PutUint32(db[0:], ndbMagic)
	le.PutUint32(db[12:], 1) // slot pages
	for i := 0; i < 4096/16-2; i++ {
		le.PutUint32(db[32+16*i:], ndbSlotMagic)
	}
	for i, h := range headers {
		off := len(db)
		blob := make([]byte, 16+len(h))
		le.PutUint32(blob[0:], ndbBlobMagic)
		le.PutUint32(blob[4:], uint32(i+1))
		le.PutUint32(blob[12:], uint32(len(h)))
		copy(blob[16:], h)
		for len(blob)%16 != 0 {
			blob = append(blob, 0)
		}
		db = append(db, blob...)
		s := db[32+16*i:]
		le.PutUint32(s[4:], uint32(i+1))
		le.PutUint32(s[8:], uint32(off/16))
		le.PutUint32(s[12:], uint32(len(blob)/16))
	}
	return db
}

func writeTemp(t testing.TB, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// checkAndList runs the check and, when it passes, go-rpmdb, as the
// collector does; it fails the test if either takes too long.
func checkAndList(t testing.TB, p string, f format) (headers, pkgs int, err error) {
	t.Helper()
	type result struct {
		headers, pkgs int
		err           error
	}
	done := make(chan result, 1)
	go func() {
		n, err := checkDatabase(context.Background(), p, f, false)
		if err != nil {
			done <- result{n, 0, err}
			return
		}
		list, err := listPackages(p)
		done <- result{n, len(list), err}
	}()
	select {
	case r := <-done:
		return r.headers, r.pkgs, r.err
	case <-time.After(time.Minute):
		t.Fatalf("%s: no answer after a minute", p)
		return 0, 0, nil
	}
}

// TestBuiltDatabases shows that the builders write databases go-rpmdb
// reads, so that the broken variants below differ from a sound database
// by the one defect each introduces.
func TestBuiltDatabases(t *testing.T) {
	hs := testHeaders(t)
	for _, ps := range []int{512, 4096} {
		n, pkgs, err := checkAndList(t, writeTemp(t, "Packages", buildBDB(hs, ps)), formatBDB)
		if err != nil || n != 4 || pkgs != 4 {
			t.Errorf("bdb, pages of %d: %d headers, %d packages, %v; want 4, 4, nil", ps, n, pkgs, err)
		}
	}
	n, pkgs, err := checkAndList(t, writeTemp(t, "Packages.db", buildNDB(hs)), formatNDB)
	if err != nil || n != 4 || pkgs != 4 {
		t.Errorf("ndb: %d headers, %d packages, %v; want 4, 4, nil", n, pkgs, err)
	}
}

// TestCheckRejectsHazards feeds defects on which go-rpmdb v0.1.1 itself
// would crash the process (a panic in its reader goroutine), never return,
// exhaust memory, or print to stdout. Each must be refused by the check,
// quickly, with errCorrupt.
func TestCheckRejectsHazards(t *testing.T) {
	hs := testHeaders(t)
	le := binary.LittleEndian
	const ps = 512
	bdb := func(mutate func(db []byte)) []byte {
		db := buildBDB(hs, ps)
		mutate(db)
		return db
	}
	page := func(db []byte, n int) []byte { return db[n*ps : (n+1)*ps] }
	// firstChain is the first overflow page of the first header.
	const firstChain = 2
	ndb := func(mutate func(db []byte)) []byte {
		db := buildNDB(hs)
		mutate(db)
		return db
	}
	tests := []struct {
		name string
		file string
		f    format
		data []byte
		want string
	}{
		{"bdb chain reaches a hash page (go-rpmdb: endless loop)", "Packages", formatBDB,
			bdb(func(db []byte) { page(db, firstChain)[25] = bdbHashPage }), "not an overflow page"},
		{"bdb chain loops (go-rpmdb: endless loop, unbounded memory)", "Packages", formatBDB,
			bdb(func(db []byte) {
				// The first chain is several pages long; point its second page back.
				le.PutUint32(page(db, firstChain+1)[16:], firstChain)
			}), "loops"},
		{"bdb hash entries overflow the page (go-rpmdb: panic in goroutine)", "Packages", formatBDB,
			bdb(func(db []byte) { le.PutUint16(page(db, 1)[20:], 1000) }), "overflow the page"},
		{"bdb entry offset beyond the page (go-rpmdb: panic in goroutine)", "Packages", formatBDB,
			bdb(func(db []byte) { le.PutUint16(page(db, 1)[bdbPageHeader+2:], ps+10) }), "beyond the page"},
		{"bdb off-page entry at the page end (go-rpmdb: panic in goroutine)", "Packages", formatBDB,
			bdb(func(db []byte) {
				le.PutUint16(page(db, 1)[bdbPageHeader+2:], ps-4)
				page(db, 1)[ps-4] = bdbHOffPage
			}), "beyond the page"},
		{"bdb last overflow length beyond the page (go-rpmdb: panic in goroutine)", "Packages", formatBDB,
			bdb(func(db []byte) {
				for n := firstChain; ; n++ {
					if le.Uint32(page(db, n)[16:]) == 0 {
						le.PutUint16(page(db, n)[22:], ps)
						return
					}
				}
			}), "length beyond the page"},
		{"bdb chain shared by many entries (go-rpmdb: quadratic work)", "Packages", formatBDB,
			func() []byte {
				// One header padded to a 64-page chain, then 100 hash entries
				// that all point at that chain.
				big := make([]byte, 64*ps)
				copy(big, hs[1])
				db := buildBDB([][]byte{big}, ps)
				h := page(db, 1)
				le.PutUint16(h[20:], 200)
				for i := 0; i < 100; i++ {
					le.PutUint16(h[bdbPageHeader+4*i:], uint16(ps-bdbHOffSize-5))
					le.PutUint16(h[bdbPageHeader+4*i+2:], uint16(ps-bdbHOffSize))
				}
				return db
			}(), "share pages"},
		{"ndb bad slot magic (go-rpmdb: prints to stdout)", "Packages.db", formatNDB,
			ndb(func(db []byte) { le.PutUint32(db[32+16*10:], 0xdeadbeef) }), "bad magic"},
		{"ndb blob length past the file (go-rpmdb: allocates it)", "Packages.db", formatNDB,
			ndb(func(db []byte) { le.PutUint32(db[4096+12:], 0xfffffff0) }), "does not fit"},
		{"ndb bad blob magic (go-rpmdb: reader blocks forever)", "Packages.db", formatNDB,
			ndb(func(db []byte) { le.PutUint32(db[4096:], 0) }), "bad blob magic"},
		{"ndb slots share one blob (go-rpmdb: multiplied work)", "Packages.db", formatNDB,
			func() []byte {
				db := buildNDB([][]byte{hs[1]})
				for i := 1; i < 4096/16-2; i++ {
					copy(db[32+16*i:32+16*i+16], db[32:48])
				}
				return db
			}(), "overlap"},
		{"header claims 2^31-1 index entries (go-rpmdb: 32 GiB allocation)", "Packages.db", formatNDB,
			buildNDB([][]byte{makeHeader(nil, 0x7fffffff, [4]uint32{1000, 8, 0, 1})}), "index entries"},
		{"header string array of 4 billion strings (go-rpmdb: endless scan)", "Packages.db", formatNDB,
			buildNDB([][]byte{makeHeader([]byte("a\x00"), 0, [4]uint32{1000, 8, 0, 0xffffffff})}), "run past the data"},
		{"header strings without a NUL (go-rpmdb: rescans the data count times)", "Packages.db", formatNDB,
			buildNDB([][]byte{makeHeader(bytes.Repeat([]byte("a"), 4096), 0, [4]uint32{1000, 8, 0, 0xffffffff})}), "unterminated"},
		{"header entries all on the same strings (go-rpmdb: il times dl)", "Packages.db", formatNDB,
			buildNDB([][]byte{makeHeader(bytes.Repeat([]byte("a\x00"), 100), 0, manyEntries(1000, [4]uint32{1000, 8, 0, 100})...)}), "overlap"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := checkAndList(t, writeTemp(t, tc.file, tc.data), tc.f)
			if !errors.Is(err, errCorrupt) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want errCorrupt with %q", err, tc.want)
			}
		})
	}
}

// TestCheckSQLiteSharedPages: SQLite does not notice b-tree pages shared
// between parents while it scans a table, so a few pages can yield any
// number of rows, and of bytes. Here every child pointer of the root of
// Packages points at its first leaf, which holds a 1 MiB row: a database of
// under 2 MiB that yields some 150 MiB. (With a level more of shared
// interior pages the count multiplies again, to whatever time a reader has.)
func TestCheckSQLiteSharedPages(t *testing.T) {
	p := filepath.Join(t.TempDir(), "rpmdb.sqlite")
	db, err := sql.Open("sqlite", p)
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	var root, pageSize int
	for _, s := range []string{
		"CREATE TABLE 'Packages' (hnum INTEGER PRIMARY KEY AUTOINCREMENT,blob BLOB NOT NULL)",
		"INSERT INTO Packages (blob) VALUES (zeroblob(1 << 20))",
		"INSERT INTO Packages (blob) WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c LIMIT 20000) SELECT zeroblob(24) FROM c",
	} {
		if _, err := db.Exec(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	if err := db.QueryRow("SELECT rootpage FROM sqlite_master WHERE name = 'Packages'").Scan(&root); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow("PRAGMA page_size").Scan(&pageSize); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	page := b[(root-1)*pageSize : root*pageSize]
	be := binary.BigEndian
	// An interior table b-tree page: type 5, cell count at 3, right-most
	// child at 8, cell pointers from 12; each cell starts with its child.
	if page[0] != 5 || be.Uint16(page[3:]) < 2 {
		t.Fatalf("root page %d of type %d with %d cells; want an interior page", root, page[0], be.Uint16(page[3:]))
	}
	cells := int(be.Uint16(page[3:]))
	first := be.Uint32(page[be.Uint16(page[12:]):])
	for i := 1; i < cells; i++ {
		be.PutUint32(page[be.Uint16(page[12+2*i:]):], first)
	}
	be.PutUint32(page[8:], first)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}

	_, _, err = checkAndList(t, p, formatSQLite)
	if !errors.Is(err, errCorrupt) || !strings.Contains(err.Error(), "rows hold more than the") {
		t.Errorf("got %v, want errCorrupt: more bytes than the database", err)
	}
}

// TestCheckSQLiteBudget: the check of a SQLite database ends with its time
// budget, or with the caller's context, whichever ends first.
func TestCheckSQLiteBudget(t *testing.T) {
	sq, err := os.ReadFile(filepath.Join("testdata", "rpm418", "rpmdb.sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	if n, err := checkSQLite(context.Background(), writeTemp(t, "rpmdb.sqlite", sq), time.Minute); err != nil || n != 4 {
		t.Fatalf("sound database: %d headers, %v", n, err)
	}
	if _, err := checkSQLite(context.Background(), writeTemp(t, "rpmdb.sqlite", sq), 0); !errors.Is(err, errTooSlow) {
		t.Errorf("no time: got %v, want errTooSlow", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := checkSQLite(ctx, writeTemp(t, "rpmdb.sqlite", sq), time.Minute); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled: got %v, want context.Canceled", err)
	}
}

// TestCheckSQLitePath: the copy is opened as a URI, and a path with the
// characters a URI gives meaning to names the same file.
func TestCheckSQLitePath(t *testing.T) {
	sq, err := os.ReadFile(filepath.Join("testdata", "rpm418", "rpmdb.sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "a?b#c%25d e")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "rpmdb.sqlite")
	if err := os.WriteFile(p, sq, 0o600); err != nil {
		t.Fatal(err)
	}
	if n, err := checkSQLite(context.Background(), p, time.Minute); err != nil || n != 4 {
		t.Errorf("%d headers, %v; want 4", n, err)
	}
	if ents, _ := os.ReadDir(filepath.Dir(dir)); len(ents) != 1 {
		t.Errorf("%d entries beside the database's directory; want it alone", len(ents))
	}
	// The connection runs with trusted_schema off and query_only on.
	dsn, err := sqliteDSN(p)
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var trusted, queryOnly, packages int
	if err := db.QueryRow("SELECT trusted_schema, query_only, (SELECT count(*) FROM Packages) FROM pragma_trusted_schema, pragma_query_only").Scan(&trusted, &queryOnly, &packages); err != nil {
		t.Fatal(err)
	}
	if trusted != 0 || queryOnly != 1 || packages != 4 {
		t.Errorf("trusted_schema %d, query_only %d, %d packages; want 0, 1, 4", trusted, queryOnly, packages)
	}
	if _, err := db.Exec("DELETE FROM Packages"); err == nil {
		t.Error("the connection writes")
	}
}

func TestSQLWords(t *testing.T) {
	for _, tc := range []struct {
		sql  string
		want []string
	}{
		{"CREATE TABLE 'Packages' (hnum INTEGER)", []string{"CREATE", "TABLE"}},
		{"create\tvirtual\r\ntable x", []string{"CREATE", "VIRTUAL", "TABLE"}},
		{"CREATE/* TABLE */VIRTUAL TABLE x", []string{"CREATE", "VIRTUAL", "TABLE"}},
		{"CREATE -- TABLE\n VIRTUAL TABLE x", []string{"CREATE", "VIRTUAL", "TABLE"}},
		{"CREATE UNIQUE INDEX i ON t(x)", []string{"CREATE", "UNIQUE", "INDEX"}},
		{"CREATE /* unterminated", []string{"CREATE"}},
		{"CREATE -- to the end", []string{"CREATE"}},
		{"CREATE\vTABLE x", []string{"CREATE"}},
		{"CREATE \"TABLE\" x", []string{"CREATE"}},
		{"CREATE tabl\u0131 x", []string{"CREATE", "TABL\u0131", "X"}},
		{"", nil},
	} {
		if got := sqlWords(tc.sql, 3); !slices.Equal(got, tc.want) {
			t.Errorf("sqlWords(%q) = %q, want %q", tc.sql, got, tc.want)
		}
	}
}

// makeHeader builds an rpm header blob from index entries (tag, type,
// offset, count) and data. il, when not 0, overrides the entry count.
func makeHeader(data []byte, il uint32, entries ...[4]uint32) []byte {
	be := binary.BigEndian
	if il == 0 {
		il = uint32(len(entries))
	}
	h := make([]byte, 8, 8+16*len(entries)+len(data))
	be.PutUint32(h[0:], il)
	be.PutUint32(h[4:], uint32(len(data)))
	for _, e := range entries {
		for _, v := range e {
			h = be.AppendUint32(h, v)
		}
	}
	return append(h, data...)
}

func manyEntries(n int, e [4]uint32) [][4]uint32 {
	es := make([][4]uint32, n)
	for i := range es {
		es[i] = e
	}
	return es
}

func TestCheckHeaderSound(t *testing.T) {
	for _, h := range testHeaders(t) {
		if err := checkHeader(h); err != nil {
			t.Errorf("rpm 4.18 header refused: %v", err)
		}
	}
	// Two string arrays side by side, as rpm lays them out.
	h := makeHeader([]byte("a\x00bb\x00c\x00"), 0, [4]uint32{1000, 8, 0, 2}, [4]uint32{1001, 6, 5, 1})
	if err := checkHeader(h); err != nil {
		t.Errorf("sound header refused: %v", err)
	}
}

// TestCheckFormatMismatch: the file name decides the format rpm would read;
// content of another format is refused, not read as that other format.
func TestCheckFormatMismatch(t *testing.T) {
	hs := testHeaders(t)
	for _, tc := range []struct {
		name string
		data []byte
		f    format
	}{
		{"Packages", buildNDB(hs), formatBDB},
		{"Packages.db", buildBDB(hs, 4096), formatNDB},
		{"rpmdb.sqlite", buildBDB(hs, 4096), formatSQLite},
	} {
		_, err := checkDatabase(context.Background(), writeTemp(t, tc.name, tc.data), tc.f, false)
		if !errors.Is(err, errCorrupt) || !strings.Contains(err.Error(), "not "+tc.f.String()) && !strings.Contains(err.Error(), "no "+tc.f.String()+" header") {
			t.Errorf("%s: got %v", tc.name, err)
		}
	}
}

// FuzzCheckDatabase runs the check, and go-rpmdb on what passes it, on
// arbitrary bytes. Anything but an error or a result is a bug: a panic in
// go-rpmdb's reader goroutine ends the fuzzing process, and a hang is
// reported by the fuzzer's timeout. The seeds are databases built from the
// rpm 4.18 test headers.
func FuzzCheckDatabase(f *testing.F) {
	hs := testHeaders(f)
	f.Add(uint8(formatBDB), buildBDB(hs, 512))
	f.Add(uint8(formatBDB), buildBDB(hs[1:2], 1024))
	f.Add(uint8(formatNDB), buildNDB(hs))
	f.Add(uint8(formatNDB), buildNDB(hs[2:3]))
	sq, err := os.ReadFile(filepath.Join("testdata", "rpm418", "rpmdb.sqlite"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(uint8(formatSQLite), sq)
	names := map[format]string{formatBDB: "Packages", formatNDB: "Packages.db", formatSQLite: "rpmdb.sqlite"}
	f.Fuzz(func(t *testing.T, kind uint8, data []byte) {
		ft := format(kind % 3)
		p := filepath.Join(t.TempDir(), names[ft])
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		n, err := checkDatabase(context.Background(), p, ft, false)
		if err != nil {
			return
		}
		pkgs, err := listPackages(p)
		if err == nil && len(pkgs) != n {
			t.Errorf("check counted %d headers, go-rpmdb returned %d packages", n, len(pkgs))
		}
	})
}

// FuzzCheckHeader checks header blobs alone, then parses what passes with
// go-rpmdb (through a one-blob NDB database).
func FuzzCheckHeader(f *testing.F) {
	for _, h := range testHeaders(f) {
		f.Add(h)
	}
	f.Fuzz(func(t *testing.T, h []byte) {
		if len(h) == 0 || len(h) > 1<<20 {
			return
		}
		if checkHeader(h) != nil {
			return
		}
		p := filepath.Join(t.TempDir(), "Packages.db")
		if err := os.WriteFile(p, buildNDB([][]byte{h}), 0o600); err != nil {
			t.Fatal(err)
		}
		_, _ = listPackages(p)
	})
}
