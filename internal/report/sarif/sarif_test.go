package sarif

import (
	"bytes"
	"encoding/json"
	"errors"
	"github.com/kensa-dev/kensa/internal/report/reporttest"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/kensa-dev/kensa/internal/finding"
	"github.com/kensa-dev/kensa/internal/report"
)

// schemaPath is the OASIS SARIF 2.1.0 schema (errata 01); see
// testdata/README.md for where it comes from.
const schemaPath = "testdata/sarif-schema-2.1.0.json"

// sarifSchema compiles the schema once. Formats are asserted, so that a
// date-time or a URI reference that is not one fails.
var sarifSchema = sync.OnceValues(func() (*jsonschema.Schema, error) {
	f, err := os.Open(schemaPath)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		return nil, err
	}
	id, _ := doc.(map[string]any)["id"].(string)
	if id == "" {
		return nil, errors.New("the schema has no id")
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource(id, doc); err != nil {
		return nil, err
	}
	return c.Compile(id)
})

// validate checks doc against the SARIF 2.1.0 schema.
func validate(t *testing.T, doc []byte) error {
	t.Helper()
	s, err := sarifSchema()
	if err != nil {
		t.Fatalf("schema: %v", err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		return err
	}
	return s.Validate(inst)
}

func render(t *testing.T, r *report.Report) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := Write(&buf, r); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func decodeLog(t *testing.T, doc []byte) sarifLog {
	t.Helper()
	var l sarifLog
	if err := json.Unmarshal(doc, &l); err != nil {
		t.Fatal(err)
	}
	if len(l.Runs) != 1 {
		t.Fatalf("%d runs, want 1", len(l.Runs))
	}
	return l
}

func TestWriteGolden(t *testing.T) {
	for _, fx := range reporttest.Fixtures {
		t.Run(fx.Name, func(t *testing.T) {
			doc := render(t, fx.Build())
			if err := validate(t, doc); err != nil {
				t.Fatalf("not valid SARIF 2.1.0: %v", err)
			}
			reporttest.Golden(t, fx.Name+".sarif", doc)
		})
	}
}

// The validation must be able to fail: each mutation of a valid document
// breaks one rule of the schema.
func TestSchemaRejectsInvalidDocuments(t *testing.T) {
	doc := render(t, reporttest.CVE())
	if err := validate(t, doc); err != nil {
		t.Fatalf("the unmodified document is invalid: %v", err)
	}
	// Each mutation breaks one rule of the schema, at where.
	mutations := []reporttest.Mutation{
		{Name: "unknown version", Where: "'/version'", Mutate: func(m map[string]any) { m["version"] = "2.2.0" }},
		{Name: "no runs", Where: "missing property 'runs'", Mutate: func(m map[string]any) { delete(m, "runs") }},
		{Name: "driver without name", Where: "'/runs/0/tool/driver'", Mutate: func(m map[string]any) { delete(driverOf(m), "name") }},
		{Name: "level critical", Where: "'/runs/0/results/0/level'", Mutate: func(m map[string]any) { firstResult(m)["level"] = "critical" }},
		{Name: "message without text", Where: "'/runs/0/results/0/message'", Mutate: func(m map[string]any) {
			firstResult(m)["message"] = map[string]any{"markdown": "x"}
		}},
		{Name: "start line 0", Where: "region/startLine'", Mutate: func(m map[string]any) {
			loc := firstResult(m)["locations"].([]any)[0].(map[string]any)
			loc["physicalLocation"].(map[string]any)["region"] = map[string]any{"startLine": 0}
		}},
		{Name: "bad start time", Where: "'/runs/0/invocations/0/startTimeUtc'", Mutate: func(m map[string]any) {
			m["runs"].([]any)[0].(map[string]any)["invocations"].([]any)[0].(map[string]any)["startTimeUtc"] = "yesterday"
		}},
		{Name: "rule tags not unique", Where: "properties/tags'", Mutate: func(m map[string]any) {
			rule := driverOf(m)["rules"].([]any)[0].(map[string]any)
			rule["properties"].(map[string]any)["tags"] = []any{"security", "security"}
		}},
		{Name: "unknown result property", Where: "'severity' not allowed", Mutate: func(m map[string]any) { firstResult(m)["severity"] = "high" }},
	}
	reporttest.Rejects(t, doc, func(b []byte) error { return validate(t, b) }, mutations)
}

func driverOf(m map[string]any) map[string]any {
	return m["runs"].([]any)[0].(map[string]any)["tool"].(map[string]any)["driver"].(map[string]any)
}

func firstResult(m map[string]any) map[string]any {
	return m["runs"].([]any)[0].(map[string]any)["results"].([]any)[0].(map[string]any)
}

// The output is a function of the report's content, not of the order of
// its lists, and Write leaves the report as it was.
func TestDeterministic(t *testing.T) {
	for _, fx := range reporttest.Fixtures {
		t.Run(fx.Name, func(t *testing.T) {
			reporttest.Deterministic(t, fx.Build, func(r *report.Report) []byte { return render(t, r) })
		})
	}
}

// Invariants every log must keep, whatever the report: the ones GitHub
// code scanning enforces on upload, and the links between results, rules
// and notifications.
func TestInvariants(t *testing.T) {
	for _, fx := range reporttest.Fixtures {
		t.Run(fx.Name, func(t *testing.T) {
			r := fx.Build()
			l := decodeLog(t, render(t, r))
			run := l.Runs[0]
			rules := run.Tool.Driver.Rules

			ids := map[string]bool{}
			for i, rule := range rules {
				if ids[rule.ID] {
					t.Errorf("rule %s described twice", rule.ID)
				}
				ids[rule.ID] = true
				if i > 0 {
					a, b := rules[i-1], rule
					if c := packageRank(a.Properties.RulesPackage) - packageRank(b.Properties.RulesPackage); c > 0 || (c == 0 && compareNatural(a.ID, b.ID) > 0) {
						t.Errorf("rules out of order: %s before %s", a.ID, b.ID)
					}
				}
				if rule.ShortDescription == nil || rule.ShortDescription.Text == "" || rule.FullDescription == nil || rule.FullDescription.Text == "" {
					t.Errorf("rule %s lacks a description", rule.ID)
				}
			}
			// Every rule of the report, passed or not, is described.
			for _, res := range r.Results {
				if !ids[resultRuleID(res)] {
					t.Errorf("result %s/%s has no rule", res.RulesPackage, res.RuleID)
				}
			}

			if len(run.Results) != len(r.Findings) {
				t.Fatalf("%d results for %d findings", len(run.Results), len(r.Findings))
			}
			fps := map[string]bool{}
			for _, res := range run.Results {
				if res.RuleIndex < 0 || res.RuleIndex >= len(rules) || rules[res.RuleIndex].ID != res.RuleID {
					t.Errorf("result %s: ruleIndex %d does not point to its rule", res.RuleID, res.RuleIndex)
				}
				fp := res.PartialFingerprints[FingerprintKey]
				if fp == "" || fps[fp] {
					t.Errorf("result %s: fingerprint %q missing or repeated", res.RuleID, fp)
				}
				fps[fp] = true
				// GitHub rejects a whole upload for one result without
				// an artifact URI.
				if len(res.Locations) == 0 || res.Locations[0].PhysicalLocation == nil || res.Locations[0].PhysicalLocation.ArtifactLocation.URI == "" {
					t.Errorf("result %s (%s) has no artifact URI", res.RuleID, fp)
				}
			}
			for _, f := range r.Findings {
				if !fps[f.ID] {
					t.Errorf("finding %s has no result", f.ID)
				}
			}

			for _, n := range run.Invocations[0].ToolExecutionNotifications {
				d := run.Tool.Driver.Notifications
				if n.Descriptor.Index < 0 || n.Descriptor.Index >= len(d) || d[n.Descriptor.Index].ID != n.Descriptor.ID {
					t.Errorf("notification %q: descriptor %+v does not point to its descriptor", n.Message.Text, n.Descriptor)
				}
				if a := n.AssociatedRule; a != nil && (a.Index < 0 || a.Index >= len(rules) || rules[a.Index].ID != a.ID) {
					t.Errorf("notification %q: associated rule %+v does not point to its rule", n.Message.Text, *a)
				}
			}
			if !run.Invocations[0].ExecutionSuccessful {
				t.Error("executionSuccessful is false")
			}
		})
	}
}

// Kensa's promise: never clean for what was not evaluated. Every coverage
// entry that is not evaluated is an error notification with its reason
// (SARIF: "the results cannot be assumed to be complete"), and nothing
// else is.
func TestCoverageGapsAreErrorNotifications(t *testing.T) {
	r := reporttest.Clean()
	run := decodeLog(t, render(t, r)).Runs[0]
	var got []report.Coverage
	for _, n := range run.Invocations[0].ToolExecutionNotifications {
		if n.Descriptor.ID != NotifyCoverageGap {
			continue
		}
		if n.Level != "error" {
			t.Errorf("coverage gap %q has level %s, want error", n.Message.Text, n.Level)
		}
		var c report.Coverage
		b, _ := json.Marshal(n.Properties)
		if err := json.Unmarshal(b, &c); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(n.Message.Text, c.Reason) || !strings.Contains(n.Message.Text, c.Package) {
			t.Errorf("message %q does not name the package and reason of %+v", n.Message.Text, c)
		}
		got = append(got, c)
	}
	var want []report.Coverage
	for _, c := range report.Canonical(r).Coverage {
		if c.Status != report.Evaluated {
			want = append(want, c)
		}
	}
	if len(want) != r.Summary.CoverageGaps || len(want) == 0 {
		t.Fatalf("fixture: %d gaps, summary says %d", len(want), r.Summary.CoverageGaps)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("coverage gap notifications (-want +got):\n%s", diff)
	}

	// The rest of the clean report's gaps: the stale feed and the
	// vulnerabilities left out.
	levels := map[string]string{}
	for _, n := range run.Invocations[0].ToolExecutionNotifications {
		levels[n.Descriptor.ID] = n.Level
	}
	if levels[NotifyStaleFeed] != "warning" || levels[NotifyIgnoredUnfixed] != "note" || levels[NotifyPackageNotRun] != "warning" {
		t.Errorf("notification levels %v: want a stale feed warning, an ignored-unfixed note, a not-run warning (best-practices)", levels)
	}
	if len(run.Results) != 0 {
		t.Errorf("%d results for a report without findings", len(run.Results))
	}
}

// A complete assessment has no error notification, and a rule that errored
// is one, pointing at its rule.
func TestErrorNotificationsOnlyForGaps(t *testing.T) {
	r := reporttest.Config()
	r.Coverage = []report.Coverage{
		{Package: "cis", Scope: "*", Status: report.Evaluated}, {Package: "cis", Scope: "debian:12", Status: report.Evaluated},
		{Package: "best-practices", Scope: "*", Status: report.Evaluated}, {Package: "best-practices", Scope: "debian:12", Status: report.Evaluated},
		{Package: "cve", Scope: "*", Status: report.Evaluated}, {Package: "runtime", Scope: "*", Status: report.Evaluated},
	}
	run := decodeLog(t, render(t, r)).Runs[0]
	var errs []notification
	for _, n := range run.Invocations[0].ToolExecutionNotifications {
		if n.Level == "error" {
			errs = append(errs, n)
		}
	}
	if len(errs) != 1 || errs[0].Descriptor.ID != NotifyRuleError || errs[0].AssociatedRule == nil || errs[0].AssociatedRule.ID != "best-practices/bp-rsyslog-remote" {
		t.Fatalf("error notifications %+v, want the one of best-practices/bp-rsyslog-remote", errs)
	}
	if !strings.Contains(errs[0].Message.Text, "permission denied") {
		t.Errorf("message %q lacks the reason", errs[0].Message.Text)
	}

	r.Results = slices.DeleteFunc(r.Results, func(res finding.Result) bool { return res.Status == finding.StatusError })
	for _, n := range decodeLog(t, render(t, r)).Runs[0].Invocations[0].ToolExecutionNotifications {
		t.Errorf("unexpected notification for a complete assessment: %s %s", n.Level, n.Message.Text)
	}
}

// A vulnerability is one rule, whatever the packages it is found in, and
// the rule carries what GitHub ranks and links by.
func TestVulnerabilityRules(t *testing.T) {
	run := decodeLog(t, render(t, reporttest.CVE())).Runs[0]
	rules := map[string]reportingDescriptor{}
	for _, rule := range run.Tool.Driver.Rules {
		rules[rule.ID] = rule
	}
	count := map[string]int{}
	for _, res := range run.Results {
		count[res.RuleID]++
	}
	if count["CVE-2023-38545"] != 2 {
		t.Errorf("CVE-2023-38545 (libcurl4 and curl): %d results, want 2", count["CVE-2023-38545"])
	}

	tests := []struct {
		id, severity, level, helpURI string
		tags                         []string
	}{
		{"CVE-2023-38545", "9.8", "error", "https://security-tracker.debian.org/tracker/CVE-2023-38545", []string{"security", "cve", "high", "vulnerability"}},
		{"CVE-2021-44228", "10.0", "error", "https://github.com/advisories/GHSA-jfh8-c2jp-5v3q", []string{"security", "cve", "high", "vulnerability", "known-exploited"}},
		// Vendor-rated: no score, the middle of GitHub's medium band.
		{"CVE-2024-2511", "5.5", "warning", "https://security-tracker.debian.org/tracker/CVE-2024-2511", []string{"security", "cve", "medium", "vulnerability"}},
		// Unrated: no security-severity; the first reference is not a
		// URL, so the second is the help.
		{"GO-2024-2687", "", "note", "https://pkg.go.dev/vuln/GO-2024-2687", []string{"security", "cve", "unrated", "vulnerability"}},
		{"cve/kernel-reboot-required", "5.5", "warning", "", []string{"security", "cve", "medium"}},
	}
	for _, tt := range tests {
		rule, ok := rules[tt.id]
		if !ok {
			t.Errorf("no rule %s", tt.id)
			continue
		}
		if rule.Properties.SecuritySeverity != tt.severity || rule.DefaultConfiguration.Level != tt.level || rule.HelpURI != tt.helpURI {
			t.Errorf("%s: security-severity %q, level %s, helpUri %q; want %q, %s, %q", tt.id,
				rule.Properties.SecuritySeverity, rule.DefaultConfiguration.Level, rule.HelpURI, tt.severity, tt.level, tt.helpURI)
		}
		if !slices.Equal(rule.Properties.Tags, tt.tags) {
			t.Errorf("%s: tags %v, want %v", tt.id, rule.Properties.Tags, tt.tags)
		}
	}
	// The error result of an advisory is described under the advisory,
	// and the passed os-end-of-life rule is described too.
	if r, ok := rules["DSA-5600-1"]; !ok || r.Properties.Results == nil || r.Properties.Results.Error != 1 {
		t.Errorf("DSA-5600-1: %+v, want a rule with 1 error result", r)
	}
	if r, ok := rules["cve/os-end-of-life"]; !ok || r.Properties.Results == nil || r.Properties.Results.Pass != 1 || r.DefaultConfiguration != nil {
		t.Errorf("cve/os-end-of-life: %+v, want a rule with 1 pass and no default level", r)
	}
	// The feed's summary from the title when there is one, else the
	// description's first sentence.
	for id, want := range map[string]string{
		"GO-2024-2687":   "GO-2024-2687: HTTP/2 CONTINUATION flood in net/http",
		"CVE-2023-38545": "CVE-2023-38545: This flaw makes curl overflow a heap based buffer in the SOCKS5 proxy handshake.",
	} {
		if got := rules[id].ShortDescription.Text; got != want {
			t.Errorf("%s: short description %q, want %q", id, got, want)
		}
	}
	// Both results of CVE-2023-38545 are in the dpkg database; the
	// package tells them apart.
	var pkgs []string
	for _, res := range run.Results {
		if res.RuleID == "CVE-2023-38545" {
			for _, ll := range res.Locations[0].LogicalLocations {
				pkgs = append(pkgs, ll.FullyQualifiedName)
			}
		}
	}
	slices.Sort(pkgs)
	if want := []string{"Debian:12/curl", "Debian:12/libcurl4"}; !slices.Equal(pkgs, want) {
		t.Errorf("packages of CVE-2023-38545's results: %v, want %v", pkgs, want)
	}
	help := rules["CVE-2023-38545"].Help
	for _, want := range []string{"DSA-5525-1", "libcurl4 to 7.88.1-10+deb12u4", "--only-upgrade curl`", "https://curl.se/docs/CVE-2023-38545.html"} {
		if !strings.Contains(help.Text, want) || !strings.Contains(help.Markdown, want) {
			t.Errorf("help of CVE-2023-38545 lacks %q:\n%s", want, help.Text)
		}
	}
}

func TestLevelAndSecuritySeverity(t *testing.T) {
	tests := []struct {
		sev      finding.Severity
		score    *float64
		level    string
		security string // "" for none
	}{
		{finding.High, nil, "error", "8.0"},
		{finding.High, score(9.1), "error", "9.1"},
		{finding.Medium, nil, "warning", "5.5"},
		{finding.Medium, score(4.3), "warning", "4.3"},
		{finding.Low, nil, "note", "2.0"},
		{finding.Informational, nil, "note", ""},
		{finding.Informational, score(0), "note", ""},
		{finding.Unrated, nil, "note", ""},
	}
	for _, tt := range tests {
		f := &finding.Finding{Severity: tt.sev, Score: tt.score}
		got := ""
		if s, ok := securitySeverity(f); ok {
			got = formatScore(s)
		}
		if level(tt.sev) != tt.level || got != tt.security {
			t.Errorf("%s score %v: level %s, security-severity %q; want %s, %q", tt.sev, tt.score, level(tt.sev), got, tt.level, tt.security)
		}
	}
}

func TestEvidencePlace(t *testing.T) {
	tests := []struct {
		line string
		path string
		n    int
		ok   bool
	}{
		{"/etc/ssh/sshd_config:32: PermitRootLogin yes", "/etc/ssh/sshd_config", 32, true},
		{"/etc/pam.d/common-password:25 pam_pwquality.so: minlen 8", "/etc/pam.d/common-password", 25, true},
		{"/etc/issue.net: Debian GNU/Linux 12", "/etc/issue.net", 0, true},
		{"/dev/shm is not a separate partition", "/dev/shm", 0, true},
		{"/etc/motd", "/etc/motd", 0, true},
		{"/etc/passwd:0: line zero", "/etc/passwd", 0, true},
		// A setting's origin in parentheses; a line beats none, the last
		// origin beats the first.
		{"sshd: Ciphers aes128-cbc (/etc/ssh/sshd_config:41); want no CBC cipher", "/etc/ssh/sshd_config", 41, true},
		{"/etc/login.defs: PASS_MAX_DAYS 99999 (/etc/login.defs:160); want 365 or less", "/etc/login.defs", 160, true},
		{"sshd: Match User bob (/etc/ssh/sshd_config:50): PasswordAuthentication yes (/etc/ssh/sshd_config:52)", "/etc/ssh/sshd_config", 52, true},
		{"ufw: ENABLED=yes (/etc/ufw/ufw.conf)", "/etc/ufw/ufw.conf", 0, true},
		// Not clearly a path: left alone.
		{"sshd: PermitRootLogin yes (sshd -T)", "", 0, false},
		{"sshd: PermitRootLogin yes (default); want no", "", 0, false},
		{"sshd: x (/etc/ssh/sshd config:3)", "", 0, false},
		{"no /etc/securetty", "", 0, false},
		{"/etc/fstab.d/*.conf: no line", "", 0, false},
		{"/etc/a, /etc/b: missing", "", 0, false},
		{"/a:b/c: colon inside", "", 0, false},
		{"/:root", "", 0, false},
		{"relative/path:3: x", "", 0, false},
		{"/etc/x:12abc", "", 0, false},
	}
	for _, tt := range tests {
		p, ok := evidencePlace(tt.line)
		if ok != tt.ok || p.path != tt.path || p.line != tt.n {
			t.Errorf("%q: %q line %d ok %v; want %q line %d ok %v", tt.line, p.path, p.line, ok, tt.path, tt.n, tt.ok)
		}
	}
}

func TestLocate(t *testing.T) {
	vuln := func(loc string) *finding.Finding {
		return &finding.Finding{RulesPackage: "cve", RuleID: "cve/Go", Vulnerability: &finding.Vulnerability{ID: "GO-1", Location: loc},
			Attributes: map[string]string{"location": "/var/lib/dpkg/status"}, Evidence: []string{"/ignored:1: x"}}
	}
	tests := []struct {
		name    string
		f       *finding.Finding
		uri     string // primary artifact URI
		base    string
		line    int
		related []string // "uri:line" of related locations
	}{
		{"os package", &finding.Finding{RulesPackage: "cve", RuleID: "cve/Debian", Vulnerability: &finding.Vulnerability{ID: "CVE-1"},
			Attributes: map[string]string{"location": "/var/lib/dpkg/status"}}, "var/lib/dpkg/status", RootBaseID, 0, nil},
		{"binary", vuln("/usr/local/bin/app"), "usr/local/bin/app", RootBaseID, 0, []string{"ignored:1"}},
		{"nested archive: the outer file", vuln("/opt/a-1.war!/WEB-INF/lib/b-2.jar"), "opt/a-1.war", RootBaseID, 0, []string{"ignored:1"}},
		{"evidence line first, the rest related", &finding.Finding{Evidence: []string{"/etc/passwd:3: a", "/etc/shadow: b", "/etc/passwd:9: c", "/etc/passwd:3: again"},
			Attributes: map[string]string{"target": "/etc/passwd"}}, "etc/passwd", RootBaseID, 3, []string{"etc/shadow:0", "etc/passwd:9"}},
		{"path attribute before evidence without a line", &finding.Finding{Evidence: []string{"/etc/other: x"},
			Attributes: map[string]string{"path": "/opt/my app/a:b"}}, "opt/my%20app/a%3Ab", RootBaseID, 0, []string{"etc/other:0"}},
		{"target path", &finding.Finding{Attributes: map[string]string{"target": "/home"}}, "home", RootBaseID, 0, nil},
		{"target with spaces is not a path: exe", &finding.Finding{Attributes: map[string]string{"target": "/usr/bin/telnet telnet 192.0.2.7:23", "exe": "/usr/bin/telnet"}},
			"usr/bin/telnet", RootBaseID, 0, nil},
		{"relative paths and the root are not files", &finding.Finding{Attributes: map[string]string{"path": "bin/x", "target": "/"}}, "web-01", "", 0, nil},
		{"host-wide", &finding.Finding{Attributes: map[string]string{"target": "kernel 6.1"}}, "web-01", "", 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, related := locate(tt.f, "web-01")
			a := l.PhysicalLocation.ArtifactLocation
			line := 0
			if reg := l.PhysicalLocation.Region; reg != nil {
				line = reg.StartLine
			}
			if a.URI != tt.uri || a.URIBaseID != tt.base || line != tt.line {
				t.Errorf("location %s (base %q) line %d; want %s (base %q) line %d", a.URI, a.URIBaseID, line, tt.uri, tt.base, tt.line)
			}
			var rel []string
			for _, r := range related {
				n := 0
				if r.PhysicalLocation.Region != nil {
					n = r.PhysicalLocation.Region.StartLine
				}
				rel = append(rel, r.PhysicalLocation.ArtifactLocation.URI+":"+strconv.Itoa(n))
			}
			if !slices.Equal(rel, tt.related) {
				t.Errorf("related %v, want %v", rel, tt.related)
			}
		})
	}
}

