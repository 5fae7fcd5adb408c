package reporttest

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kensa-dev/kensa/internal/report"
)

// The -update flag of every renderer's tests (go test ./internal/report/...
// -update rewrites the golden files) is registered here unless the test
// binary has one already (package report's own tests do).
func init() {
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite the golden files in testdata/")
	}
}

func updating() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// Golden compares got with the golden file testdata/name, or rewrites the
// file when the tests run with -update. Review the diff of a rewritten
// file before committing it: it is what the renderer's users will get.
func Golden(t testing.TB, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if updating() {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s differs (-want +got); run go test -update if the change is intended:\n%s", path, diff)
	}
}

// Deterministic checks what every renderer promises: rendering leaves
// the report as it was, two renderings are the same bytes, and the order
// of the report's lists does not matter (renderers sort them). build
// makes a fresh copy of the report each time.
func Deterministic(t *testing.T, build func() *report.Report, render func(*report.Report) []byte) {
	t.Helper()
	r := build()
	before, _ := json.Marshal(r)
	want := render(r)
	after, _ := json.Marshal(r)
	if !bytes.Equal(before, after) {
		t.Error("rendering modified the report")
	}
	if again := render(r); !bytes.Equal(want, again) {
		t.Error("two renderings of one report differ")
	}
	s := build()
	slices.Reverse(s.Findings)
	slices.Reverse(s.Results)
	slices.Reverse(s.Coverage)
	slices.Reverse(s.Feeds)
	slices.Reverse(s.Suppressed)
	if s.Inventory != nil {
		slices.Reverse(s.Inventory.Components)
	}
	if diff := cmp.Diff(string(want), string(render(s))); diff != "" {
		t.Errorf("reordering the report's lists changed the output:\n%s", diff)
	}
}
