package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/kensa-dev/kensa/internal/host"
	"github.com/kensa-dev/kensa/internal/report"
	"github.com/kensa-dev/kensa/internal/testfixture"
)

func run(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = Main(context.Background(), args, strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

func TestHelpAndVersion(t *testing.T) {
	code, out, _ := run(t, "--help")
	if code != 0 || !strings.Contains(out, "Exit codes:") || !strings.Contains(out, "scan") || !strings.Contains(out, "inventory") {
		t.Fatalf("--help: code %d\n%s", code, out)
	}
	for _, cmd := range []string{"scan", "inventory", "version", "completion"} {
		if code, out, _ := run(t, cmd, "--help"); code != 0 || !strings.Contains(out, "Usage:") {
			t.Errorf("%s --help: code %d\n%s", cmd, code, out)
		}
	}
	code, out, _ = run(t, "version")
	if code != 0 || !strings.Contains(out, "kensa ") || !strings.Contains(out, "go: go1.") || !strings.Contains(out, "commit: ") {
		t.Fatalf("version: %d %q", code, out)
	}
	code, out, _ = run(t, "completion", "bash")
	if code != 0 || !strings.Contains(out, "bash completion") {
		t.Fatalf("completion bash: %d", code)
	}
}

func TestUsageErrorsExit2(t *testing.T) {
	for _, args := range [][]string{
		{"no-such-command"},
		{"scan", "--no-such-flag"},
		{"scan", "--format", "xml"},
		{"scan", "--fail-on", "catastrophic"},
		{"scan", "--packages", "cve,nonsense"},
		{"scan", "extra-arg"},
		{"--quiet", "--verbose", "version"},
		{"--log-format", "yaml", "version"},
		{"inventory", "--max-file-size", "-3"},
		{"inventory", "--root", ""},
		{"version", "extra"},
	} {
		code, _, stderr := run(t, args...)
		if code != ExitUsage {
			t.Errorf("%v: exit %d, want %d (stderr %q)", args, code, ExitUsage, stderr)
		}
		if !strings.Contains(stderr, "kensa:") {
			t.Errorf("%v: no error message on stderr: %q", args, stderr)
		}
	}
}

func TestScanMissingRootIsAnError(t *testing.T) {
	code, _, stderr := run(t, "scan", "--root", filepath.Join(t.TempDir(), "missing"))
	if code != ExitUsage || !strings.Contains(stderr, "missing: no such file or directory") || !strings.Contains(stderr, "kensa scan --help") {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
}

func TestScanFixtureJSONValidatesAndIsIncomplete(t *testing.T) {
	root := testfixture.Shared(t, "fixtures", "pkgdb", "dpkg", "debian-12-this-host")
	out := filepath.Join(t.TempDir(), "report.json")
	// No vulnerability database (whatever this machine's default holds).
	noDB := filepath.Join(t.TempDir(), "none.sqlite")
	code, _, stderr := run(t, "scan", "--root", root, "--db", noDB, "--format", "json", "--output", out, "--fail-on-incomplete")
	if code != ExitIncomplete {
		t.Fatalf("exit %d, want %d (stderr %q)", code, ExitIncomplete, stderr)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if err := report.Validate(b); err != nil {
		t.Fatalf("report does not validate: %v", err)
	}
	r, err := report.ReadJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if r.Host.OS.ID != "debian" || r.Host.OS.Release != "12" || r.Host.Live || r.Host.Kernel != "" {
		t.Errorf("host = %+v", r.Host)
	}
	// Without a vulnerability database nothing but the CVE package's
	// lifecycle rules (end of life, reboot) is evaluated; the report must
	// say so for every package and name the OS ecosystem it found, and the
	// runtime package must give the image as its reason.
	scopes := map[string]report.Coverage{}
	for _, c := range r.Coverage {
		scopes[c.Package+"/"+c.Scope] = c
		if c.Status == report.Evaluated && c.Package+"/"+c.Scope != "cve/lifecycle" {
			t.Errorf("%s/%s claims evaluated", c.Package, c.Scope)
		}
	}
	for _, k := range []string{"cve/*", "cve/Debian:12", "cis/*", "best-practices/*", "runtime/*"} {
		if _, ok := scopes[k]; !ok {
			t.Errorf("coverage lacks %s", k)
		}
	}
	if c := scopes["runtime/*"]; !strings.Contains(c.Reason, "image") {
		t.Errorf("runtime reason = %q", c.Reason)
	}
	// No vulnerability database: no CVE finding. The configuration rules
	// do find what this root lacks (AppArmor, sudo, password quality).
	for _, f := range r.Findings {
		if f.RulesPackage == "cve" {
			t.Errorf("a CVE finding without a database: %+v", f)
		}
	}
	if r.Summary.Complete {
		t.Errorf("summary = %+v", r.Summary)
	}
	// Without --fail-on-incomplete the same scan succeeds.
	if code, _, _ := run(t, "scan", "--root", root, "--format", "json", "--output", out); code != ExitOK {
		t.Errorf("exit %d without --fail-on-incomplete", code)
	}
}

func TestScanTableSaysIncomplete(t *testing.T) {
	root := testfixture.Shared(t, "fixtures", "pkgdb", "apk", "alpine-3.14-minirootfs")
	code, out, _ := run(t, "scan", "--root", root, "--packages", "cve", "--color", "always")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	if !strings.Contains(out, "incomplete") || !strings.Contains(out, "Alpine:v3.14") || !strings.Contains(out, "\x1b[") {
		t.Fatalf("table output:\n%s", out)
	}
}

func TestInventoryFixture(t *testing.T) {
	root := testfixture.Shared(t, "fixtures", "pkgdb", "dpkg", "ubuntu-20.04-base")
	code, out, stderr := run(t, "inventory", "--root", root)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var inv host.Inventory
	dec := json.NewDecoder(strings.NewReader(out))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&inv); err != nil {
		t.Fatal(err)
	}
	if inv.SchemaVersion != host.SchemaVersion || inv.OS.Ecosystem() != "Ubuntu:20.04:LTS" || len(inv.Packages) != 326 {
		t.Fatalf("inventory: schema %s, ecosystem %s, %d packages", inv.SchemaVersion, inv.OS.Ecosystem(), len(inv.Packages))
	}
	if p := inv.Packages[0]; p.Ecosystem != "Ubuntu:20.04:LTS" || !strings.HasPrefix(p.PURL, "pkg:deb/ubuntu/") {
		t.Errorf("first package %+v", p)
	}
}

func TestOutputFileIsReplacedAtomically(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "report.json")
	os.WriteFile(out, []byte("previous report"), 0o640)
	a := &app{stdout: io.Discard, stderr: io.Discard}
	// A writer that fails halfway must leave the previous file as it was,
	// and no temporary file behind.
	err := a.writeOutput(out, func(w io.Writer) error {
		w.Write([]byte("half a rep"))
		return errors.New("disk on fire")
	})
	if err == nil {
		t.Fatal("the writer's error was lost")
	}
	if b, _ := os.ReadFile(out); string(b) != "previous report" {
		t.Fatalf("previous output clobbered: %q", b)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Fatalf("temporary files left behind: %v", entries)
	}
	// A successful write replaces it and keeps its mode.
	if err := a.writeOutput(out, func(w io.Writer) error { _, err := w.Write([]byte("new")); return err }); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(out); string(b) != "new" {
		t.Fatalf("content %q", b)
	}
	if fi, _ := os.Stat(out); fi.Mode().Perm() != 0o640 {
		t.Fatalf("mode %v, want the old 0640", fi.Mode().Perm())
	}
}

func TestOutputRespectsUmaskAndStdStreams(t *testing.T) {
	old := syscall.Umask(0o077)
	defer syscall.Umask(old)
	var stdout, stderr bytes.Buffer
	a := &app{stdout: &stdout, stderr: &stderr}
	out := filepath.Join(t.TempDir(), "inv.json")
	a.writeOutput(out, func(w io.Writer) error { _, err := w.Write([]byte("{}")); return err })
	if fi, err := os.Stat(out); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("new file under umask 077: %v %v", fi.Mode().Perm(), err)
	}
	for path, buf := range map[string]*bytes.Buffer{"/dev/stdout": &stdout, "/dev/stderr": &stderr} {
		a.writeOutput(path, func(w io.Writer) error { _, err := w.Write([]byte(path)); return err })
		if buf.String() != path {
			t.Errorf("%s went to %q", path, buf.String())
		}
	}
}

func TestOutputRefusesOthersLinksAsRoot(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: the rule protects root from other users' links")
	}
	dir := t.TempDir()
	victim := filepath.Join(dir, "shadow")
	os.WriteFile(victim, []byte("secret"), 0o600)
	link := filepath.Join(dir, "report.json")
	os.Symlink(victim, link)
	if err := os.Lchown(link, 4242, 4242); err != nil {
		t.Fatal(err)
	}
	a := &app{stdout: io.Discard, stderr: io.Discard}
	err := a.writeOutput(link, func(w io.Writer) error { _, err := w.Write([]byte("report")); return err })
	if err == nil || !strings.Contains(err.Error(), "owned by uid 4242") {
		t.Fatalf("err = %v", err)
	}
	if b, _ := os.ReadFile(victim); string(b) != "secret" {
		t.Fatalf("the link's target was replaced: %q", b)
	}
}