func TestRootBase(t *testing.T) {
	tests := []struct {
		host report.Host
		uri  string
	}{
		{report.Host{Hostname: "a", Root: "/", Live: true}, "file:///"},
		{report.Host{Root: "/mnt/images/web", MachineID: "m"}, "file:///mnt/images/web/"},
		{report.Host{Root: "/mnt/with space/"}, "file:///mnt/with%20space/"},
		{report.Host{Root: "images/web"}, ""},
	}
	for _, tt := range tests {
		if got := rootBase(tt.host); got.URI != tt.uri || got.Description == nil {
			t.Errorf("root %q: %+v, want uri %q and a description", tt.host.Root, got, tt.uri)
		}
	}
}

func TestCompareNatural(t *testing.T) {
	sorted := []string{"CVE-2024-999", "CVE-2024-1000", "cis-1.1.2", "cis-5.2.9", "cis-5.2.10", "cis-5.2.10a", "cis-05.3"}
	got := slices.Clone(sorted)
	slices.Reverse(got)
	slices.SortFunc(got, compareNatural)
	if !slices.Equal(got, sorted) {
		t.Errorf("sorted %v, want %v", got, sorted)
	}
}

// An empty report is still valid SARIF, and says that nothing was
// evaluated rather than nothing found.
func TestEmptyReport(t *testing.T) {
	doc := render(t, &report.Report{})
	if err := validate(t, doc); err != nil {
		t.Fatalf("not valid SARIF 2.1.0: %v", err)
	}
	run := decodeLog(t, doc).Runs[0]
	var notRun []string
	for _, n := range run.Invocations[0].ToolExecutionNotifications {
		if n.Descriptor.ID == NotifyPackageNotRun {
			notRun = append(notRun, n.Properties.(map[string]any)["package"].(string))
		}
	}
	if !slices.Equal(notRun, finding.Packages()) {
		t.Errorf("packages notified as not run: %v, want %v", notRun, finding.Packages())
	}
	if len(run.Results) != 0 || len(run.Tool.Driver.Rules) != 0 {
		t.Errorf("%d results and %d rules for an empty report", len(run.Results), len(run.Tool.Driver.Rules))
	}
}

