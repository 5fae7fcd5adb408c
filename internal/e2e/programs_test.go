package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/kensa-dev/kensa/internal/elfsec"
)

// Compiler flags of the planted programs. weakFlags are the issue's
// "-z execstack -fno-stack-protector" and nothing else, so the weak build
// differs from the hardened one only where the rules look.
var (
	weakFlags     = []string{"-z", "execstack", "-fno-stack-protector"}
	hardenedFlags = []string{"-fstack-protector-strong", "-z", "noexecstack", "-D_FORTIFY_SOURCE=2", "-O2", "-pie", "-fPIE", "-Wl,-z,relro,-z,now"}
	libraryFlags  = []string{"-shared", "-fPIC", "-fstack-protector-strong", "-z", "noexecstack", "-D_FORTIFY_SOURCE=2", "-O2", "-Wl,-z,relro,-z,now"}
)

// programs are the C programs of the scenario, built into one directory
// tree whose every directory a non-root user can traverse, so that the
// world-writable directory really is writable by anyone (a 0777 directory
// below a 0700 one is not).
type programs struct {
	base     string // the tree's root, mode 0755
	weak     string // bin/weak: sleeper.c with weakFlags
	hardened string // bin/hardened: sleeper.c with hardenedFlags
	loader   string // bin/loader: loader.c, hardened
	wwDir    string // ww: mode 0777, not sticky
	wwLib    string // ww/libplant.so
	safeDir  string // safe: root's, mode 0755
	safeLib  string // safe/libplant.so, the same file as wwLib
}

// buildPrograms compiles testdata/*.c with gcc into a fresh directory
// (removed when the test ends). Without gcc the test skips, except in CI
// (CI=true), where scripts/test.sh installs it and a skip would hide that
// the runtime rules went untested.
func buildPrograms(t *testing.T) *programs {
	t.Helper()
	gcc, err := exec.LookPath("gcc")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("gcc is not installed; scripts/test.sh installs it (gcc, libc6-dev)")
		}
		t.Skip("gcc is not installed: the planted C programs need it (apt-get install gcc libc6-dev)")
	}
	// Not t.TempDir: its parent is created 0700.
	base, err := os.MkdirTemp("", "kensa-e2e-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	p := &programs{
		base:     base,
		weak:     filepath.Join(base, "bin", "weak"),
		hardened: filepath.Join(base, "bin", "hardened"),
		loader:   filepath.Join(base, "bin", "loader"),
		wwDir:    filepath.Join(base, "ww"),
		safeDir:  filepath.Join(base, "safe"),
	}
	p.wwLib = filepath.Join(p.wwDir, "libplant.so")
	p.safeLib = filepath.Join(p.safeDir, "libplant.so")
	for _, d := range []string{base, filepath.Dir(p.weak), p.wwDir, p.safeDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		// Explicit modes: the umask must not decide the test's meaning.
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	src, err := filepath.Abs("testdata")
	if err != nil {
		t.Fatal(err)
	}
	cc := func(out, source string, flags []string) {
		t.Helper()
		args := append(append([]string{"-o", out}, flags...), filepath.Join(src, source))
		if b, err := exec.Command(gcc, args...).CombinedOutput(); err != nil {
			t.Fatalf("gcc %v: %v\n%s", args, err, b)
		}
	}
	cc(p.weak, "sleeper.c", weakFlags)
	cc(p.hardened, "sleeper.c", hardenedFlags)
	cc(p.loader, "loader.c", hardenedFlags)
	cc(p.safeLib, "plant.c", libraryFlags)
	b, err := os.ReadFile(p.safeLib)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p.wwLib, b, 0o755); err != nil {
		t.Fatal(err)
	}
	// 0777 and not sticky: any user can replace libplant.so. Set last, so
	// nothing else is ever written into a world-writable directory.
	if err := os.Chmod(p.wwDir, 0o777); err != nil {
		t.Fatal(err)
	}
	return p
}

func analyze(t *testing.T, path string) *elfsec.Result {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	r, err := elfsec.Analyze(f, st.Size())
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return r
}

// TestProgramsHardening proves that the planted programs differ as the
// runtime scenario needs: the weak build has an executable stack and no
// canary, everything else (the hardened build, the loader and the library
// it loads) has both, so a runtime finding on any of them would be wrong.
// It is the premise of TestRuntimeRules, checked on its own so that a
// compiler that silently ignores a flag is named as the cause.
func TestProgramsHardening(t *testing.T) {
	p := buildPrograms(t)

	weak := analyze(t, p.weak)
	if weak.NX.Status != elfsec.Fail || weak.StackProtector.Status != elfsec.Fail {
		t.Errorf("weak %s: NX %+v, stack protector %+v; want both fail", p.weak, weak.NX, weak.StackProtector)
	}
	if weak.Toolchain.Language != elfsec.LangUnknown || weak.Toolchain.Static {
		t.Errorf("weak %s: toolchain %+v; want a dynamically linked C program", p.weak, weak.Toolchain)
	}

	for _, path := range []string{p.hardened, p.loader, p.wwLib, p.safeLib} {
		r := analyze(t, path)
		if r.NX.Status != elfsec.Pass || r.StackProtector.Status != elfsec.Pass || r.RELRO.Level != elfsec.RELROFull || r.Fortify.Status != elfsec.Pass {
			t.Errorf("%s: NX %+v, stack protector %+v, RELRO %+v, fortify %+v; want pass, pass, full, pass",
				path, r.NX, r.StackProtector, r.RELRO, r.Fortify)
		}
		wantKind := elfsec.Executable
		if filepath.Ext(path) == ".so" {
			wantKind = elfsec.SharedObject
		} else if r.PIE.Status != elfsec.Pass {
			t.Errorf("%s: PIE %+v; want pass", path, r.PIE)
		}
		if r.Kind != wantKind {
			t.Errorf("%s: kind %s, want %s", path, r.Kind, wantKind)
		}
	}

	// The directory modes are the premise of root-process-insecure-permissions.
	for dir, want := range map[string]os.FileMode{p.base: 0o755, filepath.Dir(p.weak): 0o755, p.safeDir: 0o755, p.wwDir: 0o777} {
		st, err := os.Stat(dir)
		if err != nil {
			t.Fatal(err)
		}
		if got := st.Mode() & (os.ModePerm | os.ModeSticky); got != want {
			t.Errorf("%s: mode %v, want %v", dir, got, want)
		}
	}
}
