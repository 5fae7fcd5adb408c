package rules_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kensa-dev/kensa/internal/finding"
	"github.com/kensa-dev/kensa/internal/host"
	"github.com/kensa-dev/kensa/internal/rules"
)

func ruleByID(t *testing.T, all []*rules.Rule, id string) *rules.Rule {
	t.Helper()
	for _, r := range all {
		if r.ID == id {
			return r
		}
	}
	t.Fatalf("no rule %s", id)
	return nil
}

// The example in docs/ loads and applies, and its changes reach the
// checks, the prose and the results; the embedded rules stay untouched.
func TestTailoringExample(t *testing.T) {
	tl, err := rules.LoadTailoring(filepath.Join("..", "..", "docs", "examples", "tailoring.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	all, err := rules.Load()
	if err != nil {
		t.Fatal(err)
	}
	tailored, err := tl.Apply(all)
	if err != nil {
		t.Fatal(err)
	}
	if len(tailored) != len(all) {
		t.Fatalf("%d rules after tailoring, %d before", len(tailored), len(all))
	}
	pml := ruleByID(t, tailored, "password-min-length")
	if pml.Check.Password.MinLength != 16 || pml.Severity != finding.High {
		t.Errorf("password-min-length: min_length %d severity %s", pml.Check.Password.MinLength, pml.Severity)
	}
	if title, desc, rem := pml.Text(); !strings.Contains(title+desc+rem, "16") {
		t.Errorf("prose does not show the tailored value: %q %q %q", title, desc, rem)
	}
	if orig := ruleByID(t, all, "password-min-length"); orig.Check.Password.MinLength != 14 || orig.Severity != finding.Medium {
		t.Errorf("the embedded rule changed: %+v", orig.Check.Password)
	}
	if got := *ruleByID(t, tailored, "cis-5.1.7").Check.All[0].SSHDNumber.Min; got != 30 {
		t.Errorf("cis-5.1.7 ClientAliveInterval min %d", got)
	}
	if got := ruleByID(t, tailored, "cis-5.1.15").Check.SSHDList.Allowed; len(got) != 5 || got[4] != "umac-128-etm@openssh.com" {
		t.Errorf("cis-5.1.15 allowed %v", got)
	}
	// The disabled rule is not_applicable with the reason, on any host.
	inv := &host.Inventory{OS: &host.OSRelease{ID: "debian", Family: "debian", Major: "12", Release: "12"}, Config: &host.Config{}}
	out := rules.Evaluate(inv, tailored, []string{finding.PackageCIS})
	found := false
	for _, r := range out.Results {
		if r.RuleID == "cis-1.1.2.1.4" {
			found = true
			if r.Status != finding.StatusNotApplicable || !strings.Contains(r.Reason, "ticket OPS-1234") {
				t.Errorf("disabled rule: %+v", r)
			}
		}
	}
	if !found {
		t.Error("the disabled rule has no result")
	}
	if ch := strings.Join(tl.Changes(), "\n"); !strings.Contains(ch, "cis-1.1.2.1.4: disabled: build hosts") ||
		!strings.Contains(ch, "password-min-length: password_policy.min_length = 16") {
		t.Errorf("changes:\n%s", ch)
	}
	if len(tl.SHA256) != 64 {
		t.Errorf("sha256 %q", tl.SHA256)
	}
}

// Every mistake in a tailoring file is an error naming it: a tailoring
// that silently did nothing would leave a site believing a policy holds.
func TestTailoringErrors(t *testing.T) {
	all, err := rules.Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ name, doc, want string }{
		{"no version", "rules: {}", "format version"},
		{"unknown field", "tailoring: 1\nrules:\n  cis-5.1.7: {disabeld: true}", "disabeld"},
		{"disabled without reason", "tailoring: 1\nrules:\n  cis-5.1.7: {disabled: true}", "without a reason"},
		{"nothing changed", "tailoring: 1\nrules:\n  cis-5.1.7: {}", "changes nothing"},
		{"bad severity", "tailoring: 1\nrules:\n  cis-5.1.7: {severity: critical}", "severity"},
		{"bad level", "tailoring: 1\nlevel: 3", "level 3"},
		{"unknown rule", "tailoring: 1\nrules:\n  cis-9.9.9: {severity: low}", "no such rule"},
		{"unknown kind", "tailoring: 1\nrules:\n  cis-5.1.7: {set: {sysctl.key: x}}", "the check has sshd_number.keyword"},
		{"unknown parameter", "tailoring: 1\nrules:\n  password-min-length: {set: {password_policy.minimum: 3}}", "password_policy.min_length"},
		{"wrong type", "tailoring: 1\nrules:\n  password-min-length: {set: {password_policy.min_length: many}}", "does not fit"},
		{"invalid result", "tailoring: 1\nrules:\n  password-min-length: {set: {password_policy.min_length: 0}}", "one of min_length"},
		{"add to a number", "tailoring: 1\nrules:\n  password-min-length: {add: {password_policy.min_length: [3]}}", "not a list"},
		{"remove what is not there", "tailoring: 1\nrules:\n  cis-2.2.1: {remove: {packages.absent: [telnet]}}", "not in it"},
	} {
		tl, err := rules.ParseTailoring([]byte(c.doc))
		if err == nil {
			_, err = tl.Apply(all)
		}
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}
}

// Levels: a rule referenced at a higher CIS level than the tailoring's is
// set aside with that reason.
func TestTailoringLevel(t *testing.T) {
	r, err := rules.Parse([]byte(`id: l2-rule
package: best-practices
title: t
description: d
rationale: r
remediation: m
target: x
severity: low
references:
  cis:
    debian12: {id: "9.9", level: 2}
check:
  cpu_nx: {}
`))
	if err != nil {
		t.Fatal(err)
	}
	tl, err := rules.ParseTailoring([]byte("tailoring: 1\nlevel: 1\n"))
	if err != nil {
		t.Fatal(err)
	}
	out, err := tl.Apply([]*rules.Rule{r})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out[0].Disabled, "CIS level 2") || r.Disabled != "" {
		t.Errorf("tailored %q, original %q", out[0].Disabled, r.Disabled)
	}
}

