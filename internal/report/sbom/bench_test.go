package sbom

import (
	"io"
	"sync"
	"testing"

	"github.com/kensa-dev/kensa/internal/report"
	"github.com/kensa-dev/kensa/internal/report/reporttest"
)

// large50k is reporttest.Large(50_000), built once for the benchmarks
// (bench/README.md: 50,000 findings and as many components).
var large50k = sync.OnceValue(func() *report.Report { return reporttest.Large(50_000) })

// countingWriter counts the bytes of the document, reported as doc-bytes.
type countingWriter struct{ n int64 }

func (c *countingWriter) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	return len(p), nil
}

func bench(b *testing.B, write func(io.Writer, *report.Report) error) {
	r := large50k()
	b.ReportAllocs()
	var size int64
	for b.Loop() {
		var w countingWriter
		if err := write(&w, r); err != nil {
			b.Fatal(err)
		}
		size = w.n
	}
	b.ReportMetric(float64(size), "doc-bytes")
}

func BenchmarkCycloneDX50k(b *testing.B) {
	bench(b, func(w io.Writer, r *report.Report) error { return WriteCycloneDX(w, r, CycloneDXOptions{}) })
}

func BenchmarkCycloneDXVulnerabilities50k(b *testing.B) {
	bench(b, func(w io.Writer, r *report.Report) error {
		return WriteCycloneDX(w, r, CycloneDXOptions{Vulnerabilities: true})
	})
}

func BenchmarkSPDX50k(b *testing.B) { bench(b, WriteSPDX) }
