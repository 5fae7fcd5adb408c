package discover_test

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kensa-dev/kensa/internal/collect"
	"github.com/kensa-dev/kensa/internal/collect/discover"
	"github.com/kensa-dev/kensa/internal/collect/lang/golang"
	"github.com/kensa-dev/kensa/internal/collect/lang/java"
	"github.com/kensa-dev/kensa/internal/collect/lang/npm"
	"github.com/kensa-dev/kensa/internal/collect/lang/python"
	"github.com/kensa-dev/kensa/internal/host"
	"github.com/kensa-dev/kensa/internal/hostfs"
	"github.com/kensa-dev/kensa/internal/testfixture"
)

// TestWalkCollector: the walk's errors are the walk collector's, whose
// items are the candidates; the language collectors reading its result
// report only their own problems.
func TestWalkCollector(t *testing.T) {
	root := fixture(t)
	w := discover.New(collect.DiscoveryConfig{})
	inv := testfixture.Collect(t, root, discover.NewCollector(w), golang.New(w), python.New(w), npm.New(w), java.New(w))
	c, err := w.Candidates(context.Background(), &collect.Env{}, inv)
	if err != nil {
		t.Fatal(err)
	}
	runs := map[string]host.CollectorRun{}
	for _, r := range inv.Collectors {
		runs[r.Name] = r
	}
	d := runs["software/discover"]
	if inv.Collectors[0].Name != discover.Name || d.Status != host.StatusPartial || d.ErrorCount != 2 || d.Items != c.Len() || d.Items == 0 {
		t.Errorf("walk collector: %+v (%d candidates)", d, c.Len())
	}
	for _, name := range []string{"lang/go", "lang/python", "lang/npm", "lang/java"} {
		r := runs[name]
		if strings.Contains(strings.Join(r.Errors, "\n"), "symbolic links") || r.Status == host.StatusFailed {
			t.Errorf("%s reports the walk's errors: %+v", name, r)
		}
	}
	// The fixture's binaries are stubs and its manifests empty objects:
	// nothing for these two to complain about.
	if runs["lang/go"].Status != host.StatusOK || runs["lang/npm"].Status != host.StatusOK {
		t.Errorf("lang/go %+v, lang/npm %+v", runs["lang/go"], runs["lang/npm"])
	}

	// Without the walk collector, the first language collector walks and
	// its run holds the walk's errors; the next does not repeat them.
	w = discover.New(collect.DiscoveryConfig{})
	inv = testfixture.Collect(t, root, golang.New(w), npm.New(w))
	if r := inv.Collectors[0]; r.ErrorCount != 2 || !strings.Contains(r.Errors[0], "symbolic links") {
		t.Errorf("lang/go walking: %+v", r)
	}
	if r := inv.Collectors[1]; r.Status != host.StatusOK {
		t.Errorf("lang/npm: %+v", r)
	}

	// A walk canceled under the walk collector is its failure alone: a
	// language collector running later reads what was found.
	w = discover.New(collect.DiscoveryConfig{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	fsys, err := hostfs.Open(root)
	if err != nil {
		t.Fatal(err)
	}
	inv = &host.Inventory{}
	if err := discover.NewCollector(w).Collect(ctx, &collect.Env{FS: fsys}, inv); err == nil {
		t.Error("canceled walk: no error")
	}
	inv = testfixture.Collect(t, root, npm.New(w))
	if r := inv.Collectors[0]; r.Status != host.StatusOK {
		t.Errorf("lang/npm after a canceled walk: %+v", r)
	}
}

// TestContainerProcesses: in an image, a process whose proc/PID/root
// leads elsewhere has its executable read there; one file reached by
// several processes, a hard link or its host path is read once.
func TestContainerProcesses(t *testing.T) {
	root := t.TempDir()
	outside := t.TempDir()
	write(t, outside, map[string]string{"usr/bin/nginx*": elfStub})
	write(t, root, map[string]string{
		"usr/local/bin/app*": elfStub,
		"usr/bin/nginx*":     elfStub + "host",
		"var/lib/containers/c1/merged/usr/bin/nginx*": elfStub + "c1",
		"var/lib/containers/c2/merged/usr/local/bin/": "",
		"var/lib/containers/c3/":                      "",
		"etc/x*":                                      elfStub,
	})
	must(t, os.Link(filepath.Join(root, "usr/local/bin/app"), filepath.Join(root, "usr/local/bin/app2")))
	must(t, os.Link(filepath.Join(root, "usr/local/bin/app"), filepath.Join(root, "var/lib/containers/c2/merged/usr/local/bin/app")))
	procs := []struct{ pid, exe, root string }{
		{"5", "/usr/bin/nginx", "/var/lib/containers/c1/merged"},
		{"6", "/usr/bin/nginx", "/var/lib/containers/c1/merged"},
		{"7", "/usr/local/bin/app", "/"},
		// Another root holding the host's file: the host path names it.
		{"8", "/usr/local/bin/app", "/var/lib/containers/c2/merged"},
		// Hostile: escapes by "..", by a relative root, by an absolute
		// root outside the image. All stay inside it.
		{"9", "/../../../etc/x", "/var/lib/containers/c3"},
		{"10", "/usr/local/bin/app", "../../../../../../.."},
		{"11", "/usr/bin/nginx", outside},
	}
	for _, p := range procs {
		symlink(t, root, "proc/"+p.pid+"/exe", p.exe)
		symlink(t, root, "proc/"+p.pid+"/root", p.root)
	}
	inv := &host.Inventory{}
	c, run := candidates(t, root, collect.DiscoveryConfig{}, inv)
	want := []string{
		"/usr/bin/nginx",
		"/usr/local/bin/app",
		"/var/lib/containers/c1/merged/usr/bin/nginx",
	}
	if diff := cmp.Diff(want, c.Go); diff != "" {
		t.Errorf("go (-want +got):\n%s", diff)
	}
	for _, p := range c.Go {
		if c.Location(p) != p {
			t.Errorf("Location(%s) = %s", p, c.Location(p))
		}
	}
	if run.ErrorCount != 0 {
		t.Errorf("errors: %v", run.Errors)
	}
}

// TestHardLinks: of two paths to one file the smaller is kept, whatever
// the order of the walk.
func TestHardLinks(t *testing.T) {
	root := t.TempDir()
	write(t, root, map[string]string{"opt/b/tool*": elfStub, "opt/z.jar": "PK"})
	must(t, os.MkdirAll(filepath.Join(root, "opt/a"), 0o755))
	must(t, os.Link(filepath.Join(root, "opt/b/tool"), filepath.Join(root, "opt/a/tool")))
	must(t, os.Link(filepath.Join(root, "opt/b/tool"), filepath.Join(root, "opt/c")))
	must(t, os.Link(filepath.Join(root, "opt/z.jar"), filepath.Join(root, "opt/y.jar")))
	c, _ := candidates(t, root, collect.DiscoveryConfig{Roots: []string{"/opt"}}, &host.Inventory{})
	if diff := cmp.Diff([]string{"/opt/a/tool"}, c.Go); diff != "" {
		t.Errorf("go (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"/opt/y.jar"}, c.Java); diff != "" {
		t.Errorf("java (-want +got):\n%s", diff)
	}
}

// batchFS serves directories in reverse order, and fails the test when a
// directory is read whole.
type batchFS struct {
	hostfs.FS
	t       *testing.T
	maxRead int
}

func (b *batchFS) ReadDir(name string) ([]fs.DirEntry, error) {
	b.t.Errorf("ReadDir(%s): a whole directory read", name)
	return b.FS.ReadDir(name)
}

func (b *batchFS) Open(name string) (fs.File, error) {
	f, err := b.FS.Open(name)
	if err != nil {
		return nil, err
	}
	if d, ok := f.(fs.ReadDirFile); ok {
		return &reverseDir{ReadDirFile: d, fs: b}, nil
	}
	return f, nil
}

type reverseDir struct {
	fs.ReadDirFile
	fs   *batchFS
	ents []fs.DirEntry
	read bool
}

func (r *reverseDir) ReadDir(n int) ([]fs.DirEntry, error) {
	if n <= 0 {
		r.fs.t.Errorf("ReadDir(%d): a whole directory read", n)
	}
	r.fs.maxRead = max(r.fs.maxRead, n)
	if !r.read {
		r.read = true
		// Read the real directory in batches too, then reverse it.
		for {
			ents, err := r.ReadDirFile.ReadDir(n)
			r.ents = append(r.ents, ents...)
			if err == io.EOF || err == nil && len(ents) == 0 {
				break
			}
			if err != nil {
				return nil, err
			}
		}
		slices.Reverse(r.ents)
	}
	if len(r.ents) == 0 {
		return nil, io.EOF
	}
	k := len(r.ents)
	if n > 0 {
		k = min(n, k)
	}
	out := r.ents[:k]
	r.ents = r.ents[k:]
	return out, nil
}

// TestBatchesAndOrder: directories are read in batches, and the result
// does not depend on the order their entries come in.
func TestBatchesAndOrder(t *testing.T) {
	root := fixture(t)
	files := map[string]string{}
	for i := range 2100 {
		files[fmt.Sprintf("opt/big/f%04d", i)] = ""
	}
	files["opt/big/zz.jar"] = "PK"
	files["opt/big/a.jar"] = "PK"
	files["opt/big/x1*"] = elfStub
	files["opt/big/x2*"] = elfStub
	write(t, root, files)

	fsys, err := hostfs.Open(root)
	if err != nil {
		t.Fatal(err)
	}
	walk := func(fsys hostfs.FS, cfg collect.DiscoveryConfig) (*discover.Candidates, *host.Inventory) {
		inv := &host.Inventory{}
		var c *discover.Candidates
		probe := collectorFunc(func(ctx context.Context, env *collect.Env, _ *host.Inventory) error {
			var err error
			c, err = discover.New(cfg).Candidates(ctx, env, inv)
			return err
		})
		testfixture.CollectEnv(t, &collect.Env{FS: fsys}, probe)
		return c, inv
	}
	sorted, invSorted := walk(fsys, collect.DiscoveryConfig{})
	bfs := &batchFS{FS: fsys, t: t}
	reversed, invReversed := walk(bfs, collect.DiscoveryConfig{})
	if bfs.maxRead == 0 || bfs.maxRead > 4096 {
		t.Errorf("largest batch %d", bfs.maxRead)
	}
	opt := cmp.AllowUnexported(discover.Candidates{})
	if diff := cmp.Diff(sorted, reversed, opt); diff != "" {
		t.Errorf("candidates depend on the order of directories (-sorted +reversed):\n%s", diff)
	}
	if diff := cmp.Diff(invSorted.Discovery, invReversed.Discovery); diff != "" {
		t.Errorf("discovery depends on the order of directories (-sorted +reversed):\n%s", diff)
	}
	if !slices.Contains(sorted.Java, "/opt/big/zz.jar") {
		t.Errorf("java: %v", sorted.Java)
	}

	// MaxFiles stops the reading of a large directory within a batch.
	_, inv := walk(&batchFS{FS: fsys, t: t}, collect.DiscoveryConfig{Roots: []string{"/opt/big"}, MaxFiles: 1500})
	if d := inv.Discovery; d.FilesVisited != 1500 || len(d.LimitsHit) != 1 || d.LimitsHit[0].Limit != discover.LimitMaxFiles {
		t.Errorf("visited %d, limits %v", d.FilesVisited, d.LimitsHit)
	}
}

// TestLiveMountNamespace runs Go programs in mount namespaces of their
// own, as in containers. Two, replicas, run from a file system mounted
// only in their namespace: the host path of their executable holds
// nothing, and it is read once, through /proc/PID/root, and located
// without a PID. The other runs a file the host sees at the same path: it
// is named by that path. Needs root (unshare --mount).
func TestLiveMountNamespace(t *testing.T) {
	if os.Getenv("KENSA_NS_HELPER") == "1" {
		t.Skip("helper")
	}
	if runtime.GOOS != "linux" || os.Geteuid() != 0 {
		t.Skip("needs root on Linux")
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	const run = `exec "$1/kensa-ns-helper" -test.run '^TestNSHelper$'`
	// Only in the namespace: a tmpfs mounted there. The replica has its
	// own namespace and tmpfs, at the same path, holding the same file
	// (cp -p keeps its time).
	hidden := t.TempDir()
	const hide = `mount -t tmpfs tmpfs "$1" && cp -p "$2" "$1/kensa-ns-helper" && `
	hiddenPID := startInNamespace(t, hidden, hide+run, self)
	replicaPID := startInNamespace(t, hidden, hide+run, self, hiddenPID)
	// On the host too.
	shared := t.TempDir()
	copyExec(t, self, filepath.Join(shared, "kensa-ns-helper"))
	sharedPID := startInNamespace(t, shared, run, self)
	if _, err := os.Stat(filepath.Join(hidden, "kensa-ns-helper")); err == nil {
		t.Fatal("the tmpfs of the namespace is visible on the host")
	}

	fsys, err := hostfs.Open("/")
	if err != nil {
		t.Fatal(err)
	}
	w := discover.New(collect.DiscoveryConfig{})
	inv := testfixture.CollectEnv(t, &collect.Env{FS: fsys}, discover.NewCollector(w), golang.New(w))
	c, _ := w.Candidates(context.Background(), nil, inv)

	prog := filepath.Join(hidden, "kensa-ns-helper")
	loc := prog + " (in the mount namespace of a running process)"
	if loc != prog+discover.NamespaceNote {
		t.Errorf("NamespaceNote %q", discover.NamespaceNote)
	}
	// The first of the two replicas in PID order is read, the other not.
	first, second := hiddenPID, replicaPID
	if atoi(second) < atoi(first) {
		first, second = second, first
	}
	via := "/proc/" + first + "/root" + prog
	if !slices.Contains(c.Go, via) || c.Location(via) != loc {
		t.Errorf("%s not among the Go candidates, or located %q", via, c.Location(via))
	}
	if p := "/proc/" + second + "/root" + prog; slices.Contains(c.Go, p) {
		t.Errorf("%s, a replica of %s, read too", p, via)
	}
	var found []string
	for _, s := range inv.Software {
		if strings.Contains(s.Location, hiddenPID) || strings.Contains(s.Location, replicaPID) {
			t.Errorf("a PID in Location %q", s.Location)
		}
		if s.Location == loc {
			found = append(found, s.Kind)
		}
	}
	if n := countOf(found, "go-stdlib"); n != 1 {
		t.Errorf("software at %s: %v (%d go-stdlib); collectors %+v", loc, found, n, inv.Collectors)
	}

	prog = filepath.Join(shared, "kensa-ns-helper")
	if !slices.Contains(c.Go, prog) || c.Location(prog) != prog {
		t.Errorf("%s not among the Go candidates by its host path, or located %q", prog, c.Location(prog))
	}
	for _, p := range c.Go {
		if strings.HasPrefix(p, "/proc/"+sharedPID+"/") {
			t.Errorf("%s read through its process's root", p)
		}
	}
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

func countOf(list []string, s string) int {
	n := 0
	for _, x := range list {
		if x == s {
			n++
		}
	}
	return n
}

// startInNamespace runs script (sh -c, with $1 dir and $2 arg) in a mount
// namespace of its own, and returns the PID of the process whose
// executable is dir/kensa-ns-helper, other than those of not. The process
// ends with the test.
func startInNamespace(t *testing.T, dir, script, arg string, not ...string) string {
	t.Helper()
	unshare, err := exec.LookPath("unshare")
	if err != nil {
		t.Skip("no unshare")
	}
	cmd := exec.Command(unshare, "--mount", "--propagation", "private", "--fork", "sh", "-c", script, "sh", dir, arg)
	cmd.Env = append(os.Environ(), "KENSA_NS_HELPER=1")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Skipf("unshare: %v", err)
	}
	t.Cleanup(func() {
		stdin.Close() // the helper exits at EOF, and unshare with it
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	prog := filepath.Join(dir, "kensa-ns-helper")
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		ents, _ := os.ReadDir("/proc")
		for _, e := range ents {
			if slices.Contains(not, e.Name()) {
				continue
			}
			if target, err := os.Readlink("/proc/" + e.Name() + "/exe"); err == nil && target == prog {
				self, _ := os.Readlink("/proc/self/ns/mnt")
				if ns, _ := os.Readlink("/proc/" + e.Name() + "/ns/mnt"); ns == self {
					t.Skip("unshare left the helper in this mount namespace")
				}
				return e.Name()
			}
		}
	}
	t.Skip("the helper did not start (no mount namespaces here?)")
	return ""
}

func copyExec(t *testing.T, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	must(t, os.WriteFile(dst, b, 0o755))
}

// TestNSHelper is the program TestLiveMountNamespace runs: it waits for
// its stdin to close.
func TestNSHelper(t *testing.T) {
	if os.Getenv("KENSA_NS_HELPER") != "1" {
		t.Skip("run by TestLiveMountNamespace")
	}
	io.Copy(io.Discard, os.Stdin)
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
