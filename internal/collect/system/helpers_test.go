package system_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kensa-dev/kensa/internal/host"
)

// write creates root/rel with content and mode, making its parents.
func write(t *testing.T, root, rel, content string, mode os.FileMode) {
	t.Helper()
	p := filepath.Join(root, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil {
		t.Fatal(err)
	}
}

// symlink makes root/rel a link to target, making its parents.
func symlink(t *testing.T, root, rel, target string) {
	t.Helper()
	p := filepath.Join(root, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, p); err != nil {
		t.Fatal(err)
	}
}

// mkdir makes root/rel with mode.
func mkdir(t *testing.T, root, rel string, mode os.FileMode) {
	t.Helper()
	p := filepath.Join(root, filepath.FromSlash(rel))
	if err := os.MkdirAll(p, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil {
		t.Fatal(err)
	}
}

// run returns the run record of the named collector.
func run(t *testing.T, inv *host.Inventory, name string) host.CollectorRun {
	t.Helper()
	for _, r := range inv.Collectors {
		if r.Name == name {
			return r
		}
	}
	t.Fatalf("collector %s did not run", name)
	return host.CollectorRun{}
}

// hasError reports whether one of the run's errors contains all parts.
func hasError(r host.CollectorRun, parts ...string) bool {
next:
	for _, e := range r.Errors {
		for _, p := range parts {
			if !strings.Contains(e, p) {
				continue next
			}
		}
		return true
	}
	return false
}
