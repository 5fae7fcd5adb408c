package html

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/log"
	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/kensa-dev/kensa/internal/report"
	"github.com/kensa-dev/kensa/internal/report/reporttest"
)

// The browser tests open the written report in Debian's chromium, headless,
// through chromedp: the page must run without a console error, exception
// or policy violation, and its filters and sorting must do what they say.

// chromium finds the browser, or skips the test; under CI=true a missing
// browser fails the test, so that CI never passes by skipping it.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("CI=true and no chromium, chromium-browser or google-chrome in PATH: the HTML report's browser test must run in CI (.ci/run installs chromium)")
	}
	t.Skip("no chromium, chromium-browser or google-chrome in PATH: skipping the HTML report's browser test (apt-get install chromium)")
	return ""
}

// browser is one headless tab, and what went wrong in it: console errors,
// uncaught exceptions, browser log errors (which is where a Content
// Security Policy violation shows up) and dialogs (alert() from injected
// script).
type browser struct {
	ctx      context.Context
	mu       sync.Mutex
	problems []string
}

func newBrowser(t *testing.T) *browser {
	t.Helper()
	exe := chromium(t)
	// A hang fails the test rather than block the run.
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	// Without a UserDataDir option the allocator makes a fresh temporary
	// profile directory and removes it when the browser is gone.
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.Headless,
		chromedp.NoSandbox, // CI runs as root
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-sync", true),
		chromedp.WindowSize(1280, 900),
	)
	actx, acancel := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(acancel)
	b := &browser{}
	bctx, bcancel := chromedp.NewContext(actx, chromedp.WithListener(b.listen))
	t.Cleanup(bcancel)
	b.ctx = bctx
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("starting %s: %v", exe, err)
	}
	return b
}

// listen runs on chromedp's event loop: it only records.
func (b *browser) listen(ev any) {
	var msg string
	switch ev := ev.(type) {
	case *runtime.EventConsoleAPICalled:
		if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeAssert {
			var args []string
			for _, a := range ev.Args {
				args = append(args, string(a.Value)+a.Description)
			}
			msg = fmt.Sprintf("console.%s: %s", ev.Type, strings.Join(args, " "))
		}
	case *runtime.EventExceptionThrown:
		d := ev.ExceptionDetails
		msg = "uncaught exception: " + d.Text
		if d.Exception != nil {
			msg += " " + d.Exception.Description
		}
	case *log.EventEntryAdded:
		if ev.Entry.Level == log.EntryLevelError {
			msg = fmt.Sprintf("browser log (%s): %s", ev.Entry.Source, ev.Entry.Text)
		}
	case *cdppage.EventJavascriptDialogOpening:
		msg = "dialog opened: " + ev.Message
	}
	if msg != "" {
		b.mu.Lock()
		b.problems = append(b.problems, msg)
		b.mu.Unlock()
	}
}

func (b *browser) takeProblems() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	p := b.problems
	b.problems = nil
	return p
}

// open writes doc to a file and loads it from disk, as a user opens a
// report: file://, no server.
func (b *browser) open(t *testing.T, name, doc string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	u := url.URL{Scheme: "file", Path: path}
	if err := chromedp.Do(b.ctx, chromedp.Navigate(u.String())); err != nil {
		t.Fatalf("opening %s: %v", u.String(), err)
	}
}

func run[T any](t *testing.T, b *browser, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(b.ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func do(t *testing.T, b *browser, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(b.ctx, steps...); err != nil {
		t.Fatal(err)
	}
}

// visible counts the finding rows the browser renders (not hidden, laid
// out), which is what a reader sees.
const visible = `Array.from(document.querySelectorAll('#findings-table tbody tr')).filter(r => r.getClientRects().length > 0).length`

// column lists the text of one column of the findings table, top to
// bottom, for the rows shown.
func column(i int) string {
	return fmt.Sprintf(`Array.from(document.querySelectorAll('#findings-table tbody tr')).filter(r => !r.hidden).map(r => (r.cells[%d].querySelector('button.t') || r.cells[%d]).textContent)`, i, i)
}

// waitVisible waits until n rows are shown, and fails with the count
// seen when that does not happen: the page handles input events before
// the protocol call that sent them returns, so the wait is a margin.
func waitVisible(t *testing.T, b *browser, n int, what string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](fmt.Sprintf("%s === %d", visible, n), chromedp.WithPollingInterval(20*time.Millisecond))); err != nil {
		got := run(t, b, chromedp.Evaluate[int](visible))
		t.Fatalf("%s: %d rows shown, want %d", what, got, n)
	}
	text := run(t, b, chromedp.Text(chromedp.ID("shown")))
	wantText := fmt.Sprintf("Showing %d of %d findings", n, total(b, t))
	if !strings.HasPrefix(text, wantText) {
		t.Errorf("%s: the count says %q, want %q", what, text, wantText)
	}
}

