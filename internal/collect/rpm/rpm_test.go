package rpm

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"io/fs"
	"math/rand"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kensa-dev/kensa/internal/collect"
	"github.com/kensa-dev/kensa/internal/host"
	"github.com/kensa-dev/kensa/internal/hostfs"
	"github.com/kensa-dev/kensa/internal/testfixture"
)

// collectRoot runs the collector on root as a scan does; a hang fails the
// test (testfixture.Collect).
func collectRoot(t *testing.T, root string) (*host.Inventory, host.CollectorRun) {
	t.Helper()
	inv := testfixture.Collect(t, root, New())
	return inv, inv.Collectors[0]
}

// place copies the files src (paths on this machine) into root at the
// given root-relative names.
func place(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for name, src := range files {
		copyFile(t, src, filepath.Join(root, name))
	}
}

func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		t.Fatal(err)
	}
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

func byName(pkgs []host.Package) map[string]host.Package {
	m := map[string]host.Package{}
	for _, p := range pkgs {
		m[p.Name] = p
	}
	return m
}

// sharedRPM returns the shared rpm fixtures, for tests that use them when
// present and do without otherwise (testfixture.Shared would skip).
func sharedRPM() (string, bool) {
	dir := filepath.Join("..", "..", "..", "..", "shared")
	if v := os.Getenv("KENSA_SHARED"); v != "" {
		dir = v
	}
	dir = filepath.Join(dir, "fixtures", "pkgdb", "rpm")
	fi, err := os.Stat(dir)
	return dir, err == nil && fi.IsDir()
}

// want is one expected package. files, when set, is its whole file list in
// database order; someFiles need only be in it.
type want struct {
	name, version, arch, srcName, srcVersion, modularity string
	files, someFiles                                     []string
}

func checkPackages(t *testing.T, got []host.Package, source string, wants []want) {
	t.Helper()
	have := byName(got)
	for _, w := range wants {
		p, ok := have[w.name]
		if !ok {
			t.Errorf("package %s missing", w.name)
			continue
		}
		g := want{p.Name, p.Version, p.Arch, p.SourceName, p.SourceVersion, p.ModularityLabel, nil, nil}
		w2 := w
		w2.files, w2.someFiles = nil, nil
		if d := cmp.Diff(w2, g, cmp.AllowUnexported(want{})); d != "" {
			t.Errorf("package %s (-want +got):\n%s", w.name, d)
		}
		if w.files != nil {
			if d := cmp.Diff(w.files, p.Files); d != "" {
				t.Errorf("package %s files (-want +got):\n%s", w.name, d)
			}
		}
		for _, f := range w.someFiles {
			if !slices.Contains(p.Files, f) {
				t.Errorf("package %s: %s not among its %d files", w.name, f, len(p.Files))
			}
		}
	}
	for _, p := range got {
		if p.Manager != "rpm" || p.Source != source || p.Ecosystem != "" || p.PURL != "" {
			t.Errorf("package %s: manager %q, source %q, ecosystem %q, purl %q", p.Name, p.Manager, p.Source, p.Ecosystem, p.PURL)
		}
		for _, f := range p.Files {
			if !strings.HasPrefix(f, "/") {
				t.Errorf("package %s: file %q is not absolute", p.Name, f)
			}
		}
	}
}

func countFiles(pkgs []host.Package) int {
	n := 0
	for _, p := range pkgs {
		n += len(p.Files)
	}
	return n
}

