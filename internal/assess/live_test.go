package assess

import (
	"context"
	"debug/buildinfo"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/kensa-dev/kensa/internal/collect"
	"github.com/kensa-dev/kensa/internal/collect/aptchangelog"
	"github.com/kensa-dev/kensa/internal/host"
)

// TestLiveHostFindsGoBinariesOnPATH is the acceptance check: every
// Go binary on PATH, as the standard library's debug/buildinfo reads it, is
// in the inventory with its main module, its dependencies and its Go
// version. (On a default install every PATH directory is among the
// discovery roots; a binary outside them would fail this test.)
func TestLiveHostFindsGoBinariesOnPATH(t *testing.T) {
	if testing.Short() {
		t.Skip("walks the live host")
	}
	type bin struct {
		path string
		bi   *buildinfo.BuildInfo
	}
	var bins []bin
	seen := map[string]bool{}
	for _, dir := range filepath.SplitList(os.Getenv("PATH")) {
		entries, err := os.ReadDir(dir)
		if err != nil {
			continue
		}
		for _, e := range entries {
			p := filepath.Join(dir, e.Name())
			real, err := filepath.EvalSymlinks(p)
			if err != nil || seen[real] {
				continue
			}
			seen[real] = true
			fi, err := os.Stat(real)
			if err != nil || !fi.Mode().IsRegular() || fi.Mode()&0o111 == 0 {
				continue
			}
			if bi, err := buildinfo.ReadFile(real); err == nil {
				bins = append(bins, bin{real, bi})
			}
		}
	}
	if len(bins) == 0 {
		t.Skip("no Go binary on PATH")
	}
	inv, err := Inventory(context.Background(), Options{Root: "/", Discovery: collect.DefaultDiscovery(), Updates: aptchangelog.Options{NoDownload: true}})
	if err != nil {
		t.Fatal(err)
	}
	byLoc := map[string][]host.Software{}
	for _, s := range inv.Software {
		if s.Ecosystem == "Go" {
			byLoc[s.Location] = append(byLoc[s.Location], s)
		}
	}
	for _, b := range bins {
		got := byLoc[b.path]
		if len(got) == 0 {
			t.Errorf("%s (%s, %s) not in the inventory", b.path, b.bi.Path, b.bi.GoVersion)
			continue
		}
		mods := map[string]string{}
		for _, s := range got {
			if s.GoVersion != b.bi.GoVersion {
				t.Errorf("%s: go version %q, want %q", b.path, s.GoVersion, b.bi.GoVersion)
			}
			mods[s.Name] = s.Version
		}
		// cmd/go and GOPATH-mode builds have no main module but a package
		// path; `go build file.go` has neither ("command-line-arguments").
		main := b.bi.Main.Path
		if main == "" && b.bi.Path != "command-line-arguments" {
			main = b.bi.Path
		}
		// The toolchain's commands are the "toolchain" pseudo-module of
		// the Go vulnerability database.
		if main == "cmd" || strings.HasPrefix(main, "cmd/") {
			main = "toolchain"
		}
		if _, ok := mods[main]; main != "" && !ok {
			t.Errorf("%s: main module %q missing; have %v", b.path, main, mods)
		}
		for _, d := range b.bi.Deps {
			m := d
			if d.Replace != nil {
				m = d.Replace
				if strings.HasPrefix(m.Path, ".") || strings.HasPrefix(m.Path, "/") {
					// A local directory: the module keeps its own path.
					m = &debug.Module{Path: d.Path, Version: "(devel)"}
				}
			}
			if mods[m.Path] != m.Version {
				t.Errorf("%s: dependency %s@%s reported as %q", b.path, m.Path, m.Version, mods[m.Path])
			}
		}
		if !strings.HasPrefix(mods["stdlib"], "v1.") && !strings.Contains(b.bi.GoVersion, "devel") {
			t.Errorf("%s: stdlib version %q for %s", b.path, mods["stdlib"], b.bi.GoVersion)
		}
	}
	t.Logf("%d Go binaries on PATH checked", len(bins))
}
