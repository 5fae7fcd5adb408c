package rules_test

import (
	"strings"
	"testing"

	"github.com/kensa-dev/kensa/internal/finding"
	"github.com/kensa-dev/kensa/internal/host"
	"github.com/kensa-dev/kensa/internal/rules"
)

// RHEL 9 and its rebuilds share one profile, numbered by the RHEL 9
// benchmark; RHEL 8 and its rebuilds another; other releases of the
// family have none.
func TestRHEL9ProfileCoversRebuilds(t *testing.T) {
	profiles, err := rules.Profiles()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		id, release string
		want        string
	}{
		{"rhel", "9.4", "rhel9"},
		{"rhel", "9", "rhel9"},
		{"almalinux", "9.4", "rhel9"},
		{"rocky", "9.3", "rhel9"},
		{"rhel", "8.10", "rhel8"},
		{"almalinux", "8.10", "rhel8"},
		{"rocky", "8", "rhel8"},
		{"centos", "7", ""},
		{"centos", "9", ""},
		{"fedora", "40", ""},
	} {
		major, _, _ := strings.Cut(tc.release, ".")
		o := &host.OSRelease{ID: tc.id, Family: "rhel", Release: tc.release, Major: major}
		got := ""
		if p := rules.ProfileFor(profiles, o); p != nil {
			got = p.ID
		}
		if got != tc.want {
			t.Errorf("%s %s: profile %q, want %q", tc.id, tc.release, got, tc.want)
		}
	}
	p := rules.ProfileFor(profiles, &host.OSRelease{ID: "rocky", Family: "rhel", Release: "9.4", Major: "9"})
	if p == nil || p.Version != "v2.0.0" || !strings.Contains(p.Numbering, "Rocky Linux 9") || !strings.Contains(p.Numbering, "AlmaLinux") {
		t.Fatalf("rhel9 profile: %+v", p)
	}
	// Findings on a rebuild carry the RHEL 9 benchmark's numbers: the rule
	// written as Debian 12's 2.1.2 answers 2.1.2 here too, the Debian
	// 12's 1.6.1 (motd) answers 1.7.1.
	if c, ok := p.Control("cis-1.6.1"); !ok || c.ID() != "cis-1.7.1" {
		t.Errorf("cis-1.6.1 in rhel9: %+v", c)
	}
	all, err := rules.Load()
	if err != nil {
		t.Fatal(err)
	}
	out := rules.Evaluate(&host.Inventory{OS: &host.OSRelease{ID: "almalinux", Family: "rhel", Release: "9.4", Major: "9"}}, all, []string{finding.PackageCIS})
	done, _ := p.Implemented(all)
	if len(out.Results) != len(done) {
		t.Errorf("almalinux 9.4: %d results, want one per implemented control (%d)", len(out.Results), len(done))
	}
	targets := map[string]string{}
	for _, r := range out.Results {
		targets[r.RuleID] = r.Target
	}
	if targets["cis-1.7.1"] != "/etc/motd" || targets["cis-1.6.1"] != "/etc/crypto-policies/config" {
		t.Errorf("almalinux 9.4: 1.7.1 is about %q, 1.6.1 about %q; want the motd and the crypto policy", targets["cis-1.7.1"], targets["cis-1.6.1"])
	}
}

// Amazon Linux 2023 has its own profile, numbered as CaC numbers the
// benchmark (and saying that Wazuh's numbers differ); Amazon Linux 2 has
// another, numbered as Wazuh numbers its benchmark.
func TestAL2023Profile(t *testing.T) {
	profiles, err := rules.Profiles()
	if err != nil {
		t.Fatal(err)
	}
	p := rules.ProfileFor(profiles, &host.OSRelease{ID: "amzn", Family: "rhel", Release: "2023", Major: "2023"})
	if p == nil || p.ID != "al2023" || p.Version != "v1.0.0" || !strings.Contains(p.Numbering, "Wazuh") {
		t.Fatalf("amzn 2023 profile: %+v", p)
	}
	if c, ok := p.Control("cis-5.1.20"); !ok || c.ID() != "cis-4.2.7" {
		t.Errorf("SSH root login on AL2023: %+v, want cis-4.2.7", c)
	}
	p2 := rules.ProfileFor(profiles, &host.OSRelease{ID: "amzn", Family: "rhel", Release: "2", Major: "2"})
	if p2 == nil || p2.ID != "al2" || p2.Version != "v2.0.0" || !strings.Contains(p2.Numbering, "Wazuh") {
		t.Fatalf("amzn 2 profile: %+v", p2)
	}
	// SSH root login is 5.3.10 in the AL2 benchmark (4.2.7 in AL2023's).
	if c, ok := p2.Control("cis-5.1.20"); !ok || c.ID() != "cis-5.3.10" {
		t.Errorf("SSH root login on AL2: %+v, want cis-5.3.10", c)
	}
	// Amazon Linux 2018.03 (AL1) has no profile.
	if p := rules.ProfileFor(profiles, &host.OSRelease{ID: "amzn", Family: "rhel", Release: "2018.03", Major: "2018.03"}); p != nil {
		t.Errorf("amzn 2018.03 has profile %s", p.ID)
	}
}
