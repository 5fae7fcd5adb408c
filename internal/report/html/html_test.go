package html

import (
	"bytes"
	"fmt"
	stdhtml "html"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kensa-dev/kensa/internal/finding"
	"github.com/kensa-dev/kensa/internal/host"
	"github.com/kensa-dev/kensa/internal/report"
	"github.com/kensa-dev/kensa/internal/report/reporttest"
)

func render(t testing.TB, r *report.Report, opt Options) string {
	t.Helper()
	var buf bytes.Buffer
	if err := Write(&buf, r, opt); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// golden compares got with testdata/name, or rewrites it under -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	reporttest.Golden(t, name, []byte(withoutAssets(t, got)))
}

// withoutAssets replaces the embedded stylesheets and script, the same in
// every document, by their names: the golden files hold what a report
// changes, and checkDocument checks the inline assets and their hashes.
func withoutAssets(t *testing.T, doc string) string {
	t.Helper()
	for _, name := range []string{"style.css", "noscript.css", "script.js"} {
		b, err := assets.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(doc, string(b)) {
			t.Fatalf("the document does not hold %s whole", name)
		}
		doc = strings.ReplaceAll(doc, string(b), "/* "+name+" */")
	}
	return doc
}

// kinds are the two reports, by the suffix of their golden files.
var kinds = []struct {
	suffix string
	opt    Options
}{{"", Options{}}, {"_full", Options{Full: true}}}

// Every fixture in both kinds is a well-formed, self-contained document;
// the golden files keep three of them (all, all_full, clean): the other
// fixtures' findings are all in "all", and a golden file per fixture and
// kind would repeat the same markup ten times.
func TestWriteGolden(t *testing.T) {
	goldens := map[string]bool{"all": true, "all_full": true, "clean": true}
	for _, fx := range reporttest.Fixtures {
		for _, k := range kinds {
			t.Run(fx.Name+k.suffix, func(t *testing.T) {
				doc := render(t, fx.Build(), k.opt)
				checkDocument(t, doc)
				if goldens[fx.Name+k.suffix] {
					golden(t, fx.Name+k.suffix+".html", doc)
				}
			})
		}
	}
}

// The output is a function of the report's content, not of the order of
// its lists: Write puts them in canonical order first.
func TestWriteIgnoresInputOrder(t *testing.T) {
	r := reporttest.All()
	r.Suppressed = []report.Suppressed{
		{Finding: r.Findings[1], Reason: "a", Owner: "o"},
		{Finding: r.Findings[2], Reason: "b", Owner: "o"},
	}
	r.Findings = r.Findings[3:]
	r.Summary = report.Summarize(r)
	for _, k := range kinds {
		want := render(t, r, k.opt)
		shuffled := *r
		for _, l := range []any{&shuffled.Findings, &shuffled.Coverage, &shuffled.Feeds, &shuffled.Results, &shuffled.Suppressed} {
			switch l := l.(type) {
			case *[]finding.Finding:
				*l = slices.Clone(*l)
				slices.Reverse(*l)
			case *[]report.Coverage:
				*l = slices.Clone(*l)
				slices.Reverse(*l)
			case *[]report.Feed:
				*l = slices.Clone(*l)
				slices.Reverse(*l)
			case *[]finding.Result:
				*l = slices.Clone(*l)
				slices.Reverse(*l)
			case *[]report.Suppressed:
				*l = slices.Clone(*l)
				slices.Reverse(*l)
			}
		}
		if got := render(t, &shuffled, k.opt); got != want {
			t.Errorf("%+v: the output depends on the order of the report's lists", k.opt)
		}
		if again := render(t, r, k.opt); again != want {
			t.Errorf("%+v: two renderings of one report differ", k.opt)
		}
	}
}

