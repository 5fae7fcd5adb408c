// Package testfixture locates the shared, read-only fixtures (real package
// databases, configuration files, vulnerability feeds) that live beside the
// repository in the Kensa workplace. A clone elsewhere has none: tests that
// need them skip with a message saying so.
package testfixture

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// Shared returns the absolute path of shared/ joined with elem, or skips
// the test when it is not there.
func Shared(t testing.TB, elem ...string) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	// internal/testfixture/testfixture.go -> repository root -> ../shared
	repo := filepath.Dir(filepath.Dir(filepath.Dir(file)))
	dir := filepath.Join(append([]string{filepath.Dir(repo), "shared"}, elem...)...)
	if v := os.Getenv("KENSA_SHARED"); v != "" {
		dir = filepath.Join(append([]string{v}, elem...)...)
	}
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("shared fixtures not found at %s (they exist only in the Kensa workplace; set KENSA_SHARED to point elsewhere): %v", dir, err)
	}
	return dir
}
