package discover_test

import (
	"context"
	"runtime"
	"testing"

	"github.com/kensa-dev/kensa/internal/collect"
	"github.com/kensa-dev/kensa/internal/collect/discover"
	"github.com/kensa-dev/kensa/internal/collect/lang/golang"
	"github.com/kensa-dev/kensa/internal/collect/lang/java"
	"github.com/kensa-dev/kensa/internal/collect/lang/npm"
	"github.com/kensa-dev/kensa/internal/collect/lang/python"
	"github.com/kensa-dev/kensa/internal/host"
	"github.com/kensa-dev/kensa/internal/hostfs"
)

func liveEnv(b *testing.B) *collect.Env {
	if runtime.GOOS != "linux" {
		b.Skip("live host discovery is for Linux")
	}
	fsys, err := hostfs.Open("/")
	if err != nil {
		b.Fatal(err)
	}
	return &collect.Env{FS: fsys}
}

// BenchmarkDiscoverLiveHost walks this host's default roots, as a scan of
// "/" does: the walk alone. Run with -bench DiscoverLiveHost -benchmem.
func BenchmarkDiscoverLiveHost(b *testing.B) {
	env := liveEnv(b)
	var c *discover.Candidates
	var inv *host.Inventory
	var err error
	for b.Loop() {
		inv = &host.Inventory{}
		c, err = discover.New(collect.DefaultDiscovery()).Candidates(context.Background(), env, inv)
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(inv.Discovery.FilesVisited), "entries")
	b.ReportMetric(float64(len(c.Go)), "go-candidates")
	b.ReportMetric(float64(len(c.Python)), "python-candidates")
	b.ReportMetric(float64(len(c.NPM)), "npm-candidates")
	b.ReportMetric(float64(len(c.Java)), "java-candidates")
}

// BenchmarkCollectLiveHost runs the walk collector and the four language
// collectors on this host, as a scan of "/" does.
func BenchmarkCollectLiveHost(b *testing.B) {
	env := liveEnv(b)
	var inv *host.Inventory
	for b.Loop() {
		w := discover.New(collect.DefaultDiscovery())
		inv = collect.Run(context.Background(), env, []collect.Collector{
			discover.NewCollector(w), golang.New(w), python.New(w), npm.New(w), java.New(w),
		}, nil)
	}
	count := map[string]int{}
	for _, s := range inv.Software {
		count[s.Kind]++
	}
	for _, k := range []string{"go-main", "go-module", "go-stdlib", "python-dist", "npm", "java-archive"} {
		b.ReportMetric(float64(count[k]), k)
	}
	for _, r := range inv.Collectors {
		if r.Status != host.StatusOK {
			b.Logf("%s: %s %s %v", r.Name, r.Status, r.Reason, r.Errors)
		}
	}
}