// Every finding is a row in the page itself, with JavaScript or without.
func TestRowsAreServerRendered(t *testing.T) {
	r := reporttest.All()
	doc := render(t, r, Options{})
	for _, sev := range finding.Severities() {
		want := r.Summary.BySeverity[string(sev)]
		if got := strings.Count(doc, `<tr data-s="`+string(sev)+`"`); got != want {
			t.Errorf("%d rows of severity %s, want %d", got, sev, want)
		}
	}
	if got := strings.Count(doc, "<tr data-s="); got != len(r.Findings) {
		t.Errorf("%d finding rows, want %d", got, len(r.Findings))
	}
	// A long table is cut into chunks of chunkRows rows.
	large := render(t, reporttest.Large(2*chunkRows+1), Options{})
	table := between(t, large, `<table id="findings-table"`, "</table>")
	if n, rows := strings.Count(table, "<tbody>"), strings.Count(table, "<tr data-s="); n != 3 || rows != 2*chunkRows+1 {
		t.Errorf("%d chunks of %d rows, want 3 of %d", n, rows, 2*chunkRows+1)
	}
	// The filter controls only exist for the script, which shows them.
	if !strings.Contains(doc, `<div id="filters" class="controls" role="search" aria-label="Filter findings" hidden>`) {
		t.Error("the filter controls are not hidden until the script shows them")
	}
	// Each finding's details, at least the first evidence line and the
	// recommendation, are in the page.
	for _, f := range r.Findings {
		for _, want := range []string{escape(f.Evidence[0]), escape(f.Recommendation), f.ID} {
			if !strings.Contains(doc, want) {
				t.Errorf("finding %s: %q not in the page", f.RuleID, want)
			}
		}
	}
}

// escape is what html/template makes of plain text.
func escape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&#34;", "'", "&#39;", "+", "&#43;").Replace(s)
}

// A report without findings whose coverage has gaps never reads as clean:
// the verdict says incomplete and names the gaps, the coverage lists
// each scope not evaluated with its reason, the stale feed and the
// vulnerabilities left out are shown.
func TestNoFindingsIsNotClean(t *testing.T) {
	r := reporttest.Clean()
	doc := render(t, r, Options{})
	for _, want := range []string{
		`<section id="verdict" class="verdict v-incomplete"`,
		"Verdict: INCOMPLETE",
		"No findings, but the assessment is incomplete: 3 scopes were not evaluated and 1 was only partially evaluated.",
		"No findings. This does not mean the host is clean",
		"no advisories for npm in the vulnerability database",
		"runtime behavior is observed on a running system; /mnt/images/web is an image (--root)",
		`<span class="st bad">Stale</span> older than 7 days`,
		"1 feed is older than 7 days",
		"3 vulnerabilities without a released fix were found and left out on request",
		"image at /mnt/images/web (not a running system)",
		"runtime (not evaluated)", // the package chart
		"2 of 3 scopes fully evaluated; npm not evaluated",
	} {
		if !strings.Contains(doc, want) {
			t.Errorf("the report of a clean image with gaps lacks %q", want)
		}
	}
	if strings.Contains(doc, "Complete assessment") {
		t.Error("an incomplete assessment is called complete")
	}
}

