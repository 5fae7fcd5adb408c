package sbom

import (
	"fmt"
	"io"
	"unicode/utf8"
)

// safeWriter passes JSON through, writing the characters that JSON allows
// raw in strings but that a terminal or a text viewer acts on as \u
// escapes: DEL, the C1 controls U+0080 to U+009F (U+009B is the 8-bit
// CSI that starts terminal escape sequences) and the bidirectional
// formatting characters (U+200E, U+200F, U+202A to U+202E, U+2066 to
// U+2069, which reorder displayed text). encoding/json already escapes the
// C0 controls, U+2028 and U+2029.
//
// These characters can only occur inside JSON strings (the rest of a
// document is ASCII), so the escaped document decodes to the same values.
// A character split across two Write calls is held back until the next
// one, and flush writes what is left.
type safeWriter struct {
	w       io.Writer
	pending []byte // the start of a multi-byte character cut by the last Write
	err     error
}

// Write escapes p and writes it. It reports len(p) unless the underlying
// writer fails.
func (s *safeWriter) Write(p []byte) (int, error) {
	if s.err != nil {
		return 0, s.err
	}
	n := len(p)
	if len(s.pending) > 0 {
		p = append(s.pending, p...)
		s.pending = nil
	}
	start := 0
	for i := 0; i < len(p); {
		b := p[i]
		if b < 0x7f {
			i++
			continue
		}
		if b == 0x7f {
			s.write(p[start:i])
			s.write(escapeRune(0x7f))
			i++
			start = i
			continue
		}
		if !utf8.FullRune(p[i:]) {
			// Hold the cut character back; everything before it goes out.
			s.pending = append([]byte(nil), p[i:]...)
			p = p[:i]
			break
		}
		r, size := utf8.DecodeRune(p[i:])
		if unsafeRune(r) {
			s.write(p[start:i])
			s.write(escapeRune(r))
			start = i + size
		}
		i += size
	}
	s.write(p[start:])
	if s.err != nil {
		return 0, s.err
	}
	return n, nil
}

// flush writes a character left incomplete at the end (not valid UTF-8:
// encoding/json never writes one).
func (s *safeWriter) flush() error {
	if len(s.pending) > 0 {
		s.write(s.pending)
		s.pending = nil
	}
	return s.err
}

func (s *safeWriter) write(b []byte) {
	if s.err != nil || len(b) == 0 {
		return
	}
	_, s.err = s.w.Write(b)
}

// unsafeRune reports whether r is one of the characters safeWriter
// escapes (DEL is handled before decoding).
func unsafeRune(r rune) bool {
	switch {
	case r >= 0x80 && r <= 0x9f:
		return true
	case r == 0x200e || r == 0x200f:
		return true
	case r >= 0x202a && r <= 0x202e:
		return true
	case r >= 0x2066 && r <= 0x2069:
		return true
	}
	return false
}

func escapeRune(r rune) []byte {
	return fmt.Appendf(nil, `\u%04x`, r)
}
