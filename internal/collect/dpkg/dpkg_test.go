package dpkg

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/kensa-dev/kensa/internal/host"
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
		_, err := Parse(bytes.NewReader(b), func(p Paragraph) { paras = append(paras, p) })
		if err != nil {
			t.Fatalf("Parse returned an I/O error on in-memory input: %v", err)
		}
		for _, p := range paras {
			if len(p) == 0 {
				t.Fatal("empty paragraph returned")
			}
			for k := range p {
				if k == "" || strings.ContainsAny(k, " \t\n") {
					t.Fatalf("bad key %q", k)
				}
			}
		}
	})
}
