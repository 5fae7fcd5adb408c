package pdf

import (
	"io"
	"testing"

	"github.com/kensa-dev/kensa/internal/report/reporttest"
)

// BenchmarkWrite50k renders 50,000 findings (bench/README.md), both
// kinds, and reports the size of the document as bytes/doc.
func BenchmarkWrite50k(b *testing.B) {
	r := reporttest.Large(50_000)
	for _, kind := range []struct {
		name string
		opt  Options
	}{{"findings", Options{}}, {"full", Options{Full: true}}} {
		b.Run(kind.name, func(b *testing.B) {
			b.ReportAllocs()
			var size int64
			for b.Loop() {
				cw := &countingWriter{}
				if err := Write(cw, r, kind.opt); err != nil {
					b.Fatal(err)
				}
				size = cw.n
			}
			b.ReportMetric(float64(size), "bytes/doc")
		})
	}
}

// countingWriter counts what is written to it.
type countingWriter struct{ n int64 }

func (c *countingWriter) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	return len(p), nil
}

var _ io.Writer = (*countingWriter)(nil)
