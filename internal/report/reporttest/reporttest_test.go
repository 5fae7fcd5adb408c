package reporttest

import (
	"bytes"
	"testing"

	"github.com/kensa-dev/kensa/internal/report"
)

// The fixtures must be reports Kensa could write, or the renderers' tests
// prove little.
func TestFixturesAreValidReports(t *testing.T) {
	for _, fx := range Fixtures {
		t.Run(fx.Name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := report.WriteJSON(&buf, fx.Build()); err != nil {
				t.Fatal(err)
			}
			if err := report.Validate(buf.Bytes()); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// Large keeps its n findings apart: distinct ids, none merged.
func TestLarge(t *testing.T) {
	r := Large(1000)
	ids := map[string]bool{}
	for _, f := range r.Findings {
		ids[f.ID] = true
	}
	if len(ids) != 1000 || r.Summary.Findings != 1000 || len(r.Inventory.Components) != 1000 {
		t.Errorf("Large(1000): %d distinct ids, summary %d, %d components", len(ids), r.Summary.Findings, len(r.Inventory.Components))
	}
}
