package auth

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"

	"github.com/kensa-dev/kensa/internal/collect"
	"github.com/kensa-dev/kensa/internal/host"
)

// maxLine bounds one logical line of any of these files. Real lines are
// under 200 bytes; a longer one is garbage, reported and skipped.
const maxLine = 64 << 10

// physLines calls fn with each physical line (without "\n" or a final
// "\r") and its number.
func physLines(b []byte, fn func(n int, line []byte) bool) {
	for n := 1; len(b) > 0; n++ {
		var line []byte
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			line, b = b[:i], b[i+1:]
		} else {
			line, b = b, nil
		}
		line = bytes.TrimSuffix(line, []byte("\r"))
		if !fn(n, line) {
			return
		}
	}
}

// cSpace is C's isspace in the "C" locale.
func cSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

// ParseLoginDefs parses /etc/login.defs as shadow-utils' getdef.c does:
// trailing white space is dropped; a line whose first non-blank character
// is "#" is a comment; the name runs to the first blank or tab and a line
// with a name only is ignored; the value starts after the blanks, tabs and
// double quotes that follow the name and ends before the next double
// quote. Every definition replaces an earlier one of the same name
// (getdef's putdef_str overwrites), so the last line wins. Names are kept
// as written: shadow compares them case-sensitively, so "pass_max_days" is
// not PASS_MAX_DAYS (shadow reports it as an unknown item and ignores it).
// file is recorded in each Setting. The errors are bounded as
// collect.Problems says.
func ParseLoginDefs(b []byte, file string) (map[string]host.Setting, []error) {
	out := map[string]host.Setting{}
	var probs collect.Problems
	physLines(b, func(n int, line []byte) bool {
		if len(line) > maxLine {
			return probs.Addf("line %d: longer than %d bytes, skipped", n, maxLine)
		}
		s := strings.TrimRightFunc(string(line), func(r rune) bool { return r < 0x80 && cSpace(byte(r)) })
		s = strings.TrimLeft(s, " \t")
		if s == "" || s[0] == '#' {
			return true
		}
		i := strings.IndexAny(s, " \t")
		if i < 0 {
			return true // a name without a value: getdef skips it
		}
		name, rest := s[:i], s[i+1:]
		rest = strings.TrimLeft(rest, " \t\"")
		if j := strings.IndexByte(rest, '"'); j >= 0 {
			rest = rest[:j]
		}
		out[name] = host.Setting{Value: rest, File: file, Line: n}
		return true
	})
	return out, probs.List(nil)
}

// PAMLine is one logical line of a PAM configuration file.
type PAMLine struct {
	// Line is the number of the physical line the logical line starts on.
	Line int
	// Type is "auth", "account", "password" or "session" (lower case:
	// PAM compares them case-insensitively), or "@include" for Debian's
	// include directive, whose file name is then in Module.
	Type string
	// Silent is true for a type written with a leading "-": PAM skips the
	// line without a log message when the module is not installed.
	Silent bool
	// Control is a keyword in lower case ("required", "include",
	// "substack", ...) or a bracketed list as written, "[success=1
	// default=ignore]" (inside the brackets, "\]" stands for "]").
	Control string
	// Module is the module path as written (absolute or relative to the
	// module directory), or the file name for include and substack.
	Module string
	Args   []string
}

// pamToken is one field of a PAM line; bracket is true for a "[...]"
// field, whose text is given without the brackets.
type pamToken struct {
	text    string
	bracket bool
}

