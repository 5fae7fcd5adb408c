package pdf

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"unicode"

	"github.com/kensa-dev/kensa/internal/finding"
	"github.com/kensa-dev/kensa/internal/report"
	"github.com/kensa-dev/kensa/internal/report/reporttest"
)

// A scanned host is hostile: package names, paths, titles and evidence
// are whatever its files say. These are the strings it can throw.
var (
	// longPath is a 10,000 character evidence line without a space.
	longPath = "/srv/" + strings.Repeat("deep/", 1999)[:9990] + "x.conf"
	// longName is a 300 character package name.
	longName = "lib" + strings.Repeat("verylongname", 25)[:297]
	// escapes are terminal escape sequences and other control characters.
	escapes = "\x1b[31mred\x1b[0m \x1b]0;owned\x07 bell\x07 nul\x00 del\x7f c1\u0085 tab\there"
	// bidi reverses what follows on screen: "txt.exe" reads "exe.txt".
	bidi = "invoice\u202Etxt.exe \u2066isolate\u2069 zero\u200Bwidth \uFEFFbom"
	// nonLatin mixes what the fonts draw (Greek, Cyrillic) with what they
	// do not (CJK, Hebrew, Arabic, emoji, a rune past the BMP).
	nonLatin = "Ωμέγα привет 漢字テスト שלום مرحبا 😀 \U00010000"
	// injection tries to end fpdf's PDF string and draw its own text.
	injection = `) Tj ET BT /F1 99 Tf (pwned) Tj ET BT ( \\) \( \\\\`
)

func hostileReport() *report.Report {
	r := reporttest.CVE()
	r.Host.Hostname = "host-" + longName
	r.Host.Kernel = escapes
	r.Findings[0].Title = "Title with " + escapes + " and " + bidi
	r.Findings[0].Evidence = []string{longPath, escapes, bidi, nonLatin, "bad utf-8: \xff\xfe\xc3"}
	// fpdf's own alias for the page count, which it replaces in every
	// page when it closes the document.
	r.Findings[1].Title = "Title {nb} " + injection
	r.Findings[1].Description = injection + "\n\n" + nonLatin + "\r\nsecond line"
	r.Findings[2].Title = strings.Repeat("long-title-", 600) // 6,600 characters, no space
	r.Findings[3].Vulnerability.Package = longName
	r.Findings[3].Vulnerability.Location = longPath
	r.Findings[3].Vulnerability.References = []string{"javascript:alert(1)", "https://example.org/" + strings.Repeat("a", 400)}
	r.Findings[4].Title = nonLatin
	r.Coverage[4].Reason = longPath + " " + bidi
	// A row taller than a page: its reason is drawn in slices, page after
	// page.
	r.Results = append(r.Results, finding.Result{RulesPackage: "cve", RuleID: longName, Target: longPath[:500], Status: finding.StatusError, Reason: escapes + strings.Repeat(" word", 3000)})
	r.Suppressed = []report.Suppressed{{Finding: r.Findings[5], Reason: injection, Owner: bidi, Expires: "2099-12-31", Rule: "line 1: " + escapes}}
	r.Findings = r.Findings[:5]
	r.Summary = report.Summarize(r)
	return r
}

// TestHostileStrings renders hostile text everywhere and checks that the
// document is valid, that nothing raw reaches its text, that long strings
// wrap inside the page, and that what can be shown is shown in full.
func TestHostileStrings(t *testing.T) {
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			t.Parallel()
			doc := render(t, hostileReport(), k.opt)
			if n := pdfPages(t, doc); n < 3 || n > 60 {
				t.Errorf("%d pages", n)
			}
			text := pdfText(t, doc)
			for _, r := range text {
				if r != '\n' && r != '\f' && (unicode.IsControl(r) || unicode.Is(unicode.Cf, r)) {
					t.Errorf("control or formatting character %U reached the document's text", r)
				}
			}
			for _, s := range []string{"\x1b", "\u202E", "\u2066", "\u200B", "漢", "😀"} {
				if strings.Contains(text, s) {
					t.Errorf("%+q reached the document's text", s)
				}
			}
			flat := squeeze(bodyText(text))
			for _, want := range []string{
				longPath,                  // evidence, location and coverage reason: wrapped, not cut
				"host-" + longName,        // the cover's host line
				longName,                  // package
				"Title {nb} " + injection, // string syntax escaped, no alias replaced: all of it is text
				"Ωμέγα привет",            // what the fonts draw stays
				strings.Repeat("long-title-", 600),
				"red\uFFFD[0m",         // the escape sequence, visibly defused
				"invoice\uFFFDtxt.exe", // the override, visibly replaced
				"bad utf-8: \uFFFD\uFFFD\uFFFD",
			} {
				if !strings.Contains(flat, squeeze(want)) {
					t.Errorf("%.80q... not in the text in full", want)
				}
			}
			if k.opt.Full {
				// The row is taller than a page, so it is drawn in slices
				// and its columns interleave in the text: the rule, the
				// start of its target, and every word of its reason.
				if !strings.Contains(flat, squeeze(longName+longPath[:100])) {
					t.Error("the hostile result row is not in the full report")
				}
				if n := len(regexp.MustCompile(`\bword\b`).FindAllString(text, -1)); n != 3000 {
					t.Errorf("the reason taller than a page has %d of its 3000 words", n)
				}
			}
			if strings.Contains(string(doc), "javascript:") {
				t.Error("a javascript: reference became a link")
			}

			// Nothing runs off the page: every word ends inside the right
			// margin (15 mm), give or take a point of rounding.
			words, width := pdfWords(t, doc)
			limit := width - marginRight*72/25.4 + 1
			for _, w := range words {
				if w.xMax > limit {
					t.Errorf("word %.40q ends at %.1f pt, past the right margin at %.1f pt", w.text, w.xMax, limit)
					break
				}
				if w.xMin < marginLeft*72/25.4-1 {
					t.Errorf("word %.40q starts at %.1f pt, before the left margin", w.text, w.xMin)
					break
				}
			}
		})
	}
}

// TestReplacedCount: the cover counts the characters replaced, and the
// count is what the document shows. Each hostile character here is drawn
// exactly once, so the count equals the replacement characters in the
// text, less the two in the cover's explanation.
func TestReplacedCount(t *testing.T) {
	r := reporttest.Config()
	f := &r.Findings[0]
	f.Title = "日本語 title"                                 // 3
	f.Description = "one\x1btwo\u202Ethree"               // 2
	f.Evidence = []string{"emoji 😀", "bad byte \xff end"} // 2
	const want = 7
	text := pdfText(t, render(t, r, Options{}))
	if !containsText(text, fmt.Sprintf("Characters replaced by \uFFFD: %dCharacters the", want)) {
		t.Errorf("the cover does not say %d characters were replaced", want)
	}
	if got := strings.Count(text, "\uFFFD") - 2; got != want {
		t.Errorf("%d replacement characters in the text, want %d", got, want)
	}
	// And it can fail: a clean report counts none.
	if !containsText(pdfText(t, render(t, reporttest.Config(), Options{})), "Characters replaced by \uFFFD: 0Characters the") {
		t.Error("a report without hostile text does not count 0")
	}
}
