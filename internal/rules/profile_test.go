package rules_test

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/kensa-dev/kensa/internal/finding"
	"github.com/kensa-dev/kensa/internal/host"
	"github.com/kensa-dev/kensa/internal/report"
	"github.com/kensa-dev/kensa/internal/rules"
)

// Every profile is well formed and consistent with the rules: each rule it
// names exists and is a cis rule, every cis rule is named by some profile,
// and a profile whose controls are not all implemented reports itself
// partial, naming what was not evaluated.
func TestCISProfiles(t *testing.T) {
	profiles, all := profilesAndRules(t)
	byID := map[string]*rules.Rule{}
	for _, r := range all {
		byID[r.ID] = r
	}
	named := map[string]bool{}
	for _, p := range profiles {
		for _, c := range p.Controls {
			if c.Rule == "" {
				continue
			}
			named[c.Rule] = true
			if r := byID[c.Rule]; r == nil || r.Package != finding.PackageCIS {
				t.Errorf("profile %s: control %s names rule %q, which is not a cis rule", p.ID, c.CIS, c.Rule)
			}
		}
		id, rel, _ := strings.Cut(p.OS[0], ":")
		o := &host.OSRelease{ID: id, Release: rel, Major: rel}
		out := rules.Evaluate(&host.Inventory{OS: o}, all, []string{finding.PackageCIS})
		var scope report.Coverage
		for _, c := range out.Coverage {
			if c.Scope == p.OS[0] {
				scope = c
			}
		}
		if !strings.Contains(scope.Reason, p.Name()) || !strings.Contains(scope.Reason, "verified on "+p.Verification) {
			t.Errorf("profile %s: coverage %q does not name the benchmark and how it was verified", p.ID, scope.Reason)
		}
		if _, missing := p.Implemented(all); len(missing) > 0 && (scope.Status == report.Evaluated || !strings.Contains(scope.Reason, "not evaluated:")) {
			t.Errorf("profile %s: %d controls not implemented, yet the coverage says %s: %q", p.ID, len(missing), scope.Status, scope.Reason)
		}
	}
	for _, r := range all {
		if r.Package == finding.PackageCIS && !named[r.ID] {
			t.Errorf("cis rule %s is in no profile: no host would ever evaluate it", r.ID)
		}
	}
}

// The Debian 12 profile numbers its findings as its benchmark does; an OS
// without a profile is said at once, naming the releases that have one.
func TestCISProfileNumbering(t *testing.T) {
	profiles, err := rules.Profiles()
	if err != nil {
		t.Fatal(err)
	}
	deb := &host.OSRelease{Family: "debian", ID: "debian", Release: "12", Major: "12"}
	p := rules.ProfileFor(profiles, deb)
	if p == nil || p.ID != "debian12" || p.Version != "v1.1.0" || len(p.Controls) != 245 || len(p.NotAssessed()) != 21 {
		t.Fatalf("debian 12 profile: %+v", p)
	}
	c, ok := p.Control("cis-6.1.1.4")
	if !ok || c.ID() != "cis-6.1.1.4" || !strings.Contains(c.CIS, "6.1.3.3") {
		t.Errorf("one rule answering several sections: %+v", c)
	}
	deb11 := &host.OSRelease{Family: "debian", ID: "debian", Release: "11", Major: "11"}
	out := rules.Evaluate(&host.Inventory{OS: deb11}, nil, []string{finding.PackageCIS})
	if len(out.Results) != 0 {
		t.Errorf("debian 11 has no profile, yet %d results", len(out.Results))
	}
	for _, c := range out.Coverage {
		if c.Status != report.NotEvaluated {
			t.Errorf("debian 11 cis coverage %+v, want not_evaluated", c)
		}
		if c.Scope == "debian:11" && !strings.Contains(c.Reason, "profiles exist for debian:12") {
			t.Errorf("debian 11 coverage does not say which release has a profile: %q", c.Reason)
		}
	}
}

