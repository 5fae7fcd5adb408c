// Package apk reads the Alpine package database, lib/apk/db/installed.
//
// The database is a sequence of records separated by blank lines, each line
// a one-letter key, a colon and a value (apk-tools' "installed" format).
// P is the name, V the version ("1.2.2-r3"), A the architecture, o the
// origin (source) package, F a directory and R a file within the last F.
package apk

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"

	"github.com/kensa-dev/kensa/internal/collect"
	"github.com/kensa-dev/kensa/internal/host"
	"github.com/kensa-dev/kensa/internal/hostfs"
)

const (
	dbPath = "/lib/apk/db/installed"
	// dbLimit caps the database; a large install's is a few MiB.
	dbLimit = 256 << 20
	maxLine = 1 << 20
	// maxFiles caps the file entries kept over all packages; a large
	// install owns a few hundred thousand files.
	maxFiles = 8_000_000
	// checkEvery is how many lines are read between looks at the context.
	checkEvery = 1024
)

// Record is one installed package as the database has it.
type Record struct {
	Name, Version, Arch, Origin, License string
	// Files are absolute paths of the files the package owns.
	Files []string
}

// Parse reads the installed database. Lines that are not "K:value" are
// reported in errs and skipped; a record without P or V is reported and
// dropped. errs holds at most collect.KeptProblems problems in full, then one
// "N more problems"; after collect.MaxProblems problems the rest of the database is
// skipped and the last error says so. Beyond maxFiles file entries in all,
// the rest are dropped and reported once. err is an I/O error or, within
// checkEvery lines of its cancellation, ctx's error.
func Parse(ctx context.Context, r io.Reader) (recs []Record, errs []error, err error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxLine)
	var probs collect.Problems
	problem := func(format string, args ...any) { probs.Addf(format, args...) }
	list := probs.List
	var cur Record
	dir := ""
	lineNo := 0
	started := false
	files := 0 // file entries kept
	flush := func() {
		if started {
			if cur.Name == "" || cur.Version == "" {
				problem("line %d: record without P: or V: dropped", lineNo)
			} else {
				recs = append(recs, cur)
			}
		}
		cur, dir, started = Record{}, "", false
	}
	for sc.Scan() {
		lineNo++
		if lineNo%checkEvery == 0 {
			if err := ctx.Err(); err != nil {
				return recs, list(nil), err
			}
		}
		if probs.Count() >= collect.MaxProblems {
			return recs, list(fmt.Errorf("line %d: too many errors; the rest of the file was skipped", lineNo)), nil
		}
		line := sc.Bytes()
		if len(bytes.TrimSpace(line)) == 0 {
			flush()
			continue
		}
		if len(line) < 2 || line[1] != ':' {
			problem("line %d: not a K:value line", lineNo)
			continue
		}
		started = true
		v := line[2:]
		switch line[0] {
		case 'P':
			cur.Name = string(v)
		case 'V':
			cur.Version = string(v)
		case 'A':
			cur.Arch = string(v)
		case 'o':
			cur.Origin = string(v)
		case 'L':
			cur.License = string(v)
		case 'F':
			dir = string(bytes.Trim(v, "/"))
		case 'R':
			if files++; files > maxFiles {
				if files == maxFiles+1 {
					problem("line %d: more than %d files listed in all; the rest are left out", lineNo, maxFiles)
				}
				continue
			}
			p := "/" + string(v)
			if dir != "" {
				p = "/" + dir + "/" + string(v)
			}
			cur.Files = append(cur.Files, p)
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			problem("line %d: longer than %d bytes; rest of the database skipped", lineNo+1, maxLine)
		} else {
			return recs, list(nil), err
		}
	}
	flush()
	return recs, list(nil), nil
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
	recs, perrs, err := Parse(ctx, io.LimitReader(f, dbLimit))
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
