package html

import (
	"testing"

	"github.com/kensa-dev/kensa/internal/report/reporttest"
)

// countingWriter counts what Write produces, for the size metric.
type countingWriter struct{ n int64 }

func (c *countingWriter) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	return len(p), nil
}

// BenchmarkWrite50k renders 50,000 findings (bench/README.md), in both
// kinds, and reports the size of the page.
func BenchmarkWrite50k(b *testing.B) {
	r := reporttest.Large(50_000)
	for _, k := range []struct {
		name string
		opt  Options
	}{{"findings", Options{}}, {"full", Options{Full: true}}} {
		b.Run(k.name, func(b *testing.B) {
			var size countingWriter
			b.ReportAllocs()
			for b.Loop() {
				size.n = 0
				if err := Write(&size, r, k.opt); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(size.n), "page-bytes")
		})
	}
}