func TestVerdict(t *testing.T) {
	complete := reporttest.Base()
	for _, p := range finding.Packages() {
		complete.Coverage = append(complete.Coverage, report.Coverage{Package: p, Scope: "*", Status: report.Evaluated})
	}
	complete.Summary = report.Summarize(complete)

	notRun := reporttest.Config() // cis and best-practices; best-practices partial
	notRun.Coverage = slices.DeleteFunc(slices.Clone(notRun.Coverage), func(c report.Coverage) bool { return c.Package == "best-practices" })
	notRun.Findings = slices.DeleteFunc(slices.Clone(notRun.Findings), func(f finding.Finding) bool { return f.RulesPackage == "best-practices" })
	notRun.Summary = report.Summarize(notRun)

	empty := &report.Report{}
	tests := []struct {
		name  string
		r     *report.Report
		class string
		want  []string
	}{
		{"complete", complete, "complete", []string{"Verdict: complete", "Complete assessment: every rules package and scope was evaluated.", "0 findings: 0 high"}},
		{"packages not run", notRun, "notrun", []string{"Verdict: complete for the rules packages that ran",
			"not every rules package ran", "rules packages not requested, so not evaluated: cve, best-practices, runtime"}},
		{"gaps", reporttest.Config(), "incomplete", []string{"Verdict: INCOMPLETE", "Incomplete assessment: 2 scopes were only partially evaluated; there may be more findings than shown.",
			"<b>best-practices</b> debian:12: 4 rules: 1 pass, 2 fail, 0 not applicable, 1 error"}},
		{"no coverage", empty, "incomplete", []string{"nothing was evaluated (the report has no coverage)", "Nothing was evaluated: the report has no coverage entries."}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := render(t, tt.r, Options{})
			checkDocument(t, doc)
			if !strings.Contains(doc, `class="verdict v-`+tt.class+`"`) {
				t.Errorf("verdict is not %s", tt.class)
			}
			for _, w := range tt.want {
				if !strings.Contains(doc, w) {
					t.Errorf("lacks %q", w)
				}
			}
		})
	}
}

// Suppressed findings are listed with their reason, owner, expiry and
// rule, out of the findings table and the counts: never dropped.
func TestSuppressedAreListed(t *testing.T) {
	r := reporttest.Config()
	s := r.Findings[0]
	r.Findings = r.Findings[1:]
	r.Suppressed = []report.Suppressed{{Finding: s, Reason: "accepted: bastion host", Owner: "platform-team", Expires: "2030-01-31", Rule: "line 3: rule " + s.RuleID}}
	r.Suppressions = &report.Suppressions{File: ".kensa-ignore.yaml", SHA256: "ab12", Rules: 3, Expired: []string{"line 9: rule cis-1.1"}, Unused: []string{"line 12: rule bp-x"}}
	r.Summary = report.Summarize(r)
	doc := render(t, r, Options{})
	checkDocument(t, doc)
	_, sup, ok := strings.Cut(doc, `<section id="suppressed"`)
	if !ok {
		t.Fatal("no suppressed section")
	}
	sup, _, _ = strings.Cut(sup, "</section>")
	for _, want := range []string{"Suppressed (1)", "accepted: bastion host", "owner platform-team, until 2030-01-31", "line 3: rule " + s.RuleID, s.ID, escape(s.Title)} {
		if !strings.Contains(sup, want) {
			t.Errorf("suppressed section lacks %q", want)
		}
	}
	if strings.Count(doc, s.ID) != 1 {
		t.Errorf("the suppressed finding appears %d times, want once (in Suppressed only)", strings.Count(doc, s.ID))
	}
	for _, want := range []string{"1 suppressed (listed under Suppressed)", "line 9: rule cis-1.1", "line 12: rule bp-x", "1 suppression has expired", ".kensa-ignore.yaml (see Suppressed)"} {
		if !strings.Contains(doc, want) {
			t.Errorf("lacks %q", want)
		}
	}
}

