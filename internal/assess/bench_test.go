package assess

import (
	"context"
	"testing"

	"github.com/kensa-dev/kensa/internal/collect"
	"github.com/kensa-dev/kensa/internal/collect/aptchangelog"
)

// BenchmarkInventoryLiveHost measures the whole inventory of the machine
// running the benchmark, every collector included. Results are recorded in
// bench/README.md; bench/inventory.sh measures the binary with peak RSS.
func BenchmarkInventoryLiveHost(b *testing.B) {
	opts := Options{Root: "/", Discovery: collect.DefaultDiscovery(), Updates: aptchangelog.Options{NoDownload: true}}
	var pkgs, sw int
	for b.Loop() {
		inv, err := Inventory(context.Background(), opts)
		if err != nil {
			b.Fatal(err)
		}
		pkgs, sw = len(inv.Packages), len(inv.Software)
	}
	b.ReportMetric(float64(pkgs), "packages")
	b.ReportMetric(float64(sw), "software")
}
