package dpkg

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"unsafe"

	"github.com/google/go-cmp/cmp"
	"github.com/kensa-dev/kensa/internal/collect"
	"github.com/kensa-dev/kensa/internal/host"
	"github.com/kensa-dev/kensa/internal/hostfs"
	"github.com/kensa-dev/kensa/internal/testfixture"
)

func collectRoot(t *testing.T, root string) (*host.Inventory, host.CollectorRun) {
	t.Helper()
	inv := testfixture.Collect(t, root, New())
	return inv, inv.Collectors[0]
}

// record is what dpkg-query prints with
// -f '${Package} ${Version} ${Architecture} ${source:Package} ${source:Version}'.
func record(p host.Package) string {
	return strings.Join([]string{p.Name, p.Version, p.Arch, p.SourceName, p.SourceVersion}, " ")
}

func TestFixtures(t *testing.T) {
	pkgdb := testfixture.Shared(t, "fixtures", "pkgdb", "dpkg")
	// Counts and records as Debian's dpkg-query 1.21 prints them for each
	// fixture (dpkg-query --admindir=DIR/var/lib/dpkg -W, installed "ii"
	// packages only; ubuntu-18.04-desktop also has 707 "rc" packages and
	// ubuntu-20.04-base 1, which left only configuration behind).
	tests := []struct {
		dir     string
		count   int
		records []string
	}{
		{"debian-12-this-host", 744, []string{
			"bash 5.2.15-2+b8 amd64 bash 5.2.15-2", // binNMU: Source: bash (5.2.15-2)
			"libc6 2.36-9+deb12u14 amd64 glibc 2.36-9+deb12u14",
			"libzstd1 1.5.4+dfsg2-5 amd64 libzstd 1.5.4+dfsg2-5",
		}},
		{"ubuntu-20.04-base", 326, []string{
			"login 1:4.8.1-1ubuntu5.20.04 armhf shadow 1:4.8.1-1ubuntu5.20.04",
			"libsystemd0 245.4-4ubuntu3.17 armhf systemd 245.4-4ubuntu3.17",
			"gcc-10-base 10-20200411-0ubuntu1 armhf gcc-10 10-20200411-0ubuntu1",
		}},
		{"ubuntu-18.04-desktop", 1112, []string{
			"zlib1g 1:1.2.11.dfsg-0ubuntu2 amd64 zlib 1:1.2.11.dfsg-0ubuntu2",
			"zlib1g 1:1.2.11.dfsg-0ubuntu2 i386 zlib 1:1.2.11.dfsg-0ubuntu2", // Multi-Arch: same, twice
			"libssl1.1 1.1.1-1ubuntu2.1~18.04.4 amd64 openssl 1.1.1-1ubuntu2.1~18.04.4",
		}},
	}
	for _, tc := range tests {
		t.Run(tc.dir, func(t *testing.T) {
			inv, run := collectRoot(t, filepath.Join(pkgdb, tc.dir))
			if run.Status != host.StatusOK {
				t.Fatalf("status %s: %s %v", run.Status, run.Reason, run.Errors)
			}
			if len(inv.Packages) != tc.count || run.Items != tc.count {
				t.Errorf("got %d packages (items %d), want %d", len(inv.Packages), run.Items, tc.count)
			}
			have := map[string]bool{}
			for _, p := range inv.Packages {
				have[record(p)] = true
				if p.Manager != "dpkg" || p.Source != "/var/lib/dpkg/status" {
					t.Fatalf("bad manager/source: %+v", p)
				}
			}
			for _, r := range tc.records {
				if !have[r] {
					t.Errorf("missing record %q", r)
				}
			}
		})
	}
}

// dpkgQuery runs Debian's own tool as the oracle.
func dpkgQuery(t *testing.T, admindir string) []string {
	t.Helper()
	if _, err := exec.LookPath("dpkg-query"); err != nil {
		t.Skip("dpkg-query not installed")
	}
	out, err := exec.Command("dpkg-query", "--admindir="+admindir, "-W", "-f=${db:Status-Abbrev}|${Package} ${Version} ${Architecture} ${source:Package} ${source:Version}\n").Output()
	if err != nil {
		t.Fatalf("dpkg-query: %v", err)
	}
	var recs []string
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		st, rec, _ := strings.Cut(l, "|")
		// Installed states: ii, and the half-installed/unpacked ones whose
		// files are on disk; "rc" and "un" left no files.
		if len(st) >= 2 && st[1] != 'c' && st[1] != 'n' {
			recs = append(recs, rec)
		}
	}
	sort.Strings(recs)
	return recs
}

