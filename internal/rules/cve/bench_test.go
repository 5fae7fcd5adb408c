package cve_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/kensa-dev/kensa/internal/collect"
	"github.com/kensa-dev/kensa/internal/collect/dpkg"
	"github.com/kensa-dev/kensa/internal/collect/osrelease"
	"github.com/kensa-dev/kensa/internal/hostfs"
	"github.com/kensa-dev/kensa/internal/rules/cve"
	"github.com/kensa-dev/kensa/internal/testfixture"
	"github.com/kensa-dev/kensa/internal/vulndb"
)

// BenchmarkEvaluateUbuntuFocal matches the Ubuntu 20.04 base fixture (326
// packages) against the focal cvescan database (9,960 CVEs) in a real
// store file: lookups, decoding, range evaluation and finding assembly.
// It reports packages matched per second.
func BenchmarkEvaluateUbuntuFocal(b *testing.B) {
	root := testfixture.Shared(b, "fixtures", "pkgdb", "dpkg", "ubuntu-20.04-base")
	feed := testfixture.Shared(b, "vulndata", "native", "ubuntu", "ubuntu-vuln-db-focal.json.bz2")
	ctx := context.Background()
	fsys, err := hostfs.Open(root)
	if err != nil {
		b.Fatal(err)
	}
	inv := testfixture.CollectEnv(b, &collect.Env{FS: fsys, Clock: func() time.Time { return focalTime }}, osrelease.New(), dpkg.New())
	store, err := vulndb.Open(ctx, filepath.Join(b.TempDir(), "v.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	if _, err := store.Import(ctx, feed, vulndb.SourceMeta{}); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		out, err := cve.Evaluate(ctx, inv, store, cve.Options{Now: func() time.Time { return focalTime }})
		if err != nil || len(out.Findings) == 0 {
			b.Fatal(err, "no findings")
		}
	}
	b.ReportMetric(float64(len(inv.Packages)*b.N)/b.Elapsed().Seconds(), "packages/s")
}
