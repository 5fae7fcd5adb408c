package elfsec

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

func FuzzAnalyze(f *testing.F) {
	f.Add(hardenedPIE().build())
	s := hardenedPIE()
	s.sections = []string{".go.buildinfo", ".rustc"}
	s.defines = []string{"__stack_chk_guard", "runtime.buildVersion"}
	f.Add(s.build())
	files, _ := filepath.Glob("testdata/hostile/*")
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := Analyze(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			if r != nil {
				t.Fatal("result with an error")
			}
			return
		}
		for _, c := range []Check{r.NX, r.StackProtector, r.PIE, r.RELRO.Check, r.Fortify.Check} {
			switch c.Status {
			case Pass, Fail, NotApplicable, Unknown:
			default:
				t.Fatalf("status %q", c.Status)
			}
			if c.Reason == "" {
				t.Fatal("a verdict without a reason")
			}
		}
		if len(r.Fortify.Fortified) > MaxListed || len(r.Fortify.Unfortified) > MaxListed {
			t.Fatal("list past MaxListed")
		}
		if _, err := json.Marshal(r); err != nil {
			t.Fatal(err)
		}
	})
}

// BenchmarkAnalyzeUsrBin analyses every ELF file in /usr/bin (regular
// files, no links followed) per iteration; it reports files/s.
func BenchmarkAnalyzeUsrBin(b *testing.B) {
	files := elfFiles(b, "/usr/bin")
	if len(files) == 0 {
		b.Skip("no ELF files in /usr/bin")
	}
	var bytesRead int64
	for _, p := range files {
		if fi, err := os.Stat(p); err == nil {
			bytesRead += fi.Size()
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		for _, p := range files {
			if _, err := analyzeFile(p); err != nil {
				b.Fatalf("%s: %v", p, err)
			}
		}
	}
	b.ReportMetric(float64(len(files))*float64(b.N)/b.Elapsed().Seconds(), "files/s")
	b.ReportMetric(float64(len(files)), "files")
}
