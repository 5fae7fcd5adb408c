package rpm

// The checks below walk a database copy the way go-rpmdb v0.1.1 will, and
// reject what would make go-rpmdb crash, hang or exhaust memory instead of
// returning an error, or silently read garbage as an empty database. Each
// names the go-rpmdb behaviour it guards against. They ask only for what
// every database rpm writes has (rpm's own header limits, Berkeley DB's page
// numbering), and accept all sixteen real databases in go-rpmdb's testdata.
// Keep them in step with go-rpmdb when upgrading it.

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// format is an rpm database format.
type format int

const (
	formatBDB format = iota
	formatNDB
	formatSQLite
)

func (f format) String() string {
	switch f {
	case formatBDB:
		return "bdb"
	case formatNDB:
		return "ndb"
	case formatSQLite:
		return "sqlite"
	}
	return fmt.Sprintf("format(%d)", int(f))
}

const (
	// maxHeaderTags and maxHeaderData are rpm's HEADER_TAGS_MAX and
	// HEADER_DATA_MAX (go-rpmdb's headerMaxbytes): no header rpm accepts
	// is larger.
	maxHeaderTags = 0xffff
	maxHeaderData = 256 << 20

	sqliteMagic  = "SQLite format 3\x00"
	ndbMagic     = 'R' | 'p'<<8 | 'm'<<16 | 'P'<<24
	ndbSlotMagic = 'S' | 'l'<<8 | 'o'<<16 | 't'<<24
	ndbBlobMagic = 'B' | 'l'<<8 | 'b'<<16 | 'S'<<24
	// ndbMaxSlotPages is go-rpmdb's own limit on the slot table.
	ndbMaxSlotPages = 2048
	ndbBlockSize    = 16

	bdbHashMagic   = 0x00061561
	bdbHashMagicBE = 0x61150600
	bdbPageHeader  = 26
	bdbHashMeta    = 8
	bdbHashPage    = 13
	bdbHashPageOld = 2 // unsorted hash page, Berkeley DB before 4.6
	bdbOverflow    = 7
	bdbHOffPage    = 3
	bdbHOffSize    = 12
)

// checkError is an error of this package's checks, a constant.
type checkError string

func (e checkError) Error() string { return string(e) }

// errCorrupt marks a database that is not what its format says.
const errCorrupt = checkError("corrupt database")

func corrupt(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errCorrupt, fmt.Sprintf(format, args...))
}

// pathless returns the error inside a *fs.PathError of a read: the file it
// names is the database, which the caller names already.
func pathless(err error) error {
	if pe, ok := err.(*fs.PathError); ok {
		return pe.Err
	}
	return err
}

// detectFormat tells the format of a database file as rpmdb.Open does: the
// SQLite magic first, then an NDB header, and anything else is taken for
// Berkeley DB.
func detectFormat(r io.ReaderAt) (format, error) {
	var hdr [32]byte
	n, err := r.ReadAt(hdr[:], 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return 0, fmt.Errorf("read: %w", pathless(err))
	}
	if n < len(sqliteMagic) {
		return 0, corrupt("file of %d bytes is too short", n)
	}
	if string(hdr[:len(sqliteMagic)]) == sqliteMagic {
		return formatSQLite, nil
	}
	if n < len(hdr) {
		return 0, corrupt("file of %d bytes is too short", n)
	}
	le := binary.LittleEndian
	if le.Uint32(hdr[0:]) == ndbMagic && le.Uint32(hdr[4:]) == 0 && le.Uint32(hdr[12:]) != 0 {
		return formatNDB, nil
	}
	return formatBDB, nil
}

