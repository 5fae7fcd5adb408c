package rules_test

import (
	"strings"
	"testing"
	"testing/fstest"

	"github.com/kensa-dev/kensa/internal/rules"
)

// Every embedded rule loads: unknown fields, missing prose, bad severities
// and malformed checks fail here, in go test.
func TestEmbeddedRulesLoad(t *testing.T) {
	all, err := rules.Load()
	if err != nil {
		t.Fatal(err)
	}
	if len(all) == 0 {
		t.Fatal("no rules")
	}
	for _, r := range all {
		title, desc, rem := r.Text()
		if strings.Contains(title+desc+rem, "{{") || strings.Contains(title+desc+rem, "<no value>") {
			t.Errorf("%s: unexpanded template", r.ID)
		}
	}
}

func TestRuleValidation(t *testing.T) {
	base := "id: x\npackage: best-practices\ntitle: T\ntarget: t\nseverity: medium\ndescription: D\nrationale: R\nremediation: M\n"
	for name, c := range map[string]struct{ yaml, want string }{
		"unknown field":     {base + "severty: high\ncheck:\n  cpu_nx: {}\n", "unknown field"},
		"unknown kind":      {base + "check:\n  sshd_opton: {keyword: x, equals: [y]}\n", "unknown field"},
		"two kinds":         {base + "check:\n  cpu_nx: {}\n  sysctl: {key: a, equals: b}\n", "exactly one"},
		"no kind":           {base + "check: {}\n", "exactly one"},
		"bad severity":      {strings.Replace(base, "medium", "catastrophic", 1) + "check:\n  cpu_nx: {}\n", "severity"},
		"missing prose":     {strings.Replace(base, "rationale: R\n", "", 1) + "check:\n  cpu_nx: {}\n", "missing rationale"},
		"bad template":      {strings.Replace(base, "title: T", "title: '{{.nope.x}}'", 1) + "check:\n  cpu_nx: {}\n", "template"},
		"cve package":       {strings.Replace(base, "best-practices", "cve", 1) + "check:\n  cpu_nx: {}\n", "not a configuration"},
		"bad sshd scope":    {base + "check:\n  sshd_option: {keyword: a, equals: [b], scope: some}\n", "scope"},
		"bad path_mode who": {base + "check:\n  path_mode: {paths: [/etc], owner: root, not_writable_by: [world]}\n", "not_writable_by"},
	} {
		_, err := rules.Parse([]byte(c.yaml))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one mentioning %q", name, err, c.want)
		}
	}
	fsys := fstest.MapFS{
		"p/a.yaml": {Data: []byte(base + "check:\n  cpu_nx: {}\n")},
		"p/b.yaml": {Data: []byte(base + "check:\n  cpu_nx: {}\n")},
	}
	if _, err := rules.LoadFS(fsys, "p"); err == nil || !strings.Contains(err.Error(), "also defined") {
		t.Errorf("duplicate ids: %v", err)
	}
}
