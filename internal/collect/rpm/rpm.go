// Package rpm reads the rpm package database of RHEL and its rebuilds,
// Fedora, SUSE, Amazon Linux and CBL-Mariner into host.Package values.
//
// The three database formats rpm has used are read with go-rpmdb: SQLite
// (rpmdb.sqlite, rpm 4.16 and later), NDB (Packages.db, SUSE) and Berkeley DB
// (Packages, rpm before 4.16). go-rpmdb was written for trusted files, and a
// scanned image is not one, so this package never hands it a database from
// the host directly:
//
//   - Each database file is first looked at where it is, through the
//     rooted hostfs.FS: its size (at most MaxDBSize), that it is not mostly
//     holes, and its header, read alone, with the size it implies. Nothing
//     is copied from a file that fails this.
//   - It is then copied, from the file already open, into a private
//     temporary directory. go-rpmdb opens SQLite read-write, and on a
//     WAL-mode rpmdb.sqlite (rpm's default) that alone creates -wal and -shm
//     files beside the database; reading the copy leaves the image untouched.
//     The copy also gives the checks below and go-rpmdb the very same bytes,
//     even while rpm rewrites the live database, and spares the live host
//     the NDB reader's blocking flock.
//   - The copy is checked in full (check.go) for everything that would make
//     go-rpmdb misbehave rather than fail: its Berkeley DB and NDB readers
//     run in a goroutine of their own, where a panic cannot be recovered and
//     kills the process; it loops forever on some malformed overflow chains;
//     it allocates what a header claims and scans strings without bound; it
//     prints to stdout on a bad NDB slot; and its SQLite reader reads
//     whatever "SELECT blob FROM Packages" yields, to the end, so a view
//     named Packages (a recursive one never ends) or a virtual table or
//     generated column would run SQL or module code of the image's
//     choosing. A SQLite database must hold rpm's plain Packages table, and
//     no view, trigger or virtual table, and is read by the check first,
//     bounded in rows, bytes and time (checksqlite.go).
//   - Only then does go-rpmdb parse it, under recover.
//
// A database that fails any of this is reported with the reason (the
// collector fails, or is partial when another database did read) instead of
// showing fewer packages. A SOURCERPM or file list that cannot be made out
// is recorded as an error and the package kept.
package rpm

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"strings"

	rpmdb "github.com/knqyf263/go-rpmdb/pkg"

	"github.com/kensa-dev/kensa/internal/collect"
	"github.com/kensa-dev/kensa/internal/host"

	// go-rpmdb opens rpmdb.sqlite with database/sql driver "sqlite" and
	// fails with `unknown driver "sqlite"` unless a driver registers it.
	_ "modernc.org/sqlite"
)

// MaxDBSize caps a database file, and a SQLite database with its -wal and
// -journal together. Real rpm databases are well within it: the
// rpmdb.sqlite of a big server with thousands of packages is under 200 MiB,
// and a Berkeley DB Packages file, the least compact format at some 85 KiB
// a package (go-rpmdb's CentOS 7 test databases), would need about 6000
// packages to reach it. The cap bounds the copy and the temporary disk it
// takes.
const MaxDBSize = 512 << 20

// dbDirs returns where rpm keeps its database, in the order rpm's own
// default %_dbpath moved: var/lib/rpm (historic, and a symbolic link to the
// next one on Fedora 36 and later and on current openSUSE),
// usr/lib/sysimage/rpm, and usr/share/rpm (older SUSE).
func dbDirs() []string {
	return []string{"var/lib/rpm", "usr/lib/sysimage/rpm", "usr/share/rpm"}
}

// backend is one of rpm's database formats and the file that holds it.
type backend struct {
	file   string
	format format
}

// backends returns rpm's database files in order of preference. rpm reads
// only the backend it is configured for, and only converts forward (bdb to
// ndb or sqlite, ndb to sqlite), so when a directory holds several the
// newest format is the live one and the others are leftovers of a
// conversion.
func backends() []backend {
	return []backend{
		{"rpmdb.sqlite", formatSQLite},
		{"Packages.db", formatNDB},
		{"Packages", formatBDB},
	}
}

// database is a database file chosen for reading.
type database struct {
	// path is the resolved absolute path inside the root.
	path    string
	backend backend
}

// Collector reads the rpm database. It copies each database it reads into
// a directory under os.TempDir, removed before Collect returns, so a scan
// needs temporary space for the largest one (at most MaxDBSize).
type Collector struct{}

// New returns the rpm collector.
func New() *Collector { return &Collector{} }

// Name implements collect.Collector.
func (*Collector) Name() string { return "pkg/rpm" }

