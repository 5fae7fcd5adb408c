package pdf

import (
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/gomono"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/sfnt"
)

// Placeholder stands for every character the report's text holds but the
// PDF does not show: characters the Go fonts have no glyph for (CJK,
// Hebrew, Arabic, emoji), control characters (escape sequences from a
// hostile host), bidirectional overrides and other invisible formatting
// characters, and invalid UTF-8. It is the Unicode replacement character,
// which the Go fonts draw; the cover counts the replacements, and the JSON
// report keeps the original text.
const Placeholder = '\uFFFD'

// fontRunes is the set of characters that every font the report uses has
// a glyph for, as a bitmap over the Basic Multilingual Plane (the Go fonts
// have nothing outside it). It is read from the fonts themselves, once.
//
// Anything outside it is replaced before it reaches fpdf, for two reasons:
// a character without a glyph would print as an invisible .notdef box the
// reader cannot tell from a space, and fpdf's width tables are 65,536
// entries long, so a rune past them can make it index out of range.
var fontRunes = sync.OnceValue(func() *[1 << 16 / 64]uint64 {
	var set [1 << 16 / 64]uint64
	var fonts []*sfnt.Font
	for _, ttf := range [][]byte{goregular.TTF, gobold.TTF, gomono.TTF} {
		f, err := sfnt.Parse(ttf)
		if err != nil {
			// The fonts are compiled in; a parse failure is a build that
			// cannot work at all. Leaving the set empty would replace every
			// character and hide it, so fail loudly.
			panic("pdf: parsing a Go font: " + err.Error())
		}
		fonts = append(fonts, f)
	}
	var buf sfnt.Buffer
	for r := rune(0); r < 1<<16; r++ {
		ok := true
		for _, f := range fonts {
			if g, err := f.GlyphIndex(&buf, r); err != nil || g == 0 {
				ok = false
				break
			}
		}
		if ok {
			set[r/64] |= 1 << (r % 64)
		}
	}
	return &set
})

// printable reports whether r may reach the PDF as it is: a character the
// fonts draw that is neither a control character nor invisible formatting.
// Format characters (zero-width spaces and joiners, bidirectional marks,
// overrides and isolates, the byte order mark) are replaced even when a
// font has them: on a scanned host they are how one name is made to look
// like another, or how text is made to read backwards.
func printable(r rune) bool {
	if r < 0x20 || r >= 1<<16 {
		return false
	}
	if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || unicode.Is(unicode.Bidi_Control, r) {
		return false
	}
	return fontRunes()[r/64]&(1<<(r%64)) != 0
}

// sanitizer makes report text safe to draw and counts what it replaced.
// One sanitizer serves one document, so that the count is the document's.
type sanitizer struct {
	// replaced counts the characters replaced by Placeholder.
	replaced int
}

// line makes s one printable line: tabs and line breaks become spaces
// (they carry no meaning a single line can keep), anything else not
// printable becomes Placeholder. Text that needs no change is returned
// as it is, without allocating.
func (z *sanitizer) line(s string) string {
	if isClean(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i, w := 0, 0; i < len(s); i += w {
		var r rune
		r, w = utf8.DecodeRuneInString(s[i:])
		switch {
		case r == '\t' || r == '\n' || r == '\r':
			b.WriteByte(' ')
		case r == utf8.RuneError && w <= 1, !printable(r):
			b.WriteRune(Placeholder)
			z.replaced++
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// lines splits s into the lines it is made of (at "\n", "\r\n" or "\r")
// and makes each printable; blank lines are kept, trailing ones dropped,
// so that a description's paragraphs stay apart.
func (z *sanitizer) lines(s string) []string {
	s = strings.TrimRight(strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\r", "\n"), "\n")
	if s == "" {
		return nil
	}
	parts := strings.Split(s, "\n")
	for i, p := range parts {
		parts[i] = z.line(p)
	}
	return parts
}

// isClean reports whether s is valid UTF-8 made of printable characters
// only.
func isClean(s string) bool {
	for i, r := range s {
		if r == utf8.RuneError {
			if _, w := utf8.DecodeRuneInString(s[i:]); w <= 1 {
				return false
			}
		}
		if r < utf8.RuneSelf && r >= 0x20 && r != 0x7f {
			continue
		}
		if !printable(r) {
			return false
		}
	}
	return true
}