func total(b *browser, t *testing.T) int {
	return run(t, b, chromedp.Evaluate[int](`document.querySelectorAll('#findings-table tbody tr').length`))
}

// screenshot saves the whole page as a PNG under $KENSA_SCREENSHOTS, or
// only the window when full is false (a page taller than the browser's
// largest texture cannot be captured whole).
func screenshot(t *testing.T, b *browser, name string, full bool) {
	t.Helper()
	dir := os.Getenv("KENSA_SCREENSHOTS")
	if dir == "" {
		return
	}
	shot := chromedp.CaptureScreenshot()
	if full {
		// From the top: sticky headers are drawn where the scroll put them.
		do(t, b, chromedp.Evaluate[chromedp.Void](`window.scrollTo(0, 0)`))
		shot = chromedp.FullScreenshot(100)
	}
	png := run(t, b, shot)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

func noProblems(t *testing.T, b *browser, what string) {
	t.Helper()
	for _, p := range b.takeProblems() {
		t.Errorf("%s: %s", what, p)
	}
}

func TestBrowser(t *testing.T) {
	b := newBrowser(t)
	r := reporttest.All()
	sev := r.Summary.BySeverity
	n := len(r.Findings)

	b.open(t, "findings.html", render(t, r, Options{}))
	do(t, b, chromedp.WaitVisible(chromedp.ID("filters")))
	waitVisible(t, b, n, "on load")
	screenshot(t, b, "html-findings.png", true)

	// Unchecking severities hides exactly their rows.
	do(t, b, chromedp.Click(chromedp.CSS(`#filters input[value="high"]`)))
	waitVisible(t, b, n-sev["high"], "high unchecked")
	do(t, b, chromedp.Click(chromedp.CSS(`#filters input[value="medium"]`)))
	waitVisible(t, b, n-sev["high"]-sev["medium"], "high and medium unchecked")
	shownSev := run(t, b, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll('#findings-table tbody tr')).filter(r => !r.hidden).map(r => r.dataset.s)`))
	for _, s := range shownSev {
		if s == "high" || s == "medium" {
			t.Errorf("a %s finding is shown with its severity unchecked", s)
		}
	}
	screenshot(t, b, "html-filtered.png", true)
	do(t, b, chromedp.Click(chromedp.CSS(`#filters input[value="high"]`)))
	waitVisible(t, b, n-sev["medium"], "high checked again")

	// The rules package filter, on top of the severities.
	do(t, b, chromedp.Click(chromedp.ID("f-reset")))
	waitVisible(t, b, n, "reset")
	do(t, b, chromedp.SetValue(chromedp.ID("f-package"), "cis"),
		chromedp.Evaluate[chromedp.Void](`document.getElementById('f-package').dispatchEvent(new Event('change'))`))
	waitVisible(t, b, countPackage(r, "cis"), "package cis")

	// Free-text search, case-insensitive, typed as a user types.
	do(t, b, chromedp.Click(chromedp.ID("f-reset")))
	do(t, b, chromedp.SendKeys(chromedp.ID("f-search"), "cve-2023-38545"))
	waitVisible(t, b, 2, "search cve-2023-38545 (curl and libcurl4)")
	if got := run(t, b, chromedp.Evaluate[[]string](column(5))); !slices.Equal(got, []string{
		"curl 7.88.1-10+deb12u3, fixed in 7.88.1-10+deb12u4", "libcurl4 7.88.1-10+deb12u3, fixed in 7.88.1-10+deb12u4"}) {
		t.Errorf("search shows %q", got)
	}
	// The search reads the details too: this evidence line is only there.
	do(t, b, chromedp.Click(chromedp.ID("f-reset")), chromedp.SendKeys(chromedp.ID("f-search"), "PermitRootLogin"))
	waitVisible(t, b, 1, "search PermitRootLogin")
	do(t, b, chromedp.Click(chromedp.ID("f-reset")))
	waitVisible(t, b, n, "reset")

	// Sorting by a column, both ways; ties keep the report's order.
	byRule := []string{"bp-login-banner", "bp-sshd-weak-ciphers", "cis-1.1.2.3.3", "cis-5.1.20", "cis-7.2.5",
		"CVE-2021-44228", "CVE-2023-38545", "CVE-2023-38545", "CVE-2024-2511", "GO-2024-2687",
		"insecure-client-login", "kernel-reboot-required", "software-without-dep", "unused-listening-port"}
	canonical := run(t, b, chromedp.Evaluate[[]string](column(3)))
	do(t, b, chromedp.Click(chromedp.CSS(`#findings-table th:nth-child(4) button`)))
	if got := run(t, b, chromedp.Evaluate[[]string](column(3))); !slices.Equal(got, byRule) {
		t.Errorf("sorted by rule: %q\nwant %q", got, byRule)
	}
	if got := run(t, b, chromedp.AttributeValue(chromedp.CSS(`#findings-table th:nth-child(4)`), "aria-sort")); got.Value != "ascending" {
		t.Errorf("rule header aria-sort %q, want ascending", got.Value)
	}
	do(t, b, chromedp.Click(chromedp.CSS(`#findings-table th:nth-child(4) button`)))
	desc := slices.Clone(byRule)
	slices.Reverse(desc)
	if got := run(t, b, chromedp.Evaluate[[]string](column(3))); !slices.Equal(got, desc) {
		t.Errorf("sorted by rule, descending: %q\nwant %q", got, desc)
	}
	do(t, b, chromedp.Click(chromedp.CSS(`#findings-table th:nth-child(2) button`)))
	scores := run(t, b, chromedp.Evaluate[[]string](column(1)))
	if want := append([]string{"10.0", "9.8", "9.8"}, make([]string, n-3)...); !slices.Equal(scores, want) {
		t.Errorf("sorted by score: %q\nwant %q (no score last)", scores, want)
	}
	// Back to severity, most severe first: the report's own order.
	do(t, b, chromedp.Click(chromedp.CSS(`#findings-table th:nth-child(1) button`)))
	if got := run(t, b, chromedp.Evaluate[[]string](column(3))); !slices.Equal(got, canonical) {
		t.Errorf("sorted by severity: %q\nwant the report's order %q", got, canonical)
	}
	// Filters still apply to the sorted rows.
	do(t, b, chromedp.Click(chromedp.CSS(`#filters input[value="low"]`)))
	waitVisible(t, b, n-sev["low"], "low unchecked after sorting")
	noProblems(t, b, "findings report")

	// The full report: the same page, and every rule checked.
	b.open(t, "full.html", render(t, r, Options{Full: true}))
	do(t, b, chromedp.WaitVisible(chromedp.ID("filters")))
	waitVisible(t, b, n, "full report on load")
	if got := run(t, b, chromedp.Evaluate[int](`document.querySelectorAll('#results tbody tr').length`)); got != len(r.Results) {
		t.Errorf("full report: %d rule results, want %d", got, len(r.Results))
	}
	screenshot(t, b, "html-full.png", true)
	noProblems(t, b, "full report")

	// No findings: no table, no script error.
	b.open(t, "clean.html", render(t, reporttest.Clean(), Options{Full: true}))
	screenshot(t, b, "html-clean.png", true)
	noProblems(t, b, "clean report")
}

func countPackage(r *report.Report, pkg string) int {
	n := 0
	for _, f := range r.Findings {
		if f.RulesPackage == pkg {
			n++
		}
	}
	return n
}

// In the browser, the hostile report has no element, attribute or link it
// should not have, and none of its scripts ran.
func TestBrowserHostileReport(t *testing.T) {
	b := newBrowser(t)
	b.open(t, "hostile.html", render(t, hostile(), Options{Full: true}))
	// Open every detail, so that anything inside them is laid out.
	do(t, b, chromedp.WaitVisible(chromedp.ID("filters")), chromedp.Click(chromedp.ID("f-expand")))
	type dom struct {
		Pwned    bool `json:"pwned"`
		Scripts  int  `json:"scripts"`
		Images   int  `json:"images"`
		Styles   int  `json:"styles"`
		Handlers int  `json:"handlers"`
		Links    int  `json:"links"`
		BadLinks int  `json:"badLinks"`
		Rows     int  `json:"rows"`
	}
	got := run(t, b, chromedp.Evaluate[dom](`({
		pwned: typeof window.__pwned !== 'undefined',
		scripts: document.scripts.length,
		images: document.images.length,
		styles: document.querySelectorAll('style, link').length,
		handlers: Array.from(document.querySelectorAll('*')).filter(e => Array.from(e.attributes).some(a => a.name.startsWith('on'))).length,
		links: document.querySelectorAll('a[href^="https:"]').length,
		badLinks: Array.from(document.querySelectorAll('[href], [src], [action], [formaction]')).filter(e => !/^(https?:\/\/[^\/]|#)/.test(e.getAttribute('href') || '')).length,
		rows: document.querySelectorAll('#findings-table tbody tr').length,
	})`))
	want := dom{Scripts: 1, Styles: 1, Links: got.Links, Rows: len(hostile().Findings)}
	if got != want || got.Links == 0 {
		t.Errorf("hostile report in the browser: %+v, want %+v (and some https links)", got, want)
	}
	// Long strings without spaces wrap: nothing widens the page.
	wide := run(t, b, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll('body *')).filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1).map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right)).slice(0, 10)`))
	if len(wide) > 0 {
		t.Errorf("elements wider than the window: %q", wide)
	}
	screenshot(t, b, "html-hostile.png", false)
	noProblems(t, b, "hostile report")
}

// The console check can fail: a page whose script is not the one the
// policy allows is refused, and the refusal is reported.
func TestBrowserReportsPolicyViolations(t *testing.T) {
	b := newBrowser(t)
	doc := render(t, reporttest.CVE(), Options{})
	tampered := strings.Replace(doc, "'use strict';", "'use strict'; ", 1)
	if tampered == doc {
		t.Fatal("could not tamper with the script")
	}
	b.open(t, "tampered.html", tampered)
	// The refused script never shows the filters.
	if hidden := run(t, b, chromedp.Evaluate[bool](`document.getElementById('filters').hidden`)); !hidden {
		t.Error("a script the policy does not allow ran")
	}
	problems := b.takeProblems()
	if !slices.ContainsFunc(problems, func(p string) bool { return strings.Contains(p, "Content Security Policy") }) {
		t.Errorf("no policy violation reported; problems: %q", problems)
	}
}

// TestBrowserLarge measures the page of 50,000 findings in the browser:
// load, a severity filter, a search and a sort, each timed in the page.
// It takes about a minute, so it runs only with KENSA_HTML_LARGE=1
// (bench/README.md has its numbers).
func TestBrowserLarge(t *testing.T) {
	if os.Getenv("KENSA_HTML_LARGE") == "" {
		t.Skip("set KENSA_HTML_LARGE=1 to time the page of 50,000 findings in the browser")
	}
	r := reporttest.Large(50_000)
	doc := render(t, r, Options{})
	b := newBrowser(t)
	start := time.Now()
	b.open(t, "large.html", doc)
	do(t, b, chromedp.WaitVisible(chromedp.ID("filters")))
	t.Logf("%d bytes; loaded and laid out in %s", len(doc), time.Since(start).Round(time.Millisecond))
	timed := func(what, js string) {
		t.Helper()
		ms := run(t, b, chromedp.Evaluate[float64](`(() => { const t0 = performance.now(); `+js+`; document.body.getBoundingClientRect(); return performance.now() - t0; })()`))
		t.Logf("%s: %.0f ms, %s", what, ms, run(t, b, chromedp.Text(chromedp.ID("shown"))))
	}
	timed("uncheck high", `document.querySelector('#filters input[value="high"]').click()`)
	timed("check high", `document.querySelector('#filters input[value="high"]').click()`)
	timed("search (first, builds the index)", `const s = document.getElementById('f-search'); s.value = 'log4j'; s.dispatchEvent(new Event('input'))`)
	timed("search again", `const s = document.getElementById('f-search'); s.value = 'cve-2023-38545'; s.dispatchEvent(new Event('input'))`)
	timed("clear search", `const s = document.getElementById('f-search'); s.value = ''; s.dispatchEvent(new Event('input'))`)
	timed("sort by rule", `document.querySelector('#findings-table th:nth-child(4) button').click()`)
	timed("sort by score", `document.querySelector('#findings-table th:nth-child(2) button').click()`)
	heap := run(t, b, chromedp.Evaluate[float64](`performance.memory ? performance.memory.usedJSHeapSize / 1048576 : -1`))
	t.Logf("JS heap used: %.0f MB", heap)
	noProblems(t, b, "large report")
}

// Without JavaScript the page is the same report: every row shown, every
// finding's details open (the <noscript> stylesheet), no dead controls.
// In print, every row is shown whatever the filter, details open.
func TestBrowserWithoutScriptAndInPrint(t *testing.T) {
	r := reporttest.All()
	doc := render(t, r, Options{})
	const state = `({
		rows: Array.from(document.querySelectorAll('#findings-table tbody tr')).filter(r => r.getClientRects().length > 0).length,
		details: Array.from(document.querySelectorAll('#findings-table dl.det')).filter(d => d.getBoundingClientRect().height > 20).length,
		controls: document.getElementById('filters').getClientRects().length,
	})`
	type view struct {
		Rows     int `json:"rows"`
		Details  int `json:"details"`
		Controls int `json:"controls"`
	}

	b := newBrowser(t)
	if _, err := chromedp.Call(b.ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true}); err != nil {
		t.Fatal(err)
	}
	b.open(t, "noscript.html", doc)
	if got, want := run(t, b, chromedp.Evaluate[view](state)), (view{Rows: len(r.Findings), Details: len(r.Findings)}); got != want {
		t.Errorf("without JavaScript: %+v, want %+v", got, want)
	}
	screenshot(t, b, "html-noscript.png", true)
	noProblems(t, b, "without JavaScript")

	if _, err := chromedp.Call(b.ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: false}); err != nil {
		t.Fatal(err)
	}
	b.open(t, "print.html", doc)
	do(t, b, chromedp.WaitVisible(chromedp.ID("filters")), chromedp.Click(chromedp.CSS(`#filters input[value="high"]`)))
	waitVisible(t, b, len(r.Findings)-r.Summary.BySeverity["high"], "high unchecked")
	if got, want := run(t, b, chromedp.Evaluate[view](state)), (view{Rows: len(r.Findings) - r.Summary.BySeverity["high"], Controls: 1}); got != want {
		t.Errorf("on screen, filtered: %+v, want %+v", got, want)
	}
	if _, err := chromedp.Call(b.ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: "print"}); err != nil {
		t.Fatal(err)
	}
	if got, want := run(t, b, chromedp.Evaluate[view](state)), (view{Rows: len(r.Findings), Details: len(r.Findings)}); got != want {
		t.Errorf("printed: %+v, want %+v", got, want)
	}
	screenshot(t, b, "html-print.png", true)
	noProblems(t, b, "print")
}

