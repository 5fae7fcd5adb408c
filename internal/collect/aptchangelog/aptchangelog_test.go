package aptchangelog

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/kensa-dev/kensa/internal/collect"
	"github.com/kensa-dev/kensa/internal/collect/dpkg"
	"github.com/kensa-dev/kensa/internal/host"
	"github.com/kensa-dev/kensa/internal/hostfs"
	"github.com/kensa-dev/kensa/internal/testfixture"
)

// The fixture root, testdata/root, is a trimmed copy of this Debian 12
// host as it was on 2026-11-27: real stanzas of its apt lists (bookworm
// main as lz4, bookworm-security as xz, bookworm-updates as gz) and of
// Debian's bookworm-backports (plain) and experimental (zst) lists,
// their InRelease files cut after three checksum lines, the dpkg status
// of the packages concerned, and their installed changelogs.
// testdata/candidates holds the changelogs of the candidate .debs that
// `apt-get download` fetched then, by .deb name.

// fixtureFetcher is a Fetcher over testdata/candidates: a recorded
// package is there whether or not downloading is allowed, like a cache.
type fixtureFetcher struct {
	dir string
	// fail, when set, is the error of every package not recorded when
	// downloading is allowed; else such a package is a download failure.
	fail error

	mu    sync.Mutex
	calls []string
}

func (f *fixtureFetcher) Fetch(ctx context.Context, req Request, download bool) (Changelogs, error) {
	if err := req.valid(); err != nil {
		return Changelogs{}, err
	}
	f.mu.Lock()
	f.calls = append(f.calls, req.debName())
	f.mu.Unlock()
	dir := filepath.Join(f.dir, strings.TrimSuffix(req.debName(), ".deb"))
	var cl Changelogs
	var err error
	if cl.Debian, err = os.ReadFile(filepath.Join(dir, "changelog.Debian.gz")); errors.Is(err, os.ErrNotExist) {
		cl.Debian, err = os.ReadFile(filepath.Join(dir, "changelog.gz"))
	}
	switch {
	case err == nil:
		cl.BinNMU, _ = os.ReadFile(filepath.Join(dir, "changelog.Debian."+req.Arch+".gz"))
		return cl, nil
	case !download:
		return Changelogs{}, ErrNotCached
	case f.fail != nil:
		return Changelogs{}, f.fail
	default:
		return Changelogs{}, fmt.Errorf("%w: %s was not recorded", ErrDownload, req.debName())
	}
}

func (f *fixtureFetcher) Calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Sorted(slices.Values(f.calls))
}

// liveFS makes a fixture root pass for the running system.
type liveFS struct{ hostfs.FS }

func (liveFS) Live() bool { return true }

// collectRoot collects root with the dpkg collector and this one.
func collectRoot(t *testing.T, root string, live bool, opts Options) (*host.Inventory, host.CollectorRun) {
	t.Helper()
	fsys, err := hostfs.Open(root)
	if err != nil {
		t.Fatal(err)
	}
	if live {
		fsys = liveFS{fsys}
	}
	inv := testfixture.CollectEnv(t, &collect.Env{FS: fsys}, dpkg.New(), New(opts))
	if inv.Collectors[0].Status != host.StatusOK {
		t.Fatalf("dpkg: %+v", inv.Collectors[0])
	}
	return inv, inv.Collectors[1]
}

func pendingByName(u *host.Updates) map[string]host.PendingUpdate {
	m := map[string]host.PendingUpdate{}
	for _, p := range u.Pending {
		m[p.Name] = p
	}
	return m
}