// The full report adds every rule checked, per rules package, with its
// status and reason; the findings report has none of it.
func TestFullReportListsEveryRuleChecked(t *testing.T) {
	r := reporttest.All()
	full := render(t, r, Options{Full: true})
	findings := render(t, r, Options{})
	if strings.Contains(findings, `id="results"`) {
		t.Error("the findings report has the rules checked")
	}
	_, res, ok := strings.Cut(full, `<section id="results"`)
	if !ok {
		t.Fatal("the full report has no rules checked")
	}
	if got := strings.Count(res, `<td class="id">`); got != len(r.Results) {
		t.Errorf("%d rule results listed, want %d", got, len(r.Results))
	}
	for _, res2 := range r.Results {
		row := `<td class="id">` + escape(res2.RuleID) + `</td><td>` + escape(cmpOr(res2.Target, "–")) + `</td><td><span class="st `
		if !strings.Contains(res, row) {
			t.Errorf("no row for %s %s", res2.RuleID, res2.Target)
		}
		if res2.Reason != "" && !strings.Contains(res, escape(res2.Reason)) {
			t.Errorf("reason of %s missing", res2.RuleID)
		}
	}
	for _, want := range []string{
		"<h3>cve</h3>\n<p>3 rule results: 1 pass, 1 fail, 0 not applicable, 1 error.</p>",
		"<h3>cis</h3>\n<p>5 rule results: 1 pass, 3 fail, 1 not applicable, 0 error.</p>",
		`<span class="st muted">Not applicable</span>`, `<span class="st warn">Error</span>`, `<span class="st ok">Pass</span>`,
		"Full report", "disabled by tailoring: /dev/shm is mounted by systemd",
	} {
		if !strings.Contains(full, want) {
			t.Errorf("full report lacks %q", want)
		}
	}
	// A package that did not run says so rather than list nothing.
	cfg := render(t, reporttest.Config(), Options{Full: true})
	if !strings.Contains(cfg, "<h3>runtime</h3>\n<p>Not run: not requested, so nothing was evaluated.</p>") {
		t.Error("a rules package that did not run is not said so in the full report")
	}
	clean := render(t, reporttest.Clean(), Options{Full: true})
	for _, want := range []string{"<h3>runtime</h3>\n<p>Not evaluated: an image has no running system.</p>", "<h3>best-practices</h3>\n<p>Not run: not requested"} {
		if !strings.Contains(clean, want) {
			t.Errorf("full report of the clean image lacks %q", want)
		}
	}
}

func cmpOr(s, otherwise string) string {
	if s == "" {
		return otherwise
	}
	return s
}

func TestCharts(t *testing.T) {
	r := reporttest.Base()
	r.Coverage = []report.Coverage{{Package: "cve", Scope: "*", Status: report.Evaluated}}
	// 12 packages: pkg-a has 12 findings, pkg-b 11, ... pkg-l 1; and
	// pkg-z ties pkg-k at 2 (after it by name).
	for i := range 12 {
		name := fmt.Sprintf("pkg-%c", 'a'+i)
		for j := range 12 - i {
			r.Findings = append(r.Findings, vulnFinding(name, fmt.Sprintf("CVE-2024-%d%d", i, j)))
		}
	}
	r.Findings = append(r.Findings, vulnFinding("pkg-z", "CVE-2024-9000"), vulnFinding("pkg-z", "CVE-2024-9001"))
	r.Summary = report.Summarize(r)
	c := topPackageChart(report.Canonical(r))
	if c.Title != "Top 10 of 13 packages by vulnerability findings" {
		t.Errorf("title %q", c.Title)
	}
	var got []string
	for _, b := range c.Bars {
		got = append(got, fmt.Sprintf("%s=%d", b.Full, b.Count))
	}
	want := []string{"pkg-a (Debian:12)=12", "pkg-b (Debian:12)=11", "pkg-c (Debian:12)=10", "pkg-d (Debian:12)=9", "pkg-e (Debian:12)=8",
		"pkg-f (Debian:12)=7", "pkg-g (Debian:12)=6", "pkg-h (Debian:12)=5", "pkg-i (Debian:12)=4", "pkg-j (Debian:12)=3"}
	if !slices.Equal(got, want) {
		t.Errorf("bars %v, want %v", got, want)
	}
	if c.Bars[0].W != chartBarMax || c.Bars[9].W != 3*chartBarMax/12 {
		t.Errorf("bar widths %d and %d, want %d and %d", c.Bars[0].W, c.Bars[9].W, chartBarMax, 3*chartBarMax/12)
	}

	sev := severityChart(report.Canonical(reporttest.All()))
	want = []string{"High: 4", "Medium: 6", "Low: 1", "Informational: 2", "Unrated: 1"}
	if sev.Summary != "Findings by severity: "+strings.Join(want, ", ") {
		t.Errorf("severity chart %q", sev.Summary)
	}
	// One finding among many is still a visible bar.
	big := newChart("x", "x", []bar{{Full: "a", Count: 50000}, {Full: "b", Count: 1}, {Full: "c", Count: 0}})
	if big.Bars[1].W != 2 || big.Bars[2].W != 0 {
		t.Errorf("widths %d, %d; want 2, 0", big.Bars[1].W, big.Bars[2].W)
	}
	// No vulnerability findings: said, not drawn.
	if c := topPackageChart(report.Canonical(reporttest.Config())); c.Empty != "No vulnerability findings. The CVE rules package did not run." || len(c.Bars) != 0 {
		t.Errorf("empty chart: %q, %d bars", c.Empty, len(c.Bars))
	}
}

