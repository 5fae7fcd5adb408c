package suppress

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kensa-dev/kensa/internal/finding"
)

// FuzzLoad feeds the parser arbitrary documents. It must never panic, and
// whatever it accepts must be a file of valid rules: a reason, an owner
// and something to match each, a line inside the document, and an Apply
// that returns every finding.
func FuzzLoad(f *testing.F) {
	if ex, err := os.ReadFile(filepath.Join("..", "..", "docs", "examples", "kensa-ignore.yaml")); err == nil {
		f.Add(ex)
	}
	for _, s := range []string{
		"version: 1\nsuppressions:\n  - vulnerability: CVE-2023-38545\n    reason: r\n    owner: o\n    expires: 2025-06-30\n",
		"version: 1\nsuppressions:\n  - {rule: \"cis-[1-5].*\", host: \"web-?\", path: \"/opt/**/bin/*\", reason: r, owner: o}\n",
		"version: 1\nsuppressions:\n  - &a {package: curl, reason: r, owner: o}\n  - *a\n",
		"version: 1\nsuppressions:\n  - rule: x\n    reason: r\n    owner: o\n    typo: 1\n",
		"version: 1\nsuppressions: [1, null, [], {}]\n",
		"version: 1\nsuppressions:\n  - path: \"**/x/**\"\n    rules_package: runtime\n    reason: |\n      multi\n      line\n    owner: o\n",
		"version: 2\n",
		"",
		"- a\n",
		"version: 1\nsuppressions:\n  - rule: !!binary aGVsbG8=\n    reason: r\n    owner: o\n",
	} {
		f.Add([]byte(s))
	}
	findings := []finding.Finding{
		vuln("CVE-2023-38545", "curl", "", "", "DSA-1"),
		vuln("GO-2024-1", "stdlib", "", "/opt/x/bin/y"),
		other(finding.PackageCIS, "cis-5.2.1", map[string]string{"target": "/etc/ssh/sshd_config"}),
		other(finding.PackageRuntime, "software-without-dep", map[string]string{"path": "/opt/v/bin/a", "package": "v"}),
	}
	now := time.Date(2025, 6, 15, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, data []byte) {
		rules, err := parse(data, "fuzz")
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz") {
				t.Errorf("error does not name the file: %v", err)
			}
			return
		}
		nlines := strings.Count(string(data), "\n") + 1
		for _, r := range rules {
			if err := r.Validate(); err != nil {
				t.Errorf("accepted an invalid rule %+v: %v", r, err)
			}
			if r.Line < 1 || r.Line > nlines {
				t.Errorf("rule line %d outside the document's %d lines", r.Line, nlines)
			}
		}
		file := &File{Rules: rules}
		out := file.Apply("web-1", "m", findings, now)
		if len(out.Kept)+len(out.Suppressed) != len(findings) {
			t.Errorf("kept %d + suppressed %d of %d findings", len(out.Kept), len(out.Suppressed), len(findings))
		}
		if len(out.Expired)+len(out.Unused) > len(rules) {
			t.Errorf("expired %d + unused %d of %d rules", len(out.Expired), len(out.Unused), len(rules))
		}
	})
}
