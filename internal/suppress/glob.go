package suppress

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// globMode says what a pattern matches: a name (rule id, package, host),
// where "*" matches anything, or a path, where "*" stays within one path
// segment and "**" crosses segments, as in .gitignore.
type globMode int

const (
	globName globMode = iota
	globPath
)

// glob is a compiled pattern. Most patterns are a literal ("libssl3") or
// start with one ("cis-5.2.*"); checking it first spares the regular
// expression on most values, which matters when 50,000 findings meet a
// hundred suppressions.
type glob struct {
	re *regexp.Regexp
	// prefix is the pattern's literal start; literal says it is the
	// whole pattern. fold: compared without regard to case.
	prefix  string
	literal bool
	fold    bool
	// anyRest says the rest of the pattern matches anything: "cve/*",
	// "/opt/**".
	anyRest bool
}

// match reports whether the whole of s matches.
func (g *glob) match(s string) bool {
	if n := len(g.prefix); n > 0 && isASCII(s[:min(n, len(s))]) {
		// Byte-wise comparison is exact only on ASCII: under case
		// folding, a multi-byte character can equal an ASCII one
		// (the Kelvin sign and k), so anything else goes to the
		// regular expression.
		if len(s) < n {
			return false
		}
		head := s[:n]
		if g.fold && !strings.EqualFold(head, g.prefix) || !g.fold && head != g.prefix {
			return false
		}
		if g.literal {
			return len(s) == n
		}
		if g.anyRest {
			return true
		}
	}
	return g.re.MatchString(s)
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// newGlob compiles pattern with its literal-prefix fast path.
func newGlob(pattern string, mode globMode) (*glob, error) {
	re, err := compileGlob(pattern, mode)
	if err != nil {
		return nil, err
	}
	n := strings.IndexAny(pattern, `*?[\`)
	if n < 0 {
		n = len(pattern)
	}
	prefix := pattern[:n]
	if !isASCII(prefix) {
		prefix = ""
	}
	rest := pattern[len(prefix):]
	anyRest := prefix != "" && (mode == globName && strings.Trim(rest, "*") == "" && rest != "" ||
		mode == globPath && rest == "**" && strings.HasSuffix(prefix, "/"))
	return &glob{re: re, prefix: prefix, literal: prefix == pattern && pattern != "", fold: mode == globName, anyRest: anyRest}, nil
}

// compileGlob translates a glob into an anchored regular expression.
// Writing the translation, rather than using path.Match, gives one syntax
// for every field, "**" for paths, case-insensitive names, and an error at
// load time for a malformed pattern: path.Match reports a bad pattern only
// when it is first matched, and then only if it gets that far.
//
// Syntax: "*" any run of characters (not "/" in a path), "?" one
// character (not "/" in a path), "[abc]", "[a-z]", "[!abc]" or "[^abc]"
// one character of (or not of) a set, "\x" the character x itself, and in
// a path "**" as a whole segment: any number of segments, none included.
func compileGlob(pattern string, mode globMode) (*regexp.Regexp, error) {
	var b strings.Builder
	if mode == globName {
		// Host names, package names and rule ids are not told apart
		// by case by anyone who writes a suppression; paths are, by
		// the file system.
		b.WriteString("(?i)")
	}
	b.WriteString(`(?s)\A`)
	star, one := ".*", "."
	if mode == globPath {
		star, one = "[^/]*", "[^/]"
	}
	for i := 0; i < len(pattern); {
		c := pattern[i]
		switch c {
		case '*':
			j := i
			for j < len(pattern) && pattern[j] == '*' {
				j++
			}
			if mode == globPath && j-i >= 2 {
				if j-i > 2 {
					return nil, fmt.Errorf("%q: %q: use * within a path segment or ** for any depth", pattern, pattern[i:j])
				}
				startSeg := i == 0 || pattern[i-1] == '/'
				endSeg := j == len(pattern) || pattern[j] == '/'
				if !startSeg || !endSeg {
					return nil, fmt.Errorf("%q: ** must be a whole path segment (a/**/b, **/b, a/**)", pattern)
				}
				switch {
				case j == len(pattern):
					// "a/**": everything below a; "**": everything.
					b.WriteString(".*")
				default:
					// "**/" at the start or "/**/" inside: zero
					// or more whole segments.
					b.WriteString("(?:.*/)?")
					j++ // the '/' is part of the group
				}
				i = j
				continue
			}
			b.WriteString(star)
			i = j
		case '?':
			b.WriteString(one)
			i++
		case '[':
			class, n, err := globClass(pattern[i:], mode)
			if err != nil {
				return nil, fmt.Errorf("%q: %w", pattern, err)
			}
			b.WriteString(class)
			i += n
		case '\\':
			if i+1 == len(pattern) {
				return nil, fmt.Errorf("%q: ends with a lone \\ (escape what?)", pattern)
			}
			b.WriteString(regexp.QuoteMeta(pattern[i+1 : i+2]))
			i += 2
		default:
			b.WriteString(regexp.QuoteMeta(pattern[i : i+1]))
			i++
		}
	}
	b.WriteString(`\z`)
	return regexp.Compile(b.String())
}

// globClass translates the character class at the start of s ("[...]")
// and returns it with its length in s. A "]" first in the class stands
// for itself, as in POSIX. In a path, a class never matches "/", as "*"
// and "?" do not.
func globClass(s string, mode globMode) (string, int, error) {
	negate := false
	i := 1
	if i < len(s) && (s[i] == '!' || s[i] == '^') {
		negate = true
		i++
	}
	type span struct{ lo, hi byte }
	var spans []span
	// next reads one class character, unescaping it.
	next := func() (byte, error) {
		if s[i] == '\\' {
			i++
			if i == len(s) {
				return 0, errors.New("unclosed [ (a class ends with ])")
			}
		}
		c := s[i]
		i++
		if c >= 0x80 {
			// A multi-byte character would be split into bytes.
			return 0, errors.New("a [class] holds ASCII characters only")
		}
		return c, nil
	}
	for i < len(s) {
		if s[i] == ']' && len(spans) > 0 {
			var b strings.Builder
			b.WriteString("[")
			if negate {
				b.WriteString("^")
				if mode == globPath {
					b.WriteString("/")
				}
			}
			for _, sp := range spans {
				b.WriteString(classChar(sp.lo))
				if sp.hi != sp.lo {
					b.WriteString("-" + classChar(sp.hi))
				}
			}
			b.WriteString("]")
			return b.String(), i + 1, nil
		}
		lo, err := next()
		if err != nil {
			return "", 0, err
		}
		hi := lo
		if i+1 < len(s) && s[i] == '-' && s[i+1] != ']' {
			i++
			if hi, err = next(); err != nil {
				return "", 0, err
			}
			if hi < lo {
				return "", 0, fmt.Errorf("range %c-%c is backwards", lo, hi)
			}
		}
		spans = append(spans, span{lo, hi})
	}
	return "", 0, errors.New("unclosed [ (a class ends with ])")
}

// classChar writes c so that it stands for itself inside a regexp class.
func classChar(c byte) string {
	if strings.IndexByte(`\]^-[`, c) >= 0 {
		return `\` + string(c)
	}
	return string(c)
}