func vulnFinding(pkg, id string) finding.Finding {
	return finding.Finding{
		ID: reporttest.Fingerprint("cve", "cve/Debian", pkg, id), RulesPackage: "cve", RuleID: "cve/Debian", Severity: finding.Low,
		Title: id + " in " + pkg, Evidence: []string{"installed: " + pkg}, Attributes: map[string]string{},
		Vulnerability: &finding.Vulnerability{ID: id, Ecosystem: "Debian:12", Package: pkg, InstalledVersion: "1", Fix: finding.FixUnfixed},
	}
}

func TestRefOf(t *testing.T) {
	tests := []struct {
		in   string
		link bool
	}{
		{"https://security-tracker.debian.org/tracker/CVE-2024-2511", true},
		{"http://example.com/a?b=1&c=2", true},
		{"HTTPS://EXAMPLE.COM/x", true},
		{"javascript:alert(1)", false},
		{"JaVaScRiPt:alert(1)", false},
		{" javascript:alert(1)", false},
		{"java\tscript:alert(1)", false},
		{"data:text/html,<script>alert(1)</script>", false},
		{"vbscript:msgbox", false},
		{"file:///etc/passwd", false},
		{"//evil.example/x", false},
		{"https://user:pw@evil.example/", false},
		{`https://example.com/"><script>alert(1)</script>`, false},
		{"https://example.com/a b", false},
		{"https:/no-host", false},
		{"not a url", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := refOf(tt.in); (got.URL != "") != tt.link || (got.URL != "" && got.URL != tt.in) {
			t.Errorf("refOf(%q) = %+v, want a link: %v", tt.in, got, tt.link)
		}
	}
}

func TestLine(t *testing.T) {
	tests := []struct{ in, line, para string }{
		{"plain", "plain", "plain"},
		{"a\nb\r\nc\td", "a b  c d", "a\nb\nc d"},
		{"\x1b[31mred\x1b[0m", "\uFFFD[31mred\uFFFD[0m", "\uFFFD[31mred\uFFFD[0m"},
		{"abc\u202edcba", "abc\uFFFDdcba", "abc\uFFFDdcba"},
		{"bad\xffutf8", "bad\uFFFDutf8", "bad\uFFFDutf8"},
		{"nul\x00", "nul\uFFFD", "nul\uFFFD"},
		{"<b>&amp;</b>", "<b>&amp;</b>", "<b>&amp;</b>"}, // markup is the template's to escape
	}
	for _, tt := range tests {
		if got := line(tt.in); got != tt.line {
			t.Errorf("line(%q) = %q, want %q", tt.in, got, tt.line)
		}
		if got := para(tt.in); got != tt.para {
			t.Errorf("para(%q) = %q, want %q", tt.in, got, tt.para)
		}
	}
}

// hostile is the All report with markup, script, event handlers, control
// characters and bidirectional overrides in every kind of string a
// renderer shows, and dangerous URLs among the references.
func hostile() *report.Report {
	const x = `<script>window.__pwned=1</script>"><img src=x onerror="window.__pwned=1">'><svg onload=window.__pwned=1>` +
		`</td></tr></table><a href="javascript:window.__pwned=1">click</a><style>@import url(https://evil.example/x.css);</style>` +
		"\x1b[31m\u202e{{.}}"
	r := reporttest.All()
	r.Host.Hostname, r.Host.OS.PrettyName, r.Host.Kernel, r.Host.Root = x, x, x, x
	r.Tool.Version = x
	for i := range r.Findings {
		f := &r.Findings[i]
		f.Title, f.Description, f.Recommendation = x+f.Title, x, x
		f.Evidence = append(f.Evidence, x)
		if f.Vulnerability != nil {
			v := *f.Vulnerability
			v.Package, v.InstalledVersion, v.Aliases = x, x, []string{x}
			v.References = []string{"javascript:window.__pwned=1", "JaVaScRiPt:window.__pwned=1", " javascript:window.__pwned=1",
				"data:text/html,<script>window.__pwned=1</script>", `https://example.com/"><script>window.__pwned=1</script>`,
				"https://example.com/ok?a=1&b=2", "vbscript:x", "//evil.example/x"}
			f.Vulnerability = &v
		} else {
			f.Attributes = map[string]string{"target": x, x: x}
		}
	}
	r.Findings[0].RulesPackage = x
	r.Findings[1].Severity = finding.Severity(x)
	r.Findings[2].RuleID = x
	s := r.Findings[3]
	r.Findings = slices.Delete(r.Findings, 3, 4)
	r.Suppressed = []report.Suppressed{{Finding: s, Reason: x, Owner: x, Expires: x, Rule: x}}
	r.Suppressions = &report.Suppressions{File: x, SHA256: x, Rules: 1, Expired: []string{x}, Unused: []string{x}}
	for i := range r.Coverage {
		r.Coverage[i].Reason = x
	}
	r.Coverage[0].Scope = x
	r.Feeds[0].Name, r.Feeds[0].Format, r.Feeds[0].AgeBasis = x, x, x
	r.Tailoring.Changes = []string{x}
	r.Tailoring.Title, r.Tailoring.File = x, x
	r.Results[0].Reason, r.Results[0].Target, r.Results[0].RuleID = x, x, x
	r.Collectors = []host.CollectorRun{{Name: x, Status: x, Reason: x, Errors: []string{x}}}
	r.Discovery = &host.Discovery{Roots: []string{x}, Skipped: []host.SkippedPath{{Path: x, Reason: x}}, LimitsHit: []host.LimitHit{{Limit: x, Path: x, Value: 1}}}
	r.Inventory.Packages[x] = 1
	r.Inventory.Software[x] = 1
	r.Summary = report.Summarize(r)
	return r
}

// Nothing a scanned host wrote becomes markup: no tag, no attribute, no
// link to a non-http URL, no control character.
func TestHostileStringsStayText(t *testing.T) {
	r := hostile()
	for _, k := range kinds {
		doc := render(t, r, k.opt)
		checkDocument(t, doc)
		for _, bad := range []string{"\x1b", "\u202e", "<img", "<svg onload", "<a href=\"javascript", "<a href=\"data", "<a href=\"//", "<a href=\"vbscript"} {
			if strings.Contains(doc, bad) {
				t.Errorf("%+v: output holds %q", k.opt, bad)
			}
		}
		// The references that are not http(s) are shown, as text.
		for _, text := range []string{"<li>javascript:window.__pwned=1</li>", "<li>JaVaScRiPt:window.__pwned=1</li>", "<li> javascript:window.__pwned=1</li>",
			"<li>//evil.example/x</li>", "<li>data:text/html,&lt;script&gt;window.__pwned=1&lt;/script&gt;</li>",
			"<li>https://example.com/&#34;&gt;&lt;script&gt;window.__pwned=1&lt;/script&gt;</li>"} {
			if !strings.Contains(doc, text) {
				t.Errorf("%+v: reference not shown as text: %s", k.opt, text)
			}
		}
		if n := strings.Count(doc, "&lt;script&gt;window.__pwned=1&lt;/script&gt;"); n < 20 {
			t.Errorf("%+v: the hostile string is shown escaped %d times; want it everywhere it was put", k.opt, n)
		}
		if !strings.Contains(doc, `<a href="https://example.com/ok?a=1&amp;b=2" rel="noopener noreferrer" target="_blank">`) {
			t.Errorf("%+v: the one safe reference is not a link", k.opt)
		}
	}
}

// checkDocument holds for every report: one document, one inline style
// and one script, both allowed by the policy's hashes, nothing that loads
// anything, and only the tags and attributes the template writes.
func checkDocument(t *testing.T, doc string) {
	t.Helper()
	if !strings.HasPrefix(doc, "<!DOCTYPE html>\n<html lang=\"en\">") || !strings.HasSuffix(doc, "</html>\n") {
		t.Error("not one HTML5 document")
	}
	tags := parseTags(t, doc)
	counts := map[string]int{}
	for _, tg := range tags {
		counts[tg.name]++
		if !allowedTags[tg.name] {
			t.Errorf("unexpected element <%s>", tg.name)
		}
		for _, a := range tg.attrs {
			if !allowedAttr(tg.name, a.name) {
				t.Errorf("unexpected attribute %s on <%s>", a.name, tg.name)
			}
			if a.name == "href" {
				checkHref(t, tg, a.val)
			}
		}
	}
	for _, one := range []string{"html", "head", "body", "script", "main", "noscript"} {
		if counts[one] != 1 {
			t.Errorf("%d <%s> elements, want 1", counts[one], one)
		}
	}
	if counts["style"] != 2 {
		t.Errorf("%d <style> elements, want 2 (the stylesheet, and one for no JavaScript)", counts["style"])
	}

	// The policy comes first in <head>, and allows exactly the inline
	// style and script of the page, by hash.
	csp := ""
	for _, tg := range tags {
		if tg.name == "meta" && tg.attr("http-equiv") == "Content-Security-Policy" {
			csp = tg.attr("content")
		}
	}
	styleText := between(t, doc, "<style>", "</style>")
	noScriptText := between(t, doc, "<noscript><style>", "</style></noscript>")
	scriptText := between(t, doc, "<script>", "</script>")
	want := "default-src 'none'; style-src '" + sha256Source(styleText) + "' '" + sha256Source(noScriptText) +
		"'; script-src '" + sha256Source(scriptText) + "'; base-uri 'none'; form-action 'none'"
	if csp != want {
		t.Errorf("policy %q\nwant %q", csp, want)
	}
	if strings.Index(doc, `http-equiv="Content-Security-Policy"`) > strings.Index(doc, "<style>") {
		t.Error("the policy comes after the style it governs")
	}
	for _, bad := range []string{"@import", "url("} {
		if strings.Contains(styleText+noScriptText, bad) {
			t.Errorf("the stylesheet holds %q", bad)
		}
	}
	for _, bad := range []string{"fetch(", "XMLHttpRequest", "import(", "innerHTML", "eval(", "http:", "https:"} {
		if strings.Contains(scriptText, bad) {
			t.Errorf("the script holds %q", bad)
		}
	}
}

func between(t *testing.T, doc, open, close string) string {
	t.Helper()
	_, rest, ok := strings.Cut(doc, open)
	if !ok {
		t.Fatalf("no %s", open)
	}
	in, _, ok := strings.Cut(rest, close)
	if !ok {
		t.Fatalf("no %s", close)
	}
	return in
}

// checkHref: links are in-page anchors, or http(s) references that open
// without handing over the report's address or window.
func checkHref(t *testing.T, tg tag, href string) {
	t.Helper()
	switch {
	case tg.name == "a" && regexp.MustCompile(`^#[a-z]+$`).MatchString(href):
	case tg.name == "a" && (strings.HasPrefix(href, "https://") || strings.HasPrefix(href, "http://")):
		if tg.attr("rel") != "noopener noreferrer" {
			t.Errorf("link to %s without rel=\"noopener noreferrer\"", href)
		}
	default:
		t.Errorf("<%s href=%q>: not an anchor nor an http(s) link", tg.name, href)
	}
}

var allowedTags = map[string]bool{}

func init() {
	for _, n := range strings.Fields(`html head meta title style body header p h1 h2 h3 dl div dt dd nav a main section ul li b br
		figure figcaption svg g text rect span fieldset legend label input select option button table colgroup col thead tbody tr th td
		footer script noscript`) {
		allowedTags[n] = true
	}
}

func allowedAttr(tag, name string) bool {
	if strings.HasPrefix(name, "aria-") {
		return true
	}
	switch name {
	case "class", "id", "hidden", "role":
		return true
	}
	ok := map[string][]string{
		"html":   {"lang"},
		"meta":   {"charset", "http-equiv", "content", "name"},
		"a":      {"href", "rel", "target"},
		"svg":    {"width", "height", "viewbox"},
		"text":   {"x", "y"},
		"rect":   {"x", "y", "width", "height", "rx"},
		"tr":     {"data-s", "data-p"},
		"table":  {"data-chunk"},
		"dl":     {"hidden"},
		"th":     {"scope", "data-sort"},
		"input":  {"type", "name", "value", "checked", "autocomplete", "spellcheck"},
		"option": {"value"},
		"button": {"type", "aria-expanded"},
	}
	return slices.Contains(ok[tag], name)
}

type attr struct{ name, val string }

type tag struct {
	name  string
	attrs []attr
}

func (t tag) attr(name string) string {
	for _, a := range t.attrs {
		if a.name == name {
			return a.val
		}
	}
	return ""
}

// parseTags lists the start tags of doc with their attributes (values
// unescaped). It is a small tokenizer for what html/template writes, with
// every attribute value quoted; the text of <style> and <script> is
// skipped. golang.org/x/net/html is not a dependency of Kensa.
func parseTags(t *testing.T, doc string) []tag {
	t.Helper()
	var out []tag
	i := 0
	for {
		j := strings.IndexByte(doc[i:], '<')
		if j < 0 {
			return out
		}
		i += j
		if strings.HasPrefix(doc[i:], "</") || strings.HasPrefix(doc[i:], "<!") {
			i += strings.IndexByte(doc[i:], '>') + 1
			continue
		}
		k := i + 1
		for k < len(doc) && (isAlnum(doc[k]) || doc[k] == '-') {
			k++
		}
		tg := tag{name: strings.ToLower(doc[i+1 : k])}
		if tg.name == "" {
			t.Errorf("a raw '<' in text at %d: %q", i, doc[i:min(i+40, len(doc))])
			i++
			continue
		}
		for {
			for k < len(doc) && strings.IndexByte(" \t\n\r\f", doc[k]) >= 0 {
				k++
			}
			if k >= len(doc) {
				t.Fatalf("unterminated <%s>", tg.name)
			}
			if doc[k] == '>' {
				k++
				break
			}
			n := k
			for k < len(doc) && strings.IndexByte(" \t\n\r\f=>\"'/", doc[k]) < 0 {
				k++
			}
			a := attr{name: strings.ToLower(doc[n:k])}
			if a.name == "" {
				t.Fatalf("<%s>: unexpected %q", tg.name, doc[k:min(k+20, len(doc))])
			}
			if k < len(doc) && doc[k] == '=' {
				q := doc[k+1]
				if q != '"' && q != '\'' {
					t.Fatalf("<%s %s=...>: unquoted value", tg.name, a.name)
				}
				end := strings.IndexByte(doc[k+2:], q)
				a.val = stdhtml.UnescapeString(doc[k+2 : k+2+end])
				k += 2 + end + 1
			}
			tg.attrs = append(tg.attrs, a)
		}
		out = append(out, tg)
		i = k
		if tg.name == "style" || tg.name == "script" {
			i += strings.Index(doc[i:], "</"+tg.name+">")
		}
	}
}

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

func TestMain(m *testing.M) {
	// The golden files and the fixtures are in UTC; make sure nothing
	// reads the local zone.
	time.Local = time.FixedZone("elsewhere", 5*3600+1800)
	os.Exit(m.Run())
}