// A finding's title opens its details and folds them again; find in page
// opens them too.
func TestBrowserDetails(t *testing.T) {
	r := reporttest.All()
	s := r.Findings[5]
	r.Findings = slices.Delete(r.Findings, 5, 6)
	r.Suppressed = []report.Suppressed{{Finding: s, Reason: "accepted until the vendor ships a fix", Owner: "platform-team", Expires: "2025-06-30", Rule: "line 4: rule " + s.RuleID}}
	r.Suppressions = &report.Suppressions{File: "/etc/kensa/ignore.yaml", SHA256: "c0ffee", Rules: 2, Unused: []string{"line 9: rule bp-login-banner"}}
	r.Summary = report.Summarize(r)
	b := newBrowser(t)
	b.open(t, "details.html", render(t, r, Options{}))
	const first = `document.querySelector('#findings-table tbody tr')`
	const state = `[` + first + `.querySelector('button.t').getAttribute('aria-expanded'), ` + first + `.querySelector('dl.det').getBoundingClientRect().height > 20]`
	if got := run(t, b, chromedp.Evaluate[[]any](state)); fmt.Sprint(got) != "[false false]" {
		t.Errorf("on load: %v, want folded", got)
	}
	do(t, b, chromedp.Click(chromedp.CSS(`#findings-table tbody tr button.t`)))
	if got := run(t, b, chromedp.Evaluate[[]any](state)); fmt.Sprint(got) != "[true true]" {
		t.Errorf("after a click: %v, want open", got)
	}
	// The suppressed finding's details open the same way.
	do(t, b, chromedp.Click(chromedp.CSS(`#suppressed tbody tr button.t`)))
	if h := run(t, b, chromedp.Evaluate[float64](`document.querySelector('#suppressed dl.det').getBoundingClientRect().height`)); h < 20 {
		t.Errorf("the suppressed finding's details did not open (height %v)", h)
	}
	screenshot(t, b, "html-details.png", true)
	// Back up the page: scrolled to the top edge of the window, the
	// button would be under the table's sticky header.
	do(t, b, chromedp.Evaluate[chromedp.Void](`document.querySelector('#findings-table tbody tr button.t').scrollIntoView({block: 'center'})`),
		chromedp.Click(chromedp.CSS(`#findings-table tbody tr button.t`)))
	if got := run(t, b, chromedp.Evaluate[[]any](state)); fmt.Sprint(got) != "[false false]" {
		t.Errorf("after a second click: %v, want folded", got)
	}
	noProblems(t, b, "details")
}

