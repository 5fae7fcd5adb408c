package aptchangelog

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/kensa-dev/kensa/internal/hostfs"
)

func TestParseRelease(t *testing.T) {
	dir := "testdata/root/var/lib/apt/lists/"
	tests := []struct {
		file string
		want Release
		prio int
	}{
		{"deb.debian.org_debian_dists_bookworm_InRelease", Release{Suite: "oldstable", Codename: "bookworm"}, 500},
		{"deb.debian.org_debian-security_dists_bookworm-security_InRelease", Release{Suite: "oldstable-security", Codename: "bookworm-security"}, 500},
		{"deb.debian.org_debian_dists_bookworm-updates_InRelease", Release{Suite: "oldstable-updates", Codename: "bookworm-updates"}, 500},
		{"deb.debian.org_debian_dists_bookworm-backports_InRelease", Release{Suite: "oldstable-backports", Codename: "bookworm-backports", NotAutomatic: true, ButAutomaticUpgrades: true}, 100},
		{"deb.debian.org_debian_dists_experimental_InRelease", Release{Suite: "experimental", Codename: "rc-buggy", NotAutomatic: true}, 1},
	}
	for _, tc := range tests {
		f, err := os.Open(dir + tc.file)
		if err != nil {
			t.Fatal(err)
		}
		got, err := ParseRelease(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		if got != tc.want || got.priority() != tc.prio {
			t.Errorf("%s: %+v (priority %d), want %+v (%d)", tc.file, got, got.priority(), tc.want, tc.prio)
		}
	}
	// A plain Release, field names in any case; fields after the first
	// paragraph and in the signature are not the archive's.
	plain := "origin: x\nsuite: stable\nCODENAME: trixie\nnotautomatic: Yes\nSHA256:\n abc 1 main/x\n\nSuite: other\n"
	got, err := ParseRelease(strings.NewReader(plain))
	if err != nil || got != (Release{Suite: "stable", Codename: "trixie", NotAutomatic: true}) {
		t.Errorf("plain: %+v %v", got, err)
	}
	signed := "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA512\n\n- -Suite: escaped\nCodename: c\n-----BEGIN PGP SIGNATURE-----\nSuite: sig\n"
	got, err = ParseRelease(strings.NewReader(signed))
	if err != nil || got != (Release{Codename: "c"}) {
		t.Errorf("signed: %+v %v", got, err)
	}
	// A line over 64 KiB is an error, not a hang or a huge allocation.
	_, err = ParseRelease(strings.NewReader("Suite: " + strings.Repeat("x", 1<<20)))
	if err == nil {
		t.Error("long line accepted")
	}
	if (Release{Suite: "s"}).Name() != "s" || (Release{Suite: "s", Codename: "c"}).Name() != "c" {
		t.Error("Name")
	}
}

func TestListKind(t *testing.T) {
	for name, want := range map[string]string{
		"h_debian_dists_bookworm_main_binary-amd64_Packages":     "ok ",
		"h_debian_dists_bookworm_main_binary-amd64_Packages.lz4": "ok lz4",
		"h_debian_dists_bookworm_main_binary-amd64_Packages.zst": "ok zst",
		"h_debian_dists_bookworm_main_binary-amd64_Packages.xz":  "ok xz",
		"h_debian_dists_bookworm_main_binary-amd64_Packages.gz":  "ok gz",
		"h_debian_dists_bookworm_main_binary-amd64_Packages.bz2": "ok bz2",
		"h_debian_dists_bookworm_main_binary-amd64_Packages.Z":   "unsupported Z",
		"h_debian_dists_bookworm_main_source_Sources.lz4":        "no",
		"h_debian_dists_bookworm_InRelease":                      "no",
		"h_debian_dists_bookworm_main_i18n_Translation-en":       "no",
		"lock": "no",
		"h_debian_dists_bookworm_main_dep11_Components-amd64.yml.gz": "no",
	} {
		comp, ok, supported := listKind(name)
		got := "no"
		switch {
		case ok && supported:
			got = "ok " + comp
		case ok:
			got = "unsupported " + comp
		}
		if got != want {
			t.Errorf("%s: %q, want %q", name, got, want)
		}
	}
}

func openFixtureList(t *testing.T, name, compression string) []byte {
	t.Helper()
	fsys, err := hostfs.Open("testdata")
	if err != nil {
		t.Fatal(err)
	}
	r, done, err := openList(fsys, name, compression)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	defer done()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return b
}

// TestCompressedLists decodes one list compressed by the lz4, gzip, xz,
// zstd and bzip2 tools of this host.
func TestCompressedLists(t *testing.T) {
	plain, err := os.ReadFile("testdata/codec/Packages")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []string{"", "lz4", "gz", "xz", "zst", "bz2"} {
		name := "codec/Packages"
		if c != "" {
			name += "." + c
		}
		if got := openFixtureList(t, name, c); !bytes.Equal(got, plain) {
			t.Errorf("%s: %d bytes differ from the plain list", name, len(got))
		}
	}
	// Every list of the fixture root has the stanzas it should.
	fsys, _ := hostfs.Open("testdata/root")
	want := map[string]int{"": 3, "lz4": 11, "gz": 3, "xz": 7, "zst": 1}
	for _, name := range fixtureLists {
		comp, _, _ := listKind(filepath.Base(name))
		r, done, err := openList(fsys, name, comp)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		errs, err := ParsePackages(context.Background(), r, func(s Stanza) {
			n++
			if s.Size <= 0 || len(s.SHA256) != 64 || s.SourceName == "" || s.SourceVersion == "" {
				t.Errorf("%s: %+v", name, s)
			}
		})
		done()
		if err != nil || len(errs) != 0 || n != want[comp] {
			t.Errorf("%s: %d stanzas, %v %v", name, n, errs, err)
		}
	}
}

func TestParsePackages(t *testing.T) {
	in := `Package: libcap2
Source: libcap2 (1:2.66-4+deb12u3)
Version: 1:2.66-4+deb12u3+b1
Architecture: amd64
Size: 27708
SHA256: 8D684C673E7483802A5C447834B0DF6FCE006EB3A7109E1BE412F5AD425BB24F

Package: tzdata
Version: 2026f-0+deb12u1
Architecture: all

Version: 1
Architecture: all

Package: bad
Version: 1
Size: -3
`
	var got []Stanza
	errs, err := ParsePackages(context.Background(), strings.NewReader(in), func(s Stanza) { got = append(got, s) })
	if err != nil {
		t.Fatal(err)
	}
	want := []Stanza{
		{Package: "libcap2", Version: "1:2.66-4+deb12u3+b1", Architecture: "amd64", SourceName: "libcap2", SourceVersion: "1:2.66-4+deb12u3",
			Size: 27708, SHA256: "8d684c673e7483802a5c447834b0df6fce006eb3a7109e1be412f5ad425bb24f"},
		{Package: "tzdata", Version: "2026f-0+deb12u1", Architecture: "all", SourceName: "tzdata", SourceVersion: "2026f-0+deb12u1"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if len(errs) != 2 || !strings.Contains(errs[0].Error(), "without Package") || !strings.Contains(errs[1].Error(), "bad Size") {
		t.Errorf("errs %v", errs)
	}
}

// TestListBounds: decompressed content is capped, and an xz file cannot
// make the decoder allocate a dictionary of gigabytes.
func TestListBounds(t *testing.T) {
	r := newCapReader(bytes.NewReader(make([]byte, 100)), 10)
	b, err := io.ReadAll(r)
	if len(b) != 10 || !errors.Is(err, hostfs.ErrTooLarge) {
		t.Errorf("cap: %d bytes, %v", len(b), err)
	}
	// Exactly the limit is fine.
	if b, err := io.ReadAll(newCapReader(bytes.NewReader(make([]byte, 10)), 10)); len(b) != 10 || err != nil {
		t.Errorf("exact: %d %v", len(b), err)
	}
	xzFile, err := os.ReadFile("testdata/codec/Packages.xz")
	if err != nil {
		t.Fatal(err)
	}
	if err := checkXZ(bytes.NewReader(xzFile), int64(len(xzFile)), maxXZDict); err != nil {
		t.Errorf("xz -6 file: %v", err)
	}
	// Two streams and stream padding, as xz writes for concatenated files.
	two := append(append(append([]byte{}, xzFile...), 0, 0, 0, 0), xzFile...)
	if err := checkXZ(bytes.NewReader(two), int64(len(two)), maxXZDict); err != nil {
		t.Errorf("two streams: %v", err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "two_Packages.xz"), two, 0o644); err != nil {
		t.Fatal(err)
	}
	fsys, _ := hostfs.Open(dir)
	lr, done, err := openList(fsys, "two_Packages.xz", "xz")
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(lr)
	done()
	plain, _ := os.ReadFile("testdata/codec/Packages")
	if err != nil || !bytes.Equal(got, append(append([]byte{}, plain...), plain...)) {
		t.Errorf("two streams decode to %d bytes, %v", len(got), err)
	}
	for code, ok := range map[byte]bool{0: true, 22: true, 28: true, 29: false, 37: false, 40: false, 41: false} {
		f := xzHeaderOnly(code)
		err := checkXZ(bytes.NewReader(f), int64(len(f)), maxXZDict)
		if (err == nil) != ok {
			t.Errorf("dictionary code %d (%d MiB): %v", code, xzDictSize(min(code, 40))>>20, err)
		}
	}
	// Garbage and truncations are errors, not panics.
	for i := range len(xzFile) {
		_ = checkXZ(bytes.NewReader(xzFile[:i]), int64(i), maxXZDict)
		bad := bytes.Clone(xzFile)
		bad[i] ^= 0xff
		_ = checkXZ(bytes.NewReader(bad), int64(len(bad)), maxXZDict)
	}
	// A zstd frame asking for a window over the limit is refused at once.
	zfr := []byte{0x28, 0xb5, 0x2f, 0xfd, 0x00, 0xf8} // window descriptor 0xf8: 2 GiB
	zfr = append(zfr, make([]byte, 16)...)
	if err := os.WriteFile(filepath.Join(dir, "big_Packages.zst"), zfr, 0o644); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if lr, done, err := openList(fsys, "big_Packages.zst", "zst"); err == nil {
		_, err = io.ReadAll(lr)
		done()
		if err == nil {
			t.Error("zstd window of 2 GiB accepted")
		}
	}
	if time.Since(start) > 5*time.Second {
		t.Error("zstd took too long")
	}
}