// A suppressed finding is a result marked accepted, with the
// suppression's justification, not a result that disappears.
func TestSuppressedFindingsAreAcceptedResults(t *testing.T) {
	r := reporttest.Config()
	s := r.Findings[0]
	r.Findings = r.Findings[1:]
	r.Suppressed = []report.Suppressed{{Finding: s, Reason: "banner set by the image", Owner: "platform", Expires: "2030-01-31", Rule: "line 3: rule " + s.RuleID}}
	r.Summary = report.Summarize(r)
	doc := render(t, r)
	if err := validate(t, doc); err != nil {
		t.Fatalf("invalid SARIF: %v", err)
	}
	var log struct {
		Runs []struct {
			Results []struct {
				PartialFingerprints map[string]string `json:"partialFingerprints"`
				Suppressions        []struct {
					Kind, Status, Justification string
				} `json:"suppressions"`
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(doc, &log); err != nil {
		t.Fatal(err)
	}
	res := log.Runs[0].Results
	if len(res) != len(r.Findings)+1 {
		t.Fatalf("%d results for %d findings and 1 suppressed", len(res), len(r.Findings))
	}
	n := 0
	for _, x := range res {
		if len(x.Suppressions) == 0 {
			continue
		}
		n++
		sp := x.Suppressions[0]
		if x.PartialFingerprints["kensa/v1"] != s.ID || sp.Kind != "external" || sp.Status != "accepted" ||
			!strings.Contains(sp.Justification, "banner set by the image") || !strings.Contains(sp.Justification, "platform") {
			t.Errorf("suppressed result %+v", x)
		}
	}
	if n != 1 {
		t.Errorf("%d results marked suppressed, want 1", n)
	}
}

func score(s float64) *float64 { return &s }