var (
	opensslCVEs = []string{"CVE-2026-7383", "CVE-2026-9076", "CVE-2026-34180", "CVE-2026-34182", "CVE-2026-35189",
		"CVE-2026-42766", "CVE-2026-42767", "CVE-2026-42770", "CVE-2026-45445", "CVE-2026-45446", "CVE-2026-45447",
		"CVE-2026-54872", "CVE-2026-54874", "CVE-2026-63072", "CVE-2026-63074", "CVE-2026-63076", "CVE-2026-75803",
		"CVE-2026-75805", "CVE-2026-75806", "CVE-2026-77696", "CVE-2026-84782"}
	curlCVEs = []string{"CVE-2025-10148", "CVE-2025-14524", "CVE-2025-14819", "CVE-2026-3783", "CVE-2026-3784",
		"CVE-2026-5773", "CVE-2026-7168"}
	// python3.11's new entries also name CVE-2021-4189 ("Apply
	// CVE-2021-4189 PASV fix to ftplib.ftpcp()") and CVE-2023-52425 (of
	// expat, in a note on tests): the method reports every id an entry
	// names.
	pythonCVEs = []string{"CVE-2021-4189", "CVE-2023-52425", "CVE-2025-4516", "CVE-2025-6069", "CVE-2025-6075",
		"CVE-2025-8194", "CVE-2025-8291", "CVE-2025-11468", "CVE-2025-12084", "CVE-2025-13462", "CVE-2025-13836",
		"CVE-2025-13837", "CVE-2025-15282", "CVE-2025-69534", "CVE-2026-0672", "CVE-2026-0865", "CVE-2026-1299",
		"CVE-2026-1502", "CVE-2026-2297", "CVE-2026-3276", "CVE-2026-3644", "CVE-2026-4224", "CVE-2026-4519",
		"CVE-2026-6019", "CVE-2026-6100", "CVE-2026-8328", "CVE-2026-9669", "CVE-2026-15308", "CVE-2026-15310",
		"CVE-2026-15806", "CVE-2026-17084", "CVE-2026-18503", "CVE-2026-19445", "CVE-2026-19553"}
)

// wantPending is the fixture's pending updates as `apt list --upgradable`
// showed them on the host (with the backports and experimental archives
// added, which it did not have), and the CVEs as zcat and grep find them
// in the candidates' entries above the installed version's.
var wantPending = []host.PendingUpdate{
	{Name: "base-files", Arch: "amd64", Installed: "12.4+deb12u11", Candidate: "12.4+deb12u15", Suite: "bookworm", SourceName: "base-files", Changelog: "read"},
	{Name: "bash", Arch: "amd64", Installed: "5.2.15-2+b8", Candidate: "5.2.15-2+b13", Suite: "bookworm", SourceName: "bash", Changelog: "read"},
	{Name: "curl", Arch: "amd64", Installed: "7.88.1-10+deb12u14", Candidate: "7.88.1-10+deb12u15", Suite: "bookworm", SourceName: "curl", FixedCVEs: curlCVEs, Changelog: "read"},
	{Name: "libcap2", Arch: "amd64", Installed: "1:2.66-4+deb12u2+b2", Candidate: "1:2.66-4+deb12u3+b1", Suite: "bookworm", SourceName: "libcap2", FixedCVEs: []string{"CVE-2026-4878"}, Changelog: "read"},
	{Name: "libcurl4", Arch: "amd64", Installed: "7.88.1-10+deb12u14", Candidate: "7.88.1-10+deb12u15", Suite: "bookworm", SourceName: "curl", FixedCVEs: curlCVEs, Changelog: "read"},
	{Name: "libssl3", Arch: "amd64", Installed: "3.0.19-1~deb12u2", Candidate: "3.0.22-1~deb12u2", Suite: "bookworm-security", SourceName: "openssl", FixedCVEs: opensslCVEs, Changelog: "read"},
	{Name: "openssl", Arch: "amd64", Installed: "3.0.19-1~deb12u2", Candidate: "3.0.22-1~deb12u2", Suite: "bookworm-security", SourceName: "openssl", FixedCVEs: opensslCVEs, Changelog: "read"},
	{Name: "python3.11", Arch: "amd64", Installed: "3.11.2-6+deb12u6", Candidate: "3.11.2-6+deb12u9", Suite: "bookworm-security", SourceName: "python3.11", FixedCVEs: pythonCVEs, Changelog: "read"},
	{Name: "python3.11-venv", Arch: "amd64", Installed: "3.11.2-6+deb12u6", Candidate: "3.11.2-6+deb12u9", Suite: "bookworm-security", SourceName: "python3.11", FixedCVEs: pythonCVEs, Changelog: "read"},
	{Name: "tzdata", Arch: "all", Installed: "2025b-0+deb12u2", Candidate: "2026f-0+deb12u1", Suite: "bookworm-security", SourceName: "tzdata", Changelog: "read"},
}

