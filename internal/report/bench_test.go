package report_test

import (
	"io"
	"testing"

	"github.com/kensa-dev/kensa/internal/report"
	"github.com/kensa-dev/kensa/internal/report/reporttest"
)

// The text renderers at 50,000 findings (bench/README.md), on the same
// large report every renderer's benchmark uses.
func BenchmarkRender50k(b *testing.B) {
	r := reporttest.Large(50_000)
	for _, tt := range []struct {
		name string
		fn   func(io.Writer, *report.Report) error
	}{
		{"json", report.WriteJSON},
		{"table", func(w io.Writer, r *report.Report) error { return report.WriteTable(w, r, report.TableOptions{}) }},
		{"csv", report.WriteCSV},
	} {
		b.Run(tt.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := tt.fn(io.Discard, r); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
