package golang_test

import (
	"bytes"
	"context"
	"debug/buildinfo"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kensa-dev/kensa/internal/collect"
	"github.com/kensa-dev/kensa/internal/collect/discover"
	"github.com/kensa-dev/kensa/internal/collect/lang/golang"
	"github.com/kensa-dev/kensa/internal/host"
	"github.com/kensa-dev/kensa/internal/hostfs"
)

// packages is a collector standing for the OS package collectors that run
// before the language ones.
type packages []host.Package

func (packages) Name() string { return "pkg/fake" }
func (p packages) Collect(_ context.Context, _ *collect.Env, inv *host.Inventory) error {
	inv.Packages = append(inv.Packages, p...)
	return nil
}

func copyFile(t *testing.T, src, dst string, n int64, mode os.FileMode) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if n >= 0 && n < int64(len(b)) {
		b = b[:n]
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, mode); err != nil {
		t.Fatal(err)
	}
}

func run(t *testing.T, root string, cfg collect.DiscoveryConfig, pkgs packages) *host.Inventory {
	t.Helper()
	fsys, err := hostfs.Open(root)
	if err != nil {
		t.Fatal(err)
	}
	w := discover.New(cfg)
	return collect.Run(context.Background(), &collect.Env{FS: fsys}, []collect.Collector{pkgs, golang.New(w)}, nil)
}

// TestTestBinary reads the running test binary, a Go binary whose build
// information the runtime reports too.
func TestTestBinary(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		t.Skip("no build information in the test binary")
	}
	root := t.TempDir()
	copyFile(t, self, filepath.Join(root, "usr/local/bin/selftest"), -1, 0o755)
	// Traps: not Go, damaged Go, not executable, a script.
	copyFile(t, self, filepath.Join(root, "usr/local/bin/truncated"), 200<<10, 0o755)
	copyFile(t, self, filepath.Join(root, "usr/local/lib/noexec"), -1, 0o644)
	must(t, os.WriteFile(filepath.Join(root, "usr/local/bin/garbage"), []byte("\x7fELF\x02\x01\x01"+strings.Repeat("\xff", 200)), 0o755))
	must(t, os.WriteFile(filepath.Join(root, "usr/local/bin/script"), []byte("#!/bin/sh\necho hi\n"+strings.Repeat("#", 100)), 0o755))

	inv := run(t, root, collect.DiscoveryConfig{}, packages{{Manager: "dpkg", Name: "selftest", Files: []string{"/usr/local/bin/selftest"}}})
	if r := inv.Collectors[1]; r.Status != host.StatusOK {
		t.Errorf("collector: %+v", r)
	}

	const loc = "/usr/local/bin/selftest"
	sw := func(kind, name, version, purl string) host.Software {
		return host.Software{Ecosystem: "Go", Name: name, Version: version, PURL: purl, Kind: kind,
			Location: loc, Collector: "lang/go", GoVersion: runtime.Version(), OwnedBy: "selftest"}
	}
	mainPURL := "pkg:golang/" + strings.ToLower(bi.Main.Path)
	if bi.Main.Version != "(devel)" {
		mainPURL += "@" + strings.ReplaceAll(bi.Main.Version, "+", "%2B")
	}
	want := []host.Software{sw("go-main", bi.Main.Path, bi.Main.Version, mainPURL)}
	for _, d := range bi.Deps {
		m := d
		if d.Replace != nil {
			m = d.Replace
		}
		want = append(want, sw("go-module", m.Path, m.Version, "pkg:golang/"+strings.ToLower(m.Path)+"@"+strings.ReplaceAll(m.Version, "+", "%2B")))
	}
	std := "v" + strings.TrimPrefix(strings.Fields(runtime.Version())[0], "go")
	want = append(want, sw("go-stdlib", "stdlib", std, "pkg:golang/stdlib@"+std))
	sortSoftware(want)
	got := slices.Clone(inv.Software)
	sortSoftware(got)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("software (-want +got):\n%s", diff)
	}
}

