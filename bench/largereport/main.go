// Command largereport writes a valid Kensa JSON report with N findings
// and N inventory components (reporttest.Large), the input of
// bench/render-formats.sh.
//
//	go run ./bench/largereport -n 50000 > big.json
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"

	"github.com/kensa-dev/kensa/internal/report"
	"github.com/kensa-dev/kensa/internal/report/reporttest"
)

func main() {
	n := flag.Int("n", 50_000, "findings (and components) in the report")
	flag.Parse()
	w := bufio.NewWriter(os.Stdout)
	if err := report.WriteJSON(w, reporttest.Large(*n)); err != nil {
		fmt.Fprintln(os.Stderr, "largereport:", err)
		os.Exit(1)
	}
	if err := w.Flush(); err != nil {
		fmt.Fprintln(os.Stderr, "largereport:", err)
		os.Exit(1)
	}
}
