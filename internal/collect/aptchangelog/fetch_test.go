package aptchangelog

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kensa-dev/kensa/internal/host"
)

type member struct {
	name, link string
	body       []byte
	size       int64 // when body is nil
}

// debTar builds a file-system tar as dpkg-deb --fsys-tarfile writes it.
func debTar(t *testing.T, members ...member) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, m := range members {
		h := &tar.Header{Name: m.name, Mode: 0o644, Typeflag: tar.TypeReg, Size: int64(len(m.body))}
		switch {
		case strings.HasSuffix(m.name, "/"):
			h.Typeflag, h.Mode = tar.TypeDir, 0o755
		case m.link != "":
			h.Typeflag, h.Linkname = tar.TypeSymlink, m.link
		case m.body == nil:
			h.Size = m.size
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if m.body != nil {
			tw.Write(m.body)
		} else if m.size > 0 {
			io.CopyN(tw, zeros{}, m.size)
		}
	}
	tw.Close()
	return buf.Bytes()
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

func TestReadDebTar(t *testing.T) {
	deb := gz(t, []byte("foo (1.0-1+b1) unstable; urgency=low\n"))
	bin := gz(t, []byte("foo (1.0-1+b2) unstable; urgency=low, binary-only=yes\n"))
	// The usual layout: the changelogs, then the rest.
	cl, complete, err := ReadDebTar(bytes.NewReader(debTar(t,
		member{name: "./"}, member{name: "./usr/"}, member{name: "./usr/bin/foo", body: []byte("elf")},
		member{name: "./usr/share/doc/foo/"},
		member{name: "./usr/share/doc/foo/changelog.Debian.amd64.gz", body: bin},
		member{name: "./usr/share/doc/foo/changelog.Debian.gz", body: deb},
		member{name: "./usr/share/doc/foo/changelog.gz", body: []byte("upstream, not read")},
		member{name: "./usr/share/doc/foo/copyright", body: []byte("c")},
		member{name: "./usr/share/doc/foo-doc/", link: ""},
		member{name: "./usr/share/man/foo.1.gz", body: []byte("man")},
	)), "foo", "amd64")
	if err != nil || complete || !bytes.Equal(cl.Debian, deb) || !bytes.Equal(cl.BinNMU, bin) {
		t.Errorf("usual: %v complete %v %d %d", err, complete, len(cl.Debian), len(cl.BinNMU))
	}
	// A native package: changelog.gz only; read to the end.
	cl, complete, err = ReadDebTar(bytes.NewReader(debTar(t,
		member{name: "./usr/share/doc/foo/changelog.gz", body: deb},
	)), "foo", "amd64")
	if err != nil || !complete || !bytes.Equal(cl.Debian, deb) || cl.BinNMU != nil {
		t.Errorf("native: %v %v", err, complete)
	}
	// The documentation directory is a link to another package's.
	_, _, err = ReadDebTar(bytes.NewReader(debTar(t,
		member{name: "./usr/share/doc/foo", link: "foo-common"},
		member{name: "./usr/share/lintian/overrides/foo", body: []byte("x")},
	)), "foo", "amd64")
	if !errors.Is(err, ErrNoChangelog) || !strings.Contains(err.Error(), "/usr/share/doc/foo is a link to foo-common") {
		t.Errorf("link: %v", err)
	}
	// No documentation at all; a changelog that is a link; another
	// package's changelog.
	_, _, err = ReadDebTar(bytes.NewReader(debTar(t,
		member{name: "./usr/share/doc/foo/changelog.Debian.gz", link: "../bar/changelog.Debian.gz"},
		member{name: "./usr/share/doc/bar/changelog.Debian.gz", body: deb},
	)), "foo", "amd64")
	if !errors.Is(err, ErrNoChangelog) {
		t.Errorf("none: %v", err)
	}
	// An oversized changelog is refused before it is read.
	_, _, err = ReadDebTar(bytes.NewReader(debTar(t,
		member{name: "./usr/share/doc/foo/changelog.Debian.gz", size: maxChangelogGz + 1},
	)), "foo", "amd64")
	if err == nil || !strings.Contains(err.Error(), "over the 16 MiB limit") {
		t.Errorf("oversized: %v", err)
	}
	// Not a tar.
	if _, _, err = ReadDebTar(strings.NewReader(strings.Repeat("garbage!", 200)), "foo", "amd64"); err == nil || errors.Is(err, ErrNoChangelog) {
		t.Errorf("garbage: %v", err)
	}
}

// debs are two .deb files apt-get download fetched from Debian on
// 2026-11-27: libcap2 (with changelog.Debian.gz and the binNMU's
// changelog.Debian.amd64.gz) and python3.11-venv (whose
// usr/share/doc/python3.11-venv is a link to python3.11).
var (
	libcap2Req = Request{Name: "libcap2", Version: "1:2.66-4+deb12u3+b1", Arch: "amd64", Size: 27708,
		SHA256: "8d684c673e7483802a5c447834b0df6fce006eb3a7109e1be412f5ad425bb24f"}
	venvReq = Request{Name: "python3.11-venv", Version: "3.11.2-6+deb12u9", Arch: "amd64", Size: 5896,
		SHA256: "b4d34b92e980d27480f05d91d9571f5d4bd920baeb22d2e64630fe99156b2b68"}
)

func needDpkgDeb(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("dpkg-deb"); err != nil {
		t.Skip("dpkg-deb not installed")
	}
}

func cacheWith(t *testing.T, names ...string) string {
	t.Helper()
	dir := t.TempDir()
	for _, n := range names {
		b, err := os.ReadFile(filepath.Join("testdata/debs", n))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, n), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestDebFetcherCache(t *testing.T) {
	needDpkgDeb(t)
	ctx := context.Background()
	dir := cacheWith(t, libcap2Req.debName(), venvReq.debName())
	f := &DebFetcher{Dir: dir, AptGet: "/nonexistent/apt-get"}
	cl, err := f.Fetch(ctx, libcap2Req, false)
	if err != nil {
		t.Fatal(err)
	}
	entries, err := parseChangelogs(cl)
	if err != nil || len(entries) < 3 {
		t.Fatalf("%d entries, %v", len(entries), err)
	}
	// The binNMU's entry first, then the source's.
	if entries[0].Version != "1:2.66-4+deb12u3+b1" || entries[1].Version != "1:2.66-4+deb12u3" || !slices0(entries[1].CVEs, "CVE-2026-4878") {
		t.Errorf("entries %+v %+v", entries[0], entries[1])
	}
	_, err = f.Fetch(ctx, venvReq, false)
	if !errors.Is(err, ErrNoChangelog) || !strings.Contains(err.Error(), "is a link to python3.11") {
		t.Errorf("venv: %v", err)
	}
	// Not cached: another version; a file that does not match the list.
	other := libcap2Req
	other.Version = "1:2.66-4+deb12u4"
	if _, err := f.Fetch(ctx, other, false); !errors.Is(err, ErrNotCached) {
		t.Errorf("other version: %v", err)
	}
	wrong := libcap2Req
	wrong.SHA256 = strings.Repeat("0", 64)
	if _, err := f.Fetch(ctx, wrong, false); !errors.Is(err, ErrNotCached) {
		t.Errorf("wrong hash: %v", err)
	}
	// A cached file that is a link is not used.
	linkDir := t.TempDir()
	if err := os.Symlink(filepath.Join(dir, libcap2Req.debName()), filepath.Join(linkDir, libcap2Req.debName())); err != nil {
		t.Fatal(err)
	}
	if _, err := (&DebFetcher{Dir: linkDir}).Fetch(ctx, libcap2Req, false); !errors.Is(err, ErrNotCached) {
		t.Errorf("link: %v", err)
	}
	// Garbage with the right name and no hash to check: dpkg-deb says why.
	garbage := t.TempDir()
	os.WriteFile(filepath.Join(garbage, libcap2Req.debName()), []byte("not a deb"), 0o644)
	nohash := libcap2Req
	nohash.Size, nohash.SHA256 = 0, ""
	_, err = (&DebFetcher{Dir: garbage}).Fetch(ctx, nohash, false)
	if err == nil || errors.Is(err, ErrNoChangelog) || !strings.Contains(err.Error(), "dpkg-deb") {
		t.Errorf("garbage: %v", err)
	}
	// Requests that are not Debian's names are refused before any command.
	for _, r := range []Request{
		{Name: "-o", Version: "1", Arch: "amd64"},
		{Name: "foo", Version: "1 --option", Arch: "amd64"},
		{Name: "foo", Version: "1", Arch: "../x"},
		{Name: "../../etc", Version: "1", Arch: "amd64"},
	} {
		if _, err := f.Fetch(ctx, r, true); err == nil || errors.Is(err, ErrDownload) {
			t.Errorf("%+v: %v", r, err)
		}
	}
}

// fakeAptGet writes a script standing in for apt-get.
func fakeAptGet(t *testing.T, body string) string {
	t.Helper()
	name := filepath.Join(t.TempDir(), "apt-get")
	if err := os.WriteFile(name, []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return name
}

func TestDebFetcherDownload(t *testing.T) {
	needDpkgDeb(t)
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh")
	}
	ctx := context.Background()
	src, _ := filepath.Abs(filepath.Join("testdata/debs", libcap2Req.debName()))
	// apt-get download writes the file into its working directory; the
	// argument names the package, architecture and version.
	args := filepath.Join(t.TempDir(), "args")
	ok := fakeAptGet(t, `echo "$@" > `+args+` && cp '`+src+`' .`)
	cache := filepath.Join(t.TempDir(), "sub", "debs") // created on demand
	f := &DebFetcher{Dir: cache, AptGet: ok}
	cl, err := f.Fetch(ctx, libcap2Req, true)
	if err != nil || cl.Debian == nil {
		t.Fatalf("download: %v", err)
	}
	if b, _ := os.ReadFile(args); string(b) != "download -q libcap2:amd64=1:2.66-4+deb12u3+b1\n" {
		t.Errorf("apt-get %q", b)
	}
	if got := debsIn(t, cache); !slices.Equal(got, []string{libcap2Req.debName()}) {
		t.Errorf("cache holds %v", got)
	}
	// The second time it comes from the cache: apt-get is not run.
	f.AptGet = "/nonexistent/apt-get"
	if _, err := f.Fetch(ctx, libcap2Req, true); err != nil {
		t.Errorf("cached: %v", err)
	}
	// Arch all: no architecture in the argument.
	all := Request{Name: "tzdata", Version: "2026f-0+deb12u1", Arch: "all"}
	f.AptGet = fakeAptGet(t, `echo "$@" > `+args+`; exit 100`)
	if _, err := f.Fetch(ctx, all, true); !errors.Is(err, ErrDownload) {
		t.Errorf("all: %v", err)
	}
	if b, _ := os.ReadFile(args); string(b) != "download -q tzdata=2026f-0+deb12u1\n" {
		t.Errorf("apt-get %q", b)
	}
	// A failure says apt's last error line.
	f.AptGet = fakeAptGet(t, `echo "Err:1 http://deb.debian.org/debian bookworm/main amd64 curl amd64 7.88.1-10+deb12u15" >&2
echo "  Temporary failure resolving 'deb.debian.org'" >&2
echo "E: Failed to fetch http://deb.debian.org/debian/pool/main/c/curl/curl_7.88.1-10%2bdeb12u15_amd64.deb  Temporary failure resolving 'deb.debian.org'" >&2
echo "W: Some index files failed to download." >&2
exit 100`)
	_, err = f.Fetch(ctx, Request{Name: "curl", Version: "7.88.1-10+deb12u15", Arch: "amd64"}, true)
	if !errors.Is(err, ErrDownload) || !strings.HasPrefix(err.Error(), "download failed: apt-get download curl:amd64=7.88.1-10+deb12u15: exit status 100: E: Failed to fetch") {
		t.Errorf("failure: %v", err)
	}
	// apt-get succeeding without the file, or with another file.
	f.AptGet = fakeAptGet(t, `echo x > other.deb`)
	if _, err := f.Fetch(ctx, Request{Name: "curl", Version: "1", Arch: "amd64"}, true); !errors.Is(err, ErrDownload) {
		t.Errorf("no file: %v", err)
	}
	// A file that does not match the list is not kept.
	f.AptGet = fakeAptGet(t, `cp '`+src+`' .`)
	bad := libcap2Req
	bad.Version = "1:2.66-4+deb12u3+b1"
	bad.SHA256 = strings.Repeat("1", 64)
	f.Dir = t.TempDir()
	if _, err := f.Fetch(ctx, bad, true); !errors.Is(err, ErrDownload) {
		t.Errorf("mismatch: %v", err)
	}
	if entries, _ := os.ReadDir(f.Dir); len(entries) != 0 {
		t.Errorf("left %v", entries)
	}
	// A download that hangs ends at the timeout, and leaves nothing.
	f.AptGet = fakeAptGet(t, `exec sleep 60`)
	f.Timeout = 300 * time.Millisecond
	start := time.Now()
	_, err = f.Fetch(ctx, Request{Name: "curl", Version: "2", Arch: "amd64"}, true)
	if !errors.Is(err, ErrDownload) || !strings.Contains(err.Error(), "deadline exceeded") || time.Since(start) > 10*time.Second {
		t.Errorf("hang: %v after %v", err, time.Since(start))
	}
	if entries, _ := os.ReadDir(f.Dir); len(entries) != 0 {
		t.Errorf("left %v", entries)
	}
}

func TestDefaultCacheDir(t *testing.T) {
	dir, err := DefaultCacheDir()
	if err != nil {
		t.Skip(err)
	}
	if os.Geteuid() == 0 && dir != "/var/cache/kensa/debs" {
		t.Errorf("root: %s", dir)
	}
	if os.Geteuid() != 0 && !strings.HasSuffix(dir, filepath.Join("kensa", "debs")) {
		t.Errorf("user: %s", dir)
	}
}

func TestTailBuffer(t *testing.T) {
	tb := &tailBuffer{max: 16}
	tb.Write([]byte(strings.Repeat("a", 100)))
	tb.Write([]byte("\nlast line"))
	if tb.buf.Len() > 16 || tb.suffix() != ": last line" {
		t.Errorf("%q %q", tb.buf.String(), tb.suffix())
	}
	if (&tailBuffer{max: 4}).suffix() != "" {
		t.Error("empty")
	}
}

// fakeArchive is an apt-get standing in for the archive: it "downloads"
// the .debs of testdata/debs, fails for the others (going on with the
// rest, as apt-get does), and logs its arguments.
func fakeArchive(t *testing.T) (aptGet, log string) {
	t.Helper()
	debs, _ := filepath.Abs("testdata/debs")
	log = filepath.Join(t.TempDir(), "log")
	aptGet = fakeAptGet(t, `status=0
for spec in "$@"; do
	case $spec in download|-q) continue;; esac
	nv=${spec%%=*}; ver=${spec#*=}
	case $nv in *:*) name=${nv%%:*}; arch=${nv#*:};; *) name=$nv; arch=all;; esac
	f="${name}_$(echo "$ver" | sed 's/:/%3a/g')_${arch}.deb"
	if [ -f "`+debs+`/$f" ]; then cp "`+debs+`/$f" .; else echo "E: Can't find a source to download version '$ver' of '$nv'" >&2; status=100; fi
done
echo "$@" >> `+log+`
exit $status`)
	return aptGet, log
}

// TestDebFetcherLive runs the collector as on a live host, with the real
// DebFetcher: one batch run of apt-get per worker downloads the first
// package of each group; libcap2's arrives and is read from the .deb; the
// others are then tried alone until three have failed in a row.
func TestDebFetcherLive(t *testing.T) {
	needDpkgDeb(t)
	aptGet, log := fakeArchive(t)
	cache := t.TempDir()
	fetcher := &DebFetcher{Dir: cache, AptGet: aptGet}
	inv, run := collectRoot(t, "testdata/root", true, Options{Fetcher: fetcher})
	if run.Status != host.StatusPartial {
		t.Fatalf("status %s", run.Status)
	}
	p := pendingByName(inv.Updates)
	if got := p["libcap2"]; got.Changelog != "read" || !slices0(got.FixedCVEs, "CVE-2026-4878") {
		t.Errorf("libcap2: %+v", got)
	}
	if inv.Updates.ChangelogsRead != 1 || inv.Updates.ChangelogsMissing != 9 {
		t.Errorf("read %d missing %d", inv.Updates.ChangelogsRead, inv.Updates.ChangelogsMissing)
	}
	for name, u := range p {
		if name != "libcap2" && !strings.HasPrefix(u.Changelog, "download failed: ") {
			t.Errorf("%s: %q", name, u.Changelog)
		}
	}
	b, _ := os.ReadFile(log)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	batched := 0
	for _, l := range lines[:2] {
		batched += len(strings.Fields(l)) - 2
	}
	if batched != 7 || len(lines) < 2+maxFailuresInARow || len(lines) > 2+maxFailuresInARow+1 {
		t.Errorf("apt-get runs:\n%s", b)
	}
	if got := debsIn(t, cache); !slices.Equal(got, []string{libcap2Req.debName()}) {
		t.Errorf("cache holds %v", got)
	}
	// A second scan reads libcap2 from the cache and batches the others
	// again.
	_, run = collectRoot(t, "testdata/root", true, Options{Fetcher: fetcher, NoDownload: true})
	if !strings.Contains(strings.Join(run.Errors, "\n"), "9 candidate changelogs not read: not downloaded: downloads disabled") {
		t.Errorf("no download: %v", run.Errors)
	}
}

// TestDebFetcherOffline: when no batch brings anything, no package is
// tried alone: the archive is not reachable.
func TestDebFetcherOffline(t *testing.T) {
	log := filepath.Join(t.TempDir(), "log")
	aptGet := fakeAptGet(t, `echo "$@" >> `+log+`
echo "E: Failed to fetch http://deb.debian.org/debian/pool/main/b/bash/bash_5.2.15-2%2bb13_amd64.deb  Temporary failure resolving 'deb.debian.org'" >&2
exit 100`)
	inv, run := collectRoot(t, "testdata/root", true, Options{Fetcher: &DebFetcher{Dir: t.TempDir(), AptGet: aptGet}})
	if run.Status != host.StatusPartial || len(run.Errors) != 1 {
		t.Fatalf("status %s %v", run.Status, run.Errors)
	}
	want := "download failed: not tried after the failures before (last: download failed: apt-get download of "
	for _, p := range inv.Updates.Pending {
		if !strings.HasPrefix(p.Changelog, want) || !strings.Contains(p.Changelog, "Temporary failure resolving") {
			t.Errorf("%s: %q", p.Name, p.Changelog)
		}
	}
	if b, _ := os.ReadFile(log); strings.Count(string(b), "\n") != 2 {
		t.Errorf("apt-get runs:\n%s", b)
	}
}

// debsIn lists the .deb files of a cache directory.
func debsIn(t *testing.T, dir string) []string {
	t.Helper()
	entries, _ := os.ReadDir(dir)
	var out []string
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".deb") {
			out = append(out, e.Name())
		}
	}
	return out
}

// The changelogs read from a .deb are kept: a warm scan reads them
// without the .deb (here deleted) and without dpkg-deb.
func TestExtractedChangelogsKept(t *testing.T) {
	needDpkgDeb(t)
	ctx := context.Background()
	dir := cacheWith(t, libcap2Req.debName())
	f := &DebFetcher{Dir: dir, AptGet: "/nonexistent/apt-get"}
	first, err := f.Fetch(ctx, libcap2Req, false)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, libcap2Req.debName())); err != nil {
		t.Fatal(err)
	}
	f.DpkgDeb = "/nonexistent/dpkg-deb"
	again, err := f.Fetch(ctx, libcap2Req, false)
	if err != nil || !bytes.Equal(again.Debian, first.Debian) || !bytes.Equal(again.BinNMU, first.BinNMU) {
		t.Fatalf("kept changelogs: %v", err)
	}
	other := libcap2Req
	other.SHA256 = strings.Repeat("1", 64)
	if _, err := f.Fetch(ctx, other, false); !errors.Is(err, ErrNotCached) {
		t.Errorf("changelogs kept for another .deb were used: %v", err)
	}
}
