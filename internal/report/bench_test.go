package report

import (
	"fmt"
	"io"
	"testing"

	"github.com/kensa-dev/kensa/internal/finding"
)

// largeReport returns the full test report grown to n findings, for the
// renderers' benchmarks (bench/README.md: 50,000 findings).
func largeReport(n int) *Report {
	r := fullReport()
	base := r.Findings
	r.Findings = make([]finding.Finding, 0, n)
	for i := range n {
		f := base[i%len(base)]
		f.ID = fmt.Sprintf("%032x", i)
		f.Title = fmt.Sprintf("%s (%d)", f.Title, i)
		r.Findings = append(r.Findings, f)
	}
	r.Summary = Summarize(r)
	return r
}

func BenchmarkRender50k(b *testing.B) {
	r := largeReport(50_000)
	for _, tt := range []struct {
		name string
		fn   func(io.Writer, *Report) error
	}{
		{"json", WriteJSON},
		{"table", func(w io.Writer, r *Report) error { return WriteTable(w, r, TableOptions{}) }},
		{"csv", WriteCSV},
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
