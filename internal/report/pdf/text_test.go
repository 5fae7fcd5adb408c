package pdf

import (
	"bytes"
	"crypto/sha256"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/gomono"
	"golang.org/x/image/font/gofont/goregular"

	"github.com/kensa-dev/kensa/internal/report/reporttest"
)

func TestSanitizerLine(t *testing.T) {
	tests := []struct {
		in, want string
		replaced int
	}{
		{"plain ASCII: /etc/ssh/sshd_config:32", "plain ASCII: /etc/ssh/sshd_config:32", 0},
		{"Ωμέγα привет “quoted” — ok…", "Ωμέγα привет “quoted” — ok…", 0},
		{"tab\tnew\nline\r", "tab new line ", 0},
		{"\x1b[31mred", "\uFFFD[31mred", 1},
		{"nul\x00 del\x7f c1\u0085", "nul\uFFFD del\uFFFD c1\uFFFD", 3},
		{"a\u202Eb\u2066c\u200Bd\uFEFFe", "a\uFFFDb\uFFFDc\uFFFDd\uFFFDe", 4},
		{"漢字 😀 \U00010000", "\uFFFD\uFFFD \uFFFD \uFFFD", 4},
		{"bad \xff\xfe end", "bad \uFFFD\uFFFD end", 2},
		{"truncated \xe2\x82", "truncated \uFFFD\uFFFD", 2},
		// A replacement character in the input is text like any other.
		{"already \uFFFD", "already \uFFFD", 0},
	}
	for _, tt := range tests {
		var z sanitizer
		got := z.line(tt.in)
		if got != tt.want || z.replaced != tt.replaced {
			t.Errorf("line(%+q) = %+q, %d replaced; want %+q, %d", tt.in, got, z.replaced, tt.want, tt.replaced)
		}
		if !utf8.ValidString(got) || !isClean(got) {
			t.Errorf("line(%+q) = %+q is not clean", tt.in, got)
		}
	}
}

func TestSanitizerLines(t *testing.T) {
	var z sanitizer
	got := z.lines("first\r\nsecond\rthird\n\nfifth\x1b\n\n")
	want := []string{"first", "second", "third", "", "fifth\uFFFD"}
	if !slices.Equal(got, want) || z.replaced != 1 {
		t.Errorf("lines = %q (%d replaced), want %q (1)", got, z.replaced, want)
	}
	if got := z.lines("\n\n"); got != nil {
		t.Errorf("lines of blank text = %q, want none", got)
	}
}

func newTestDoc(t *testing.T) *doc {
	t.Helper()
	d, err := newDoc(reporttest.Base(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	d.detailed, d.listed = MaxDetailed, MaxListed
	d.f.AddPage()
	return d
}

// TestWrap: lines never exceed the width, no character is lost or
// added (spaces at the breaks aside), and long paths break after a "/".
func TestWrap(t *testing.T) {
	d := newTestDoc(t)
	for _, s := range []style{regular, bold, mono} {
		d.setFont(s, 9)
		for _, tt := range []struct {
			text string
			w    float64
		}{
			{"short", 100},
			{strings.Repeat("word ", 200), 60},
			{longPath, 120},
			{longName, 40},
			{"mixed " + longPath[:300] + " words " + longName, 80},
			{"x", 0.5}, // narrower than one character: one per line
			{"Ωμέγα привет “quoted” — ok…" + strings.Repeat("Ж", 200), 30},
		} {
			lines := d.wrap(tt.text, tt.w)
			for _, l := range lines {
				if d.width(l) > tt.w && utf8.RuneCountInString(l) > 1 {
					t.Errorf("style %d: line %.30q is %.1f mm wide, more than %.1f", s, l, d.width(l), tt.w)
				}
			}
			if got, want := squeeze(strings.Join(lines, "")), squeeze(tt.text); got != want {
				t.Errorf("style %d: wrapping %.30q changed its text", s, tt.text)
			}
		}
	}
	d.setFont(regular, 9)
	lines := d.wrap(strings.Repeat("/usr/lib/x86_64-linux-gnu", 12)+"/libexample.so.1.2.3", 40)
	for _, l := range lines[:len(lines)-1] {
		if !strings.HasSuffix(l, "/") {
			t.Errorf("path line %q does not end at a path separator", l)
		}
	}
}

// TestFit: a shortened label fits and says it was cut.
func TestFit(t *testing.T) {
	d := newTestDoc(t)
	d.setFont(regular, 8)
	if got := d.fit("short", 50); got != "short" {
		t.Errorf("fit cut a label that fits: %q", got)
	}
	got := d.fit(longName, 50)
	if d.width(got) > 50 || !strings.HasSuffix(got, "…") || !strings.HasPrefix(longName, strings.TrimSuffix(got, "…")) {
		t.Errorf("fit(longName, 50) = %q (%.1f mm)", got, d.width(got))
	}
}

// TestFontCoverage draws every character the sanitiser lets through and
// reads it back: the font set (read with x/image/font/sfnt) and fpdf's
// own TrueType parser must agree, or text would come out as blank boxes
// or fpdf would fail.
func TestFontCoverage(t *testing.T) {
	var all []rune
	for r := rune(0); r < 1<<16; r++ {
		if printable(r) {
			all = append(all, r)
		}
	}
	if len(all) < 600 {
		t.Fatalf("only %d printable characters: the fonts were not read", len(all))
	}
	for _, r := range []rune{'a', 'Z', '0', '/', 'é', 'Ω', 'Ж', '“', '—', '…', '•', Placeholder} {
		if !printable(r) {
			t.Errorf("%U (%c) is not printable: the document uses it", r, r)
		}
	}
	d := newTestDoc(t)
	var lines []string
	for chunk := range slices.Chunk(all, 40) {
		lines = append(lines, string(chunk))
	}
	for _, s := range []style{regular, bold, mono} {
		d.paragraph(s, 9, ink, lines...)
	}
	var buf bytes.Buffer
	if err := d.output(&buf); err != nil {
		t.Fatal(err)
	}
	text := squeeze(pdfText(t, buf.Bytes()))
	for _, l := range lines {
		if want := squeeze(l); strings.Count(text, want) != 3 {
			t.Errorf("characters %+q do not come back from the document in all three fonts", want)
		}
	}
}

// TestFontsUntouched: rendering leaves the Go fonts' bytes as they were.
// fpdf's subsetter writes into the font bytes it is given; without a copy
// per document the package variables of x/image change, and the next
// document differs from the first.
func TestFontsUntouched(t *testing.T) {
	sums := func() [3][32]byte {
		return [3][32]byte{sha256.Sum256(goregular.TTF), sha256.Sum256(gobold.TTF), sha256.Sum256(gomono.TTF)}
	}
	before := sums()
	render(t, reporttest.All(), Options{Full: true})
	if sums() != before {
		t.Fatal("rendering changed the bytes of the Go fonts")
	}
}