func TestMatchesDpkgQueryOnFixtures(t *testing.T) {
	pkgdb := testfixture.Shared(t, "fixtures", "pkgdb", "dpkg")
	for _, dir := range []string{"debian-12-this-host", "ubuntu-20.04-base", "ubuntu-18.04-desktop"} {
		t.Run(dir, func(t *testing.T) {
			root := filepath.Join(pkgdb, dir)
			want := dpkgQuery(t, filepath.Join(root, "var/lib/dpkg"))
			inv, _ := collectRoot(t, root)
			var got []string
			for _, p := range inv.Packages {
				got = append(got, record(p))
			}
			sort.Strings(got)
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("kensa vs dpkg-query (-dpkg-query +kensa):\n%s", d)
			}
		})
	}
}

// TestLiveHostMatchesDpkgQuery is the acceptance check: on a
// Debian host the inventory lists exactly what dpkg-query -W lists.
func TestLiveHostMatchesDpkgQuery(t *testing.T) {
	if _, err := os.Stat("/var/lib/dpkg/status"); err != nil {
		t.Skip("not a dpkg host")
	}
	want := dpkgQuery(t, "/var/lib/dpkg")
	inv, run := collectRoot(t, "/")
	if run.Status != host.StatusOK {
		t.Fatalf("status %s: %s %v", run.Status, run.Reason, run.Errors)
	}
	var got []string
	for _, p := range inv.Packages {
		got = append(got, record(p))
	}
	sort.Strings(got)
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("kensa vs dpkg-query (-dpkg-query +kensa):\n%s", d)
	}
	// File lists: dpkg -L of a package must equal ours.
	for _, p := range inv.Packages {
		if p.Name != "coreutils" && p.Name != "libc6" {
			continue
		}
		out, err := exec.Command("dpkg", "-L", p.Name+":"+p.Arch).Output()
		if err != nil {
			t.Fatalf("dpkg -L: %v", err)
		}
		var wantFiles []string
		for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			// dpkg -L prints diversion notes after the list; keep paths.
			if strings.HasPrefix(l, "/") && l != "/." {
				wantFiles = append(wantFiles, l)
			}
		}
		if d := cmp.Diff(wantFiles, p.Files); d != "" {
			t.Errorf("%s files (-dpkg -L +kensa):\n%s", p.Name, d)
		}
	}
}

func TestStatusDAndFileLists(t *testing.T) {
	root := t.TempDir()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(root, "var/lib/dpkg/status.d"), 0o755))
	must(os.MkdirAll(filepath.Join(root, "var/lib/dpkg/info"), 0o755))
	// A distroless image: one file per package, no Status field.
	must(os.WriteFile(filepath.Join(root, "var/lib/dpkg/status.d/libssl3"), []byte("Package: libssl3\nVersion: 3.0.15-1~deb12u1\nArchitecture: amd64\nSource: openssl\n"), 0o644))
	must(os.WriteFile(filepath.Join(root, "var/lib/dpkg/status.d/libssl3.md5sums"), []byte("0123456789abcdef0123456789abcdef  usr/lib/x86_64-linux-gnu/libssl.so.3\n"), 0o644))
	// A classic status file with an rc package, a half-configured one and
	// a Multi-Arch: same list file.
	status := "Package: gone\nStatus: deinstall ok config-files\nVersion: 1.0\nArchitecture: all\n\n" +
		"Package: libfoo1\nStatus: install ok half-configured\nVersion: 2:1.0-1\nArchitecture: amd64\nMulti-Arch: same\nDescription: x\n multi\n .\n line\n\n"
	must(os.WriteFile(filepath.Join(root, "var/lib/dpkg/status"), []byte(status), 0o644))
	must(os.WriteFile(filepath.Join(root, "var/lib/dpkg/info/libfoo1:amd64.list"), []byte("/.\n/usr\n/usr/lib/libfoo.so.1\n"), 0o644))
	inv, run := collectRoot(t, root)
	if run.Status != host.StatusOK {
		t.Fatalf("status %+v", run)
	}
	want := []host.Package{
		{Manager: "dpkg", Name: "libfoo1", Version: "2:1.0-1", Arch: "amd64", SourceName: "libfoo1", SourceVersion: "2:1.0-1", Files: []string{"/usr", "/usr/lib/libfoo.so.1"}, Source: "/var/lib/dpkg/status"},
		{Manager: "dpkg", Name: "libssl3", Version: "3.0.15-1~deb12u1", Arch: "amd64", SourceName: "openssl", SourceVersion: "3.0.15-1~deb12u1", Files: []string{"/usr/lib/x86_64-linux-gnu/libssl.so.3"}, Source: "/var/lib/dpkg/status.d/libssl3"},
	}
	if d := cmp.Diff(want, inv.Packages); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}

