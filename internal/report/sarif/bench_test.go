package sarif

import (
	"fmt"
	"github.com/kensa-dev/kensa/internal/report/reporttest"
	"io"
	"testing"

	"github.com/kensa-dev/kensa/internal/finding"
)

func BenchmarkWrite50k(b *testing.B) {
	r := reporttest.CVE()
	base := r.Findings
	r.Findings = make([]finding.Finding, 0, 50_000)
	for i := range 50_000 {
		f := base[i%len(base)]
		f.ID = fmt.Sprintf("%032x", i)
		r.Findings = append(r.Findings, f)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := Write(io.Discard, r); err != nil {
			b.Fatal(err)
		}
	}
}