// A long table comes in chunks (chunkRows each): sorting refills them in
// order, and filtering hides the chunks left empty.
func TestBrowserChunks(t *testing.T) {
	r := reporttest.Large(600)
	b := newBrowser(t)
	b.open(t, "chunks.html", render(t, r, Options{}))
	do(t, b, chromedp.WaitVisible(chromedp.ID("filters")))
	const chunks = `Array.from(document.querySelectorAll('#findings-table tbody')).map(tb => tb.hidden ? -tb.rows.length : tb.rows.length)`
	if got := run(t, b, chromedp.Evaluate[[]int](chunks)); !slices.Equal(got, []int{250, 250, 100}) {
		t.Errorf("chunks %v, want [250 250 100]", got)
	}
	// Only the unrated findings, which come last: the first two chunks
	// are left empty and hidden.
	for _, s := range []string{"high", "medium", "low", "informational"} {
		do(t, b, chromedp.Click(chromedp.CSS(`#filters input[value="`+s+`"]`)))
	}
	waitVisible(t, b, r.Summary.BySeverity["unrated"], "unrated only")
	if got := run(t, b, chromedp.Evaluate[[]int](chunks)); !slices.Equal(got, []int{-250, -250, 100}) {
		t.Errorf("chunks %v, want the first two hidden: [-250 -250 100]", got)
	}
	do(t, b, chromedp.Click(chromedp.ID("f-reset")))
	// Sorted by title, across the chunks.
	do(t, b, chromedp.Click(chromedp.CSS(`#findings-table th:nth-child(5) button`)))
	titles := run(t, b, chromedp.Evaluate[[]string](column(4)))
	if len(titles) != len(r.Findings) {
		t.Fatalf("%d rows after sorting, want %d", len(titles), len(r.Findings))
	}
	collate := run(t, b, chromedp.Evaluate[bool](`(() => { const c = new Intl.Collator('en', {numeric: true, sensitivity: 'base'});
		const t = `+column(4)+`; return t.every((s, i) => i === 0 || c.compare(t[i-1], s) <= 0); })()`))
	if !collate {
		t.Error("rows not in title order across the chunks after sorting")
	}
	if got := run(t, b, chromedp.Evaluate[[]int](chunks)); !slices.Equal(got, []int{250, 250, 100}) {
		t.Errorf("chunks after sorting %v, want [250 250 100]", got)
	}
	noProblems(t, b, "chunks")
}
