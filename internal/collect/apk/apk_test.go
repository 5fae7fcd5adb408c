package apk

import (
	"bytes"
	"context"
	"github.com/kensa-dev/kensa/internal/collect"
	"os"
	"path/filepath"
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

func TestFixtures(t *testing.T) {
	pkgdb := testfixture.Shared(t, "fixtures", "pkgdb", "apk")
	// Expected records are as `apk info -v` would name them and as the
	// P:/V:/A:/o: lines of each database read (checked with grep; apk-tools
	// is not packaged for Debian 12, so it cannot serve as the oracle).
	tests := []struct {
		dir     string
		count   int
		records []string // name version arch source
	}{
		{"alpine-3.14-minirootfs", 26, []string{
			"musl 1.2.2-r3 armv7 musl",
			"busybox 1.33.1-r3 armv7 busybox",
			"libcrypto1.1 1.1.1k-r0 armv7 openssl",
		}},
		{"osv-scalibr-testdata", 15, []string{
			"musl 1.2.4-r0 x86_64 musl",
		}},
	}
	for _, tc := range tests {
		t.Run(tc.dir, func(t *testing.T) {
			inv, run := collectRoot(t, filepath.Join(pkgdb, tc.dir))
			if run.Status != host.StatusOK {
				t.Fatalf("status %+v", run)
			}
			if len(inv.Packages) != tc.count {
				t.Errorf("got %d packages, want %d", len(inv.Packages), tc.count)
			}
			have := map[string]host.Package{}
			for _, p := range inv.Packages {
				have[strings.Join([]string{p.Name, p.Version, p.Arch, p.SourceName}, " ")] = p
			}
			for _, r := range tc.records {
				if _, ok := have[r]; !ok {
					t.Errorf("missing %q", r)
				}
			}
		})
	}
	inv, _ := collectRoot(t, filepath.Join(pkgdb, "alpine-3.14-minirootfs"))
	for _, p := range inv.Packages {
		if p.Name == "musl" {
			want := []string{"/lib/ld-musl-armhf.so.1", "/lib/libc.musl-armv7.so.1"}
			if d := cmp.Diff(want, p.Files); d != "" {
				t.Errorf("musl files (-want +got):\n%s", d)
			}
		}
	}
}

func TestGarbageAndTruncated(t *testing.T) {
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "lib/apk/db"), 0o755)
	// A good record, a record cut off before V:, binary garbage, and an
	// overlong line.
	db := "P:good\nV:1.0-r0\nA:x86_64\n\nP:cut\n\n\x00\xff\xfe\n" + strings.Repeat("x", 2<<20) + "\n"
	os.WriteFile(filepath.Join(root, "lib/apk/db/installed"), []byte(db), 0o644)
	inv, run := collectRoot(t, root)
	if run.Status != host.StatusPartial || run.ErrorCount < 2 {
		t.Fatalf("want partial with errors, got %+v", run)
	}
	if len(inv.Packages) != 1 || inv.Packages[0].Name != "good" || inv.Packages[0].SourceName != "good" {
		t.Errorf("packages = %+v", inv.Packages)
	}
}

func TestNotApplicable(t *testing.T) {
	if _, run := collectRoot(t, t.TempDir()); run.Status != host.StatusSkipped {
		t.Fatalf("status %+v", run)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte("P:musl\nV:1.2.4-r0\nA:x86_64\no:musl\nF:lib\nR:libc.so\n\nP:x\n"))
	f.Add([]byte("R:no-dir\nF:\nR:x\n\n\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		recs, errs, err := Parse(context.Background(), bytes.NewReader(b))
		if err != nil {
			t.Fatalf("in-memory parse failed: %v", err)
		}
		if len(errs) > collect.KeptProblems+2 {
			t.Fatalf("%d errors returned", len(errs))
		}
		for _, r := range recs {
			if r.Name == "" || r.Version == "" {
				t.Fatalf("record without name or version: %+v", r)
			}
			for _, f := range r.Files {
				if !strings.HasPrefix(f, "/") {
					t.Fatalf("relative file %q", f)
				}
			}
		}
	})
}

// TestGarbageErrorsBounded: 60 MB of "x\n" lines is reported with a few
// messages, and the parse gives up after collect.MaxProblems of them. Records before
// the garbage are kept.
func TestGarbageErrorsBounded(t *testing.T) {
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "lib/apk/db"), 0o755)
	db := "P:before\nV:1\n\n" + strings.Repeat("x\n", 30_000_000) + "\nP:after\nV:1\n"
	os.WriteFile(filepath.Join(root, "lib/apk/db/installed"), []byte(db), 0o644)
	inv, run := collectRoot(t, root)
	if run.Status != host.StatusPartial || run.ErrorCount != collect.KeptProblems+2 {
		t.Fatalf("run = %+v", run)
	}
	if run.Errors[collect.KeptProblems] != "/lib/apk/db/installed: 9984 more problems" ||
		run.Errors[collect.KeptProblems+1] != "/lib/apk/db/installed: line 10004: too many errors; the rest of the file was skipped" {
		t.Errorf("summaries: %q", run.Errors[collect.KeptProblems:])
	}
	if len(inv.Packages) != 1 || inv.Packages[0].Name != "before" {
		t.Errorf("packages = %+v", inv.Packages)
	}
}

// TestSomeErrors: a few hundred problems are summed up and the whole
// database is read.
func TestSomeErrors(t *testing.T) {
	db := strings.Repeat("x\n\nP:noversion\n\n", 100) + "P:after\nV:1\n"
	recs, errs, err := Parse(context.Background(), strings.NewReader(db))
	if err != nil || len(recs) != 1 || len(errs) != collect.KeptProblems+1 || errs[collect.KeptProblems].Error() != "184 more problems" {
		t.Fatalf("records %+v, errs %q, err %v", recs, errs, err)
	}
}

// TestFileEntriesBounded: file entries beyond maxFiles are left out and
// reported once; the records are kept.
func TestFileEntriesBounded(t *testing.T) {
	db := "P:a\nV:1\nF:d\n" + strings.Repeat("R:x\n", maxFiles) + "\nP:b\nV:1\nR:y\nR:z\n"
	recs, errs, err := Parse(context.Background(), strings.NewReader(db))
	if err != nil || len(recs) != 2 || len(errs) != 1 || !strings.Contains(errs[0].Error(), "files listed in all") {
		t.Fatalf("records %d, errs %q, err %v", len(recs), errs, err)
	}
	if len(recs[0].Files) != maxFiles || recs[0].Files[0] != "/d/x" || recs[1].Files != nil {
		t.Errorf("files: %d, %q", len(recs[0].Files), recs[1].Files)
	}
}

func TestParseStopsWhenCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	db := strings.Repeat("P:a\nV:1\n\n", checkEvery)
	if _, _, err := Parse(ctx, strings.NewReader(db)); err != context.Canceled {
		t.Fatalf("err = %v", err)
	}
}
