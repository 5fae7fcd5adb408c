package assess

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kensa-dev/kensa/internal/collect"
	"github.com/kensa-dev/kensa/internal/host"
	"github.com/kensa-dev/kensa/internal/report"
)

// hostileRoot builds an image that tries every trick the issue lists:
// symlink loops, links to files outside the root, a multi-GB sparse file
// where databases and binaries are expected, FIFOs, and garbage in every
// package database.
func hostileRoot(t *testing.T) (root, secret string) {
	t.Helper()
	base := t.TempDir()
	root = filepath.Join(base, "root")
	secret = filepath.Join(base, "outside-secret")
	if err := os.WriteFile(secret, []byte("ID=leaked\nPackage: leaked\nVersion: 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range []string{"etc", "var/lib/dpkg/info", "var/lib/rpm", "lib/apk/db", "usr/local/bin", "opt/app/lib", "opt/loop", "usr/lib/python3/dist-packages/evil.dist-info", "home/eve/bin"} {
		must(os.MkdirAll(filepath.Join(root, d), 0o755))
	}
	garbage := func(n int) []byte {
		b := make([]byte, n)
		rand.Read(b)
		return b
	}
	// Identity files that point outside the root.
	must(os.Symlink(secret, filepath.Join(root, "etc/os-release")))
	must(os.Symlink("../../"+filepath.Base(secret), filepath.Join(root, "etc/debian_version")))
	must(os.WriteFile(filepath.Join(root, "etc/passwd"), []byte("root:x:0:0::/root:/bin/sh\neve:x:1000:1000::/home/eve:/bin/sh\n"), 0o644))
	// dpkg: a real status whose package's .list file is a FIFO, and a
	// distroless status.d entry that links out of the root.
	must(os.WriteFile(filepath.Join(root, "var/lib/dpkg/status"), []byte("Package: inside\nStatus: install ok installed\nVersion: 1.0\nArchitecture: amd64\n"), 0o644))
	must(syscall.Mkfifo(filepath.Join(root, "var/lib/dpkg/info/inside.list"), 0o644))
	must(os.MkdirAll(filepath.Join(root, "var/lib/dpkg/status.d"), 0o755))
	must(os.Symlink(secret, filepath.Join(root, "var/lib/dpkg/status.d/outside")))
	// rpm: every backend is garbage, one of them a huge sparse file.
	must(os.WriteFile(filepath.Join(root, "var/lib/rpm/Packages"), garbage(64<<10), 0o644))
	must(os.WriteFile(filepath.Join(root, "var/lib/rpm/rpmdb.sqlite"), garbage(4096), 0o644))
	sparse, err := os.Create(filepath.Join(root, "var/lib/rpm/Packages.db"))
	must(err)
	must(sparse.Truncate(4 << 30))
	sparse.Close()
	// apk: binary garbage with an overlong line.
	must(os.WriteFile(filepath.Join(root, "lib/apk/db/installed"), append(garbage(1<<20), bytes.Repeat([]byte{'x'}, 3<<20)...), 0o644))
	// Discovery: link loops, a FIFO named like a jar, a sparse "binary"
	// and a garbage jar, a home bin dir that links out of the root.
	must(os.Symlink("b", filepath.Join(root, "opt/loop/a")))
	must(os.Symlink("a", filepath.Join(root, "opt/loop/b")))
	must(os.Symlink(".", filepath.Join(root, "opt/loop/self")))
	must(syscall.Mkfifo(filepath.Join(root, "opt/app/lib/blocking.jar"), 0o644))
	must(os.WriteFile(filepath.Join(root, "opt/app/lib/garbage.jar"), garbage(8192), 0o644))
	bin, err := os.OpenFile(filepath.Join(root, "usr/local/bin/huge"), os.O_CREATE|os.O_WRONLY, 0o755)
	must(err)
	bin.Write([]byte("\x7fELF\x02\x01\x01"))
	must(bin.Truncate(6 << 30))
	bin.Close()
	must(os.WriteFile(filepath.Join(root, "usr/lib/python3/dist-packages/evil.dist-info/METADATA"), garbage(4096), 0o644))
	must(os.Symlink("/../../..", filepath.Join(root, "home/eve/bin/up")))
	must(os.Symlink(filepath.Dir(secret), filepath.Join(root, "home/eve/bin/out")))
	return root, secret
}

func TestHostileRootFinishesWithErrorsRecorded(t *testing.T) {
	root, _ := hostileRoot(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	start := time.Now()
	r, inv, err := Scan(ctx, Options{Root: root, Tool: report.Tool{Name: "kensa", Version: "test"}})
	if err != nil {
		t.Fatalf("scan: %v", err)
	}
	t.Logf("hostile scan took %v", time.Since(start))
	if ctx.Err() != nil {
		t.Fatal("the scan ran into the test's deadline: something hung")
	}
	b, _ := json.Marshal(inv)
	if strings.Contains(string(b), "leaked") {
		t.Fatalf("a file outside the root was read:\n%s", b)
	}
	status := map[string]host.CollectorRun{}
	for _, c := range inv.Collectors {
		status[c.Name] = c
	}
	// The OS cannot be identified: its release files lead outside.
	if c := status["os/release"]; c.Status != host.StatusFailed {
		t.Errorf("os/release: %+v", c)
	}
	// The rpm and apk databases are garbage: errors, not crashes.
	for _, name := range []string{"pkg/rpm", "pkg/apk"} {
		if c := status[name]; c.Status != host.StatusFailed && c.Status != host.StatusPartial {
			t.Errorf("%s: %+v", name, c)
		} else if c.Reason == "" && c.ErrorCount == 0 {
			t.Errorf("%s: no error recorded: %+v", name, c)
		}
	}
	// dpkg reads the package inside, reports the FIFO it could not read
	// as a file list and the link that leads nowhere inside the root.
	if c := status["pkg/dpkg"]; c.Status != host.StatusPartial || c.ErrorCount < 2 {
		t.Errorf("pkg/dpkg: %+v", c)
	}
	if len(inv.Packages) != 1 || inv.Packages[0].Name != "inside" || len(inv.Packages[0].Files) != 0 {
		t.Errorf("packages: %+v", inv.Packages)
	}
	if c := status["lang/java"]; c.ErrorCount == 0 {
		t.Errorf("lang/java: the garbage jar was not reported: %+v", c)
	}
	// The report still validates and says what could not be evaluated.
	var buf bytes.Buffer
	if err := report.WriteJSON(&buf, r); err != nil {
		t.Fatal(err)
	}
	if err := report.Validate(buf.Bytes()); err != nil {
		t.Fatalf("report invalid: %v", err)
	}
	gaps := map[string]string{}
	for _, c := range r.Coverage {
		gaps[c.Package+"/"+c.Scope] = c.Status
	}
	for _, k := range []string{"cve/pkg/rpm", "cve/pkg/apk", "cis/os"} {
		if gaps[k] == "" || gaps[k] == report.Evaluated {
			t.Errorf("coverage %s = %q; want a gap", k, gaps[k])
		}
	}
}

// TestInventoryDefaultsOnFixtures checks the whole collector list on each
// real fixture root: the right package collector runs, the others skip.
func TestInventoryCollectorsOnEmptyRoot(t *testing.T) {
	inv, err := Inventory(context.Background(), Options{Root: t.TempDir(), Discovery: collect.DefaultDiscovery()})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range inv.Collectors {
		if c.Status == host.StatusOK && strings.HasPrefix(c.Name, "pkg/") {
			t.Errorf("%s ran on an empty root: %+v", c.Name, c)
		}
		if c.Status == host.StatusFailed && c.Name != "os/release" {
			t.Errorf("%s failed on an empty root: %+v", c.Name, c)
		}
	}
}

// TestCoverageScopesAreUnique: an unidentified OS and a partial package
// collector name the same scope; it must appear once, not_evaluated, with
// both reasons (report.Check rejects duplicates).
func TestCoverageScopesAreUnique(t *testing.T) {
	inv := &host.Inventory{
		Identity: host.Identity{Root: "/img"},
		Packages: []host.Package{{Manager: "rpm", Name: "x", Version: "1"}},
		Collectors: []host.CollectorRun{
			{Name: "pkg/rpm", Status: host.StatusPartial, ErrorCount: 2},
		},
	}
	r, err := Evaluate(context.Background(), inv, Options{Tool: report.Tool{Name: "kensa", Version: "test"}})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, c := range r.Coverage {
		if c.Package == "cve" && c.Scope == "pkg/rpm" {
			n++
			if c.Status != report.NotEvaluated || !strings.Contains(c.Reason, "OS could not be identified") || !strings.Contains(c.Reason, "2 error(s)") {
				t.Errorf("merged entry = %+v", c)
			}
		}
	}
	if n != 1 {
		t.Fatalf("cve/pkg/rpm appears %d times", n)
	}
	var buf bytes.Buffer
	report.WriteJSON(&buf, r)
	if err := report.Validate(buf.Bytes()); err != nil {
		t.Fatal(err)
	}
}

// TestDiscoveryLimitsAreCoverageGaps: software beyond a discovery limit
// was not inventoried; the report must say so, not stay silent.
func TestDiscoveryLimitsAreCoverageGaps(t *testing.T) {
	inv := &host.Inventory{
		Identity:  host.Identity{Root: "/", Live: true},
		Discovery: &host.Discovery{LimitsHit: []host.LimitHit{{Limit: "max_files", Path: "/opt/big", Value: 50}}},
	}
	r, err := Evaluate(context.Background(), inv, Options{Tool: report.Tool{Name: "kensa", Version: "test"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range r.Coverage {
		if c.Package == "cve" && c.Scope == "discovery" {
			if c.Status != report.Partial || !strings.Contains(c.Reason, "max_files (50) at /opt/big") {
				t.Fatalf("discovery coverage = %+v", c)
			}
			return
		}
	}
	t.Fatalf("no discovery gap in %+v", r.Coverage)
}