// TestSharedFixtures reads the three real databases of the shared fixtures,
// one per backend. Every expected value was obtained outside this code:
//
//   - cbl-mariner-2.0-sqlite and libuuid-bdb: Debian 12's rpm 4.18.0 on a
//     temporary copy, `rpm --dbpath DIR -qa --qf '%{NAME} %{EPOCH}
//     %{VERSION}-%{RELEASE} %{ARCH} %{SOURCERPM} %{MODULARITYLABEL}\n'`,
//     file lists with --qf '[%{FILENAMES}\n]' (for the bdb, with
//     --define '_db_backend bdb_ro').
//   - sle15-bci-ndb: Debian's rpm is built without NDB. Package count,
//     names, versions, arches and source rpms are go-rpmdb's own test
//     expectations (SLE15WithNDB in pkg/rpmdb_testcase_test.go of
//     knqyf263/go-rpmdb v0.1.1, recorded with `rpm -qa` inside
//     registry.suse.com/bci/bci-minimal:15.3). The file lists come from rpm
//     4.18 too: a few lines of Python copied the 35 NDB blobs, unchanged,
//     into the Packages table of an empty rpm SQLite database, which rpm
//     then queried; it printed the same 35 packages.
func TestSharedFixtures(t *testing.T) {
	pkgdb := testfixture.Shared(t, "fixtures", "pkgdb", "rpm")
	tests := []struct {
		dir, source string
		count       int
		files       int // over all packages
		wants       []want
	}{
		{"cbl-mariner-2.0-sqlite", "/var/lib/rpm/rpmdb.sqlite", 129, 7269, []want{
			{name: "curl", version: "7.76.0-6.cm2", arch: "x86_64", srcName: "curl", srcVersion: "7.76.0-6.cm2", files: []string{
				"/usr/bin/curl",
				"/usr/bin/curl-config",
				"/usr/share/licenses/curl",
				"/usr/share/licenses/curl/COPYING",
				"/usr/share/man/man1/curl-config.1.gz",
				"/usr/share/man/man1/curl.1.gz",
			}},
			// EPOCH 1: rpm prints %{EPOCH} 1, %{EVR} 1:2.0.0-1.cm2.
			{name: "ca-certificates-base", version: "1:2.0.0-1.cm2", arch: "noarch", srcName: "ca-certificates", srcVersion: "1:2.0.0-1.cm2",
				files: []string{"/usr/share/pki/ca-trust-source/ca-bundle.trust.base.p11-kit"}},
			{name: "device-mapper-libs", version: "2.03.05-9.cm2", arch: "x86_64", srcName: "lvm2", srcVersion: "2.03.05-9.cm2",
				files: []string{"/usr/lib/libdevmapper.so.1.02"}},
			{name: "mariner-release", version: "2.0-4.cm2", arch: "noarch", srcName: "mariner-release", srcVersion: "2.0-4.cm2"},
			{name: "filesystem", version: "1.1-8.cm2", arch: "x86_64", srcName: "filesystem", srcVersion: "1.1-8.cm2",
				someFiles: []string{"/bin", "/boot", "/dev", "/etc", "/etc/fstab"}},
		}},
		{"sle15-bci-ndb", "/var/lib/rpm/Packages.db", 35, 2837, []want{
			{name: "glibc", version: "2.31-9.3.2", arch: "x86_64", srcName: "glibc", srcVersion: "2.31-9.3.2"},
			{name: "libreadline7", version: "7.0-19.6.1", arch: "x86_64", srcName: "bash", srcVersion: "4.4-19.6.1", files: []string{
				"/lib64/libhistory.so.7",
				"/lib64/libhistory.so.7.0",
				"/lib64/libreadline.so.7",
				"/lib64/libreadline.so.7.0",
				"/usr/share/licenses/libreadline7",
				"/usr/share/licenses/libreadline7/COPYING",
			}},
			{name: "libgcc_s1", version: "11.2.1+git610-1.3.9", arch: "x86_64", srcName: "gcc11", srcVersion: "11.2.1+git610-1.3.9"},
			{name: "ca-certificates-mozilla-prebuilt", version: "2.44-21.1", arch: "noarch", srcName: "ca-certificates-mozilla-prebuilt", srcVersion: "2.44-21.1"},
			{name: "bash", version: "4.4-19.6.1", arch: "x86_64", srcName: "bash", srcVersion: "4.4-19.6.1",
				someFiles: []string{"/bin/bash", "/usr/bin/bash", "/etc/skel/.bashrc"}},
			{name: "rpm-ndb", version: "4.14.3-40.1", arch: "x86_64", srcName: "rpm-ndb", srcVersion: "4.14.3-40.1"},
		}},
		{"libuuid-bdb", "/var/lib/rpm/Packages", 1, 7, []want{
			{name: "libuuid", version: "2.32.1-42.el8_8", arch: "x86_64", srcName: "util-linux", srcVersion: "2.32.1-42.el8_8", files: []string{
				"/usr/lib/.build-id",
				"/usr/lib/.build-id/df/ef6a880adac817216ab9866779a0725e017647",
				"/usr/lib64/libuuid.so.1",
				"/usr/lib64/libuuid.so.1.3.0",
				"/usr/share/licenses/libuuid",
				"/usr/share/licenses/libuuid/COPYING",
				"/usr/share/licenses/libuuid/COPYING.BSD-3",
			}},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.dir, func(t *testing.T) {
			// The shared fixtures are read-only; the collector reads them
			// in place, which TestDoesNotWrite shows to be harmless.
			inv, run := collectRoot(t, filepath.Join(pkgdb, tc.dir))
			if run.Status != host.StatusOK || run.Items != tc.count {
				t.Fatalf("run %+v, want ok with %d items", run, tc.count)
			}
			if len(inv.Packages) != tc.count {
				t.Errorf("got %d packages, want %d", len(inv.Packages), tc.count)
			}
			if n := countFiles(inv.Packages); n != tc.files {
				t.Errorf("got %d files over all packages, want %d", n, tc.files)
			}
			checkPackages(t, inv.Packages, tc.source, tc.wants)
		})
	}
}

// rpm418 is a database written by rpm 4.18 (testdata/rpm418/make-rpmdb.sh).
const rpm418 = "testdata/rpm418/rpmdb.sqlite"

// rpm418Wants returns what rpm printed for the packages of rpm418.
func rpm418Wants() []want {
	return []want{
		// Epoch: 0 in the spec: rpm prints %{EPOCH} 0 and %{EVR} 0:1.0-1.el9.
		{name: "kensa-epoch-zero", version: "0:1.0-1.el9", arch: "noarch", srcName: "kensa-epoch-zero", srcVersion: "0:1.0-1.el9",
			files: []string{"/usr/share/kensa/epoch-zero.txt"}},
		{name: "kensa-modular", version: "3:2.0-3.module+el8.1.0+2940+f62455ee", arch: "x86_64",
			srcName: "kensa-modular", srcVersion: "3:2.0-3.module+el8.1.0+2940+f62455ee",
			modularity: "perl:5.26:8000020190628015319:a5b0195c",
			files:      []string{"/etc/kensa", "/etc/kensa/modular.conf", "/usr/lib/kensa", "/usr/lib/kensa/modular.so"}},
		{name: "python3.11-kensa-odd-name", version: "1.2.3~rc1-0.1.fc39", arch: "noarch",
			srcName: "python3.11-kensa-odd-name", srcVersion: "1.2.3~rc1-0.1.fc39",
			files: []string{"/usr/share/kensa/dir with space", "/usr/share/kensa/dir with space/odd file.txt"}},
	}
}

// TestSysimageBehindSymlink lays the database out as Fedora 36 and later
// do: in usr/lib/sysimage/rpm, with var/lib/rpm a symbolic link to it. It
// must be read once, and its gpg-pubkey entry skipped.
func TestSysimageBehindSymlink(t *testing.T) {
	root := t.TempDir()
	place(t, root, map[string]string{"usr/lib/sysimage/rpm/rpmdb.sqlite": rpm418})
	if err := os.MkdirAll(filepath.Join(root, "var/lib"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../../usr/lib/sysimage/rpm", filepath.Join(root, "var/lib/rpm")); err != nil {
		t.Fatal(err)
	}
	inv, run := collectRoot(t, root)
	if run.Status != host.StatusOK || run.Items != 3 || len(inv.Packages) != 3 {
		t.Fatalf("run %+v with %d packages; want ok with 3 (and no gpg-pubkey)", run, len(inv.Packages))
	}
	checkPackages(t, inv.Packages, "/usr/lib/sysimage/rpm/rpmdb.sqlite", rpm418Wants())
}

// TestLocations finds databases in each place rpm has kept them.
func TestLocations(t *testing.T) {
	for _, dir := range dbDirs() {
		root := t.TempDir()
		place(t, root, map[string]string{dir + "/rpmdb.sqlite": rpm418})
		inv, run := collectRoot(t, root)
		if run.Status != host.StatusOK || len(inv.Packages) != 3 {
			t.Errorf("%s: run %+v with %d packages", dir, run, len(inv.Packages))
			continue
		}
		checkPackages(t, inv.Packages, "/"+dir+"/rpmdb.sqlite", rpm418Wants())
	}
}

// TestBackendPreference puts all three formats in one directory, as a
// converted database leaves them: only the newest, SQLite, is read.
func TestBackendPreference(t *testing.T) {
	hs := testHeaders(t)
	root := t.TempDir()
	place(t, root, map[string]string{"var/lib/rpm/rpmdb.sqlite": rpm418})
	// The other two hold only the epoch-zero header: were they read, it
	// would show up twice.
	for name, data := range map[string][]byte{"Packages.db": buildNDB(hs[3:4]), "Packages": buildBDB(hs[3:4], 4096)} {
		if err := os.WriteFile(filepath.Join(root, "var/lib/rpm", name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	inv, run := collectRoot(t, root)
	if run.Status != host.StatusOK || len(inv.Packages) != 3 {
		t.Fatalf("run %+v with %d packages; want ok with 3", run, len(inv.Packages))
	}
	checkPackages(t, inv.Packages, "/var/lib/rpm/rpmdb.sqlite", rpm418Wants())

	// Without the SQLite file, NDB wins over Berkeley DB.
	if err := os.Remove(filepath.Join(root, "var/lib/rpm/rpmdb.sqlite")); err != nil {
		t.Fatal(err)
	}
	inv, run = collectRoot(t, root)
	if run.Status != host.StatusOK || len(inv.Packages) != 1 || inv.Packages[0].Source != "/var/lib/rpm/Packages.db" {
		t.Fatalf("run %+v, packages %+v; want ok with 1 from Packages.db", run, inv.Packages)
	}
}

// TestTwoDatabases reads two distinct databases and keeps each package's
// source; a package identical in both is listed once.
func TestTwoDatabases(t *testing.T) {
	hs := testHeaders(t)
	root := t.TempDir()
	place(t, root, map[string]string{"usr/lib/sysimage/rpm/rpmdb.sqlite": rpm418})
	// var/lib/rpm: a leftover Berkeley DB holding the epoch-zero package,
	// which the SQLite database holds too.
	if err := os.MkdirAll(filepath.Join(root, "var/lib/rpm"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "var/lib/rpm/Packages"), buildBDB(hs[3:4], 4096), 0o644); err != nil {
		t.Fatal(err)
	}
	inv, run := collectRoot(t, root)
	if run.Status != host.StatusOK || len(inv.Packages) != 3 {
		t.Fatalf("run %+v with %d packages; want ok with 3", run, len(inv.Packages))
	}
	if p := byName(inv.Packages)["kensa-epoch-zero"]; p.Source != "/var/lib/rpm/Packages" {
		t.Errorf("kensa-epoch-zero from %s; want the first database read, /var/lib/rpm/Packages", p.Source)
	}
	if p := byName(inv.Packages)["kensa-modular"]; p.Source != "/usr/lib/sysimage/rpm/rpmdb.sqlite" {
		t.Errorf("kensa-modular from %s", p.Source)
	}
}

func TestNotApplicable(t *testing.T) {
	root := t.TempDir()
	// An empty rpm directory, as a Debian host with the rpm tool has.
	if err := os.MkdirAll(filepath.Join(root, "var/lib/rpm"), 0o755); err != nil {
		t.Fatal(err)
	}
	inv, run := collectRoot(t, root)
	if run.Status != host.StatusSkipped || !strings.Contains(run.Reason, "no rpm database found in /var/lib/rpm, /usr/lib/sysimage/rpm, /usr/share/rpm") {
		t.Errorf("run %+v", run)
	}
	if len(inv.Packages) != 0 {
		t.Errorf("%d packages", len(inv.Packages))
	}
}

// TestLinkOutOfRoot: a database reached through a link that points out of
// the root is looked for inside the root, as under chroot. There it does
// not exist: the link dangles, and the collector fails saying so, without
// reading the database outside.
func TestLinkOutOfRoot(t *testing.T) {
	outside := t.TempDir()
	place(t, outside, map[string]string{"rpmdb.sqlite": rpm418})
	abs, err := filepath.Abs(filepath.Join(outside, "rpmdb.sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "var/lib/rpm"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../../../../../../../.."+abs, filepath.Join(root, "var/lib/rpm/rpmdb.sqlite")); err != nil {
		t.Fatal(err)
	}
	inv, run := collectRoot(t, root)
	if run.Status != host.StatusFailed || !strings.Contains(run.Reason, "dangling") || len(inv.Packages) != 0 {
		t.Errorf("run %+v with %d packages; want failed on a dangling link, with none", run, len(inv.Packages))
	}
}

// TestLinkLoops: a looping link where the database or its directory should
// be fails the collector with the reason; it neither hangs nor skips.
func TestLinkLoops(t *testing.T) {
	for name, link := range map[string]string{
		"var/lib/rpm/Packages": "Packages",
		"var/lib/rpm":          "rpm",
	} {
		root := t.TempDir()
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(link, p); err != nil {
			t.Fatal(err)
		}
		_, run := collectRoot(t, root)
		if run.Status != host.StatusFailed || !strings.Contains(run.Reason, hostfs.ErrLinkLoop.Error()) {
			t.Errorf("%s -> %s: run %+v", name, link, run)
		}
	}
}

// TestNotRegular: a FIFO where the database should be is refused at once
// (reading it would block), as is a directory.
func TestNotRegular(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "var/lib/rpm/rpmdb.sqlite"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(root, "usr/share/rpm"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(root, "usr/share/rpm/Packages"), 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	_, run := collectRoot(t, root)
	if run.Status != host.StatusFailed || !strings.Contains(run.Reason, "/var/lib/rpm/rpmdb.sqlite") || !strings.Contains(run.Reason, "/usr/share/rpm/Packages") {
		t.Errorf("run %+v; want failed naming both", run)
	}
}

// snapshot lists everything under root with its mode, size, modification
// time and, for files, content.
func snapshot(t *testing.T, root string) map[string]string {
	t.Helper()
	m := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		entry := fmt.Sprintf("%v %d %d", fi.Mode(), fi.Size(), fi.ModTime().UnixNano())
		if fi.Mode().IsRegular() {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			entry += fmt.Sprintf(" %x", b)
		}
		m[p] = entry
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestDoesNotWrite scans writable copies of real databases, every backend
// and the WAL-mode SQLite ones, and checks that nothing under the root
// changed: no file created, removed or written, no directory touched.
// (go-rpmdb alone, on rpmdb.sqlite in place, creates rpmdb.sqlite-wal and
// rpmdb.sqlite-shm beside it and removes them on close.)
func TestDoesNotWrite(t *testing.T) {
	hs := testHeaders(t)
	root := t.TempDir()
	place(t, root, map[string]string{
		"var/lib/rpm/rpmdb.sqlite":          rpm418,
		"usr/lib/sysimage/rpm/rpmdb.sqlite": rpm418,
	})
	if err := os.MkdirAll(filepath.Join(root, "usr/share/rpm"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "usr/share/rpm/Packages.db"), buildNDB(hs), 0o644); err != nil {
		t.Fatal(err)
	}
	if pkgdb, ok := sharedRPM(); ok {
		// The real Mariner database, WAL-mode too, replaces the first.
		copyFile(t, filepath.Join(pkgdb, "cbl-mariner-2.0-sqlite", "var", "lib", "rpm", "rpmdb.sqlite"),
			filepath.Join(root, "var/lib/rpm/rpmdb.sqlite"))
	} else {
		t.Log("shared fixtures not found; scanning the testdata databases only")
	}
	// Old times everywhere, so that any touch shows.
	old := time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Chtimes(p, old, old)
	})
	if err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, root)
	inv, run := collectRoot(t, root)
	if run.Status != host.StatusOK || len(inv.Packages) == 0 {
		t.Fatalf("run %+v with %d packages", run, len(inv.Packages))
	}
	after := snapshot(t, root)
	if d := cmp.Diff(before, after); d != "" {
		t.Errorf("the scan changed the root (-before +after):\n%s", d)
	}
}

// TestWAL: committed transactions still in rpmdb.sqlite-wal are part of
// the database. Here the WAL deletes one package; reading the database
// file alone would still show it.
func TestWAL(t *testing.T) {
	stage := t.TempDir()
	place(t, stage, map[string]string{"rpmdb.sqlite": rpm418})
	db, err := sql.Open("sqlite", filepath.Join(stage, "rpmdb.sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	var mode string
	if err := db.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Fatalf("journal mode %q, %v; rpm writes WAL-mode databases", mode, err)
	}
	if _, err := db.Exec("PRAGMA wal_autocheckpoint = 0"); err != nil {
		t.Fatal(err)
	}
	// hnum 4 is the last header rpm added, kensa-epoch-zero (rpm -qa, which
	// lists in hnum order, prints it last).
	if _, err := db.Exec("DELETE FROM Packages WHERE hnum = 4"); err != nil {
		t.Fatal(err)
	}
	// Copy while the connection is open: its close would checkpoint.
	root := t.TempDir()
	place(t, root, map[string]string{
		"var/lib/rpm/rpmdb.sqlite":     filepath.Join(stage, "rpmdb.sqlite"),
		"var/lib/rpm/rpmdb.sqlite-wal": filepath.Join(stage, "rpmdb.sqlite-wal"),
	})
	if fi, err := os.Stat(filepath.Join(root, "var/lib/rpm/rpmdb.sqlite-wal")); err != nil || fi.Size() == 0 {
		t.Fatalf("no WAL to test with: %v", err)
	}
	inv, run := collectRoot(t, root)
	if run.Status != host.StatusOK {
		t.Fatalf("run %+v", run)
	}
	var names []string
	for _, p := range inv.Packages {
		names = append(names, p.Name)
	}
	if want := []string{"kensa-modular", "python3.11-kensa-odd-name"}; !slices.Equal(names, want) {
		t.Errorf("packages %v, want %v", names, want)
	}
}

// TestBadDatabases: garbage, or a truncated copy of a real database, under
// each database name must fail the collector with a reason, promptly, and
// never crash the test process.
func TestBadDatabases(t *testing.T) {
	hs := testHeaders(t)
	sq, err := os.ReadFile(rpm418)
	if err != nil {
		t.Fatal(err)
	}
	good := map[string][]byte{
		"rpmdb.sqlite": sq,
		"Packages.db":  buildNDB(hs),
		"Packages":     buildBDB(hs, 512),
	}
	// The shared fixtures, when present, are truncated too.
	if pkgdb, ok := sharedRPM(); ok {
		for dir, name := range map[string]string{"cbl-mariner-2.0-sqlite": "rpmdb.sqlite", "sle15-bci-ndb": "Packages.db", "libuuid-bdb": "Packages"} {
			b, err := os.ReadFile(filepath.Join(pkgdb, dir, "var", "lib", "rpm", name))
			if err != nil {
				t.Fatal(err)
			}
			good[dir+"/"+name] = b
		}
	} else {
		t.Log("shared fixtures not found; truncating the testdata databases only")
	}
	rng := rand.New(rand.NewSource(1))
	random := func(n int) []byte {
		b := make([]byte, n)
		rng.Read(b)
		return b
	}
	type bad struct {
		label, name string
		data        []byte
	}
	var cases []bad
	for _, name := range []string{"rpmdb.sqlite", "Packages.db", "Packages"} {
		for _, n := range []int{0, 1, 31, 512, 4096, 100000} {
			cases = append(cases, bad{fmt.Sprintf("%d random bytes", n), name, random(n)})
		}
	}
	for label, b := range good {
		name := filepath.Base(label)
		for _, n := range []int{0, 16, 31, 100, len(b) / 4, len(b) / 2, 3 * len(b) / 4} {
			cases = append(cases, bad{fmt.Sprintf("%s cut to %d of %d bytes", label, n, len(b)), name, b[:n]})
		}
		// The right magic, then garbage.
		mixed := append(append([]byte(nil), b[:64]...), random(len(b)-64)...)
		cases = append(cases, bad{label + " header then garbage", name, mixed})
	}
	for _, tc := range cases {
		t.Run(tc.name+": "+tc.label, func(t *testing.T) {
			root := t.TempDir()
			p := filepath.Join(root, "var/lib/rpm", tc.name)
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, tc.data, 0o644); err != nil {
				t.Fatal(err)
			}
			_, run := collectRoot(t, root)
			if (run.Status != host.StatusFailed && run.Status != host.StatusPartial) || (run.Reason == "" && len(run.Errors) == 0) {
				t.Errorf("run %+v; want failed or partial, with the error", run)
			}
			if !strings.Contains(run.Reason+strings.Join(run.Errors, " "), "/var/lib/rpm/"+tc.name) {
				t.Errorf("error %q does not name the database", run.Reason)
			}
		})
	}
}

// forgeSQLite returns a copy of rpm418 changed by the SQL statements, in
// one file (closing the connection checkpoints the WAL).
func forgeSQLite(t *testing.T, stmts ...string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "rpmdb.sqlite")
	copyFile(t, rpm418, p)
	db, err := sql.Open("sqlite", p)
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	for _, s := range stmts {
		if _, err := db.Exec(s); err != nil {
			db.Close()
			t.Fatalf("%s: %v", s, err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestForgedSQLite: go-rpmdb reads "SELECT blob FROM Packages" to the end,
// with no deadline, and SQL in the database decides what that query does.
// A Packages that is not the plain table rpm creates, or anything else rpm
// never creates that runs SQL or module code, must fail the collector
// with the reason, before go-rpmdb runs.
func TestForgedSQLite(t *testing.T) {
	header := fmt.Sprintf("%X", testHeaders(t)[1])
	// keep moves the rows of Packages aside and drops it; restore puts
	// them back into whatever Packages has become.
	keep := []string{"CREATE TABLE Kept AS SELECT hnum, blob FROM Packages", "DROP TABLE Packages"}
	restore := []string{"INSERT INTO Packages (hnum, blob) SELECT hnum, blob FROM Kept", "DROP TABLE Kept"}
	with := func(middle ...string) []string {
		return append(append(append([]string(nil), keep...), middle...), restore...)
	}
	for _, tc := range []struct {
		name  string
		stmts []string
		want  string
	}{
		// Every row a valid header, without end: the old check and
		// go-rpmdb both looped forever.
		{"Packages a recursive view", []string{
			"DROP TABLE Packages",
			"CREATE VIEW Packages AS WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c) SELECT x AS hnum, X'" + header + "' AS blob FROM c",
		}, "Packages is a view, not a table"},
		{"Packages a virtual table", with("CREATE VIRTUAL TABLE Packages USING fts5(hnum, blob)"),
			"Packages is a virtual table"},
		// The same, with its SQL text spelled to hide the word VIRTUAL
		// from a reader that does not skip comments as SQLite does.
		{"Packages a virtual table, comments in its SQL", append(with("CREATE VIRTUAL TABLE Packages USING fts5(hnum, blob)"),
			"PRAGMA writable_schema = ON",
			"UPDATE sqlite_master SET sql = 'CREATE/* TABLE */--\n'||char(10)||'VIRTUAL TABLE Packages USING fts5(hnum, blob)' WHERE name = 'Packages'",
		), "Packages is a virtual table"},
		{"blob a generated column", append(keep,
			"CREATE TABLE Packages (hnum INTEGER PRIMARY KEY, raw BLOB, blob BLOB GENERATED ALWAYS AS (raw) VIRTUAL)",
			"INSERT INTO Packages (hnum, raw) SELECT hnum, blob FROM Kept", "DROP TABLE Kept",
		), "Packages column blob is generated"},
		{"an extra column", []string{"ALTER TABLE Packages ADD COLUMN extra TEXT"},
			"Packages has columns (hnum INTEGER, blob BLOB, extra TEXT)"},
		{"blob declared TEXT", with("CREATE TABLE Packages (hnum INTEGER PRIMARY KEY, blob TEXT)"),
			"not (hnum INTEGER PRIMARY KEY, blob BLOB)"},
		{"hnum not the rowid (WITHOUT ROWID)", with("CREATE TABLE Packages (hnum INTEGER PRIMARY KEY, blob BLOB) WITHOUT ROWID"),
			"its hnum is not the rowid"},
		{"hnum not the rowid (DESC)", with("CREATE TABLE Packages (hnum INTEGER PRIMARY KEY DESC, blob BLOB)"),
			"on Packages: rpm creates none"},
		{"an index on Packages", []string{"CREATE INDEX Packages_blob ON Packages (blob)"},
			"index Packages_blob on Packages: rpm creates none"},
		{"Packages upper-cased", []string{"ALTER TABLE Packages RENAME TO Moved", "ALTER TABLE Moved RENAME TO PACKAGES"},
			"table PACKAGES, not Packages"},
		{"no Packages", []string{"DROP TABLE Packages"}, "no Packages table"},
		{"a view elsewhere", []string{"CREATE VIEW Latest AS SELECT max(hnum) FROM Packages"},
			"Latest is a view: rpm creates none"},
		{"a trigger", []string{"CREATE TRIGGER Touch AFTER INSERT ON Name BEGIN SELECT 1; END"},
			"Touch is a trigger: rpm creates none"},
		{"a virtual table elsewhere", []string{"CREATE VIRTUAL TABLE Spatial USING rtree(id, x0, x1)"},
			"Spatial is a virtual table: rpm creates none"},
		{"a header stored as text", []string{"UPDATE Packages SET blob = CAST(blob AS TEXT)"},
			"row 1: text, not a blob"},
		{"a row too short for a header", []string{"INSERT INTO Packages (blob) VALUES (X'0000000100000000')"},
			"row 5: blob of 8 bytes, too short for an rpm header"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			place(t, root, map[string]string{"var/lib/rpm/rpmdb.sqlite": forgeSQLite(t, tc.stmts...)})
			inv, run := collectRoot(t, root)
			if run.Status != host.StatusFailed || len(inv.Packages) != 0 {
				t.Fatalf("run %+v with %d packages; want failed", run, len(inv.Packages))
			}
			if !strings.Contains(run.Reason, "/var/lib/rpm/rpmdb.sqlite: corrupt database: ") || !strings.Contains(run.Reason, tc.want) {
				t.Errorf("reason %q; want the database named, corrupt, and %q", run.Reason, tc.want)
			}
		})
	}
}

// TestOneBadOneGood: a database that fails does not hide another that
// reads; the run is partial.
func TestOneBadOneGood(t *testing.T) {
	root := t.TempDir()
	place(t, root, map[string]string{"usr/lib/sysimage/rpm/rpmdb.sqlite": rpm418})
	if err := os.MkdirAll(filepath.Join(root, "var/lib/rpm"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "var/lib/rpm/Packages"), []byte("not a database, but long enough to be looked at"), 0o644); err != nil {
		t.Fatal(err)
	}
	inv, run := collectRoot(t, root)
	if run.Status != host.StatusPartial || run.ErrorCount != 1 || !strings.Contains(run.Errors[0], "/var/lib/rpm/Packages") {
		t.Errorf("run %+v", run)
	}
	if len(inv.Packages) != 3 {
		t.Errorf("%d packages, want 3", len(inv.Packages))
	}
}

// TestCanceled: a canceled context ends the collector with its error.
func TestCanceled(t *testing.T) {
	root := t.TempDir()
	place(t, root, map[string]string{"var/lib/rpm/rpmdb.sqlite": rpm418})
	fsys, err := hostfs.Open(root)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var inv host.Inventory
	env := &collect.Env{FS: fsys}
	if err := New().Collect(ctx, env, &inv); err == nil || !strings.Contains(err.Error(), context.Canceled.Error()) {
		t.Errorf("got %v, want the cancellation", err)
	}
	if len(inv.Packages) != 0 {
		t.Errorf("%d packages after cancellation", len(inv.Packages))
	}
}

func TestName(t *testing.T) {
	if got := New().Name(); got != "pkg/rpm" {
		t.Errorf("Name() = %q", got)
	}
}
