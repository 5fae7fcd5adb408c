package rules_test

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kensa-dev/kensa/internal/finding"
	"github.com/kensa-dev/kensa/internal/rules"
)

var updateProfiles = flag.Bool("update", false, "rewrite the profile goldens under testdata/profiles")

// Every CIS profile is evaluated whole on a default root of its OS and on
// a hardened one (testdata/profiles/<id>/{default,hardened}.root, layers of
// testdata/roots/_shared). Which controls pass and which fail on each is
// kept in a golden file beside the root, reviewed like code: a change in
// any rule's verdict on the OS as shipped, or as hardened, shows up there.
// Hardening must pass more controls and fail fewer than the default.
func TestProfileRoots(t *testing.T) {
	profiles, all := profilesAndRules(t)
	for _, p := range profiles {
		t.Run(p.ID, func(t *testing.T) {
			counts := map[string]map[string]int{}
			for _, kind := range []string{"default", "hardened"} {
				src := filepath.Join("testdata", "profiles", p.ID, kind+".root")
				if _, err := os.Stat(src); err != nil {
					t.Fatalf("profile %s has no %s root: add %s", p.ID, kind, src)
				}
				inv := collectRoot(t, src)
				if inv.OS == nil || !p.Covers(inv.OS) {
					t.Fatalf("%s: the root's OS %+v is not one the profile covers (%v)", src, inv.OS, p.OS)
				}
				out := rules.Evaluate(inv, all, []string{finding.PackageCIS})
				counts[kind] = map[string]int{}
				var b strings.Builder
				fmt.Fprintf(&b, "# %s on the %s root (go test -run TestProfileRoots -update rewrites this file)\n", p.Name(), kind)
				for _, r := range out.Results {
					counts[kind][r.Status]++
					fmt.Fprintf(&b, "%s %s\n", r.RuleID, r.Status)
				}
				fmt.Fprintf(&b, "# %d pass, %d fail, %d not_applicable, %d error\n", counts[kind][finding.StatusPass], counts[kind][finding.StatusFail],
					counts[kind][finding.StatusNotApplicable], counts[kind][finding.StatusError])
				golden := filepath.Join("testdata", "profiles", p.ID, kind+".golden")
				if *updateProfiles {
					if err := os.WriteFile(golden, []byte(b.String()), 0o644); err != nil {
						t.Fatal(err)
					}
				}
				want, err := os.ReadFile(golden)
				if err != nil {
					t.Fatalf("%v (go test -run TestProfileRoots -update writes it)", err)
				}
				if got := b.String(); got != string(want) {
					t.Errorf("%s differs from the evaluation:\n%s", golden, lineDiff(string(want), got))
				}
				// A control without a rule yields no result (the coverage
				// lists it as not evaluated): one result per implemented one.
				if done, _ := p.Implemented(all); len(out.Results) != len(done) {
					t.Errorf("%s: %d results for %d implemented controls", src, len(out.Results), len(done))
				}
			}
			if counts["hardened"][finding.StatusPass] <= counts["default"][finding.StatusPass] ||
				counts["hardened"][finding.StatusFail] >= counts["default"][finding.StatusFail] {
				t.Errorf("hardening did not help: default %v, hardened %v", counts["default"], counts["hardened"])
			}
		})
	}
}

// lineDiff lists the lines only one side has.
func lineDiff(want, got string) string {
	in := func(s string) map[string]bool {
		m := map[string]bool{}
		for _, l := range strings.Split(s, "\n") {
			m[l] = true
		}
		return m
	}
	w, g := in(want), in(got)
	var b strings.Builder
	for _, l := range strings.Split(want, "\n") {
		if !g[l] {
			fmt.Fprintf(&b, "- %s\n", l)
		}
	}
	for _, l := range strings.Split(got, "\n") {
		if !w[l] {
			fmt.Fprintf(&b, "+ %s\n", l)
		}
	}
	return b.String()
}

// BenchmarkProfiles evaluates each CIS profile whole on its default root's
// inventory (collected once, outside the timing): the cost of the rules,
// not of collection.
func BenchmarkProfiles(b *testing.B) {
	profiles, all := profilesAndRules(b)
	for _, p := range profiles {
		b.Run(p.ID, func(b *testing.B) {
			inv := collectRoot(b, filepath.Join("testdata", "profiles", p.ID, "default.root"))
			b.ReportAllocs()
			for b.Loop() {
				rules.Evaluate(inv, all, []string{finding.PackageCIS})
			}
		})
	}
}
