package dpkg

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/kensa-dev/kensa/internal/collect"
)

const (
	// maxLine bounds one line of a control file. Real ones (long Depends
	// or Breaks lists) stay under 64 KiB; a longer line is garbage and is
	// skipped.
	maxLine = 1 << 20
	// maxValue bounds one field's value, continuation lines included. The
	// longest real ones (a Description, a Conffiles list) are a few KiB;
	// beyond the bound the rest of the value is dropped and reported.
	maxValue = 1 << 20
	// checkEvery is how many lines are read between looks at the context.
	checkEvery = 1024
)

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

// errTooManyErrors ends the message of a parse that was given up.
const errTooManyErrors = "too many errors; the rest of the file was skipped"

// Parse reads deb822 paragraphs (the format of var/lib/dpkg/status) from r
// and calls fn with each, so that a large database is never held in memory
// whole.
//
// keep, when not nil, names the fields to store in each Paragraph (in any
// case: "Package"); the others are parsed but neither stored nor checked
// for duplicates, so a caller that reads five fields pays nothing for long
// descriptions. A paragraph whose fields are all left out is passed to fn
// empty. A nil keep stores every field.
//
// It is lenient the way dpkg is strict only where it matters: a malformed
// line is reported in errs and skipped, the paragraph it belongs to is
// kept; a value longer than maxValue is cut there. An error fn returns is
// reported in errs too, at the paragraph's first line, and the parse goes
// on. errs holds at most collect.KeptProblems problems in full, then one
// "N more problems"; after collect.MaxProblems problems the rest of r is skipped and
// the last error of errs says so. err is an I/O error or, within
// checkEvery lines of its cancellation, ctx's error.
func Parse(ctx context.Context, r io.Reader, keep []string, fn func(Paragraph) error) (errs []error, err error) {
	var want map[string]string
	if keep != nil {
		want = make(map[string]string, len(keep))
		for _, k := range keep {
			c := string(canonicalKey(nil, []byte(k)))
			want[c] = c
		}
	}
	lr := lineReader{br: bufio.NewReaderSize(r, 64<<10)}
	var (
		probs     collect.Problems
		cur       Paragraph
		started   bool // a field line of the current paragraph was read
		paraLine  int  // the line the current paragraph starts at
		inField   bool // continuation lines belong to a field
		key       string
		val       []byte // the value of key, while it is read
		truncated bool   // val reached maxValue
		keyBuf    []byte
	)
	lineNo := 0
	// problem records one; false means the rest of the file is skipped.
	problem := func(line int, msg string) bool {
		return probs.Add(&ParseError{line, msg})
	}
	gaveUp := func() []error {
		return probs.List(&ParseError{lineNo, errTooManyErrors})
	}
	// endField stores the value being read, if its field is kept.
	endField := func() {
		if key != "" {
			cur[key] = string(val)
		}
		inField, key, truncated = false, "", false
	}
	// flush ends the paragraph; false means the rest is skipped.
	flush := func() bool {
		endField()
		p, line := cur, paraLine
		cur, started = nil, false
		if p == nil {
			return true
		}
		if ferr := fn(p); ferr != nil {
			return problem(line, ferr.Error())
		}
		return true
	}
	for {
		line, tooLong, rerr := lr.next()
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return probs.List(nil), rerr
		}
		lineNo++
		if lineNo%checkEvery == 0 {
			if err := ctx.Err(); err != nil {
				return probs.List(nil), err
			}
		}
		ok := true
		switch {
		case tooLong:
			ok = problem(lineNo, fmt.Sprintf("line longer than %d bytes skipped", maxLine))
		case len(bytes.TrimSpace(line)) == 0:
			ok = flush()
		case line[0] == ' ' || line[0] == '\t':
			switch {
			case !inField:
				ok = problem(lineNo, "continuation line outside a field")
			case key == "" || truncated:
				// A field not kept, or one already cut short.
			default:
				cont := bytes.TrimSpace(line)
				if len(cont) == 1 && cont[0] == '.' {
					cont = nil
				}
				if len(val)+1+len(cont) > maxValue {
					truncated = true
					ok = problem(lineNo, fmt.Sprintf("field %s longer than %d bytes; the rest of it was dropped", key, maxValue))
					break
				}
				val = append(val, '\n')
				val = append(val, cont...)
			}
		case line[0] == '#':
			// Comments are not valid in the status file, but harmless.
		default:
			endField()
			k, v, found := bytes.Cut(line, []byte(":"))
			k = bytes.TrimSpace(k)
			if !found || len(k) == 0 || bytes.ContainsAny(k, " \t") {
				ok = problem(lineNo, "not a field: "+quoteShort(line))
				break
			}
			if !started {
				started, paraLine, cur = true, lineNo, Paragraph{}
			}
			keyBuf = canonicalKey(keyBuf, k)
			inField = true
			if want != nil {
				key = want[string(keyBuf)] // "" for a field not kept
			} else {
				key = string(keyBuf)
			}
			if key == "" {
				break
			}
			if _, dup := cur[key]; dup {
				ok = problem(lineNo, "duplicate field "+key)
			}
			val = append(val[:0], bytes.TrimSpace(v)...)
		}
		if !ok {
			return gaveUp(), nil
		}
	}
	if !flush() {
		return gaveUp(), nil
	}
	return probs.List(nil), nil
}

// lineReader reads lines of at most maxLine bytes.
type lineReader struct {
	br  *bufio.Reader
	buf []byte
}

// next returns the next line without its newline, valid until the next
// call, or io.EOF after the last line. A line longer than maxLine is
// consumed whole and reported as tooLong.
func (lr *lineReader) next() (line []byte, tooLong bool, err error) {
	chunk, isPrefix, err := lr.br.ReadLine()
	if err != nil {
		return nil, false, err
	}
	if !isPrefix {
		return chunk, false, nil
	}
	lr.buf = append(lr.buf[:0], chunk...)
	for isPrefix {
		chunk, isPrefix, err = lr.br.ReadLine()
		if errors.Is(err, io.EOF) {
			break // the line ended with the file
		}
		if err != nil {
			return nil, false, err
		}
		if !tooLong {
			lr.buf = append(lr.buf, chunk...)
			if len(lr.buf) > maxLine {
				tooLong, lr.buf = true, lr.buf[:0]
			}
		}
	}
	return lr.buf, tooLong, nil
}

// canonicalKey writes to dst[:0] the field name k in one case: deb822
// field names are case-insensitive ("Package", "package"). As in dpkg,
// only ASCII letters have a case.
func canonicalKey(dst, k []byte) []byte {
	dst = dst[:0]
	up := true
	for _, c := range k {
		switch {
		case up && c >= 'a' && c <= 'z':
			c -= 'a' - 'A'
		case !up && c >= 'A' && c <= 'Z':
			c += 'a' - 'A'
		}
		dst = append(dst, c)
		up = c == '-'
	}
	return dst
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
