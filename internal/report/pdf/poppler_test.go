package pdf

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode"
)

// The tests read the documents back with poppler's command-line tools
// (poppler-utils): pdftotext for the text, pdfinfo for the structure,
// pdftotext -bbox for where each word is. Without them a test is skipped,
// except under CI=true, where a skip would hide that nothing was checked.

// poppler returns the path of a poppler tool, or skips the test.
func poppler(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s not found, and CI=true: install poppler-utils (the PDF tests must not skip in CI)", name)
		}
		t.Skipf("%s not found: install poppler-utils to run this test", name)
	}
	return p
}

// runPoppler runs a poppler tool on doc (written to a temporary file) and
// returns its standard output. Any message on standard error fails the
// test: poppler reports a malformed PDF there and carries on.
func runPoppler(t *testing.T, doc []byte, tool string, args ...string) string {
	t.Helper()
	bin := poppler(t, tool)
	path := filepath.Join(t.TempDir(), "doc.pdf")
	if err := os.WriteFile(path, doc, 0o600); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(bin, append(args, path, "-")...)
	if tool == "pdfinfo" {
		cmd = exec.Command(bin, append(args, path)...)
	}
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s: %v: %s", tool, err, stderr.String())
	}
	if s := strings.TrimSpace(stderr.String()); s != "" {
		t.Fatalf("%s complains about the document: %s", tool, s)
	}
	return stdout.String()
}

// pdfText is the document's text in content order (pdftotext -raw), the
// order the renderer draws in: a table cell's lines stay together.
func pdfText(t *testing.T, doc []byte) string {
	t.Helper()
	return runPoppler(t, doc, "pdftotext", "-raw", "-enc", "UTF-8")
}

// pdfPages is the page count pdfinfo reads.
func pdfPages(t *testing.T, doc []byte) int {
	t.Helper()
	out := runPoppler(t, doc, "pdfinfo")
	m := regexp.MustCompile(`(?m)^Pages:\s+(\d+)$`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("pdfinfo gives no page count:\n%s", out)
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// word is a word pdftotext -bbox found, and its box in points.
type word struct {
	text                   string
	xMin, yMin, xMax, yMax float64
}

// pdfWords lists every word with its box, and the page width.
func pdfWords(t *testing.T, doc []byte) (words []word, pageWidth float64) {
	t.Helper()
	out := runPoppler(t, doc, "pdftotext", "-bbox", "-enc", "UTF-8")
	if m := regexp.MustCompile(`<page width="([0-9.]+)"`).FindStringSubmatch(out); m != nil {
		pageWidth, _ = strconv.ParseFloat(m[1], 64)
	}
	re := regexp.MustCompile(`<word xMin="([0-9.]+)" yMin="([0-9.]+)" xMax="([0-9.]+)" yMax="([0-9.]+)">([^<]*)</word>`)
	for _, m := range re.FindAllStringSubmatch(out, -1) {
		var w word
		w.xMin, _ = strconv.ParseFloat(m[1], 64)
		w.yMin, _ = strconv.ParseFloat(m[2], 64)
		w.xMax, _ = strconv.ParseFloat(m[3], 64)
		w.yMax, _ = strconv.ParseFloat(m[4], 64)
		w.text = m[5]
		words = append(words, w)
	}
	if len(words) == 0 || pageWidth == 0 {
		t.Fatalf("pdftotext -bbox found no words:\n%.500s", out)
	}
	return words, pageWidth
}

// squeeze removes every white space character: text extracted from a PDF
// has line breaks where the renderer wrapped, including inside words too
// long for a line, so text is compared without any.
func squeeze(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return r
	}, s)
}

// containsText reports whether the extracted text holds want, white
// space aside.
func containsText(text, want string) bool {
	return strings.Contains(squeeze(text), squeeze(want))
}

// furniture matches the lines every page repeats: the footer (tool,
// "Page N of M", scan time) and the header (host, kind of report).
var furniture = regexp.MustCompile(`(?m)^\f?(?:.*Page \d+ of \d+ Scan finished .*|.*Kensa (?:findings|full) report)\n`)

// bodyText is the text without the page furniture: what a page break
// inserts in the middle of a long value.
func bodyText(text string) string { return furniture.ReplaceAllString(text, "") }