func TestOutputKeepsDevicesLinksAndModes(t *testing.T) {
	dir := t.TempDir()
	// /dev/null stays a device.
	root := testfixture.Shared(t, "fixtures", "pkgdb", "apk", "alpine-3.14-minirootfs")
	if code, _, stderr := run(t, "inventory", "--root", root, "--output", "/dev/null"); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if fi, err := os.Stat("/dev/null"); err != nil || fi.Mode()&os.ModeDevice == 0 {
		t.Fatalf("/dev/null is no longer a device: %v %v", fi.Mode(), err)
	}
	// A link is followed: the file it points to is replaced, the link stays.
	real := filepath.Join(dir, "real.json")
	os.WriteFile(real, []byte("old"), 0o600)
	link := filepath.Join(dir, "link.json")
	os.Symlink(real, link)
	if code, _, stderr := run(t, "inventory", "--root", root, "--output", link); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("link replaced: %v", err)
	}
	fi, err := os.Stat(real)
	if err != nil || fi.Mode().Perm() != 0o600 || fi.Size() < 100 {
		t.Fatalf("target: mode %v size %d err %v; want the old mode 0600 and the new content", fi.Mode().Perm(), fi.Size(), err)
	}
	// A new file is created 0644.
	fresh := filepath.Join(dir, "new.json")
	run(t, "inventory", "--root", root, "--output", fresh)
	if fi, err := os.Stat(fresh); err != nil || fi.Mode().Perm() != 0o644 {
		t.Fatalf("new file: %v %v", fi, err)
	}
	// A directory is refused.
	if code, _, _ := run(t, "inventory", "--root", root, "--output", dir); code != ExitError {
		t.Fatalf("writing over a directory: exit %d", code)
	}
}

// TestMain points the default vulnerability database at a file that does
// not exist, so no test depends on what this machine's cache holds; tests
// that want a database pass --db.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "kensa-cli-test-")
	if err != nil {
		panic(err)
	}
	os.Setenv("KENSA_DB", filepath.Join(dir, "none.sqlite"))
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}