// TestBuiltProgram builds a program with a known dependency, since test
// binaries carry no dependency information.
func TestBuiltProgram(t *testing.T) {
	gotool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command")
	}
	root := t.TempDir()
	bin := filepath.Join(root, "opt/prog/bin/prog")
	cmd := exec.Command(gotool, "build", "-mod=readonly", "-buildvcs=false", "-trimpath", "-o", bin, "./testdata/prog")
	cmd.Env = append(os.Environ(), "GOFLAGS=", "GOPROXY=off", "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Skipf("cannot build the test program (offline?): %v\n%s", err, out)
	}
	bi, err := buildinfo.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	inv := run(t, root, collect.DiscoveryConfig{}, nil)
	var got []string
	for _, s := range inv.Software {
		got = append(got, s.Kind+" "+s.Name+" "+s.Version+" "+s.PURL+" "+s.Location+" "+s.GoVersion)
	}
	sort.Strings(got)
	std := golang.StdlibVersion(bi.GoVersion)
	suffix := " /opt/prog/bin/prog " + bi.GoVersion
	want := []string{
		// "(devel)" names no release: the purl has no version.
		"go-main github.com/kensa-dev/kensa (devel) pkg:golang/github.com/kensa-dev/kensa" + suffix,
		"go-module github.com/google/go-cmp v0.7.0 pkg:golang/github.com/google/go-cmp@v0.7.0" + suffix,
		"go-stdlib stdlib " + std + " pkg:golang/stdlib@" + std + suffix,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if !strings.HasPrefix(std, "v1.") {
		t.Errorf("stdlib version %q", std)
	}
}

// TestMaxFileSizeDoesNotApplyToBinaries: build info is read in bounded
// reads, so a Go binary bigger than MaxFileSize (a 700 MB Terraform
// provider is ordinary) is still inventoried.
func TestMaxFileSizeDoesNotApplyToBinaries(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	copyFile(t, self, filepath.Join(root, "opt/app/bin/app"), -1, 0o755)
	inv := run(t, root, collect.DiscoveryConfig{MaxFileSize: 1 << 20}, nil)
	if len(inv.Software) == 0 {
		t.Errorf("a Go binary above MaxFileSize was not read")
	}
	if len(inv.Discovery.LimitsHit) != 0 {
		t.Errorf("limits: %v", inv.Discovery.LimitsHit)
	}
}

func TestRead(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	copyFile(t, self, filepath.Join(root, "self"), -1, 0o755)
	// Drop the section table, as sstrip does: build information is still
	// found by debug/buildinfo searching the data segment.
	b, err := os.ReadFile(self)
	if err != nil {
		t.Fatal(err)
	}
	if b[4] != 2 {
		t.Skip("not an ELF64 binary")
	}
	for _, i := range []int{0x28, 0x29, 0x2a, 0x2b, 0x2c, 0x2d, 0x2e, 0x2f, 0x3c, 0x3d, 0x3e, 0x3f} { // e_shoff, e_shnum, e_shstrndx
		b[i] = 0
	}
	must(t, os.WriteFile(filepath.Join(root, "noshdr"), b, 0o755))
	fsys, err := hostfs.Open(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"self", "noshdr"} {
		bi, err := golang.Read(fsys, name, 1<<30)
		if err != nil || bi == nil || bi.GoVersion != runtime.Version() {
			t.Errorf("%s: %v, %v", name, bi, err)
		}
	}
	if bi, err := golang.Read(fsys, "missing", 1<<30); bi != nil || err != nil {
		t.Errorf("missing file: %v, %v", bi, err)
	}
}