// checkHead checks what the first bytes of a database file say, and that
// the file's size agrees, reading only those bytes: it runs on the file in
// the scanned root before anything is copied, and again on the copy. size
// is the file's size. companions tells a SQLite database that a -wal or hot
// -journal comes with it, which may change its page count.
func checkHead(r io.ReaderAt, size int64, want format, companions bool) error {
	got, err := detectFormat(r)
	if err != nil {
		return err
	}
	switch {
	case got == want:
	case got == formatBDB:
		// Anything without a SQLite or NDB header reads as Berkeley DB.
		return corrupt("no %s header", want)
	default:
		return corrupt("%s content, not %s", got, want)
	}
	switch got {
	case formatSQLite:
		return checkSQLiteHeader(r, size, companions)
	case formatNDB:
		_, err := ndbSlotPages(r, size)
		return err
	default:
		_, err := readBDBMeta(r, size)
		return err
	}
}

// checkSQLiteHeader checks the 100-byte SQLite database header
// (https://www.sqlite.org/fileformat2.html#the_database_header) as SQLite
// itself does when it opens the file, and the page count it declares
// against the file's size.
func checkSQLiteHeader(r io.ReaderAt, size int64, companions bool) error {
	var h [100]byte
	if n, _ := r.ReadAt(h[:], 0); n < len(h) {
		return corrupt("file of %d bytes is shorter than the sqlite header", size)
	}
	be := binary.BigEndian
	ps := int64(be.Uint16(h[16:]))
	if ps == 1 {
		ps = 65536
	}
	if ps < 512 || ps&(ps-1) != 0 {
		return corrupt("sqlite page size %d", ps)
	}
	if h[18] < 1 || h[18] > 2 || h[19] < 1 || h[19] > 2 {
		return corrupt("sqlite file format versions %d and %d", h[18], h[19])
	}
	if ps-int64(h[20]) < 480 {
		return corrupt("sqlite pages of %d bytes with %d reserved", ps, h[20])
	}
	if h[21] != 64 || h[22] != 32 || h[23] != 32 {
		return corrupt("sqlite payload fractions %d, %d and %d", h[21], h[22], h[23])
	}
	if size < ps {
		return corrupt("file of %d bytes is shorter than its first page of %d", size, ps)
	}
	// The page count is valid when the change counter and the
	// version-valid-for number agree (always, since SQLite 3.7.0). SQLite
	// then reads that many pages, and keeps the file at exactly that size:
	// each commit extends or truncates it, and in WAL mode so does each
	// checkpoint. Only a -wal not yet checkpointed, or a hot -journal not
	// yet rolled back, may leave the file another size.
	count := int64(be.Uint32(h[28:]))
	if count != 0 && be.Uint32(h[24:]) == be.Uint32(h[92:]) && !companions && count*ps != size {
		return corrupt("sqlite header declares %d pages of %d bytes, the file has %d bytes", count, ps, size)
	}
	return nil
}

// ndbSlotPages checks the NDB header and returns the number of slot pages,
// which must fit in the file.
func ndbSlotPages(r io.ReaderAt, size int64) (uint32, error) {
	var hdr [32]byte
	if _, err := r.ReadAt(hdr[:], 0); err != nil {
		return 0, corrupt("ndb header: %v", pathless(err))
	}
	pages := binary.LittleEndian.Uint32(hdr[12:])
	if pages > ndbMaxSlotPages {
		return 0, corrupt("%d ndb slot pages, more than %d", pages, ndbMaxSlotPages)
	}
	if int64(pages)*4096 > size {
		return 0, corrupt("ndb slot table of %d pages of 4096 bytes, the file has %d bytes", pages, size)
	}
	return pages, nil
}

// bdbMeta is what the metadata page of a Berkeley DB hash database says.
type bdbMeta struct {
	order    binary.ByteOrder
	pageSize uint32
	pages    int64 // last page number + 1
}

