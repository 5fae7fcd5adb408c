package rpm

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	rpmdb "github.com/knqyf263/go-rpmdb/pkg"

	"github.com/kensa-dev/kensa/internal/hostfs"
)

// sqliteCompanions are the files SQLite keeps beside a database. A -wal file
// holds committed transactions not yet copied into the database, and a hot
// -journal one to roll back: without them the copy would be out of date.
// The -shm index is rebuilt from the -wal and is not copied.
var sqliteCompanions = []string{"-wal", "-journal"}

// readDatabase copies db out of the root into a directory of its own under
// tmp, checks the copy and returns its packages.
func readDatabase(ctx context.Context, fsys hostfs.FS, db database, tmp string) ([]*rpmdb.PackageInfo, error) {
	dir, err := os.MkdirTemp(tmp, "db-")
	if err != nil {
		return nil, fmt.Errorf("rpm: %s: temporary directory: %w", db.path, err)
	}
	defer os.RemoveAll(dir)
	local := filepath.Join(dir, db.backend.file)
	if err := copyOut(ctx, fsys, db.path, local, MaxDBSize); err != nil {
		return nil, fmt.Errorf("rpm: copy %s: %w", db.path, err)
	}
	if db.backend.format == formatSQLite {
		for _, suffix := range sqliteCompanions {
			err := copyOut(ctx, fsys, db.path+suffix, local+suffix, MaxDBSize)
			if err != nil && !errors.Is(err, fs.ErrNotExist) {
				return nil, fmt.Errorf("rpm: copy %s: %w", db.path+suffix, err)
			}
		}
	}
	headers, err := checkDatabase(ctx, local, db.backend.format)
	if err != nil {
		return nil, fmt.Errorf("rpm: check %s: %w", db.path, err)
	}
	pkgs, err := listPackages(local)
	if err != nil {
		return nil, fmt.Errorf("rpm: read %s: %w", db.path, err)
	}
	// Both walks read the same copy, so they must agree; go-rpmdb's SQLite
	// reader, for one, drops a read error silently.
	if len(pkgs) != headers {
		return nil, fmt.Errorf("rpm: read %s: go-rpmdb returned %d packages, the database holds %d", db.path, len(pkgs), headers)
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

// copyOut copies name, read through fsys, to the new file dst. Only a
// regular file of at most limit bytes is copied.
func copyOut(ctx context.Context, fsys hostfs.FS, name, dst string, limit int64) (err error) {
	src, err := fsys.Open(name)
	if err != nil {
		return err
	}
	defer src.Close()
	// The open file's own Stat: the name may have changed since.
	fi, err := src.Stat()
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%w (%s)", hostfs.ErrNotRegular, fi.Mode().Type())
	}
	if fi.Size() > limit {
		return fmt.Errorf("%w (%d > %d bytes)", hostfs.ErrTooLarge, fi.Size(), limit)
	}
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := out.Close(); err == nil {
			err = cerr
		}
	}()
	n, err := io.Copy(out, io.LimitReader(ctxReader{ctx, src}, limit+1))
	if err != nil {
		return err
	}
	if n > limit {
		return fmt.Errorf("%w (grew past %d bytes while read)", hostfs.ErrTooLarge, limit)
	}
	return nil
}

// ctxReader ends a read when its context is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
