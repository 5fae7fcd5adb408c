package dpkg

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"strings"
)

// maxLine bounds one line of a control file. Real ones (long Depends or
// Breaks lists) stay under 64 KiB; a longer line is garbage and is skipped.
const maxLine = 1 << 20

// Paragraph is one stanza of a deb822 control file: field names in their
// canonical case mapped to values. Multi-line values keep their lines,
// joined by "\n", without the leading space.
type Paragraph map[string]string

// ParseError describes a malformed part of a control file that was skipped.
type ParseError struct {
	Line int
	Msg  string
}

func (e *ParseError) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Msg) }

// Parse reads deb822 paragraphs (the format of var/lib/dpkg/status) from r
// and calls fn with each, so that a large database is never held in memory
// whole. It is lenient the way dpkg is strict only where it matters: a
// malformed line is reported in errs and skipped, the paragraph it belongs
// to is kept; only an I/O error ends the parse.
func Parse(r io.Reader, fn func(Paragraph)) (errs []error, err error) {
	br := bufio.NewReaderSize(r, 64<<10)
	var cur Paragraph
	var lastKey string
	lineNo := 0
	flush := func() {
		if len(cur) > 0 {
			fn(cur)
		}
		cur, lastKey = nil, ""
	}
	for {
		line, tooLong, rerr := readLine(br)
		if rerr != nil && rerr != io.EOF {
			return errs, rerr
		}
		if line == nil && rerr == io.EOF {
			break
		}
		lineNo++
		switch {
		case tooLong:
			errs = append(errs, &ParseError{lineNo, fmt.Sprintf("line longer than %d bytes skipped", maxLine)})
		case len(bytes.TrimSpace(line)) == 0:
			flush()
		case line[0] == ' ' || line[0] == '\t':
			if lastKey == "" {
				errs = append(errs, &ParseError{lineNo, "continuation line outside a field"})
				continue
			}
			cont := string(bytes.TrimSpace(line))
			if cont == "." {
				cont = ""
			}
			cur[lastKey] += "\n" + cont
		case line[0] == '#':
			// Comments are not valid in the status file, but harmless.
		default:
			k, v, ok := bytes.Cut(line, []byte(":"))
			key := string(bytes.TrimSpace(k))
			if !ok || key == "" || strings.ContainsAny(key, " \t") {
				errs = append(errs, &ParseError{lineNo, "not a field: " + quoteShort(line)})
				lastKey = ""
				continue
			}
			if cur == nil {
				cur = Paragraph{}
			}
			key = canonicalKey(key)
			if _, dup := cur[key]; dup {
				errs = append(errs, &ParseError{lineNo, "duplicate field " + key})
			}
			cur[key] = string(bytes.TrimSpace(v))
			lastKey = key
		}
		if rerr == io.EOF {
			break
		}
	}
	flush()
	return errs, nil
}

// readLine returns the next line without its newline. A line longer than
// maxLine is consumed and reported as tooLong.
func readLine(br *bufio.Reader) (line []byte, tooLong bool, err error) {
	var buf []byte
	for {
		chunk, isPrefix, err := br.ReadLine()
		if err != nil {
			if err == io.EOF && buf != nil {
				return buf, tooLong, nil
			}
			return nil, false, err
		}
		if !tooLong {
			buf = append(buf, chunk...)
			if len(buf) > maxLine {
				tooLong, buf = true, []byte{}
			}
		}
		if buf == nil {
			buf = []byte{}
		}
		if !isPrefix {
			return buf, tooLong, nil
		}
	}
}

// canonicalKey gives field names one case: deb822 field names are
// case-insensitive ("Package", "package").
func canonicalKey(k string) string {
	b := []byte(strings.ToLower(k))
	up := true
	for i, c := range b {
		if up && c >= 'a' && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
		up = c == '-'
	}
	return string(b)
}

func quoteShort(b []byte) string {
	if len(b) > 60 {
		b = b[:60]
	}
	return fmt.Sprintf("%q", b)
}

// ParseSource splits a Source field ("glibc" or "glibc (2.36-9)").
func ParseSource(s string) (name, version string) {
	s = strings.TrimSpace(s)
	name, rest, ok := strings.Cut(s, " ")
	if !ok {
		return s, ""
	}
	rest = strings.TrimSpace(rest)
	if strings.HasPrefix(rest, "(") && strings.HasSuffix(rest, ")") {
		version = strings.TrimSpace(rest[1 : len(rest)-1])
	}
	return name, version
}

// installedState reports whether a Status field ("want flag state") means
// the package's files are on disk. "config-files" and "not-installed"
// packages left only configuration (or nothing) behind.
func installedState(status string) bool {
	f := strings.Fields(status)
	if len(f) != 3 {
		return false
	}
	switch f[2] {
	case "installed", "half-configured", "unpacked", "half-installed", "triggers-awaited", "triggers-pending":
		return true
	}
	return false
}