// readBDBMeta checks the metadata page of a Berkeley DB hash database; the
// pages it declares must be in the file.
func readBDBMeta(r io.ReaderAt, size int64) (bdbMeta, error) {
	// bdb.Open reads the first 512 bytes and parses them as the metadata
	// page; a shorter file is padded with zeros.
	meta := make([]byte, 512)
	if m, err := r.ReadAt(meta, 0); m == 0 {
		return bdbMeta{}, corrupt("metadata page: %v", pathless(err))
	}
	var order binary.ByteOrder = binary.LittleEndian
	if binary.LittleEndian.Uint32(meta[12:]) == bdbHashMagicBE {
		order = binary.BigEndian
	}
	if meta[24] != 0 {
		return bdbMeta{}, corrupt("encrypted (algorithm %d)", meta[24])
	}
	if m := order.Uint32(meta[12:]); m != bdbHashMagic {
		return bdbMeta{}, corrupt("not a Berkeley DB hash database (magic %#x)", m)
	}
	if meta[25] != bdbHashMeta {
		return bdbMeta{}, corrupt("first page has type %d, not hash metadata", meta[25])
	}
	pageSize := order.Uint32(meta[20:])
	switch pageSize {
	case 512, 1024, 2048, 4096, 8192, 16384, 32768, 65536:
	default:
		return bdbMeta{}, corrupt("page size %d", pageSize)
	}
	npages := int64(order.Uint32(meta[32:])) + 1
	if npages*int64(pageSize) > size {
		return bdbMeta{}, corrupt("%d pages of %d bytes declared, the file has %d bytes", npages, pageSize, size)
	}
	return bdbMeta{order, pageSize, npages}, nil
}

// checkDatabase checks the database copy at name, which must be in format
// want, and returns the number of package headers it holds. companions is
// as for checkHead.
func checkDatabase(ctx context.Context, name string, want format, companions bool) (int, error) {
	f, err := os.Open(name)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return 0, err
	}
	if err := checkHead(f, fi.Size(), want, companions); err != nil {
		return 0, err
	}
	switch want {
	case formatSQLite:
		return checkSQLite(ctx, name, sqliteBudget)
	case formatNDB:
		return checkNDB(ctx, f, fi.Size())
	default:
		return checkBDB(ctx, f, fi.Size())
	}
}

// checkNDB walks the slot table and blobs as go-rpmdb's ndb.Read will. That
// reader prints "bad slot magic" to standard output, allocates the length a
// blob header claims, and blocks forever after reporting a bad blob, all in
// a goroutine of its own.
func checkNDB(ctx context.Context, f *os.File, size int64) (int, error) {
	le := binary.LittleEndian
	pages, err := ndbSlotPages(f, size)
	if err != nil {
		return 0, err
	}
	// The first two slots of the first page are the database header.
	nslots := int64(pages)*4096/16 - 2
	table := make([]byte, nslots*16)
	if _, err := f.ReadAt(table, 32); err != nil {
		return 0, corrupt("slot table of %d slots: %v", nslots, err)
	}
	var total int64
	n := 0
	var bh [16]byte
	for i := int64(0); i < nslots; i++ {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		s := table[i*16 : i*16+16]
		if le.Uint32(s[0:]) != ndbSlotMagic {
			return n, corrupt("slot %d: bad magic %#x", i, le.Uint32(s[0:]))
		}
		pkg := le.Uint32(s[4:])
		if pkg == 0 {
			continue // a free slot
		}
		off := int64(le.Uint32(s[8:])) * ndbBlockSize
		if _, err := f.ReadAt(bh[:], off); err != nil {
			return n, corrupt("package %d: blob header at %d: %v", pkg, off, err)
		}
		if m := le.Uint32(bh[0:]); m != ndbBlobMagic {
			return n, corrupt("package %d: bad blob magic %#x", pkg, m)
		}
		if p := le.Uint32(bh[4:]); p != pkg {
			return n, corrupt("slot of package %d points to the blob of package %d", pkg, p)
		}
		blen := int64(le.Uint32(bh[12:]))
		if blen == 0 || blen > maxHeaderData || off+int64(len(bh))+blen > size {
			return n, corrupt("package %d: blob of %d bytes at %d does not fit in the file", pkg, blen, off)
		}
		// Blobs of a sound database never overlap, so together they fit in
		// the file; more means slots share blobs, and reading them would
		// multiply the work.
		if total += blen; total > size {
			return n, corrupt("blobs overlap")
		}
		blob := make([]byte, blen)
		if _, err := f.ReadAt(blob, off+int64(len(bh))); err != nil {
			return n, corrupt("package %d: blob: %v", pkg, err)
		}
		if err := checkHeader(blob); err != nil {
			return n, fmt.Errorf("package %d: %w", pkg, err)
		}
		n++
	}
	return n, nil
}