// A profile is refused when it lists a section or a rule twice, misses
// its id or verification, or covers an OS another profile covers.
func TestProfilesFSRejects(t *testing.T) {
	const good = "id: a\nbenchmark: B\nversion: v1\nlevel: 1\nos: [\"x:1\"]\nverification: fixtures\nverified_by: v\ncontrols:\n"
	for name, c := range map[string]struct{ files map[string]string }{
		"section twice":            {map[string]string{"p/a.yaml": good + "  - {cis: \"1.1\", catalogue: K}\n  - {cis: \"1.2;1.1\", catalogue: K}\n"}},
		"rule twice":               {map[string]string{"p/a.yaml": good + "  - {cis: \"1.1\", rule: r, catalogue: K}\n  - {cis: \"1.2\", rule: r, catalogue: K}\n"}},
		"no verification":          {map[string]string{"p/a.yaml": strings.Replace(good, "verification: fixtures\n", "", 1) + "  - {cis: \"1.1\", catalogue: K}\n"}},
		"bad verification":         {map[string]string{"p/a.yaml": strings.Replace(good, "fixtures", "vibes", 1) + "  - {cis: \"1.1\", catalogue: K}\n"}},
		"no id":                    {map[string]string{"p/a.yaml": strings.Replace(good, "id: a\n", "", 1) + "  - {cis: \"1.1\", catalogue: K}\n"}},
		"os without release":       {map[string]string{"p/a.yaml": strings.Replace(good, `"x:1"`, `"x"`, 1) + "  - {cis: \"1.1\", catalogue: K}\n"}},
		"unknown field":            {map[string]string{"p/a.yaml": good + "  - {cis: \"1.1\", catalogue: K, rules: r}\n"}},
		"not assessed with a rule": {map[string]string{"p/a.yaml": good + "  - {cis: \"1.1\", rule: r, catalogue: K, not_assessed: why}\n"}},
		"no catalogue":             {map[string]string{"p/a.yaml": good + "  - {cis: \"1.1\", rule: r}\n"}},
		"os twice": {map[string]string{"p/a.yaml": good + "  - {cis: \"1.1\", catalogue: K}\n",
			"p/b.yaml": strings.Replace(good, "id: a", "id: b", 1) + "  - {cis: \"1.1\", catalogue: K}\n"}},
	} {
		fsys := fstest.MapFS{}
		for n, body := range c.files {
			fsys[n] = &fstest.MapFile{Data: []byte(body)}
		}
		if _, err := rules.ProfilesFS(fsys, "p"); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := rules.ProfilesFS(fstest.MapFS{"p/a.yaml": {Data: []byte(good + "  - {cis: \"1.1\", rule: r, catalogue: K}\n")}}, "p"); err != nil {
		t.Errorf("a good profile: %v", err)
	}
}

// Each profile's controls are the workplace catalogue's: every control's
// catalogue id exists in shared/checks/linux-controls.csv, and is a row
// for that OS family.
func TestCISProfilesMatchCatalogue(t *testing.T) {
	path := filepath.Join("..", "..", "..", "shared", "checks", "linux-controls.csv")
	f, err := os.Open(path)
	if err != nil {
		t.Skipf("the control catalogue is not here (%v): this test runs in the workplace and in CI", err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, name := range rows[0] {
		col[name] = i
	}
	families := map[string][]string{}
	for _, row := range rows[1:] {
		families[row[col["id"]]] = strings.Split(row[col["os_families"]], ",")
	}
	profiles, err := rules.Profiles()
	if err != nil {
		t.Fatal(err)
	}
	familyOf := map[string]string{"debian": "debian", "ubuntu": "ubuntu", "rhel": "rhel", "almalinux": "rhel", "rocky": "rhel", "amzn": "amzn"}
	for _, p := range profiles {
		id, _, _ := strings.Cut(p.OS[0], ":")
		for _, c := range p.Controls {
			if c.Catalogue == "" && c.Rule == "" {
				continue // not assessable, or not in the catalogue yet
			}
			fam, ok := families[c.Catalogue]
			if !ok {
				t.Errorf("profile %s: control %s: catalogue id %s is not in the catalogue", p.ID, c.CIS, c.Catalogue)
				continue
			}
			if !slices.Contains(fam, familyOf[id]) {
				t.Errorf("profile %s: control %s: catalogue row %s is for %v, not %s", p.ID, c.CIS, c.Catalogue, fam, familyOf[id])
			}
		}
	}
}

// profilesAndRules loads the embedded profiles and rules.
func profilesAndRules(tb testing.TB) ([]*rules.Profile, []*rules.Rule) {
	tb.Helper()
	profiles, err := rules.Profiles()
	if err != nil {
		tb.Fatal(err)
	}
	all, err := rules.Load()
	if err != nil {
		tb.Fatal(err)
	}
	return profiles, all
}
