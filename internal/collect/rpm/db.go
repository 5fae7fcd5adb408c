package rpm

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	rpmdb "github.com/knqyf263/go-rpmdb/pkg"

	"github.com/kensa-dev/kensa/internal/hostfs"
)

// companion is a file SQLite keeps beside a database.
type companion struct {
	suffix string
	// live reports whether SQLite would use the file, given its first
	// bytes; it ignores one that fails this, so it is not copied either.
	live func(head []byte) bool
}

// sqliteCompanions are the files SQLite keeps beside a database. A -wal file
// holds committed transactions not yet copied into the database, and a hot
// -journal one to roll back: without them the copy would be out of date.
// The -shm index is rebuilt from the -wal and is not copied.
func sqliteCompanions() []companion {
	return []companion{
		{"-wal", func(h []byte) bool {
			// A WAL header: magic 0x377f0682 or 0x377f0683, format 3007000.
			be := binary.BigEndian
			return len(h) >= 32 && be.Uint32(h)&^1 == 0x377f0682 && be.Uint32(h[4:]) == 3007000
		}},
		{"-journal", func(h []byte) bool {
			// A rollback journal header starts with this magic; SQLite
			// plays back nothing from a journal without it.
			return len(h) >= 8 && string(h[:8]) == "\xd9\xd5\x05\xf9\x20\xa1\x63\xd7"
		}},
	}
}

// tooSparse reports whether a file of size bytes with allocated bytes on
// disk (st_blocks) is mostly holes. Some slack is needed: st_blocks is
// smaller than the size on a compressing file system (ZFS, up to about 5 times
// smaller for an rpm database) and, for a few seconds after a write, on ZFS
// in any case; and a small file may have nothing allocated at all. But no
// rpm database is mostly holes: one that is was made sparse to look large,
// and copying it would fill the temporary directory with zeros.
func tooSparse(size, allocated int64) bool {
	return size-allocated > 16<<20 && allocated < size/8
}

// source is one file of a database in the scanned root, open for reading.
type source struct {
	name   string
	r      io.ReaderAt
	size   int64
	closer io.Closer
}

// openSource opens the regular file name, of at most limit bytes, and
// refuses a sparse one. Its errors name the file.
func openSource(fsys hostfs.FS, name string, limit int64) (*source, error) {
	r, size, closer, err := hostfs.OpenAt(fsys, name, limit)
	if err != nil {
		return nil, err
	}
	// Files of a hostfs.FS are *os.File underneath (see hostfs.OpenAt); the
	// open file's own Stat, as the name may have changed since.
	if f, ok := r.(interface{ Stat() (fs.FileInfo, error) }); ok {
		if fi, err := f.Stat(); err == nil {
			if st, ok := fi.Sys().(*syscall.Stat_t); ok && tooSparse(fi.Size(), st.Blocks*512) {
				closer.Close()
				return nil, fmt.Errorf("%s: sparse file of %d bytes with %d bytes allocated: not an rpm database", name, fi.Size(), st.Blocks*512)
			}
		}
	}
	return &source{name, r, size, closer}, nil
}

// head returns the first bytes of the file, up to n. Its errors name the
// file.
func (s *source) head(n int) ([]byte, error) {
	b := make([]byte, n)
	m, err := s.r.ReadAt(b, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s: read: %w", s.name, pathless(err))
	}
	return b[:m], nil
}