// checkBDB walks the pages of a Berkeley DB hash database as go-rpmdb's
// bdb.Read will, in a goroutine where a panic cannot be recovered. Its index
// arithmetic is uint16 and uint32 and wraps, it slices pages with offsets
// read from the file, and it loops forever when an overflow chain reaches a
// page that is not an overflow page or comes back on itself.
func checkBDB(ctx context.Context, f *os.File, size int64) (int, error) {
	meta, err := readBDBMeta(f, size)
	if err != nil {
		return 0, err
	}
	order, pageSize, npages := meta.order, meta.pageSize, meta.pages
	psize := int64(pageSize)
	// Overflow chains may name any page in the file, declared or not.
	filePages := size / psize

	page := make([]byte, psize)
	ovf := make([]byte, psize)
	// chained counts overflow pages read over all chains. Each overflow
	// page of a sound database belongs to one chain, so the total stays
	// within the page count; far more means chains share pages, and
	// go-rpmdb would read them again for every entry that points in.
	var chained int64
	n := 0
	for p := int64(0); p < npages; p++ {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		if _, err := f.ReadAt(page, p*psize); err != nil {
			return n, corrupt("page %d: %v", p, err)
		}
		// Berkeley DB writes every page's own number into its header. A
		// page that says otherwise is garbage: go-rpmdb would skip it, and
		// a file of garbage would read as a database with no packages.
		if pgno := order.Uint32(page[8:]); pgno != uint32(p) && !allZero(page) {
			return n, corrupt("page %d: header says page %d", p, pgno)
		}
		if t := page[25]; t != bdbHashPage && t != bdbHashPageOld {
			continue
		}
		entries := order.Uint16(page[20:])
		if entries%2 != 0 {
			return n, corrupt("page %d: odd number of hash entries %d", p, entries)
		}
		// go-rpmdb: data[PageHeaderSize : PageHeaderSize+entries*2], in uint16.
		end := uint16(bdbPageHeader) + entries*2
		if end < bdbPageHeader || int64(end) > psize {
			return n, corrupt("page %d: %d hash entries overflow the page", p, entries)
		}
		index := page[bdbPageHeader:end]
		// Entries are key/value pairs of 2-byte offsets; values only.
		for i := 2; i+2 <= len(index); i += 4 {
			at := order.Uint16(index[i:])
			if int64(at) >= psize {
				return n, corrupt("page %d: entry offset %d beyond the page", p, at)
			}
			if page[at] != bdbHOffPage {
				continue
			}
			if at+bdbHOffSize < at || int64(at)+bdbHOffSize > psize {
				return n, corrupt("page %d: off-page entry at %d beyond the page", p, at)
			}
			blob, steps, err := readChain(f, ovf, order, pageSize, filePages, order.Uint32(page[at+4:]))
			if err != nil {
				return n, fmt.Errorf("page %d entry at %d: %w", p, at, err)
			}
			if chained += steps; chained > 2*filePages+1024 {
				return n, corrupt("overflow chains share pages")
			}
			if err := checkHeader(blob); err != nil {
				return n, fmt.Errorf("page %d entry at %d: %w", p, at, err)
			}
			n++
		}
	}
	return n, nil
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// readChain assembles one value from its chain of overflow pages, as
// go-rpmdb's HashPageValueContent does, and returns it with the number of
// pages read.
func readChain(f *os.File, buf []byte, order binary.ByteOrder, pageSize uint32, filePages int64, first uint32) ([]byte, int64, error) {
	var value []byte
	var steps int64
	for cur := first; cur != 0; {
		// A chain longer than the file has pages comes back on itself.
		if steps++; steps > filePages {
			return nil, steps, corrupt("overflow chain from page %d loops", first)
		}
		// go-rpmdb: pageStart := pageSize * currentPageNo, in uint32.
		at := int64(pageSize * cur)
		if _, err := f.ReadAt(buf, at); err != nil {
			return nil, steps, corrupt("overflow page %d: %v", cur, err)
		}
		if pgno := order.Uint32(buf[8:]); pgno != cur {
			return nil, steps, corrupt("overflow page %d: header says page %d", cur, pgno)
		}
		// go-rpmdb skips a page of another type without moving on: forever.
		if buf[25] != bdbOverflow {
			return nil, steps, corrupt("overflow chain from page %d reaches page %d, of type %d: not an overflow page", first, cur, buf[25])
		}
		next := order.Uint32(buf[16:])
		if next == 0 {
			// The last page holds as many bytes as its free-area offset
			// says; go-rpmdb slices with it, in uint16.
			end := uint16(bdbPageHeader) + order.Uint16(buf[22:])
			if end < bdbPageHeader || uint32(end) > pageSize {
				return nil, steps, corrupt("overflow page %d: length beyond the page", cur)
			}
			value = append(value, buf[bdbPageHeader:end]...)
		} else {
			value = append(value, buf[bdbPageHeader:]...)
		}
		if len(value) > maxHeaderData+int(pageSize) {
			return nil, steps, corrupt("value from page %d larger than any rpm header", first)
		}
		cur = next
	}
	return value, steps, nil
}

// checkHeader rejects a header blob that go-rpmdb's headerImport would
// parse with unbounded allocation or time. It allocates 16 bytes for every
// index entry the header claims before checking the claim, and its strtaglen
// loops count times over the data even when the strings are not there, so
// one entry can cost count times the data size. rpm rejects every header
// refused here: hdrblobInit bounds il and dl, and hdrblobVerifyInfo wants
// each string entry's strings present and entries not to overlap, which
// together bound the bytes scanned by dl.
func checkHeader(b []byte) error {
	if len(b) < 8 {
		return corrupt("header of %d bytes", len(b))
	}
	be := binary.BigEndian
	il := int64(int32(be.Uint32(b[0:])))
	dl := int64(int32(be.Uint32(b[4:])))
	if il < 1 || il > maxHeaderTags {
		return corrupt("header with %d index entries", il)
	}
	if dl < 0 || dl >= maxHeaderData {
		return corrupt("header with %d bytes of data", dl)
	}
	dataStart := 8 + 16*il
	dataEnd := dataStart + dl
	if dataEnd > int64(len(b)) {
		// go-rpmdb's strtaglen refuses at once; nothing to scan.
		return nil
	}
	scanned := int64(0)
	for i := int64(0); i < il && 8+16*i+16 <= int64(len(b)); i++ {
		e := b[8+16*i:]
		typ, off, count := be.Uint32(e[4:]), int64(int32(be.Uint32(e[8:]))), int64(be.Uint32(e[12:]))
		switch typ {
		case 6: // RPM_STRING_TYPE: go-rpmdb scans only when count is 1.
			if count != 1 {
				continue
			}
		case 8, 9: // RPM_STRING_ARRAY_TYPE, RPM_I18NSTRING_TYPE
		default:
			continue
		}
		// go-rpmdb scans only entries within the data (hdrchkRange).
		if off < 0 || off > dl {
			continue
		}
		start := dataStart + off
		for c := count; c > 0; c-- {
			if start >= dataEnd {
				return corrupt("header entry %d: %d strings run past the data", i, count)
			}
			nul := bytes.IndexByte(b[start:dataEnd], 0)
			if nul < 0 {
				return corrupt("header entry %d: unterminated string", i)
			}
			start += int64(nul) + 1
			if scanned += int64(nul) + 1; scanned > dl {
				return corrupt("header entries overlap")
			}
		}
	}
	return nil
}
