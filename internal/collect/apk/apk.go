// Package apk reads the Alpine package database, lib/apk/db/installed.
//
// The database is a sequence of records separated by blank lines, each line
// a one-letter key, a colon and a value (apk-tools' "installed" format).
// P is the name, V the version ("1.2.2-r3"), A the architecture, o the
// origin (source) package, F a directory and R a file within the last F.
package apk

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"

	"github.com/kensa-dev/kensa/internal/collect"
	"github.com/kensa-dev/kensa/internal/host"
	"github.com/kensa-dev/kensa/internal/hostfs"
)

const (
	dbPath = "/lib/apk/db/installed"
	// dbLimit caps the database; a large install's is a few MiB.
	dbLimit = 256 << 20
	maxLine = 1 << 20
)

// Record is one installed package as the database has it.
type Record struct {
	Name, Version, Arch, Origin, License string
	// Files are absolute paths of the files the package owns.
	Files []string
}

// Parse reads the installed database. Lines that are not "K:value" are
// reported in errs and skipped; a record without P or V is reported and
// dropped. Only an I/O error ends the parse.
func Parse(r io.Reader) (recs []Record, errs []error, err error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxLine)
	var cur Record
	dir := ""
	lineNo := 0
	started := false
	flush := func() {
		if started {
			if cur.Name == "" || cur.Version == "" {
				errs = append(errs, fmt.Errorf("line %d: record without P: or V: dropped", lineNo))
			} else {
				recs = append(recs, cur)
			}
		}
		cur, dir, started = Record{}, "", false
	}
	for sc.Scan() {
		lineNo++
		line := sc.Text()
		if strings.TrimSpace(line) == "" {
			flush()
			continue
		}
		if len(line) < 2 || line[1] != ':' {
			errs = append(errs, fmt.Errorf("line %d: not a K:value line", lineNo))
			continue
		}
		started = true
		v := line[2:]
		switch line[0] {
		case 'P':
			cur.Name = v
		case 'V':
			cur.Version = v
		case 'A':
			cur.Arch = v
		case 'o':
			cur.Origin = v
		case 'L':
			cur.License = v
		case 'F':
			dir = strings.Trim(v, "/")
		case 'R':
			p := "/" + v
			if dir != "" {
				p = "/" + dir + "/" + v
			}
			cur.Files = append(cur.Files, p)
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			errs = append(errs, fmt.Errorf("line %d: longer than %d bytes; rest of the database skipped", lineNo+1, maxLine))
		} else {
			return recs, errs, err
		}
	}
	flush()
	return recs, errs, nil
}

// Collector reads the apk database.
type Collector struct{}

// New returns the apk collector.
func New() *Collector { return &Collector{} }

// Name implements collect.Collector.
func (*Collector) Name() string { return "pkg/apk" }

// Collect implements collect.Collector.
func (*Collector) Collect(ctx context.Context, env *collect.Env, inv *host.Inventory) error {
	f, err := env.FS.Open(dbPath)
	if errors.Is(err, fs.ErrNotExist) {
		return collect.NotApplicable("no apk database (%s)", dbPath)
	}
	if err != nil {
		return fmt.Errorf("apk: open %s: %w", dbPath, err)
	}
	defer f.Close()
	recs, perrs, err := Parse(io.LimitReader(f, dbLimit))
	for _, e := range perrs {
		env.Errorf("%s: %v", dbPath, e)
	}
	if err != nil {
		return fmt.Errorf("apk: read %s: %w", dbPath, err)
	}
	if st, err := f.Stat(); err == nil && st.Size() > dbLimit {
		env.Errorf("%s: %v: only the first %d bytes were read", dbPath, hostfs.ErrTooLarge, dbLimit)
	}
	for _, r := range recs {
		if err := ctx.Err(); err != nil {
			return err
		}
		src := r.Origin
		if src == "" {
			src = r.Name
		}
		inv.Packages = append(inv.Packages, host.Package{
			Manager:       "apk",
			Name:          r.Name,
			Version:       r.Version,
			Arch:          r.Arch,
			SourceName:    src,
			SourceVersion: r.Version, // a subpackage is built from its origin at the same version
			Files:         r.Files,
			Source:        dbPath,
		})
	}
	env.Count(len(recs))
	return nil
}