// readDatabase checks the files of db in the root as far as their headers
// go, copies them into a directory of their own under tmp, checks the copy
// in full and returns its packages. Nothing is copied from a file the
// cheap checks refuse.
func readDatabase(ctx context.Context, fsys hostfs.FS, db database, tmp string) ([]*rpmdb.PackageInfo, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	dbf, err := openSource(fsys, db.path, MaxDBSize)
	if err != nil {
		return nil, fmt.Errorf("rpm: %w", err)
	}
	defer dbf.closer.Close()
	files := []*source{dbf}
	total := dbf.size
	if db.backend.format == formatSQLite {
		for _, c := range sqliteCompanions() {
			s, err := openSource(fsys, db.path+c.suffix, MaxDBSize)
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			if err != nil {
				return nil, fmt.Errorf("rpm: %w", err)
			}
			defer s.closer.Close()
			head, err := s.head(32)
			if err != nil {
				return nil, fmt.Errorf("rpm: %w", err)
			}
			if !c.live(head) {
				continue
			}
			files = append(files, s)
			total += s.size
		}
	}
	if total > MaxDBSize {
		return nil, fmt.Errorf("rpm: %s and its -wal and -journal: %w (%d > %d bytes)", db.path, hostfs.ErrTooLarge, total, int64(MaxDBSize))
	}
	companions := len(files) > 1
	if err := checkHead(dbf.r, dbf.size, db.backend.format, companions); err != nil {
		return nil, fmt.Errorf("rpm: %s: %w", db.path, err)
	}

	dir, err := os.MkdirTemp(tmp, "db-")
	if err != nil {
		return nil, fmt.Errorf("rpm: %s: %w", db.path, err)
	}
	defer os.RemoveAll(dir)
	local := filepath.Join(dir, db.backend.file)
	budget := int64(MaxDBSize)
	for _, s := range files {
		dst := local + s.name[len(db.path):]
		n, err := copyOut(ctx, s, dst, budget)
		if err != nil {
			return nil, fmt.Errorf("rpm: %s: copy: %w", s.name, err)
		}
		budget -= n
	}
	headers, err := checkDatabase(ctx, local, db.backend.format, companions)
	if err != nil {
		return nil, fmt.Errorf("rpm: %s: %w", db.path, err)
	}
	pkgs, err := listPackages(local)
	if err != nil {
		return nil, fmt.Errorf("rpm: %s: go-rpmdb: %w", db.path, err)
	}
	// Both walks read the same copy, so they must agree; go-rpmdb's SQLite
	// reader, for one, drops a read error silently.
	if len(pkgs) != headers {
		return nil, fmt.Errorf("rpm: %s: go-rpmdb returned %d packages, the database holds %d", db.path, len(pkgs), headers)
	}
	return pkgs, nil
}

// listPackages parses a checked database with go-rpmdb, turning a panic of
// its header parser into an error. Only that parser runs in this goroutine;
// the page readers run in one of go-rpmdb's own, out of recover's reach,
// which is why checkDatabase must pass first. After an error or a panic
// that reader goroutine stays blocked on its channel for good: one
// goroutine, and the page or blob it holds, per failed database.
func listPackages(name string) (pkgs []*rpmdb.PackageInfo, err error) {
	defer func() {
		if r := recover(); r != nil {
			pkgs, err = nil, fmt.Errorf("go-rpmdb panicked: %v", r)
		}
	}()
	db, err := rpmdb.Open(name)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	return db.ListPackages()
}

// copyOut copies src to the new file dst and returns the bytes copied: at
// most limit, or the copy fails with hostfs.ErrTooLarge (the file may have
// grown since it was opened). The errors do not name src.
func copyOut(ctx context.Context, src *source, dst string, limit int64) (n int64, err error) {
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return 0, err
	}
	defer func() {
		if cerr := out.Close(); err == nil {
			err = cerr
		}
	}()
	n, err = io.Copy(out, ctxReader{ctx, io.NewSectionReader(src.r, 0, limit+1)})
	if err != nil {
		return n, err
	}
	if n > limit {
		return n, fmt.Errorf("%w (grew past %d bytes while read)", hostfs.ErrTooLarge, limit)
	}
	return n, nil
}

// ctxReader ends a read when its context is done. A read error is returned
// without the *fs.PathError around it, whose path is the caller's to give.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	n, err := c.r.Read(p)
	if err != nil && err != io.EOF {
		err = fmt.Errorf("read: %w", pathless(err))
	}
	return n, err
}