// pamTokens splits a logical line into fields as libpam's tokenizer does:
// fields are separated by blanks, tabs and newlines; a field starting with
// "[" runs to the first "]" not written "\]" (blanks included) and that
// "]" ends it even without a separator after it.
func pamTokens(s string) []pamToken {
	var out []pamToken
	sep := func(c byte) bool { return c == ' ' || c == '\t' || c == '\n' }
	for i := 0; ; {
		for i < len(s) && sep(s[i]) {
			i++
		}
		if i >= len(s) {
			return out
		}
		if s[i] == '[' {
			var b strings.Builder
			j := i + 1
			for ; j < len(s) && s[j] != ']'; j++ {
				if s[j] == '\\' && j+1 < len(s) && s[j+1] == ']' {
					j++
				}
				b.WriteByte(s[j])
			}
			out = append(out, pamToken{b.String(), true})
			if j < len(s) {
				j++
			}
			i = j
			continue
		}
		j := i
		for j < len(s) && !sep(s[j]) {
			j++
		}
		out = append(out, pamToken{s[i:j], false})
		i = j
	}
}

// pamLogicalLines joins physical lines as libpam does: everything from
// the first "#" of a line on is a comment (even inside brackets) and ends
// the logical line; a line ending in "\" (before trailing blanks)
// continues on the next line, the backslash becoming a blank; blank and
// comment-only lines inside a continuation are skipped without ending it.
func pamLogicalLines(b []byte, probs *collect.Problems, fn func(n int, text string)) {
	var buf strings.Builder
	start, cont, tooLong := 0, false, false
	add := func(s string) {
		if tooLong || buf.Len()+len(s) > maxLine {
			tooLong = true
			return
		}
		buf.WriteString(s)
	}
	flush := func() {
		if tooLong {
			probs.Addf("line %d: longer than %d bytes, skipped", start, maxLine)
		} else {
			fn(start, buf.String())
		}
		buf.Reset()
		cont, tooLong = false, false
	}
	physLines(b, func(n int, line []byte) bool {
		if probs.Count() >= collect.MaxProblems {
			return false
		}
		s := strings.TrimLeft(string(line), " \t\n")
		if s == "" || s[0] == '#' {
			return true
		}
		if !cont {
			start = n
		}
		if i := strings.IndexByte(s, '#'); i >= 0 {
			add(s[:i])
			flush()
			return true
		}
		t := strings.TrimRight(s, " \t\n")
		if strings.HasSuffix(t, `\`) {
			add(t[:len(t)-1] + " ")
			cont = true
			return true
		}
		add(s)
		flush()
		return true
	})
	if cont {
		flush()
	}
}

// ParsePAM parses a PAM configuration file (/etc/pam.d/<service>) into
// its lines, includes not expanded. A line of an unknown type or with too
// few fields is reported and left out (libpam makes such a line fail the
// stack). The errors never quote the file: an include pointing at a
// secret file must not copy it into a report. They are bounded as
// collect.Problems says.
func ParsePAM(b []byte) ([]PAMLine, []error) {
	var out []PAMLine
	var probs collect.Problems
	pamLogicalLines(b, &probs, func(n int, text string) {
		toks := pamTokens(text)
		if len(toks) == 0 {
			return
		}
		if !toks[0].bracket && toks[0].text == "@include" {
			if len(toks) < 2 || toks[1].text == "" {
				probs.Addf("line %d: @include without a file name", n)
				return
			}
			out = append(out, PAMLine{Line: n, Type: "@include", Module: toks[1].text})
			return
		}
		typ := toks[0].text
		silent := strings.HasPrefix(typ, "-") && !toks[0].bracket
		if silent {
			typ = typ[1:]
		}
		typ = strings.ToLower(typ)
		switch {
		case toks[0].bracket:
			probs.Addf("line %d: a bracket where the type should be", n)
			return
		case typ != "auth" && typ != "account" && typ != "password" && typ != "session":
			probs.Addf("line %d: unknown module type (%d bytes)", n, len(typ))
			return
		case len(toks) < 3:
			probs.Addf("line %d: %s line with %d fields, want at least 3", n, typ, len(toks))
			return
		}
		l := PAMLine{Line: n, Type: typ, Silent: silent, Module: toks[2].text}
		if toks[1].bracket {
			l.Control = "[" + toks[1].text + "]"
		} else {
			l.Control = strings.ToLower(toks[1].text)
		}
		for _, t := range toks[3:] {
			l.Args = append(l.Args, t.text)
		}
		if l.Module == "" {
			probs.Addf("line %d: empty module", n)
			return
		}
		out = append(out, l)
	})
	return out, probs.List(nil)
}

// KV is one "key = value" line of pwquality.conf or faillock.conf.
type KV struct {
	Key   string
	Value string
	Line  int
}

// ParseKeyValues parses the "name = value" format shared by
// libpwquality's pwquality.conf and pam_faillock's faillock.conf (the two
// readers are the same code): everything from the first "#" on is a
// comment; the name ends at the first blank or "="; blanks and at most
// one "=" after it are skipped and the rest of the line, trailing blanks
// dropped, is the value. A bare name has the value ""; a line starting
// with "=" has the name "" (which both libraries refuse). Like both
// libraries, it stops at a line of 1024 bytes or more (their line
// buffer): stop says so, and the lines before it are returned.
func ParseKeyValues(b []byte) (kvs []KV, stop error) {
	physLines(b, func(n int, line []byte) bool {
		if len(line) >= 1023 {
			stop = fmt.Errorf("line %d: longer than 1022 bytes, the library stops reading here", n)
			return false
		}
		s := string(line)
		if i := strings.IndexByte(s, '#'); i >= 0 {
			s = s[:i]
		}
		s = strings.TrimFunc(s, func(r rune) bool { return r < 0x80 && cSpace(byte(r)) })
		if s == "" {
			return true
		}
		i := strings.IndexFunc(s, func(r rune) bool { return r == '=' || (r < 0x80 && cSpace(byte(r))) })
		if i < 0 {
			kvs = append(kvs, KV{Key: s, Line: n})
			return true
		}
		name, rest, eq := s[:i], s[i+1:], s[i] == '='
		for rest != "" {
			if rest[0] == '=' && !eq {
				eq = true
			} else if !cSpace(rest[0]) {
				break
			}
			rest = rest[1:]
		}
		kvs = append(kvs, KV{Key: name, Value: rest, Line: n})
		return true
	})
	return kvs, stop
}

// pwqKind is the type of a libpwquality setting.
type pwqKind int

const (
	pwqInt pwqKind = iota
	pwqStr
	pwqSet // present means on, whatever the value
)

// pwqSettings are the settings libpwquality 1.4 knows; any other name
// makes it stop reading its configuration.
var pwqSettings = map[string]pwqKind{
	"difok": pwqInt, "minlen": pwqInt, "dcredit": pwqInt, "ucredit": pwqInt,
	"lcredit": pwqInt, "ocredit": pwqInt, "minclass": pwqInt, "maxrepeat": pwqInt,
	"maxclassrepeat": pwqInt, "maxsequence": pwqInt, "gecoscheck": pwqInt,
	"dictcheck": pwqInt, "usercheck": pwqInt, "usersubstr": pwqInt, "enforcing": pwqInt,
	"retry": pwqInt, "badwords": pwqStr, "dictpath": pwqStr,
	"enforce_for_root": pwqSet, "local_users_only": pwqSet,
}

// pwqValue checks a setting as libpwquality's set_name_value does and
// returns the name in lower case (names are case-insensitive) and the
// value to record: "true" for the presence settings, the number for the
// integer ones. An error means libpwquality refuses the setting, which
// ends its reading of the configuration.
func pwqValue(name, value string) (key, val string, err error) {
	key = strings.ToLower(name)
	kind, known := pwqSettings[key]
	if !known {
		return key, "", fmt.Errorf("unknown setting %q", truncate(name, 40))
	}
	switch kind {
	case pwqSet:
		return key, "true", nil
	case pwqInt:
		v := strings.TrimLeftFunc(value, func(r rune) bool { return r < 0x80 && cSpace(byte(r)) })
		i, perr := strconv.ParseInt(v, 10, 32)
		if perr != nil || v == "" || i == 1<<31-1 || i == -1<<31 {
			return key, "", fmt.Errorf("%s: not an integer", key)
		}
		return key, strconv.FormatInt(i, 10), nil
	}
	return key, value, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