func TestLoadTailoringLimits(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "big.yaml")
	if err := os.WriteFile(big, []byte("tailoring: 1\n"+strings.Repeat("# pad\n", 300000)), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := rules.LoadTailoring(big); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("big file: %v", err)
	}
	if _, err := rules.LoadTailoring(filepath.Join(dir, "missing.yaml")); err == nil {
		t.Error("missing file: no error")
	}
}

// The example in docs/rules.md is a valid tailoring of the embedded rules.
func TestTailoringDocExample(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", "rules.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, after, ok := strings.Cut(string(b), "## Tailoring")
	if !ok {
		t.Fatal("docs/rules.md has no Tailoring section")
	}
	_, block, ok := strings.Cut(after, "```yaml\n")
	block, _, ok2 := strings.Cut(block, "```")
	if !ok || !ok2 {
		t.Fatal("no yaml example in the Tailoring section")
	}
	tl, err := rules.ParseTailoring([]byte(block))
	if err != nil {
		t.Fatal(err)
	}
	all, err := rules.Load()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tl.Apply(all); err != nil {
		t.Fatal(err)
	}
}

// With a benchmark, a tailoring's cis keys are that benchmark's numbers:
// Amazon Linux 2023's 1.1.1.3 is the cramfs rule (Debian 12's 1.1.1.1),
// not the rule file named cis-1.1.1.3 (hfs). An unknown benchmark, or a
// number the benchmark has no rule for, is an error.
func TestTailoringBenchmark(t *testing.T) {
	all, err := rules.Load()
	if err != nil {
		t.Fatal(err)
	}
	disabled := func(doc string) (map[string]bool, error) {
		tl, err := rules.ParseTailoring([]byte(doc))
		if err != nil {
			t.Fatal(err)
		}
		out, err := tl.Apply(all)
		got := map[string]bool{}
		for _, r := range out {
			if r.Disabled != "" {
				got[r.ID] = true
			}
		}
		return got, err
	}
	const off = "    disabled: true\n    reason: no such file systems here\n"
	got, err := disabled("tailoring: 1\nbenchmark: al2023\nrules:\n  cis-1.1.1.3:\n" + off + "  ssh-root-login:\n" + off)
	if err != nil || len(got) != 2 || !got["cis-1.1.1.1"] || !got["ssh-root-login"] {
		t.Errorf("al2023's 1.1.1.3: disabled %v, %v; want the cramfs rule cis-1.1.1.1 and ssh-root-login", got, err)
	}
	if got, err := disabled("tailoring: 1\nrules:\n  cis-1.1.1.3:\n" + off); err != nil || len(got) != 1 || !got["cis-1.1.1.3"] {
		t.Errorf("without a benchmark, keys are rule ids: %v, %v", got, err)
	}
	if _, err := disabled("tailoring: 1\nbenchmark: rhel7\nrules:\n  cis-1.1.1.3:\n" + off); err == nil || !strings.Contains(err.Error(), "no such CIS profile") {
		t.Errorf("unknown benchmark: %v", err)
	}
	if _, err := disabled("tailoring: 1\nbenchmark: rhel9\nrules:\n  cis-9.9.9:\n" + off); err == nil || !strings.Contains(err.Error(), "has no control 9.9.9") {
		t.Errorf("unknown control: %v", err)
	}
}