func TestStdlibVersion(t *testing.T) {
	for in, want := range map[string]string{
		"go1.22.3":                        "v1.22.3",
		"go1.22":                          "v1.22.0",
		"go1.21rc2":                       "v1.21.0-rc.2",
		"go1.20beta1":                     "v1.20.0-beta.1",
		"go1.9.2rc2":                      "v1.9.2-rc.2",
		"go1.23.1 X:nocoverageredesign":   "v1.23.1",
		"go1.22.7 (Red Hat 1.22.7-2.el9)": "v1.22.7",
		"go1.22.3-fips":                   "v1.22.3+fips",
		"go1.25-20250209-RC00 cl/724970549 +ff27d270c9 X:fieldtrack,boringcrypto": "v1.25.0+20250209-RC00",
		"go1.08.01":               "v1.8.1",
		"devel go1.23-abc123 Mon": "",
		"go":                      "",
		"":                        "",
		"gox":                     "",
	} {
		if got := golang.StdlibVersion(in); got != want {
			t.Errorf("StdlibVersion(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSoftware(t *testing.T) {
	bi := &debug.BuildInfo{
		GoVersion: "go1.22.3",
		Path:      "cmd/go",
		Deps: []*debug.Module{
			{Path: "golang.org/x/mod", Version: "v0.14.0"},
			{Path: "example.com/old", Version: "v1.0.0", Replace: &debug.Module{Path: "example.com/fork", Version: "v1.0.1"}},
			{Path: "example.com/local", Version: "v0.0.0", Replace: &debug.Module{Path: "../local"}},
			nil,
		},
	}
	var got []string
	for _, s := range golang.Software(bi, "/x", "") {
		got = append(got, s.Kind+" "+s.Name+" "+s.Version+" "+s.PURL)
	}
	// A toolchain command is the "toolchain" pseudo-module of the Go
	// vulnerability database, its package path the purl subpath.
	want := []string{
		"go-main toolchain v1.22.3 pkg:golang/toolchain@v1.22.3#cmd/go",
		"go-module golang.org/x/mod v0.14.0 pkg:golang/golang.org/x/mod@v0.14.0",
		"go-module example.com/fork v1.0.1 pkg:golang/example.com/fork@v1.0.1",
		// Replaced by a local directory: named by its module path, no version.
		"go-module example.com/local (devel) pkg:golang/example.com/local",
		"go-stdlib stdlib v1.22.3 pkg:golang/stdlib@v1.22.3",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	// A program built from files (go build x.go) has no main module.
	bi = &debug.BuildInfo{GoVersion: "go1.22.3", Path: "command-line-arguments"}
	if s := golang.Software(bi, "/x", ""); len(s) != 1 || s[0].Kind != "go-stdlib" {
		t.Errorf("command-line-arguments: %v", s)
	}
	for _, c := range []struct {
		bi   debug.BuildInfo
		want string
	}{
		// The toolchain built in module mode: main module "cmd".
		{debug.BuildInfo{GoVersion: "go1.23.1", Path: "cmd/compile", Main: debug.Module{Path: "cmd"}}, "toolchain v1.23.1 pkg:golang/toolchain@v1.23.1#cmd/compile"},
		// A development toolchain has no version.
		{debug.BuildInfo{GoVersion: "devel go1.24-abc", Path: "cmd/vet"}, "toolchain  pkg:golang/toolchain#cmd/vet"},
		// GOPATH mode: the main package, no version.
		{debug.BuildInfo{GoVersion: "go1.10", Path: "github.com/x/tool"}, "github.com/x/tool  pkg:golang/github.com/x/tool"},
		// A module whose path merely starts with "cmd" is no toolchain.
		{debug.BuildInfo{GoVersion: "go1.22.3", Path: "cmdline/x", Main: debug.Module{Path: "cmdline", Version: "(devel)"}}, "cmdline (devel) pkg:golang/cmdline"},
	} {
		s := golang.Software(&c.bi, "/x", "")
		if got := s[0].Name + " " + s[0].Version + " " + s[0].PURL; s[0].Kind != "go-main" || got != c.want {
			t.Errorf("%+v: %s %q, want %q", c.bi, s[0].Kind, got, c.want)
		}
	}
}

// TestLiveToolchain finds the Go toolchain of this machine, when it has
// one, as cmd/go built with the Go version its build information states.
func TestLiveToolchain(t *testing.T) {
	const gobin = "/usr/local/go/bin/go"
	if runtime.GOOS != "linux" {
		t.Skip("live discovery is for Linux")
	}
	bi, err := buildinfo.ReadFile(gobin)
	if err != nil {
		t.Skipf("no Go toolchain: %v", err)
	}
	inv := run(t, "/", collect.DiscoveryConfig{}, nil)
	var main, std *host.Software
	for i, s := range inv.Software {
		if s.Location != gobin {
			continue
		}
		switch s.Kind {
		case "go-main":
			main = &inv.Software[i]
		case "go-stdlib":
			std = &inv.Software[i]
		}
	}
	if main == nil || main.Name != "toolchain" || !strings.HasSuffix(main.PURL, "#cmd/go") {
		t.Errorf("main module of %s: %+v", gobin, main)
	}
	if std == nil || std.GoVersion != bi.GoVersion || std.Version != golang.StdlibVersion(bi.GoVersion) {
		t.Errorf("stdlib of %s: %+v, build info says %s", gobin, std, bi.GoVersion)
	}
}

func sortSoftware(s []host.Software) {
	sort.Slice(s, func(i, j int) bool {
		if s[i].Kind != s[j].Kind {
			return s[i].Kind < s[j].Kind
		}
		return s[i].Name < s[j].Name
	})
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// FuzzReadAt reads arbitrary bytes as a binary: ELF headers and section
// tables are parsed by hand before debug/buildinfo, and must survive
// garbage.
func FuzzReadAt(f *testing.F) {
	if self, err := os.Executable(); err == nil {
		if b, err := os.ReadFile(self); err == nil && len(b) > 4096 {
			f.Add(b[:4096])
		}
	}
	f.Add([]byte("\x7fELF\x02\x01\x01"))
	f.Fuzz(func(t *testing.T, b []byte) {
		golang.ReadAt(bytes.NewReader(b))
	})
}
