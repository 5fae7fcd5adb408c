package discover_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kensa-dev/kensa/internal/collect"
	"github.com/kensa-dev/kensa/internal/collect/discover"
	"github.com/kensa-dev/kensa/internal/host"
	"github.com/kensa-dev/kensa/internal/hostfs"
)

// elfStub is enough of a file for the walk to take it as an executable:
// the walk does not read files, it only needs a plausible size.
var elfStub = "\x7fELF" + strings.Repeat("\x00", 60)

// write creates the files of a fixture root: a path ending in "/" is a
// directory, a "*" mode suffix (path "*") an executable.
func write(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for name, data := range files {
		exec := strings.HasSuffix(name, "*")
		name = strings.TrimSuffix(name, "*")
		p := filepath.Join(root, filepath.FromSlash(name))
		if strings.HasSuffix(name, "/") {
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		mode := os.FileMode(0o644)
		if exec {
			mode = 0o755
		}
		if err := os.WriteFile(p, []byte(data), mode); err != nil {
			t.Fatal(err)
		}
	}
}

func symlink(t *testing.T, root, name, target string) {
	t.Helper()
	p := filepath.Join(root, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, p); err != nil {
		t.Fatal(err)
	}
}

func candidates(t *testing.T, root string, cfg collect.DiscoveryConfig, inv *host.Inventory) (*discover.Candidates, *host.CollectorRun) {
	t.Helper()
	fsys, err := hostfs.Open(root)
	if err != nil {
		t.Fatal(err)
	}
	var c *discover.Candidates
	env := &collect.Env{FS: fsys}
	// collect.Run gives the walk an Env that records errors; the walk
	// reads and fills the caller's inventory.
	probe := collectorFunc(func(ctx context.Context, env *collect.Env, _ *host.Inventory) error {
		var err error
		c, err = discover.New(cfg).Candidates(ctx, env, inv)
		return err
	})
	out := collect.Run(context.Background(), env, []collect.Collector{probe}, nil)
	inv.Collectors = out.Collectors
	return c, &out.Collectors[0]
}

type collectorFunc func(ctx context.Context, env *collect.Env, inv *host.Inventory) error

func (collectorFunc) Name() string { return "probe" }
func (f collectorFunc) Collect(ctx context.Context, env *collect.Env, inv *host.Inventory) error {
	return f(ctx, env, inv)
}

// fixture is a small host with something of everything, and traps.
func fixture(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	outside := t.TempDir()
	write(t, outside, map[string]string{"secret.jar": "PK", "bin/tool*": elfStub})
	write(t, root, map[string]string{
		"etc/passwd": "root:x:0:0:root:/root:/bin/bash\n" +
			"alice:x:1000:1000::/home/alice:/bin/bash\n" +
			"svc:x:999:999::/nonexistent:/usr/sbin/nologin\n",
		// bin dirs: only Go candidates, only their own entries.
		"usr/bin/tool*":         elfStub,
		"usr/bin/script.sh*":    "#!/bin/sh\n",
		"usr/bin/data":          elfStub, // not executable
		"usr/bin/sub/deep*":     elfStub, // below a bin dir: not searched
		"usr/bin/lib.jar":       "PK",    // bin dirs hold no archives
		"usr/sbin/daemon*":      elfStub,
		"usr/local/bin/app*":    elfStub,
		"usr/local/bin/tiny*":   "\x7fELF", // too small to be an ELF binary
		"usr/libexec/helper*":   elfStub,
		"usr/share/java/a.jar":  "PK",
		"usr/share/java/b.war":  "PK",
		"usr/share/java/c.EAR":  "PK",
		"usr/share/java/d.txt":  "",
		"usr/share/maven/m.jar": "PK", // reached only through a link
		// Python: dist-info, egg-info directory and file, anywhere below.
		"usr/lib/python3/dist-packages/foo-1.0.dist-info/METADATA":     "",
		"usr/lib/python3/dist-packages/foo-1.0.dist-info/RECORD":       "",
		"usr/lib/python3/dist-packages/bar.egg-info/PKG-INFO":          "",
		"usr/lib/python3/dist-packages/baz-2.0.egg-info":               "",
		"usr/lib/python3/dist-packages/__pycache__/x.cpython-311.pyc":  "",
		"usr/lib/python3.11/site-packages/qux-3.dist-info/METADATA":    "",
		"usr/lib/python2.7/dist-packages/old-1.egg-info":               "",
		"usr/lib64/python2.7/site-packages/old64-1.dist-info/METADATA": "",
		"opt/venv/lib/python3.12/site-packages/v-1.dist-info/METADATA": "",
		"opt/venv/bin/python3*":                                        elfStub,
		// npm: packages, scoped and nested; not a project's own manifest.
		"usr/lib/node_modules/a/package.json":                               "{}",
		"usr/lib/node_modules/a/lib/package.json":                           "{}",
		"usr/lib/node_modules/a/node_modules/@s/b/package.json":             "{}",
		"usr/lib/node_modules/a/node_modules/c/node_modules/d/package.json": "{}",
		"usr/lib/node_modules/a/node_modules/.cache/e/package.json":         "{}",
		"opt/project/package.json":                                          "{}",
		// Caches: never entered.
		"opt/app/app.jar":                           "PK",
		"opt/app/.m2/repository/x/x.jar":            "PK",
		"opt/app/.cache/pip/y-1.dist-info/METADATA": "",
		"opt/app/.npm/_cacache/z/package.json":      "{}",
		"opt/app/.gradle/caches/g.jar":              "PK",
		"opt/app/.cargo/registry/cache/r*":          elfStub,
		"opt/app/go/pkg/mod/m@v1/gomod*":            elfStub,
		"opt/app/.git/objects/o.jar":                "PK",
		// A Go toolchain: its sources are skipped, its binaries are not.
		"usr/local/go/VERSION":                   "go1.22.3\n",
		"usr/local/go/bin/go*":                   elfStub,
		"usr/local/go/pkg/tool/linux_amd64/vet*": elfStub,
		"usr/local/go/src/debug/elf/testdata/x*": elfStub,
		"usr/local/go/test/fixedbugs/y*":         elfStub,
		// Homes: bin dirs, user site-packages, pyenv site-packages.
		"home/alice/go/bin/hello*":       elfStub,
		"home/alice/.local/bin/tool2*":   elfStub,
		"home/alice/.cargo/bin/cargo-x*": elfStub,
		"home/alice/bin/mine*":           elfStub,
		"home/alice/.local/lib/python3.11/site-packages/u-1.dist-info/METADATA":                        "",
		"home/alice/.pyenv/versions/3.12.1/lib/python3.12/site-packages/p-1.dist-info/METADATA":        "",
		"home/alice/.pyenv/versions/3.12.1/lib/python3.12/site-packages/pe.egg-info":                   "",
		"home/alice/.pyenv/versions/3.12.1/lib/python3.12/site-packages/pd.egg-info/PKG-INFO":          "",
		"home/alice/.pyenv/versions/3.12.1/lib/python3.12/site-packages/pkg/deep-1.dist-info/METADATA": "",
		"home/alice/.pyenv/versions/3.12.1/bin/python*":                                                elfStub,
		"home/alice/projects/app*": elfStub,
		// Running processes.
		"var/lib/svc/daemon*": elfStub,
		"proc/1/":             "",
		"proc/2/":             "",
		"proc/3/":             "",
		"proc/4/":             "",
		"proc/self/":          "",
	})
	// merged /usr
	symlink(t, root, "bin", "usr/bin")
	symlink(t, root, "sbin", "usr/sbin")
	// Links: to files (followed, deduplicated), to directories (not).
	symlink(t, root, "usr/local/bin/go", "../go/bin/go")
	symlink(t, root, "usr/share/java/a-1.0.jar", "a.jar")
	symlink(t, root, "usr/share/java/m.jar", "/usr/share/maven/m.jar")
	symlink(t, root, "usr/share/java/dangling.jar", "nowhere.jar")
	symlink(t, root, "opt/etc", "/etc")
	symlink(t, root, "opt/escape", filepath.Join(outside, "bin"))
	symlink(t, root, "opt/escape.jar", filepath.Join(outside, "secret.jar"))
	symlink(t, root, "opt/up", "../../../../../../../..")
	symlink(t, root, "opt/loop1.jar", "loop2.jar")
	symlink(t, root, "opt/loop2.jar", "loop1.jar")
	symlink(t, root, "proc/1/exe", "/var/lib/svc/daemon")
	symlink(t, root, "proc/2/exe", "/usr/local/bin/app")
	symlink(t, root, "proc/3/exe", "/usr/bin/removed (deleted)")
	symlink(t, root, "proc/self/exe", "/var/lib/svc/daemon")
	// A FIFO named like an archive and like an executable.
	for _, p := range []string{"opt/app/fifo.jar", "usr/bin/fifo"} {
		if err := syscall.Mkfifo(filepath.Join(root, p), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func TestCandidates(t *testing.T) {
	root := fixture(t)
	inv := &host.Inventory{}
	c, run := candidates(t, root, collect.DiscoveryConfig{}, inv)

	want := &discover.Candidates{
		Go: []string{
			"/home/alice/.cargo/bin/cargo-x",
			"/home/alice/.local/bin/tool2",
			"/home/alice/bin/mine",
			"/home/alice/go/bin/hello",
			"/opt/venv/bin/python3",
			"/usr/bin/tool",
			"/usr/libexec/helper",
			"/usr/local/bin/app",
			"/usr/local/go/bin/go",
			"/usr/local/go/pkg/tool/linux_amd64/vet",
			"/usr/sbin/daemon",
			"/var/lib/svc/daemon",
		},
		Python: []string{
			"/home/alice/.local/lib/python3.11/site-packages/u-1.dist-info/METADATA",
			"/home/alice/.pyenv/versions/3.12.1/lib/python3.12/site-packages/p-1.dist-info/METADATA",
			"/home/alice/.pyenv/versions/3.12.1/lib/python3.12/site-packages/pd.egg-info/PKG-INFO",
			"/home/alice/.pyenv/versions/3.12.1/lib/python3.12/site-packages/pe.egg-info",
			"/opt/venv/lib/python3.12/site-packages/v-1.dist-info/METADATA",
			"/usr/lib/python2.7/dist-packages/old-1.egg-info",
			"/usr/lib/python3.11/site-packages/qux-3.dist-info/METADATA",
			"/usr/lib/python3/dist-packages/bar.egg-info/PKG-INFO",
			"/usr/lib/python3/dist-packages/baz-2.0.egg-info",
			"/usr/lib/python3/dist-packages/foo-1.0.dist-info/METADATA",
		},
		NPM: []string{
			"/usr/lib/node_modules/a/node_modules/@s/b/package.json",
			"/usr/lib/node_modules/a/node_modules/c/node_modules/d/package.json",
			"/usr/lib/node_modules/a/package.json",
		},
		Java: []string{
			"/opt/app/app.jar",
			"/usr/share/java/a.jar",
			"/usr/share/java/b.war",
			"/usr/share/java/c.EAR",
			"/usr/share/maven/m.jar",
		},
	}
	want.Python = append(want.Python, "/usr/lib64/python2.7/site-packages/old64-1.dist-info/METADATA")
	if diff := cmp.Diff(want, c, cmp.AllowUnexported(discover.Candidates{}), cmp.FilterPath(func(p cmp.Path) bool {
		return p.Last().String() == ".owners" || p.Last().String() == ".locations"
	}, cmp.Ignore())); diff != "" {
		t.Errorf("candidates (-want +got):\n%s", diff)
	}

	d := inv.Discovery
	if d == nil {
		t.Fatal("Discovery not set")
	}
	wantRoots := []string{
		"/home/alice/.cargo/bin",
		"/home/alice/.local/bin",
		"/home/alice/.local/lib/python3.11/site-packages",
		"/home/alice/.pyenv/versions/3.12.1/lib/python3.12/site-packages",
		"/home/alice/bin",
		"/home/alice/go/bin",
		"/opt",
		"/usr/bin",
		"/usr/lib/node_modules",
		"/usr/lib/python2.7",
		"/usr/lib/python3",
		"/usr/lib/python3.11",
		"/usr/lib64/python2.7",
		"/usr/libexec",
		"/usr/local",
		"/usr/sbin",
		"/usr/share/java",
	}
	if diff := cmp.Diff(wantRoots, d.Roots); diff != "" {
		t.Errorf("roots (-want +got):\n%s", diff)
	}
	skipped := map[string]string{}
	for _, s := range d.Skipped {
		skipped[s.Path] = s.Reason
	}
	for _, p := range []string{
		"/opt/app/.m2", "/opt/app/.cache", "/opt/app/.npm", "/opt/app/.gradle",
		"/opt/app/.cargo/registry", "/opt/app/go/pkg/mod", "/opt/app/.git",
		"/usr/lib/node_modules/a/node_modules/.cache",
		"/usr/local/go/src", "/usr/local/go/test",
		"/usr/bin/removed",
	} {
		if skipped[p] == "" {
			t.Errorf("%s not recorded as skipped; skipped: %v", p, skipped)
		}
	}
	if _, ok := skipped["/usr/lib/python3/dist-packages/__pycache__"]; ok {
		t.Error("__pycache__ recorded: it is skipped silently")
	}
	if d.FilesVisited == 0 || len(d.LimitsHit) != 0 {
		t.Errorf("files visited %d, limits hit %v", d.FilesVisited, d.LimitsHit)
	}
	// The link loop is reported; dangling links and links leaving the
	// root are not errors, they lead nowhere.
	if run.ErrorCount != 2 || !strings.Contains(run.Errors[0], "symbolic links") || !strings.Contains(run.Errors[1], "symbolic links") {
		t.Errorf("errors: %v", run.Errors)
	}
}

func TestCandidatesOnce(t *testing.T) {
	root := fixture(t)
	fsys, err := hostfs.Open(root)
	if err != nil {
		t.Fatal(err)
	}
	w := discover.New(collect.DiscoveryConfig{})
	env := &collect.Env{FS: fsys}
	inv := &host.Inventory{}
	c1, err := w.Candidates(context.Background(), env, inv)
	if err != nil {
		t.Fatal(err)
	}
	// A file added after the walk is not seen: the walk is not repeated.
	write(t, root, map[string]string{"usr/share/java/new.jar": "PK"})
	c2, err := w.Candidates(context.Background(), env, inv)
	if err != nil {
		t.Fatal(err)
	}
	if c1 != c2 || slices.Contains(c2.Java, "/usr/share/java/new.jar") {
		t.Errorf("second call walked again")
	}
}

func TestExplicitRoots(t *testing.T) {
	root := fixture(t)
	inv := &host.Inventory{}
	// An explicit root is searched as a tree; "/" skips the pseudo file
	// systems; no process executables are added.
	write(t, root, map[string]string{"dev/x.jar": "PK", "sys/y.jar": "PK"})
	c, _ := candidates(t, root, collect.DiscoveryConfig{Roots: []string{"/usr/share/*", "/dev"}}, inv)
	if diff := cmp.Diff([]string{"/usr/share/java/a.jar", "/usr/share/java/b.war", "/usr/share/java/c.EAR", "/usr/share/maven/m.jar"}, c.Java); diff != "" {
		t.Errorf("java (-want +got):\n%s", diff)
	}
	if len(c.Go) != 0 {
		t.Errorf("go: %v", c.Go)
	}
	if diff := cmp.Diff([]string{"/usr/share/java", "/usr/share/maven"}, inv.Discovery.Roots); diff != "" {
		t.Errorf("roots (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]host.SkippedPath{{Path: "/dev", Reason: "pseudo file system"}}, inv.Discovery.Skipped); diff != "" {
		t.Errorf("skipped (-want +got):\n%s", diff)
	}

	inv = &host.Inventory{}
	c, _ = candidates(t, root, collect.DiscoveryConfig{Roots: []string{"/"}}, inv)
	for _, p := range c.Java {
		if strings.HasPrefix(p, "/sys/") || strings.HasPrefix(p, "/proc/") {
			t.Errorf("pseudo file system searched: %s", p)
		}
	}
	reasons := map[string]string{}
	for _, s := range inv.Discovery.Skipped {
		reasons[s.Path] = s.Reason
	}
	if reasons["/proc"] == "" || reasons["/sys"] == "" || reasons["/dev"] == "" {
		t.Errorf("skipped: %v", inv.Discovery.Skipped)
	}
}

func TestUsersFromInventory(t *testing.T) {
	root := fixture(t)
	write(t, root, map[string]string{"srv/bob/go/bin/b*": elfStub})
	// Users found by the users collector take the place of etc/passwd.
	inv := &host.Inventory{Users: []host.User{{Name: "bob", Home: "/srv/bob"}, {Name: "x", Home: "relative"}}}
	c, _ := candidates(t, root, collect.DiscoveryConfig{}, inv)
	if slices.Contains(c.Go, "/home/alice/go/bin/hello") {
		t.Error("etc/passwd read although the inventory has users")
	}
	if !slices.Contains(c.Go, "/srv/bob/go/bin/b") {
		t.Errorf("go: %v", c.Go)
	}
}

func TestLimits(t *testing.T) {
	root := fixture(t)
	files := map[string]string{}
	for i := range 300 {
		files["opt/many/f"+strings.Repeat("x", i%7)+string(rune('a'+i%26))+string(rune('a'+i/26))] = ""
	}
	write(t, root, files)
	write(t, root, map[string]string{"opt/a/b/c/d/e/deep.jar": "PK", "usr/share/java/big.jar": strings.Repeat("x", 2000)})

	t.Run("max files", func(t *testing.T) {
		inv := &host.Inventory{}
		c, _ := candidates(t, root, collect.DiscoveryConfig{MaxFiles: 10}, inv)
		d := inv.Discovery
		if d.FilesVisited != 10 || len(d.LimitsHit) != 1 || d.LimitsHit[0].Limit != discover.LimitMaxFiles || d.LimitsHit[0].Value != 10 {
			t.Errorf("visited %d, limits %v", d.FilesVisited, d.LimitsHit)
		}
		if n := len(c.Go) + len(c.Java) + len(c.NPM) + len(c.Python); n > 10 {
			t.Errorf("%d candidates after 10 files", n)
		}
	})
	t.Run("max depth", func(t *testing.T) {
		inv := &host.Inventory{}
		c, _ := candidates(t, root, collect.DiscoveryConfig{MaxDepth: 3}, inv)
		if slices.Contains(c.Java, "/opt/a/b/c/d/e/deep.jar") {
			t.Error("found below MaxDepth")
		}
		if !slices.Contains(c.Java, "/opt/app/app.jar") {
			t.Error("not found within MaxDepth")
		}
		if !slices.Contains(inv.Discovery.LimitsHit, host.LimitHit{Limit: discover.LimitMaxDepth, Path: "/opt/a/b/c", Value: 3}) {
			t.Errorf("limits: %v", inv.Discovery.LimitsHit)
		}
	})
	t.Run("max file size", func(t *testing.T) {
		inv := &host.Inventory{}
		c, _ := candidates(t, root, collect.DiscoveryConfig{MaxFileSize: 1000}, inv)
		if slices.Contains(c.Java, "/usr/share/java/big.jar") {
			t.Error("file above MaxFileSize taken")
		}
		if !slices.Contains(inv.Discovery.LimitsHit, host.LimitHit{Limit: discover.LimitMaxFileSize, Path: "/usr/share/java/big.jar", Value: 1000}) {
			t.Errorf("limits: %v", inv.Discovery.LimitsHit)
		}
	})
	t.Run("timeout", func(t *testing.T) {
		inv := &host.Inventory{}
		candidates(t, root, collect.DiscoveryConfig{Timeout: time.Nanosecond}, inv)
		d := inv.Discovery
		if len(d.LimitsHit) != 1 || d.LimitsHit[0].Limit != discover.LimitTimeout {
			t.Errorf("limits: %v", d.LimitsHit)
		}
	})
	t.Run("canceled", func(t *testing.T) {
		fsys, _ := hostfs.Open(root)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		inv := &host.Inventory{}
		_, err := discover.New(collect.DiscoveryConfig{}).Candidates(ctx, &collect.Env{FS: fsys}, inv)
		if err == nil {
			t.Error("no error after cancellation")
		}
	})
}

// TestRecordsCapped: past 100 skipped paths the rest are counted in one
// last record, and no limit is recorded, since nothing was missed; past
// 100 limits the rest are counted in a max_records limit.
func TestRecordsCapped(t *testing.T) {
	root := t.TempDir()
	dirs := map[string]string{"opt/app.jar": "PK"}
	for i := range 150 {
		dirs[fmt.Sprintf("opt/d%03d/.git/", i)] = ""
		dirs[fmt.Sprintf("opt/d%03d/x%03d.jar", i, i)] = "PK"
	}
	write(t, root, dirs)

	inv := &host.Inventory{}
	c, _ := candidates(t, root, collect.DiscoveryConfig{Roots: []string{"/opt"}}, inv)
	d := inv.Discovery
	if len(c.Java) != 151 {
		t.Errorf("%d archives found, want 151", len(c.Java))
	}
	if len(d.LimitsHit) != 0 {
		t.Errorf("skipped paths recorded as limits: %v", d.LimitsHit)
	}
	if len(d.Skipped) != 101 {
		t.Fatalf("%d skipped records, want 100 and the summary", len(d.Skipped))
	}
	for i, s := range d.Skipped[:100] {
		if want := fmt.Sprintf("/opt/d%03d/.git", i); s.Path != want || s.Reason != "version control data" {
			t.Errorf("skipped[%d] = %+v, want %s", i, s, want)
		}
	}
	if diff := cmp.Diff(host.SkippedPath{Path: "", Reason: "50 more paths skipped (not listed)"}, d.Skipped[100]); diff != "" {
		t.Errorf("summary (-want +got):\n%s", diff)
	}

	// A collector's skips go on counting in the summary.
	fsys, err := hostfs.Open(root)
	if err != nil {
		t.Fatal(err)
	}
	w := discover.New(collect.DiscoveryConfig{Roots: []string{"/opt"}})
	inv = &host.Inventory{}
	if _, err := w.Candidates(context.Background(), &collect.Env{FS: fsys}, inv); err != nil {
		t.Fatal(err)
	}
	w.RecordSkip(inv, "/opt/x.jar", "encrypted")
	w.RecordSkip(inv, "/opt/y.jar", "encrypted")
	if d := inv.Discovery; len(d.Skipped) != 101 || d.Skipped[100].Reason != discover.MoreSkipped(52) || len(d.LimitsHit) != 0 {
		t.Errorf("after two more skips: %d records, last %+v, limits %v", len(d.Skipped), d.Skipped[len(d.Skipped)-1], d.LimitsHit)
	}

	// 150 directories at MaxDepth: 150 limits, 100 listed.
	inv = &host.Inventory{}
	candidates(t, root, collect.DiscoveryConfig{Roots: []string{"/opt"}, MaxDepth: 1}, inv)
	d = inv.Discovery
	depth, records := 0, int64(0)
	for _, l := range d.LimitsHit {
		switch l.Limit {
		case discover.LimitMaxDepth:
			depth++
		case discover.LimitMaxRecords:
			records = l.Value
		}
	}
	if depth != 100 || records != 50 || len(d.LimitsHit) != 101 {
		t.Errorf("%d max_depth records, max_records %d, %d limits", depth, records, len(d.LimitsHit))
	}
	if len(d.Skipped) != 0 {
		t.Errorf("skipped: %v", d.Skipped)
	}
}

// TestMaxHomes: past MaxHomes distinct home directories the rest are not
// searched, and the limit says where the search stopped.
func TestMaxHomes(t *testing.T) {
	root := t.TempDir()
	var us []host.User
	for i := range discover.MaxHomes + 5 {
		home := fmt.Sprintf("/home/u%05d", i)
		// Duplicates count once.
		us = append(us, host.User{Home: home}, host.User{Home: home + "/"})
	}
	last := fmt.Sprintf("home/u%05d/go/bin/last*", discover.MaxHomes-1)
	write(t, root, map[string]string{
		last: elfStub,
		fmt.Sprintf("home/u%05d/go/bin/beyond*", discover.MaxHomes): elfStub,
	})
	inv := &host.Inventory{Users: us}
	c, _ := candidates(t, root, collect.DiscoveryConfig{}, inv)
	if diff := cmp.Diff([]string{"/" + strings.TrimSuffix(last, "*")}, c.Go); diff != "" {
		t.Errorf("go (-want +got):\n%s", diff)
	}
	want := []host.LimitHit{{Limit: discover.LimitMaxHomes, Path: fmt.Sprintf("/home/u%05d", discover.MaxHomes), Value: discover.MaxHomes}}
	if diff := cmp.Diff(want, inv.Discovery.LimitsHit); diff != "" {
		t.Errorf("limits (-want +got):\n%s", diff)
	}

	// At MaxHomes exactly, no limit.
	inv = &host.Inventory{Users: us[:2*discover.MaxHomes]}
	candidates(t, root, collect.DiscoveryConfig{}, inv)
	if len(inv.Discovery.LimitsHit) != 0 {
		t.Errorf("limits: %v", inv.Discovery.LimitsHit)
	}
}

// resolveFS counts the calls to Resolve, and calls hook with their number.
type resolveFS struct {
	hostfs.FS
	n    int
	hook func(n int)
}

func (r *resolveFS) Resolve(name string) (string, error) {
	r.n++
	r.hook(r.n)
	return r.FS.Resolve(name)
}

// TestRootsBounded: the context and the timeout are looked at while the
// roots are computed, not only during the walk.
func TestRootsBounded(t *testing.T) {
	root := t.TempDir()
	var us []host.User
	for i := range 500 {
		us = append(us, host.User{Home: fmt.Sprintf("/home/u%d", i)})
	}
	fsys, err := hostfs.Open(root)
	if err != nil {
		t.Fatal(err)
	}
	run := func(cfg collect.DiscoveryConfig, ctx context.Context, rfs *resolveFS) *host.Discovery {
		t.Helper()
		inv := &host.Inventory{Users: us}
		discover.New(cfg).Candidates(ctx, &collect.Env{FS: rfs}, inv)
		return inv.Discovery
	}

	// Canceled at the 10th Resolve: one more spec at most is resolved.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	rfs := &resolveFS{FS: fsys, hook: func(n int) {
		if n == 10 {
			cancel()
		}
	}}
	d := run(collect.DiscoveryConfig{}, ctx, rfs)
	if rfs.n > 11 {
		t.Errorf("%d roots resolved after cancellation at the 10th", rfs.n)
	}
	if len(d.LimitsHit) != 1 || d.LimitsHit[0].Limit != discover.LimitCanceled {
		t.Errorf("limits: %v", d.LimitsHit)
	}

	// Each Resolve outlasting the timeout: the first stops the search.
	cfg := collect.DiscoveryConfig{Timeout: 5 * time.Millisecond}
	rfs = &resolveFS{FS: fsys, hook: func(int) { time.Sleep(2 * cfg.Timeout) }}
	d = run(cfg, context.Background(), rfs)
	if rfs.n > 1 {
		t.Errorf("%d roots resolved past the timeout", rfs.n)
	}
	if len(d.LimitsHit) != 1 || d.LimitsHit[0].Limit != discover.LimitTimeout || d.LimitsHit[0].Value != 5 {
		t.Errorf("limits: %v", d.LimitsHit)
	}
	if d.FilesVisited != 0 {
		t.Errorf("%d files visited after the timeout", d.FilesVisited)
	}
}

func TestOwnedBy(t *testing.T) {
	root := fixture(t)
	inv := &host.Inventory{Packages: []host.Package{
		// dpkg on merged /usr lists /bin/tool: the walk found /usr/bin/tool.
		{Manager: "dpkg", Name: "tools", Files: []string{"/bin", "/bin/tool", "/usr/share/doc/tools"}},
		{Manager: "dpkg", Name: "python3-foo", Files: []string{"/usr/lib/python3/dist-packages/foo-1.0.dist-info/METADATA"}},
		{Manager: "dpkg", Name: "other", Files: []string{"/usr/bin/tool", "relative", ""}},
	}}
	c, _ := candidates(t, root, collect.DiscoveryConfig{}, inv)
	for p, want := range map[string]string{
		"/usr/bin/tool": "tools",
		"/usr/lib/python3/dist-packages/foo-1.0.dist-info/METADATA": "python3-foo",
		"/usr/local/bin/app":   "",
		"/usr/share/doc/tools": "",
	} {
		if got := c.OwnedBy(p); got != want {
			t.Errorf("OwnedBy(%s) = %q, want %q", p, got, want)
		}
	}
}

// TestLiveHost finds the Go toolchain of this machine, when it has one.
func TestLiveHost(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("live discovery is for Linux")
	}
	if _, err := os.Stat("/usr/local/go/bin/go"); err != nil {
		t.Skip("no Go toolchain in /usr/local/go")
	}
	fsys, err := hostfs.Open("/")
	if err != nil {
		t.Fatal(err)
	}
	inv := &host.Inventory{}
	c, err := discover.New(collect.DefaultDiscovery()).Candidates(context.Background(), &collect.Env{FS: fsys}, inv)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(c.Go, "/usr/local/go/bin/go") {
		t.Errorf("/usr/local/go/bin/go not found among %d candidates", len(c.Go))
	}
	if !slices.Contains(inv.Discovery.Roots, "/usr/local") {
		t.Errorf("roots: %v", inv.Discovery.Roots)
	}
}
