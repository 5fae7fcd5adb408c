package rules_test

import (
	"bufio"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/kensa-dev/kensa/internal/assess"
	"github.com/kensa-dev/kensa/internal/collect"
	"github.com/kensa-dev/kensa/internal/collect/aptchangelog"
	"github.com/kensa-dev/kensa/internal/finding"
	"github.com/kensa-dev/kensa/internal/host"
	"github.com/kensa-dev/kensa/internal/hostfs"
	"github.com/kensa-dev/kensa/internal/rules"
	"github.com/kensa-dev/kensa/internal/testfixture"
)

// collectRoot copies a fixture root to a temporary directory, applies its
// .modes manifest (git keeps no modes), and collects it with the scan's
// collectors. src is a root directory, or a "*.root" file listing layers
// under testdata/roots/_shared/ (one per line, later layers win), so that
// many rules can share one default and one hardened root.
//
// Collected inventories are cached by their layer list: many cases share
// the same layers (the default and hardened roots), and evaluation only
// reads an inventory.
func collectRoot(t testing.TB, src string) *host.Inventory {
	t.Helper()
	var layers []string
	if strings.HasSuffix(src, ".root") {
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range strings.Split(string(b), "\n") {
			if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
				layers = append(layers, filepath.Join("testdata", "roots", "_shared", l))
			}
		}
		if len(layers) == 0 {
			t.Fatalf("%s names no layer", src)
		}
	} else {
		layers = []string{src}
	}
	key := strings.Join(layers, "\n")
	rootCache.Lock()
	defer rootCache.Unlock()
	if inv, ok := rootCache.m[key]; ok {
		return inv
	}
	inv := collectLayers(t, src, layers)
	rootCache.m[key] = inv
	return inv
}

var rootCache = struct {
	sync.Mutex
	m map[string]*host.Inventory
}{m: map[string]*host.Inventory{}}

func collectLayers(t testing.TB, src string, layers []string) *host.Inventory {
	t.Helper()
	root := fastTempDir(t)
	for _, l := range layers {
		overlay(t, root, l)
	}
	if f, err := os.Open(filepath.Join(root, ".modes")); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			line := strings.TrimSpace(sc.Text())
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			path, mode, ok := strings.Cut(line, " ")
			m, err := strconv.ParseUint(strings.TrimSpace(mode), 8, 32)
			if !ok || err != nil {
				t.Fatalf("%s/.modes: bad line %q", src, line)
			}
			if err := os.Chmod(filepath.Join(root, path), unixMode(uint32(m))); err != nil {
				t.Fatal(err)
			}
		}
		f.Close()
		os.Remove(filepath.Join(root, ".modes"))
	}
	fsys, err := hostfs.Open(root)
	if err != nil {
		t.Fatal(err)
	}
	env := &collect.Env{FS: fsys}
	return testfixture.CollectEnv(t, env, configCollectors()...)
}

// configCollectors are the collectors a scan of the configuration rules
// packages runs, the file-system walk included (kensa scan --fs-walk).
func configCollectors() []collect.Collector {
	return assess.CollectorsFor([]string{finding.PackageBestPractices, finding.PackageCIS}, collect.DefaultDiscovery(), aptchangelog.Options{NoDownload: true}, true)
}

// Every rule has fixture roots under testdata/roots/<rule>/: at least one
// pass* and one fail* case, each giving that outcome.
func TestEveryRuleHasPassingAndFailingRoots(t *testing.T) {
	all, err := rules.Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range all {
		t.Run(r.ID, func(t *testing.T) {
			dir := filepath.Join("testdata", "roots", r.ID)
			entries, err := os.ReadDir(dir)
			if err != nil {
				t.Fatalf("rule %s has no fixture roots (%v): add %s/pass and %s/fail", r.ID, err, dir, dir)
			}
			var passes, fails int
			for _, e := range entries {
				if e.IsDir() == strings.HasSuffix(e.Name(), ".root") {
					t.Errorf("%s: case %s must be a root directory or a *.root file", r.ID, e.Name())
					continue
				}
				var want string
				switch {
				case strings.HasPrefix(e.Name(), "pass"):
					want, passes = finding.StatusPass, passes+1
				case strings.HasPrefix(e.Name(), "fail"):
					want, fails = finding.StatusFail, fails+1
				case strings.HasPrefix(e.Name(), "na"):
					want = finding.StatusNotApplicable
				case strings.HasPrefix(e.Name(), "error"):
					want = finding.StatusError
				default:
					t.Errorf("%s: case %s is neither pass*, fail*, na* nor error*", r.ID, e.Name())
					continue
				}
				inv := collectRoot(t, filepath.Join(dir, e.Name()))
				out := rules.Evaluate(inv, []*rules.Rule{r}, []string{r.Package})
				got := finding.Result{Status: finding.StatusNotApplicable, Reason: "the rule is not in the CIS profile of the root's OS"}
				if len(out.Results) > 0 {
					got = out.Results[0]
				}
				if got.Status != want {
					t.Errorf("%s/%s: %s (%s %q), want %s", r.ID, e.Name(), got.Status, got.Reason, findingEvidence(out), want)
					continue
				}
				if want == finding.StatusFail && (len(out.Findings) != 1 || len(out.Findings[0].Evidence) == 0) {
					t.Errorf("%s/%s: a failure must be one finding with evidence: %+v", r.ID, e.Name(), out.Findings)
				}
			}
			if passes == 0 || fails == 0 {
				t.Errorf("rule %s needs at least one passing and one failing root (has %d and %d)", r.ID, passes, fails)
			}
		})
	}
}

func findingEvidence(out *rules.Outcomes) []string {
	var ev []string
	for _, f := range out.Findings {
		ev = append(ev, f.Evidence...)
	}
	return ev
}

// fastTempDir is a temporary directory in memory (/dev/shm) when there is
// one: creating the thousands of small fixture files is most of this
// package's test time on a disk.
func fastTempDir(t testing.TB) string {
	t.Helper()
	dir, err := os.MkdirTemp("/dev/shm", "kensa-rules-test-")
	if err != nil {
		return t.TempDir()
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// unixMode turns a Unix mode as chmod(1) takes it (04755, 01777) into an
// os.FileMode, whose set-id and sticky flags are other bits.
func unixMode(m uint32) os.FileMode {
	mode := os.FileMode(m & 0o777)
	if m&0o4000 != 0 {
		mode |= os.ModeSetuid
	}
	if m&0o2000 != 0 {
		mode |= os.ModeSetgid
	}
	if m&0o1000 != 0 {
		mode |= os.ModeSticky
	}
	return mode
}