// Collect implements collect.Collector. It reads every distinct database
// found (a directory reached twice through a symbolic link is read once),
// and fails only when none of them could be read.
func (*Collector) Collect(ctx context.Context, env *collect.Env, inv *host.Inventory) error {
	log := env.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	dbs, problems := findDatabases(env, log)
	if len(dbs) == 0 && len(problems) > 0 {
		return errors.Join(problems...)
	}
	for _, err := range problems {
		env.Errorf("%v", err)
	}
	if len(dbs) == 0 {
		var where []string
		for _, d := range dbDirs() {
			where = append(where, "/"+d)
		}
		return collect.NotApplicable("no rpm database found in %s", strings.Join(where, ", "))
	}
	if len(dbs) > 1 {
		log.Warn("rpm: several rpm databases; reading all of them", "databases", dbPaths(dbs))
	}

	tmp, err := os.MkdirTemp("", "kensa-rpmdb-")
	if err != nil {
		return fmt.Errorf("rpm: temporary directory: %w", err)
	}
	defer os.RemoveAll(tmp)

	seen := map[string]string{} // name, version and arch -> database
	var failures []error
	for _, db := range dbs {
		pkgs, err := readDatabase(ctx, env.FS, db, tmp)
		if err != nil {
			if ctxErr := ctx.Err(); ctxErr != nil {
				return fmt.Errorf("rpm: %w", ctxErr)
			}
			failures = append(failures, err)
			continue
		}
		keys, dups := 0, 0
		for _, p := range pkgs {
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("rpm: %w", err)
			}
			// gpg-pubkey "packages" are the keys rpm trusts, imported with
			// rpm --import: not software, nothing to match advisories on.
			if p.Name == "gpg-pubkey" {
				keys++
				continue
			}
			key := p.Name + "\x00" + evr(p.Epoch, p.Version, p.Release) + "\x00" + p.Arch
			if first, ok := seen[key]; ok && first != db.path {
				dups++
				continue
			}
			seen[key] = db.path
			inv.Packages = append(inv.Packages, convert(env, db.path, p))
			env.Count(1)
		}
		log.Debug("rpm: database read", "path", db.path, "format", db.backend.format,
			"headers", len(pkgs), "gpg_pubkeys_skipped", keys, "duplicates_skipped", dups)
	}
	if len(failures) == len(dbs) {
		return errors.Join(failures...)
	}
	for _, err := range failures {
		env.Errorf("%v", err)
	}
	return nil
}

// findDatabases returns the database to read in each distinct directory,
// and the directories that could not be looked into (a symbolic link loop,
// a file where a directory should be).
func findDatabases(env *collect.Env, log *slog.Logger) (dbs []database, problems []error) {
	seenDir := map[string]string{}
	seenFile := map[string]bool{}
	for _, dir := range dbDirs() {
		rdir, err := env.FS.Resolve(dir)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			// hostfs errors are *fs.PathError, naming the directory.
			problems = append(problems, fmt.Errorf("rpm: %w", err))
			continue
		}
		if first, ok := seenDir[rdir]; ok {
			log.Debug("rpm: database directory already seen", "dir", "/"+dir, "same_as", first)
			continue
		}
		seenDir[rdir] = "/" + dir
		if fi, err := env.FS.Stat(rdir); err != nil || !fi.IsDir() {
			continue
		}
		var found []database
		var dangling []error
		for _, b := range backends() {
			name := path.Join(rdir, b.file)
			if _, err := env.FS.Lstat(name); errors.Is(err, fs.ErrNotExist) {
				continue
			}
			if _, err := env.FS.Stat(name); errors.Is(err, fs.ErrNotExist) {
				dangling = append(dangling, fmt.Errorf("rpm: %s: dangling symbolic link", name))
				continue
			}
			// Anything else is chosen even when it does not resolve (a
			// link loop): reading it then fails and says why.
			if r, err := env.FS.Resolve(name); err == nil {
				name = r
			}
			found = append(found, database{path: name, backend: b})
		}
		if len(found) == 0 {
			// A database that is only a dangling link is a database that
			// could not be read, not an absent one.
			problems = append(problems, dangling...)
			continue
		}
		chosen := found[0]
		if len(found) > 1 {
			log.Info("rpm: several database formats in one directory; reading the newest",
				"dir", rdir, "chosen", chosen.path, "ignored", dbPaths(found[1:]))
		}
		if seenFile[chosen.path] {
			continue
		}
		seenFile[chosen.path] = true
		dbs = append(dbs, chosen)
	}
	return dbs, problems
}

func dbPaths(dbs []database) []string {
	p := make([]string, len(dbs))
	for i, db := range dbs {
		p[i] = db.path
	}
	return p
}

// convert turns one go-rpmdb record into a host.Package. Problems with a
// single package's fields are recorded and the package is kept.
func convert(env *collect.Env, source string, p *rpmdb.PackageInfo) host.Package {
	pkg := host.Package{
		Manager:         "rpm",
		Name:            p.Name,
		Version:         evr(p.Epoch, p.Version, p.Release),
		Arch:            p.Arch,
		ModularityLabel: p.Modularitylabel,
		Source:          source,
	}
	if p.SourceRpm != "" {
		name, version, ok := parseSourceRPM(p.SourceRpm)
		if ok {
			pkg.SourceName = name
			// SOURCERPM carries no epoch. A source package and the binary
			// packages built from it share one, so the binary's is used:
			// without it "1.3-1" would compare lower than an advisory's
			// "2:1.2-3" and every fix would look missing.
			pkg.SourceVersion = evr(p.Epoch, version, "")
		} else {
			env.Errorf("rpm: %s: package %s: malformed SOURCERPM %q", source, p.Name, p.SourceRpm)
		}
	}
	files, err := p.InstalledFileNames()
	if err != nil {
		env.Errorf("rpm: %s: package %s: file list: %v", source, p.Name, err)
	}
	pkg.Files = files
	return pkg
}

// evr formats "[epoch:]version[-release]" as rpm's %{EVR} does: the epoch
// is printed whenever the header has an EPOCH tag, even "0:", and omitted
// when it has none (go-rpmdb's nil). Comparators read a missing epoch as 0,
// so both forms compare the same; keeping the header's own form makes the
// string match what `rpm -q` prints.
func evr(epoch *int, version, release string) string {
	var b strings.Builder
	if epoch != nil {
		fmt.Fprintf(&b, "%d:", *epoch)
	}
	b.WriteString(version)
	if release != "" {
		b.WriteString("-")
		b.WriteString(release)
	}
	return b.String()
}
