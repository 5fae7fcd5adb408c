package fswalk_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/kensa-dev/kensa/internal/collect"
	"github.com/kensa-dev/kensa/internal/collect/fswalk"
	"github.com/kensa-dev/kensa/internal/host"
	"github.com/kensa-dev/kensa/internal/hostfs"
)

// BenchmarkWalk walks a generated tree of 20,000 files in 1,000
// directories, or the root named by KENSA_FSWALK_BENCH_ROOT ("/" for this
// host) to measure a real disk. It reports the entries examined.
func BenchmarkWalk(b *testing.B) {
	root := os.Getenv("KENSA_FSWALK_BENCH_ROOT")
	if root == "" {
		root = b.TempDir()
		for d := range 1000 {
			dir := filepath.Join(root, "usr", fmt.Sprintf("d%02d", d/100), fmt.Sprintf("d%03d", d))
			if err := os.MkdirAll(dir, 0o755); err != nil {
				b.Fatal(err)
			}
			for f := range 20 {
				if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("f%02d", f)), nil, 0o644); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
	fsys, err := hostfs.Open(root)
	if err != nil {
		b.Fatal(err)
	}
	users := []host.User{{Name: "root", UID: 0}}
	groups := []host.Group{{Name: "root", GID: 0}}
	var entries int
	b.ReportAllocs()
	for b.Loop() {
		inv := &host.Inventory{Users: users, Groups: groups}
		env := &collect.Env{FS: fsys}
		if err := fswalk.New(fswalk.Options{}).Collect(context.Background(), env, inv); err != nil {
			b.Fatal(err)
		}
		entries = inv.Config.FSWalk.Entries
	}
	b.ReportMetric(float64(entries), "entries")
}
