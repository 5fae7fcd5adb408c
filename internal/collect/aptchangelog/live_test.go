package aptchangelog

import (
	"context"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kensa-dev/kensa/internal/collect"
	"github.com/kensa-dev/kensa/internal/collect/dpkg"
	"github.com/kensa-dev/kensa/internal/host"
	"github.com/kensa-dev/kensa/internal/hostfs"
)

// TestLiveAptUpdates runs the collector on this host, downloading the
// candidates' .debs, when KENSA_LIVE_APT=1 (bench/apt-changelog.sh sets
// it); KENSA_APT_CACHE names the cache directory (default:
// DefaultCacheDir). It prints the numbers, and checks the pending updates
// against `apt list --upgradable`, apt's own candidates.
func TestLiveAptUpdates(t *testing.T) {
	if os.Getenv("KENSA_LIVE_APT") != "1" {
		t.Skip("set KENSA_LIVE_APT=1 to run on this host (downloads packages)")
	}
	fsys, err := hostfs.Open("/")
	if err != nil {
		t.Fatal(err)
	}
	opts := Options{CacheDir: os.Getenv("KENSA_APT_CACHE")}
	env := &collect.Env{FS: fsys}
	start := time.Now()
	inv := collect.Run(context.Background(), env, []collect.Collector{dpkg.New(), New(opts)}, nil)
	took := time.Since(start)
	run := inv.Collectors[1]
	u := inv.Updates
	if u == nil {
		t.Fatalf("no updates: %+v", run)
	}
	distinct := map[string]bool{}
	bySuite := map[string]int{}
	reasons := map[string]int{}
	withCVEs := 0
	for _, p := range u.Pending {
		for _, id := range p.FixedCVEs {
			distinct[id] = true
		}
		if len(p.FixedCVEs) > 0 {
			withCVEs++
		}
		bySuite[p.Suite]++
		kind, _, _ := strings.Cut(p.Changelog, ":")
		reasons[kind]++
	}
	fmt.Printf("lists read:            %d\n", len(u.Lists))
	fmt.Printf("pending updates:       %d\n", len(u.Pending))
	for _, s := range slices.Sorted(maps.Keys(bySuite)) {
		fmt.Printf("  from %-18s %d\n", s+":", bySuite[s])
	}
	fmt.Printf("changelogs read:       %d\n", u.ChangelogsRead)
	fmt.Printf("changelogs missing:    %d\n", u.ChangelogsMissing)
	for _, r := range slices.Sorted(maps.Keys(reasons)) {
		fmt.Printf("  %-20s %d\n", r+":", reasons[r])
	}
	fmt.Printf("updates fixing CVEs:   %d\n", withCVEs)
	fmt.Printf("distinct CVE ids:      %d\n", len(distinct))
	fmt.Printf("collector status:      %s (%d errors) in %.1fs (collector %.1fs)\n", run.Status, run.ErrorCount, took.Seconds(), run.DurationMS/1000)
	for _, e := range run.Errors {
		fmt.Printf("  error: %s\n", e)
	}
	if v := os.Getenv("KENSA_LIVE_APT_VERBOSE"); v != "" {
		for _, p := range u.Pending {
			fmt.Printf("  %s %s %s -> %s [%s] %s %v\n", p.Name, p.Arch, p.Installed, p.Candidate, p.Suite, p.Changelog, p.FixedCVEs)
		}
	}
	compareWithApt(t, u.Pending)
}

// compareWithApt checks the pending updates against apt's candidates.
func compareWithApt(t *testing.T, pending []host.PendingUpdate) {
	out, err := exec.Command("apt", "list", "--upgradable").Output()
	if err != nil {
		t.Logf("apt list --upgradable: %v (not compared)", err)
		return
	}
	want := map[string]string{}
	for _, l := range strings.Split(string(out), "\n") {
		// name/suite[,suite] candidate arch [upgradable from: installed]
		f := strings.Fields(l)
		if len(f) < 3 || !strings.Contains(f[0], "/") {
			continue
		}
		name, _, _ := strings.Cut(f[0], "/")
		want[name+":"+f[2]] = f[1]
	}
	got := map[string]string{}
	for _, p := range pending {
		got[p.Name+":"+p.Arch] = p.Candidate
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: apt's candidate is %s, Kensa's %q", k, v, got[k])
		}
	}
	for k, v := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("%s: Kensa reports %s, apt nothing", k, v)
		}
	}
	fmt.Printf("apt list --upgradable: %d, the same candidates: %v\n", len(want), !t.Failed())
}