var fixtureLists = []string{
	"/var/lib/apt/lists/deb.debian.org_debian-security_dists_bookworm-security_main_binary-amd64_Packages.xz",
	"/var/lib/apt/lists/deb.debian.org_debian_dists_bookworm-backports_main_binary-amd64_Packages",
	"/var/lib/apt/lists/deb.debian.org_debian_dists_bookworm-updates_main_binary-amd64_Packages.gz",
	"/var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages.lz4",
	"/var/lib/apt/lists/deb.debian.org_debian_dists_experimental_main_binary-amd64_Packages.zst",
}

// TestFixtureRoot checks the whole collector on the recorded host: the
// candidates (backports' newer iproute2 and curl and experimental's
// openssl 4 are not candidates; tzdata is arch all; bookworm-updates'
// older openssl and bookworm-security's older curl are passed over), one
// changelog fetched per source, and the CVEs.
func TestFixtureRoot(t *testing.T) {
	ff := &fixtureFetcher{dir: "testdata/candidates"}
	inv, run := collectRoot(t, "testdata/root", false, Options{Fetcher: ff})
	if run.Status != host.StatusOK {
		t.Fatalf("status %s: %s %v", run.Status, run.Reason, run.Errors)
	}
	u := inv.Updates
	if u == nil {
		t.Fatal("no updates")
	}
	if diff := cmp.Diff(wantPending, u.Pending); diff != "" {
		t.Errorf("pending (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(fixtureLists, u.Lists); diff != "" {
		t.Errorf("lists (-want +got):\n%s", diff)
	}
	if u.Method != "apt-changelog" || u.ChangelogsRead != len(wantPending) || u.ChangelogsMissing != 0 || run.Items != len(wantPending) {
		t.Errorf("method %q read %d missing %d items %d", u.Method, u.ChangelogsRead, u.ChangelogsMissing, run.Items)
	}
	// One package per changelog: the smallest of each source (openssl
	// rather than libssl3, curl rather than libcurl4), and python3.11,
	// whose documentation directory is its own, rather than the smaller
	// python3.11-venv, whose is a link.
	want := []string{
		"base-files_12.4+deb12u15_amd64.deb",
		"bash_5.2.15-2+b13_amd64.deb",
		"curl_7.88.1-10+deb12u15_amd64.deb",
		"libcap2_1%3a2.66-4+deb12u3+b1_amd64.deb",
		"openssl_3.0.22-1~deb12u2_amd64.deb",
		"python3.11_3.11.2-6+deb12u9_amd64.deb",
		"tzdata_2026f-0+deb12u1_all.deb",
	}
	if diff := cmp.Diff(want, ff.Calls()); diff != "" {
		t.Errorf("fetches (-want +got):\n%s", diff)
	}
}

// copyRoot copies the fixture root into a temporary directory, links
// kept as links.
func copyRoot(t *testing.T) string {
	t.Helper()
	dst := t.TempDir()
	err := filepath.Walk("testdata/root", func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel("testdata/root", p)
		to := filepath.Join(dst, rel)
		switch {
		case fi.Mode()&os.ModeSymlink != 0:
			l, err := os.Readlink(p)
			if err != nil {
				return err
			}
			return os.Symlink(l, to)
		case fi.IsDir():
			return os.MkdirAll(to, 0o755)
		default:
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			return os.WriteFile(to, b, 0o644)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

func gz(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func gunzip(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func setStatusVersion(t *testing.T, root, pkg, from, to string) {
	t.Helper()
	name := filepath.Join(root, "var/lib/dpkg/status")
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	old := "Package: " + pkg + "\n"
	i := bytes.Index(b, []byte(old))
	j := bytes.Index(b[i:], []byte("Version: "+from+"\n"))
	if i < 0 || j < 0 {
		t.Fatalf("no %s %s in status", pkg, from)
	}
	b = slices.Concat(b[:i+j], []byte("Version: "+to+"\n"), b[i+j+len("Version: "+from+"\n"):])
	if err := os.WriteFile(name, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestBackportSubtraction upgrades curl from 7.88.1-10+deb12u12, whose
// changelog is the candidate's less its three newest entries. One of
// those, deb12u13, names CVE-2023-27534 (a regression fix,
// "fix-CVE-2023-27534-regression-{1,2}.patch"); the installed changelog
// names it too (fixed in 7.88.1-7), so it is not reported as fixed by the
// update.
func TestBackportSubtraction(t *testing.T) {
	root := copyRoot(t)
	setStatusVersion(t, root, "curl", "7.88.1-10+deb12u14", "7.88.1-10+deb12u12")
	full := gunzip(t, "testdata/candidates/curl_7.88.1-10+deb12u15_amd64/changelog.Debian.gz")
	i := bytes.Index(full, []byte("curl (7.88.1-10+deb12u12)"))
	if i < 0 || !bytes.Contains(full[:i], []byte("CVE-2023-27534")) || !bytes.Contains(full[i:], []byte("CVE-2023-27534")) {
		t.Fatal("the recorded changelog is not as this test expects")
	}
	if err := os.WriteFile(filepath.Join(root, "usr/share/doc/curl/changelog.Debian.gz"), gz(t, full[i:]), 0o644); err != nil {
		t.Fatal(err)
	}
	inv, run := collectRoot(t, root, false, Options{Fetcher: &fixtureFetcher{dir: "testdata/candidates"}})
	if run.Status != host.StatusOK {
		t.Fatalf("status %s: %v", run.Status, run.Errors)
	}
	p := pendingByName(inv.Updates)
	if diff := cmp.Diff(curlCVEs, p["curl"].FixedCVEs); diff != "" {
		t.Errorf("curl from deb12u12 (-want +got):\n%s", diff)
	}
	// libcurl4, still at deb12u14, has the same answer.
	if diff := cmp.Diff(curlCVEs, p["libcurl4"].FixedCVEs); diff != "" {
		t.Errorf("libcurl4 (-want +got):\n%s", diff)
	}
	// Without the installed changelog the regression's CVE is reported.
	if err := os.Remove(filepath.Join(root, "usr/share/doc/curl/changelog.Debian.gz")); err != nil {
		t.Fatal(err)
	}
	inv, run = collectRoot(t, root, false, Options{Fetcher: &fixtureFetcher{dir: "testdata/candidates"}})
	got := pendingByName(inv.Updates)["curl"].FixedCVEs
	if !slices.Contains(got, "CVE-2023-27534") || len(got) != len(curlCVEs)+1 {
		t.Errorf("without installed changelog: %v", got)
	}
	if run.Status != host.StatusPartial || !strings.Contains(strings.Join(run.Errors, "\n"), "1 installed changelogs not read") {
		t.Errorf("status %s, errors %v", run.Status, run.Errors)
	}
}

// TestImageScan: an image is never downloaded for; what the cache holds
// is read, the rest says why not, and the status is partial.
func TestImageScan(t *testing.T) {
	ff := &fixtureFetcher{dir: t.TempDir()} // an empty cache
	inv, run := collectRoot(t, "testdata/root", false, Options{Fetcher: ff})
	if run.Status != host.StatusPartial {
		t.Fatalf("status %s", run.Status)
	}
	u := inv.Updates
	if u.ChangelogsRead != 0 || u.ChangelogsMissing != len(wantPending) {
		t.Errorf("read %d missing %d", u.ChangelogsRead, u.ChangelogsMissing)
	}
	for _, p := range u.Pending {
		if p.Changelog != "not downloaded: image scan" || p.FixedCVEs != nil {
			t.Errorf("%s: %q %v", p.Name, p.Changelog, p.FixedCVEs)
		}
	}
	want := []string{"10 candidate changelogs not read: not downloaded: image scan (first: base-files 12.4+deb12u15)"}
	if diff := cmp.Diff(want, run.Errors); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
}

// TestOffline: on a live host with no network every download fails; after
// three in a row the rest are not tried. Every pending update says why,
// and the collector is partial with one capped message.
func TestOffline(t *testing.T) {
	fail := fmt.Errorf("%w: apt-get download curl:amd64=7.88.1-10+deb12u15: exit status 100: E: Failed to fetch http://deb.debian.org/debian/pool/main/c/curl/curl_7.88.1-10%%2bdeb12u15_amd64.deb  Temporary failure resolving 'deb.debian.org'%s",
		ErrDownload, strings.Repeat(" and more", 100))
	ff := &fixtureFetcher{dir: t.TempDir(), fail: fail}
	start := time.Now()
	inv, run := collectRoot(t, "testdata/root", true, Options{Fetcher: ff, Concurrency: 1})
	if run.Status != host.StatusPartial {
		t.Fatalf("status %s", run.Status)
	}
	u := inv.Updates
	if u.ChangelogsRead != 0 || u.ChangelogsMissing != len(wantPending) || len(u.Pending) != len(wantPending) {
		t.Errorf("read %d missing %d of %d", u.ChangelogsRead, u.ChangelogsMissing, len(u.Pending))
	}
	for _, p := range u.Pending {
		if !strings.HasPrefix(p.Changelog, "download failed: ") || len(p.Changelog) > maxReason+len("…") {
			t.Errorf("%s: %q", p.Name, p.Changelog)
		}
	}
	if n := len(ff.Calls()); n != 7+maxFailuresInARow {
		// 7 groups looked up in the cache, 3 downloads tried.
		t.Errorf("%d fetches", n)
	}
	if len(run.Errors) != 1 {
		t.Fatalf("errors %q", run.Errors)
	}
	for _, e := range run.Errors {
		if !strings.Contains(e, "candidate changelogs not read: download failed") || len(e) > maxReason+len("…") {
			t.Errorf("error %q", e)
		}
	}
	if time.Since(start) > 10*time.Second {
		t.Errorf("took %v", time.Since(start))
	}
}

// TestNoDownload: with downloads disabled a live scan reads the cache only.
func TestNoDownload(t *testing.T) {
	ff := &fixtureFetcher{dir: "testdata/candidates"}
	// Hide one recorded package: it is "not in the cache".
	ff.dir = t.TempDir()
	for _, d := range []string{"curl_7.88.1-10+deb12u15_amd64", "openssl_3.0.22-1~deb12u2_amd64"} {
		if err := os.CopyFS(filepath.Join(ff.dir, d), os.DirFS(filepath.Join("testdata/candidates", d))); err != nil {
			t.Fatal(err)
		}
	}
	inv, run := collectRoot(t, "testdata/root", true, Options{Fetcher: ff, NoDownload: true})
	if run.Status != host.StatusPartial {
		t.Fatalf("status %s", run.Status)
	}
	for _, p := range inv.Updates.Pending {
		want := "not downloaded: downloads disabled"
		switch p.SourceName {
		case "curl", "openssl":
			want = "read"
		}
		if p.Changelog != want {
			t.Errorf("%s: %q, want %q", p.Name, p.Changelog, want)
		}
	}
	if u := inv.Updates; u.ChangelogsRead != 4 || u.ChangelogsMissing != 6 {
		t.Errorf("read %d missing %d", u.ChangelogsRead, u.ChangelogsMissing)
	}
}

// TestSelection checks candidate selection against apt's rules on
// installed versions the host did not have.
func TestSelection(t *testing.T) {
	fsys, err := hostfs.Open("testdata/root")
	if err != nil {
		t.Fatal(err)
	}
	pkgs := []host.Package{
		{Manager: "dpkg", Name: "dpkg", Version: "1.21.22", Arch: "amd64"},
		// Installed from backports, its version gone from the archive:
		// backports' newer version is the candidate (both 100).
		{Manager: "dpkg", Name: "iproute2", Version: "6.14.0-1~bpo12+1", Arch: "amd64"},
		// Newer than anything but experimental: nothing pending.
		{Manager: "dpkg", Name: "openssl", Version: "3.5.0-1", Arch: "amd64"},
		// i386 is not amd64: the lists here are amd64 only.
		{Manager: "dpkg", Name: "libssl3", Version: "3.0.19-1~deb12u2", Arch: "i386"},
		// Older than every list: the newest version of priority 500 wins,
		// not backports' newer one, and not updates' older one.
		{Manager: "dpkg", Name: "curl", Version: "7.88.1-10+deb12u1", Arch: "amd64"},
		// An rpm package of the same name is no concern of apt's.
		{Manager: "rpm", Name: "bash", Version: "5.0", Arch: "x86_64"},
	}
	inv := &host.Inventory{Packages: pkgs}
	env := &collect.Env{FS: fsys}
	ff := &fixtureFetcher{dir: t.TempDir()}
	if err := New(Options{Fetcher: ff}).Collect(context.Background(), env, inv); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range inv.Updates.Pending {
		got = append(got, p.Name+":"+p.Arch+" "+p.Installed+" -> "+p.Candidate+" "+p.Suite)
	}
	want := []string{
		"curl:amd64 7.88.1-10+deb12u1 -> 7.88.1-10+deb12u15 bookworm",
		"iproute2:amd64 6.14.0-1~bpo12+1 -> 6.15.0-1~bpo12+1 bookworm-backports",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestNotApplicable(t *testing.T) {
	empty := t.TempDir()
	fsys, _ := hostfs.Open(empty)
	env := &collect.Env{FS: fsys}
	c := New(Options{Fetcher: &fixtureFetcher{dir: empty}})
	for _, tc := range []struct {
		name string
		pkgs []host.Package
		mk   string
		want string
	}{
		{"no dpkg", []host.Package{{Manager: "rpm", Name: "bash"}}, "", "no dpkg packages"},
		{"no lists dir", []host.Package{{Manager: "dpkg", Name: "bash"}}, "", "no apt package lists"},
		{"empty lists dir", []host.Package{{Manager: "dpkg", Name: "bash"}}, "var/lib/apt/lists", "no package lists in"},
	} {
		if tc.mk != "" {
			if err := os.MkdirAll(filepath.Join(empty, tc.mk), 0o755); err != nil {
				t.Fatal(err)
			}
		}
		inv := &host.Inventory{Packages: tc.pkgs}
		err := c.Collect(context.Background(), env, inv)
		if err == nil || !strings.Contains(err.Error(), tc.want) || inv.Updates != nil {
			t.Errorf("%s: %v", tc.name, err)
		}
		// collect.Run records it as skipped.
		inv = collect.Run(context.Background(), env, []collect.Collector{c}, nil)
		if inv.Collectors[0].Status != host.StatusSkipped {
			t.Errorf("%s: status %s", tc.name, inv.Collectors[0].Status)
		}
	}
}

// TestHostileRoot: links out of the root, huge, garbage and special files
// where changelogs and lists should be; everything ends, bounded, and says
// what went wrong.
func TestHostileRoot(t *testing.T) {
	root := copyRoot(t)
	outside := filepath.Join(filepath.Dir(root), "outside-"+filepath.Base(root))
	if err := os.MkdirAll(outside, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(outside) })
	// Outside the root, a changelog naming every CVE curl's update fixes:
	// if it were read, curl would fix none.
	outText := "curl (9:9) x; urgency=low\n\n  * " + strings.Join(curlCVEs, " ") + "\n"
	if err := os.WriteFile(filepath.Join(outside, "changelog.Debian.gz"), gz(t, []byte(outText)), 0o644); err != nil {
		t.Fatal(err)
	}
	doc := filepath.Join(root, "usr/share/doc")
	rel, _ := filepath.Rel(doc, outside)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	// curl's doc directory: a relative link climbing out of the root.
	must(os.RemoveAll(filepath.Join(doc, "curl")))
	must(os.Symlink(rel, filepath.Join(doc, "curl")))
	// libcurl4's: an absolute link to the outside directory.
	must(os.RemoveAll(filepath.Join(doc, "libcurl4")))
	must(os.Symlink(outside, filepath.Join(doc, "libcurl4")))
	// openssl's changelog: 80 MiB of zeros, compressed to 80 KiB.
	bomb := gz(t, make([]byte, 80<<20))
	must(os.WriteFile(filepath.Join(doc, "openssl/changelog.Debian.gz"), bomb, 0o644))
	// libssl3's: not gzip.
	must(os.WriteFile(filepath.Join(doc, "libssl3/changelog.Debian.gz"), []byte("garbage\x00\xff"), 0o644))
	// tzdata's: a FIFO, which would block a reader forever.
	must(os.Remove(filepath.Join(doc, "tzdata/changelog.Debian.gz")))
	if err := syscall.Mkfifo(filepath.Join(doc, "tzdata/changelog.Debian.gz"), 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	// bash's binNMU changelog: a link loop.
	must(os.Remove(filepath.Join(doc, "bash/changelog.Debian.amd64.gz")))
	must(os.Symlink("changelog.Debian.amd64.gz", filepath.Join(doc, "bash/changelog.Debian.amd64.gz")))
	lists := filepath.Join(root, "var/lib/apt/lists")
	// A Packages list that is an xz file asking for a 1.5 GiB dictionary.
	must(os.WriteFile(filepath.Join(lists, "evil_dists_x_main_binary-amd64_Packages.xz"), xzHeaderOnly(37), 0o644))
	// A list link pointing out of the root, and one that is a FIFO.
	must(os.Symlink(filepath.Join(outside, "changelog.Debian.gz"), filepath.Join(lists, "link_dists_x_main_binary-amd64_Packages")))
	must(syscall.Mkfifo(filepath.Join(lists, "fifo_dists_x_main_binary-amd64_Packages"), 0o644))
	// An unsupported compression.
	must(os.WriteFile(filepath.Join(lists, "old_dists_x_main_binary-amd64_Packages.lzma"), []byte{0x5d, 0, 0}, 0o644))
	// A candidate changelog that is a bomb too.
	cands := t.TempDir()
	must(os.CopyFS(cands, os.DirFS("testdata/candidates")))
	must(os.WriteFile(filepath.Join(cands, "base-files_12.4+deb12u15_amd64/changelog.gz"), bomb, 0o644))

	start := time.Now()
	inv, run := collectRoot(t, root, false, Options{Fetcher: &fixtureFetcher{dir: cands}})
	if d := time.Since(start); d > 45*time.Second {
		t.Errorf("took %v", d)
	}
	if run.Status != host.StatusPartial {
		t.Fatalf("status %s %s", run.Status, run.Reason)
	}
	p := pendingByName(inv.Updates)
	for _, name := range []string{"curl", "libcurl4"} {
		if diff := cmp.Diff(curlCVEs, p[name].FixedCVEs); diff != "" {
			t.Errorf("%s read a changelog outside the root (-want +got):\n%s", name, diff)
		}
	}
	if diff := cmp.Diff(opensslCVEs, p["openssl"].FixedCVEs); diff != "" {
		t.Errorf("openssl (-want +got):\n%s", diff)
	}
	if got := p["base-files"].Changelog; !strings.HasPrefix(got, "changelog unreadable: ") || !strings.Contains(got, "read limit") {
		t.Errorf("base-files: %q", got)
	}
	errs := strings.Join(run.Errors, "\n")
	for _, want := range []string{
		"lzma-compressed lists are not supported",
		"evil_dists_x_main_binary-amd64_Packages.xz: xz: block dictionary of 1536 MiB is over the 64 MiB limit",
		"fifo_dists_x_main_binary-amd64_Packages: " + hostfs.ErrNotRegular.Error(),
		"link_dists_x_main_binary-amd64_Packages: file does not exist",
		"1 candidate changelogs not read: changelog unreadable",
		"6 installed changelogs not read, so CVEs fixed earlier are not subtracted (bash: resolve /usr/share/doc/bash/changelog.Debian.amd64.gz: too many levels of symbolic links): bash, curl, libcurl4, libssl3, openssl, tzdata",
	} {
		if !strings.Contains(errs, want) {
			t.Errorf("errors lack %q:\n%s", want, errs)
		}
	}
	for _, e := range run.Errors {
		if len(e) > maxReason+len("…") && !strings.Contains(e, "_Packages") {
			t.Errorf("long error %q", e)
		}
	}
}

// xzHeaderOnly is the start of an xz file whose one block asks for the
// LZMA2 dictionary of the given code, with a valid index and footer.
func xzHeaderOnly(dictCode byte) []byte {
	var b bytes.Buffer
	b.Write(xzHeaderMagic)
	b.Write([]byte{0, 1})                   // flags: CRC32
	b.Write([]byte{0x69, 0x22, 0xde, 0x36}) // CRC32 of the flags
	// Block header: size 12 bytes ((2+1)*4), no sizes, one filter: LZMA2
	// with one property byte.
	h := []byte{2, 0, 0x21, 1, dictCode, 0, 0, 0}
	b.Write(h)
	b.Write(le32(crc32IEEE(h)))
	b.Write([]byte{0x00}) // LZMA2 end of stream
	b.Write([]byte{0, 0, 0})
	b.Write([]byte{0, 0, 0, 0}) // CRC32 of nothing
	// Index: one record, unpadded size 12+1+4 = 17.
	idx := []byte{0, 1, 17, 0}
	for len(idx)%4 != 0 {
		idx = append(idx, 0)
	}
	idx = append(idx, le32(crc32IEEE(idx))...)
	b.Write(idx)
	footer := append(le32(uint32(len(idx)/4-1)), 0, 1)
	b.Write(le32(crc32IEEE(footer)))
	b.Write(footer)
	b.Write(xzFooterMagic)
	return b.Bytes()
}

func le32(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }

func crc32IEEE(b []byte) uint32 { return crc32.ChecksumIEEE(b) }

// SecurityOnly reads the security archive's list alone and no changelog:
// what a security update would install, not what the newest candidate is.
func TestSecurityOnly(t *testing.T) {
	ff := &fixtureFetcher{dir: "testdata/candidates"}
	inv, run := collectRoot(t, "testdata/root", false, Options{Fetcher: ff, SecurityOnly: true})
	if run.Status != host.StatusOK {
		t.Fatalf("status %s: %s %v", run.Status, run.Reason, run.Errors)
	}
	u := inv.Updates
	if u == nil || u.Method != MethodSecurityLists || len(u.Lists) != 1 || !strings.Contains(u.Lists[0], "bookworm-security") {
		t.Fatalf("updates %+v", u)
	}
	if len(ff.Calls()) != 0 {
		t.Errorf("changelogs fetched: %v", ff.Calls())
	}
	var got []string
	for _, p := range u.Pending {
		if p.Suite != "bookworm-security" || p.FixedCVEs != nil {
			t.Errorf("pending %+v", p)
		}
		got = append(got, p.Name+" "+p.Candidate)
	}
	t.Logf("pending: %v", got)
	for _, want := range []string{"libssl3 3.0.22-1~deb12u2", "openssl 3.0.22-1~deb12u2", "python3.11 3.11.2-6+deb12u9", "python3.11-venv 3.11.2-6+deb12u9", "tzdata 2026f-0+deb12u1"} {
		if !slices.Contains(got, want) {
			t.Errorf("%s not pending: %v", want, got)
		}
	}
	for _, p := range u.Pending {
		if p.Name == "bash" || p.Name == "base-files" {
			t.Errorf("a point-release update counted as a security one: %+v", p)
		}
	}
}

// An archive's name tells its pocket: Debian's codenames carry it
// (bookworm-security), Ubuntu's do not (every archive of jammy says
// "Codename: jammy"), so there the suite names it.
func TestReleaseName(t *testing.T) {
	for _, c := range []struct {
		rel  Release
		want string
	}{
		{Release{Suite: "stable-security", Codename: "bookworm-security"}, "bookworm-security"},
		{Release{Suite: "stable", Codename: "bookworm"}, "bookworm"},
		{Release{Suite: "jammy-security", Codename: "jammy"}, "jammy-security"},
		{Release{Suite: "noble-updates", Codename: "noble"}, "noble-updates"},
		{Release{Suite: "jammy", Codename: "jammy"}, "jammy"},
		{Release{Suite: "focal-security"}, "focal-security"},
		{Release{Suite: "unstable", Codename: "sid"}, "sid"},
	} {
		if got := c.rel.Name(); got != c.want {
			t.Errorf("%+v: %q, want %q", c.rel, got, c.want)
		}
	}
}
