package aptchangelog

import (
	"bytes"
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/kensa-dev/kensa/internal/collect"
)

func FuzzParseChangelog(f *testing.F) {
	f.Add([]byte("openssl (3.0.22-1~deb12u2) bookworm-security; urgency=high\n\n  * CVE-2026-84782, CVE-2026-35189\n\n -- A <a@b>  Wed, 21 Oct 2026 16:54:24 +0700\n"))
	f.Add([]byte("bash (5.2.15-2+b8) bookworm; urgency=low, binary-only=yes\n\n  * Rebuild\n\nLocal variables:\nold (1) x; urgency=low\n CVE-1999-0001\n"))
	f.Add([]byte("a (1) u;\r\n CVE-2024-12345678901234567890 CVE-2024-1234\n" + strings.Repeat("x", 70000) + "\nb (2:1.0~rc1+dfsg-1) a b c ; urgency=MEDIUM (HIGH)\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		entries, err := ParseChangelog(bytes.NewReader(b))
		if err != nil && !errors.Is(err, ErrChangelogTooLarge) {
			t.Fatalf("in-memory input: %v", err)
		}
		if len(entries) > maxEntries {
			t.Fatalf("%d entries", len(entries))
		}
		for _, e := range entries {
			if e.Package == "" || e.Version == "" || strings.ContainsAny(e.Version, " \t()") || e.Line < 1 {
				t.Fatalf("bad entry %+v", e)
			}
			seen := map[string]bool{}
			for _, id := range e.CVEs {
				if seen[id] || len(id) > maxCVELen || !cveRE.MatchString(id) || cveRE.FindString(id) != id {
					t.Fatalf("bad id %q in %+v", id, e)
				}
				seen[id] = true
			}
		}
		_ = fixedCVEs(entries, "1.0-1", nil)
	})
}

func FuzzParsePackages(f *testing.F) {
	if b, err := os.ReadFile("testdata/codec/Packages"); err == nil {
		f.Add(b)
	}
	f.Add([]byte("Package: a\nVersion: 1\nSource: b (2)\nSize: 12\nSHA256: AB\n\nPackage: c\nVersion: 1\nSize: x\n"))
	f.Add([]byte(" continuation\nPackage:\nVersion: 1\n\n\n\npackage: a\nversion: 2\narchitecture: all\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		n := 0
		errs, err := ParsePackages(context.Background(), bytes.NewReader(b), func(s Stanza) {
			n++
			if s.Package == "" || s.Version == "" || s.SourceName == "" || s.SourceVersion == "" || s.Size < 0 {
				t.Fatalf("bad stanza %+v", s)
			}
		})
		if err != nil {
			t.Fatalf("in-memory input: %v", err)
		}
		if len(errs) > collect.KeptProblems+2 {
			t.Fatalf("%d errors", len(errs))
		}
	})
}

func FuzzParseRelease(f *testing.F) {
	if b, err := os.ReadFile("testdata/root/var/lib/apt/lists/deb.debian.org_debian_dists_bookworm-backports_InRelease"); err == nil {
		f.Add(b)
	}
	f.Add([]byte("Suite: stable\nNotAutomatic: yes\nButAutomaticUpgrades: yes\n\nCodename: x\n"))
	f.Add([]byte("-----BEGIN PGP SIGNED MESSAGE-----\n\n- -Suite: x\n-----BEGIN PGP SIGNATURE-----\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := ParseRelease(bytes.NewReader(b))
		if err != nil {
			return // a line over 64 KiB
		}
		if r.priority() != prioDefault && !r.NotAutomatic {
			t.Fatalf("%+v has priority %d", r, r.priority())
		}
	})
}

// FuzzCheckXZ: the xz pre-check reads hostile bytes at offsets they name;
// it must end without a panic, and what it passes must not ask for a large
// dictionary.
func FuzzCheckXZ(f *testing.F) {
	if b, err := os.ReadFile("testdata/codec/Packages.xz"); err == nil {
		f.Add(b)
		f.Add(append(append(append([]byte{}, b...), 0, 0, 0, 0), b...))
	}
	f.Add(xzHeaderOnly(37))
	f.Add(xzHeaderOnly(20))
	f.Fuzz(func(t *testing.T, b []byte) {
		_ = checkXZ(bytes.NewReader(b), int64(len(b)), maxXZDict)
	})
}
