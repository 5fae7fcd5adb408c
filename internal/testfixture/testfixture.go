// Package testfixture locates the shared, read-only fixtures (real package
// databases, configuration files, vulnerability feeds) that live beside the
// repository in the Kensa workplace. A clone elsewhere has none: tests that
// need them skip with a message saying so.
package testfixture

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/kensa-dev/kensa/internal/collect"
	"github.com/kensa-dev/kensa/internal/host"
	"github.com/kensa-dev/kensa/internal/hostfs"
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

// Collect runs collectors on the root directory as a scan does and returns
// the inventory. A collector that has not returned after a minute fails the
// test: on any input, however hostile, a hang is a bug.
func Collect(t testing.TB, root string, collectors ...collect.Collector) *host.Inventory {
	t.Helper()
	fsys, err := hostfs.Open(root)
	if err != nil {
		t.Fatal(err)
	}
	return CollectEnv(t, &collect.Env{FS: fsys}, collectors...)
}

// CollectEnv is Collect with a prepared Env (a clock, discovery limits).
func CollectEnv(t testing.TB, env *collect.Env, collectors ...collect.Collector) *host.Inventory {
	t.Helper()
	done := make(chan *host.Inventory, 1)
	go func() { done <- collect.Run(context.Background(), env, collectors, nil) }()
	select {
	case inv := <-done:
		return inv
	case <-time.After(time.Minute):
		t.Fatalf("collectors did not finish within a minute on %s", env.FS.Root())
		return nil
	}
}