func TestGarbageStatus(t *testing.T) {
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "var/lib/dpkg"), 0o755)
	garbage := append([]byte("Package: ok\nVersion: 1\nStatus: install ok installed\n\n\x00\x01\xff\xfe not a field\n"), bytes.Repeat([]byte{0xff}, 2<<20)...)
	os.WriteFile(filepath.Join(root, "var/lib/dpkg/status"), garbage, 0o644)
	inv, run := collectRoot(t, root)
	if run.Status != host.StatusPartial || run.ErrorCount == 0 {
		t.Fatalf("want partial with errors, got %+v", run)
	}
	if len(inv.Packages) != 1 || inv.Packages[0].Name != "ok" {
		t.Errorf("packages = %+v", inv.Packages)
	}
}

func TestNoDatabase(t *testing.T) {
	_, run := collectRoot(t, t.TempDir())
	if run.Status != host.StatusSkipped {
		t.Fatalf("status = %+v", run)
	}
}

func TestParseSource(t *testing.T) {
	for in, want := range map[string][2]string{
		"glibc":           {"glibc", ""},
		"bash (5.2.15-2)": {"bash", "5.2.15-2"},
		" x  ( 1:2 ) ":    {"x", "1:2"},
		"y (unterminated": {"y", ""},
	} {
		n, v := ParseSource(in)
		if n != want[0] || v != want[1] {
			t.Errorf("ParseSource(%q) = %q, %q", in, n, v)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte("Package: a\nVersion: 1\nStatus: install ok installed\nDescription: x\n y\n .\n\nPackage: b\n"))
	f.Add([]byte(" continuation first\nKey without colon\n:empty\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		var paras []Paragraph
		errs, err := Parse(context.Background(), bytes.NewReader(b), nil, func(p Paragraph) error {
			paras = append(paras, p)
			return nil
		})
		if err != nil {
			t.Fatalf("Parse returned an I/O error on in-memory input: %v", err)
		}
		if len(errs) > collect.KeptProblems+2 {
			t.Fatalf("%d errors returned", len(errs))
		}
		for _, p := range paras {
			if len(p) == 0 {
				t.Fatal("empty paragraph returned")
			}
			for k, v := range p {
				if k == "" || strings.ContainsAny(k, " \t\n") {
					t.Fatalf("bad key %q", k)
				}
				if len(v) > maxValue {
					t.Fatalf("value of %s is %d bytes", k, len(v))
				}
			}
		}
		if len(errs) > 0 && strings.Contains(errs[len(errs)-1].Error(), errTooManyErrors) {
			return // fewer problems with keep (no duplicate checks) may read further
		}
		// Keeping some fields gives the same paragraphs, cut to them.
		i := 0
		_, err = Parse(context.Background(), bytes.NewReader(b), fields, func(p Paragraph) error {
			if i >= len(paras) {
				t.Fatalf("paragraph %d is extra", i)
			}
			want := Paragraph{}
			for _, k := range fields {
				if v, ok := paras[i][k]; ok {
					want[k] = v
				}
			}
			if d := cmp.Diff(want, p); d != "" {
				t.Fatalf("paragraph %d with keep (-all +kept):\n%s", i, d)
			}
			i++
			return nil
		})
		if err != nil || i != len(paras) {
			t.Fatalf("with keep: %d paragraphs of %d, err %v", i, len(paras), err)
		}
	})
}

// writeRoot creates the files (path relative to root: content) under a new
// temporary root.
func writeRoot(t *testing.T, files map[string][]byte) string {
	t.Helper()
	root := t.TempDir()
	for name, b := range files {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func installed(name string) string {
	return "Package: " + name + "\nVersion: 1\nStatus: install ok installed\nArchitecture: all\n"
}

// TestLongDescriptions: a description of 700,000 continuation lines (it
// took minutes when each line was appended to a string) costs the
// collector nothing, which reads no multi-line field.
func TestLongDescriptions(t *testing.T) {
	status := installed("a") + "Description: x\n" + strings.Repeat(" y\n", 700_000) + "\n" + installed("b")
	inv, run := collectRoot(t, writeRoot(t, map[string][]byte{"var/lib/dpkg/status": []byte(status)}))
	if run.Status != host.StatusOK || len(inv.Packages) != 2 {
		t.Fatalf("run %+v, packages %+v", run, inv.Packages)
	}
}

// TestValueCap: Parse keeps at most maxValue bytes of a value, says so
// once, and reads what follows.
func TestValueCap(t *testing.T) {
	status := "Package: a\nDescription: x\n" + strings.Repeat(" yyy\n .\n", 300_000) + "Version: 1\n\nPackage: b\n"
	var paras []Paragraph
	errs, err := Parse(context.Background(), strings.NewReader(status), nil, func(p Paragraph) error {
		paras = append(paras, p)
		return nil
	})
	if err != nil || len(errs) != 1 || !strings.Contains(errs[0].Error(), "field Description longer than") {
		t.Fatalf("err %v, errs %v", err, errs)
	}
	if len(paras) != 2 || paras[0]["Version"] != "1" || paras[1]["Package"] != "b" {
		t.Fatalf("paragraphs: %d, first without Description: %v", len(paras), paras[0]["Package"])
	}
	d := paras[0]["Description"]
	if len(d) > maxValue || len(d) < maxValue-8 || !strings.HasPrefix(d, "x\nyyy\n\nyyy\n") {
		t.Errorf("Description is %d bytes, starts %q", len(d), d[:min(len(d), 20)])
	}
}

// endless yields paragraphs of three lines for ever.
type endless struct{ pending []byte }

func (e *endless) Read(p []byte) (int, error) {
	if len(e.pending) == 0 {
		e.pending = []byte("Package: a\nVersion: 1\n\n")
	}
	n := copy(p, e.pending)
	e.pending = e.pending[n:]
	return n, nil
}

// TestParseStopsWhenCanceled: an endless input is read until the context
// is canceled, and then for at most checkEvery more lines.
func TestParseStopsWhenCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	seen := 0
	_, err := Parse(ctx, &endless{}, fields, func(Paragraph) error {
		if seen++; seen == 10 {
			cancel()
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	if seen > 10+checkEvery/3+1 {
		t.Errorf("%d paragraphs read after the cancellation", seen-10)
	}
}

// cancelAfter is a context that reports itself canceled from its n-th
// look on.
type cancelAfter struct {
	context.Context
	n atomic.Int64
}

func (c *cancelAfter) Err() error {
	if c.n.Add(-1) < 0 {
		return context.Canceled
	}
	return nil
}

// TestCollectorStopsWhenCanceled: the collector passes its context to the
// parser (collect.Run looks once before it starts the collector).
func TestCollectorStopsWhenCanceled(t *testing.T) {
	status := strings.Repeat(installed("a")+"\n", 10*checkEvery)
	fsys, err := hostfs.Open(writeRoot(t, map[string][]byte{"var/lib/dpkg/status": []byte(status)}))
	if err != nil {
		t.Fatal(err)
	}
	ctx := &cancelAfter{Context: context.Background()}
	ctx.n.Store(1)
	inv := collect.Run(ctx, &collect.Env{FS: fsys}, []collect.Collector{New()}, nil)
	if run := inv.Collectors[0]; run.Status != host.StatusFailed || !strings.Contains(run.Reason, "context canceled") {
		t.Fatalf("run = %+v", run)
	}
}

// TestGarbageErrorsBounded: 60 MB of "x\n" lines is reported with a few
// messages, and the parse gives up after collect.MaxProblems of them. Packages
// before the garbage are kept.
func TestGarbageErrorsBounded(t *testing.T) {
	status := installed("before") + "\n" + strings.Repeat("x\n", 30_000_000) + "\n" + installed("after")
	inv, run := collectRoot(t, writeRoot(t, map[string][]byte{"var/lib/dpkg/status": []byte(status)}))
	if run.Status != host.StatusPartial || run.ErrorCount != collect.KeptProblems+2 || len(run.Errors) != collect.KeptProblems+2 {
		t.Fatalf("run = %+v", run)
	}
	if !strings.HasSuffix(run.Errors[collect.KeptProblems], fmt.Sprintf(": %d more problems", collect.MaxProblems-collect.KeptProblems)) ||
		!strings.HasSuffix(run.Errors[collect.KeptProblems+1], ": line 10005: "+errTooManyErrors) {
		t.Errorf("summaries: %q", run.Errors[collect.KeptProblems:])
	}
	if len(inv.Packages) != 1 || inv.Packages[0].Name != "before" {
		t.Errorf("packages = %+v", inv.Packages)
	}
}

// TestSomeErrors: fewer than collect.MaxProblems problems are summed up, and the
// whole file is read. Paragraphs the collector rejects count as problems.
func TestSomeErrors(t *testing.T) {
	status := installed("before") + "\n" + strings.Repeat("x\n\nPackage: noversion\n\n", 50) + installed("after")
	inv, run := collectRoot(t, writeRoot(t, map[string][]byte{"var/lib/dpkg/status": []byte(status)}))
	if run.ErrorCount != collect.KeptProblems+1 || run.Errors[collect.KeptProblems] != "/var/lib/dpkg/status: 84 more problems" {
		t.Fatalf("run = %+v", run)
	}
	if run.Errors[1] != "/var/lib/dpkg/status: line 8: package noversion has no Version" {
		t.Errorf("errors = %q", run.Errors)
	}
	if len(inv.Packages) != 2 {
		t.Errorf("packages = %+v", inv.Packages)
	}
}

// TestFileListBudget: 300 packages share one 32 MiB list of a path and
// blank lines (hard links). Lists are read until listBytes is spent.
func TestFileListBudget(t *testing.T) {
	var status strings.Builder
	for i := range 300 {
		status.WriteString(installed(fmt.Sprintf("p%d", i)) + "\n")
	}
	list := make([]byte, listLimit)
	for i := range list {
		list[i] = '\n'
	}
	copy(list, "/x\n")
	root := writeRoot(t, map[string][]byte{"var/lib/dpkg/status": []byte(status.String()), "var/lib/dpkg/info/p0.list": list})
	for i := 1; i < 300; i++ {
		if err := os.Link(filepath.Join(root, "var/lib/dpkg/info/p0.list"), filepath.Join(root, fmt.Sprintf("var/lib/dpkg/info/p%d.list", i))); err != nil {
			t.Fatal(err)
		}
	}
	inv, run := collectRoot(t, root)
	if run.Status != host.StatusPartial || len(run.Errors) != 1 || !strings.Contains(run.Errors[0], "MiB of lists in all") {
		t.Fatalf("run = %+v", run)
	}
	if len(inv.Packages) != 300 {
		t.Fatalf("%d packages", len(inv.Packages))
	}
	withFiles := 0
	for _, p := range inv.Packages {
		if p.Files != nil {
			withFiles++
			if len(p.Files) != 1 || p.Files[0] != "/x" || cap(p.Files) != 1 {
				t.Fatalf("%s files %q (capacity %d)", p.Name, p.Files, cap(p.Files))
			}
		}
	}
	if withFiles != listBytes/listLimit {
		t.Errorf("%d packages with files, want %d", withFiles, listBytes/listLimit)
	}
}

func TestReadList(t *testing.T) {
	long := "/" + strings.Repeat("l", maxPath)
	content := "/.\n/usr\r\n\nusr/relative\n" + long + "\n/usr/bin/a\n/usr/bin/b"
	files, skipped := readList(content, false, 100)
	if d := cmp.Diff([]string{"/usr", "/usr/bin/a", "/usr/bin/b"}, files); d != "" || skipped != 2 {
		t.Errorf("skipped %d, files (-want +got):\n%s", skipped, d)
	}
	if cap(files) != len(files) {
		t.Errorf("capacity %d for %d files", cap(files), len(files))
	}
	// Most of content is skipped: the paths must not keep it in memory.
	if inside(files[0], content) {
		t.Error("a few paths share a mostly skipped file's buffer")
	}
	// Most of it is kept: the paths share it.
	dense := "/.\n/usr\n/usr/bin\n/usr/bin/a\n"
	if files, _ := readList(dense, false, 100); !inside(files[0], dense) {
		t.Error("the paths of a list are copies")
	}
	if files, _ := readList(dense, false, 2); len(files) != 2 || cap(files) != 2 {
		t.Errorf("max 2: %q (capacity %d)", files, cap(files))
	}
	md5 := "0123  usr/b\n0123  /usr/a\nnot a line\n0123  " + long[1:] + "\n"
	files, skipped = readList(md5, true, 100)
	if d := cmp.Diff([]string{"/usr/a", "/usr/b"}, files); d != "" || skipped != 2 {
		t.Errorf("md5sums: skipped %d, files (-want +got):\n%s", skipped, d)
	}
}

// inside reports whether s's bytes lie in buf's.
func inside(s, buf string) bool {
	p, b := uintptr(unsafe.Pointer(unsafe.StringData(s))), uintptr(unsafe.Pointer(unsafe.StringData(buf)))
	return p >= b && p < b+uintptr(len(buf))
}
