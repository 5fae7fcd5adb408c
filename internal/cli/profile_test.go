package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kensa-dev/kensa/internal/finding"
	"github.com/kensa-dev/kensa/internal/report"
)

// scan --profile applies the tailoring: the report names the file and its
// changes, a disabled rule is not_applicable with its reason, and a
// tailored threshold decides the result and shows in the finding's prose.
func TestScanWithProfile(t *testing.T) {
	root := t.TempDir()
	for name, content := range map[string]string{
		"etc/os-release": "ID=debian\nVERSION_ID=\"12\"\nNAME=\"Debian GNU/Linux\"\n",
		"etc/login.defs": "PASS_MAX_DAYS 200\nPASS_MIN_DAYS 1\n",
		"etc/passwd":     "root:x:0:0:root:/root:/bin/bash\n",
		"etc/shadow":     "root:*:19000:1:200:7:::\n",
	} {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	scan := func(t *testing.T, args ...string) *report.Report {
		t.Helper()
		out := filepath.Join(t.TempDir(), "report.json")
		args = append([]string{"scan", "--root", root, "--packages", "best-practices", "--format", "json", "--output", out}, args...)
		if code, _, stderr := run(t, args...); code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		if err := report.Validate(b); err != nil {
			t.Fatal(err)
		}
		r, err := report.ReadJSON(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	results := func(r *report.Report) map[string]finding.Result {
		got := map[string]finding.Result{}
		for _, res := range r.Results {
			got[res.RuleID] = res
		}
		return got
	}
	plain := scan(t)
	if plain.Tailoring != nil {
		t.Errorf("tailoring without --profile: %+v", plain.Tailoring)
	}
	if res := results(plain)["password-max-age"]; res.Status != finding.StatusPass {
		t.Fatalf("untailored password-max-age (200 days): %+v", res)
	}

	profile := filepath.Join(t.TempDir(), "site.yaml")
	if err := os.WriteFile(profile, []byte(`tailoring: 1
title: test site
rules:
  aslr-enabled:
    disabled: true
    reason: checked by the hypervisor team (ticket SEC-7)
  password-max-age:
    set:
      login_defs.max: 90
      shadow_max_age.max: 90
`), 0o644); err != nil {
		t.Fatal(err)
	}
	r := scan(t, "--profile", profile)
	if r.Tailoring == nil || r.Tailoring.Title != "test site" || r.Tailoring.File != profile || len(r.Tailoring.SHA256) != 64 || len(r.Tailoring.Changes) != 3 {
		t.Fatalf("tailoring = %+v", r.Tailoring)
	}
	got := results(r)
	if res := got["aslr-enabled"]; res.Status != finding.StatusNotApplicable || !strings.Contains(res.Reason, "SEC-7") {
		t.Errorf("aslr-enabled: %+v", res)
	}
	if res := got["password-max-age"]; res.Status != finding.StatusFail || !strings.Contains(res.Reason, "200") {
		t.Errorf("password-max-age at 90 days: %+v", res)
	}
	for _, f := range r.Findings {
		if f.RuleID == "password-max-age" && !strings.Contains(f.Title+f.Description, "90") {
			t.Errorf("the finding's prose does not show the tailored limit: %q %q", f.Title, f.Description)
		}
	}
}

// A broken tailoring file stops the scan before anything is collected,
// with a usage error naming the problem.
func TestScanProfileErrors(t *testing.T) {
	dir := t.TempDir()
	for name, doc := range map[string]string{
		"typo.yaml":    "tailoring: 1\nrules:\n  password-max-age: {disabeld: true}\n",
		"unknown.yaml": "tailoring: 1\nrules:\n  no-such-rule: {severity: low}\n",
	} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
		code, _, stderr := run(t, "scan", "--root", t.TempDir(), "--packages", "best-practices", "--profile", p)
		if code != ExitUsage || !strings.Contains(stderr, "--profile") {
			t.Errorf("%s: exit %d, stderr %q", name, code, stderr)
		}
	}
	code, _, stderr := run(t, "scan", "--packages", "best-practices", "--profile", filepath.Join(dir, "missing.yaml"))
	if code != ExitUsage || !strings.Contains(stderr, "no such file") {
		t.Errorf("missing: exit %d, stderr %q", code, stderr)
	}
}
