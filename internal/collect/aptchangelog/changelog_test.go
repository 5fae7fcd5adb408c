package aptchangelog

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"os"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"
)

func TestParseChangelog(t *testing.T) {
	in := `Text before the first entry: CVE-2000-0001 is not any entry's.

openssl (3.0.22-1~deb12u2) bookworm-security; urgency=high

  * Non-maintainer upload by the LTS Team.
  * CVE-2026-84782 ("DTLS Retransmits Handshake Messages"), CVE-2026-84782 again
  * debian/patches/fix-CVE-2023-27534-regression-{1,2}.patch
  * Not an id: CVE-26-1234, CVE-2026-123, cve-2026-12345.

 -- Arnaud Rebillout <arnaudr@debian.org>  Wed, 21 Oct 2026 16:54:24 +0700

bash (5.2.15-2+b8) bookworm; urgency=low, binary-only=yes

  * Binary-only non-maintainer upload for amd64; no source changes.

 -- all / amd64 / i386 Build Daemon <buildd@example.org>  Fri, 18 Apr 2025 22:47:34 +0000

libcap2 (1:2.66-4)  unstable  experimental ;urgency=MEDIUM (HIGH for CVE-2099-9999)
  * Apply upstream patches for CVE-2023-2602, CVE-2023-2603
not a header (1.0) x; but text: CVE-2023-2604
 -- Christian Kastner <ckk@debian.org>  Mon, 15 May 2023 20:34:57 +0200
    openssl (9.9) indented; urgency=low is no header

Local variables:
mode: debian-changelog
End:
old (0.1) stable; urgency=low
  * CVE-1999-0001
`
	got, err := ParseChangelog(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []Entry{
		{Package: "openssl", Version: "3.0.22-1~deb12u2", Distributions: "bookworm-security", Urgency: "high",
			CVEs: []string{"CVE-2026-84782", "CVE-2023-27534"}, Line: 3},
		{Package: "bash", Version: "5.2.15-2+b8", Distributions: "bookworm", Urgency: "low", Line: 12},
		{Package: "libcap2", Version: "1:2.66-4", Distributions: "unstable experimental", Urgency: "medium",
			CVEs: []string{"CVE-2023-2602", "CVE-2023-2603", "CVE-2023-2604"}, Line: 18},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	// CRLF line ends, no final newline, one byte at a time.
	crlf := "pkg (1.0-1) unstable; urgency=low\r\n\r\n  * CVE-2024-0001\r\n\r\n -- A <a@b>  Mon, 01 Jan 2024 00:00:00 +0000"
	got, err = ParseChangelog(iotest.OneByteReader(strings.NewReader(crlf)))
	if err != nil || len(got) != 1 || got[0].Version != "1.0-1" || !slices0(got[0].CVEs, "CVE-2024-0001") {
		t.Errorf("crlf: %+v %v", got, err)
	}
	// A reader error is returned with the entries read before it.
	got, err = ParseChangelog(io.MultiReader(strings.NewReader("a (1) u; urgency=low\n  CVE-2024-0002\n"), iotest.ErrReader(errors.New("boom"))))
	if err == nil || len(got) != 1 {
		t.Errorf("error: %+v %v", got, err)
	}
}

func slices0(ids []string, want ...string) bool { return cmp.Equal(ids, want) }

// TestParseChangelogBounds: long lines, many entries, many ids.
func TestParseChangelogBounds(t *testing.T) {
	// A 1 MiB line is read in pieces: the ids in it are found, and a
	// header-like text inside it is not a header.
	long := "a (1) u; urgency=low\n  " + strings.Repeat("x", 1<<20) + " CVE-2024-1111 " +
		strings.Repeat("y", maxChangelogLine) + "b (2) u; urgency=low\n"
	got, err := ParseChangelog(strings.NewReader(long))
	if err != nil || len(got) != 1 || !slices0(got[0].CVEs, "CVE-2024-1111") {
		t.Errorf("long line: %d entries %v", len(got), err)
	}
	// An overlong run of digits is not an id.
	got, _ = ParseChangelog(strings.NewReader("a (1) u; urgency=low\n CVE-2024-" + strings.Repeat("1", 40) + "\n"))
	if len(got) != 1 || len(got[0].CVEs) != 0 {
		t.Errorf("overlong id: %+v", got)
	}
	var b strings.Builder
	for range maxEntries + 1 {
		b.WriteString("a (1) u; urgency=low\n")
	}
	got, err = ParseChangelog(strings.NewReader(b.String()))
	if !errors.Is(err, ErrChangelogTooLarge) || len(got) != maxEntries {
		t.Errorf("entries: %d %v", len(got), err)
	}
	b.Reset()
	b.WriteString("a (1) u; urgency=low\n")
	for i := range maxCVEs + 1 {
		b.WriteString(" CVE-2024-")
		b.WriteString(strings.Repeat("0", 4))
		b.WriteString(strconv.Itoa(i))
		b.WriteByte('\n')
	}
	got, err = ParseChangelog(strings.NewReader(b.String()))
	if !errors.Is(err, ErrChangelogTooLarge) || len(got) != 1 || len(got[0].CVEs) != maxCVEs {
		t.Errorf("ids: %v", err)
	}
}

// TestRecordedChangelogs parses the recorded changelogs: every header
// that zcat and grep find is an entry.
func TestRecordedChangelogs(t *testing.T) {
	files := []string{
		"testdata/root/usr/share/doc/libssl3/changelog.Debian.gz",
		"testdata/root/usr/share/doc/curl/changelog.Debian.gz",
		"testdata/root/usr/share/doc/tzdata/changelog.Debian.gz",
		"testdata/root/usr/share/doc/bash/changelog.Debian.amd64.gz",
		"testdata/root/usr/share/doc/base-files/changelog.gz",
		"testdata/candidates/openssl_3.0.22-1~deb12u2_amd64/changelog.Debian.gz",
		"testdata/candidates/python3.11_3.11.2-6+deb12u9_amd64/changelog.Debian.gz",
		"testdata/candidates/libcap2_1%3a2.66-4+deb12u3+b1_amd64/changelog.Debian.gz",
	}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		zr, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		text, err := io.ReadAll(zr)
		if err != nil {
			t.Fatal(err)
		}
		headers := 0
		for _, l := range strings.Split(string(text), "\n") {
			if headerRE.MatchString(l) {
				headers++
			}
		}
		entries, err := ParseChangelog(bytes.NewReader(text))
		if err != nil || len(entries) != headers || headers == 0 {
			t.Errorf("%s: %d entries of %d headers, %v", name, len(entries), headers, err)
		}
		for _, e := range entries {
			if e.Version == "" || e.Urgency == "" || e.Distributions == "" {
				t.Errorf("%s: %+v", name, e)
			}
		}
	}
	// The newest entry of the openssl candidate.
	e := firstEntry(t, "testdata/candidates/openssl_3.0.22-1~deb12u2_amd64/changelog.Debian.gz")
	want := Entry{Package: "openssl", Version: "3.0.22-1~deb12u2", Distributions: "bookworm-security", Urgency: "high", Line: 1,
		CVEs: []string{"CVE-2026-84782", "CVE-2026-35189", "CVE-2026-54872", "CVE-2026-75805", "CVE-2026-75806", "CVE-2026-77696"}}
	if diff := cmp.Diff(want, e); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func firstEntry(t *testing.T, name string) Entry {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	entries, err := parseGz(f)
	if err != nil || len(entries) == 0 {
		t.Fatalf("%s: %v", name, err)
	}
	return entries[0]
}

func TestFixedCVEs(t *testing.T) {
	entries := []Entry{
		{Version: "1.0-3", CVEs: []string{"CVE-2024-10000", "CVE-2023-5"}},
		{Version: "1.0-2", CVEs: []string{"CVE-2024-9999", "CVE-2022-1111"}},
		{Version: "1:0.9", CVEs: []string{"CVE-2024-1"}}, // epoch: newer
		{Version: "1.0-1", CVEs: []string{"CVE-2021-0001"}},
		{Version: "1.0-2~bpo", CVEs: []string{"CVE-2024-9999"}},
	}
	got := fixedCVEs(entries, "1.0-1", map[string]bool{"CVE-2022-1111": true})
	want := []string{"CVE-2023-5", "CVE-2024-1", "CVE-2024-9999", "CVE-2024-10000"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if got := fixedCVEs(entries, "2:0", nil); got != nil {
		t.Errorf("nothing newer: %v", got)
	}
}
